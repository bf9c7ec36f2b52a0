"""Who is voting, without knowing who they are.

A voter is a pseudonymous id (random, kept in a signed cookie by the web layer) and a keyed
hash of their IP address. The raw address never reaches the database: the hash is an HMAC
with a server secret, so it can group votes from one address without being reversible by a
dictionary of all IPv4 addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

VOTER_ID_BYTES = 16
MAX_VOTER_ID_CHARS = 100  # the width of the voter_id columns


def new_voter_id() -> str:
    """A fresh pseudonymous voter id, for a visitor without one."""
    return secrets.token_urlsafe(VOTER_ID_BYTES)


@dataclass(frozen=True, slots=True)
class Voter:
    voter_id: str
    ip_hash: str


class IpHasher:
    """Keyed hashing of IP addresses with the server secret."""

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ValueError("the IP hashing secret must be at least 16 bytes long")
        # A key of its own: the server secret also signs cookies, and one key should never
        # serve two purposes.
        self._key = hmac.new(key, b"glassarena.ip-hash", hashlib.sha256).digest()

    def hash(self, ip: str) -> str:
        return hmac.new(self._key, _canonical_ip(ip).encode(), hashlib.sha256).hexdigest()

    def voter(self, voter_id: str, ip: str) -> Voter:
        if not voter_id or len(voter_id) > MAX_VOTER_ID_CHARS:
            raise ValueError(
                f"a voter id must have 1 to {MAX_VOTER_ID_CHARS} characters, not {len(voter_id)}"
            )
        return Voter(voter_id=voter_id, ip_hash=self.hash(ip))


def _canonical_ip(ip: str) -> str:
    """One spelling per address; IPv6 clients are grouped by their /64, which one user holds."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return str(address)
