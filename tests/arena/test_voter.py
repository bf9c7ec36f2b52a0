"""Voter identity: a keyed, irreversible hash of the IP; never the address itself."""

from __future__ import annotations

import pytest

from glassarena.arena.voter import IpHasher, new_voter_id

KEY = "k" * 32


def test_the_hash_is_keyed_stable_and_hides_the_address() -> None:
    hasher = IpHasher(KEY)
    digest = hasher.hash("192.0.2.10")
    assert digest == hasher.hash(" 192.0.2.10 ")
    assert len(digest) == 64 and "192" not in digest
    assert digest != IpHasher("z" * 32).hash("192.0.2.10")
    assert digest != hasher.hash("192.0.2.11")


def test_ipv6_clients_are_grouped_by_their_56_prefix_by_default() -> None:
    hasher = IpHasher(KEY)
    assert hasher.hash("2001:db8:1:2::1") == hasher.hash("2001:db8:1:2:ffff::9")
    # The attack: a home connection holds a /56, 256 /64s. Grouped by /64 (as before), 35
    # of its /64s were 35 addresses with 35 quotas; grouped by /56 they are one.
    home = {hasher.hash(f"2001:db8:1:{subnet:x}::1") for subnet in range(0x200, 0x223)}
    assert len(home) == 1
    assert IpHasher(KEY, ipv6_prefix=64).hash("2001:db8:1:200::1") != IpHasher(
        KEY, ipv6_prefix=64
    ).hash("2001:db8:1:201::1")
    assert hasher.hash("2001:db8:1:200::1") != hasher.hash("2001:db8:1:300::1")  # next /56
    assert hasher.hash("::ffff:192.0.2.10") == hasher.hash("192.0.2.10")


def test_the_ipv6_prefix_is_configurable() -> None:
    by_48 = IpHasher(KEY, ipv6_prefix=48)
    assert by_48.hash("2001:db8:1:200::1") == by_48.hash("2001:db8:1:ff00::1")
    assert by_48.hash("2001:db8:1::1") != by_48.hash("2001:db8:2::1")
    with pytest.raises(ValueError, match="1 to 128, not 0"):
        IpHasher(KEY, ipv6_prefix=0)


def test_short_secrets_and_empty_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        IpHasher("short")
    with pytest.raises(ValueError, match="1 to 100 characters, not 0"):
        IpHasher(KEY).voter("", "192.0.2.10")
    with pytest.raises(ValueError, match="not 101"):
        IpHasher(KEY).voter("x" * 101, "192.0.2.10")


def test_new_voter_ids_are_random() -> None:
    ids = {new_voter_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(voter_id) >= 20 for voter_id in ids)
