"""The arena configuration file: errors with lines, fingerprints, the default arena."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from glassarena.arena.config import ConfigError, build_provider, load_config
from glassarena.providers.base import Finished, TextDelta
from glassarena.providers.local_gguf import LocalGGUFProvider
from glassarena.providers.openai_compatible import OpenAICompatibleProvider
from glassarena.providers.recorded import RecordedProvider
from openai_test_server import ModelServerDouble, ScriptedModel

OPENAI_CONTESTANT = """\
contestants:
  - name: house-model
    provider:
      kind: openai
      base_url: http://127.0.0.1:8001/v1
      model: qwen
    generation:
      temperature: 0.5
    organization: Test Lab
"""


def write(tmp_path: Path, text: str, name: str = "arena.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(path: Path, **kwargs) -> list[tuple[int, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, **kwargs)
    for problem in caught.value.problems:
        assert problem.source == str(path)
        assert str(problem).startswith(f"{path}:{problem.line}: ")
    return [(problem.line, problem.message) for problem in caught.value.problems]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "contestants:\n  - name: a\n    provider: {kind: openai\n  - name: b\n")
    [(line, message)] = problems(path)
    assert line == 4
    assert message.startswith("YAML syntax error")


def test_unknown_provider_kind_points_at_the_kind(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        contestants:
          - name: mystery
            provider:
              model: x
              kind: telepathy
        """,
    )
    [(line, message)] = problems(path)
    assert line == 5
    assert "contestant 'mystery'" in message
    assert "unknown provider kind 'telepathy'" in message


def test_missing_field_points_at_its_section(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        contestants:
          - name: ok
            provider: {kind: recorded, set: s, model: m}
          - name: no-model
            organization: Test Lab
            provider:
              kind: openai
              base_url: http://localhost:8000/v1
        """,
    )
    [(line, message)] = problems(path)
    assert line == 7
    assert message == "contestant 'no-model'.provider: missing required setting 'model'"


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        limits:
          max_prompt_chars: -5
        contestants:
          - name: a
            organization: Test Lab
            provider: {kind: local, weights: smollm2-135m-instruct}
            generation:
              temprature: 0.2
          - provider: {kind: local, weights: gemma-3-270m}
        """,
    )
    found = problems(path)
    assert [line for line, _ in found] == [2, 8, 9]
    assert "limits.max_prompt_chars" in found[0][1]
    assert found[1][1] == "contestant 'a'.generation.temprature: unknown setting 'temprature'"
    assert found[2][1] == "contestants[1]: missing required setting 'name'"


def test_duplicate_contestant_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        contestants:
          - name: twin
            organization: Test Lab
            provider: {kind: local, weights: smollm2-135m-instruct}
          - name: twin
            organization: Test Lab
            provider: {kind: local, weights: gemma-3-270m}
        """,
    )
    assert problems(path) == [
        (5, "contestant 'twin'.name: another contestant has this name (line 2)")
    ]


def test_duplicate_yaml_keys_are_not_silently_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path, "limits:\n  max_turns: 3\n  max_turns: 4\n")
    assert problems(path) == [(3, "limits.max_turns is given twice (first at line 2)")]


def test_unset_environment_variable(tmp_path: Path) -> None:
    text = OPENAI_CONTESTANT.replace(
        "      model: qwen\n", "      model: qwen\n      api_key_env: HOUSE_KEY\n"
    )
    path = write(tmp_path, text)
    assert problems(path, environ={}) == [
        (
            7,
            "contestant 'house-model'.provider.api_key_env: "
            "environment variable HOUSE_KEY is not set",
        )
    ]
    config = load_config(path, environ={"HOUSE_KEY": "secret-value"})
    contestant = config.contestant("house-model")
    assert contestant.api_key == "secret-value"
    assert "secret-value" not in repr(contestant)
    assert "secret-value" not in str(contestant.settings)


def test_recorded_set_problems_name_the_data_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "answers.jsonl").write_text('{"prompt": "p", "model": "m", "answer": "a"}\n{oops\n')
    path = write(
        tmp_path,
        """\
        recorded_sets:
          - name: mine
            format: jsonl
            path: answers.jsonl
        """,
    )
    [(line, message)] = problems(path)
    assert line == 4
    assert f"{tmp_path / 'answers.jsonl'}:2: not valid JSON" in message


def test_recorded_contestant_must_name_a_known_set_and_model(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        recorded_sets:
          - {name: llmfao, format: llmfao, path: "builtin:llmfao", contestants: none}
        contestants:
          - name: ghost
            provider: {kind: recorded, set: nowhere, model: x}
          - name: impostor
            provider: {kind: recorded, set: llmfao, model: Not A Model}
        """,
    )
    assert problems(path) == [
        (5, "contestant 'ghost'.provider.set: no recorded set named 'nowhere'"),
        (
            7,
            "contestant 'impostor'.provider.model: "
            "recorded set 'llmfao' has no model 'Not A Model'",
        ),
    ]


