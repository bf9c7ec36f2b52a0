"""Who is voting, without knowing who they are.

A voter is a pseudonymous id (random, kept in a signed cookie by the web layer) and a keyed
hash of their IP address. The raw address never reaches the database: the hash is an HMAC
with a server secret, so it can group votes from one address without being reversible by a
dictionary of all IPv4 addresses.

IPv6 clients are grouped by a prefix (default /56): one home connection is usually given a
/56 or a /48, so grouping by /64 would hand one household 256 (or 65,536) separate quotas.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

VOTER_ID_BYTES = 16
DEFAULT_IPV6_PREFIX = 56
MAX_VOTER_ID_CHARS = 100  # the width of the voter_id columns
# Client addresses already hashed, to their hashes: every request hashes its client, and
# OpenSSL's one-shot HMAC lets go of the GIL, so under load the event loop then waited for
# the vote threads to hand it back (a fifth of the loop's samples under vote load, py-spy).
# Emptied when full.
MOST_HASHES_KEPT = 50_000


def new_voter_id() -> str:
    """A fresh pseudonymous voter id, for a visitor without one."""
    return secrets.token_urlsafe(VOTER_ID_BYTES)


@dataclass(frozen=True, slots=True)
class Voter:
    voter_id: str
    ip_hash: str


class IpHasher:
    """Keyed hashing of IP addresses with the server secret."""

    def __init__(self, secret: str | bytes, ipv6_prefix: int = DEFAULT_IPV6_PREFIX) -> None:
        if not 1 <= ipv6_prefix <= 128:
            raise ValueError(f"the IPv6 prefix length must be 1 to 128, not {ipv6_prefix}")
        self._ipv6_prefix = ipv6_prefix
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ValueError("the IP hashing secret must be at least 16 bytes long")
        # A key of its own: the server secret also signs cookies, and one key should never
        # serve two purposes.
        self._key = hmac.new(key, b"glassarena.ip-hash", hashlib.sha256).digest()
        self._hashes: dict[str, str] = {}

    def hash(self, ip: str) -> str:
        if (known := self._hashes.get(ip)) is not None:
            return known
        canonical = _canonical_ip(ip, self._ipv6_prefix).encode()
        hashed = hmac.new(self._key, canonical, hashlib.sha256).hexdigest()
        if len(self._hashes) >= MOST_HASHES_KEPT:
            self._hashes.clear()
        self._hashes[ip] = hashed
        return hashed

    def voter(self, voter_id: str, ip: str) -> Voter:
        if not voter_id or len(voter_id) > MAX_VOTER_ID_CHARS:
            raise ValueError(
                f"a voter id must have 1 to {MAX_VOTER_ID_CHARS} characters, not {len(voter_id)}"
            )
        return Voter(voter_id=voter_id, ip_hash=self.hash(ip))


def _canonical_ip(ip: str, ipv6_prefix: int) -> str:
    """One spelling per address; IPv6 clients are grouped by their `ipv6_prefix` network."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{ipv6_prefix}", strict=False).network_address)
    return str(address)
