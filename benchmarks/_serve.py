"""`glassarena serve` as its own process on a free port, for the benchmarks that load it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServeProcess:
    """The server over `directory/arena.db` (SQLite), ready once it serves its stylesheet.

    `arguments` go after the common ones; `environment` is added to this process's own.
    """

    def __init__(
        self,
        directory: Path,
        config: Path,
        *,
        arguments: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.database = directory / "arena.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable, "-m", "glassarena", "serve", "--port", str(self.port),
            "--config", str(config), "--database-url", f"sqlite:///{self.database}",
            "--no-access-log", *arguments,
        ]  # fmt: skip
        full_environment = {
            **os.environ,
            "GLASSARENA_DATA_DIR": str(directory),
            **(environment or {}),
        }
        self.log = directory / "server.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=full_environment, stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"glassarena serve exited with {self.process.returncode}:\n{tail}"
                )
            try:
                if httpx.get(self.url + "/static/css/app.css", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("glassarena serve did not start in 120 s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)

    def kill_hard(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
