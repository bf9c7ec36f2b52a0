"""Estimators used before `fit` say they are not fitted, as scikit-learn's do."""

from __future__ import annotations

import numpy as np
import pytest

from glassarena.ratings import (
    BradleyTerry,
    NotFittedError,
    OnlineElo,
    StyleControlledBradleyTerry,
)

ESTIMATORS = [BradleyTerry, StyleControlledBradleyTerry, OnlineElo]


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_predict_proba_before_fit_says_not_fitted(estimator: type) -> None:
    name = estimator.__name__
    with pytest.raises(NotFittedError, match=rf"this {name} is not fitted yet.*predict_proba"):
        estimator().predict_proba(["a"], ["b"])


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_fitted_attributes_before_fit_say_not_fitted(estimator: type) -> None:
    unfitted = estimator()
    with pytest.raises(NotFittedError, match=r"not fitted yet: call fit\(\.\.\.\) before using"):
        _ = unfitted.ratings_
    # Still an AttributeError, so hasattr/getattr keep telling fitted from unfitted.
    assert not hasattr(unfitted, "models_")
    assert getattr(unfitted, "rank_", None) is None
    with pytest.raises(AttributeError, match="no attribute 'not_a_thing'") as caught:
        _ = unfitted.not_a_thing
    assert not isinstance(caught.value, NotFittedError)


def test_a_fitted_estimator_predicts() -> None:
    model_a = np.array(["a", "b", "c", "a"])
    model_b = np.array(["b", "c", "a", "c"])
    fitted = BradleyTerry().fit(model_a, model_b, np.array([1.0, 0.5, 0.0, 0.5]))
    assert hasattr(fitted, "ratings_")
    assert fitted.predict_proba(["a"], ["b"])[0] > 0.5
