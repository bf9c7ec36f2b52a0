"""`glassarena serve` refuses to start, with one clear line, when it cannot work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from live_server import free_port

GLASSARENA = [sys.executable, "-m", "glassarena"]


def _serve(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GLASSARENA, "serve", "--port", str(free_port()), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GLASSARENA_DATA_DIR": str(tmp_path)},
    )


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = _serve(tmp_path, "--database-url", "postgresql://arena:s3cret@127.0.0.1:1/arena")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: cannot open the database at")
    assert "127.0.0.1:1" in lines[0] and "s3cret" not in lines[0]


def test_unreachable_redis_is_one_clear_line(tmp_path: Path) -> None:
    result = _serve(tmp_path, "--redis-url", "redis://:hunter2@127.0.0.1:1/0")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot reach Redis at 127.0.0.1:1")
    assert "hunter2" not in result.stderr


def test_configuration_mistakes_name_the_line(tmp_path: Path) -> None:
    config = tmp_path / "arena.yaml"
    config.write_text("limits:\n  max_prompt_chars: -5\n")
    result = _serve(tmp_path, "--config", str(config))
    assert result.returncode != 0
    assert f"{config}:2:" in result.stderr
