"""Every failure names what was wrong and where, and a prior rescues unidentifiable fits."""

from __future__ import annotations

import numpy as np
import pytest

from glassarena.ratings import (
    BradleyTerry,
    DisconnectedGraphError,
    EmptyInputError,
    InvalidInputError,
    InvalidOutcomeError,
    OnlineElo,
    PerfectSeparationError,
    RatingError,
    SelfBattleError,
    StyleControlledBradleyTerry,
    UnknownModelError,
)


def _battles(*triples: tuple[str, str, float]) -> tuple[list[str], list[str], list[float]]:
    return [a for a, _, _ in triples], [b for _, b, _ in triples], [o for _, _, o in triples]


MIXED = [("alpha", "beta", 1.0), ("beta", "alpha", 1.0), ("alpha", "beta", 0.5)]


def test_all_errors_are_rating_errors() -> None:
    for error in (
        DisconnectedGraphError,
        EmptyInputError,
        InvalidInputError,
        InvalidOutcomeError,
        PerfectSeparationError,
        SelfBattleError,
        UnknownModelError,
    ):
        assert issubclass(error, RatingError)


def test_self_battle_names_rows_and_model() -> None:
    battles = _battles(*MIXED, ("gamma", "gamma", 1.0), ("beta", "gamma", 0.0))
    with pytest.raises(SelfBattleError, match=r"rows 3 .*gamma") as caught:
        BradleyTerry().fit(*battles)
    assert caught.value.rows == [3]
    assert caught.value.models == ["gamma"]


