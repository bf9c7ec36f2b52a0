"""One settings object: every variable declared, documented, read in one module, round-tripped."""

from __future__ import annotations

import ast
import ipaddress
import re
from pathlib import Path

import pytest

import glassarena
from glassarena.vocabulary import WebdevStack
from glassarena.web.settings import Settings, environment_variable, read_settings

SRC = Path(glassarena.__file__).parent
DOCS = Path(__file__).parents[2] / "docs" / "settings.md"
SETTINGS_MODULE = SRC / "web" / "settings.py"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", DOCS.read_text(), flags=re.MULTILINE))
    declared = {environment_variable(name) for name in Settings.model_fields}
    assert declared - documented == set(), "settings missing from docs/settings.md"
    assert documented - declared == set(), "docs/settings.md documents unknown settings"


def _reads_the_environment(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv", "environb")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ) or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ("environ", "getenv") for alias in node.names)
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_but_the_settings_reads_the_environment() -> None:
    readers = {
        f"{path.relative_to(SRC)}:{line}"
        for path in SRC.rglob("*.py")
        if path != SETTINGS_MODULE
        for line in _reads_the_environment(ast.parse(path.read_text(), str(path)))
    }
    assert readers == set()
    assert _reads_the_environment(ast.parse(SETTINGS_MODULE.read_text()))  # the check works


def test_settings_survive_the_trip_to_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`glassarena serve` hands its settings to the workers through the environment; every
    field must arrive (the leaderboard interval once did not)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(environment_variable(name), raising=False)
    sent = Settings(
        config_path=tmp_path / "arena.yaml",
        database_url="postgresql://arena@db/arena",
        redis_url="redis://cache:6379/1",
        secret_key="s" * 40,
        data_dir=tmp_path / "data",
        cache_dir=tmp_path / "cache",
        runtimes_dir=tmp_path / "runtimes",
        leaderboard_interval_seconds=2.5,
        node_lease_seconds=4.0,
        chromium=tmp_path / "chromium",
        preview_origins="https://a.previews.net,https://b.apps.org",
        sandbox_cdns="https://cdn.jsdelivr.net",
        webdev_stack=WebdevStack.VUE,
        forwarded_allow_ips=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1")),
        access_log=False,
        tone_style_control=True,
        xdg_data_home=tmp_path / "xdg-data",
        xdg_cache_home=tmp_path / "xdg-cache",
    )
    assert all(
        getattr(sent, name) != field.default for name, field in Settings.model_fields.items()
    ), "give every field a value other than its default"
    for variable, value in sent.to_environment().items():
        monkeypatch.setenv(variable, value)
    assert read_settings().model_dump() == sent.model_dump()


def test_defaults_follow_the_xdg_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(environment_variable(name), raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings = read_settings()
    assert settings.data_directory() == tmp_path / "data" / "glassarena"
    assert settings.cache_directory() == tmp_path / "cache" / "glassarena"
    assert settings.forwarded_allow_ips == ()  # no proxy believed unless listed
    monkeypatch.setenv("GLASSARENA_CACHE_DIR", str(tmp_path / "mine"))
    assert read_settings().cache_directory() == tmp_path / "mine"


def test_the_environment_is_read_once_with_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The arena file's `api_key_env` variables are looked up in the environment the
    settings were read with, not in whatever the process environment is later."""
    monkeypatch.setenv("HOUSE_KEY", "before")
    settings = read_settings()
    monkeypatch.setenv("HOUSE_KEY", "after")
    assert settings.environment["HOUSE_KEY"] == "before"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GLASSARENA_LEADERBOARD_INTERVAL_SECONDS", "-1", "greater than 0"),
        ("GLASSARENA_FORWARDED_ALLOW_IPS", "10.0.0.1, proxy.local", "'proxy.local' is not an IP"),
        ("GLASSARENA_FORWARDED_ALLOW_IPS", "*", "'*' would believe"),
        ("GLASSARENA_PREVIEW_ORIGINS", "not an origin", "GLASSARENA_PREVIEW_ORIGINS"),
        ("GLASSARENA_ACCESS_LOG", "perhaps", "valid boolean"),
    ],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=re.escape(variable)) as caught:
        read_settings()
    assert message in str(caught.value)
