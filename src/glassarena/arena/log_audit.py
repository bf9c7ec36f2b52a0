"""Checking a published vote log: its hash chain, and the leaderboards recomputed from it.

What `glassarena verify` runs. It needs nothing but the log file (and, to compare, the
`/leaderboard.json` bodies that were served): the chain proves the log is the one whose head
the arena showed, and replaying its votes, with the screening verdicts applied in log order,
through the refresher's own computation must give the served leaderboard byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from glassarena.arena.leaderboard_refresher import compute_snapshots
from glassarena.leaderboard import LeaderboardOptions
from glassarena.storage.battle_view import version_label
from glassarena.storage.repository import CountedVote, LogHead
from glassarena.storage.vote_chain import GENESIS_HASH, VERDICT_KIND, entry_hash

_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_MODEL_FIELDS = {"name": str, "version": int, "organization": str}
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "position": int,
    "prev_hash": str,
    "hash": str,
    "battle_id": str,
    "category": str,
    "model_a": dict,
    "model_b": (dict, type(None)),
    "winner": str,
    "counted": bool,
    "not_counted_reason": (str, type(None)),
    "voted_at": str,
    "style_a": (dict, type(None)),
    "style_b": (dict, type(None)),
}
# Fields of newer entries only: absent in entries logged before they existed.
_OPTIONAL: dict[str, type | tuple[type, ...]] = {"prompt_categories": dict, "webdev_stack": str}
_VERDICT_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "position": int,
    "prev_hash": str,
    "hash": str,
    "vote_position": int,
    "battle_id": str,
    "counted": bool,
    "reason": (str, type(None)),
    "screening": str,
    "decided_at": str,
}


class LogFormatError(ValueError):
    """A line of the log is not a well-formed entry; names the line."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}:{line}: {problem}")
        self.line = line


class ChainBrokenError(ValueError):
    """The first entry where the hash chain does not hold; names its line and position."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}:{line}: chain broken at entry {line}: {problem}")
        self.line = line


class LeaderboardMismatchError(ValueError):
    """A recomputed leaderboard differs from the one served."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    line: int
    fields: Mapping[str, Any]

    @property
    def position(self) -> int:
        value: int = self.fields["position"]
        return value

    @property
    def hash(self) -> str:
        value: str = self.fields["hash"]
        return value

    @property
    def is_verdict(self) -> bool:
        return self.fields.get("kind") == VERDICT_KIND


def read_log(lines: Iterable[str], source: str) -> list[LogEntry]:
    """Parse every line (JSON object with the documented fields and types) or fail naming it."""
    entries = []
    number = 0
    for number, text in enumerate(lines, start=1):
        if not text.endswith("\n"):
            raise LogFormatError(source, number, "truncated: the last line has no line end")
        if not text.strip():
            raise LogFormatError(source, number, "empty line")
        try:
            fields = json.loads(text)
        except json.JSONDecodeError as error:
            raise LogFormatError(source, number, f"not valid JSON ({error.msg})") from None
        if not isinstance(fields, dict):
            raise LogFormatError(source, number, "not a JSON object")
        _check_fields(fields, source, number)
        entries.append(LogEntry(number, fields))
    return entries


def _check_types(
    fields: Mapping[str, Any],
    required: Mapping[str, type | tuple[type, ...]],
    source: str,
    line: int,
) -> None:
    for name, kinds in required.items():
        if name not in fields:
            raise LogFormatError(source, line, f"missing field {name!r}")
        value = fields[name]
        # bool is an int in Python; a position or version of `true` is still wrong.
        if not isinstance(value, kinds) or (kinds is int and isinstance(value, bool)):
            raise LogFormatError(source, line, f"field {name!r} has the wrong type")


def _check_fields(fields: Mapping[str, Any], source: str, line: int) -> None:
    if "kind" in fields:
        if fields["kind"] != VERDICT_KIND:
            raise LogFormatError(source, line, f"unknown entry kind {fields['kind']!r}")
        _check_types(fields, _VERDICT_REQUIRED, source, line)
        _check_hashes(fields, source, line)
        return
    _check_types(fields, _REQUIRED, source, line)
    for name, kinds in _OPTIONAL.items():
        if name in fields and not isinstance(fields[name], kinds):
            raise LogFormatError(source, line, f"field {name!r} has the wrong type")
    _check_hashes(fields, source, line)
    for side in ("model_a", "model_b"):
        model = fields[side]
        if model is None:
            continue
        for name, kind in _MODEL_FIELDS.items():
            if not isinstance(model.get(name), kind) or isinstance(model.get(name), bool):
                raise LogFormatError(source, line, f"field {side}.{name} is missing or wrong")


def _check_hashes(fields: Mapping[str, Any], source: str, line: int) -> None:
    for name in ("prev_hash", "hash"):
        if not _HEX_HASH.fullmatch(fields[name]):
            raise LogFormatError(source, line, f"field {name!r} is not a SHA-256 hex digest")


