"""Every byte a client receives during an anonymous battle is free of model identity until
the vote; the reveal then names both models.

The flow is driven over real HTTP: the pages, every script and stylesheet they load, the
battle stream, the state API, every header and cookie.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from arena_server import openai_contestant, running_arena, sse_events, write_config

from glassarena.arena.config import load_config
from openai_test_server import ModelServerDouble, ScriptedModel

CONTESTANTS = ("zephyr-blue-7b", "orca-crimson-13b")
UPSTREAM = {"zephyr-blue-7b": "upstream-blue-v3", "orca-crimson-13b": "upstream-crimson-v9"}
ANSWER = "Paris is the capital of France. It is on the Seine."


class Recorder:
    """Everything received, as text: status lines, headers (cookies included) and bodies."""

    def __init__(self) -> None:
        self.received: list[str] = []

    def record(self, response: httpx.Response) -> httpx.Response:
        self.received.append(f"{response.status_code} {response.url}")
        self.received.extend(f"{name}: {value}" for name, value in response.headers.items())
        self.received.append(response.text)
        return response

    def text(self) -> str:
        return "\n".join(self.received)


def _assets(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', page)


def _module_imports(script: str) -> list[str]:
    return re.findall(r'from "\./([^"]+)"', script)


def _forbidden(config_path: Path, base_url: str) -> list[str]:
    config = load_config(config_path)
    words = [base_url, "openai"]  # the provider kind of both contestants
    for contestant in config.contestants:
        words += [contestant.name, contestant.settings_fingerprint, contestant.settings["model"]]
    return words


def test_nothing_identifies_a_model_before_the_vote(tmp_path: Path) -> None:
    script = {model: ScriptedModel(answer=ANSWER) for model in UPSTREAM.values()}
    with ModelServerDouble(script) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, UPSTREAM[name])
                for name in CONTESTANTS
            ],
        )
        with running_arena(tmp_path, config) as server, httpx.Client(base_url=server.url) as client:
            seen = Recorder()
            for page in ("/", "/recorded"):
                html = seen.record(client.get(page)).text
                for asset in _assets(html):
                    body = seen.record(client.get(asset)).text
                    for module in _module_imports(body):
                        seen.record(client.get(f"/static/js/{module}"))
            stream = seen.record(
                client.post("/api/battles", json={"mode": "anonymous", "prompt": "Capital?"})
            )
            events = sse_events(stream.text)
            battle_id = events[0]["battle_id"]
            assert [event["type"] for event in events][-1] == "complete"
            assert events[-1]["voting_open"] is True
            seen.record(client.get(f"/api/battles/{battle_id}"))
            follow_up = seen.record(
                client.post(f"/api/battles/{battle_id}/turns", json={"prompt": "And Italy?"})
            )
            assert sse_events(follow_up.text)[-1]["type"] == "complete"
            state = seen.record(client.get(f"/api/battles/{battle_id}")).json()
            assert state["reveal"] is None and state["status"] == "complete"
            for word in _forbidden(config, double.openai_base_url):
                assert word.lower() not in seen.text().lower(), f"{word!r} leaked before the vote"
            assert ANSWER in seen.text()  # the recording did capture the answers

            reveal = client.post(f"/api/battles/{battle_id}/vote", json={"choice": "a"}).json()
            assert {reveal["models"]["a"]["name"], reveal["models"]["b"]["name"]} == set(
                CONTESTANTS
            )
            assert reveal["counted"] is True
            state = client.get(f"/api/battles/{battle_id}").json()
            assert state["reveal"]["models"]["a"]["name"] in CONTESTANTS


@pytest.mark.parametrize("path", ["/", "/recorded", "/leaderboard", "/side-by-side", "/chat"])
def test_pages_have_no_inline_script_and_a_strict_policy(tmp_path: Path, path: str) -> None:
    with ModelServerDouble({"m": ScriptedModel()}) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "m") for name in CONTESTANTS
            ],
        )
        with running_arena(tmp_path, config) as server:
            response = httpx.get(server.url + path)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    for tag in re.findall(r"<script[^>]*>", response.text):
        assert 'src="/static/' in tag, f"inline script on {path}: {tag}"
    assert "<script>" not in response.text


def test_unknown_pages_get_an_html_page_and_unknown_api_paths_json(tmp_path: Path) -> None:
    with ModelServerDouble({"m": ScriptedModel()}) as double:
        config = write_config(
            tmp_path,
            contestants=[
                openai_contestant(name, double.openai_base_url, "m") for name in CONTESTANTS
            ],
        )
        with running_arena(tmp_path, config) as server:
            page = httpx.get(server.url + "/no-such-page", headers={"accept": "text/html"})
            api = httpx.get(server.url + "/api/no-such-thing", headers={"accept": "text/html"})
    assert page.status_code == 404 and "Page not found" in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert api.status_code == 404 and api.json()["error"]["code"] == "http_error"
