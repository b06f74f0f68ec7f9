"""Charts as inline SVG strings, drawn in plain Python: horizontal bars, stacked columns and a
line. No chart library and no script: the dashboard is one file that opens offline, prints,
and shows the same figures in a table next to every chart (docs/report.md#dashboard).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# colours that stay apart for the common colour-vision deficiencies (Okabe-Ito) and in greyscale
COLOURS = {"solved": "#009E73", "escalated": "#E69F00", "abandoned": "#CC79A7", "in_progress": "#999999",
           "bar": "#0072B2", "line": "#0072B2", "alert": "#D55E00"}
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


@dataclass(frozen=True, slots=True)
class Series:
    """One named series of a chart, with its colour key in COLOURS."""

    name: str
    values: Sequence[float]
    colour: str = "bar"


def _svg(width: int, height: int, body: list[str]) -> str:
    # the table after each chart carries the figures for screen readers: the picture is hidden from them
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'style="max-width:{width}px" aria-hidden="true" focusable="false" {FONT}>{"".join(body)}</svg>')


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def bars(labels: Sequence[str], series: Sequence[Series], *, unit: str = "",
         width: int = 640) -> str:
    """Horizontal bars, one row per label, the series stacked left to right, the total at the end."""
    label_width, row, gap = 190, 22, 6
    totals = [sum(item.values[index] for item in series) for index in range(len(labels))]
    top = max(totals, default=0) or 1
    room = width - label_width - 60
    body: list[str] = []
    for index, label in enumerate(labels):
        y = index * (row + gap)
        shown = label if len(label) <= 30 else label[:29] + "…"
        body.append(f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{escape(shown)}</text>')
        x = float(label_width)
        for item in series:
            length = room * item.values[index] / top
            if length > 0:
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{row}" '
                            f'fill="{COLOURS[item.colour]}"/>')
            x += length
        body.append(f'<text x="{x + 4:.1f}" y="{y + 15}">{_number(totals[index])}{escape(unit)}</text>')
    height = max(len(labels) * (row + gap), row)
    return _svg(width, height + _legend(series, height + 4, body), body)


def columns(labels: Sequence[str], series: Sequence[Series], *, width: int = 640,
            height: int = 200) -> str:
    """Vertical columns, one per label (a period, a bucket), the series stacked bottom to top."""
    left, bottom = 40, 36
    plot = height - bottom - 10
    totals = [sum(item.values[index] for item in series) for index in range(len(labels))]
    top = max(totals, default=0) or 1
    step = (width - left - 10) / max(len(labels), 1)
    every = _every(labels, step)
    body = [f'<line x1="{left}" y1="{10 + plot}" x2="{width - 10}" y2="{10 + plot}" stroke="#333"/>',
            f'<text x="{left - 4}" y="{14}" text-anchor="end">{_number(top)}</text>',
            f'<text x="{left - 4}" y="{10 + plot}" text-anchor="end">0</text>']
    for index, label in enumerate(labels):
        x = left + index * step + step * 0.1
        y = 10.0 + plot
        for item in series:
            length = plot * item.values[index] / top
            if length > 0:
                y -= length
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.8:.1f}" height="{length:.1f}" '
                            f'fill="{COLOURS[item.colour]}"/>')
        if index % every == 0:
            body.append(f'<text x="{x + step * 0.4:.1f}" y="{height - bottom + 24}" '
                        f'text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height + _legend(series, height, body), body)


def line(labels: Sequence[str], values: Sequence[float | None], *, width: int = 640,
         height: int = 160) -> str:
    """A rate from 0 to 100% over the labels; a period without a rate leaves a gap in the line."""
    left, bottom = 40, 30
    plot = height - bottom - 10
    step = (width - left - 40) / max(len(labels) - 1, 1)  # room on the right for the last label
    every = _every(labels, step)
    body = [f'<line x1="{left}" y1="{10 + plot}" x2="{width - 10}" y2="{10 + plot}" stroke="#333"/>',
            f'<text x="{left - 4}" y="14" text-anchor="end">100%</text>',
            f'<text x="{left - 4}" y="{10 + plot}" text-anchor="end">0%</text>']
    runs: list[list[str]] = [[]]
    for index, value in enumerate(values):
        x = left + index * step
        if value is None:
            runs.append([])
            continue
        y = 10 + plot * (1 - value)
        runs[-1].append(f"{x:.1f},{y:.1f}")
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS["line"]}"/>')
    for points in runs:
        if len(points) > 1:
            body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{COLOURS["line"]}" '
                        'stroke-width="2"/>')
    for index, label in enumerate(labels):
        if index % every == 0:
            body.append(f'<text x="{left + index * step:.1f}" y="{height - 6}" '
                        f'text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, body)


def _every(labels: Sequence[str], step: float) -> int:
    """Label every n-th column so that labels of about 7 px a character never overlap."""
    widest = 7 * max((len(label) for label in labels), default=1) + 8
    return max(1, -(-int(widest) // max(int(step), 1)))


def _legend(series: Sequence[Series], y: int, body: list[str]) -> int:
    """A legend row under the chart when there is more than one series; returns its height."""
    if len(series) < 2:
        return 0
    x = 10
    for item in series:
        body.append(f'<rect x="{x}" y="{y + 4}" width="12" height="12" fill="{COLOURS[item.colour]}"/>')
        body.append(f'<text x="{x + 16}" y="{y + 14}">{escape(item.name)}</text>')
        x += 24 + 7 * len(item.name)
    return 22
