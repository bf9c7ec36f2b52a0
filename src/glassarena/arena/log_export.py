"""The published vote log: one JSON line per vote, counted or not, and per screening verdict,
in chain order, as `/integrity/log.jsonl`.

Each line is the chained entry (storage/vote_chain.py) with its stored hash, plus a voter
pseudonym: an HMAC of the voter id under a key drawn fresh for each export and never kept,
so one export shows which votes came from one voter while no export can be joined to another
or to the voter's cookie. IP hashes and raw voter ids are never published; prompts only when
the deployment opts in (`integrity.publish_prompts`).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import secrets
from collections.abc import Iterator
from itertools import islice
from typing import Any

from glassarena.storage.repository import ArenaRepository
from glassarena.storage.schema import VoteLogEntry, VoteVerdict
from glassarena.storage.verdict_log import VerdictLog
from glassarena.storage.vote_chain import canonical_bytes, chain_entry, verdict_entry

PSEUDONYM_HEX_DIGITS = 16
_PROMPT_BATCH = 500


class VoterPseudonyms:
    """Voter id -> pseudonym, stable within one export only."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def __call__(self, voter_id: str) -> str:
        digest = hmac.new(self._key, voter_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return digest[:PSEUDONYM_HEX_DIGITS]


def published_entry(entry: VoteLogEntry) -> dict[str, Any]:
    """The chained fields of a stored entry, with the hash stored when it was appended."""
    model_b = (
        {
            "name": entry.model_b,
            "version": entry.model_b_version,
            "organization": entry.organization_b,
        }
        if entry.model_b is not None
        else None
    )
    chained = chain_entry(
        position=entry.position,
        prev_hash=entry.prev_hash,
        battle_id=entry.battle_public_id,
        category=entry.category,
        model_a={
            "name": entry.model_a,
            "version": entry.model_a_version,
            "organization": entry.organization_a,
        },
        model_b=model_b,
        winner=entry.winner,
        counted=entry.counted,
        not_counted_reason=entry.not_counted_reason,
        voted_at=entry.created_at,
        style_a=entry.style_a,
        style_b=entry.style_b,
        prompt_categories=entry.prompt_categories,
        webdev_stack=entry.webdev_stack,
    )
    return chained | {"hash": entry.entry_hash}


def published_verdict(entry: VoteVerdict) -> dict[str, Any]:
    """The chained fields of a stored verdict, with its stored hash (no voter: a verdict is
    about a vote, whose line names the voter's pseudonym)."""
    chained = verdict_entry(
        position=entry.position,
        prev_hash=entry.prev_hash,
        vote_position=entry.vote_position,
        battle_id=entry.battle_public_id,
        counted=entry.counted,
        reason=entry.reason,
        screening=entry.screening_version,
        decided_at=entry.created_at,
    )
    return chained | {"hash": entry.entry_hash}


def export_lines(
    repository: ArenaRepository,
    *,
    up_to: int | None = None,
    include_prompts: bool = False,
    pseudonyms: VoterPseudonyms | None = None,
) -> Iterator[bytes]:
    """The log up to `up_to` (default: the head now), one canonical JSON line (bytes) each."""
    if up_to is None:
        up_to = repository.log_head().position
    pseudonym = pseudonyms or VoterPseudonyms()
    # Votes and verdicts share one chain: both streams are in position order, so a merge
    # gives the chain's order.
    entries: Iterator[VoteLogEntry | VoteVerdict] = heapq.merge(
        repository.vote_log_entries(up_to),
        VerdictLog(repository.database).entries(up_to),
        key=lambda entry: entry.position,
    )
    while batch := list(islice(entries, _PROMPT_BATCH)):
        votes = [entry for entry in batch if isinstance(entry, VoteLogEntry)]
        prompts = (
            repository.battle_prompts([entry.battle_public_id for entry in votes])
            if include_prompts
            else {}
        )
        for entry in batch:
            if isinstance(entry, VoteVerdict):
                yield canonical_bytes(published_verdict(entry)) + b"\n"
                continue
            line = published_entry(entry) | {"voter": pseudonym(entry.voter_id)}
            if include_prompts:
                line["prompts"] = prompts.get(entry.battle_public_id, [])
            yield canonical_bytes(line) + b"\n"
