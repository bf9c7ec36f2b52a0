"""Leaderboard figures: ratings with intervals, and pairwise heatmaps.

Each function returns the figure itself (bytes for PNG/SVG, text for HTML) so that the web
layer can serve it directly. Figures are drawn on standalone matplotlib Figures with the
Agg/SVG canvases (never pyplot); only the theme's colours are global (rcParams), so figures
are drawn one at a time. Light figures suit the light pages and files, dark ones the dark
pages. The HTML page is self-contained: inline SVG and a plain table, no scripts, no
external assets.
"""

from __future__ import annotations

import html
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib import colormaps, rc_context, style
from matplotlib.figure import Figure
from numpy.typing import NDArray

from glassarena.leaderboard import Leaderboard
from glassarena.leaderboard_render import table_cells
from glassarena.vocabulary import Theme

ImageFormat = Literal["png", "svg"]
Matrix = Literal["win_fraction", "battle_count", "predicted_win"]

_TITLES: dict[Matrix, str] = {
    "win_fraction": "Observed win fraction of row model against column model (ties count half)",
    "battle_count": "Battles between each pair of models",
    "predicted_win": "Predicted probability that the row model beats the column model",
}
# Cells get their number written in them only while they stay legible.
_ANNOTATE_UP_TO = 25
# A theme is matplotlib's global rcParams, read as a figure is built and saved: one figure
# is drawn at a time, so that a dark one never lends its colours to a light one.
_THEME_LOCK = threading.Lock()


def _render(draw: Callable[[], Figure], image_format: ImageFormat, theme: Theme) -> bytes:
    buffer = io.BytesIO()
    # No timestamps and fixed SVG ids, so the same leaderboard always gives the same bytes.
    metadata = {"Date": None} if image_format == "svg" else {"Software": None}
    with (
        _THEME_LOCK,
        style.context("dark_background" if theme is Theme.DARK else "default"),
        rc_context({"svg.hashsalt": "glassarena"}),
    ):
        draw().savefig(buffer, format=image_format, bbox_inches="tight", metadata=metadata)
    return buffer.getvalue()


def rating_plot(
    leaderboard: Leaderboard, image_format: ImageFormat = "png", theme: Theme = Theme.LIGHT
) -> bytes:
    """Each shown model's rating with its interval as an error bar, best at the top."""
    return _render(lambda: rating_figure(leaderboard), image_format, theme)


def rating_figure(leaderboard: Leaderboard) -> Figure:
    """The figure of `rating_plot`, before it is rendered."""
    rows = leaderboard.rows
    figure = Figure(figsize=(8.0, max(2.5, 0.28 * len(rows) + 1.2)), dpi=100)
    axes = figure.subplots()
    positions = np.arange(len(rows))[::-1]
    ratings = np.array([row.rating for row in rows])
    if all(row.lower is not None and row.upper is not None for row in rows):
        below = ratings - np.array([row.lower for row in rows], dtype=float)
        above = np.array([row.upper for row in rows], dtype=float) - ratings
        axes.errorbar(ratings, positions, xerr=[below, above], fmt="o", capsize=3, color="C0")
        level = round(leaderboard.options.level * 100)
        axes.set_title(f"{leaderboard.method}: ratings with {level}% intervals")
    else:
        axes.plot(ratings, positions, "o", color="C0")
        axes.set_title(f"{leaderboard.method}: ratings")
    axes.set_yticks(positions, [f"{row.rank}. {row.model}" for row in rows])
    axes.set_xlabel("rating")
    axes.grid(axis="x", alpha=0.3)
    return figure


def heatmap(
    leaderboard: Leaderboard,
    matrix: Matrix = "win_fraction",
    image_format: ImageFormat = "png",
    theme: Theme = Theme.LIGHT,
) -> bytes:
    """A pairwise matrix as a heatmap, models in leaderboard order."""
    return _render(lambda: heatmap_figure(leaderboard, matrix), image_format, theme)


