"""LLMFAO votes joined to the answers they judged, so that style control works on them.

The comparison CSVs name a prompt id (`question_id` once mapped) and the two models, not
the answers. Those are in `results.jsonl` beside the votes (prompt id, model `name`, answer
`result`), with the prompt texts in `prompts.jsonl`; the recorded-answers loader reads and
checks both. Each battle gets LMArena's `conversation_a/b` (the prompt, then the answer)
and the style metadata of both sides.

The crowd file holds 8,931 votes on only 750 distinct answers, so each answer is styled
once and shared by every vote that judged it. A battle whose answer is not in
`results.jsonl` is an error naming it: style control cannot leave it out silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from glassarena.battles.errors import BattleDataError
from glassarena.battles.style import answer_style, side_columns
from glassarena.battles.table import RowLocator
from glassarena.providers.recorded import (
    RecordedAnswerMissing,
    RecordedAnswers,
    RecordedDataError,
    load_llmfao,
)
from glassarena.vocabulary import Side

AnswerKey = tuple[str, str]  # (prompt id, model name)
_SHOWN_MISSING = 5


@dataclass(frozen=True, slots=True)
class _StyledAnswer:
    conversation: list[dict[str, str]]
    style: dict[str, Any]


def join_llmfao_answers(
    battles: pd.DataFrame, votes_path: Path, locate: RowLocator
) -> pd.DataFrame:
    """The battles with `conversation_a/b` and LMArena style columns from the answers."""
    try:
        recorded = load_llmfao(votes_path.parent)
    except RecordedDataError as error:
        raise BattleDataError(
            f"the judged answers are read from prompts.jsonl and results.jsonl beside the "
            f"votes: {error}",
            locate.source,
        ) from None
    prompt_ids = battles["question_id"].astype(str).str.strip().tolist()
    sides: tuple[Side, ...] = ("a", "b")
    keys = {
        side: list(zip(prompt_ids, battles[f"model_{side}"].tolist(), strict=True))
        for side in sides
    }
    answers = _styled_answers(recorded, [*keys["a"], *keys["b"]], locate, len(battles))
    joined = battles.copy()
    for side, side_keys in keys.items():
        joined[f"conversation_{side}"] = pd.Series(
            [answers[key].conversation for key in side_keys], index=joined.index, dtype=object
        )
        columns = pd.DataFrame.from_records(
            [side_columns(answers[key].style, side) for key in side_keys], index=joined.index
        )
        for column in columns.columns:
            joined[column] = columns[column]
    return joined


def _styled_answers(
    recorded: RecordedAnswers, keys: list[AnswerKey], locate: RowLocator, rows: int
) -> dict[AnswerKey, _StyledAnswer]:
    answers: dict[AnswerKey, _StyledAnswer] = {}
    missing: list[AnswerKey] = []
    for key in dict.fromkeys(keys):
        prompt_id, model = key
        try:
            answer = recorded.pick(prompt_id, model)
        except RecordedAnswerMissing:
            missing.append(key)
            continue
        conversation = [
            {"role": "user", "content": recorded.prompts[prompt_id].text},
            {"role": "assistant", "content": answer.text},
        ]
        answers[key] = _StyledAnswer(conversation, answer_style([answer.text]))
    if missing:
        raise _missing_answers_error(missing, keys, locate, rows)
    return answers


def _missing_answers_error(
    missing: list[AnswerKey], keys: list[AnswerKey], locate: RowLocator, rows: int
) -> BattleDataError:
    absent = set(missing)
    # `keys` holds every battle's side a, then every battle's side b.
    positions = sorted({index % rows for index, key in enumerate(keys) if key in absent})
    shown = "; ".join(
        f"model {model!r} on prompt {prompt}" for prompt, model in missing[:_SHOWN_MISSING]
    )
    more = f" and {len(missing) - _SHOWN_MISSING} more" if len(missing) > _SHOWN_MISSING else ""
    return BattleDataError(
        f"{len(positions)} battle(s) judged answers that results.jsonl does not hold "
        f"({shown}{more}); style control needs both answers of every battle",
        locate(positions[0]),
    )
