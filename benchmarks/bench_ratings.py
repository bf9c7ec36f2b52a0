"""Time glassarena's rating core against arena-rank, FastChat and evalica on the same data.

Run: python benchmarks/bench_ratings.py [--battles N] [--models M] [--repeats R]

Every contender starts from the same raw table (a pandas DataFrame in LMArena's shape:
model_a, model_b, winner labels, per-side style counts) and its time includes its own data
preparation. Peers that would take too long run on fewer rounds or battles, and the table
says so. Reported: the median of the repeats, and time ratios glassarena / peer.
"""

from __future__ import annotations

import argparse
import ast
import math
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import make_battles, make_style_battles
from glassarena.ratings import BradleyTerry, StyleControlledBradleyTerry

LABELS = np.array(["model_b", "tie", "model_a"], dtype=object)
STYLE_COLUMNS = ("sum_assistant_tokens", "header_count", "list_count", "bold_count")
console = Console(width=170)


def battle_frame(battles: Any) -> pd.DataFrame:
    """The raw table as a leaderboard would hold it: labels, not numbers."""
    codes = np.rint(battles.outcome * 2).astype(int)
    return pd.DataFrame(
        {"model_a": battles.model_a, "model_b": battles.model_b, "winner": LABELS[codes]}
    )


def style_frame(battles: Any) -> pd.DataFrame:
    frame = battle_frame(battles)
    for index, name in enumerate(STYLE_COLUMNS):
        frame[f"{name}_a"] = battles.features_a[:, index]
        frame[f"{name}_b"] = battles.features_b[:, index]
    return frame


OUTCOME_OF_LABEL = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5}


def outcomes_from_labels(winner: pd.Series) -> np.ndarray:
    """1 / 0 / 0.5 per battle; the few distinct labels are mapped, not every cell."""
    codes, labels = pd.factorize(winner)
    return np.array([OUTCOME_OF_LABEL[label] for label in labels])[codes]


