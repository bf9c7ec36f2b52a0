"""Time `glassarena rank` as a user runs it: whole processes, against arena-rank and evalica.

Run: python benchmarks/bench_cli.py [--battles 1000000] [--models 100] [--repeats 3]

A seeded synthetic file of battles in the Hugging Face parquet layout (model_a, model_b,
winner, and a `conv_metadata` struct with LMArena's style counts) is written once. Then each
contender runs as its own process on that file, start to finish (interpreter start, imports,
reading, fitting, printing), in the same run:

* `glassarena rank FILE --format csv` (Bradley-Terry, sandwich intervals) against a script
  that reads the same file with pandas and rates it with arena-rank (sandwich intervals) or
  with evalica (Bradley-Terry, no intervals);
* `glassarena rank FILE --style-control` against arena-rank's contextual Bradley-Terry;
* `glassarena --help`.

Reported: the median wall time and the median CPU time (user + system, of the process and
its children) of the repeats, and peer time / glassarena time for both. On a shared machine
the wall time also counts waiting for a core; the CPU time does not.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import make_style_battles

LABELS = np.array(["model_b", "tie", "model_a"], dtype=object)

# The peers' scripts: what a user would write to rank the same file with each library.
READ_BATTLES = """
import sys
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
frame = pq.read_table(sys.argv[1], columns=["model_a", "model_b", "winner"]).to_pandas()
"""
ARENA_RANK = (
    READ_BATTLES
    + """
from arena_rank.models.bradley_terry import BradleyTerry
from arena_rank.utils.data_utils import PairDataset
dataset = PairDataset.from_pandas(frame)
model = BradleyTerry(n_competitors=len(dataset.competitors))
result = model.compute_ratings_and_cis(dataset, ci_method="sandwich")
board = pd.DataFrame({key: np.asarray(value) for key, value in result.items()
                      if np.ndim(value) == 1 and len(value) == len(dataset.competitors)})
print(board.sort_values("ratings", ascending=False).to_csv())
"""
)
EVALICA = (
    READ_BATTLES
    + """
import evalica
winners = frame["winner"].map(
    {"model_a": evalica.Winner.X, "model_b": evalica.Winner.Y, "tie": evalica.Winner.Draw}
)
result = evalica.bradley_terry(frame["model_a"], frame["model_b"], winners.tolist())
print(result.scores.sort_values(ascending=False).to_csv())
"""
)
ARENA_RANK_STYLE = """
import sys
import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
from arena_rank.models.contextual_bradley_terry import ContextualBradleyTerry
from arena_rank.utils.data_utils import ContextualPairDataset
table = pq.read_table(sys.argv[1], columns=["model_a", "model_b", "winner", "conv_metadata"])
metadata = table.column("conv_metadata").combine_chunks()
def total(name):
    field = metadata.field(name)
    if not isinstance(field.type, __import__("pyarrow").StructType):
        return np.asarray(field, dtype=float)
    return sum(np.asarray(field.field(k), dtype=float) for k in range(field.type.num_fields))
frame = table.select(["model_a", "model_b", "winner"]).to_pandas()
features = []
for name in ("sum_assistant_{}_tokens", "header_count_{}", "list_count_{}", "bold_count_{}"):
    a, b = total(name.format("a")), total(name.format("b"))
    frame[name] = (a - b) / (a + b + 1)
    features.append(name)