def test_fingerprint_is_stable_and_follows_output_affecting_settings(tmp_path: Path) -> None:
    first = load_config(write(tmp_path, OPENAI_CONTESTANT)).contestant("house-model")
    again = load_config(write(tmp_path, OPENAI_CONTESTANT, "copy.yaml")).contestant("house-model")
    assert first.settings_fingerprint == again.settings_fingerprint
    assert len(first.settings_fingerprint) == 64
    warmer = OPENAI_CONTESTANT.replace("temperature: 0.5", "temperature: 0.9")
    changed = load_config(write(tmp_path, warmer, "warmer.yaml")).contestant("house-model")
    assert changed.settings_fingerprint != first.settings_fingerprint
    # How long to wait for an answer does not change the answer.
    patient = OPENAI_CONTESTANT.replace(
        "      model: qwen\n", "      model: qwen\n      timeouts: {total: 900}\n"
    )
    same = load_config(write(tmp_path, patient, "patient.yaml")).contestant("house-model")
    assert same.settings_fingerprint == first.settings_fingerprint


def test_variants_of_one_model_are_separate_contestants(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        contestants:
          - name: smol-cold
            organization: Test Lab
            provider: {kind: local, weights: smollm2-135m-instruct}
            generation: {temperature: 0.0}
          - name: smol-pirate
            organization: Test Lab
            provider: {kind: local, weights: smollm2-135m-instruct}
            generation: {system_prompt: Talk like a pirate.}
        """,
    )
    cold, pirate = load_config(path).contestants
    assert cold.settings_fingerprint != pirate.settings_fingerprint
    assert pirate.generation.system_prompt == "Talk like a pirate."


def test_default_config_has_the_embedded_models_and_llmfao() -> None:
    config = load_config()
    assert config.source.endswith("default_config.yaml")
    local = [c for c in config.contestants if c.provider_kind == "local"]
    assert [c.name for c in local] == ["smollm2-135m-instruct", "gemma-3-270m"]
    assert all(c.battle_kinds == {"text", "webdev"} for c in local)
    assert all(isinstance(build_provider(c), LocalGGUFProvider) for c in local)
    [llmfao] = config.recorded_sets
    assert "CC BY 4.0" in (llmfao.attribution or "")
    assert "Dmitry Ustalov" in (llmfao.attribution or "")
    assert "llmonitor.com" in (llmfao.attribution or "")
    recorded = [c for c in config.contestants if c.provider_kind == "recorded"]
    assert len(recorded) == 70
    assert all(c.battle_kinds == {"recorded"} for c in recorded)
    assert len(config.recorded_prompts()) == 19
    assert all(len(prompt.models) >= 2 for prompt in config.recorded_prompts())


async def test_recorded_contestant_streams_its_answer() -> None:
    config = load_config()
    prompt = config.recorded_prompts()[0]
    contestant = config.contestant(prompt.models[0])
    provider = build_provider(contestant)
    assert isinstance(provider, RecordedProvider)
    events = [e async for e in provider.stream([{"role": "user", "content": prompt.text}])]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)).strip()


async def test_openai_contestant_from_the_file_answers(tmp_path: Path) -> None:
    with ModelServerDouble({"qwen": ScriptedModel(answer="Configured and answering.")}) as server:
        text = OPENAI_CONTESTANT.replace("http://127.0.0.1:8001/v1", server.openai_base_url)
        contestant = load_config(write(tmp_path, text)).contestant("house-model")
        provider = build_provider(contestant)
        assert isinstance(provider, OpenAICompatibleProvider)
        events = [e async for e in provider.stream([{"role": "user", "content": "Hi"}])]
        await provider.aclose()
        assert server.requests[-1].body["temperature"] == 0.5
    assert (
        "".join(e.text for e in events if isinstance(e, TextDelta)) == "Configured and answering."
    )
    assert isinstance(events[-1], Finished)


def test_generic_recorded_set_with_chosen_models_and_a_renamed_one(tmp_path: Path) -> None:
    lines = [
        {"prompt": "Name a planet.", "model": "m1", "answer": "Mars"},
        {"prompt": "Name a planet.", "model": "m2", "answer": "Venus"},
        {"prompt": "Name a planet.", "model": "m3", "answer": "Earth"},
    ]
    (tmp_path / "answers.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    path = write(
        tmp_path,
        """\
        recorded_sets:
          - {name: planets, format: jsonl, path: answers.jsonl, contestants: [m1, m2]}
          - {name: planets, format: jsonl, path: answers.jsonl}
        """,
    )
    assert problems(path) == [
        (3, "recorded_sets[1].name: recorded set name 'planets' is used twice")
    ]
    path = write(
        tmp_path,
        """\
        recorded_sets:
          - {name: planets, format: jsonl, path: answers.jsonl, contestants: [m1, m2]}
        contestants:
          - name: the third
            provider: {kind: recorded, set: planets, model: m3}
        """,
    )
    config = load_config(path)
    assert sorted(c.name for c in config.contestants) == ["m1", "m2", "the third"]
    [prompt] = config.recorded_prompts()
    assert sorted(prompt.models) == ["m1", "m2", "the third"]


def test_urls_and_unsupported_settings_are_caught(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        contestants:
          - name: bad-url
            organization: Test Lab
            provider: {kind: openai, model: m, base_url: "localhost:8000/v1"}
          - name: seeded-claude
            organization: Test Lab
            provider: {kind: anthropic, model: claude-x}
            generation: {seed: 3}
        """,
    )
    [(line, message)] = problems(path)
    assert line == 4
    assert "must be an http:// or https:// URL" in message
    path = write(tmp_path, path.read_text().replace('"localhost:8000/v1"', "http://h/v1"))
    assert problems(path, environ={"ANTHROPIC_API_KEY": "k"}) == [
        (8, "contestant 'seeded-claude'.generation.seed: Anthropic's API takes no seed")
    ]


