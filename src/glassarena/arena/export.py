"""The arena's voted battles as a battle table in LMArena's cleaned-battle layout.

What `glassarena export` writes, and `glassarena rank` reads back. Voters appear only as a
hash of their pseudonymous id (`judge`), so an export can be published; IP hashes never
leave the database.

WebDev battles carry each side's stored execution check of the last turn's app as
`app_check_a` / `app_check_b` (no screenshot bytes) when an `AppCheckStore` is given.

With a `VoteReasonStore`, every battle carries the voter's optional reasons: `vote_reasons`
(a list of `VoteReason` words, empty when none were given) and `vote_reason_note` (the
cleaned free text, or None).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from glassarena.battles.style import count_tokens
from glassarena.storage.app_checks import AppCheckStore, StoredAppCheck
from glassarena.storage.battle_view import BattleView, written
from glassarena.storage.repository import ArenaRepository
from glassarena.storage.vote_reasons import VoteReasonStore
from glassarena.vocabulary import SIDES, BattleMode


def exported_battles(
    repository: ArenaRepository,
    include_uncounted: bool = False,
    app_checks: AppCheckStore | None = None,
    vote_reasons: VoteReasonStore | None = None,
) -> pd.DataFrame:
    """One row per voted two-sided battle, oldest vote first; counted votes only by default."""
    checks = app_checks.all_checks() if app_checks is not None else None
    reasons = vote_reasons.of_battles() if vote_reasons is not None else None
    records = []
    for battle in repository.voted_battles(include_uncounted=include_uncounted):
        record = _record(battle)
        if checks is not None and battle.kind.webdev:
            record.update(_app_checks(checks, battle))
        if reasons is not None:
            given = reasons.get(battle.public_id)
            record["vote_reasons"] = [reason.value for reason in given.reasons] if given else []
            record["vote_reason_note"] = given.note if given else None
        records.append(record)
    return pd.DataFrame.from_records(records)


def judge_id(voter_id: str) -> str:
    return "arena_user_" + hashlib.sha256(voter_id.encode()).hexdigest()[:16]


def _record(battle: BattleView) -> dict[str, Any]:
    assert battle.vote is not None and battle.model_b is not None
    conversations: dict[str, list[dict[str, str]]] = {"a": [], "b": []}
    for turn in battle.turns:
        for answer in turn.answers:
            conversations[answer.side].append({"role": "user", "content": written(turn.prompt)})
            conversations[answer.side].append(
                {"role": "assistant", "content": written(answer.text)}
            )
    record: dict[str, Any] = {
        "question_id": battle.public_id,
        "model_a": battle.model_a.label,
        "model_b": battle.model_b.label,
        "winner": battle.vote.winner.value,
        "judge": judge_id(battle.vote.voter_id),
        "turn": len(battle.turns),
        "anony": battle.mode is BattleMode.ANONYMOUS,
        "category": battle.category,
        # LMArena's column: `glassarena rank --category coding` reads it back.
        "category_tag": battle.prompt_categories,
        "counted": battle.vote.counted,
        "tstamp": battle.vote.created_at.timestamp(),
        "conversation_a": conversations["a"],
        "conversation_b": conversations["b"],
        "sum_user_tokens": sum(count_tokens(written(turn.prompt)) for turn in battle.turns),
    }
    if battle.webdev_stack is not None:
        # The stack the apps were asked in; the app checks say what each was written in.
        record["webdev_stack"] = battle.webdev_stack.value
    record.update(battle.style_a or {})
    record.update(battle.style_b or {})
    return record


def _app_checks(
    checks: dict[tuple[str, int, str], StoredAppCheck], battle: BattleView
) -> dict[str, dict[str, Any] | None]:
    """The last turn's check per side: the apps the vote was cast on (None: not checked)."""
    turn = len(battle.turns)
    columns: dict[str, dict[str, Any] | None] = {}
    for side in SIDES:
        check = checks.get((battle.public_id, turn, side))
        columns[f"app_check_{side}"] = (
            {"turn": turn, **check.to_json()} if check is not None else None
        )
    return columns
