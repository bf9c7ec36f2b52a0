"""What the user is shown of a battle: the blinded state, and the reveal after the vote.

Both are plain data with `to_dict()` giving JSON-serialisable dicts for the web layer.
Model identities appear only in a `Reveal`, which exists once the battle is voted (or when
the user chose the models themselves in named or single mode).

Per-answer timings (first token, total time, completion tokens) stay out of the reveal unless
the operator shows them: paired with the names, they are labelled training data for telling
models apart by their streams. They remain stored for the operator and exports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from glassarena.arena.generation import user_failure_message
from glassarena.storage.battle_view import AnswerView, BattleView, ModelIdentity, written
from glassarena.vocabulary import (
    AnswerStatus,
    BattleKind,
    BattleMode,
    BattleStatus,
    Side,
    WebdevStack,
    Winner,
)


@dataclass(frozen=True, slots=True)
class RevealedModel:
    name: str
    version: int
    provider_kind: str


@dataclass(frozen=True, slots=True)
class AnswerTiming:
    first_token_seconds: float | None
    total_seconds: float | None
    completion_tokens: int | None


@dataclass(frozen=True, slots=True)
class Reveal:
    battle_id: str
    winner: Winner | None
    counted: bool
    models: dict[Side, RevealedModel]
    timings: list[dict[Side, AnswerTiming]] | None  # per turn; None: hidden from voters
    not_counted_reason: str | None = None  # why a stored vote is not ranked, for the voter

    @classmethod
    def of(
        cls,
        battle: BattleView,
        *,
        winner: Winner | None,
        counted: bool,
        not_counted_reason: str | None = None,
        with_timings: bool = False,
    ) -> Reveal:
        models = {side: _revealed(identity) for side, identity in battle.models.items()}
        if not with_timings:
            return cls(battle.public_id, winner, counted, models, None, not_counted_reason)
        timings = [
            {
                answer.side: AnswerTiming(
                    answer.first_token_seconds, answer.total_seconds, answer.completion_tokens
                )
                for answer in turn.answers
            }
            for turn in battle.turns
        ]
        return cls(battle.public_id, winner, counted, models, timings, not_counted_reason)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AnswerState:
    text: str
    status: AnswerStatus
    message: str | None  # shown when the answer failed


@dataclass(frozen=True, slots=True)
class TurnState:
    turn: int
    prompt: str
    answers: dict[Side, AnswerState]


@dataclass(frozen=True, slots=True)
class BattleState:
    battle_id: str
    mode: BattleMode
    kind: BattleKind
    status: BattleStatus
    generating: bool
    voting_open: bool
    turns: list[TurnState]
    vote: Winner | None
    reveal: Reveal | None
    webdev_stack: WebdevStack | None = None  # the stack a WebDev battle's apps are asked in

    @classmethod
    def of(cls, battle: BattleView, *, with_timings: bool = False) -> BattleState:
        vote = battle.vote
        reveal = None
        if vote is not None:
            reveal = Reveal.of(
                battle,
                winner=vote.winner,
                counted=vote.counted,
                not_counted_reason=vote.not_counted_reason,
                with_timings=with_timings,
            )
        elif battle.mode is not BattleMode.ANONYMOUS:
            reveal = Reveal.of(battle, winner=None, counted=False, with_timings=with_timings)
        return cls(
            battle_id=battle.public_id,
            mode=battle.mode,
            kind=battle.kind,
            status=battle.status,
            generating=battle.status is BattleStatus.GENERATING,
            voting_open=battle.voting_open,
            turns=[
                TurnState(
                    turn.number,
                    written(turn.prompt),
                    {answer.side: _answer_state(answer) for answer in turn.answers},
                )
                for turn in battle.turns
            ],
            vote=vote.winner if vote is not None else None,
            reveal=reveal,
            webdev_stack=battle.webdev_stack,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _revealed(version: ModelIdentity) -> RevealedModel:
    return RevealedModel(version.name, version.version, version.provider_kind)


def _answer_state(answer: AnswerView) -> AnswerState:
    failed = answer.status is AnswerStatus.FAILED
    message = user_failure_message(answer.failure_kind) if failed else None
    return AnswerState(written(answer.text), answer.status, message)
