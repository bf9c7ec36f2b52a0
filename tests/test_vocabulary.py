"""One vocabulary: every word the arena stores or sends, and who may import it."""

from __future__ import annotations

import ast
from pathlib import Path

from glassarena.arena.config.providers import PROVIDER_KINDS
from glassarena.arena.config.schema import AnyProviderSettings
from glassarena.battles.record import WINNER_LABELS, parse_winner
from glassarena.vocabulary import (
    CATEGORIES,
    CATEGORY_LABELS,
    WEBDEV_CATEGORIES,
    WEBDEV_STACK_BOARDS,
    BattleKind,
    PromptCategory,
    VoteChoice,
    WebdevStack,
    Winner,
)

SOURCE = Path(__file__).parents[1] / "src" / "glassarena"


def test_each_vote_choice_means_a_distinct_verdict() -> None:
    assert sorted(choice.winner for choice in VoteChoice) == sorted(Winner)
    # The button's words are also accepted spellings of the verdict in battle files.
    assert all(parse_winner(choice.winner.value) is choice.winner for choice in VoteChoice)
    assert WINNER_LABELS["both_bad"] is VoteChoice.BOTH_BAD.winner


def test_stored_words_are_plain_strings_in_json() -> None:
    import json

    assert json.dumps({"kind": BattleKind.WEBDEV, "winner": Winner.BOTH_BAD}) == (
        '{"kind": "webdev", "winner": "tie (bothbad)"}'
    )


def test_battle_kinds_carry_their_properties() -> None:
    assert BattleKind.live_kinds() == (BattleKind.TEXT, BattleKind.WEBDEV)
    assert BattleKind.replayed_kinds() == (BattleKind.RECORDED,)
    assert [kind for kind in BattleKind if kind.traits.system_prompt] == [BattleKind.WEBDEV]
    # One board per kind of battle, then one per prompt category (text battles only), then
    # one per WebDev stack (WebDev battles only).
    stacks = ("webdev_html", "webdev_react", "webdev_vue", "webdev_python", "webdev_mermaid")
    assert ("text", "webdev", "recorded", *PromptCategory, *stacks) == CATEGORIES
    assert {"webdev", *stacks} == WEBDEV_CATEGORIES
    assert set(WEBDEV_STACK_BOARDS.values()) == set(WebdevStack)
    assert CATEGORY_LABELS["webdev_react"] == "WebDev · React"


def test_every_provider_settings_class_has_one_registered_kind() -> None:
    schemas = set(AnyProviderSettings.__args__)
    assert {kind.settings for kind in PROVIDER_KINDS.values()} == schemas
    for name, kind in PROVIDER_KINDS.items():
        assert kind.settings.model_fields["kind"].annotation.__args__ == (name,)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_vocabulary_depends_on_nothing_of_glassarena() -> None:
    assert not any(name.startswith("glassarena") for name in _imports(SOURCE / "vocabulary.py"))


def test_the_application_layer_never_touches_sqlalchemy() -> None:
    """Storage hands out its read model and raises StorageError; arena/ needs nothing more."""
    offenders = {
        str(path.relative_to(SOURCE)): sorted(
            name for name in _imports(path) if name.split(".")[0] == "sqlalchemy"
        )
        for path in (SOURCE / "arena").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
