"""A Redis server of the test's own, on a free port, that the test may stop and start again
(the machine's shared Redis on 6379 is never touched)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from live_server import free_port


class RedisProcess:
    def __init__(self, log: Path) -> None:
        path = shutil.which("redis-server")
        if path is None:
            raise FileNotFoundError("redis-server is not installed")
        self._path = path
        self._log = log
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        # No persistence: a restart comes back empty, as a Redis that lost its data would.
        command = [
            self._path, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
        ]  # fmt: skip
        with self._log.open("ab") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=output)
        self._wait(until_up=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._wait(until_up=False)

    def _wait(self, *, until_up: bool, timeout_s: float = 30.0) -> None:
        from redis import Redis
        from redis.exceptions import RedisError

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            client = Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
            try:
                up = bool(client.ping())
            except RedisError:
                up = False
            finally:
                client.close()
            if up == until_up:
                return
            time.sleep(0.05)
        raise TimeoutError(
            f"redis-server on port {self.port} did not {'start' if until_up else 'stop'}"
        )