async def test_recorded_replay_can_be_paced(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        recorded_sets:
          - {name: llmfao, format: llmfao, path: "builtin:llmfao", chunk_delay_seconds: 0.01}
        """,
    )
    config = load_config(path)
    prompt = config.recorded_prompts()[0]
    contestant = config.contestant(prompt.models[0])
    provider = build_provider(contestant)
    started = time.monotonic()
    events = [e async for e in provider.stream([{"role": "user", "content": prompt.text}])]
    assert time.monotonic() - started >= 0.01 * (len(events) - 2)
    # Pacing is presentation: the same answers keep the same version.
    default = load_config().contestant(contestant.name)
    assert contestant.settings_fingerprint == default.settings_fingerprint


def test_a_live_contestant_without_organization_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        contestants:
          - name: known
            organization: unknown
            provider: {kind: local, weights: smollm2-135m-instruct}
          - name: anonymous-lab
            provider: {kind: local, weights: gemma-3-270m}
        """,
    )
    [(line, message)] = problems(path)
    assert line == 5
    assert message.startswith(
        "contestant 'anonymous-lab': a live contestant needs an 'organization'"
    )
    unknown = write(
        tmp_path, path.read_text().replace("anonymous-lab", "x\n    organization: Google")
    )
    assert load_config(unknown).contestant("known").organization == "unknown"


def test_recorded_contestants_take_their_organization_from_the_data(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        recorded_sets:
          - {name: llmfao, format: llmfao, path: "builtin:llmfao", contestants: ["Alpaca (7B)"]}
        contestants:
          - name: claude
            organization: Anthropic (relabelled)
            family: claude
            provider: {kind: recorded, set: llmfao, model: Claude v1}
        """,
    )
    config = load_config(path)
    assert config.contestant("Alpaca (7B)").organization == "Stanford"
    claude = config.contestant("claude")
    assert (claude.organization, claude.family) == ("Anthropic (relabelled)", "claude")


def test_an_unknown_retirement_rule_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        integrity:
          retirement:
            - rule: inactive
              days: 30
            - rule: when_the_operator_feels_like_it
        """,
    )
    [(line, message)] = problems(path)
    assert line == 5
    assert "when_the_operator_feels_like_it" in message
    assert "inactive" in message and "superseded" in message and "removed_from_config" in message


def test_stream_and_sampling_sections_default_to_paced_and_fair(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, OPENAI_CONTESTANT))
    assert config.stream.paced and not config.stream.show_timings
    assert config.stream.tick_ms == 50 and config.stream.chunk_chars == 24
    assert config.sampling.policy == "fair-informative" and config.sampling.pinned == {}


def test_sampling_pins_must_name_contestants_and_stream_settings_their_range(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        OPENAI_CONTESTANT
        + """\
stream:
  tick_ms: 0
sampling:
  pinned:
    house-model: 0.2
    no-such-model: 0.1
""",
    )
    found = problems(path)
    assert [line for line, _ in found] == [11]
    assert "stream.tick_ms" in found[0][1]
    path = write(tmp_path, OPENAI_CONTESTANT + "sampling:\n  pinned:\n    no-such-model: 0.1\n")
    assert problems(path) == [
        (12, "sampling.pinned.no-such-model: no contestant is named 'no-such-model'")
    ]
