"""The dashboard body as widgets: what each one draws, read from the template.

CloudFormation holds the body as an `Fn::Join` of JSON text and tokens; resolved with
the local stack's `Resolver` it is the very JSON CloudWatch would be given, with the
local queue, function and table names in it. Nothing here knows which widgets the
stack has: every widget, metric row and threshold comes from that JSON, so a widget
added to dashboards/monitoring.py shows up without a change here.

Metric rows are CloudWatch's compact form: `[namespace, name, dim1, value1, …, {options}]`,
or `[{"expression": …, "id": …}]` for metric math; `"."` repeats the element of the row
above at that position and `"..."` the row above up to where this row goes on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from crudops_local.cloudformation.template import Resolver, Template
from tools.dashboard_render import DASHBOARD_TYPE

# CloudWatch's default statistic and period of a graph that names neither.
DEFAULT_STAT: Final = "Average"
DEFAULT_PERIOD_SECONDS: Final = 300
GRID_COLUMNS: Final = 24

Dimensions = tuple[tuple[str, str], ...]


class DashboardBodyError(ValueError):
    """The template has no single dashboard, or its body is not what CloudWatch takes."""


@dataclass(frozen=True)
class MetricRow:
    """One entry of a graph's `metrics`: a metric with its statistic, or an expression."""

    namespace: str | None
    name: str | None
    dimensions: Dimensions
    stat: str
    period_seconds: int | None
    label: str | None
    id: str | None = None
    expression: str | None = None
    visible: bool = True
    color: str | None = None
    y_axis: str = "left"

    @property
    def metric(self) -> tuple[str, str, Dimensions] | None:
        """(namespace, name, dimensions sorted): how CloudWatch tells metrics apart."""
        if self.namespace is None or self.name is None:
            return None
        return self.namespace, self.name, tuple(sorted(self.dimensions))

    @property
    def default_label(self) -> str:
        if self.label is not None:
            return self.label
        if self.expression is not None:
            return self.id or self.expression
        return f"{self.name} {self.stat}"


@dataclass(frozen=True)
class Threshold:
    """A horizontal annotation: the line an alarm compares with, usually."""

    value: float
    label: str
    color: str | None = None
    y_axis: str = "left"


