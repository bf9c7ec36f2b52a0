"""Identifiability: a text classifier naming the model that wrote an answer."""

from __future__ import annotations

import pytest

from glassarena.analysis.identifiability import identifiability


def test_a_model_with_a_signature_is_identified() -> None:
    texts, models = [], []
    for index in range(12):
        texts.append(f"Certainly! Here is answer {index}. -- signed, bot-one")
        models.append("one")
        texts.append(f"answer {index} follows, plain and short")
        models.append("two")
    result = identifiability(texts, models, folds=3)
    assert result.per_model["one"] == 1.0 and result.accuracy > 0.9 and result.chance == 0.5


def test_needs_two_models_and_two_answers_each() -> None:
    with pytest.raises(ValueError, match="two models"):
        identifiability(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match="two answers"):
        identifiability(["a", "b", "c"], ["x", "x", "y"])
