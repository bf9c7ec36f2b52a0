"""The sandbox policy, the app document route and the embedding attributes."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from glassarena.webdev.sandbox import (
    MemoryAppStore,
    SandboxPolicy,
    iframe_attributes,
    new_app_token,
    preview_origins_for_serving,
    sandbox_app,
    sandbox_policy_from_environment,
)


def client_for(store: MemoryAppStore, policy: SandboxPolicy | None = None) -> TestClient:
    active = policy or SandboxPolicy()
    return TestClient(Starlette(routes=[Mount(active.path_prefix, sandbox_app(store, active))]))


def test_default_policy_contains_the_app() -> None:
    csp = SandboxPolicy().content_security_policy()
    directives = dict(part.split(" ", 1) for part in csp.split("; "))
    assert directives["sandbox"] == "allow-scripts allow-forms"
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'unsafe-inline' 'unsafe-eval' blob:"
    assert directives["connect-src"] == "'none'"
    assert directives["form-action"] == "'none'"
    assert directives["frame-src"] == "'none'"
    assert directives["worker-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["img-src"] == "data: blob:"
    assert "allow-same-origin" not in csp and "allow-top-navigation" not in csp


def test_opt_ins_and_cdns_widen_only_what_they_name() -> None:
    policy = SandboxPolicy(
        allowed_cdns=("https://cdn.jsdelivr.net",), allow_popups=True, allow_modals=True
    )
    csp = policy.content_security_policy()
    assert "sandbox allow-scripts allow-forms allow-popups allow-modals;" in csp
    assert "script-src 'unsafe-inline' 'unsafe-eval' blob: https://cdn.jsdelivr.net;" in csp
    assert "style-src 'unsafe-inline' https://cdn.jsdelivr.net;" in csp
    assert "connect-src 'none'" in csp


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("allowed_cdns", ("*",), "allowed_cdns: '\\*' is not an https origin"),
        ("allowed_cdns", ("http://cdn.example.com",), "is not an https origin"),
        ("allowed_cdns", ("https://cdn.example.com/path",), "is not an https origin"),
        ("allowed_cdns", ("https://a.com 'unsafe-eval'",), "is not an https origin"),
        ("origins", ("previews.example.org",), "origins: 'previews.example.org' is not an origin"),
        ("path_prefix", "sandbox/", "must start with '/'"),
    ],
)
def test_bad_policies_are_refused_naming_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SandboxPolicy(**{field: value})  # type: ignore[arg-type]


def test_app_documents_are_served_with_the_sandbox_headers() -> None:
    store = MemoryAppStore()
    token = store.put_app("<!DOCTYPE html><h1>app</h1><script>1</script>")
    response = client_for(store).get(f"/sandbox/{token}")
    assert response.status_code == 200
    assert response.text == "<!DOCTYPE html><h1>app</h1><script>1</script>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == SandboxPolicy().content_security_policy()
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "camera=()" in response.headers["permissions-policy"]


@pytest.mark.parametrize(
    "token", ["unknown" + "x" * 30, "short", "bad.token!with*chars-000000000", "a" * 200]
)
def test_unknown_or_malformed_tokens_are_not_found_and_still_sandboxed(token: str) -> None:
    response = client_for(MemoryAppStore()).get(f"/sandbox/{token}")
    assert response.status_code == 404
    assert response.headers["content-security-policy"].startswith("sandbox allow-scripts")


def test_tokens_are_random_and_unrelated_to_the_content() -> None:
    store = MemoryAppStore()
    tokens = {store.put_app("<p>same</p>") for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(token) == 43 for token in tokens)
    assert len({new_app_token() for _ in range(100)}) == 100


def test_the_memory_store_drops_the_oldest_beyond_capacity() -> None:
    store = MemoryAppStore(capacity=2)
    first = store.put_app("1")
    store.put_app("2")
    store.put_app("3")
    client = client_for(store)
    assert client.get(f"/sandbox/{first}").status_code == 404
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        MemoryAppStore(capacity=0)


def test_iframe_attributes_embed_the_app_sandboxed_without_referrer() -> None:
    policy = SandboxPolicy(origins=("https://a.previews.net", "https://b.apps.org"))
    a = iframe_attributes(policy, "tok-a", "App A", 0)
    b = iframe_attributes(policy, "tok-b", "App B", 1)
    assert a["src"] == "https://a.previews.net/sandbox/tok-a"
    assert b["src"] == "https://b.apps.org/sandbox/tok-b"
    assert a["sandbox"] == "allow-scripts allow-forms"
    assert a["referrerpolicy"] == "no-referrer"
    assert a["allow"] == ""
    assert policy.frame_sources() == "https://a.previews.net https://b.apps.org"
    assert SandboxPolicy().frame_sources() == "'self'"
    assert iframe_attributes(SandboxPolicy(), "t", "App A")["src"] == "/sandbox/t"


def test_policy_from_the_environment() -> None:
    policy = sandbox_policy_from_environment(
        {
            "GLASSARENA_PREVIEW_ORIGINS": "https://a.previews.net/, https://b.apps.org",
            "GLASSARENA_SANDBOX_CDNS": "https://cdn.jsdelivr.net",
        }
    )
    assert policy.origins == ("https://a.previews.net", "https://b.apps.org")
    assert policy.allowed_cdns == ("https://cdn.jsdelivr.net",)
    assert sandbox_policy_from_environment({}) == SandboxPolicy()
    with pytest.raises(ValueError, match="GLASSARENA_PREVIEW_ORIGINS"):
        sandbox_policy_from_environment({"GLASSARENA_PREVIEW_ORIGINS": "not an origin"})


def test_two_preview_sites_are_told_apart_by_host_name() -> None:
    def separate(*origins: str) -> bool:
        return SandboxPolicy(origins=origins).sides_on_separate_sites

    assert separate("http://127.0.0.1:8000", "http://localhost:8000")
    assert separate("https://a.previews.net", "https://b.apps.org")
    assert separate("https://a.previews.net", "https://b.previews.net")
    assert not separate("https://a.previews.net", "http://A.previews.net:8443")
    assert not separate("http://localhost:8000", "http://localhost:9000")
    assert not separate("https://a.previews.net")
    assert not SandboxPolicy().sides_on_separate_sites


def test_serving_on_loopback_gives_each_side_a_site_of_its_own() -> None:
    origins, note = preview_origins_for_serving("127.0.0.1", 8000, {})
    assert origins == "http://127.0.0.1:8000,http://localhost:8000"
    assert sandbox_policy_from_environment({"GLASSARENA_PREVIEW_ORIGINS": origins}).origins == (
        "http://127.0.0.1:8000",
        "http://localhost:8000",
    )
    assert "side A on http://127.0.0.1:8000, side B on http://localhost:8000" in note
    assert preview_origins_for_serving("localhost", 8001, {})[0] == (
        "http://127.0.0.1:8001,http://localhost:8001"
    )


def test_configured_sites_are_kept_and_one_site_gets_a_warning() -> None:
    two = {"GLASSARENA_PREVIEW_ORIGINS": "https://a.previews.net,https://b.apps.org"}
    origins, note = preview_origins_for_serving("0.0.0.0", 8000, two)
    assert origins is None and not note.startswith("warning")
    for host, environ in (
        ("0.0.0.0", {}),
        ("arena.example.org", {}),
        ("127.0.0.1", {"GLASSARENA_PREVIEW_ORIGINS": "https://a.x.net,https://a.x.net:8443"}),
    ):
        origins, note = preview_origins_for_serving(host, 8000, environ)
        assert origins is None
        assert note.startswith("warning: WebDev previews of both sides share one site")
        assert "GLASSARENA_PREVIEW_ORIGINS=https://" in note
        assert "docs/webdev-isolation.md" in note
