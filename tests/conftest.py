"""Fixtures shared by the whole suite: the real services, and the shipped data set."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from glassarena.storage.database import Database, open_database
from glassarena.web.settings import Settings
from glassarena.webdev.runtimes import RuntimeFiles

LLMFAO = Path(__file__).resolve().parents[1] / "src" / "glassarena" / "data" / "llmfao"
POSTGRES_URL = os.environ.get(
    "GLASSARENA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GLASSARENA_TEST_REDIS", "redis://127.0.0.1:6379/0")
CHROMIUM = "/usr/bin/chromium"


def _require(service: str, reachable: bool) -> None:
    """Skip when a service is missing on a developer's machine; fail in CI, where it must run."""
    if reachable:
        return
    message = f"{service} is not reachable"
    if os.environ.get("GLASSARENA_REQUIRE_SERVICES"):
        pytest.fail(f"{message}, and GLASSARENA_REQUIRE_SERVICES is set", pytrace=False)
    pytest.skip(message)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def llmfao_dir() -> Path:
    return LLMFAO


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty schema on the real PostgreSQL server, dropped afterwards."""
    _require("PostgreSQL at 127.0.0.1:5432", _port_open("127.0.0.1", 5432))
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test runs on a SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'arena.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def redis_url() -> str:
    _require("Redis at 127.0.0.1:6379", _port_open("127.0.0.1", 6379))
    return REDIS_URL


@pytest.fixture(scope="session")
def openssl_path() -> str:
    """The openssl command (tests that need a certificate of their own make one with it)."""
    path = shutil.which("openssl")
    _require("the openssl command", path is not None)
    assert path is not None
    return path


@pytest.fixture(scope="session")
def chromium_path() -> str:
    _require(f"Chromium at {CHROMIUM}", Path(CHROMIUM).exists())
    return CHROMIUM


@pytest.fixture(scope="session")
def webdev_runtimes() -> RuntimeFiles:
    """The installed WebDev runtimes (`glassarena runtimes install`, run by scripts/test.sh)."""
    files = RuntimeFiles(Settings().runtimes_directory())
    missing = ", ".join(runtime.key for runtime in files.missing())
    _require(f"the WebDev runtimes in {files.directory} (missing: {missing})", not missing)
    return files


@pytest.fixture
def redis_server_binary() -> str:
    """`redis-server`, for tests that start and stop a Redis of their own."""
    path = shutil.which("redis-server")
    _require("redis-server (to start a Redis of the test's own)", path is not None)
    assert path is not None
    return path
