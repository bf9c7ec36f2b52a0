"""The vote log's hash chain: the canonical serialisation of an entry and its SHA-256.

An entry is a JSON object of public fields only (never a voter id, an IP hash or a prompt).
Its hash is SHA-256 over the entry's canonical bytes, and the entry carries the hash of the
entry before it (`prev_hash`; the first entry carries GENESIS_HASH), so changing, deleting,
reordering or inserting any entry changes every hash after it. docs/integrity.md documents the
serialisation so that anyone can check a published log without glassarena.

Pure: no database, no I/O. The migration that chains existing entries, the log writer and
`glassarena verify` all hash through this one module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
# A verdict entry says so in `kind`; a vote entry has no `kind` (entries logged before
# verdicts existed keep their hash).
VERDICT_KIND = "verdict"
# Fields a published line may carry besides the chained entry: its hash, and what is
# pseudonymised or opted in per export (so it cannot be part of a hash fixed at vote time).
UNCHAINED_FIELDS = frozenset({"hash", "voter", "prompts"})


def canonical_time(moment: datetime) -> str:
    """UTC, microseconds, a `Z`: `2026-11-30T02:04:36.123456Z`."""
    if moment.tzinfo is None:  # SQLite hands back naive timestamps; they were written in UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """JSON with sorted keys, no whitespace, UTF-8 (not \\u escapes), no NaN or infinities."""
    return json.dumps(
        entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the entry's canonical bytes, leaving out the unchained fields."""
    chained = {key: value for key, value in entry.items() if key not in UNCHAINED_FIELDS}
    return hashlib.sha256(canonical_bytes(chained)).hexdigest()


def chain_entry(
    *,
    position: int,
    prev_hash: str,
    battle_id: str,
    category: str,
    model_a: Mapping[str, Any],
    model_b: Mapping[str, Any] | None,
    winner: str,
    counted: bool,
    not_counted_reason: str | None,
    voted_at: datetime,
    style_a: Mapping[str, Any] | None,
    style_b: Mapping[str, Any] | None,
    prompt_categories: Mapping[str, Any] | None = None,
    webdev_stack: str | None = None,
) -> dict[str, Any]:
    """The chained entry of one vote, every field spelled once here.

    `model_a`/`model_b` are `{"name", "version", "organization"}`; style dicts are the
    battle's LMArena `conv_metadata` counts of each side (integers).
    """
    entry = {
        "position": position,
        "prev_hash": prev_hash,
        "battle_id": battle_id,
        "category": category,
        "model_a": dict(model_a),
        "model_b": dict(model_b) if model_b is not None else None,
        "winner": winner,
        "counted": counted,
        "not_counted_reason": not_counted_reason,
        "voted_at": canonical_time(voted_at),
        "style_a": dict(style_a) if style_a is not None else None,
        "style_b": dict(style_b) if style_b is not None else None,
    }
    # Only when known: entries logged before prompt categories existed keep their hash.
    if prompt_categories is not None:
        entry["prompt_categories"] = dict(prompt_categories)
    # Likewise for the stack: only WebDev entries logged since migration 0010 carry it.
    if webdev_stack is not None:
        entry["webdev_stack"] = webdev_stack
    return entry


def verdict_entry(
    *,
    position: int,
    prev_hash: str,
    vote_position: int,
    battle_id: str,
    counted: bool,
    reason: str | None,
    screening: str,
    decided_at: datetime,
) -> dict[str, Any]:
    """The chained entry of a screening verdict on the vote entry at `vote_position`:
    from this entry on, that vote counts (`counted`) or not, for `reason` (a screening
    reason code; None when a vote is counted again). `screening` names the screening
    version and thresholds that decided."""
    return {
        "kind": VERDICT_KIND,
        "position": position,
        "prev_hash": prev_hash,
        "vote_position": vote_position,
        "battle_id": battle_id,
        "counted": counted,
        "reason": reason,
        "screening": screening,
        "decided_at": canonical_time(decided_at),
    }
