"""Each stack's CSP, the runtime route, the stored stack, the installer, and in Chromium: a
Python app may fetch Pyodide's own files and nothing else (docs/webdev-runtimes.md)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from glassarena.vocabulary import WebdevStack
from glassarena.webdev.checker import AppChecker, CheckerSettings
from glassarena.webdev.harness import build_document, content_security_policy
from glassarena.webdev.project import AppProject
from glassarena.webdev.runtimes import (
    RUNTIMES,
    IntegrityError,
    Runtime,
    RuntimeFiles,
    install,
    runtimes_for,
)
from glassarena.webdev.sandbox import (
    MemoryAppStore,
    SandboxPolicy,
    pack_document,
    sandbox_app,
    unpack_document,
)

ORIGIN = "https://a.previews.example.org"
BASE = f"{ORIGIN}/sandbox/runtimes"


def directives(csp: str) -> dict[str, str]:
    return dict(part.split(" ", 1) for part in csp.split("; "))


def folder(name: str) -> str:
    return f"{BASE}/{RUNTIMES[name].key}/"


def test_each_stack_allows_exactly_its_runtimes_from_the_arena() -> None:
    react = directives(content_security_policy(WebdevStack.REACT, ORIGIN))
    assert react["script-src"] == " ".join(
        ["'unsafe-inline'", *(folder(name) for name in ("react", "react-dom", "babel", "tailwind"))]
    )
    assert react["connect-src"] == "'none'"
    vue = directives(content_security_policy(WebdevStack.VUE, ORIGIN))
    assert vue["script-src"] == " ".join(
        ["'unsafe-inline'", "'unsafe-eval'"]
        + [folder(name) for name in ("vue", "vue-sfc-loader", "tailwind")]
    )
    assert vue["connect-src"] == "'none'"
    python = directives(content_security_policy(WebdevStack.PYTHON, ORIGIN))
    assert python["script-src"] == f"'unsafe-inline' 'wasm-unsafe-eval' {folder('pyodide')}"
    assert python["connect-src"] == folder("pyodide")
    mermaid = directives(content_security_policy(WebdevStack.MERMAID, ORIGIN))
    assert mermaid["script-src"] == f"'unsafe-inline' {folder('mermaid')}"
    assert mermaid["connect-src"] == "'none'"
    html = directives(content_security_policy(WebdevStack.HTML, ORIGIN))
    assert html["script-src"] == "'unsafe-inline' 'unsafe-eval' blob:"


@pytest.mark.parametrize("stack", list(WebdevStack), ids=[stack.value for stack in WebdevStack])
def test_every_stack_keeps_the_sandbox_and_the_rest_closed(stack: WebdevStack) -> None:
    policy = SandboxPolicy(allowed_cdns=("https://cdn.jsdelivr.net",))
    found = directives(content_security_policy(stack, ORIGIN, policy))
    assert found["sandbox"] == "allow-scripts allow-forms"
    for name in ("default-src", "frame-src", "worker-src", "object-src", "form-action"):
        assert found[name] == "'none'", name
    assert found["img-src"] == "data: blob:"
    # Only HTML apps may use a deployment's CDNs; the other stacks have their runtimes.
    assert ("https://cdn.jsdelivr.net" in found["script-src"]) is (stack is WebdevStack.HTML)
    others = {runtime.key for runtime in RUNTIMES.values()} - {
        runtime.key for runtime in runtimes_for(stack)
    }
    assert not any(key in found["script-src"] for key in others)


def test_a_stored_document_keeps_its_stack_and_html_cannot_claim_one() -> None:
    assert pack_document("<p>hi</p>") == "<p>hi</p>"
    assert unpack_document(pack_document("<div id=root>", WebdevStack.REACT)) == (
        WebdevStack.REACT,
        "<div id=root>",
        False,
    )
    assert unpack_document(pack_document("<div id=root>", WebdevStack.REACT, True)) == (
        WebdevStack.REACT,
        "<div id=root>",
        True,
    )
    for forged in (
        "<!--glassarena-stack:python-->\n<script>fetch('/api')</script>",
        "<!--glassarena-stack:react+compiled-->\n<script>fetch('/api')</script>",
    ):
        assert unpack_document(pack_document(forged)) == (WebdevStack.HTML, forged, False)
    assert unpack_document("<!--glassarena-stack:nonsense-->\nx")[0] is WebdevStack.HTML


def test_a_compiled_apps_page_is_allowed_only_the_runtimes_it_loads() -> None:
    """A React or Vue app compiled on the server (and a frame started for one) loads React
    and ReactDOM, or Vue, alone: its policy allows nothing more, not even the compilers."""
    react = directives(content_security_policy(WebdevStack.REACT, ORIGIN, compiled=True))
    assert react["script-src"] == " ".join(
        ["'unsafe-inline'", *(folder(name) for name in ("react", "react-dom"))]
    )
    vue = directives(content_security_policy(WebdevStack.VUE, ORIGIN, compiled=True))
    # Still 'unsafe-eval': a compiled Vue app may pass a template string to Vue at run time.
    assert vue["script-src"] == f"'unsafe-inline' 'unsafe-eval' {folder('vue')}"
    for stack in (WebdevStack.PYTHON, WebdevStack.MERMAID, WebdevStack.HTML):
        assert content_security_policy(stack, ORIGIN, compiled=True) == (
            content_security_policy(stack, ORIGIN)
        )


@pytest.fixture
def runtime_dir(tmp_path: Path) -> Path:
    """A runtimes folder with React's pinned file and Pyodide's wasm, stand-ins by content."""
    react, pyodide = RUNTIMES["react"], RUNTIMES["pyodide"]
    (tmp_path / react.key / "umd").mkdir(parents=True)
    (tmp_path / react.key / "umd" / "react.production.min.js").write_text("window.React = {};")
    (tmp_path / react.key / "secret.txt").write_text("not pinned")
    (tmp_path / pyodide.key).mkdir()
    (tmp_path / pyodide.key / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0")
    return tmp_path


def test_the_sandbox_serves_pinned_runtime_files_only(runtime_dir: Path) -> None:
    policy = SandboxPolicy()
    app = Starlette(
        routes=[Mount("/sandbox", sandbox_app(MemoryAppStore(), policy, RuntimeFiles(runtime_dir)))]
    )
    client = TestClient(app)
    react = client.get(f"/sandbox/runtimes/{RUNTIMES['react'].key}/umd/react.production.min.js")
    assert react.status_code == 200 and react.text == "window.React = {};"
    assert react.headers["content-type"] == "text/javascript; charset=utf-8"
    assert react.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert react.headers["access-control-allow-origin"] == "*"
    wasm = client.get(f"/sandbox/runtimes/{RUNTIMES['pyodide'].key}/pyodide.asm.wasm")
    assert wasm.headers["content-type"] == "application/wasm"
    for path in (
        f"{RUNTIMES['react'].key}/secret.txt",
        f"{RUNTIMES['react'].key}/..%2F..%2F{RUNTIMES['pyodide'].key}/pyodide.asm.wasm",
        "react@0.0.1/umd/react.production.min.js",
        f"{RUNTIMES['mermaid'].key}/dist/mermaid.min.js",  # pinned, not installed
    ):
        assert client.get(f"/sandbox/runtimes/{path}").status_code == 404, path


def test_a_document_is_served_with_its_stacks_policy_for_the_origin_it_was_asked_on() -> None:
    store, policy = MemoryAppStore(), SandboxPolicy()
    client = TestClient(Starlette(routes=[Mount("/sandbox", sandbox_app(store, policy))]))
    project = AppProject(WebdevStack.PYTHON, {"main.py": "print(1)"}, "main.py")
    token = store.put_app(build_document(project, policy.runtimes_path), project.stack)
    served = client.get(f"/sandbox/{token}", headers={"host": "b.previews.example.org"})
    assert served.status_code == 200
    assert "/sandbox/runtimes/pyodide@" in served.text
    csp = directives(served.headers["content-security-policy"])
    assert csp["connect-src"] == (
        f"http://b.previews.example.org/sandbox/runtimes/{RUNTIMES['pyodide'].key}/"
    )
    plain = store.put_app("<p>html</p>")
    html_csp = directives(client.get(f"/sandbox/{plain}").headers["content-security-policy"])
    assert html_csp["connect-src"] == "'none'"


def test_no_file_can_break_out_of_the_harness_data() -> None:
    hostile = "</script><script>parent.postMessage('escaped', '*')</script><!--"
    document = build_document(
        AppProject(WebdevStack.REACT, {"App.tsx": f"export default () => '{hostile}'"}, "App.tsx"),
        "/sandbox/runtimes",
    )
    assert hostile not in document and "\\u003c/script>" in document


def test_a_multi_file_html_app_has_its_own_files_inlined() -> None:
    project = AppProject(
        WebdevStack.HTML,
        {
            "index.html": '<link rel="stylesheet" href="css/site.css"><script src="./app.js">'
            '</script><script src="https://cdn.example.com/x.js"></script>',
            "css/site.css": "body { color: red }",
            "app.js": "console.log('</script>')",
        },
    )
    document = build_document(project, "/sandbox/runtimes")
    assert "<style>\nbody { color: red }\n</style>" in document
    assert "console.log('<\\/script>')" in document
    assert '<script src="https://cdn.example.com/x.js"></script>' in document


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def registry() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A real HTTP server standing in for registry.npmjs.org: path -> tarball bytes."""
    served: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def pinned(url: str, data: bytes, files: dict[str, int], license: str = "MIT") -> Runtime:
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    return Runtime("demo", "demo", "1.0.0", license, url, integrity, len(data), files)


