"""Recorded answers from the shipped LLMFAO files and from the generic JSONL layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glassarena.providers.base import Finished, ProviderError, TextDelta
from glassarena.providers.recorded import (
    RecordedAnswerMissing,
    RecordedDataError,
    RecordedProvider,
    load_generic,
    load_llmfao,
    shows_something,
)


def test_llmfao_loads_every_prompt_model_and_answer(llmfao_dir: Path) -> None:
    answers = load_llmfao(llmfao_dir)
    assert len(answers.prompts) == 19
    assert len(answers.models) == 70
    assert len(answers) == 1133
    k8s = answers.prompts["8"]
    assert k8s.text == "Argue for and against the use of kubernetes in the style of a haiku."
    assert k8s.category == "reflexion"
    airoboros = answers.pick("8", "Airoboros L2 70B")
    assert airoboros.text.startswith("For Kubernetes, a plea,")
    assert airoboros.source.endswith("results.jsonl:1")


def test_blank_answers_are_left_out_of_battle_candidates_unless_asked(llmfao_dir: Path) -> None:
    answers = load_llmfao(llmfao_dir)
    for prompt_id in answers.prompts:
        everyone = answers.models_for(prompt_id, include_empty=True)
        with_text = answers.models_for(prompt_id)
        assert set(with_text) <= set(everyone)
        assert all(answers.pick(prompt_id, model).text.strip() for model in with_text)
    blank = sum(
        len(answers.models_for(p, include_empty=True)) - len(answers.models_for(p))
        for p in answers.prompts
    )
    # The real data set holds 69 empty responses, and 8 with nothing to read once rendered
    # (a voter would see an empty pane): Koala's zero-width space (3), CodeGen2's lone "#"
    # (3, an empty heading) and RedPajama's row of "#" (2).
    assert blank == 69 + 8
    assert "Koala (13B)" not in answers.models_for("5")
    assert "CodeGen2 (16B)" not in answers.models_for("1")


def test_an_answer_shows_something_when_it_has_anything_to_read() -> None:
    assert not any(shows_something(text) for text in ("", " \n", "\u200b", "\n\n#", "**"))
    assert all(shows_something(text) for text in ("NIKE", "# Title", "42", "🙂", "<human>"))


def test_pick_names_what_is_missing(llmfao_dir: Path) -> None:
    answers = load_llmfao(llmfao_dir)
    with pytest.raises(RecordedAnswerMissing, match=r"'Nobody'.*'8'"):
        answers.pick("8", "Nobody")


async def test_provider_streams_the_recorded_answer_in_pieces(llmfao_dir: Path) -> None:
    answers = load_llmfao(llmfao_dir)
    provider = RecordedProvider(answers, "Airoboros L2 70B")
    prompt = answers.prompts["8"].text
    events = [e async for e in provider.stream([{"role": "user", "content": prompt}])]
    pieces = [event.text for event in events if isinstance(event, TextDelta)]
    assert len(pieces) > 5
    assert "".join(pieces) == answers.pick("8", "Airoboros L2 70B").text
    assert events[-1] == Finished(completion_tokens=None, finish_reason="stop")


async def test_provider_refuses_prompts_outside_its_set(llmfao_dir: Path) -> None:
    provider = RecordedProvider(load_llmfao(llmfao_dir), "Airoboros L2 70B")
    with pytest.raises(ProviderError) as caught:
        [e async for e in provider.stream([{"role": "user", "content": "Something new"}])]
    assert caught.value.kind == "refused"


def test_digest_changes_only_with_the_models_answers(llmfao_dir: Path) -> None:
    answers = load_llmfao(llmfao_dir)
    assert answers.digest("Airoboros L2 70B") == load_llmfao(llmfao_dir).digest("Airoboros L2 70B")
    assert answers.digest("Airoboros L2 70B") != answers.digest("Alpaca (7B)")


def write_lines(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


def test_generic_layout(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "answers.jsonl",
        [
            {"prompt": "Name a planet.", "model": "m1", "answer": "Mars"},
            {"prompt": "Name a planet.", "model": "m2", "answer": "Venus", "category": "trivia"},
            "",
            {"prompt": "2+2?", "prompt_id": "sum", "model": "m1", "answer": "4"},
        ],
    )
    answers = load_generic(path)
    assert answers.name == "answers"
    assert answers.models == ["m1", "m2"]
    planet = answers.prompt_for_text("Name a planet.")
    assert planet is not None
    assert answers.models_for(planet.id) == ["m1", "m2"]
    assert answers.pick("sum", "m1").text == "4"
    assert answers.pick(planet.id, "m2").source == f"{path}:2"


@pytest.mark.parametrize(
    ("records", "line", "message"),
    [
        ([{"prompt": "p", "model": "m", "answer": "a"}, "{not json"], 2, "not valid JSON"),
        ([{"prompt": "p", "model": "m"}], 1, "missing field 'answer'"),
        ([{"prompt": "p", "model": 3, "answer": "a"}], 1, "field 'model' has the wrong type"),
        (
            [
                {"prompt": "p", "model": "m", "answer": "a"},
                {"prompt": "p", "model": "m", "answer": "b"},
            ],
            2,
            "second answer by 'm'.*first at line 1",
        ),
        (
            [
                {"prompt": "p", "prompt_id": "x", "model": "m", "answer": "a"},
                {"prompt": "q", "prompt_id": "x", "model": "n", "answer": "b"},
            ],
            2,
            "prompt_id 'x' is used for two prompts",
        ),
    ],
)
def test_generic_errors_name_file_and_line(
    tmp_path: Path, records: list[object], line: int, message: str
) -> None:
    path = write_lines(tmp_path / "bad.jsonl", records)
    with pytest.raises(RecordedDataError, match=message) as caught:
        load_generic(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_llmfao_results_must_refer_to_known_prompts(tmp_path: Path) -> None:
    write_lines(tmp_path / "prompts.jsonl", [{"id": 1, "text": "Hi", "type": "chat"}])
    write_lines(tmp_path / "results.jsonl", [{"prompt": 2, "name": "m", "result": "Hello"}])
    with pytest.raises(RecordedDataError, match=r"results.jsonl:1: prompt '2' is not in prompts"):
        load_llmfao(tmp_path)
