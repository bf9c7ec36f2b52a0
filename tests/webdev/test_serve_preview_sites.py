"""`glassarena serve` says at start where the WebDev previews run, and warns when it cannot
give each side a site of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from glassarena.webdev.sandbox import ENV_PREVIEW_ORIGINS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_lines(tmp_path: Path, host: str, **environment: str) -> list[str]:
    """What `serve` prints up to its "serving on" line; then it is stopped."""
    base = {key: value for key, value in os.environ.items() if key != ENV_PREVIEW_ORIGINS}
    server = subprocess.Popen(
        [sys.executable, "-m", "glassarena", "serve", "--host", host, "--port", str(free_port())],
        env={**base, "GLASSARENA_DATA_DIR": str(tmp_path), "GLASSARENA_CHROMIUM": ""} | environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert server.stderr is not None
        while not any("serving on" in line for line in lines):
            line = server.stderr.readline()
            assert line, f"glassarena serve stopped: {lines}"
            lines.append(line.strip())
    finally:
        server.terminate()
        server.wait(timeout=20)
    return lines


def test_on_a_public_address_serve_warns_with_the_setup_to_make(tmp_path: Path) -> None:
    lines = start_lines(tmp_path, "0.0.0.0")
    (warning,) = [line for line in lines if line.startswith("warning: WebDev previews")]
    assert "share one site (serving on 0.0.0.0)" in warning
    assert f"{ENV_PREVIEW_ORIGINS}=https://a.previews.example.org" in warning
    assert "docs/webdev-isolation.md" in warning


def test_configured_preview_origins_are_kept_and_named(tmp_path: Path) -> None:
    origins = "https://a.previews.example.org,https://b.previews.example.org"
    lines = start_lines(tmp_path, "0.0.0.0", **{ENV_PREVIEW_ORIGINS: origins})
    assert not any(line.startswith("warning: WebDev") for line in lines), lines
    assert (
        "glassarena: WebDev previews: side A on https://a.previews.example.org, "
        "side B on https://b.previews.example.org"
    ) in lines