def check_verdicts(entries: Sequence[LogEntry], source: str) -> int:
    """Every verdict names an earlier vote entry (by position and battle id) and never counts
    a vote that was not counted when accepted; returns how many verdicts there are. Run after
    `check_chain`, so positions are the line numbers."""
    verdicts = 0
    for entry in entries:
        if not entry.is_verdict:
            continue
        verdicts += 1
        target = entry.fields["vote_position"]
        if not 1 <= target < entry.position or entries[target - 1].is_verdict:
            raise LogFormatError(
                source, entry.line, f"verdict on position {target}, which is not an earlier vote"
            )
        vote = entries[target - 1].fields
        if vote["battle_id"] != entry.fields["battle_id"]:
            raise LogFormatError(
                source,
                entry.line,
                f"verdict names battle {entry.fields['battle_id']}, "
                f"but the vote at position {target} is on battle {vote['battle_id']}",
            )
        if entry.fields["counted"] and not vote["counted"]:
            raise LogFormatError(
                source,
                entry.line,
                f"verdict counts the vote at position {target}, which was not counted when "
                "it was accepted",
            )
    return verdicts


def check_chain(entries: Sequence[LogEntry], source: str) -> LogHead:
    """The head the chain ends at, or ChainBrokenError naming the first entry that breaks it."""
    previous = GENESIS_HASH
    for expected, entry in enumerate(entries, start=1):
        if entry.position != expected:
            raise ChainBrokenError(
                source,
                entry.line,
                f"position {entry.position} where {expected} was expected "
                "(an entry is missing, repeated or out of order)",
            )
        if entry.fields["prev_hash"] != previous:
            raise ChainBrokenError(
                source, entry.line, "prev_hash is not the hash of the entry before it"
            )
        if entry_hash(entry.fields) != entry.hash:
            raise ChainBrokenError(source, entry.line, "its hash does not match its contents")
        previous = entry.hash
    return LogHead(len(entries), previous)


def counted_votes(entries: Sequence[LogEntry]) -> list[CountedVote]:
    """The log's counted two-model votes, in log order, as the refresher reads them: each
    vote counts as accepted unless the latest verdict on it among `entries` says otherwise."""
    counted = {
        entry.fields["vote_position"]: entry.fields["counted"]
        for entry in entries
        if entry.is_verdict
    }
    votes = []
    for entry in entries:
        fields = entry.fields
        if entry.is_verdict:
            continue
        model_b = fields["model_b"]
        if not counted.get(entry.position, fields["counted"]) or model_b is None:
            continue
        model_a = fields["model_a"]
        votes.append(
            CountedVote(
                model_a=version_label(model_a["name"], model_a["version"]),
                model_b=version_label(model_b["name"], model_b["version"]),
                winner=fields["winner"],
                category=fields["category"],
                style_a=fields["style_a"],
                style_b=fields["style_b"],
                voted_at=datetime.fromisoformat(fields["voted_at"]),
                prompt_categories=fields.get("prompt_categories"),
                webdev_stack=fields.get("webdev_stack"),
            )
        )
    return votes


def served_json(body: Mapping[str, Any]) -> bytes:
    """A body rendered exactly as `/leaderboard.json` serves it (Starlette's JSONResponse)."""
    return json.dumps(
        body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def recompute_served(entries: Sequence[LogEntry], served: Mapping[str, Any]) -> bytes:
    """The `/leaderboard.json` body recomputed from the log, for the head `served` names.

    Taken from the served body: the wall-clock `computed_at`, and what the web layer adds
    beside the snapshot (`apps_that_run`: WebDev execution checks; `standings`: organizations
    and statuses from the config) — none of them votes. Everything else comes from the log.
    """
    position = served["watermark"]
    if not 0 <= position <= len(entries):
        raise LeaderboardMismatchError(
            f"the leaderboard was computed at log position {position}, "
            f"but the log has only {len(entries)} entries"
        )
    at_head = entries[position - 1].hash if position else GENESIS_HASH
    if at_head != served.get("log_head"):
        raise LeaderboardMismatchError(
            f"the leaderboard names head {served.get('log_head')} at position {position}, "
            f"but the log's entry {position} has hash {at_head}"
        )
    category, style_control = served["category"], served["style_control"]
    snapshots = compute_snapshots(
        counted_votes(entries[:position]),
        LogHead(position, at_head),
        [category],
        _options(served),
        served["computed_at"],
    )
    (snapshot,) = [found for found in snapshots if found.style_control == style_control]
    body = snapshot.to_dict()
    for key, value in served.items():
        body.setdefault(key, value)  # what the web layer adds beside the snapshot
    return served_json(body)


def _options(served: Mapping[str, Any]) -> LeaderboardOptions:
    """The options the served leaderboard says it used (the defaults when there is none)."""
    board = served.get("leaderboard")
    if not board or "options" not in board:
        return LeaderboardOptions()
    options = dict(board["options"])
    if options.get("anchor") is not None:
        options["anchor"] = tuple(options["anchor"])
    return replace(LeaderboardOptions(**options), style_control=False, code_style=False)


def first_difference(expected: bytes, actual: bytes) -> int:
    """The first byte offset where two renderings differ."""
    for offset, (left, right) in enumerate(zip(expected, actual, strict=False)):
        if left != right:
            return offset
    return min(len(expected), len(actual))
