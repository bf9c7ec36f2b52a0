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
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from redis.exceptions import RedisError

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
    ReasonsAlreadyGiven,
    ReasonsBeforeVote,
    ReasonsEmpty,
    ReasonsRefused,
    ReasonsWithoutAPick,
    ServiceUnavailable,
    ShareBeforeVote,
    UnknownModel,
    VotingNotOpen,
)
from glassarena.arena.generation import generate_answer, user_failure_message
from glassarena.arena.identity_guard import IdentityGuard, IdentityVerdict, SideIdentity
from glassarena.arena.live import Event, LiveBattle
from glassarena.arena.pacing import StreamPacing, TurnStream, turn_stream
from glassarena.arena.prompt_judge import PromptJudge
from glassarena.arena.ratelimit import RateLimiter, RateLimits
from glassarena.arena.recorded import RecordedPrompt
from glassarena.arena.reveal import BattleState, Reveal
from glassarena.arena.roster import Contestant, Roster
from glassarena.arena.sampling import Candidate, SamplingPolicy
from glassarena.arena.shared_battle import SharedBattle
from glassarena.arena.shared_turns import SharedTurns, event_id
from glassarena.arena.vote_log import VoteLog
from glassarena.arena.vote_reasons import clean_note, parse_reasons
from glassarena.arena.voter import IpHasher, Voter
from glassarena.arena.votes import BattleTranscript, VoteAcceptance, VoteContext
from glassarena.battles.errors import BattleDataError
from glassarena.battles.prompt_categories import PromptClassifier, rule_based_tag, with_multi_turn
from glassarena.battles.record import parse_winner
from glassarena.battles.style import side_style
from glassarena.battles.tone import tone_columns
from glassarena.providers.base import ChatMessage
from glassarena.storage.battle_shares import BattleShares
from glassarena.storage.battle_view import BattleView, written
from glassarena.storage.errors import StorageError
from glassarena.storage.repository import (
    AnswerResult,
    ArenaRepository,
    BattleStateConflict,
    DuplicateVoteError,
)
from glassarena.storage.vote_reasons import (
    ReasonsAlreadyStored,
    StoredReasons,
    VoteReasonStore,
)
from glassarena.vocabulary import (
    SIDES,
    AnswerStatus,
    BattleKind,
    BattleMode,
    BattleStatus,
    Side,
    WebdevStack,
    Winner,
)
from glassarena.webdev.prompt import WEBDEV_SYSTEM_PROMPTS

logger = logging.getLogger(__name__)

PUBLIC_ID_BYTES = 18
ABANDONED_GRACE = timedelta(seconds=60)
_OTHER_WORKER_POLL_SECONDS = 0.5
# A vote refused for one of these reasons is charged to the refusal limits, not the quota.
_VOTE_REFUSALS = (
    InvalidRequest,
    NotFound,
    AlreadyVoted,
    VotingNotOpen,
    BattleFailed,
    BattleBusy,
    ReasonsRefused,
    ShareBeforeVote,
)


@dataclass(frozen=True, slots=True)
class BattleRequest:
    mode: BattleMode = BattleMode.ANONYMOUS
    kind: BattleKind = BattleKind.TEXT
    prompt: str | None = None
    models: tuple[str, ...] = ()
    # WebDev only: the stack the apps are asked in (None: the arena's default stack).
    stack: WebdevStack | None = None


