"""`crudops dashboard`: the local page from the state file, the console URL, the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crudops_local.state import StateFileError
from tools.cli import app
from tools.dashboard.command import (
    DashboardOptions,
    console_url,
    do_dashboard_snapshot,
    do_dashboard_url,
    open_local_dashboard,
)
from tools.errors import USER_ERROR_EXIT_CODE, UserError

DLQ_NAME = "Crudops-CreateDlq-local"


def _local_stack(tmp_path: Path) -> Path:
    """A state file as `local up` writes it, and the template it names."""
    body = {"Fn::Join": ["", [
        '{"widgets":[{"type":"text","x":0,"y":0,"width":24,"height":1,"properties":'
        '{"markdown":"# Queues"}},{"type":"metric","x":0,"y":1,"width":12,"height":5,'
        '"properties":{"title":"DLQ: Message Count","metrics":[["AWS/SQS",'
        '"ApproximateNumberOfMessagesVisible","QueueName","',
        {"Fn::GetAtt": ["Dlq", "QueueName"]}, '",{"stat":"Maximum","label":"Visible"}]],'
        '"annotations":{"horizontal":[{"label":"Visible > 0","value":0}]}}}]}']]}
    template = {"Resources": {
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Board": {"Type": "AWS::CloudWatch::Dashboard",
                  "Properties": {"DashboardName": "crudops", "DashboardBody": body}},
        "DlqAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "crudops-create-dlq-not-empty", "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName",
                            "Value": {"Fn::GetAtt": ["Dlq", "QueueName"]}}],
            "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1,
            "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold"}},
    }}
    (tmp_path / "template.json").write_text(json.dumps(template))
    state = {"stack": "Crudops", "region": "us-east-1", "account_id": "123456789012",
             "aws_endpoint": "http://127.0.0.1:1", "target": "embedded", "metrics": True,
             "template": str(tmp_path / "template.json"),
             "resources": {
                 "Dlq": {"type": "AWS::SQS::Queue", "ref": f"http://sqs/{DLQ_NAME}",
                         "attributes": {"QueueName": DLQ_NAME}},
                 "Board": {"type": "AWS::CloudWatch::Dashboard", "ref": "crudops",
                           "attributes": {}}}}
    path = tmp_path / "local-stack.json"
    path.write_text(json.dumps(state))
    return path


class LocalCloudWatch:
    """The local CloudWatch with one datapoint of the DLQ's depth and its alarm's state."""

    def __init__(self, state: str) -> None:
        self.state = state

    def get_paginator(self, name: str) -> Any:
        metric = {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                  "Dimensions": [{"Name": "QueueName", "Value": DLQ_NAME}]}
        return type("P", (), {"paginate": lambda _self: [{"Metrics": [metric]}]})()

    def get_metric_statistics(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["Dimensions"] == [{"Name": "QueueName", "Value": DLQ_NAME}]
        # Half a minute before the call, not before the import: a long run collects
        # this module many minutes before the page's window is taken.
        sampled = datetime.now(UTC).timestamp() - 30
        return {"Datapoints": [{"Timestamp": datetime.fromtimestamp(sampled, UTC),
                                "Maximum": 1.0}]}

    def describe_alarms(self, AlarmNames: list[str]) -> dict[str, Any]:
        return {"MetricAlarms": [{"AlarmName": n, "StateValue": self.state,
                                  "StateReason": "local"} for n in AlarmNames]}


def _clients(state: str) -> Any:
    cloudwatch = LocalCloudWatch(state)
    return lambda service: cloudwatch


def test_the_local_page_draws_the_dlq_with_its_real_name_and_alarm(tmp_path: Path) -> None:
    state_file = _local_stack(tmp_path)
    page = open_local_dashboard(DashboardOptions(), state_file, _clients("ALARM")).page()

    assert 'data-title="DLQ: Message Count"' in page and "<h1>Queues</h1>" in page
    assert 'class="series" data-points="1"' in page
    assert 'class="widget metric in-alarm"' in page
    assert "crudops-create-dlq-not-empty: ALARM" in page
    assert "fetch(\"fragment\"" in page  # the served page refreshes itself


def test_an_ok_alarm_leaves_the_widget_as_it_is(tmp_path: Path) -> None:
    page = open_local_dashboard(DashboardOptions(), _local_stack(tmp_path),
                                _clients("OK")).page()
    assert "in-alarm" not in page.split("<main", 1)[1]


def test_a_snapshot_is_one_page_without_script(tmp_path: Path) -> None:
    out = do_dashboard_snapshot(tmp_path / "out" / "board.html", DashboardOptions(),
                                _local_stack(tmp_path), _clients("OK"))
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert "snapshot" in html


def test_no_local_stack_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="no running local stack"):
        open_local_dashboard(DashboardOptions(), tmp_path / "missing.json")


def test_a_window_outside_its_bounds_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--minutes 0"):
        open_local_dashboard(DashboardOptions(minutes=0), _local_stack(tmp_path))


class CloudFormation:
    def __init__(self, resources: list[dict[str, str]]) -> None:
        self.resources = resources

    def get_paginator(self, name: str) -> Any:
        assert name == "list_stack_resources"
        pages = [{"StackResourceSummaries": self.resources}]
        return type("P", (), {"paginate": lambda _self, StackName: pages})()


def test_the_deployed_dashboard_is_a_console_url() -> None:
    cloudformation = CloudFormation([
        {"LogicalResourceId": "Queue", "ResourceType": "AWS::SQS::Queue",
         "PhysicalResourceId": "https://sqs/q"},
        {"LogicalResourceId": "Board", "ResourceType": "AWS::CloudWatch::Dashboard",
         "PhysicalResourceId": "crudops"}])
    url = do_dashboard_url("Crudops", "eu-west-1", clients=lambda service: cloudformation)
    assert url == ("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?"
                   "region=eu-west-1#dashboards/dashboard/crudops")


def test_a_stack_without_a_dashboard_is_a_user_error() -> None:
    cloudformation = CloudFormation([])
    with pytest.raises(UserError, match="0 dashboards"):
        do_dashboard_url("Other", "eu-west-1", clients=lambda service: cloudformation)


def test_china_regions_have_their_own_console() -> None:
    assert console_url("cn-north-1", "a b").startswith(
        "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1")
    assert console_url("cn-north-1", "a b").endswith("/a%20b")


@pytest.mark.parametrize("arguments", [["dashboard"], ["dashboard", "--stack", "S", "--local"],
                                       ["dashboard", "--stack", "S", "--snapshot", "x.html"]])
def test_cli_wrong_combinations_exit_2(arguments: list[str]) -> None:
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == USER_ERROR_EXIT_CODE
    assert result.stderr.startswith("error: ")


def test_cli_without_a_local_stack_exits_2(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["dashboard", "--local", "--snapshot", "x.html"])
    assert result.exit_code == USER_ERROR_EXIT_CODE
    assert "crudops local up" in result.stderr


def test_help_shows_examples_to_paste() -> None:
    result = CliRunner().invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "Example: crudops dashboard --local --port 8050" in result.stdout
    assert "--snapshot" in result.stdout and "--minutes" in result.stdout


def test_more_points_than_cloudwatch_returns_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="more than 1440 points"):
        open_local_dashboard(DashboardOptions(minutes=1440, period_seconds=10),
                             _local_stack(tmp_path))
    DashboardOptions(minutes=1440).check()  # the period follows the range by default


def test_no_region_is_a_user_error_before_any_call() -> None:
    def no_call(service: str) -> Any:
        raise AssertionError(f"{service} called")

    with pytest.raises(UserError, match="no AWS region"):
        do_dashboard_url("Crudops", None, clients=no_call)