def test_install_checks_integrity_and_unpacks_only_the_pinned_files(
    tmp_path: Path, registry: tuple[str, dict[str, bytes]]
) -> None:
    origin, served = registry
    data = tarball({"dist/demo.js": b"demo()", "LICENSE": b"MIT text", "../../evil": b"x"})
    served["/demo.tgz"] = data
    runtime = pinned(f"{origin}/demo.tgz", data, {"dist/demo.js": 6, "LICENSE": 8})
    assert install(tmp_path, [runtime]) == [runtime]
    installed = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert installed == [
        "demo@1.0.0",
        "demo@1.0.0/.installed",
        "demo@1.0.0/LICENSE",
        "demo@1.0.0/dist",
        "demo@1.0.0/dist/demo.js",
    ]
    assert RuntimeFiles(tmp_path).installed(runtime)
    assert install(tmp_path, [runtime]) == []  # already there: nothing fetched


def test_install_refuses_a_tarball_that_is_not_the_pinned_one(
    tmp_path: Path, registry: tuple[str, dict[str, bytes]]
) -> None:
    origin, served = registry
    runtime = pinned(f"{origin}/demo.tgz", tarball({"dist/demo.js": b"demo()"}), {})
    served["/demo.tgz"] = tarball({"dist/demo.js": b"evil()"})
    with pytest.raises(IntegrityError, match="the lock file pins"):
        install(tmp_path, [runtime])
    assert not (tmp_path / runtime.key).exists()


