"""The dashboard body: resolved with the local stack's names, parsed into widgets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crudops_local.cloudformation.template import PhysicalResource, Pseudo, Resolver, Template
from tools.dashboard.body import (
    DashboardBodyError,
    MetricRow,
    parse_metric_rows,
    parse_widgets,
    resolved_body,
)
from tools.dashboard_render import RENDERED_DASHBOARD


def _template(body: Any) -> Template:
    return Template({"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Board": {"Type": "AWS::CloudWatch::Dashboard",
                  "Properties": {"DashboardName": "crudops", "DashboardBody": body}},
    }})


def test_the_body_is_resolved_with_the_local_names_of_its_resources() -> None:
    # GIVEN a body joined from JSON text and tokens, as CDK writes it
    body = {"Fn::Join": ["", [
        '{"widgets":[{"type":"metric","x":0,"y":0,"width":6,"height":5,"properties":'
        '{"region":"', {"Ref": "AWS::Region"}, '","title":"Depth","metrics":[["AWS/SQS",'
        '"ApproximateNumberOfMessagesVisible","QueueName","',
        {"Fn::GetAtt": ["Queue", "QueueName"]}, '"]]}}]}']]}
    template = _template(body)
    resolver = Resolver(template, Pseudo(region="eu-west-1"), {
        "Queue": PhysicalResource("http://sqs/local-create",
                                  {"QueueName": "local-create"})})

    # WHEN it is resolved and parsed
    (widget,) = parse_widgets(resolved_body(template, resolver))

    # THEN the row names the queue the local stack created
    assert widget.properties["region"] == "eu-west-1"
    assert widget.rows[0].dimensions == (("QueueName", "local-create"),)


def test_a_template_without_one_dashboard_is_refused() -> None:
    template = Template({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})
    with pytest.raises(DashboardBodyError, match="expected one"):
        resolved_body(template, Resolver(template, Pseudo(), {}))


def test_metric_rows_in_compact_form_with_options_and_widget_defaults() -> None:
    rows = parse_metric_rows([
        ["AWS/Lambda", "Errors", "FunctionName", "fn", {"label": "Faults", "stat": "Sum"}],
        ["AWS/Lambda", "Duration", "FunctionName", "fn"],
        [{"expression": "FILL(m1,0)", "label": "Filled"}],
        ["AWS/SQS", "NumberOfMessagesSent", "QueueName", "q",
         {"id": "m1", "visible": False, "period": 60, "color": "#123456"}],
    ], stat="Maximum", period=300)

    assert rows[0] == MetricRow("AWS/Lambda", "Errors", (("FunctionName", "fn"),), "Sum",
                                300, "Faults")
    assert rows[1].stat == "Maximum" and rows[1].label is None
    assert rows[1].default_label == "Duration Maximum"
    assert rows[2].expression == "FILL(m1,0)" and rows[2].metric is None
    assert (rows[3].id, rows[3].visible, rows[3].period_seconds, rows[3].color) == (
        "m1", False, 60, "#123456")


def test_dot_and_ellipsis_repeat_the_row_above() -> None:
    rows = parse_metric_rows([
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "create"],
        [".", "ApproximateAgeOfOldestMessage", ".", "."],
        ["...", "read"],
    ])
    assert rows[1].metric == ("AWS/SQS", "ApproximateAgeOfOldestMessage",
                              (("QueueName", "create"),))
    assert rows[2].metric == ("AWS/SQS", "ApproximateAgeOfOldestMessage",
                              (("QueueName", "read"),))


def test_a_row_that_is_not_name_and_dimension_pairs_is_refused() -> None:
    with pytest.raises(DashboardBodyError, match="dimension pairs"):
        parse_metric_rows([["AWS/SQS", "Depth", "QueueName"]])


def test_every_widget_of_the_committed_dashboard_is_parsed() -> None:
    body = json.loads(RENDERED_DASHBOARD.read_text())["DashboardBody"]
    widgets = parse_widgets(body)

    assert len(widgets) == len(body["widgets"])
    metric_widgets = [w for w in widgets if w.type == "metric"]
    assert all(w.rows and w.title for w in metric_widgets)
    assert {w.type for w in widgets} <= {"metric", "text", "alarm"}
    # Thresholds come with the graphs that draw the alarmed metric.
    assert any(t.value == 0 for w in metric_widgets for t in w.thresholds
               if w.title.startswith("DLQ"))
    # Reading order: top to bottom, then left to right.
    assert [(w.y, w.x) for w in widgets] == sorted((w.y, w.x) for w in widgets)