@dataclass(frozen=True)
class Axis:
    label: str = ""
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Widget:
    """One widget at its place on the 24-column grid."""

    index: int
    type: str  # "metric", "text", "alarm", or whatever CloudWatch adds later
    x: int
    y: int
    width: int
    height: int
    title: str = ""
    markdown: str = ""
    rows: tuple[MetricRow, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    left_axis: Axis = field(default_factory=Axis)
    view: str = "timeSeries"
    # Alarm widgets (`type: alarm`): the ARNs they list.
    alarm_arns: tuple[str, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def widget_id(self) -> str:
        return f"w{self.index}"


# --- from the template ------------------------------------------------------------
def dashboard_resource(template: Template) -> tuple[str, dict[str, Any]]:
    """(logical id, properties) of the template's one dashboard."""
    dashboards = list(template.of_type(DASHBOARD_TYPE))
    if len(dashboards) != 1:
        raise DashboardBodyError(f"expected one {DASHBOARD_TYPE}, found {len(dashboards)}")
    return dashboards[0].logical_id, dashboards[0].properties


def resolved_body(template: Template, resolver: Resolver) -> dict[str, Any]:
    """The dashboard body with every token replaced by what the resolver knows."""
    _, properties = dashboard_resource(template)
    text = resolver.resolve(properties["DashboardBody"])
    if not isinstance(text, str):
        raise DashboardBodyError("the DashboardBody does not resolve to text")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DashboardBodyError(f"the DashboardBody is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise DashboardBodyError("the DashboardBody is not a JSON object")
    return body


# --- widgets -------------------------------------------------------------------------
def parse_widgets(body: Mapping[str, Any]) -> list[Widget]:
    """Every widget of the body, in reading order (top to bottom, left to right)."""
    widgets = body.get("widgets")
    if not isinstance(widgets, list):
        raise DashboardBodyError("the dashboard body has no widgets list")
    parsed = [_widget(index, raw) for index, raw in enumerate(widgets)]
    return sorted(parsed, key=lambda w: (w.y, w.x, w.index))


def _widget(index: int, raw: Mapping[str, Any]) -> Widget:
    properties = raw.get("properties") or {}
    kind = str(raw.get("type", "metric"))
    common: dict[str, Any] = {
        "index": index, "type": kind,
        "x": int(raw.get("x", 0)), "y": int(raw.get("y", 0)),
        # CloudWatch's defaults for a widget without a size.
        "width": max(1, min(GRID_COLUMNS, int(raw.get("width", 6)))),
        "height": max(1, int(raw.get("height", 6))),
        "title": str(properties.get("title", "")), "properties": properties,
    }
    if kind == "text":
        return Widget(markdown=str(properties.get("markdown", "")), **common)
    if kind == "alarm":
        return Widget(alarm_arns=tuple(str(a) for a in properties.get("alarms", [])), **common)
    if kind != "metric":
        return Widget(**common)
    left = (properties.get("yAxis") or {}).get("left") or {}
    return Widget(
        rows=tuple(parse_metric_rows(properties.get("metrics", []),
                                     stat=str(properties.get("stat", DEFAULT_STAT)),
                                     period=_int_or_none(properties.get("period")))),
        thresholds=tuple(_threshold(a) for a in
                         (properties.get("annotations") or {}).get("horizontal", [])
                         if isinstance(a, Mapping) and "value" in a),
        left_axis=Axis(label=str(left.get("label", "")), min=_float_or_none(left.get("min")),
                       max=_float_or_none(left.get("max"))),
        view=str(properties.get("view", "timeSeries")),
        **common,
    )


def _threshold(raw: Mapping[str, Any]) -> Threshold:
    return Threshold(value=float(raw["value"]), label=str(raw.get("label", "")),
                     color=raw.get("color"), y_axis=str(raw.get("yAxis", "left")))


def parse_metric_rows(metrics: Sequence[Any], *, stat: str = DEFAULT_STAT,
                      period: int | None = None) -> list[MetricRow]:
    """The rows of one graph's `metrics` array; the widget's `stat` and `period` are
    the defaults a row's options override."""
    rows: list[MetricRow] = []
    previous: list[str] = []
    for raw in metrics:
        if not isinstance(raw, list) or not raw:
            raise DashboardBodyError(f"a metric row is not a non-empty list: {raw!r}")
        options: Mapping[str, Any] = raw[-1] if isinstance(raw[-1], Mapping) else {}
        parts = [str(p) for p in (raw[:-1] if options is raw[-1] else raw)]
        common: dict[str, Any] = {
            "label": options.get("label"), "id": options.get("id"),
            "visible": options.get("visible", True) is not False,
            "color": options.get("color"), "y_axis": str(options.get("yAxis", "left")),
            "period_seconds": _int_or_none(options.get("period")) or period,
            "stat": str(options.get("stat", stat)),
        }
        if "expression" in options:
            rows.append(MetricRow(namespace=None, name=None, dimensions=(),
                                  expression=str(options["expression"]), **common))
            continue
        parts = _expand_shorthand(parts, previous)
        previous = parts
        if len(parts) < 2 or len(parts) % 2:
            raise DashboardBodyError(f"a metric row is not namespace, name, dimension "
                                     f"pairs: {raw!r}")
        dimensions = tuple((parts[i], parts[i + 1]) for i in range(2, len(parts), 2))
        rows.append(MetricRow(namespace=parts[0], name=parts[1], dimensions=dimensions,
                              **common))
    return rows


def _expand_shorthand(parts: list[str], previous: list[str]) -> list[str]:
    if parts and parts[0] == "...":
        rest = parts[1:]
        parts = previous[:max(0, len(previous) - len(rest))] + rest
    return [previous[i] if p == "." and i < len(previous) else p
            for i, p in enumerate(parts)]


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
