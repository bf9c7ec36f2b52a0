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
from glassarena.storage.repository import BattleSummary, ModelIdentity
from glassarena.storage.schema import Answer, Battle, ModelVersion


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
    winner: str | None
    counted: bool
    models: dict[str, RevealedModel]  # side -> model
    timings: list[dict[str, AnswerTiming]] | None  # per turn, side -> timing; None: hidden
    not_counted_reason: str | None = None  # why a stored vote is not ranked, for the voter

    @classmethod
    def of(
        cls,
        battle: Battle,
        *,
        winner: str | None,
        counted: bool,
        not_counted_reason: str | None = None,
        with_timings: bool = False,
    ) -> Reveal:
        models = {"a": _revealed(battle.model_a)}
        if battle.model_b is not None:
            models["b"] = _revealed(battle.model_b)
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

    @classmethod
    def of_summary(
        cls,
        battle: BattleSummary,
        models: dict[str, ModelIdentity],
        *,
        winner: str | None,
        counted: bool,
        not_counted_reason: str | None = None,
        with_timings: bool = False,
    ) -> Reveal:
        """The reveal from a battle's summary and its models' identities (side -> identity)."""
        revealed = {side: _revealed(identity) for side, identity in models.items()}
        if not with_timings:
            return cls(battle.public_id, winner, counted, revealed, None, not_counted_reason)
        timings: dict[int, dict[str, AnswerTiming]] = {}
        for timing in battle.timings:
            timings.setdefault(timing.turn, {})[timing.side] = AnswerTiming(
                timing.first_token_seconds, timing.total_seconds, timing.completion_tokens
            )
        return cls(
            battle.public_id,
            winner,
            counted,
            revealed,
            [timings[turn] for turn in sorted(timings)],
            not_counted_reason,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AnswerState:
    text: str
    status: str  # generating | done | failed
    message: str | None  # shown when the answer failed


@dataclass(frozen=True, slots=True)
class TurnState:
    turn: int
    prompt: str
    answers: dict[str, AnswerState]


@dataclass(frozen=True, slots=True)
class BattleState:
    battle_id: str
    mode: str
    kind: str
    status: str  # generating | complete | failed | voted
    generating: bool
    voting_open: bool
    turns: list[TurnState]
    vote: str | None
    reveal: Reveal | None

    @classmethod
    def of(cls, battle: Battle, *, with_timings: bool = False) -> BattleState:
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
        elif battle.mode != "anonymous":
            reveal = Reveal.of(battle, winner=None, counted=False, with_timings=with_timings)
        return cls(
            battle_id=battle.public_id,
            mode=battle.mode,
            kind=battle.kind,
            status=battle.status,
            generating=battle.status == "generating",
            voting_open=battle.status == "complete" and vote is None,
            turns=[
                TurnState(
                    turn.number,
                    turn.prompt,
                    {answer.side: _answer_state(answer) for answer in turn.answers},
                )
                for turn in battle.turns
            ],
            vote=vote.winner if vote is not None else None,
            reveal=reveal,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _revealed(version: ModelVersion | ModelIdentity) -> RevealedModel:
    return RevealedModel(version.name, version.version, version.provider_kind)


def _answer_state(answer: Answer) -> AnswerState:
    message = user_failure_message(answer.failure_kind) if answer.status == "failed" else None
    return AnswerState(answer.text, answer.status, message)
