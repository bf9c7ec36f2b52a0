"""The browser runtimes WebDev apps run on, served by the arena itself, never by a CDN.

React, ReactDOM, Babel (the TSX transform), Tailwind's browser build, Vue with an SFC loader,
Pyodide and Mermaid are npm packages. `runtimes.lock.json` pins each one's exact tarball and
its sha512 integrity, and names the few files the sandbox serves from it; `install` fetches
the tarballs from the npm registry (no Node needed), checks them and unpacks those files and
the licence into `<directory>/<name>@<version>/`. The sandbox then serves them at
`<sandbox prefix>/runtimes/<name>@<version>/<file>`, and only those files.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from glassarena.vocabulary import WebdevStack

_HERE = Path(__file__).parent
LOCK_FILE = "runtimes.lock.json"
LICENSE_FILE = "LICENSE"
# Written last, so a directory without it is an interrupted install.
_INSTALLED_MARK = ".installed"
# Pyodide's npm package ships no licence file; its licence is the MPL 2.0.
_LICENSE_TEXTS = {"MPL-2.0": "licenses/MPL-2.0.txt"}
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".json": "application/json",
}

REACT, REACT_DOM, BABEL, TAILWIND = "react", "react-dom", "babel", "tailwind"
VUE, VUE_SFC_LOADER, PYODIDE, MERMAID = "vue", "vue-sfc-loader", "pyodide", "mermaid"
# What each stack loads, in load order. HTML apps bring their own code, as before.
STACK_RUNTIMES: dict[WebdevStack, tuple[str, ...]] = {
    WebdevStack.HTML: (),
    WebdevStack.REACT: (REACT, REACT_DOM, BABEL, TAILWIND),
    WebdevStack.VUE: (VUE, VUE_SFC_LOADER, TAILWIND),
    WebdevStack.PYTHON: (PYODIDE,),
    WebdevStack.MERMAID: (MERMAID,),
}


@dataclass(frozen=True)
class Runtime:
    """One pinned npm package and the files of it the sandbox serves."""

    name: str
    package: str
    version: str
    license: str
    tarball: str
    integrity: str
    tarball_bytes: int
    files: dict[str, int]

    @property
    def key(self) -> str:
        """`name@version`: the runtime's folder and the segment of its URLs."""
        return f"{self.name}@{self.version}"

    @property
    def served_files(self) -> tuple[str, ...]:
        return (*self.files, LICENSE_FILE) if LICENSE_FILE not in self.files else (*self.files,)

    @property
    def size_bytes(self) -> int:
        """What the runtime adds on disk: the files served, licence excepted."""
        return sum(size for path, size in self.files.items() if path != LICENSE_FILE)

    def url(self, base: str, path: str) -> str:
        return f"{base}/{self.key}/{path}"


def load_lock() -> dict[str, Runtime]:
    """The pinned runtimes by name, from the lock file shipped in this package."""
    text = (_HERE / LOCK_FILE).read_text()
    return {
        name: Runtime(name=name, **entry) for name, entry in json.loads(text)["runtimes"].items()
    }


RUNTIMES = load_lock()


# What the page of an app compiled on the server (`webdev.compiler`) loads: neither Babel,
# vue3-sfc-loader nor Tailwind's browser build.
COMPILED_RUNTIMES: dict[WebdevStack, tuple[str, ...]] = {
    WebdevStack.REACT: (REACT, REACT_DOM),
    WebdevStack.VUE: (VUE,),
}


def runtimes_for(stack: WebdevStack, compiled: bool = False) -> tuple[Runtime, ...]:
    """The runtimes a `stack` page loads; `compiled`: the page of an app compiled on the
    server (the same for a stack the server does not compile)."""
    names = STACK_RUNTIMES[stack]
    if compiled:
        names = COMPILED_RUNTIMES.get(stack, names)
    return tuple(RUNTIMES[name] for name in names)


def media_type(path: str) -> str:
    return _MEDIA_TYPES.get(Path(path).suffix, "text/plain; charset=utf-8")


