"""Figures come out as valid PNG, SVG and self-contained HTML."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from glassarena.battles.formats import build_mapping, read_battles
from glassarena.leaderboard import Leaderboard, LeaderboardOptions, compute_leaderboard
from glassarena.plots import heatmap, html_report, rating_plot, write_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def board(llmfao_dir: Path) -> Leaderboard:
    battles = read_battles(llmfao_dir / "crowd-comparisons.csv", mapping=build_mapping("llmfao"))
    return compute_leaderboard(battles, LeaderboardOptions(min_battles=500))


def _svg_root(svg: bytes) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def test_rating_plot_png_and_svg(board: Leaderboard) -> None:
    assert rating_plot(board, "png").startswith(PNG_SIGNATURE)
    svg = rating_plot(board, "svg")
    _svg_root(svg)
    assert rating_plot(board, "svg") == svg  # no timestamps: the same board, the same bytes


@pytest.mark.parametrize("matrix", ["win_fraction", "battle_count", "predicted_win"])
def test_heatmaps(board: Leaderboard, matrix: str) -> None:
    assert heatmap(board, matrix, "png").startswith(PNG_SIGNATURE)  # type: ignore[arg-type]
    _svg_root(heatmap(board, matrix, "svg"))  # type: ignore[arg-type]


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
    assert board.rows[0].model in page


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