@dataclass(frozen=True, slots=True)
class ArenaLimits:
    max_prompt_chars: int = 8_000
    max_turns: int = 10
    answer_timeout_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class _SidePlan:
    side: Side
    model: Contestant
    messages: list[ChatMessage]
    kind: BattleKind = BattleKind.TEXT


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
        vote_reasons: VoteReasonStore | None = None,
        prompt_classifier: PromptClassifier = rule_based_tag,
        webdev_stack: WebdevStack = WebdevStack.HTML,
        identity_guard: IdentityGuard | None = None,
        prompt_judge: PromptJudge | None = None,
        tone_style: bool = False,
        shared_turns: SharedTurns | None = None,
    ) -> None:
        self.repository = repository
        self.vote_reasons = vote_reasons or VoteReasonStore(repository.database)
        self.shares = BattleShares(repository.database)
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
        self._prompt_classifier = prompt_classifier
        # The stack a WebDev battle asks for when its request names none.
        self.webdev_stack = webdev_stack
        # Judges each battle for identity leaks when a turn finishes and stores the verdict
        # with it, so that the vote reads no texts (the acceptance's IdentityGuarded, given
        # the same guard, uses it; a verdict from another guard is judged again).
        self._identity_guard = identity_guard
        # Asked after a battle is stored, never while the voter waits (arena/prompt_judge.py).
        self._prompt_judge = prompt_judge
        # Emoji and sentiment in the conversation's style counts, for the tone-controlled
        # boards (Settings.tone_style_control).
        self._tone_style = tone_style
        self._live: dict[str, LiveBattle] = {}
        # With several nodes: turns published to Redis, followed and taken over from there.
        self._shared = shared_turns
        self._tasks: set[asyncio.Task[None]] = set()

    # -- identity and choices -------------------------------------------------------------

    @property
    def ip_hasher(self) -> IpHasher:
        """The keyed hash naming clients, grouping IPv6 addresses by the configured prefix."""
        return self._ip_hasher

    def voter(self, voter_id: str, ip: str) -> Voter:
        """The voter behind a request: cookie id plus the keyed hash of the client IP."""
        return self._ip_hasher.voter(voter_id, ip)

    def model_names(self, kind: BattleKind = BattleKind.TEXT) -> list[str]:
        """Models a user may pick by name in named or single mode."""
        return list(self.roster.names(kind))

    # -- battles ----------------------------------------------------------------------------

    async def start(self, voter: Voter, request: BattleRequest) -> LiveBattle:
        request = replace(
            request,
            mode=_parsed(BattleMode, request.mode, "mode"),
            kind=_parsed(BattleKind, request.kind, "kind"),
        )
        stack: WebdevStack | None = None
        if request.kind.webdev:
            stack = _parsed(WebdevStack, request.stack or self.webdev_stack, "stack")
        elif request.stack is not None:
            raise InvalidRequest("Only WebDev battles are asked in a stack; leave stack empty.")
        recorded_prompt: RecordedPrompt | None = None
        if not request.kind.live:
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
            *_instructions(request.kind, stack),
            {"role": "user", "content": prompt},
        ]
        plans = [
            _SidePlan(side, model, list(messages), request.kind)
            for side, model in zip(SIDES, models, strict=False)
        ]
        # The models start answering while the battle is being stored, so the first token
        # does not wait for the database. The caller gets the battle (and with it the first
        # event, which acknowledges it) only once it is committed; answers that arrive
        # earlier are kept by the live battle and replayed.
        storing = asyncio.create_task(
            _in_storage_thread(
                partial(
                    self._store_battle,
                    public_id=battle_id,
                    mode=request.mode,
                    kind=request.kind,
                    category=request.kind.category,
                    model_a_id=models[0].version_id,
                    model_b_id=models[1].version_id if len(models) > 1 else None,
                    voter_id=voter.voter_id,
                    ip_hash=voter.ip_hash,
                    prompt=prompt,
                    recorded_prompt_id=recorded_prompt.prompt_id if recorded_prompt else None,
                    webdev_stack=stack,
                )
            )
        )
        live, turn = self._launch(battle_id, 1, prompt, plans, storing)
        try:
            await asyncio.shield(storing)
        except ServiceUnavailable:
            turn.cancel()  # nothing was stored: the answers would have nowhere to go
            raise
        if self._prompt_judge is not None:
            self._in_background(
                self._judge_prompt(self._prompt_judge, battle_id, prompt),
                f"glassarena prompt judge {battle_id}",
            )
        return live

    async def _judge_prompt(self, judge: PromptJudge, battle_id: str, prompt: str) -> None:
        """Replace the rules' tag with the judge's, if it answers in time (never raises:
        nobody waits on this, and the rules' tag is already stored)."""
        try:
            tag = await judge.tag(prompt)
            if tag is None:
                return
            replaced = await asyncio.to_thread(
                self.repository.replace_prompt_categories, battle_id, tag, with_multi_turn
            )
            if not replaced:
                logger.info("battle %s was voted on before the prompt judge answered", battle_id)
        except Exception:
            logger.exception("the prompt judge's tag for battle %s was not stored", battle_id)

    def _in_background(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _store_battle(self, *, prompt: str, **battle: Any) -> None:
        """Store a new battle with its prompt's categories (runs in the storage thread, so
        classifying never delays the first token)."""
        self.repository.create_battle(
            prompt=prompt, prompt_categories=self._prompt_classifier(prompt), **battle
        )

    async def follow_up(self, voter: Voter, battle_id: str, prompt: str) -> LiveBattle:
        """Continue both conversations with a new prompt, each with its own full history."""
        checked = self._checked_prompt(prompt)
        battle = await self._owned_battle(voter, battle_id)
        if not battle.kind.live:
            raise BattleClosed("Recorded battles have a single prompt; start a new battle.")
        if battle.vote is not None:
            raise BattleClosed()
        if battle.status is BattleStatus.GENERATING:
            raise BattleBusy()
        if battle.status is BattleStatus.FAILED:
            raise BattleFailed()
        if len(battle.turns) >= self.limits.max_turns:
            raise BattleClosed(
                f"This battle has reached its limit of {self.limits.max_turns} prompts; "
                "please vote or start a new battle."
            )
        plans = [
            _SidePlan(
                side,
                self._model_for_version(version.name, version.version_id),
                [
                    *_instructions(battle.kind, battle.webdev_stack),
                    *_history(battle, side),
                    {"role": "user", "content": checked},
                ],
                battle.kind,
            )
            for side, version in battle.models.items()
        ]
        await self._acquire_battle(voter)
        number = len(battle.turns) + 1
        try:
            with _storage_errors():
                await asyncio.to_thread(
                    self.repository.add_turn, battle_id, number, checked, with_multi_turn
                )
        except BattleStateConflict as conflict:
            if conflict.status is BattleStatus.VOTED:
                raise BattleClosed() from None
            raise _state_error(conflict.status) from None
        live, _turn = self._launch(battle_id, number, checked, plans, storing=None)
        return live

    async def events(self, voter: Voter, battle_id: str) -> AsyncIterator[Event]:
        """The latest turn's events from its start: live if it is being generated here,
        otherwise followed from the node generating it or rebuilt from the database."""
        async for _event_id, event in self.numbered_events(voter, battle_id):
            yield event

    async def numbered_events(
        self, voter: Voter, battle_id: str
    ) -> AsyncIterator[tuple[str | None, Event]]:
        """`events`, each with its id (`<turn>-<position>`) where it has one: events followed
        live, here or from another node, have one; a turn rebuilt from the database (which
        starts again with its `battle` event) has none."""
        battle = await self._owned_battle(voter, battle_id)
        while True:
            live = self._live.get(battle_id)
            if live is not None:
                async for position, event in live.numbered():
                    yield event_id(live.turn, position), event
                return
            if battle.status is not BattleStatus.GENERATING:
                for event in _replayed_events(battle):
                    yield None, event
                return
            if self._shared is None:
                await asyncio.sleep(_OTHER_WORKER_POLL_SECONDS)
            else:
                async for numbered in self._follow_shared(battle):
                    yield numbered
                return
            battle = await self._owned_battle(voter, battle_id)

    async def _follow_shared(self, battle: BattleView) -> AsyncIterator[tuple[str | None, Event]]:
        """Follow a turn another node is generating, through Redis; take it over if that
        node died; fall back to the database when Redis cannot say."""
        assert self._shared is not None
        shared = self._shared
        battle_id, turn = battle.public_id, battle.turns[-1].number
        position = -1
        suspected_at: float | None = None  # when the lease was first seen missing
        loop = asyncio.get_running_loop()
        while True:
            try:
                quiet = True
                async for seen, event in shared.follow(battle_id, turn, position):
                    quiet, suspected_at, position = False, None, seen
                    yield event_id(turn, seen), event
                    if event["type"] == "complete":
                        return
                if not quiet:
                    continue
                holder = await shared.holder(battle_id)
            except RedisError as error:
                logger.warning("battle %s: following through the database: %s", battle_id, error)
                await asyncio.sleep(_OTHER_WORKER_POLL_SECONDS)
                holder = shared.node  # not known to be dead
            live = self._live.get(battle_id)
            if live is not None:  # taken over here by another request
                async for live_position, event in live.numbered(live.resumes_after(position)):
                    yield event_id(turn, live_position), event
                return
            reloaded = await asyncio.to_thread(self.repository.battle, battle_id)
            if (
                reloaded is None
                or reloaded.status is not BattleStatus.GENERATING
                or reloaded.turns[-1].number != turn
            ):
                # Finished (or failed) without our seeing its end: the database has it all.
                for event in _replayed_events(reloaded or battle):
                    yield None, event
                return
            if holder is not None:
                suspected_at = None
                continue
            now = loop.time()
            if suspected_at is None or now - suspected_at < shared.lease_s / 2:
                suspected_at = suspected_at or now
                continue
            live = await self._take_over(reloaded)
            if live is None:
                suspected_at = None
                continue
            async for live_position, event in live.numbered(live.resumes_after(position)):
                yield event_id(turn, live_position), event
            return

    async def _take_over(self, battle: BattleView) -> LiveBattle | None:
        """Restart the last turn of a battle whose node died; None if another node won it."""
        assert self._shared is not None
        battle_id = battle.public_id
        if battle_id in self._live or not await self._shared.take(battle_id):
            return None
        current = await asyncio.to_thread(self.repository.battle, battle_id)
        if current is None or current.status is not BattleStatus.GENERATING:
            await self._shared.release(battle_id)  # it finished after all
            return None
        battle = current
        turn = battle.turns[-1]
        assert turn.prompt is not None
        logger.warning(
            "battle %s turn %s: its node stopped answering; restarting it on %s",
            battle_id,
            turn.number,
            self._shared.node,
        )
        try:
            history = await self._shared.history(battle_id, turn.number)
        except RedisError:
            history = []
        earlier = replace(battle, turns=battle.turns[:-1])
        finished: dict[Side, AnswerResult] = {}
        plans = []
        try:
            for side, version in battle.models.items():
                plans.append(
                    _SidePlan(
                        side,
                        self._model_for_version(version.name, version.version_id),
                        [
                            *_instructions(battle.kind, battle.webdev_stack),
                            *_history(earlier, side),
                            {"role": "user", "content": turn.prompt},
                        ],
                        battle.kind,
                    )
                )
        except BattleClosed as closed:
            await asyncio.to_thread(self.repository.fail_abandoned, battle_id, closed.message)
            return None
        live = LiveBattle(battle_id, turn.number, turn.prompt, history)
        if history:
            live.emit(
                {
                    "type": "battle",
                    "battle_id": battle_id,
                    "turn": turn.number,
                    "prompt": turn.prompt,
                    "restarted": True,
                    "notice": "The server answering this battle stopped; "
                    "another one is answering it again from the start.",
                }
            )
        for answer in turn.answers:
            if answer.status is AnswerStatus.GENERATING:
                continue
            finished[answer.side] = AnswerResult(
                text=answer.text or "",
                status=answer.status,
                failure_kind=answer.failure_kind,
                failure_reason=answer.failure_reason,
            )
            if answer.text:
                live.emit({"type": "delta", "side": answer.side, "text": answer.text})
            if answer.status is AnswerStatus.FAILED:
                message = user_failure_message(answer.failure_kind)
                live.emit({"type": "failed", "side": answer.side, "message": message})
            else:
                live.emit({"type": "done", "side": answer.side})
        self._start_turn(live, plans, None, finished)
        return live

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
            # Without its texts: the identity-leak guard's verdict was stored with the battle
            # (the texts are read only where none was, see `_texts_of`); without its turns
            # unless the reveal shows their timings.
            battle = self._owned(voter, battle_id, texts=False, turns=self._reveal_timings)
            if battle.status is BattleStatus.VOTED:
                raise AlreadyVoted()
            if battle.status is BattleStatus.GENERATING:
                raise VotingNotOpen()
            if battle.status is BattleStatus.FAILED:
                raise BattleFailed()
        verdict = self._acceptance.judge(
            VoteContext(
                mode=battle.mode,
                kind=battle.kind,
                category=battle.category,
                voter=voter,
                answers_public=self._answers_public(battle),
                identity_verdict=IdentityVerdict.from_stored(battle.identity_verdict),
                contestants=self._contestants(_model_names(battle)),
                read_transcript=partial(self._texts_of, voter, battle_id),
            )
        )
        grant = self._rate_limiter.acquire(voter, self._rate_limits.for_votes(), "votes")
        try:
            with self._refusals_charged(voter), _storage_errors():
                try:
                    logged = self.repository.record_vote(
                        battle_id,
                        winner=winner,
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
        return Reveal.of(
            battle,
            winner=logged.winner,
            counted=logged.counted,
            not_counted_reason=verdict.reason,
            with_timings=self._reveal_timings,
        )

    def battle_state(self, voter: Voter, battle_id: str) -> BattleState:
        """What the user may see of a battle: blinded until the vote (anonymous mode)."""
        return BattleState.of(self._owned(voter, battle_id), with_timings=self._reveal_timings)

    async def aclose(self) -> None:
        """Stop generating (at server shutdown); unfinished battles are marked failed."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def give_reasons(
        self, voter: Voter, battle_id: str, reasons: Sequence[str], note: str | None
    ) -> StoredReasons:
        """Store why the voter preferred the side they picked (see arena/vote_reasons.py).

        Refused, and charged like a refused vote, for someone else's battle, before its vote,
        for a tie, or a second time. The vote, its log entry and the ratings do not change.
        """
        with self._refusals_charged(voter):
            given = StoredReasons(parse_reasons(reasons), clean_note(note))
            if not given.reasons and given.note is None:
                raise ReasonsEmpty()
            battle = self._owned(voter, battle_id, texts=False)
            if battle.vote is None:
                raise ReasonsBeforeVote()
            if battle.vote.winner not in (Winner.MODEL_A, Winner.MODEL_B):
                raise ReasonsWithoutAPick()
            with _storage_errors():
                try:
                    self.vote_reasons.save(battle.public_id, given.reasons, given.note)
                except ReasonsAlreadyStored:
                    raise ReasonsAlreadyGiven() from None
        return given

    def share(self, voter: Voter, battle_id: str) -> str:
        """The token of the battle's public page (arena/shared_battle.py), made now if it has
        none; refused, and charged like a refused vote, for someone else's battle or before
        the vote."""
        with self._refusals_charged(voter):
            battle = self._owned(voter, battle_id, texts=False)
            if battle.vote is None:
                raise ShareBeforeVote()
        with _storage_errors():
            return self.shares.token_for(battle.public_id)

    def shared_battle(self, token: str) -> SharedBattle:
        """The battle shared under `token`, for anybody; NotFound for any other token."""
        with _storage_errors():
            public_id = self.shares.battle_of(token) if token else None
            battle = self.repository.battle(public_id) if public_id is not None else None
            if battle is None or battle.vote is None:
                raise NotFound()
            return SharedBattle.of(battle, self.vote_reasons.of_battle(battle.public_id))

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

    def _contestants(self, names: Mapping[str, str]) -> dict[str, SideIdentity]:
        """Who each side (side -> model name) is, as the identity-leak guard knows them
        (organizations from the roster: metadata the config may correct)."""
        identities: dict[str, SideIdentity] = {}
        for side, name in names.items():
            organization = self.roster.get(name).organization if name in self.roster else None
            identities[side] = SideIdentity(name, organization)
        return identities

    def _texts_of(self, voter: Voter, battle_id: str) -> BattleTranscript:
        """What the identity-leak guard reads of a battle without a usable stored verdict:
        its texts, and who each side is."""
        battle = self._owned(voter, battle_id)
        return BattleTranscript(
            prompts=tuple(written(turn.prompt) for turn in battle.turns),
            answers={
                side: tuple(written(turn.answer(side).text) for turn in battle.turns)
                for side in battle.models
            },
            contestants=self._contestants(_model_names(battle)),
        )

    def _finish_turn(
        self,
        live: LiveBattle,
        plans: Sequence[_SidePlan],
        results: Sequence[AnswerResult],
        failure_reason: str | None,
    ) -> None:
        """Close the turn, with the battle's identity-leak verdict over all its turns (runs in
        the storage thread: the guard's patterns take a while over long answers)."""
        styles = self._conversation_styles(
            {
                plan.side: [*plan.messages, {"role": "assistant", "content": result.text}]
                for plan, result in zip(plans, results, strict=True)
            }
        )
        verdict = None
        if self._identity_guard is not None and failure_reason is None:
            # Each side's messages hold the whole conversation: every prompt, its own answers.
            prompts = [m["content"] for m in plans[0].messages if m["role"] == "user"]
            answers: dict[str, list[str]] = {
                plan.side: [
                    *(m["content"] for m in plan.messages if m["role"] == "assistant"),
                    result.text,
                ]
                for plan, result in zip(plans, results, strict=True)
            }
            contestants = self._contestants({plan.side: plan.model.name for plan in plans})
            verdict = self._identity_guard.verdict(prompts, answers, contestants).stored()
        self.repository.finish_turn(
            live.battle_id,
            failure_reason=failure_reason,
            style_a=styles.get("a"),
            style_b=styles.get("b"),
            identity_verdict=verdict,
        )

    def _answers_public(self, battle: BattleView) -> bool:
        """Whether anyone could have looked the battle's answers up: a recorded battle from a
        public set, or from a prompt no longer configured (it cannot be vouched for)."""
        if battle.kind is not BattleKind.RECORDED:
            return False
        prompt = self._recorded_by_id.get(battle.recorded_prompt_id or "")
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
        available = set(self.roster.names(BattleKind.RECORDED))
        wanted = set(request.models)
        if unknown := sorted(wanted - available):
            raise UnknownModel(unknown[0])
        needed = request.mode.models
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
    ) -> list[Contestant]:
        candidates = list(self.roster.names(request.kind))
        if recorded_prompt is not None:
            candidates = [name for name in candidates if name in recorded_prompt.models]
        if request.mode is BattleMode.ANONYMOUS:
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
        expected = request.mode.models
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

    def _model_for_version(self, name: str, version_id: int) -> Contestant:
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
        return live, self._start_turn(live, plans, storing, {})

    def _start_turn(
        self,
        live: LiveBattle,
        plans: Sequence[_SidePlan],
        storing: asyncio.Task[None] | None,
        finished: Mapping[Side, AnswerResult],
    ) -> asyncio.Task[None]:
        self._live[live.battle_id] = live
        task = self._in_background(
            self._run_turn(live, plans, storing, finished),
            f"glassarena battle {live.battle_id} turn {live.turn}",
        )
        if self._shared is not None:
            self._in_background(self._shared.publish(live), f"publish {live.battle_id}")
            holding = self._in_background(
                self._shared.hold(live, lost=partial(_stop, live, task)), f"hold {live.battle_id}"
            )
            task.add_done_callback(lambda _: holding.cancel())
        return task

    async def _run_turn(
        self,
        live: LiveBattle,
        plans: Sequence[_SidePlan],
        storing: asyncio.Task[None] | None,
        finished: Mapping[Side, AnswerResult],
    ) -> None:
        try:
            sides = [plan.side for plan in plans if plan.side not in finished]
            async with turn_stream(sides, live.emit, self._pacing) as stream:
                generated = await asyncio.gather(
                    *(
                        self._run_side(live, stream, plan, storing)
                        for plan in plans
                        if plan.side not in finished
                    )
                )
            by_side = {**finished, **dict(zip(sides, generated, strict=True))}
            results = [by_side[plan.side] for plan in plans]
            failures = [
                f"side {plan.side}: {result.failure_kind}: {result.failure_reason}"
                for plan, result in zip(plans, results, strict=True)
                if result.status is AnswerStatus.FAILED
            ]
            await asyncio.to_thread(
                self._finish_turn, live, plans, results, "; ".join(failures) or None
            )
            live.close({"type": "complete", "voting_open": not failures})
        except asyncio.CancelledError:
            if not live.superseded and await _stored(storing):
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
            except StorageError:
                # Storage is down; once it is back, the battle is failed as abandoned.
                logger.exception("battle %s could not be marked failed", live.battle_id)
        finally:
            if not live.closed:
                live.close({"type": "complete", "voting_open": False})
            if self._live.get(live.battle_id) is live:
                del self._live[live.battle_id]

    def _conversation_styles(
        self, conversations: Mapping[Side, Sequence[ChatMessage]]
    ) -> dict[Side, dict[str, Any]]:
        """Each side's style counts over its whole conversation (LMArena's conv_metadata),
        with its emoji count and sentiment when the boards control for tone."""
        styles: dict[Side, dict[str, Any]] = {}
        for side, conversation in conversations.items():
            styles[side] = side_style(conversation, side)
            if self._tone_style:
                styles[side] |= tone_columns(conversation, side)
        return styles

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
        if result.status is AnswerStatus.FAILED:
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
            if plan.kind.webdev and self.webdev_answer_finished is not None:
                self.webdev_answer_finished(live.battle_id, live.turn, plan.side, result.text)
        return stored

    def _owned(
        self, voter: Voter, battle_id: str, *, texts: bool = True, turns: bool = True
    ) -> BattleView:
        """The voter's battle; one abandoned by a dead process is failed first."""
        with _storage_errors():
            battle = (
                self.repository.battle(battle_id, texts=texts, turns=turns) if battle_id else None
            )
        # Someone else's battle looks exactly like a missing one: ids cannot be probed.
        if battle is None or not secrets.compare_digest(battle.voter_id, voter.voter_id):
            raise NotFound()
        if not self._abandoned(battle):
            return battle
        with _storage_errors():
            self.repository.fail_abandoned(battle.public_id, "generation was interrupted")
            reloaded = self.repository.battle(battle.public_id, texts=texts, turns=turns)
        assert reloaded is not None
        return reloaded

    async def _owned_battle(self, voter: Voter, battle_id: str) -> BattleView:
        return await asyncio.to_thread(self._owned, voter, battle_id)

    def _abandoned(self, battle: BattleView) -> bool:
        """Left `generating` by a process that died: failed, not open forever."""
        if battle.status is not BattleStatus.GENERATING or battle.public_id in self._live:
            return False
        deadline = timedelta(seconds=self.limits.answer_timeout_seconds) + ABANDONED_GRACE
        return datetime.now(UTC) - battle.updated_at > deadline


def _stop(live: LiveBattle, task: asyncio.Task[None]) -> None:
    """Another node took this turn over: stop generating it, failing nothing."""
    live.superseded = True
    task.cancel()


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Storage failures become a 503 for the user (nothing was acknowledged) and a log line."""
    try:
        yield
    except StorageError as error:
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


def _state_error(status: BattleStatus | None) -> ArenaError:
    """The error for a battle found, at the moment of a change, in `status`."""
    errors: dict[BattleStatus | None, ArenaError] = {
        BattleStatus.GENERATING: BattleBusy(),
        BattleStatus.VOTED: AlreadyVoted(),
        BattleStatus.FAILED: BattleFailed(),
    }
    return errors.get(status, NotFound())


_Word = TypeVar("_Word", BattleMode, BattleKind, WebdevStack)


def _parsed(vocabulary: type[_Word], value: str, field: str) -> _Word:
    try:
        return vocabulary(value)
    except ValueError:
        known = ", ".join(vocabulary)
        raise InvalidRequest(f"{field} must be one of {known}, not {value!r}.") from None


def _parse_choice(choice: Winner | str) -> Winner:
    try:
        return parse_winner(choice)
    except BattleDataError:
        labels = ", ".join(repr(winner.value) for winner in Winner)
        raise InvalidRequest(f"choice must be one of {labels}, not {choice!r}.") from None


def _instructions(kind: BattleKind, stack: WebdevStack | None) -> list[ChatMessage]:
    """What every model is told before the conversation in this kind of battle (WebDev
    battles stored before stacks existed asked for one HTML document)."""
    if kind.traits.system_prompt:
        return [{"role": "system", "content": WEBDEV_SYSTEM_PROMPTS[stack or WebdevStack.HTML]}]
    return []


def _model_names(battle: BattleView) -> dict[str, str]:
    return {side: identity.name for side, identity in battle.models.items()}


def _history(battle: BattleView, side: Side) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    for turn in battle.turns:
        messages.append({"role": "user", "content": written(turn.prompt)})
        messages.append({"role": "assistant", "content": written(turn.answer(side).text)})
    return messages


def _replayed_events(battle: BattleView) -> list[Event]:
    turn = battle.turns[-1]
    events: list[Event] = [
        {
            "type": "battle",
            "battle_id": battle.public_id,
            "turn": turn.number,
            "prompt": written(turn.prompt),
        }
    ]
    for answer in turn.answers:
        if text := written(answer.text):
            events.append({"type": "delta", "side": answer.side, "text": text})
        if answer.status is AnswerStatus.FAILED:
            message = user_failure_message(answer.failure_kind)
            events.append({"type": "failed", "side": answer.side, "message": message})
        else:
            events.append({"type": "done", "side": answer.side})
    events.append({"type": "complete", "voting_open": battle.voting_open})
    return events
