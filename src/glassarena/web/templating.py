"""The Jinja2 environment for the server-rendered pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from glassarena.arena.vote_reasons import MAX_NOTE_CHARS
from glassarena.vocabulary import VoteReason

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@pass_context
def path_for(context: Context, name: str, /, **params: Any) -> str:
    """A route's path, without scheme and host: links keep working behind a TLS proxy."""
    return str(context["request"].app.url_path_for(name, **params))


templates.env.globals["path_for"] = path_for
# The reason chips offered after a vote, from the one vocabulary.
templates.env.globals["vote_reason_choices"] = [
    (reason.value, reason.label) for reason in VoteReason
]
templates.env.globals["max_note_chars"] = MAX_NOTE_CHARS
