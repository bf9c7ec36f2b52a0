"""A computed Leaderboard as people and programs read it: JSON, CSV, markdown, a terminal table.

Nothing here computes: every function takes a finished `glassarena.leaderboard.Leaderboard`.
The HTML page and the figures are in `glassarena.plots`; the table cells they share with the
markdown and terminal forms come from `table_cells`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from glassarena.leaderboard import Leaderboard, LeaderboardRow

if TYPE_CHECKING:
    from rich.table import Table

# Extra CSV columns: column name -> model -> value (a model without a value gets "").
ExtraColumns = Mapping[str, Mapping[str, object]]


def json_records(leaderboard: Leaderboard) -> list[dict[str, Any]]:
    """One dict per shown model; with style control each carries the coefficients."""
    style = {
        coefficient.feature: {
            "coefficient": coefficient.coefficient,
            "lower": coefficient.lower,
            "upper": coefficient.upper,
        }
        for coefficient in leaderboard.style
    }
    records = []
    for row in leaderboard.rows:
        record = asdict(row)
        if style:
            record["style_coefficients"] = style
        records.append(record)
    return records


def render_json(leaderboard: Leaderboard) -> str:
    return json.dumps(json_records(leaderboard), indent=2, ensure_ascii=False)


def render_csv(leaderboard: Leaderboard, extra: ExtraColumns | None = None) -> str:
    """The rows as CSV, plus any `extra` columns (style coefficients are in JSON and markdown)."""
    extra = extra or {}
    columns = [field.name for field in fields(LeaderboardRow)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*columns, *extra], lineterminator="\n")
    writer.writeheader()
    for row in leaderboard.rows:
        cells = {key: "" if value is None else value for key, value in asdict(row).items()}
        cells.update({name: values.get(row.model, "") for name, values in extra.items()})
        writer.writerow(cells)
    return buffer.getvalue()


def render_markdown(leaderboard: Leaderboard) -> str:
    header, lines = table_cells(leaderboard)
    table = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
        *("| " + " | ".join(cells) + " |" for cells in lines),
    ]
    if leaderboard.style:
        table += ["", "| style feature | coefficient | interval |", "| --- | --- | --- |"]
        table += [
            f"| {c.feature} | {c.coefficient:+.4f} | {_interval(c.lower, c.upper, 4)} |"
            for c in leaderboard.style
        ]
    return "\n".join(table) + "\n"


def rich_table(leaderboard: Leaderboard) -> Table:
    """The leaderboard as a rich Table for the terminal."""
    from rich.table import Table  # only the terminal form needs rich

    header, lines = table_cells(leaderboard)
    table = Table(title=leaderboard.method, title_justify="left")
    for name in header:
        table.add_column(name, justify="left" if name == "model" else "right")
    for cells in lines:
        table.add_row(*cells)
    if leaderboard.style:
        table.caption = "style coefficients: " + ", ".join(
            f"{c.feature} {c.coefficient:+.3f}" for c in leaderboard.style
        )
    return table


def table_cells(leaderboard: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """Header and formatted cells shared by the markdown, terminal and HTML tables."""
    rows = leaderboard.rows
    has_interval = any(row.lower is not None for row in rows)
    has_rank_interval = any(row.rank_lower is not None for row in rows)
    header = ["rank", "model", "rating"]
    header += ["interval"] if has_interval else []
    header += ["rank interval"] if has_rank_interval else []
    header += ["battles", "wins", "ties", "losses"]
    lines = []
    for row in rows:
        cells = [str(row.rank), row.model, f"{row.rating:.1f}"]
        if has_interval:
            cells.append(_interval(row.lower, row.upper, 1))
        if has_rank_interval:
            cells.append(f"{row.rank_lower}–{row.rank_upper}")
        cells += [str(row.battles), str(row.wins), str(row.ties), str(row.losses)]
        lines.append(cells)
    return header, lines


def _interval(lower: float | None, upper: float | None, digits: int) -> str:
    if lower is None or upper is None:
        return ""
    return f"[{lower:.{digits}f}, {upper:.{digits}f}]"
