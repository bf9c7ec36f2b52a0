"""The client's address, taken from a proxy's `X-Forwarded-For` only when a listed proxy sent it.

Rate limits and daily caps are kept per client address, so whoever can choose the address
can have as many quotas as they like. By default no forwarding header is believed: the
address is the peer of the TCP connection. When the server runs behind proxies, their
addresses (or networks) are listed in the `forwarded_allow_ips` setting; a request whose peer
is one of them gets its client address from `X-Forwarded-For`, read from the right: each proxy
appends the address it received the request from, so the right-most address that is not a
listed proxy is the first one no listed proxy could have been lied to about. Everything left
of it was written by the client and is ignored.

Written as plain ASGI, so it works under any server (uvicorn's own proxy handling is off in
`glassarena serve`, and would otherwise trust loopback by default).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The proxies whose forwarding headers are believed."""

    def __init__(self, networks: Iterable[IpNetwork]) -> None:
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: IpAddress | None) -> bool:
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def client_address(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address for a request from `peer` carrying `forwarded_for` (the
        X-Forwarded-For values joined by commas, or None)."""
        vouching = _parse_address(peer)
        if forwarded_for is None or not self.trusts(vouching):
            return peer
        client = peer
        for hop in reversed(forwarded_for.split(",")):
            address = _parse_address(hop)
            if address is None:
                # A listed proxy passed on something that is not an address: believe the
                # proxy, not the text.
                return client
            client = str(address)
            if not self.trusts(address):
                return client
        # Every hop is a listed proxy: the left-most is as far as the chain can be followed.
        return client


def _parse_address(text: str) -> IpAddress | None:
    """An address as proxies write it: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443`,
    `192.0.2.1:443`; None for anything else."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class ClientAddressMiddleware:
    """Sets the ASGI `client` (and, from `X-Forwarded-Proto`, the `scheme`) from a listed
    proxy's headers; leaves both alone for everyone else."""

    def __init__(self, app: ASGIApp, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and self.proxies and client:
            peer, port = client
            if self.proxies.trusts(_parse_address(peer)):
                forwarded_for = _joined(scope, b"x-forwarded-for")
                scope = dict(scope)
                scope["client"] = (self.proxies.client_address(peer, forwarded_for), port)
                proto = (_joined(scope, b"x-forwarded-proto") or "").split(",")[-1].strip()
                if proto.lower() in ("http", "https"):
                    secure = proto.lower() == "https"
                    if scope["type"] == "websocket":
                        scope["scheme"] = "wss" if secure else "ws"
                    else:
                        scope["scheme"] = "https" if secure else "http"
        await self.app(scope, receive, send)


def _joined(scope: Scope, name: bytes) -> str | None:
    """All values of one header, in order, joined by commas (None when absent)."""
    values = [value.decode("latin-1") for key, value in scope["headers"] if key == name]
    return ",".join(values) if values else None