class RuntimeFiles:
    """The installed runtimes under one directory, looked up only by their pinned names."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._served = {
            (runtime.key, path) for runtime in RUNTIMES.values() for path in runtime.served_files
        }

    def path(self, key: str, file: str) -> Path | None:
        """The file `file` of runtime `key` ("react@18.3.1"); None unless it is a pinned,
        installed file (so no request can name anything else on disk)."""
        if (key, file) not in self._served:
            return None
        found = self.directory / key / file
        return found if found.is_file() else None

    def installed(self, runtime: Runtime) -> bool:
        return (self.directory / runtime.key / _INSTALLED_MARK).is_file()

    def missing(self, stacks: Iterable[WebdevStack] = tuple(WebdevStack)) -> list[Runtime]:
        needed = {runtime.name: runtime for stack in stacks for runtime in runtimes_for(stack)}
        return [runtime for runtime in needed.values() if not self.installed(runtime)]


class IntegrityError(Exception):
    """A downloaded tarball is not the one the lock file pins."""


def install(
    directory: Path,
    runtimes: Iterable[Runtime] | None = None,
    *,
    client: httpx.Client | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> list[Runtime]:
    """Fetch, check and unpack `runtimes` (all pinned ones by default) that are not installed
    in `directory` yet; returns those installed now."""
    files = RuntimeFiles(directory)
    pending = [
        runtime
        for runtime in (RUNTIMES.values() if runtimes is None else runtimes)
        if not files.installed(runtime)
    ]
    if not pending:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    owned = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(60.0), follow_redirects=True)
    try:
        for runtime in pending:
            progress(f"{runtime.key}: {runtime.tarball} ({runtime.tarball_bytes:,} bytes)")
            response = http.get(runtime.tarball)
            response.raise_for_status()
            _unpack(runtime, _checked(runtime, response.content), directory)
    finally:
        if owned:
            http.close()
    return pending


def _checked(runtime: Runtime, tarball: bytes) -> bytes:
    algorithm, _, expected = runtime.integrity.partition("-")
    if algorithm != "sha512":
        raise IntegrityError(f"{runtime.key}: unsupported integrity {algorithm!r}")
    actual = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if actual != expected:
        raise IntegrityError(
            f"{runtime.key}: the tarball from {runtime.tarball} has sha512 {actual}, "
            f"the lock file pins {expected}"
        )
    return tarball


def _unpack(runtime: Runtime, tarball: bytes, directory: Path) -> None:
    """Extract the pinned files by name (never the tarball's own paths) into a fresh folder,
    then move it into place."""
    target = directory / runtime.key
    with tempfile.TemporaryDirectory(dir=directory, prefix=f".{runtime.key}-") as scratch:
        staging = Path(scratch) / runtime.key
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            members = {member.name.removeprefix("package/"): member for member in archive}
            for path in runtime.files:
                member = members.get(path)
                source = archive.extractfile(member) if member is not None else None
                if source is None:
                    raise IntegrityError(f"{runtime.key}: the tarball has no file {path}")
                destination = staging / path
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(source.read())
        if LICENSE_FILE not in runtime.files:
            licence = _HERE / _LICENSE_TEXTS[runtime.license]
            (staging / LICENSE_FILE).write_text(
                f"{runtime.package} {runtime.version} is licensed under {runtime.license}:\n\n"
                + licence.read_text()
            )
        (staging / _INSTALLED_MARK).write_text(runtime.integrity + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)


# Beyond their runtimes' files: Vue's SFC loader turns each compiled component into a
# function with `new Function` ('unsafe-eval'), and Pyodide compiles WebAssembly
# ('wasm-unsafe-eval') and fetches its stdlib and lock file (connect-src, its folder only).
_UNSAFE_EVAL = frozenset({WebdevStack.HTML, WebdevStack.VUE})
_WASM = frozenset({WebdevStack.PYTHON})
_FETCHES = {WebdevStack.PYTHON: (PYODIDE,)}


@dataclass(frozen=True)
class StackSources:
    """What a stack's documents may load beyond their own inline code, as CSP sources."""

    script: tuple[str, ...]
    connect: tuple[str, ...]

    @classmethod
    def of(cls, stack: WebdevStack, runtimes_base: str, compiled: bool = False) -> StackSources:
        """`runtimes_base` is absolute ("https://a.previews.example.org/sandbox/runtimes"),
        since a CSP source needs a host; each runtime is allowed by its own folder; `compiled`:
        the page of an app compiled on the server, which loads fewer."""
        folders = {
            runtime.name: f"{runtimes_base}/{runtime.key}/"
            for runtime in runtimes_for(stack, compiled)
        }
        script = [*folders.values()]
        if stack in _UNSAFE_EVAL:
            script.insert(0, "'unsafe-eval'")
        if stack in _WASM:
            script.insert(0, "'wasm-unsafe-eval'")
        connect = tuple(folders[name] for name in _FETCHES.get(stack, ()))
        return cls(tuple(script), connect)
