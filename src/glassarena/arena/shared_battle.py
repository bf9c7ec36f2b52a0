"""A voted battle's public read-only page: what a share link shows, and what it never does.

Shown: every turn's prompt and both answers, which model answered on which side (name and
version), the vote, the reason chips given with it and the day it was cast. Never shown: who
voted (the cookie's voter id, the address hash), the voter's free-text note (written for the
arena, not for the public), per-answer timings, and whether or why the vote was not counted.

A link exists only once its voter asks for it after the vote (ArenaService.share), under a
random token unrelated to the battle's id: before the vote there is nothing to find, even for
a client that reads everything the server ever sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from glassarena.arena.generation import user_failure_message
from glassarena.storage.battle_view import BattleView, written
from glassarena.storage.vote_reasons import StoredReasons
from glassarena.vocabulary import AnswerStatus, BattleKind, Side, VoteReason, Winner


@dataclass(frozen=True, slots=True)
class SharedAnswer:
    text: str
    failure: str | None  # the user-facing message when the answer failed


@dataclass(frozen=True, slots=True)
class SharedTurn:
    number: int
    prompt: str
    answers: dict[Side, SharedAnswer]


@dataclass(frozen=True, slots=True)
class SharedModel:
    name: str
    version: int


@dataclass(frozen=True, slots=True)
class SharedBattle:
    kind: BattleKind
    models: dict[Side, SharedModel]
    winner: Winner
    reasons: tuple[VoteReason, ...]
    voted_on: date  # UTC
    turns: tuple[SharedTurn, ...]

    @classmethod
    def of(cls, battle: BattleView, reasons: StoredReasons | None) -> SharedBattle:
        if battle.vote is None:
            raise ValueError("only a voted battle can be shared")
        return cls(
            kind=battle.kind,
            models={
                side: SharedModel(identity.name, identity.version)
                for side, identity in battle.models.items()
            },
            winner=battle.vote.winner,
            reasons=reasons.reasons if reasons is not None else (),
            voted_on=battle.vote.created_at.date(),
            turns=tuple(
                SharedTurn(
                    turn.number,
                    written(turn.prompt),
                    {
                        answer.side: SharedAnswer(
                            written(answer.text),
                            user_failure_message(answer.failure_kind)
                            if answer.status is AnswerStatus.FAILED
                            else None,
                        )
                        for answer in turn.answers
                    },
                )
                for turn in battle.turns
            ),
        )

    @property
    def winning_side(self) -> Side | None:
        sides: dict[Winner, Side] = {Winner.MODEL_A: "a", Winner.MODEL_B: "b"}
        return sides.get(self.winner)
