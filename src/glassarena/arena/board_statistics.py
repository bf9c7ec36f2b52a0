"""The counted votes as a live board keeps them: what every leaderboard needs, and no more.

For each board (a battle kind, or the text battles of a prompt category) the counts of
battles per ordered pair of models and verdict, from which the Bradley-Terry fit, the
win/tie/loss record and the matrices follow without touching a vote; and the votes
themselves as columns (models, verdict, boards, style counts), kept in log order, for the
style-controlled fit, which cannot aggregate.

Votes come and go by log position: `add` counts votes, `remove` un-counts them (a screening
verdict, say), and adding a removed vote again puts it back at its place in the log order,
so the statistics after any sequence of both equal those built at once from the votes that
stay counted, and so do the leaderboards (see `glassarena.leaderboard
.compute_leaderboard_from_counts`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from glassarena.arena.model_record import record_rows
from glassarena.battles.categories import category_names
from glassarena.battles.errors import BattleDataError
from glassarena.battles.record import WINNER_LABELS
from glassarena.battles.style_features import CODE_STYLE_FEATURES, STYLE_TOTALS
from glassarena.battles.table import is_missing
from glassarena.leaderboard import WINNERS, CountedBattles, StyleRows
from glassarena.storage.repository import CountedVote
from glassarena.storage.vote_columns import VoteColumns
from glassarena.vocabulary import (
    WEBDEV_CATEGORIES,
    WEBDEV_STACK_BOARDS,
    BattleKind,
    PromptCategory,
    Winner,
)

_PROMPT_CATEGORIES = frozenset(PromptCategory)
_TEXT = BattleKind.TEXT.category
_WEBDEV = BattleKind.WEBDEV.category
_WINNER_CODE = {label: WINNERS.index(winner) for label, winner in WINNER_LABELS.items()}
_A, _B = WINNERS.index(Winner.MODEL_A), WINNERS.index(Winner.MODEL_B)
# Style counts are whole numbers well below 2**24, which float32 holds exactly.
_STYLE_DTYPE = np.float32
_PLAIN_STYLE_COLUMNS = len(STYLE_TOTALS) - 2 * len(CODE_STYLE_FEATURES)
# Changes whenever what a segment holds, or how, changes: older segments are then rebuilt.
SEGMENT_FORMAT = "board-segment-1"


@dataclass(frozen=True)
class Board:
    """One board's battles as the statistics held them at one moment (copies: a fit may run
    on them while new votes are folded in)."""

    category: str
    style_control: bool
    votes: int
    record: list[dict[str, Any]]  # `model_record.model_records`
    battles: CountedBattles


class BoardStatistics:
    """Sufficient statistics of every board of `categories`, updated vote by vote."""

    def __init__(self, categories: Sequence[str]) -> None:
        self.categories = tuple(categories)
        if len(self.categories) > 32:
            raise ValueError("at most 32 boards")
        self._models: list[str] = []
        self._code: dict[str, int] = {}
        self._size = 0
        self._position = np.empty(0, dtype=np.int64)
        self._model_a = np.empty(0, dtype=np.int32)
        self._model_b = np.empty(0, dtype=np.int32)
        self._winner = np.empty(0, dtype=np.int8)
        self._boards = np.empty(0, dtype=np.uint32)
        self._counted = np.empty(0, dtype=bool)
        self._style = np.empty((0, len(STYLE_TOTALS)), dtype=_STYLE_DTYPE)
        self._counts = np.zeros((len(self.categories), 0, 0, len(WINNERS)), dtype=np.int64)
        # Votes counted again or un-counted since the last `segment`, by log position.
        self._changes: dict[int, bool] = {}

    @classmethod
    def from_votes(cls, votes: Sequence[CountedVote], categories: Sequence[str]) -> BoardStatistics:
        """The statistics of these votes, taken to be in log order (as `glassarena verify`
        reads them from a published log)."""
        statistics = cls(categories)
        if votes:
            statistics.add(vote_columns(votes))
        return statistics

    # -- updates -------------------------------------------------------------------------

    def add(self, votes: VoteColumns) -> None:
        """Count these votes. A vote already counted at the same log position is an error;
        one that was removed counts again, at its place in the log order."""
        if len(votes) == 0:
            return
        order = np.argsort(votes.position, kind="stable")
        position = votes.position[order]
        if len(np.unique(position)) < len(position):
            raise ValueError("the same log position twice in one batch of votes")
        model_a = self._model_codes(votes.model_a[order])
        model_b = self._model_codes(votes.model_b[order])
        winner = _winner_codes(votes.winner[order])
        boards = self._board_bits(
            votes.category[order], votes.prompt_categories[order], votes.webdev_stack[order]
        )
        style = votes.style[order].astype(_STYLE_DTYPE)

        known = self._position[: self._size]
        slot = np.searchsorted(known, position)
        present = slot < self._size
        present[present] = known[slot[present]] == position[present]
        if self._counted[slot[present]].any():
            again = position[present][self._counted[slot[present]]]
            raise ValueError(f"the vote at log position {int(again[0])} is already counted")
        # Removed votes come back in place; only votes never seen take new rows.
        back = slot[present]
        self._counted[back] = True
        self._changes.update(dict.fromkeys(position[present].tolist(), True))
        self._tally(model_a[present], model_b[present], winner[present], boards[present], 1)
        new = ~present
        if new.any():
            self._tally(model_a[new], model_b[new], winner[new], boards[new], 1)
            self._insert(
                position[new], model_a[new], model_b[new], winner[new], boards[new], style[new]
            )

    def remove(self, positions: ArrayLike) -> int:
        """Un-count the votes at these log positions; returns how many were counted.

        Positions that hold no counted vote are left alone, so a verdict can be replayed.
        """
        wanted = np.unique(np.asarray(positions, dtype=np.int64))
        known = self._position[: self._size]
        slot = np.searchsorted(known, wanted)
        inside = slot < self._size
        slot = slot[inside][known[slot[inside]] == wanted[inside]]
        slot = slot[self._counted[slot]]
        self._counted[slot] = False
        self._changes.update(dict.fromkeys(self._position[slot].tolist(), False))
        self._tally(
            self._model_a[slot], self._model_b[slot], self._winner[slot], self._boards[slot], -1
        )
        return len(slot)

    def _insert(
        self,
        position: NDArray[np.int64],
        model_a: NDArray[np.int32],
        model_b: NDArray[np.int32],
        winner: NDArray[np.int8],
        boards: NDArray[np.uint32],
        style: NDArray[np.float32],
    ) -> None:
        size, extra = self._size, len(position)
        if size == 0 or position[0] > self._position[size - 1]:
            # The usual case: new log entries, after everything held. Amortised growth.
            if size + extra > len(self._position):
                self._grow(max(size + extra, size + size // 4))
            new = slice(size, size + extra)
            self._position[new] = position
            self._model_a[new] = model_a
            self._model_b[new] = model_b
            self._winner[new] = winner
            self._boards[new] = boards
            self._counted[new] = True
            self._style[new] = style
        else:
            # A vote counted late (after screening): rare, so a rebuild in order is fine.
            at = np.searchsorted(self._position[:size], position)
            self._position = np.insert(self._position[:size], at, position)
            self._model_a = np.insert(self._model_a[:size], at, model_a)
            self._model_b = np.insert(self._model_b[:size], at, model_b)
            self._winner = np.insert(self._winner[:size], at, winner)
            self._boards = np.insert(self._boards[:size], at, boards)
            self._counted = np.insert(self._counted[:size], at, True)
            self._style = np.insert(self._style[:size], at, style, axis=0)
        self._size = size + extra

    def reserve(self, votes: int) -> None:
        """Make room for this many votes at once (a cold start knows the log's length), and
        for a quarter more, as growth would: neither filling the arrays nor the votes that
        follow a start hold two copies of them. Room not yet written takes no memory (its
        pages stay the system's until touched)."""
        if votes > len(self._position):
            self._grow(votes + votes // 4)

    def _grow(self, capacity: int) -> None:
        def grown(array: NDArray[Any]) -> NDArray[Any]:
            bigger = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
            bigger[: self._size] = array[: self._size]
            return bigger

        self._position = grown(self._position)
        self._model_a = grown(self._model_a)
        self._model_b = grown(self._model_b)
        self._winner = grown(self._winner)
        self._boards = grown(self._boards)
        self._counted = grown(self._counted)
        self._style = grown(self._style)

    def _tally(
        self,
        model_a: NDArray[np.int32],
        model_b: NDArray[np.int32],
        winner: NDArray[np.int8],
        boards: NDArray[np.uint32],
        sign: int,
    ) -> None:
        if len(winner) == 0:
            return
        m, w = len(self._models), len(WINNERS)
        cell = (model_a.astype(np.int64) * m + model_b) * w + winner
        for board in range(len(self.categories)):
            on = (boards >> np.uint32(board)) & np.uint32(1) == 1
            if on.any():
                added = np.bincount(cell[on], minlength=m * m * w).reshape(m, m, w)
                self._counts[board] += sign * added

    def _model_codes(self, labels: NDArray[np.object_]) -> NDArray[np.int32]:
        codes, uniques = pd.factorize(labels)
        mapped = np.array([self._model(str(label)) for label in uniques], dtype=np.int32)
        return mapped[codes]

    def _model(self, label: str) -> int:
        code = self._code.get(label)
        if code is None:
            code = self._code[label] = len(self._models)
            self._models.append(label)
            grown = np.zeros((len(self.categories), code + 1, code + 1, len(WINNERS)), np.int64)
            grown[:, :code, :code] = self._counts
            self._counts = grown
        return code

    def _board_bits(
        self,
        category: NDArray[np.object_],
        tags: NDArray[np.object_],
        stacks: NDArray[np.object_],
    ) -> NDArray[np.uint32]:
        """Which boards each vote is on, as bits in `categories` order."""
        stack_codes, stack_names = pd.factorize(stacks)  # None becomes code -1
        stack_bits = np.array(
            [*(self._stack_bits(str(stack)) for stack in stack_names), 0], dtype=np.uint32
        )
        kind_codes, kinds = pd.factorize(category)
        tag_codes, texts = pd.factorize(tags)  # None becomes code -1
        kind_bits = np.array([self._kind_bits(str(kind)) for kind in kinds], dtype=np.uint32)
        tag_bits = np.array(
            [*(_prompt_bits(self.categories, str(text)) for text in texts), 0], dtype=np.uint32
        )
        is_text = np.array([kind == _TEXT for kind in kinds], dtype=bool)
        is_webdev = np.array([kind == _WEBDEV for kind in kinds], dtype=bool)
        bits: NDArray[np.uint32] = (
            kind_bits[kind_codes]
            | np.where(is_text[kind_codes], tag_bits[tag_codes], np.uint32(0))
            | np.where(is_webdev[kind_codes], stack_bits[stack_codes], np.uint32(0))
        )
        return bits

    def _stack_bits(self, stack: str) -> int:
        """The board of the WebDev battles asked in this stack."""
        bits = 0
        for board, category in enumerate(self.categories):
            if WEBDEV_STACK_BOARDS.get(category) == stack:
                bits |= 1 << board
        return bits

    def _kind_bits(self, kind: str) -> int:
        """The board of the votes' battle kind (prompt category boards go by their tags)."""
        bits = 0
        for board, category in enumerate(self.categories):
            if category == kind and category not in _PROMPT_CATEGORIES:
                bits |= 1 << board
        return bits

    # -- segments: the statistics stored for a fast restart --------------------------------

    @property
    def layout(self) -> str:
        """What a segment's payload depends on: a segment of another layout is not used."""
        return f"{SEGMENT_FORMAT}:{','.join(self.categories)}"

    def segment(self, after: int, up_to: int) -> bytes:
        """The votes held at log positions after+1..`up_to` (counted or un-counted), and
        every vote of an earlier segment counted again or un-counted since the last one, as
        a binary payload for `load_segment`."""
        size = self._size
        rows = slice(*np.searchsorted(self._position[:size], [after + 1, up_to + 1]))
        codes, local = np.unique(
            np.concatenate([self._model_a[rows], self._model_b[rows]]), return_inverse=True
        )
        half = len(local) // 2
        changes = {at: counted for at, counted in self._changes.items() if at <= after}
        self._changes = {at: counted for at, counted in self._changes.items() if at > up_to}
        buffer = io.BytesIO()
        np.savez(
            buffer,
            labels=np.array([self._models[code] for code in codes], dtype=str),
            position=self._position[rows],
            model_a=local[:half].astype(np.uint16),
            model_b=local[half:].astype(np.uint16),
            winner=self._winner[rows],
            boards=self._boards[rows],
            counted=self._counted[rows],
            style=self._style[rows],
            changed=np.array(list(changes), dtype=np.int64),
            changed_to=np.array(list(changes.values()), dtype=bool),
        )
        return buffer.getvalue()

    def load_segment(self, payload: bytes) -> None:
        """Add a segment written by `segment` (segments in log order, before any vote)."""
        with np.load(io.BytesIO(payload)) as stored:
            labels = np.array([self._model(str(label)) for label in stored["labels"]], np.int32)
            position = stored["position"]
            model_a, model_b = labels[stored["model_a"]], labels[stored["model_b"]]
            winner, boards, counted = stored["winner"], stored["boards"], stored["counted"]
            if len(position) and self._size and position[0] <= self._position[self._size - 1]:
                raise ValueError("segments must be loaded in log order")
            self._insert(position, model_a, model_b, winner, boards, stored["style"])
            self._counted[self._size - len(position) : self._size] = counted
            self._tally(model_a[counted], model_b[counted], winner[counted], boards[counted], 1)
            self._set_counted(stored["changed"], stored["changed_to"])

    def set_counted(self, positions: Sequence[int], counted: Sequence[bool]) -> None:
        """Screening verdicts in log order: each vote held at `positions` counts, or not, as
        the latest verdict on it says. Idempotent, so a verdict already reflected in a stored
        segment can be applied again."""
        latest = dict(zip(positions, counted, strict=True))
        wanted = np.array(sorted(latest), dtype=np.int64)
        states = np.array([latest[int(position)] for position in wanted], dtype=bool)
        before = self._counted[: self._size].copy()
        self._set_counted(wanted, states)
        turned = np.flatnonzero(before != self._counted[: self._size])
        self._changes.update(
            dict(
                zip(
                    self._position[turned].tolist(),
                    self._counted[turned].tolist(),
                    strict=True,
                )
            )
        )

    def _set_counted(self, positions: NDArray[np.int64], counted: NDArray[np.bool_]) -> None:
        known = self._position[: self._size]
        slot = np.searchsorted(known, positions)
        inside = slot < self._size
        inside[inside] = known[slot[inside]] == positions[inside]
        slot, counted = slot[inside], counted[inside]
        turned = slot[self._counted[slot] != counted]
        on = turned[~self._counted[turned]]
        off = turned[self._counted[turned]]
        for rows, sign in ((on, 1), (off, -1)):
            self._tally(
                self._model_a[rows],
                self._model_b[rows],
                self._winner[rows],
                self._boards[rows],
                sign,
            )
        self._counted[on] = True
        self._counted[off] = False

    # -- reading -------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Votes held, counted or not (a removed vote keeps its row for a later re-count)."""
        return self._size

    def votes(self, category: str) -> int:
        return int(self._counts[self._board(category)].sum())

    def records(self, category: str) -> list[dict[str, Any]]:
        """`model_record.model_records` of the board's battles."""
        counts = self._counts[self._board(category)]
        tied = counts[..., 2:].sum(axis=2)
        wins = counts[:, :, _A].sum(axis=1) + counts[:, :, _B].sum(axis=0)
        losses = counts[:, :, _B].sum(axis=1) + counts[:, :, _A].sum(axis=0)
        ties = tied.sum(axis=1) + tied.sum(axis=0)
        return record_rows(
            {
                self._models[index]: (int(wins[index]), int(ties[index]), int(losses[index]))
                for index in np.flatnonzero(wins + ties + losses)
            }
        )

    def battles(self, category: str, style: bool) -> CountedBattles:
        """The board's battles for `compute_leaderboard_from_counts`; with `style`, also
        the style rows (in log order) that style control fits."""
        board = self._board(category)
        counts = self._counts[board]
        held = np.flatnonzero(counts.sum(axis=(1, 2)) + counts.sum(axis=(0, 2)))
        names = [self._models[index] for index in held]
        order = sorted(range(len(names)), key=names.__getitem__)
        chosen = held[order]
        rows = None
        if style:
            size = self._size
            on = self._counted[:size] & ((self._boards[:size] >> np.uint32(board)) & 1 == 1)
            code_style = category in WEBDEV_CATEGORIES
            width = len(STYLE_TOTALS) if code_style else _PLAIN_STYLE_COLUMNS
            renumber = np.full(len(self._models), -1, dtype=np.int32)
            renumber[chosen] = np.arange(len(chosen))
            if on.all():
                # Every vote held is on the board (a text-only arena's text board): its
                # rows are the held ones, and held style rows never change (new votes take
                # rows after them, growth and late ones build new arrays), so a read-only
                # view of them is as good a snapshot as a copy, and costs no memory.
                totals = self._style[:size, :width]
                totals.flags.writeable = False
                index: slice | NDArray[np.intp] = slice(0, size)
            else:
                index = np.flatnonzero(on)
                totals = self._style[index, :width]
            rows = StyleRows(
                model_a=renumber[self._model_a[index]],
                model_b=renumber[self._model_b[index]],
                winner=self._winner[index],
                totals=totals,
            )
        return CountedBattles(
            models=[names[i] for i in order],
            counts=counts[np.ix_(chosen, chosen)],
            style=rows,
        )

    def board(self, category: str, style_control: bool) -> Board:
        return Board(
            category=category,
            style_control=style_control,
            votes=self.votes(category),
            record=self.records(category),
            battles=self.battles(category, style_control),
        )

    def _board(self, category: str) -> int:
        return self.categories.index(category)


@cache
def _prompt_bits(categories: tuple[str, ...], text: str) -> int:
    """The prompt category boards a battle's `category_tag` (JSON text) puts it on."""
    names = category_names(json.loads(text))
    bits = 0
    for board, category in enumerate(categories):
        if category in _PROMPT_CATEGORIES and category in names:
            bits |= 1 << board
    return bits


def _winner_codes(labels: NDArray[np.object_]) -> NDArray[np.int8]:
    codes, uniques = pd.factorize(labels)
    unknown = [label for label in uniques if label not in _WINNER_CODE]
    if unknown:
        raise BattleDataError(f"unknown winner label {unknown[0]!r} in the vote log")
    mapped = np.array([_WINNER_CODE[label] for label in uniques], dtype=np.int8)
    return mapped[codes]


def vote_columns(votes: Sequence[CountedVote]) -> VoteColumns:
    """Votes (in log order) as the columns the database read gives, numbered 1, 2, ..."""

    def total(value: Any) -> float:
        if isinstance(value, Mapping):
            return float(sum(count or 0 for count in value.values()))
        return np.nan if is_missing(value) else float(value)

    def style(vote: CountedVote) -> list[float]:
        merged = {**(vote.style_a or {}), **(vote.style_b or {})}
        return [total(merged.get(name)) for name in STYLE_TOTALS]

    return VoteColumns(
        position=np.arange(1, len(votes) + 1, dtype=np.int64),
        model_a=np.array([vote.model_a for vote in votes], dtype=object),
        model_b=np.array([vote.model_b for vote in votes], dtype=object),
        winner=np.array([vote.winner for vote in votes], dtype=object),
        category=np.array([vote.category for vote in votes], dtype=object),
        prompt_categories=np.array(
            [
                None if vote.prompt_categories is None else json.dumps(vote.prompt_categories)
                for vote in votes
            ],
            dtype=object,
        ),
        webdev_stack=np.array([vote.webdev_stack for vote in votes], dtype=object),
        style=np.array([style(vote) for vote in votes], dtype=np.float64).reshape(
            len(votes), len(STYLE_TOTALS)
        ),
    )
