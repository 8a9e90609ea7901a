"""The dashboard as one HTML page: the widgets on CloudWatch's 24-column grid.

The page is self-contained: its style is inline, graphs are inline SVG, and there is
no font, image or script from anywhere else, so a snapshot opens anywhere and the
served page works without a network. Text widgets are CommonMark (markdown-it-py,
raw HTML off). Their links point at the AWS console, where a local stack's resources
do not exist: they are shown as their text only, and the page names no address.

A widget whose alarm is in ALARM has a red border and title, and names the alarm and
its state; the header lists every alarm in ALARM. The served page fetches
`fragment` (the header and the grid) every few seconds and swaps it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from html import escape
from typing import Final

from markdown_it import MarkdownIt

from tools.dashboard.body import GRID_COLUMNS
from tools.dashboard.series import WidgetView, Window
from tools.dashboard.svg import THRESHOLD_COLOR, chart_svg, format_value, line_colors

# Pixels of one grid row and (at a 1,400 px wide page) of one grid column.
ROW_PX: Final = 46
COLUMN_PX: Final = 52
GAP_PX: Final = 6
_TITLE_PX: Final = 24
_LEGEND_LINE_PX: Final = 17

FRAGMENT_ID: Final = "dashboard"


@dataclass(frozen=True)
class PageInfo:
    dashboard: str
    target: str
    window: Window
    refreshed_at: float
    # Seconds between refreshes of the served page; None for a snapshot.
    refresh_seconds: float | None


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})

    md.add_render_rule("link_open", lambda *_: '<span class="link">')
    md.add_render_rule("link_close", lambda *_: "</span>")
    return md


def markdown_html(text: str) -> str:
    return str(_markdown().render(text))


def _clock(timestamp: float, seconds: bool = False) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime(
        "%H:%M:%S" if seconds else "%H:%M")


def widget_html(view: WidgetView, window: Window) -> str:
    widget = view.widget
    classes = ["widget", widget.type] + (["in-alarm"] if view.in_alarm else [])
    style = (f"grid-column:{widget.x + 1} / span {widget.width};"
             f"grid-row:{widget.y + 1} / span {widget.height}")
    parts = [f'<section class="{" ".join(classes)}" id="{widget.widget_id}" '
             f'data-title="{escape(widget.title)}" style="{style}">']
    if widget.type == "text":
        parts.append(markdown_html(widget.markdown))
        parts.append("</section>")
        return "".join(parts)
    state = " ".join(f'<span class="state {escape(a.state)}" title="{escape(a.reason)}">'
                     f'{escape(a.name)}: {escape(a.state)}</span>' for a in view.alarms)
    parts.append(f'<header><h2>{escape(widget.title or widget.type)}</h2>'
                 f'<div class="alarms">{state}</div></header>')
    if widget.type == "metric" and widget.view == "singleValue":
        parts.append(_single_values(view))
    elif widget.type == "metric":
        parts.append(_graph(view, window))
    elif widget.type != "alarm":
        parts.append(f'<p class="note">a {escape(widget.type)} widget is not drawn here</p>')
    parts.append("</section>")
    return "".join(parts)


def _single_values(view: WidgetView) -> str:
    """A `singleValue` widget: each line's latest value, as CloudWatch shows it."""
    items = []
    for line in view.lines:
        value = (format_value(line.points[-1][1]) if line.points
                 else f'<em>{escape(line.note or "no data")}</em>')
        items.append(f'<li><span class="value">{value}</span>{escape(line.label)}</li>')
    return f'<ul class="single-values">{"".join(items)}</ul>'