def heatmap_figure(leaderboard: Leaderboard, matrix: Matrix = "win_fraction") -> Figure:
    """The figure of `heatmap`, before it is rendered."""
    values = _matrix(leaderboard, matrix)
    models = leaderboard.models
    size = max(4.0, 0.32 * len(models) + 2.5)
    figure = Figure(figsize=(size + 1.5, size), dpi=100)
    axes = figure.subplots()
    shown = np.ma.masked_array(values, mask=~np.isfinite(values))
    # Pairs that never met are grey, apart from the white of an even 0.5.
    if matrix == "battle_count":
        image = axes.imshow(shown, cmap=colormaps["Blues"].with_extremes(bad="0.85"))
    else:
        palette = colormaps["RdBu"].with_extremes(bad="0.85")
        image = axes.imshow(shown, cmap=palette, vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_xticks(range(len(models)), models, rotation=90)
    axes.set_yticks(range(len(models)), models)
    axes.set_title(_TITLES[matrix], fontsize=10)
    if len(models) <= _ANNOTATE_UP_TO:
        for (row, column), value in np.ndenumerate(values):
            if np.isfinite(value) and row != column:
                text = f"{int(value)}" if matrix == "battle_count" else f"{value:.2f}"
                # Black in either theme: the cells' own colours are the same in both.
                axes.text(column, row, text, ha="center", va="center", fontsize=7, color="k")
    return figure


def _matrix(leaderboard: Leaderboard, matrix: Matrix) -> NDArray[np.float64]:
    if matrix not in _TITLES:
        raise ValueError(f"unknown matrix {matrix!r}; choose one of {', '.join(_TITLES)}")
    values = np.array(getattr(leaderboard, matrix), dtype=float)
    if matrix == "predicted_win":
        np.fill_diagonal(values, np.nan)
    return values


def _inline_svg(svg: bytes) -> str:
    text = svg.decode("utf-8")
    return text[text.index("<svg") :]


def html_report(leaderboard: Leaderboard, title: str = "glassarena leaderboard") -> str:
    """One self-contained HTML page: the table, the rating plot and the heatmaps."""
    header, lines = table_cells(leaderboard)
    head_cells = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"
        for cells in lines
    )
    style_rows = "".join(
        f"<tr><td>{html.escape(c.feature)}</td><td>{c.coefficient:+.4f}</td></tr>"
        for c in leaderboard.style
    )
    style_table = (
        f"<h2>Style coefficients</h2><table><tr><th>feature</th><th>coefficient</th></tr>"
        f"{style_rows}</table>"
        if style_rows
        else ""
    )
    figures = [
        ("Ratings", rating_plot(leaderboard, "svg")),
        ("Win fraction", heatmap(leaderboard, "win_fraction", "svg")),
        ("Battle counts", heatmap(leaderboard, "battle_count", "svg")),
    ]
    sections = "".join(
        f"<section><h2>{name}</h2>{_inline_svg(svg)}</section>" for name, svg in figures
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}"
        "td:nth-child(2){text-align:left}svg{max-width:100%;height:auto}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(leaderboard.method)}, {leaderboard.battles_used} battles.</p>"
        f"<table><tr>{head_cells}</tr>{body}</table>{style_table}{sections}"
        "</body></html>\n"
    )


def write_plots(leaderboard: Leaderboard, path: Path | str) -> list[Path]:
    """Write the figures, in the format the extension names (.png, .svg or .html).

    An .html path gets one page with everything; for .png and .svg the rating plot goes
    to `path` and the heatmaps beside it (`NAME-win-fraction.png`, `NAME-battle-count.png`).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".html":
        path.write_text(html_report(leaderboard), encoding="utf-8")
        return [path]
    if suffix not in (".png", ".svg"):
        raise ValueError(f"cannot plot to {path.name}: use a .png, .svg or .html file name")
    image_format: ImageFormat = "png" if suffix == ".png" else "svg"
    written = [path]
    path.write_bytes(rating_plot(leaderboard, image_format))
    for matrix in ("win_fraction", "battle_count"):
        target = path.with_name(f"{path.stem}-{matrix.replace('_', '-')}{suffix}")
        target.write_bytes(heatmap(leaderboard, matrix, image_format))
        written.append(target)
    return written
