"""`glassarena serve` as a user starts it: its own process on a free port, for the tests and
benchmarks that need the real command (workers, settings from the environment, a restart)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
from live_server import free_port


class ServeProcess:
    """Started, and ready once it serves its stylesheet; its output goes to `log`.

    `database` (SQLite) is passed as --database-url; without it the server keeps its
    database in `data_dir`. `environment` is added to this process's own.
    """

    def __init__(
        self,
        config: Path,
        *arguments: str,
        data_dir: Path,
        log: Path,
        database: Path | None = None,
        environment: Mapping[str, str] | None = None,
        start_seconds: float = 120.0,
    ) -> None:
        self.database = database
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable, "-m", "glassarena", "serve", "--port", str(self.port),
            "--config", str(config), *arguments,
        ]  # fmt: skip
        if database is not None:
            command += ["--database-url", f"sqlite:///{database}"]
        full_environment = {
            **os.environ,
            "GLASSARENA_DATA_DIR": str(data_dir),
            **(environment or {}),
        }
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                command, env=full_environment, stdout=output, stderr=output
            )
        deadline = time.monotonic() + start_seconds
        while True:
            if self.process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"glassarena serve exited with {self.process.returncode}:\n{tail}"
                )
            try:
                if httpx.get(self.url + "/static/css/app.css", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"glassarena serve did not start in {start_seconds:g} s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)

    def kill_hard(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
