"""The client address comes from X-Forwarded-For only when a listed proxy sent the request."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from glassarena.web.proxies import ClientAddressMiddleware, TrustedProxies

PROXY = "10.0.0.5"
CLIENT = "198.51.100.7"
SPOOFED = "203.0.113.99"


def _proxies(*networks: str) -> TrustedProxies:
    return TrustedProxies(ipaddress.ip_network(network) for network in networks)


async def _seen(peer: str, proxies: TrustedProxies, headers: dict[str, str]) -> dict[str, str]:
    """What the app sees as client and scheme for a request from `peer`."""

    async def echo(request: Request) -> JSONResponse:
        assert request.client is not None
        return JSONResponse({"client": request.client.host, "scheme": request.url.scheme})

    app = ClientAddressMiddleware(Starlette(routes=[Route("/", echo)]), proxies)
    transport = httpx.ASGITransport(app=app, client=(peer, 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://arena") as client:
        response = await client.get("/", headers=headers)
    return response.json()


async def test_no_proxy_listed_means_the_header_is_ignored() -> None:
    """The default: a client on loopback (the old trusted default) cannot pick its address."""
    for peer in ("127.0.0.1", "::1", CLIENT):
        seen = await _seen(
            peer, _proxies(), {"x-forwarded-for": SPOOFED, "x-forwarded-proto": "https"}
        )
        assert seen == {"client": peer, "scheme": "http"}


async def test_a_listed_proxy_gives_the_right_most_address_it_does_not_trust() -> None:
    proxies = _proxies("10.0.0.0/24")
    # nginx's $proxy_add_x_forwarded_for: whatever the client sent, then the client's address.
    seen = await _seen(
        PROXY, proxies, {"x-forwarded-for": f"{SPOOFED}, {CLIENT}", "x-forwarded-proto": "https"}
    )
    assert seen == {"client": CLIENT, "scheme": "https"}
    # Two listed proxies in a row (a load balancer, then nginx): both are skipped.
    seen = await _seen(PROXY, proxies, {"x-forwarded-for": f"{SPOOFED}, {CLIENT}, 10.0.0.9"})
    assert seen["client"] == CLIENT
    # Without the header, the proxy's own request.
    assert (await _seen(PROXY, proxies, {}))["client"] == PROXY


async def test_an_untrusted_client_spoofing_the_header_is_ignored() -> None:
    """Listing a proxy does not make the header believable from anyone else."""
    proxies = _proxies("10.0.0.0/24")
    seen = await _seen(
        CLIENT, proxies, {"x-forwarded-for": f"{PROXY}, {SPOOFED}", "x-forwarded-proto": "https"}
    )
    assert seen == {"client": CLIENT, "scheme": "http"}


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        (f"{CLIENT}", CLIENT),
        (f"[2001:db8::7]:443, {PROXY}", "2001:db8::7"),
        (f"{CLIENT}:5555", CLIENT),
        (f"{CLIENT}, not-an-address", PROXY),  # the proxy vouched for junk: believe the proxy
        (f"{SPOOFED},{CLIENT}", CLIENT),
        ("10.0.0.8, 10.0.0.9", "10.0.0.8"),  # only proxies: as far as the chain goes
    ],
)
def test_reading_the_chain(forwarded_for: str, client: str) -> None:
    assert _proxies("10.0.0.0/24").client_address(PROXY, forwarded_for) == client


def test_an_ipv4_proxy_reached_over_ipv6_mapped_addresses_is_recognised() -> None:
    proxies = _proxies("10.0.0.0/24")
    assert proxies.client_address("::ffff:10.0.0.5", CLIENT) == CLIENT


async def test_several_forwarded_for_headers_are_read_as_one_list() -> None:
    proxies = _proxies("10.0.0.0/24")
    transport_headers = [("x-forwarded-for", SPOOFED), ("x-forwarded-for", CLIENT)]

    async def echo(request: Request) -> JSONResponse:
        assert request.client is not None
        return JSONResponse({"client": request.client.host})

    app = ClientAddressMiddleware(Starlette(routes=[Route("/", echo)]), proxies)
    transport = httpx.ASGITransport(app=app, client=(PROXY, 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://arena") as client:
        response = await client.get("/", headers=transport_headers)
    assert response.json()["client"] == CLIENT
