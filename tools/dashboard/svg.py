"""One graph as inline SVG, drawn on the server: no script library, no network.

What an on-call reader needs from a CloudWatch graph: the lines in the palette
CloudWatch uses, the threshold lines (annotations) in their colour with their labels,
a y axis with round ticks that always shows the thresholds (so a line far below its
alarm reads as such), and time ticks in UTC. The legend is HTML beside the SVG
(page.py), so long labels wrap instead of being cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Final

from tools.dashboard.body import Axis, Threshold
from tools.dashboard.series import Line

# CloudWatch's graph palette, in the order it assigns colours.
PALETTE: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
# A threshold without a colour of its own: CloudWatch draws annotations in red.
THRESHOLD_COLOR: Final = "#d13212"
_TIME_STEPS: Final = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 48, 18, 8, 20


@dataclass(frozen=True)
class Plot:
    """The drawn range: time on x, values on y (with its ticks)."""

    start: float
    end: float
    low: float
    high: float
    ticks: tuple[float, ...]


def line_colors(lines: Sequence[Line]) -> list[str]:
    """Each line's colour: its own, else the next of the palette."""
    return [line.color or PALETTE[i % len(PALETTE)] for i, line in enumerate(lines)]


def nice_step(span: float, count: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of 10) giving about `count` intervals."""
    if span <= 0:
        return 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    return float(next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw))


def plot_range(lines: Sequence[Line], thresholds: Sequence[Threshold], axis: Axis,
               start: float, end: float) -> Plot:
    values = [v for line in lines for _, v in line.points]
    values += [t.value for t in thresholds]
    low = axis.min if axis.min is not None else min([0.0, *values])
    high = axis.max if axis.max is not None else max([low, *values])
    if high <= low:
        high = low + 1.0
    step = nice_step(high - low)
    if axis.max is None:
        high = math.ceil(high / step - 1e-9) * step
        if high <= max([low, *values]):  # keep the top value (a threshold) off the edge
            high += step
    ticks = []
    tick = math.ceil(low / step) * step
    while tick <= high + step * 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    return Plot(start, end, low, high, tuple(ticks))


def format_value(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:.4g}"


def chart_svg(lines: Sequence[Line], thresholds: Sequence[Threshold], axis: Axis, *,
              start: float, end: float, width: int, height: int) -> str:
    """The graph of `lines` over [start, end] (epoch seconds) as one <svg> element."""
    plot = plot_range(lines, thresholds, axis, start, end)
    inner_w = max(10, width - _MARGIN_LEFT - _MARGIN_RIGHT)
    inner_h = max(10, height - _MARGIN_TOP - _MARGIN_BOTTOM)

    def x(t: float) -> float:
        return _MARGIN_LEFT + (t - plot.start) / max(1e-9, plot.end - plot.start) * inner_w

    def y(v: float) -> float:
        return _MARGIN_TOP + (plot.high - v) / (plot.high - plot.low) * inner_h

    # Inline in HTML an <svg> needs no xmlns: the page names no address at all.
    parts = [f'<svg class="chart" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img">']
    bottom = _MARGIN_TOP + inner_h
    for tick in plot.ticks:
        parts.append(f'<line class="gridline" x1="{_MARGIN_LEFT}" x2="{_MARGIN_LEFT + inner_w}" '
                     f'y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="tick y" x="{_MARGIN_LEFT - 4}" y="{y(tick) + 3:.1f}" '
                     f'text-anchor="end">{format_value(tick)}</text>')
    for t in _time_ticks(plot.start, plot.end):
        label = datetime.fromtimestamp(t, UTC).strftime("%H:%M")
        parts.append(f'<line class="axis" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{bottom}" '
                     f'y2="{bottom + 3}"/>')
        parts.append(f'<text class="tick x" x="{x(t):.1f}" y="{bottom + 14}" '
                     f'text-anchor="middle">{label}</text>')
    parts.append(f'<line class="axis" x1="{_MARGIN_LEFT}" x2="{_MARGIN_LEFT + inner_w}" '
                 f'y1="{bottom}" y2="{bottom}"/>')
    if axis.label:
        parts.append(f'<text class="axis-label" x="10" y="{_MARGIN_TOP + inner_h / 2:.1f}" '
                     f'transform="rotate(-90 10 {_MARGIN_TOP + inner_h / 2:.1f})" '
                     f'text-anchor="middle">{escape(axis.label)}</text>')
    for threshold in thresholds:
        color = threshold.color or THRESHOLD_COLOR
        ty = y(threshold.value)
        parts.append(f'<line class="threshold" stroke="{escape(color)}" x1="{_MARGIN_LEFT}" '
                     f'x2="{_MARGIN_LEFT + inner_w}" y1="{ty:.1f}" y2="{ty:.1f}">'
                     f'<title>{escape(threshold.label)}</title></line>')
    for line, color in zip(lines, line_colors(lines), strict=True):
        points = [(x(t), y(v)) for t, v in line.points if plot.start <= t <= plot.end]
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline class="series" data-points="{len(points)}" '
                     f'stroke="{escape(color)}" points="{path}">'
                     f'<title>{escape(line.label)}</title></polyline>')
        if len(points) <= 60:
            parts.extend(f'<circle class="point" fill="{escape(color)}" cx="{px:.1f}" '
                         f'cy="{py:.1f}" r="2"/>' for px, py in points)
    parts.append("</svg>")
    return "".join(parts)


def _time_ticks(start: float, end: float, most: int = 6) -> list[float]:
    span = end - start
    step = next((s for s in _TIME_STEPS if span / s <= most), _TIME_STEPS[-1])
    first = math.ceil(start / step) * step
    return [float(t) for t in range(int(first), int(end) + 1, step)]
