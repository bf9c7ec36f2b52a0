"""An app as the sandbox runs it: its stack and its files.

Extraction (`glassarena.webdev.extract`) turns an answer into an `AppProject`; the runtime
harness (`glassarena.webdev.harness`) turns a project into the one document a sandboxed frame
loads, with exactly the runtimes its stack needs. Pure values, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from glassarena.vocabulary import WebdevStack


@dataclass(frozen=True)
class AppProject:
    """`files` maps relative POSIX paths ("index.html", "src/App.tsx") to their source;
    `entry` is the file the app starts from. `truncated` records that the answer was cut off
    inside the code, so the app may still run while the record says it was incomplete."""

    stack: WebdevStack
    files: Mapping[str, str] = field(default_factory=dict)
    entry: str = "index.html"
    truncated: bool = False

    def __post_init__(self) -> None:
        if self.files and self.entry not in self.files:
            raise ValueError(f"entry file {self.entry!r} is not among the project's files")
