"""The identity-leak guard on written revealing / non-revealing battles and LLMFAO answers."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from glassarena.arena.identity_guard import (
    REVEALED_MESSAGE,
    IdentityGuard,
    IdentityVerdict,
    SideIdentity,
)
from glassarena.arena.voter import Voter
from glassarena.arena.votes import (
    AnonymousCompletedBattles,
    BattleTranscript,
    IdentityGuarded,
    VoteContext,
)
from glassarena.vocabulary import BattleKind, BattleMode

CLAUDE = SideIdentity("claude-3-haiku", "Anthropic")
LLAMA = SideIdentity("llama-3.1-8b-instruct", "Meta")
GPT = SideIdentity("gpt-4o-mini", "OpenAI")
GEMMA = SideIdentity("gemma-3-270m", "Google")

# (prompt, answer, who answered, reveals?)
WRITTEN: list[tuple[str, str, SideIdentity, bool]] = [
    # prompts asking the model who it is
    ("Who are you?", "A helpful assistant.", GPT, True),
    ("which model are you, honestly", "I'd rather not say.", LLAMA, True),
    ("What is your name?", "You can call me Assistant.", GEMMA, True),
    ("Who trained you?", "A team of researchers.", CLAUDE, True),
    ("Are you ChatGPT?", "No comment.", CLAUDE, True),
    ("Please introduce yourself in one line.", "Hello there!", GEMMA, True),
    # answers identifying themselves
    ("Write a haiku about rain.", "I'm Claude, and here is a haiku: ...", CLAUDE, True),
    ("Tell me a joke.", "As an AI language model developed by OpenAI, I love jokes.", GPT, True),
    (
        "Summarise this text.",
        "I am a large language model, trained by Google. Summary: ...",
        GEMMA,
        True,
    ),
    ("Say hi.", "Hi! I'm Llama, a model by Meta.", LLAMA, True),
    ("Hello", "Hello, I am ChatGPT. How can I help?", LLAMA, True),  # false identity misleads too
    ("Help me plan a trip.", "My name is Gemini and I'd love to help.", GEMMA, True),
    ("Explain recursion.", "I was trained by Anthropic to explain things clearly.", CLAUDE, True),
    # naming its own family unprompted
    ("Write a limerick.", "A limerick, brought to you by Gemma: ...", GEMMA, True),
    ("Describe your strengths.", "Claude models are good at careful writing.", CLAUDE, True),
    ("What's new in AI?", "OpenAI recently released new reasoning models.", GPT, True),
    # mentions as a topic: not revealing
    (
        "Compare GPT-4 and Claude for coding.",
        "GPT-4 is strong at code; Claude writes long files well.",
        CLAUDE,
        False,
    ),
    (
        "Compare GPT-4 and Claude for coding.",
        "GPT-4 is strong at code; Claude writes long files well.",
        GPT,
        False,
    ),
    (
        "What is Llama 3?",
        "Llama 3 is a family of open-weight models released by Meta.",
        LLAMA,
        False,
    ),
    (
        "Tell me about Gemini the zodiac sign.",
        "Gemini is the third sign of the zodiac.",
        GEMMA,
        False,
    ),
    ("Who founded OpenAI?", "OpenAI was founded in 2015 by Sam Altman and others.", GPT, False),
    ("Write about llamas.", "The llama is a domesticated South American camelid.", LLAMA, False),
    (
        "Write a poem on wind.",
        "The mistral blows cold down the Rhône valley.",
        SideIdentity("mistral-7b", "Mistral AI"),
        False,
    ),
    (
        "Is GPT-4 better than Gemini?",
        "It depends: GPT-4 by OpenAI is a model developed by OpenAI; Gemini by Google.",
        CLAUDE,
        False,
    ),
    # ordinary battles
    (
        "What are you going to cook tonight? Give me three ideas.",
        "Pasta, curry, or soup.",
        GPT,
        False,
    ),
    ("Translate 'good morning' to French.", "Bonjour.", GEMMA, False),
    (
        "Write a Python function that reverses a list.",
        "def reverse(xs):\n    return xs[::-1]",
        LLAMA,
        False,
    ),
    (
        "Explain photosynthesis.",
        "Plants turn light, water and CO2 into sugar and oxygen.",
        CLAUDE,
        False,
    ),
    (
        "I am an engineer at Google. How do I ask for a raise?",
        "Prepare evidence of impact.",
        GPT,
        False,
    ),
    ("Summarise: Claude Monet painted water lilies.", "Monet painted water lilies.", GPT, False),
]


def _reveals(prompt: str, answer: str, who: SideIdentity) -> bool:
    leak = IdentityGuard().check([prompt], {"a": [answer]}, {"a": who})
    return leak is not None


def test_precision_and_recall_on_the_written_set() -> None:
    predicted = [_reveals(prompt, answer, who) for prompt, answer, who, _ in WRITTEN]
    truth = [reveals for *_, reveals in WRITTEN]
    hits = sum(p and t for p, t in zip(predicted, truth, strict=True))
    precision = hits / max(sum(predicted), 1)
    recall = hits / sum(truth)
    wrong = [case[:2] for case, p in zip(WRITTEN, predicted, strict=True) if p != case[3]]
    assert (precision, recall) == (1.0, 1.0), wrong


def test_no_false_alarm_on_the_llmfao_answers(llmfao_dir: Path) -> None:
    organizations = {}
    for line in (llmfao_dir / "models.jsonl").read_text().splitlines():
        record = json.loads(line)
        organizations[record["name"]] = record.get("org")
    prompts = {}
    for line in (llmfao_dir / "prompts.jsonl").read_text().splitlines():
        record = json.loads(line)
        prompts[record["id"]] = record["text"]
    guard = IdentityGuard()
    flagged = []
    answers = (llmfao_dir / "results.jsonl").read_text().splitlines()
    for line in answers:
        record = json.loads(line)
        who = SideIdentity(record["name"], organizations.get(record["name"]))
        leak = guard.check([prompts[record["prompt"]]], {"a": [record["result"] or ""]}, {"a": who})
        if leak is not None:
            flagged.append((record["name"], leak.describe()))
    # None of LLMFAO's 1,132 answers names its own model; one says "As an AI language
    # model" without naming anyone, which reveals nothing.
    assert len(answers) > 1000 and flagged == []


def _context(transcript: BattleTranscript | None) -> VoteContext:
    return VoteContext(
        mode=BattleMode.ANONYMOUS,
        kind=BattleKind.TEXT,
        category="general",
        voter=Voter("v", "ip"),
        transcript=transcript,
    )


@pytest.mark.parametrize(
    ("answer_a", "counted"),
    [("Hi, I'm Claude, made by Anthropic.", False), ("Hi! How can I help?", True)],
)
def test_a_revealing_battle_is_not_counted(answer_a: str, counted: bool) -> None:
    acceptance = IdentityGuarded(AnonymousCompletedBattles())
    transcript = BattleTranscript(
        prompts=("Say hello.",),
        answers={"a": (answer_a,), "b": ("Hello!",)},
        contestants={"a": CLAUDE, "b": GPT},
    )
    verdict = acceptance.judge(_context(transcript))
    assert verdict.counted is counted
    if not counted:
        assert verdict.reason is not None and verdict.reason.startswith(REVEALED_MESSAGE)
        assert "answer A identifies itself" in verdict.reason


def test_without_a_transcript_the_inner_rules_decide() -> None:
    assert IdentityGuarded(AnonymousCompletedBattles()).judge(_context(None)).counted


def test_the_guard_can_be_switched_off_and_extended() -> None:
    assert not IdentityGuard(enabled=False).check(["Who are you?"], {}, {})
    custom = IdentityGuard(families={"acme": ("Acme", "RoadRunner")})
    leak = custom.check(
        ["Write a poem."], {"a": ["A poem by RoadRunner."]}, {"a": SideIdentity("acme-1", "Acme")}
    )
    assert leak is not None and leak.rule == "names-itself"


def test_config_section_extends_the_families() -> None:
    from glassarena.arena.config.schema import ArenaFile
    from glassarena.arena.identity_guard import guard_from_config

    section = ArenaFile.model_validate(
        {"identity_guard": {"families": {"acme": ["Acme", "RoadRunner"]}}}
    ).identity_guard
    guard = guard_from_config(section.enabled, section.families)
    assert "anthropic" in guard.families and guard.families["acme"] == ("Acme", "RoadRunner")


def _unread() -> BattleTranscript:
    raise AssertionError("the texts were read although a stored verdict serves")


def test_a_stored_verdict_of_the_same_guard_spares_reading_the_texts() -> None:
    guard = IdentityGuard()
    contestants = {"a": CLAUDE, "b": GPT}
    revealing = guard.verdict(["Say hello."], {"a": ["I'm Claude."], "b": ["Hi!"]}, contestants)
    stored = IdentityVerdict.from_stored(revealing.stored())  # as read back from the database
    assert stored == revealing
    context = replace(
        _context(None),
        identity_verdict=stored,
        contestants=contestants,
        read_transcript=_unread,
    )
    verdict = IdentityGuarded(AnonymousCompletedBattles(), guard).judge(context)
    assert not verdict.counted
    assert verdict.reason == f"{REVEALED_MESSAGE} (answer A identifies itself as 'Claude')"


@pytest.mark.parametrize(
    "stored_by",
    [
        IdentityGuard(enabled=False),  # another configuration
        IdentityGuard(families={"acme": ("Acme",)}),
    ],
)
def test_a_verdict_by_another_guard_or_for_other_sides_is_judged_again(
    stored_by: IdentityGuard,
) -> None:
    transcript = BattleTranscript(
        prompts=("Say hello.",),
        answers={"a": ("I'm Claude.",), "b": ("Hi!",)},
        contestants={"a": CLAUDE, "b": GPT},
    )
    stale = stored_by.verdict(transcript.prompts, transcript.answers, transcript.contestants)
    context = replace(
        _context(None),
        identity_verdict=stale,
        contestants=transcript.contestants,
        read_transcript=lambda: transcript,
    )
    guarded = IdentityGuarded(AnonymousCompletedBattles(), IdentityGuard())
    assert not guarded.judge(context).counted
    # the same verdict for other sides (an organization corrected in the config) is stale too
    renamed = {"a": SideIdentity(CLAUDE.name, "Someone Else"), "b": GPT}
    assert IdentityGuard().judged_by(renamed) != IdentityGuard().judged_by(transcript.contestants)


def test_without_a_stored_verdict_the_texts_are_read() -> None:
    transcript = BattleTranscript(
        prompts=("Who are you?",), answers={"a": ("Hi",), "b": ("Hi",)}, contestants={}
    )
    context = replace(_context(None), read_transcript=lambda: transcript)
    verdict = IdentityGuarded(AnonymousCompletedBattles()).judge(context)
    assert verdict.reason == f"{REVEALED_MESSAGE} (the prompt asks the model who it is)"