def coded_models(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Both name columns as integer codes into one list of names (each column factorised once)."""
    codes_a, names_a = pd.factorize(frame["model_a"])
    codes_b, names_b = pd.factorize(frame["model_b"])
    position = {name: index for index, name in enumerate(names_a)}
    for name in names_b:
        position.setdefault(name, len(position))
    b_to_joint = np.array([position[name] for name in names_b], dtype=np.intp)
    return codes_a, b_to_joint[codes_b], list(position)


# --- glassarena -------------------------------------------------------------------------


def glassarena_bt(frame: pd.DataFrame, **options: Any) -> BradleyTerry:
    code_a, code_b, models = coded_models(frame)
    return BradleyTerry(**options).fit(
        code_a, code_b, outcomes_from_labels(frame["winner"]), models=models
    )


def glassarena_style(frame: pd.DataFrame) -> StyleControlledBradleyTerry:
    code_a, code_b, models = coded_models(frame)
    features_a = frame[[f"{name}_a" for name in STYLE_COLUMNS]].to_numpy(dtype=float)
    features_b = frame[[f"{name}_b" for name in STYLE_COLUMNS]].to_numpy(dtype=float)
    return StyleControlledBradleyTerry().fit(
        code_a,
        code_b,
        outcomes_from_labels(frame["winner"]),
        features_a,
        features_b,
        STYLE_COLUMNS,
        models=models,
    )


# --- arena-rank ---------------------------------------------------------------------------


def arena_rank_bt(frame: pd.DataFrame, method: str = "sandwich", rounds: int = 0) -> dict:
    from arena_rank.models.bradley_terry import BradleyTerry as ArenaBradleyTerry
    from arena_rank.utils.data_utils import PairDataset

    dataset = PairDataset.from_pandas(frame)
    model = ArenaBradleyTerry(n_competitors=len(dataset.competitors))
    if method == "bootstrap":
        # arena-rank's fork-based pool deadlocks once JAX has started threads; spawn works.
        multiprocessing.set_start_method("spawn", force=True)
    result = model.compute_ratings_and_cis(
        dataset, ci_method=method, num_bootstrap=rounds, n_jobs=2, seed=0
    )
    return {key: np.asarray(value) for key, value in result.items()}


def arena_rank_style(frame: pd.DataFrame) -> dict:
    from arena_rank.models.contextual_bradley_terry import ContextualBradleyTerry
    from arena_rank.utils.data_utils import ContextualPairDataset

    prepared = frame.copy()
    for name in STYLE_COLUMNS:
        side_a, side_b = prepared[f"{name}_a"], prepared[f"{name}_b"]
        prepared[name] = (side_a - side_b) / (side_a + side_b + 1)
    dataset = ContextualPairDataset.from_pandas(
        prepared, feature_cols=list(STYLE_COLUMNS), reweighted=False
    )
    # reg=0: the same unpenalised objective as ours (arena-rank's default is reg=1.0).
    model = ContextualBradleyTerry(
        n_competitors=len(dataset.competitors), n_features=len(STYLE_COLUMNS), reg=0.0
    )
    result = model.compute_ratings_and_cis(dataset, ci_method="sandwich")
    return {key: np.asarray(value) for key, value in result.items()}


# --- FastChat -----------------------------------------------------------------------------


def fastchat_functions() -> dict[str, Callable[..., Any]]:
    """FastChat's own rating functions, taken verbatim from the installed elo_analysis.py.

    Importing that module needs plotly and pytz (dashboard dependencies fschat does not
    declare), so only the three rating functions are compiled from its source.
    """
    import fastchat.serve

    source = (Path(fastchat.serve.__file__).parent / "monitor" / "elo_analysis.py").read_text()
    wanted = {"compute_elo", "compute_elo_mle_with_tie", "get_bootstrap_result"}
    tree = ast.parse(source)
    tree.body = [
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in wanted
    ]
    from tqdm import tqdm

    namespace: dict[str, Any] = {
        "math": math,
        "np": np,
        "pd": pd,
        "defaultdict": defaultdict,
        "tqdm": tqdm,
    }
    exec(compile(tree, "fastchat/serve/monitor/elo_analysis.py", "exec"), namespace)
    return {name: namespace[name] for name in wanted}


# --- evalica ------------------------------------------------------------------------------


def evalica_bt(frame: pd.DataFrame) -> Any:
    import evalica

    winners = frame["winner"].map(
        {"model_a": evalica.Winner.X, "model_b": evalica.Winner.Y, "tie": evalica.Winner.Draw}
    )
    return evalica.bradley_terry(frame["model_a"], frame["model_b"], winners.tolist())


# --- timing -------------------------------------------------------------------------------


def timed(call: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bootstrap-rounds", type=int, default=1_000)
    parser.add_argument("--peer-bootstrap-rounds", type=int, nargs=2, default=(2, 10))
    parser.add_argument("--fastchat-battles", type=int, default=200_000)
    arguments = parser.parse_args()
    warnings.filterwarnings("ignore")
    load_before = os.getloadavg()[0]
    n, m, repeats = arguments.battles, arguments.models, arguments.repeats

    rows: list[tuple[str, str, float, str, float | None, str]] = []
    notes: list[str] = []
    with Progress(console=console, transient=True) as progress:
        step = progress.add_task("preparing data", total=9)
        battles = make_battles(n, m, tie_fraction=0.3, seed=2024)
        frame = battle_frame(battles)
        style = style_frame(make_style_battles(n, m, seed=2025))
        ties = float((frame["winner"] == "tie").mean())
        progress.advance(step)

        progress.update(step, description="glassarena: Bradley-Terry + sandwich")
        ours_bt, ours_bt_times, fitted = timed(lambda: glassarena_bt(frame), max(repeats, 9))
        progress.advance(step)

        progress.update(step, description="arena-rank: Bradley-Terry + sandwich")
        theirs_bt, theirs_times, reference = timed(lambda: arena_rank_bt(frame), repeats)
        gap = np.abs(reference["ratings"] - fitted.ratings_).max()
        width = reference["rating_upper"] - reference["rating_lower"]
        width_gap = np.abs(width / (fitted.upper_ - fitted.lower_) - 1).max()
        notes.append(
            f"arena-rank agreement: max rating difference {gap:.2e} points, max relative "
            f"interval-width difference {width_gap:.2%} (its ridge 1e-5 x battles); "
            f"first run (JAX compile) {theirs_times[0]:.2f} s"
        )
        rows.append(("BT + sandwich CIs", "arena-rank", ours_bt, f"{n:,}", theirs_bt, ""))
        progress.advance(step)

        progress.update(step, description="glassarena: Bradley-Terry point estimate")
        ours_point, _, _ = timed(lambda: glassarena_bt(frame, ci=None), max(repeats, 9))
        progress.update(step, description="evalica: Bradley-Terry")
        theirs_evalica, _, evalica_result = timed(lambda: evalica_bt(frame), repeats)
        scores = evalica_result.scores.reindex(fitted.models_).to_numpy()
        notes.append(
            "evalica agreement (strengths summing to 1, its tolerance 1e-6): max relative "
            f"difference {np.abs(scores / scores.sum() / fitted.strengths_ - 1).max():.2e}"
        )
        rows.append(("BT point estimate", "evalica", ours_point, f"{n:,}", theirs_evalica, ""))
        progress.advance(step)

        progress.update(step, description="FastChat: compute_elo_mle_with_tie")
        fastchat = fastchat_functions()
        subset = frame.iloc[: arguments.fastchat_battles]
        ours_subset, _, _ = timed(lambda: glassarena_bt(subset, ci=None), max(repeats, 9))
        theirs_fastchat, _, _ = timed(lambda: fastchat["compute_elo_mle_with_tie"](subset), 1)
        rows.append(
            (
                "BT point estimate",
                "FastChat (sklearn LogisticRegression)",
                ours_subset,
                f"{len(subset):,} (subset)",
                theirs_fastchat,
                "one run; dense 2N x M design; default L2 penalty C=1",
            )
        )
        progress.advance(step)

        rounds = arguments.bootstrap_rounds
        progress.update(step, description=f"glassarena: {rounds} bootstrap rounds")
        bootstrap_task = progress.add_task("bootstrap rounds", total=rounds)
        start = time.perf_counter()
        glassarena_bt(
            frame,
            ci="bootstrap",
            rounds=rounds,
            seed=0,
            progress=lambda done, total: progress.update(bootstrap_task, completed=done),
        )
        ours_boot = time.perf_counter() - start
        progress.remove_task(bootstrap_task)
        progress.advance(step)

        few, more = arguments.peer_bootstrap_rounds
        progress.update(step, description=f"arena-rank: {few} and {more} bootstrap rounds")
        few_time, _, _ = timed(lambda: arena_rank_bt(frame, method="bootstrap", rounds=few), 1)
        more_time, _, _ = timed(lambda: arena_rank_bt(frame, method="bootstrap", rounds=more), 1)
        per_round = max(more_time - few_time, 0.0) / (more - few)
        theirs_boot = few_time + per_round * (rounds - few)
        rows.append(
            (
                f"BT {rounds:,} bootstrap rounds",
                "arena-rank (2 processes)",
                ours_boot,
                f"{n:,}",
                theirs_boot,
                f"peer ran {few} ({few_time:.1f} s) and {more} ({more_time:.1f} s) rounds; "
                f"extrapolated linearly",
            )
        )
        progress.advance(step)

        progress.update(step, description="FastChat: get_bootstrap_result")
        start = time.perf_counter()
        fastchat["get_bootstrap_result"](subset, fastchat["compute_elo_mle_with_tie"], 2)
        theirs_fastchat_boot = (time.perf_counter() - start) * rounds / 2
        ours_subset_boot, _, _ = timed(
            lambda: glassarena_bt(subset, ci="bootstrap", rounds=rounds, seed=0), 1
        )
        rows.append(
            (
                f"BT {rounds:,} bootstrap rounds",
                "FastChat",
                ours_subset_boot,
                f"{len(subset):,} (subset)",
                theirs_fastchat_boot,
                f"peer ran 2 rounds, scaled x{rounds / 2:g}",
            )
        )
        progress.advance(step)

        progress.update(step, description="style control + sandwich")
        ours_style, _, style_fit = timed(lambda: glassarena_style(style), max(repeats, 9))
        theirs_style, _, style_reference = timed(lambda: arena_rank_style(style), repeats)
        notes.append(
            "arena-rank style agreement: max coefficient difference "
            f"{np.abs(style_reference['coeffs'] - style_fit.style_coef_).max():.2e}, max rating "
            f"difference {np.abs(style_reference['ratings'] - style_fit.ratings_).max():.2e}"
        )
        rows.append(
            ("style control + sandwich CIs", "arena-rank", ours_style, f"{n:,}", theirs_style, "")
        )
        progress.advance(step)

    table = Table(title=f"Rating benchmark: {m} models, {ties:.0%} ties, medians of repeats")
    for column in (
        "task",
        "peer",
        "battles",
        "glassarena s",
        "peer s",
        "glassarena/peer",
        "speed-up",
        "note",
    ):
        table.add_column(
            column, justify="right" if column.endswith(("s", "peer", "up")) else "left"
        )
    for task, peer, ours, size, theirs, note in rows:
        table.add_row(
            task,
            peer,
            size,
            f"{ours:.3f}",
            f"{theirs:.3f}",
            f"{ours / theirs:.4f}",
            f"{theirs / ours:.1f}x",
            note,
        )
    console.print(table)
    console.print(
        f"Load average (1 min) before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs: other work on the machine slows both sides unevenly."
    )
    console.print(
        "FastChat (installed fschat) has no style-control or sandwich code; "
        "its BT is the sklearn fit above."
    )
    for note in notes:
        console.print(f"- {note}")
    console.print(
        f"- glassarena BT + sandwich runs: {', '.join(f'{t:.3f}' for t in ours_bt_times)} s"
    )


if __name__ == "__main__":
    main()