def test_empty_input() -> None:
    with pytest.raises(EmptyInputError, match="no battles"):
        BradleyTerry().fit([], [], [])
    with pytest.raises(EmptyInputError, match="weight 0"):
        BradleyTerry().fit(*_battles(*MIXED), weights=[0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("outcomes", "shown"),
    [
        ([1.0, 0.7, 0.5], "row 1: 0.7"),
        ([1.0, 0.0, float("nan")], "row 2: nan"),
        ([1.0, "model_a", 0.5], "row 1: 'model_a'"),
        ([1.0, 2.0, -1.0], "row 1: 2.0, row 2: -1.0"),
    ],
)
def test_outcomes_other_than_win_loss_tie_are_refused(outcomes: list[object], shown: str) -> None:
    model_a, model_b, _ = _battles(*MIXED)
    with pytest.raises(InvalidOutcomeError, match=shown):
        BradleyTerry().fit(model_a, model_b, outcomes)
    with pytest.raises(InvalidOutcomeError, match=r"0\.5 \(tie\)"):
        OnlineElo().fit(model_a, model_b, outcomes)


def test_bad_shapes_and_weights_are_named() -> None:
    with pytest.raises(InvalidInputError, match="differ in length"):
        BradleyTerry().fit(["a", "b"], ["b"], [1.0, 0.0])
    with pytest.raises(InvalidInputError, match=r"weights .* row 1"):
        BradleyTerry().fit(*_battles(*MIXED), weights=[1.0, -2.0, 1.0])
    with pytest.raises(InvalidInputError, match=r"model_b must hold model names .* row 2"):
        BradleyTerry().fit(["a", "b", "a"], ["b", "a", None], [1.0, 0.0, 1.0])


def test_disconnected_graph_lists_the_parts() -> None:
    battles = _battles(
        *MIXED,
        ("gamma", "delta", 1.0),
        ("delta", "gamma", 1.0),
    )
    with pytest.raises(
        DisconnectedGraphError, match=r"alpha, beta.*delta, gamma.*prior="
    ) as caught:
        BradleyTerry().fit(*battles)
    assert caught.value.components == [["alpha", "beta"], ["delta", "gamma"]]
    fitted = BradleyTerry(prior=1.0).fit(*battles)
    assert np.all(np.isfinite(fitted.ratings_)) and np.all(np.isfinite(fitted.lower_))


def test_model_that_won_every_battle() -> None:
    battles = _battles(*MIXED, ("champion", "alpha", 1.0), ("beta", "champion", 0.0))
    with pytest.raises(
        PerfectSeparationError, match=r"champion won every battle.*prior="
    ) as caught:
        BradleyTerry().fit(*battles)
    assert caught.value.models == ["champion"]
    fitted = BradleyTerry(prior=1.0).fit(*battles)
    assert fitted.models_[np.argmax(fitted.ratings_)] == "champion"
    assert np.all(np.isfinite(fitted.upper_))


def test_model_that_lost_every_battle() -> None:
    battles = _battles(*MIXED, ("loser", "alpha", 0.0), ("beta", "loser", 1.0))
    with pytest.raises(PerfectSeparationError, match="loser lost every battle") as caught:
        BradleyTerry(ci="bootstrap", rounds=10).fit(*battles)
    assert caught.value.models == ["loser"]


def test_group_that_never_loses_to_the_rest() -> None:
    battles = _battles(
        ("a1", "a2", 1.0),
        ("a2", "a1", 1.0),
        ("b1", "b2", 1.0),
        ("b2", "b1", 0.5),
        ("a1", "b1", 1.0),
        ("b2", "a2", 0.0),
    )
    with pytest.raises(PerfectSeparationError, match=r"group a1, a2 never lost") as caught:
        BradleyTerry().fit(*battles)
    assert caught.value.unbeaten == [["a1", "a2"]]
    assert caught.value.winless == [["b1", "b2"]]
    assert caught.value.models == ["a1", "a2", "b1", "b2"]
    assert np.all(np.isfinite(BradleyTerry(prior=0.5).fit(*battles).ratings_))


def test_style_control_checks_the_same_graph() -> None:
    battles = _battles(*MIXED, ("champion", "alpha", 1.0), ("beta", "champion", 0.0))
    features = np.array([[10.0], [20.0], [5.0], [7.0], [1.0]])
    with pytest.raises(PerfectSeparationError, match="champion"):
        StyleControlledBradleyTerry().fit(*battles, features, features[::-1], ["tokens"])


def test_unknown_models_and_bad_options() -> None:
    fitted = BradleyTerry().fit(*_battles(*MIXED))
    with pytest.raises(UnknownModelError, match="omega"):
        fitted.predict_proba(["alpha"], ["omega"])
    with pytest.raises(UnknownModelError, match="omega"):
        BradleyTerry(anchor=("omega", 1200.0)).fit(*_battles(*MIXED))
    with pytest.raises(ValueError, match="center=False needs an anchor"):
        BradleyTerry(center=False).fit(*_battles(*MIXED))
    with pytest.raises(ValueError, match="ci must be one of"):
        BradleyTerry(ci="jackknife").fit(*_battles(*MIXED))


def test_bad_codes_are_named() -> None:
    outcome = [1.0, 0.0, 0.5]
    with pytest.raises(InvalidInputError, match=r"model_b must index the 2 models; row 1 holds 2"):
        BradleyTerry().fit([0, 1, 0], [1, 2, 1], outcome, models=["a", "b"])
    with pytest.raises(InvalidInputError, match="model_a must hold integer indices"):
        BradleyTerry().fit(["a", "b", "a"], [1, 0, 1], outcome, models=["a", "b"])
    with pytest.raises(InvalidInputError, match="repeated: a"):
        BradleyTerry().fit([0, 1, 0], [1, 0, 1], outcome, models=["a", "a"])
    with pytest.raises(InvalidInputError, match="models must hold model names"):
        BradleyTerry().fit([0, 1, 0], [1, 0, 1], outcome, models=["a", 7])
    with pytest.raises(SelfBattleError, match=r"rows 2 .*models: b"):
        BradleyTerry().fit([0, 1, 1], [1, 0, 1], outcome, models=["a", "b"])


def test_the_quick_connectivity_check_agrees_with_scipy() -> None:
    """Fits check the beat graph in numpy, and load scipy's graph routines only to name
    the parts of one that fails: both must say the same of every graph."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from glassarena.ratings._graph import _strongly_connected

    rng = np.random.default_rng(3)
    verdicts = []
    for _ in range(300):
        n = int(rng.integers(2, 12))
        edges = int(rng.integers(0, n * n))
        winners, losers = rng.integers(0, n, edges), rng.integers(0, n, edges)
        graph = coo_matrix((np.ones(edges), (winners, losers)), shape=(n, n))
        parts, _ = connected_components(graph, directed=True, connection="strong")
        verdicts.append(parts == 1)
        assert _strongly_connected(winners, losers, n) == (parts == 1), (n, winners, losers)
    assert any(verdicts) and not all(verdicts)
