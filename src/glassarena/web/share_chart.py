"""The realised-shares chart of `/integrity`: SVG drawn on the server (no script needed
under the page's strict CSP), one bar per organization against its fair share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_BAR_HEIGHT = 22
_GAP = 8
_LABEL_WIDTH = 190
_PLOT_WIDTH = 420
_VALUE_WIDTH = 70


def share_chart(organizations: Sequence[Mapping[str, Any]], fair_share: float | None) -> str:
    """Horizontal bars of each organization's share of battle appearances; a dashed line
    marks the fair share (one over the number of organizations offered now)."""
    rows = len(organizations)
    height = max(rows, 1) * (_BAR_HEIGHT + _GAP) + _GAP
    width = _LABEL_WIDTH + _PLOT_WIDTH + _VALUE_WIDTH
    largest = max([entry["battle_share"] for entry in organizations] + [fair_share or 0.0, 0.01])
    scale = _PLOT_WIDTH / largest
    parts = [
        f'<svg class="share-chart" data-role="shares-chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="Share of battles per organization">'
    ]
    for index, entry in enumerate(organizations):
        top = _GAP + index * (_BAR_HEIGHT + _GAP)
        middle = top + _BAR_HEIGHT / 2 + 4
        bar = max(entry["battle_share"] * scale, 1.0)
        name = escape(str(entry["organization"]))
        parts.append(
            f'<text x="{_LABEL_WIDTH - 8}" y="{middle:.1f}" text-anchor="end">{name}</text>'
            f'<rect class="bar" x="{_LABEL_WIDTH}" y="{top}" width="{bar:.1f}" '
            f'height="{_BAR_HEIGHT}"><title>{name}: {entry["battles"]} battle appearances'
            f"</title></rect>"
            f'<text x="{_LABEL_WIDTH + bar + 6:.1f}" y="{middle:.1f}">'
            f"{entry['battle_share'] * 100:.1f}%</text>"
        )
    if fair_share:
        x = _LABEL_WIDTH + fair_share * scale
        parts.append(
            f'<line class="fair" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height}">'
            f"<title>fair share {fair_share * 100:.1f}%</title></line>"
        )
    parts.append("</svg>")
    return "".join(parts)