def _legend_lines(view: WidgetView, width_px: int) -> int:
    """About how many lines the legend wraps to (items flow inline, ~6 px a letter)."""
    letters = sum(len(line.label) + len(line.note) + 6 for line in view.lines)
    letters += sum(len(t.label) + 6 for t in view.widget.thresholds)
    return max(1, -(-letters * 6 // max(1, width_px)))


def _graph(view: WidgetView, window: Window) -> str:
    widget = view.widget
    width = widget.width * COLUMN_PX + (widget.width - 1) * GAP_PX - 14
    box = widget.height * ROW_PX + (widget.height - 1) * GAP_PX
    height = max(60, box - _TITLE_PX - 10 - _LEGEND_LINE_PX * _legend_lines(view, width))
    svg = chart_svg(view.lines, widget.thresholds, widget.left_axis, start=window.start,
                    end=window.end, width=width, height=height)
    items = []
    for line, color in zip(view.lines, line_colors(view.lines), strict=True):
        note = f' <em>{escape(line.note)}</em>' if line.note else ""
        items.append(f'<li><span class="swatch" style="background:{escape(color)}"></span>'
                     f'{escape(line.label)}{note}</li>')
    for threshold in widget.thresholds:
        color = threshold.color or THRESHOLD_COLOR
        items.append(f'<li class="threshold-key"><span class="dash" '
                     f'style="border-color:{escape(color)}"></span>'
                     f'{escape(threshold.label)}</li>')
    return f'{svg}<ul class="legend">{"".join(items)}</ul>'


def fragment_html(views: Sequence[WidgetView], info: PageInfo) -> str:
    """The part the served page refreshes: the header and every widget."""
    window = info.window
    firing = sorted({a.name for v in views for a in v.alarms if a.state == "ALARM"})
    summary = (f'<p class="summary in-alarm">In ALARM: {escape(", ".join(firing))}</p>'
               if firing else '<p class="summary ok">No alarm of this dashboard is in '
                              'ALARM</p>')
    refresh = (f"refreshes every {info.refresh_seconds:g} s" if info.refresh_seconds
               else "snapshot")
    rows = max([v.widget.y + v.widget.height for v in views] or [1])
    widgets = "".join(widget_html(v, window) for v in views)
    return (f'<div id="{FRAGMENT_ID}"><header class="page">'
            f'<h1>{escape(info.dashboard)}</h1>'
            f'<p class="meta">{escape(info.target)} · time range '
            f'<span class="range">{_clock(window.start)} to {_clock(window.end)} UTC</span> '
            f'(last {round((window.end - window.start) / 60)} min, period '
            f'{window.period_seconds} s) · last refresh '
            f'<time class="refreshed">{_clock(info.refreshed_at, seconds=True)} UTC</time> '
            f'· {refresh}</p>{summary}</header>'
            f'<main class="grid" style="grid-template-rows:repeat({rows},{ROW_PX}px)">'
            f'{widgets}</main></div>')


_STYLE: Final = """
body{margin:0;font:13px/1.35 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
background:#f2f3f3;color:#16191f}
header.page{padding:8px 14px;background:#232f3e;color:#fff;position:sticky;top:0;z-index:1}
header.page h1{font-size:18px;margin:0 0 2px}
header.page p{margin:2px 0}
.summary.in-alarm{color:#fff;background:#d13212;padding:2px 6px;display:inline-block;
border-radius:3px;font-weight:600}
.summary.ok{color:#9ee09e}
.grid{display:grid;grid-template-columns:repeat(GRID_COLUMNS,minmax(0,1fr));gap:GAP_PXpx;
padding:8px;min-width:1100px}
.widget{background:#fff;border:1px solid #d5dbdb;border-radius:3px;padding:4px 6px;
overflow:hidden;box-sizing:border-box}
.widget.text{background:transparent;border:none;padding:0 2px}
.widget.text h1{font-size:17px;margin:10px 0 0}
.widget.text h3{font-size:14px;margin:6px 0 0;color:#545b64}
.widget.text p{margin:4px 0}
.widget header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px}
.widget h2{font-size:14px;margin:0}
.widget.in-alarm{border:2px solid #d13212}
.widget.in-alarm h2{color:#d13212}
.state{font-size:11px;padding:0 4px;border-radius:3px;background:#eee}
.state.ALARM{background:#d13212;color:#fff;font-weight:600}
.state.OK{background:#e9f6e9;color:#1d8102}
.state.INSUFFICIENT_DATA{background:#eee;color:#545b64}
svg.chart{display:block;width:100%;height:auto}
svg .gridline{stroke:#e9ebed}
svg .axis{stroke:#879596}
svg .tick,svg .axis-label{font-size:10px;fill:#545b64}
svg .series{fill:none;stroke-width:1.8}
svg .threshold{stroke-width:1.5;stroke-dasharray:6 3}
ul.legend{list-style:none;margin:2px 0 0;padding:0;font-size:11px;color:#16191f}
ul.legend li{display:inline-block;margin-right:10px}
ul.legend em{color:#8d6605}
.swatch{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
.dash{display:inline-block;width:12px;border-top:2px dashed;margin-right:4px;
vertical-align:middle}
.note{color:#545b64}
ul.single-values{list-style:none;margin:4px 0;padding:0;display:flex;flex-wrap:wrap;gap:18px}
ul.single-values .value{display:block;font-size:26px;font-weight:300}
""".replace("GRID_COLUMNS", str(GRID_COLUMNS)).replace("GAP_PX", str(GAP_PX))

_SCRIPT: Final = """
(function () {
  var every = %(ms)d;
  function refresh() {
    fetch("fragment", {cache: "no-store"}).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) {
      document.getElementById("%(id)s").outerHTML = html;
      document.title = document.title.replace(/ \\(refresh failed\\)$/, "");
    }).catch(function () {
      if (!/refresh failed/.test(document.title)) { document.title += " (refresh failed)"; }
    }).then(function () { setTimeout(refresh, every); });
  }
  setTimeout(refresh, every);
})();
"""


def page_html(views: Sequence[WidgetView], info: PageInfo) -> str:
    """The whole page; with `info.refresh_seconds` it refreshes itself."""
    script = ("" if not info.refresh_seconds else
              f"<script>{_SCRIPT % {'ms': int(info.refresh_seconds * 1000), 'id': FRAGMENT_ID}}"
              "</script>")
    # The empty icon keeps the browser from asking for /favicon.ico.
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<link rel="icon" href="data:,">'
            f'<title>{escape(info.dashboard)} · crudops dashboard</title>'
            f'<style>{_STYLE}</style></head><body>'
            f'{fragment_html(views, info)}{script}</body></html>')
