"""The arena's use cases: start a battle, continue it, follow its events, vote, look at it.

Generation runs in asyncio tasks owned by the service, not by the HTTP request that started
it: a client that disconnects loses nothing, and can replay the turn from `events()`. Both
sides stream concurrently. Everything a user is told has been committed first.

Blinding: events and states never carry a model name, provider or version before the vote
(named and single battles excepted: there the user chose the models).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError

from glassarena.arena.errors import (
    AlreadyVoted,
    ArenaError,
    BattleBusy,
    BattleClosed,
    BattleFailed,
    InvalidRequest,
    NoContestants,
    NotFound,
    PromptEmpty,
    PromptTooLong,
    ServiceUnavailable,
    UnknownModel,
    VotingNotOpen,
)
from glassarena.arena.generation import generate_answer, user_failure_message
from glassarena.arena.live import Event, LiveBattle
from glassarena.arena.pacing import StreamPacing, TurnStream, turn_stream
from glassarena.arena.ratelimit import RateLimiter, RateLimits
from glassarena.arena.recorded import RecordedPrompt
from glassarena.arena.reveal import BattleState, Reveal
from glassarena.arena.roster import RegisteredModel, Roster
from glassarena.arena.sampling import Candidate, SamplingPolicy
from glassarena.arena.vote_log import VoteLog
from glassarena.arena.voter import IpHasher, Voter
from glassarena.arena.votes import VoteAcceptance, VoteContext
from glassarena.battles.record import WINNER_LABELS, Winner
from glassarena.battles.style import Side, side_style
from glassarena.providers.base import ChatMessage
from glassarena.storage.repository import (
    AnswerResult,
    ArenaRepository,
    BattleStateConflict,
    BattleSummary,
    DuplicateVoteError,
)
from glassarena.storage.schema import Battle, ModelVersion, as_utc
from glassarena.webdev.prompt import WEBDEV_SYSTEM_PROMPT

logger = logging.getLogger(__name__)

Mode = Literal["anonymous", "named", "single"]
Kind = Literal["text", "webdev", "recorded"]
MODES: tuple[str, ...] = ("anonymous", "named", "single")
KINDS: tuple[str, ...] = ("text", "webdev", "recorded")
PUBLIC_ID_BYTES = 18
ABANDONED_GRACE = timedelta(seconds=60)
_OTHER_WORKER_POLL_SECONDS = 0.5
# A vote refused for one of these reasons is charged to the refusal limits, not the quota.
_VOTE_REFUSALS = (InvalidRequest, NotFound, AlreadyVoted, VotingNotOpen, BattleFailed, BattleBusy)


@dataclass(frozen=True, slots=True)
class BattleRequest:
    mode: Mode = "anonymous"
    kind: Kind = "text"
    prompt: str | None = None
    models: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ArenaLimits:
    max_prompt_chars: int = 8_000
    max_turns: int = 10
    answer_timeout_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class _SidePlan:
    side: Side
    model: RegisteredModel
    messages: list[ChatMessage]
    kind: str = "text"


# Called with (battle_id, turn, side, answer) once a WebDev answer is stored as done; it must
# not block (the WebDev execution check schedules its own work).
WebdevAnswerHook = Callable[[str, int, str, str], None]


class ArenaService:
    webdev_answer_finished: WebdevAnswerHook | None = None

    def __init__(
        self,
        *,
        repository: ArenaRepository,
        roster: Roster,
        sampling: SamplingPolicy,
        acceptance: VoteAcceptance,
        vote_log: VoteLog,
        rate_limiter: RateLimiter,
        ip_hasher: IpHasher,
        rate_limits: RateLimits | None = None,
        limits: ArenaLimits | None = None,
        recorded_prompts: Sequence[RecordedPrompt] = (),
        pacing: StreamPacing | None = None,
        reveal_timings: bool = False,
    ) -> None:
        self.repository = repository
        self.roster = roster
        self._sampling = sampling
        self._acceptance = acceptance
        self._vote_log = vote_log
        self._rate_limiter = rate_limiter
        self._ip_hasher = ip_hasher
        self._rate_limits = rate_limits or RateLimits()
        self.limits = limits or ArenaLimits()
        self._recorded_prompts = tuple(recorded_prompts)
        self._recorded_by_id = {prompt.prompt_id: prompt for prompt in self._recorded_prompts}
        self._pacing = pacing or StreamPacing()
        # Per-battle timings identify models (a classifier learns them from reveals), so
        # voters see them only where the operator chose to show them.
        self._reveal_timings = reveal_timings
        self._live: dict[str, LiveBattle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- identity and choices -------------------------------------------------------------

    def voter(self, voter_id: str, ip: str) -> Voter:
        """The voter behind a request: cookie id plus the keyed hash of the client IP."""
        return self._ip_hasher.voter(voter_id, ip)

    def model_names(self, kind: str = "text") -> list[str]:
        """Models a user may pick by name in named or single mode."""
        return list(self.roster.names(kind))

    # -- battles ----------------------------------------------------------------------------

    async def start(self, voter: Voter, request: BattleRequest) -> LiveBattle:
        if request.mode not in MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(MODES)}, not {request.mode!r}.")
        if request.kind not in KINDS:
            raise InvalidRequest(f"kind must be one of {', '.join(KINDS)}, not {request.kind!r}.")
        recorded_prompt: RecordedPrompt | None = None
        if request.kind == "recorded":
            if request.prompt:
                raise InvalidRequest("Recorded battles use a recorded prompt; leave prompt empty.")
            recorded_prompt = self._pick_recorded_prompt(request)
            prompt = recorded_prompt.text
        else:
            prompt = self._checked_prompt(request.prompt)
        models = self._pick_models(request, recorded_prompt)
        await self._acquire_battle(voter)

        battle_id = secrets.token_urlsafe(PUBLIC_ID_BYTES)
        messages: list[ChatMessage] = [
            *_instructions(request.kind),
            {"role": "user", "content": prompt},
        ]
        sides: tuple[Side, Side] = ("a", "b")
        plans = [
            _SidePlan(side, model, list(messages), request.kind)
            for side, model in zip(sides, models, strict=False)
        ]
        # The models start answering while the battle is being stored, so the first token
        # does not wait for the database. The caller gets the battle (and with it the first
        # event, which acknowledges it) only once it is committed; answers that arrive
        # earlier are kept by the live battle and replayed.
        storing = asyncio.create_task(
            _in_storage_thread(
                partial(
                    self.repository.create_battle,
                    public_id=battle_id,
                    mode=request.mode,
                    kind=request.kind,
                    category=request.kind,
                    model_a_id=models[0].version_id,
                    model_b_id=models[1].version_id if len(models) > 1 else None,
                    voter_id=voter.voter_id,
                    ip_hash=voter.ip_hash,
                    prompt=prompt,
                    recorded_prompt_id=recorded_prompt.prompt_id if recorded_prompt else None,
                )
            )
        )
        live, turn = self._launch(battle_id, 1, prompt, plans, storing)
        try:
            await asyncio.shield(storing)
        except ServiceUnavailable:
            turn.cancel()  # nothing was stored: the answers would have nowhere to go
            raise
        return live

    async def follow_up(self, voter: Voter, battle_id: str, prompt: str) -> LiveBattle:
        """Continue both conversations with a new prompt, each with its own full history."""
        checked = self._checked_prompt(prompt)
        battle = await self._owned_battle(voter, battle_id)
        if battle.kind == "recorded":
            raise BattleClosed("Recorded battles have a single prompt; start a new battle.")
        if battle.vote is not None:
            raise BattleClosed()
        if battle.status == "generating":
            raise BattleBusy()
        if battle.status == "failed":
            raise BattleFailed()
        if len(battle.turns) >= self.limits.max_turns:
            raise BattleClosed(
                f"This battle has reached its limit of {self.limits.max_turns} prompts; "
                "please vote or start a new battle."
            )
        plans = [
            _SidePlan(
                side,
                self._model_for_version(version.name, version.id),
                [
                    *_instructions(battle.kind),
                    *_history(battle, side),
                    {"role": "user", "content": checked},
                ],
                battle.kind,
            )
            for side, version in _sides(battle)
        ]
        await self._acquire_battle(voter)
        number = len(battle.turns) + 1
        try:
            with _storage_errors():
                await asyncio.to_thread(self.repository.add_turn, battle_id, number, checked)
        except BattleStateConflict as conflict:
            if conflict.status == "voted":
                raise BattleClosed() from None
            raise _state_error(conflict.status) from None
        live, _turn = self._launch(battle_id, number, checked, plans, storing=None)
        return live

    async def events(self, voter: Voter, battle_id: str) -> AsyncIterator[Event]:
        """The latest turn's events from its start: live if it is being generated here,
        otherwise rebuilt from the database (waiting for another worker to finish it)."""
        battle = await self._owned_battle(voter, battle_id)
        live = self._live.get(battle_id)
        if live is not None:
            async for event in live.events():
                yield event
            return
        while battle.status == "generating":
            await asyncio.sleep(_OTHER_WORKER_POLL_SECONDS)
            live = self._live.get(battle_id)
            if live is not None:
                async for event in live.events():
                    yield event
                return
            battle = await self._owned_battle(voter, battle_id)
        for event in _replayed_events(battle):
            yield event

    def vote(self, voter: Voter, battle_id: str, choice: Winner | str) -> Reveal:
        """Store the vote (committed before this returns) and reveal the models.

        Only an accepted vote uses the voter's and the address's vote quota; a refused one
        (bad choice, no such battle, not open, already voted) is charged to a separate, more
        generous limit, so junk votes cannot use up anybody's quota. The quota is taken
        before the vote is stored (a voter over the limit never gets a stored vote) and
        given back if storing it is refused after all.
        """
        with self._refusals_charged(voter):
            winner = _parse_choice(choice)
            battle = self._settled_summary(self._owned_summary(voter, battle_id))
            if battle.status == "voted":
                raise AlreadyVoted()
            if battle.status == "generating":
                raise VotingNotOpen()
            if battle.status == "failed":
                raise BattleFailed()
        verdict = self._acceptance.judge(
            VoteContext(
                mode=battle.mode,
                kind=battle.kind,
                category=battle.category,
                battle_failed=battle.status == "failed",
                voter=voter,
                answers_public=self._answers_public(battle),
            )
        )
        grant = self._rate_limiter.acquire(voter, self._rate_limits.for_votes(), "votes")
        try:
            with self._refusals_charged(voter), _storage_errors():
                try:
                    logged = self.repository.record_vote(
                        battle_id,
                        winner=winner.value,
                        voter_id=voter.voter_id,
                        ip_hash=voter.ip_hash,
                        counted=verdict.counted,
                        not_counted_reason=verdict.reason,
                        log=self._vote_log.append,
                    )
                except DuplicateVoteError:
                    raise AlreadyVoted() from None
                except BattleStateConflict as conflict:
                    raise _state_error(conflict.status) from None
        except BaseException:
            self._rate_limiter.refund(grant)  # nothing was stored
            raise
        models = {"a": logged.model_a}
        if logged.model_b is not None:
            models["b"] = logged.model_b
        return Reveal.of_summary(
            battle,
            models,
            winner=winner.value,
            counted=verdict.counted,
            not_counted_reason=verdict.reason,
            with_timings=self._reveal_timings,
        )

    def battle_state(self, voter: Voter, battle_id: str) -> BattleState:
        """What the user may see of a battle: blinded until the vote (anonymous mode)."""
        battle = self._settled(self._load_owned(voter, battle_id))
        return BattleState.of(battle, with_timings=self._reveal_timings)

    async def aclose(self) -> None:
        """Stop generating (at server shutdown); unfinished battles are marked failed."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- internals ---------------------------------------------------------------------------

    @contextmanager
    def _refusals_charged(self, voter: Voter) -> Iterator[None]:
        """A refused vote counts against the refusal limits (a 429 once they are used up)."""
        try:
            yield
        except _VOTE_REFUSALS:
            self._rate_limiter.acquire(
                voter, self._rate_limits.for_refused_votes(), "refused votes"
            )
            raise

    def _answers_public(self, battle: BattleSummary) -> bool:
        """Whether anyone could have looked the battle's answers up: a recorded battle from a
        public set, or from a prompt no longer configured (it cannot be vouched for)."""
        if battle.kind != "recorded":
            return False
        with _storage_errors():
            prompt_id = self.repository.recorded_prompt_id(battle.public_id)
        prompt = self._recorded_by_id.get(prompt_id or "")
        return prompt is None or prompt.public

    async def _acquire_battle(self, voter: Voter) -> None:
        limits = self._rate_limits.for_battles()
        if self._rate_limiter.waits_on_network:
            # Redis may be across the network: keep the event loop free while it answers.
            await asyncio.to_thread(self._rate_limiter.acquire, voter, limits, "battles")
        else:
            self._rate_limiter.acquire(voter, limits, "battles")

    def _checked_prompt(self, prompt: str | None) -> str:
        if prompt is None or not prompt.strip():
            raise PromptEmpty()
        if len(prompt) > self.limits.max_prompt_chars:
            raise PromptTooLong(len(prompt), self.limits.max_prompt_chars)
        return prompt

    def _pick_recorded_prompt(self, request: BattleRequest) -> RecordedPrompt:
        if not self._recorded_prompts:
            raise NoContestants("This arena has no recorded answers to show.")
        available = set(self.roster.names("recorded"))
        wanted = set(request.models)
        if unknown := sorted(wanted - available):
            raise UnknownModel(unknown[0])
        needed = 1 if request.mode == "single" else 2
        eligible = [
            prompt
            for prompt in self._recorded_prompts
            if len(set(prompt.models) & available) >= needed and wanted <= set(prompt.models)
        ]
        if not eligible:
            raise NoContestants("No recorded prompt was answered by the models asked for.")
        return secrets.choice(eligible)

    def _pick_models(
        self, request: BattleRequest, recorded_prompt: RecordedPrompt | None
    ) -> list[RegisteredModel]:
        candidates = list(self.roster.names(request.kind))
        if recorded_prompt is not None:
            candidates = [name for name in candidates if name in recorded_prompt.models]
        if request.mode == "anonymous":
            if request.models:
                raise InvalidRequest(
                    "Anonymous battles choose their models; leave models empty "
                    "(or use named mode to pick them)."
                )
            pairing = self._sampling.choose(
                [Candidate(name, self.roster.get(name).organization) for name in candidates],
                request.kind,
            )
            if pairing.model_a == pairing.model_b:
                raise RuntimeError("the sampling policy paired a model with itself")
            return [self.roster.get(pairing.model_a), self.roster.get(pairing.model_b)]
        expected = 2 if request.mode == "named" else 1
        if len(request.models) != expected:
            raise InvalidRequest(
                f"{request.mode.capitalize()} mode needs exactly {expected} model "
                f"name{'s' if expected > 1 else ''} in models; got {len(request.models)}."
            )
        if len(set(request.models)) != len(request.models):
            raise InvalidRequest("Pick two different models for a named battle.")
        chosen = [self.roster.get(name) for name in request.models]
        for model in chosen:
            if model.name not in candidates:
                raise InvalidRequest(
                    f"The model {model.name!r} does not take part in {request.kind} battles."
                )
        return chosen

    def _model_for_version(self, name: str, version_id: int) -> RegisteredModel:
        try:
            model = self.roster.get(name)
        except UnknownModel:
            # The model left the arena. Its name must not leak before the vote.
            raise BattleClosed(
                "One of the models in this battle is no longer available; "
                "please vote or start a new battle."
            ) from None
        if model.version_id != version_id:
            # The settings changed since this battle began: its remaining turns must not be
            # answered by a different configuration than the one the vote will name.
            raise BattleClosed(
                "The models in this battle have been updated since it started; "
                "please start a new battle."
            )
        return model

    def _launch(
        self,
        battle_id: str,
        number: int,
        prompt: str,
        plans: Sequence[_SidePlan],
        storing: asyncio.Task[None] | None,
    ) -> tuple[LiveBattle, asyncio.Task[None]]:
        """Start generating the turn; `storing` is the battle's creation, if still running."""
        live = LiveBattle(battle_id, number, prompt)
        self._live[battle_id] = live
        task = asyncio.create_task(
            self._run_turn(live, plans, storing),
            name=f"glassarena battle {battle_id} turn {number}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return live, task

    async def _run_turn(
        self, live: LiveBattle, plans: Sequence[_SidePlan], storing: asyncio.Task[None] | None
    ) -> None:
        try:
            sides = [plan.side for plan in plans]
            async with turn_stream(sides, live.emit, self._pacing) as stream:
                results = await asyncio.gather(
                    *(self._run_side(live, stream, plan, storing) for plan in plans)
                )
            failures = [
                f"side {plan.side}: {result.failure_kind}: {result.failure_reason}"
                for plan, result in zip(plans, results, strict=True)
                if result.status == "failed"
            ]
            styles = {
                plan.side: side_style(
                    [*plan.messages, {"role": "assistant", "content": result.text}], plan.side
                )
                for plan, result in zip(plans, results, strict=True)
            }
            await asyncio.to_thread(
                self.repository.finish_turn,
                live.battle_id,
                failure_reason="; ".join(failures) or None,
                style_a=styles.get("a"),
                style_b=styles.get("b"),
            )
            live.close({"type": "complete", "voting_open": not failures})
        except asyncio.CancelledError:
            if await _stored(storing):
                await asyncio.to_thread(
                    self.repository.fail_abandoned, live.battle_id, "the server stopped"
                )
            raise
        except ServiceUnavailable:
            pass  # the battle could not be stored: start() told the user so
        except Exception:
            logger.exception("battle %s turn %s could not be completed", live.battle_id, live.turn)
            try:
                await asyncio.to_thread(
                    self.repository.fail_abandoned, live.battle_id, "internal error, see server log"
                )
            except SQLAlchemyError:
                # Storage is down; once it is back, the battle is failed as abandoned.
                logger.exception("battle %s could not be marked failed", live.battle_id)
        finally:
            if not live.closed:
                live.close({"type": "complete", "voting_open": False})
            self._live.pop(live.battle_id, None)

    async def _run_side(
        self,
        live: LiveBattle,
        stream: TurnStream,
        plan: _SidePlan,
        storing: asyncio.Task[None] | None,
    ) -> AnswerResult:
        result = await generate_answer(
            plan.model.provider,
            plan.messages,
            partial(stream.write, plan.side),
            self.limits.answer_timeout_seconds,
        )
        stream.end(plan.side)
        style = side_style([{"role": "assistant", "content": result.text}], plan.side)
        stored = replace(result, style=style)
        if storing is not None:
            await asyncio.shield(storing)  # the answer's row is created with the battle
        await asyncio.to_thread(
            self.repository.finish_answer, live.battle_id, live.turn, plan.side, stored
        )
        await stream.delivered(plan.side)
        if result.status == "failed":
            logger.warning(
                "battle %s side %s (%s) failed: %s: %s",
                live.battle_id,
                plan.side,
                plan.model.name,
                result.failure_kind,
                result.failure_reason,
            )
            live.emit(
                {
                    "type": "failed",
                    "side": plan.side,
                    "message": user_failure_message(result.failure_kind),
                }
            )
        else:
            live.emit({"type": "done", "side": plan.side})
            if plan.kind == "webdev" and self.webdev_answer_finished is not None:
                self.webdev_answer_finished(live.battle_id, live.turn, plan.side, result.text)
        return stored

    def _owned_summary(self, voter: Voter, battle_id: str) -> BattleSummary:
        with _storage_errors():
            battle = self.repository.battle_summary(battle_id) if battle_id else None
        # Someone else's battle looks exactly like a missing one: ids cannot be probed.
        if battle is None or not secrets.compare_digest(battle.voter_id, voter.voter_id):
            raise NotFound()
        return battle

    def _settled_summary(self, battle: BattleSummary) -> BattleSummary:
        """The summary once a battle abandoned by a dead process has been failed."""
        if not self._abandoned(battle.public_id, battle.status, battle.updated_at):
            return battle
        with _storage_errors():
            self.repository.fail_abandoned(battle.public_id, "generation was interrupted")
            reloaded = self.repository.battle_summary(battle.public_id)
        assert reloaded is not None
        return reloaded

    def _abandoned(self, battle_id: str, status: str, updated_at: datetime) -> bool:
        """Left `generating` by a process that died: failed, not open forever."""
        if status != "generating" or battle_id in self._live:
            return False
        deadline = timedelta(seconds=self.limits.answer_timeout_seconds) + ABANDONED_GRACE
        return datetime.now(UTC) - as_utc(updated_at) > deadline

    def _load_owned(self, voter: Voter, battle_id: str) -> Battle:
        with _storage_errors():
            battle = self.repository.load_battle(battle_id) if battle_id else None
        # Someone else's battle looks exactly like a missing one: ids cannot be probed.
        if battle is None or not secrets.compare_digest(battle.voter_id, voter.voter_id):
            raise NotFound()
        return battle

    async def _owned_battle(self, voter: Voter, battle_id: str) -> Battle:
        battle = await asyncio.to_thread(self._load_owned, voter, battle_id)
        return await asyncio.to_thread(self._settled, battle)

    def _settled(self, battle: Battle) -> Battle:
        """A battle left `generating` by a process that died is failed, not open forever."""
        if not self._abandoned(battle.public_id, battle.status, battle.updated_at):
            return battle
        with _storage_errors():
            self.repository.fail_abandoned(battle.public_id, "generation was interrupted")
            reloaded = self.repository.load_battle(battle.public_id)
        assert reloaded is not None
        return reloaded


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Storage failures become a 503 for the user (nothing was acknowledged) and a log line."""
    try:
        yield
    except SQLAlchemyError as error:
        logger.error("storage failed: %s", error)
        raise ServiceUnavailable() from error


async def _in_storage_thread(write: Callable[[], None]) -> None:
    with _storage_errors():
        await asyncio.to_thread(write)


async def _stored(storing: asyncio.Task[None] | None) -> bool:
    """Whether the battle's creation (None: done before the turn began) succeeded."""
    if storing is None:
        return True
    try:
        await asyncio.shield(storing)
    except ServiceUnavailable:
        return False
    return True


def _state_error(status: str | None) -> ArenaError:
    """The error for a battle found, at the moment of a change, in `status`."""
    return {
        "generating": BattleBusy(),
        "voted": AlreadyVoted(),
        "failed": BattleFailed(),
    }.get(status or "", NotFound())


def _parse_choice(choice: Winner | str) -> Winner:
    if isinstance(choice, Winner):
        return choice
    winner = WINNER_LABELS.get(choice) if isinstance(choice, str) else None
    if winner is None:
        labels = ", ".join(repr(w.value) for w in Winner)
        raise InvalidRequest(f"choice must be one of {labels}, not {choice!r}.")
    return winner


def _instructions(kind: str) -> list[ChatMessage]:
    """What every model is told before the conversation in this kind of battle."""
    if kind == "webdev":
        return [{"role": "system", "content": WEBDEV_SYSTEM_PROMPT}]
    return []


def _sides(battle: Battle) -> list[tuple[Side, ModelVersion]]:
    sides: list[tuple[Side, ModelVersion]] = [("a", battle.model_a)]
    if battle.model_b is not None:
        sides.append(("b", battle.model_b))
    return sides


def _history(battle: Battle, side: str) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    for turn in battle.turns:
        answer = next(answer for answer in turn.answers if answer.side == side)
        messages.append({"role": "user", "content": turn.prompt})
        messages.append({"role": "assistant", "content": answer.text})
    return messages


def _replayed_events(battle: Battle) -> list[Event]:
    turn = battle.turns[-1]
    events: list[Event] = [
        {
            "type": "battle",
            "battle_id": battle.public_id,
            "turn": turn.number,
            "prompt": turn.prompt,
        }
    ]
    for answer in turn.answers:
        if answer.text:
            events.append({"type": "delta", "side": answer.side, "text": answer.text})
        if answer.status == "failed":
            message = user_failure_message(answer.failure_kind)
            events.append({"type": "failed", "side": answer.side, "message": message})
        else:
            events.append({"type": "done", "side": answer.side})
    voting_open = battle.status == "complete" and battle.vote is None
    events.append({"type": "complete", "voting_open": voting_open})
    return events