def test_install_writes_the_licence_a_package_lacks(
    tmp_path: Path, registry: tuple[str, dict[str, bytes]]
) -> None:
    origin, served = registry
    data = tarball({"core.js": b"1"})
    served["/core.tgz"] = data
    runtime = pinned(f"{origin}/core.tgz", data, {"core.js": 1}, license="MPL-2.0")
    install(tmp_path, [runtime])
    licence = (tmp_path / runtime.key / "LICENSE").read_text()
    assert licence.startswith("demo 1.0.0 is licensed under MPL-2.0")
    assert "Mozilla Public License, version 2.0" in licence


FETCHING_PYTHON_APP = """
from js import fetch

PYODIDE = "/sandbox/runtimes/{pyodide}/"
attempts = {{
    "own lock file": PYODIDE + "pyodide-lock.json",
    "another runtime": "/sandbox/runtimes/{babel}/babel.min.js",
    "the arena api": "/api/vote",
    "another host": "https://example.org/collect",
}}
seen = {{}}
for name, url in attempts.items():
    try:
        response = await fetch(url)
        seen[name] = f"fetched {{response.status}}"
    except Exception as error:
        seen[name] = "blocked"
print(seen)
if seen["own lock file"] != "fetched 200":
    raise RuntimeError(f"Pyodide could not read its own folder: {{seen}}")
leaked = [name for name, outcome in seen.items() if outcome != "blocked"][1:]
if leaked:
    raise RuntimeError(f"fetches outside Pyodide's folder got through: {{leaked}}")
"""


@pytest.mark.browser
def test_a_python_app_fetches_pyodides_files_and_nothing_else(
    chromium_path: str, webdev_runtimes: RuntimeFiles
) -> None:
    source = FETCHING_PYTHON_APP.format(
        pyodide=RUNTIMES["pyodide"].key, babel=RUNTIMES["babel"].key
    )
    project = AppProject(WebdevStack.PYTHON, {"main.py": source}, "main.py")

    async def check() -> object:
        settings = CheckerSettings(workers=1, load_timeout_s=60.0, python_load_timeout_s=60.0)
        async with AppChecker(
            chromium_path, settings=settings, runtimes=webdev_runtimes
        ) as checker:
            return await checker.check_project(project)

    result = asyncio.run(check())
    record = result.to_json()  # type: ignore[attr-defined]
    assert record["runs"], json.dumps(record)
    refused = [error for error in record["console_errors"] if "connect-src" in error]
    assert any("/api/vote" in error for error in refused), record
    assert any("babel.min.js" in error for error in refused), record
