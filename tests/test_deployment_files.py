"""deploy/compose.yaml is documentation (Docker is not run here), but it must be well-formed
and describe the deployment docs/deployment.md explains: PostgreSQL, Redis, several arena
nodes sharing both and one secret key, behind a streaming-friendly proxy."""

from __future__ import annotations

from pathlib import Path

import yaml

from glassarena.web.settings import Settings, environment_variable

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_the_compose_file_describes_several_nodes_on_one_database_and_redis() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "arena", "caddy"} <= set(services)
    arena = services["arena"]
    assert arena["deploy"]["replicas"] >= 2
    assert set(arena["depends_on"]) == {"postgres", "redis"}
    environment = arena["environment"]
    assert environment["GLASSARENA_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in environment["GLASSARENA_DATABASE_URL"]
    assert environment["GLASSARENA_REDIS_URL"].startswith("redis://redis:6379")
    assert "GLASSARENA_SECRET_KEY" in environment
    known = {environment_variable(name) for name in Settings.model_fields}
    assert set(environment) <= known, set(environment) - known
    command = arena["command"]
    assert command[:2] == ["glassarena", "serve"] and "0.0.0.0" in command
    assert (DEPLOY / arena["build"]["dockerfile"].removeprefix("deploy/")).is_file()


def test_the_proxy_streams_and_spreads_over_every_node() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert "flush_interval -1" in caddyfile
    assert "name arena" in caddyfile and "port 8000" in caddyfile
