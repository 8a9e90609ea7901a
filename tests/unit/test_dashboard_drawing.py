"""Drawing: one graph as SVG, the widgets as one self-contained HTML page."""

from __future__ import annotations

import json
import re

from tools.dashboard.body import Axis, Threshold, Widget, parse_metric_rows, parse_widgets
from tools.dashboard.page import PageInfo, page_html
from tools.dashboard.series import AlarmState, Line, WidgetView, Window
from tools.dashboard.svg import THRESHOLD_COLOR, chart_svg, nice_step, plot_range
from tools.dashboard_render import RENDERED_DASHBOARD

WINDOW = Window(start=0.0, end=600.0, period_seconds=10)


def _attributes(svg: str, tag: str, css_class: str) -> list[dict[str, str]]:
    found = []
    for match in re.finditer(rf'<{tag} class="{css_class}"([^>]*)>', svg):
        found.append(dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1))))
    return found


def test_a_series_with_its_threshold() -> None:
    # GIVEN a queue depth rising to 3 and its alarm's threshold at 5
    line = Line("Visible", ((0.0, 0.0), (300.0, 3.0), (600.0, 1.0)))
    svg = chart_svg([line], [Threshold(5.0, "Visible > 5")], Axis("Count", min=0),
                    start=0.0, end=600.0, width=400, height=200)

    # THEN the line has its three points, inside the drawing, in the first colour
    (series,) = _attributes(svg, "polyline", "series")
    assert series["data-points"] == "3" and series["stroke"] == "#1f77b4"
    points = [tuple(map(float, p.split(","))) for p in series["points"].split()]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert xs == sorted(xs) and ys[1] < ys[2] < ys[0]  # 3 is drawn above 1, above 0
    # AND the threshold is a line across it, above the highest value, in red
    (threshold,) = _attributes(svg, "line", "threshold")
    assert threshold["stroke"] == THRESHOLD_COLOR
    assert float(threshold["y1"]) < min(ys)
    assert float(threshold["x1"]) <= min(xs) and float(threshold["x2"]) >= max(xs)
    # AND both axes have ticks: values including the threshold, and times
    y_ticks = re.findall(r'class="tick y"[^>]*>([^<]+)<', svg)
    assert "0" in y_ticks and float(y_ticks[-1]) >= 5
    assert re.findall(r'class="tick x"[^>]*>(\d\d:\d\d)<', svg)


def test_the_y_range_keeps_a_threshold_far_above_the_data_in_view() -> None:
    plot = plot_range([Line("Age", ((0.0, 4.0),))], [Threshold(900.0, "Age > 900")],
                      Axis(min=0), 0.0, 60.0)
    assert plot.low == 0 and plot.high > 900 and plot.ticks[0] == 0


def test_round_steps() -> None:
    assert [nice_step(s) for s in (1.0, 4.0, 10.0, 900.0)] == [0.25, 1.0, 2.5, 250.0]


def _page(*views: WidgetView) -> str:
    return page_html(list(views), PageInfo("crudops", "local", WINDOW, 600.0, None))


def test_a_widget_whose_alarm_is_in_alarm_is_red_and_names_it() -> None:
    widget = Widget(index=3, type="metric", x=0, y=0, width=12, height=5,
                    title="DLQ: Message Count")
    html = _page(WidgetView(widget, (Line("Visible", ((10.0, 1.0),)),),
                            (AlarmState("crudops-create-dlq-not-empty", "ALARM", "1 > 0"),)))
    section = re.search(r'<section class="([^"]*)" id="w3"', html)
    assert section and "in-alarm" in section.group(1).split()
    assert "crudops-create-dlq-not-empty: ALARM" in html
    assert "In ALARM: crudops-create-dlq-not-empty" in html


def test_text_widgets_are_markdown_and_console_links_are_not_followed() -> None:
    widget = Widget(index=0, type="text", x=0, y=0, width=24, height=1,
                    markdown="### SQS Queue **[create](https://eu-west-1.console.aws."
                             "amazon.com/sqs)** <script>alert(1)</script>")
    html = _page(WidgetView(widget))
    assert "<h3>SQS Queue <strong><span class=\"link\"" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_the_layout_follows_the_grid() -> None:
    widget = Widget(index=1, type="metric", x=6, y=2, width=8, height=5, title="Latency",
                    rows=tuple(parse_metric_rows([["N", "m"]])))
    html = _page(WidgetView(widget, (Line("m"),)))
    assert 'style="grid-column:7 / span 8;grid-row:3 / span 5"' in html


def test_a_snapshot_of_the_whole_dashboard_requests_nothing_from_anywhere() -> None:
    # GIVEN every widget of the committed dashboard, with a line drawn in each graph
    body = json.loads(RENDERED_DASHBOARD.read_text())["DashboardBody"]
    views = [WidgetView(w, tuple(Line(r.default_label, ((100.0, 1.0), (200.0, 2.0)))
                                 for r in w.rows if r.visible)) for w in parse_widgets(body)]

    html = _page(*views)

    # THEN the page names no address at all: no link, script, image, font or style to load
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    assert not re.search(r"<(script|img|iframe|link rel=\"stylesheet\")|@import|url\(", html)
    # AND every widget title is on it
    for view in views:
        assert f'data-title="{view.widget.title}"'.replace("&", "&amp;") in html


def test_a_single_value_widget_shows_the_latest_value() -> None:
    widget = Widget(index=2, type="metric", x=0, y=0, width=6, height=3, title="Depth",
                    view="singleValue", rows=tuple(parse_metric_rows([["N", "m"], ["N", "n"]])))
    html = _page(WidgetView(widget, (Line("Visible", ((0.0, 3.0), (10.0, 12.0))),
                                     Line("Delayed", note="no datapoints in the window"))))
    assert '<span class="value">12</span>Visible' in html
    assert "<em>no datapoints in the window</em></span>Delayed" in html
    assert "<svg" not in html
