"""Figures draw every shown model, its interval and the matrices; they come out as valid PNG,
SVG and self-contained HTML."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer

from glassarena.battles.formats import build_mapping, read_battles
from glassarena.leaderboard import Leaderboard, LeaderboardOptions, compute_leaderboard
from glassarena.plots import (
    heatmap,
    heatmap_figure,
    html_report,
    rating_figure,
    rating_plot,
    write_plots,
)
from glassarena.vocabulary import Theme

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def board(llmfao_dir: Path) -> Leaderboard:
    battles = read_battles(llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping("llmfao"))
    return compute_leaderboard(battles, LeaderboardOptions(min_battles=500))


def _svg_root(svg: bytes) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def _labels_by_position(axes: Axes, axis: str) -> dict[float, str]:
    ticks = axes.get_yticks() if axis == "y" else axes.get_xticks()
    labels = axes.get_yticklabels() if axis == "y" else axes.get_xticklabels()
    return {float(tick): label.get_text() for tick, label in zip(ticks, labels, strict=True)}


def test_rating_figure_draws_every_model_with_its_interval(board: Leaderboard) -> None:
    rows = board.rows
    assert len(rows) >= 5
    axes = rating_figure(board).axes[0]
    # Best at the top: row i sits at height n-1-i, labelled with its rank and name.
    heights = np.arange(len(rows))[::-1]
    labels = _labels_by_position(axes, "y")
    assert [labels[float(height)] for height in heights] == [
        f"{row.rank}. {row.model}" for row in rows
    ]
    (bars,) = [c for c in axes.containers if isinstance(c, ErrorbarContainer)]
    points, _caps, (segments,) = bars.lines
    np.testing.assert_allclose(points.get_xdata(), [row.rating for row in rows])
    np.testing.assert_allclose(points.get_ydata(), heights)
    drawn = np.array(segments.get_segments())  # one [[lower, y], [upper, y]] per model
    np.testing.assert_allclose(drawn[:, 0, 0], [row.lower for row in rows])
    np.testing.assert_allclose(drawn[:, 1, 0], [row.upper for row in rows])
    np.testing.assert_allclose(drawn[:, :, 1], np.column_stack([heights, heights]))
    assert "95% intervals" in axes.get_title()


@pytest.mark.parametrize("matrix", ["win_fraction", "battle_count", "predicted_win"])
def test_heatmap_figure_draws_the_matrix_in_board_order(board: Leaderboard, matrix: str) -> None:
    axes = heatmap_figure(board, matrix).axes[0]  # type: ignore[arg-type]
    expected = np.array(getattr(board, matrix), dtype=float)
    if matrix == "predicted_win":
        np.fill_diagonal(expected, np.nan)
    drawn = axes.images[0].get_array()
    np.testing.assert_array_equal(np.ma.filled(drawn, np.nan), expected)
    positions = [float(index) for index in range(len(board.models))]
    x_labels, y_labels = _labels_by_position(axes, "x"), _labels_by_position(axes, "y")
    assert [x_labels[p] for p in positions] == board.models
    assert [y_labels[p] for p in positions] == board.models
    # Each met pair carries its number in its cell.
    off_diagonal = np.isfinite(expected) & ~np.eye(len(expected), dtype=bool)
    assert len(axes.texts) == int(off_diagonal.sum()) > 0


def test_rating_plot_png_and_svg(board: Leaderboard) -> None:
    assert rating_plot(board, "png").startswith(PNG_SIGNATURE)
    svg = rating_plot(board, "svg")
    _svg_root(svg)
    assert rating_plot(board, "svg") == svg  # no timestamps: the same board, the same bytes


@pytest.mark.parametrize("matrix", ["win_fraction", "battle_count", "predicted_win"])
def test_heatmaps(board: Leaderboard, matrix: str) -> None:
    assert heatmap(board, matrix, "png").startswith(PNG_SIGNATURE)  # type: ignore[arg-type]
    _svg_root(heatmap(board, matrix, "svg"))  # type: ignore[arg-type]


def _background_fill(svg: bytes) -> str:
    """The fill of the figure's background patch (the first path of the first group); SVG's
    default fill, which matplotlib leaves unwritten, is black."""
    root = _svg_root(svg)
    path = root.find(".//{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}path")
    assert path is not None
    style = dict(
        part.strip().split(": ", 1) for part in path.get("style", "").split(";") if part.strip()
    )
    return style.get("fill", "#000000")


@pytest.mark.parametrize("draw", [rating_plot, heatmap])
def test_a_dark_figure_for_the_dark_pages_and_the_light_one_unchanged(
    board: Leaderboard, draw: object
) -> None:
    light = draw(board, image_format="svg")  # type: ignore[operator]
    dark = draw(board, image_format="svg", theme=Theme.DARK)  # type: ignore[operator]
    assert _background_fill(light) == "#ffffff"
    assert _background_fill(dark) == "#000000"
    # Drawing a dark figure leaves no colour behind for the next light one.
    assert draw(board, image_format="svg") == light  # type: ignore[operator]


def test_unknown_matrix_is_an_error(board: Leaderboard) -> None:
    with pytest.raises(ValueError, match="unknown matrix"):
        heatmap(board, "nonsense")  # type: ignore[arg-type]


def test_html_is_self_contained(board: Leaderboard) -> None:
    page = html_report(board)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 3
    lowered = page.lower()
    for external in ("<script", "<link", "src=", "@import", "url(http"):
        assert external not in lowered
    for row in board.rows:  # every model, with its rating and interval, in the table
        assert f"<td>{html.escape(row.model)}</td><td>{row.rating:.1f}</td>" in page
        assert f"[{row.lower:.1f}, {row.upper:.1f}]" in page


def test_write_plots_by_extension(board: Leaderboard, tmp_path: Path) -> None:
    written = write_plots(board, tmp_path / "board.svg")
    assert [path.name for path in written] == [
        "board.svg",
        "board-win-fraction.svg",
        "board-battle-count.svg",
    ]
    for path in written:
        _svg_root(path.read_bytes())
    (page,) = write_plots(board, tmp_path / "board.html")
    assert "<svg" in page.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match=r"use a \.png, \.svg or \.html"):
        write_plots(board, tmp_path / "board.pdf")


def test_a_board_without_intervals_plots_too(llmfao_dir: Path) -> None:
    battles = read_battles(llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping("llmfao"))
    elo = compute_leaderboard(battles, LeaderboardOptions(elo=True, min_battles=500))
    _svg_root(rating_plot(elo, "svg"))
    assert "online Elo" in html_report(elo)
    axes = rating_figure(elo).axes[0]
    assert not axes.containers  # no intervals to draw, so no error bars
    (points,) = axes.lines
    np.testing.assert_allclose(points.get_xdata(), [row.rating for row in elo.rows])
    labels = _labels_by_position(axes, "y")
    assert sorted(labels.values()) == sorted(f"{row.rank}. {row.model}" for row in elo.rows)