dataset = ContextualPairDataset.from_pandas(frame, feature_cols=features, reweighted=False)
model = ContextualBradleyTerry(
    n_competitors=len(dataset.competitors), n_features=len(features), reg=0.0
)
result = model.compute_ratings_and_cis(dataset, ci_method="sandwich")
print(pd.Series(np.asarray(result["ratings"]), index=dataset.competitors).to_csv())
"""


def write_battles(path: Path, n_battles: int, n_models: int) -> None:
    """Battles in the Hugging Face layout, style counts nested as LMArena nests them."""
    battles = make_style_battles(n_battles, n_models, seed=7)
    winner = LABELS[np.rint(battles.outcome * 2).astype(int)]
    features = {"a": battles.features_a, "b": battles.features_b}

    def counts(values: np.ndarray, keys: tuple[str, ...]) -> pa.StructArray:
        # The count sits in the first key, the others are zero, as a struct per battle.
        columns = [pa.array(values.astype(np.int64))]
        columns += [pa.array(np.zeros(len(values), dtype=np.int64)) for _ in keys[1:]]
        return pa.StructArray.from_arrays(columns, names=list(keys))

    metadata: dict[str, pa.Array] = {}
    for side, values in features.items():
        metadata[f"sum_assistant_{side}_tokens"] = pa.array(values[:, 0].astype(np.int64))
        metadata[f"header_count_{side}"] = counts(
            values[:, 1], ("h1", "h2", "h3", "h4", "h5", "h6")
        )
        metadata[f"list_count_{side}"] = counts(values[:, 2], ("ordered", "unordered"))
        metadata[f"bold_count_{side}"] = counts(values[:, 3], ("**", "__"))
    table = pa.table(
        {
            "model_a": pa.array(battles.model_a.astype(str)),
            "model_b": pa.array(battles.model_b.astype(str)),
            "winner": pa.array(winner.astype(str)),
            "conv_metadata": pa.StructArray.from_arrays(
                list(metadata.values()), names=list(metadata)
            ),
        }
    )
    pq.write_table(table, path)


def timed(command: list[str], repeats: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds of `repeats` runs of `command`."""
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    python = sys.executable
    glassarena = [python, "-m", "glassarena"]
    console = Console(width=140)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "battles.parquet"
        console.print(f"writing {arguments.battles:,} battles of {arguments.models} models…")
        write_battles(path, arguments.battles, arguments.models)
        scripts = {}
        for name, source in (
            ("arena-rank", ARENA_RANK),
            ("evalica", EVALICA),
            ("arena-rank-style", ARENA_RANK_STYLE),
        ):
            scripts[name] = Path(scratch) / f"peer_{name.replace('-', '_')}.py"
            scripts[name].write_text(source)
        file = str(path)
        runs = [
            ("glassarena rank (BT, sandwich)", [*glassarena, "rank", file, "--format", "csv"]),
            ("arena-rank (BT, sandwich)", [python, str(scripts["arena-rank"]), file]),
            ("evalica (BT, no intervals)", [python, str(scripts["evalica"]), file]),
            (
                "glassarena rank --style-control",
                [*glassarena, "rank", file, "--style-control", "--format", "csv"],
            ),
            ("arena-rank contextual BT", [python, str(scripts["arena-rank-style"]), file]),
            ("glassarena --help", [*glassarena, "--help"]),
        ]
        seconds = {}
        for label, command in runs:
            console.print(f"timing {label}…")
            seconds[label] = timed(command, arguments.repeats)
    # Each peer against the glassarena command doing the same job.
    baseline = {runs[1][0]: runs[0][0], runs[2][0]: runs[0][0], runs[4][0]: runs[3][0]}
    table = Table(
        title=f"whole processes, {arguments.battles:,} battles, {arguments.models} models, "
        f"median of {arguments.repeats}"
    )
    table.add_column("command")
    table.add_column("wall s", justify="right")
    table.add_column("CPU s", justify="right")
    table.add_column("peer / glassarena, wall", justify="right")
    table.add_column("peer / glassarena, CPU", justify="right")
    for label, _ in runs:
        wall, cpu = seconds[label]
        ratios = ["", ""]
        if label in baseline:
            ours_wall, ours_cpu = seconds[baseline[label]]
            ratios = [f"{wall / ours_wall:.1f}×", f"{cpu / ours_cpu:.1f}×"]
        table.add_row(label, f"{wall:.2f}", f"{cpu:.2f}", *ratios)
    console.print(table)


if __name__ == "__main__":
    main()
