"""The sampling policy: uniform over pairs, random sides, never a model against itself."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from glassarena.arena.errors import NoContestants
from glassarena.arena.sampling import Candidate, UniformPairs


def _candidates(*names: str) -> list[Candidate]:
    return [Candidate(name) for name in names]


def test_pairs_are_uniform_and_sides_random() -> None:
    policy = UniformPairs(random.Random(7))
    draws = Counter()
    for _ in range(6_000):
        pairing = policy.choose(_candidates("a", "b", "c"))
        assert pairing.model_a != pairing.model_b
        draws[(pairing.model_a, pairing.model_b)] += 1
    assert len(draws) == 6  # every ordered pair occurs
    assert all(800 < count < 1_200 for count in draws.values())  # ~1000 each


def test_duplicates_in_candidates_do_not_pair_a_model_with_itself() -> None:
    policy = UniformPairs(random.Random(1))
    for _ in range(200):
        pairing = policy.choose(_candidates("a", "a", "a", "b"))
        assert {pairing.model_a, pairing.model_b} == {"a", "b"}


@pytest.mark.parametrize("candidates", [[], ["solo"], ["solo", "solo"]])
def test_fewer_than_two_models_is_a_clear_error(candidates: list[str]) -> None:
    with pytest.raises(NoContestants) as raised:
        UniformPairs().choose(_candidates(*candidates))
    assert raised.value.status == 503
