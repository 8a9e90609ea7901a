"""The dashboard, the alarms and their topic in the synthesized template."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra.observability import ALARM_EMAIL_CONTEXT_KEY, AlarmTopic, alarm_email
from infra.settings import SettingsError, StackSettings
from infra.stack import STACK_NAME
from tests.infra.helpers import WITHOUT_ALARMS, Resources, of_type, props, stack_scoped
from tools.dashboard_render import RENDERED_DASHBOARD, dashboard_json, render_dashboard
from tools.stacks import function_short_name

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNBOOK_LINK = re.compile(r"Runbook: (?P<link>\S+)\s*$")


def _alarms(resources: Resources) -> dict[str, dict[str, Any]]:
    alarms = of_type(resources, "AWS::CloudWatch::Alarm").values()
    return {stack_scoped(props(r)["AlarmName"], STACK_NAME): props(r) for r in alarms}


def _metric(alarm: dict[str, Any]) -> dict[str, Any]:
    return dict(alarm["Metrics"][0]["MetricStat"]["Metric"])


def _queue_of(alarm: dict[str, Any]) -> str:
    (dimension,) = _metric(alarm)["Dimensions"]
    assert dimension["Name"] == "QueueName"
    return str(dimension["Value"]["Fn::GetAtt"][0])


def _dead_letter_queues(resources: Resources) -> set[str]:
    """Logical ids of the queues any queue or SNS subscription names as its DLQ."""
    targets = set()
    for resource_type in ("AWS::SQS::Queue", "AWS::SNS::Subscription"):
        for resource in of_type(resources, resource_type).values():
            policy = props(resource).get("RedrivePolicy")
            if policy:
                targets.add(policy["deadLetterTargetArn"]["Fn::GetAtt"][0])
    return targets


def test_every_alarm_links_an_existing_runbook_and_states_its_severity(
    resources: Resources, settings: StackSettings
) -> None:
    alarms = _alarms(resources)
    assert len(alarms) == len(of_type(resources, "AWS::CloudWatch::Alarm"))
    for name, alarm in alarms.items():
        description = alarm["AlarmDescription"]
        assert re.match(r"\[(critical|warning)\] ", description), name
        link = RUNBOOK_LINK.search(description)
        assert link, f"{name} has no runbook link: {description!r}"
        assert link["link"].startswith(settings.runbook_base_url)
        page = REPO_ROOT / "runbooks" / link["link"].removeprefix(settings.runbook_base_url)
        assert page.is_file(), f"{name} links {page}, which does not exist"
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", page.read_text()), (
            f"{page.name} does not name {name}"
        )


def test_alarm_names_are_deterministic(resources: Resources) -> None:
    names = set(_alarms(resources))
    assert all(re.fullmatch(r"Crudops(-[a-z0-9]+)+", name) for name in names), names
    for queue in ("create", "read", "write", "notifications"):
        assert {f"Crudops-{queue}-queue-depth-high", f"Crudops-{queue}-queue-age-high",
                f"Crudops-{queue}-dlq-not-empty"} <= names
    for function in ("create", "read", "update-delete", "notify", "ws-connect",
                     "ws-default", "ws-disconnect"):
        assert {f"Crudops-{function}-errors", f"Crudops-{function}-throttles"} <= names
    for queue in ("create", "read", "write"):
        assert {f"Crudops-{queue}-dlq-age-high",
                f"Crudops-{queue}-subscription-dlq-age-high"} <= names
    assert {"Crudops-api-5xx", "Crudops-api-p99-latency-high"} <= names


def test_every_dlq_alarms_on_its_first_visible_message(resources: Resources) -> None:
    dlq_alarms = {n: a for n, a in _alarms(resources).items() if n.endswith("dlq-not-empty")}
    # GIVEN the consumer DLQs and the three SNS subscription DLQs
    dead_letter_queues = _dead_letter_queues(resources)
    assert len(dead_letter_queues) == 7
    # THEN each has exactly one alarm, on what is in it now (not on what was sent:
    # redriven messages are not counted as sent)
    assert sorted(_queue_of(a) for a in dlq_alarms.values()) == sorted(dead_letter_queues)
    for alarm in dlq_alarms.values():
        assert _metric(alarm)["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"] == 1


def test_every_consumer_queue_alarms_on_depth_and_age(resources: Resources) -> None:
    consumer_queues = {
        logical_id for logical_id, queue in of_type(resources, "AWS::SQS::Queue").items()
        if "RedrivePolicy" in props(queue)
    }
    assert len(consumer_queues) == 4
    alarms = _alarms(resources).items()
    for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"):
        watched = {_queue_of(a) for name, a in alarms if _metric(a)["MetricName"] == metric
                   and a["Threshold"] > 0 and "dlq" not in name}
        assert watched == consumer_queues, metric


def test_every_dlq_alarms_before_its_oldest_message_can_expire(
    resources: Resources, settings: StackSettings
) -> None:
    # GIVEN each DLQ's retention, and for consumer DLQs the source queue's retention
    # (a standard queue's message keeps its enqueue time when it moves to the DLQ)
    queues = of_type(resources, "AWS::SQS::Queue")
    source_of = {props(q)["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]: logical_id
                 for logical_id, q in queues.items() if "RedrivePolicy" in props(q)}
    day = 24 * 3600
    age_alarms = {n: a for n, a in _alarms(resources).items() if n.endswith("dlq-age-high")}
    # THEN every DLQ has one age alarm ...
    assert sorted(_queue_of(a) for a in age_alarms.values()) == sorted(
        _dead_letter_queues(resources))
    for name, alarm in age_alarms.items():
        dlq = _queue_of(alarm)
        assert _metric(alarm)["MetricName"] == "ApproximateAgeOfOldestMessage"
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        time_left = props(queues[dlq])["MessageRetentionPeriod"]
        if dlq in source_of:
            time_left -= props(queues[source_of[dlq]])["MessageRetentionPeriod"]
        # ... that fires with the time to act still left before the message can expire
        act = settings.alarms.critical.dlq_time_to_act_seconds
        assert alarm["Threshold"] == time_left - act, name
    # With the defaults: 14 - 4 - 3 = 7 days for a consumer DLQ, 14 - 3 for SNS's.
    assert age_alarms["Crudops-create-dlq-age-high"]["Threshold"] == 7 * day
    assert age_alarms["Crudops-create-subscription-dlq-age-high"]["Threshold"] == 11 * day


def test_dlq_retention_that_leaves_no_time_to_act_is_refused() -> None:
    day = 24 * 3600
    with pytest.raises(SettingsError, match="DLQ age alarm"):
        StackSettings(queue_retention_seconds=12 * day, dlq_retention_seconds=14 * day)


def test_every_queue_consumer_alarms_on_records_it_reports_as_failed(
    resources: Resources, settings: StackSettings
) -> None:
    # GIVEN the functions fed by an SQS event source mapping (partial batch responses)
    mapped = {props(m)["FunctionName"]["Ref"]
              for m in of_type(resources, "AWS::Lambda::EventSourceMapping").values()}
    functions = of_type(resources, "AWS::Lambda::Function")
    short_names = {functions[f]["Properties"]["Environment"]["Variables"]["CRUDOPS_FUNCTION"]
                   for f in mapped}
    assert short_names == {"create", "read", "update-delete", "notify"}
    alarms = _alarms(resources)
    for function in short_names:
        # THEN each has an alarm on its own FailedRecords metric, on the first period
        alarm = alarms[f"Crudops-{function}-failed-records"]
        metric = _metric(alarm)
        assert metric["Namespace"] == settings.metrics_namespace
        assert metric["MetricName"] == "FailedRecords"
        assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {
            "function": function, "service": settings.service_name}
        assert alarm["Metrics"][0]["MetricStat"]["Stat"] == "Sum"
        assert alarm["Threshold"] == settings.alarms.warning.function_max_failed_records
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"] == 1
        assert "runbooks/failed-records.md" in alarm["AlarmDescription"]


def test_every_function_knows_its_short_name(resources: Resources) -> None:
    """The name in its alarms is the one its handler puts on its metrics, and the one
    the CLI derives from its logical id."""
    functions = of_type(resources, "AWS::Lambda::Function")
    names = {props(f)["Environment"]["Variables"]["CRUDOPS_FUNCTION"]
             for f in functions.values()}
    for logical_id, function in functions.items():
        assert function_short_name(logical_id) == props(function)["Environment"][
            "Variables"]["CRUDOPS_FUNCTION"], logical_id
    assert names == {"create", "read", "update-delete", "notify", "ws-authorizer",
                     "ws-connect", "ws-default", "ws-disconnect"}
    alarm_names = set(_alarms(resources))
    assert all(f"Crudops-{name}-errors" in alarm_names for name in names - WITHOUT_ALARMS)


def test_the_actively_traced_topic_may_write_its_segments(resources: Resources) -> None:
    (topic_id,) = [k for k, t in of_type(resources, "AWS::SNS::Topic").items()
                   if props(t).get("TracingConfig") == "Active"]
    (policy,) = of_type(resources, "AWS::XRay::ResourcePolicy").values()
    document = json.dumps(props(policy)["PolicyDocument"])
    assert "sns.amazonaws.com" in document and "xray:PutTraceSegments" in document
    assert json.dumps({"Ref": topic_id}) in document


def test_every_function_alarms_on_errors_and_throttles(resources: Resources) -> None:
    functions = {logical_id for logical_id in of_type(resources, "AWS::Lambda::Function")
                 if function_short_name(logical_id) not in WITHOUT_ALARMS}
    assert len(functions) == len(of_type(resources, "AWS::Lambda::Function")) - 1
    for metric in ("Errors", "Throttles"):
        watched = {
            _metric(a)["Dimensions"][0]["Value"]["Ref"]
            for a in _alarms(resources).values()
            if _metric(a)["Namespace"] == "AWS/Lambda" and _metric(a)["MetricName"] == metric
        }
        assert watched == functions, metric


def test_api_and_end_to_end_age_alarms(resources: Resources, settings: StackSettings) -> None:
    alarms = _alarms(resources)
    assert _metric(alarms["Crudops-api-5xx"])["MetricName"] == "5XXError"
    latency = alarms["Crudops-api-p99-latency-high"]
    assert latency["Metrics"][0]["MetricStat"]["Stat"] == "p99"
    assert latency["Threshold"] == settings.alarms.warning.api_p99_latency_ms
    age = alarms["Crudops-create-end-to-end-age-high"]
    assert _metric(age)["Namespace"] == settings.metrics_namespace
    assert {d["Name"]: d["Value"] for d in _metric(age)["Dimensions"]} == {
        "operation": "create", "service": settings.service_name}
    assert age["Metrics"][0]["MetricStat"]["Stat"] == "p99"


def test_alarm_actions_go_to_an_encrypted_tls_only_topic(resources: Resources) -> None:
    topics = of_type(resources, "AWS::SNS::Topic")
    (topic_id,) = [k for k in topics if k.startswith("ObservabilityAlarmsTopic")]
    assert "KmsMasterKeyId" in props(resources[topic_id])
    for alarm in _alarms(resources).values():
        assert alarm["ActionsEnabled"] is True
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["OKActions"] == [{"Ref": topic_id}]
    (policy,) = [p for p in of_type(resources, "AWS::SNS::TopicPolicy").values()
                 if {"Ref": topic_id} in props(p)["Topics"]]
    statements = props(policy)["PolicyDocument"]["Statement"]
    tls_only = {"Bool": {"aws:SecureTransport": "false"}}
    assert any(s["Effect"] == "Deny" and s["Condition"] == tls_only for s in statements)
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)
    # No e-mail context in the tests: no subscription to the alarm topic.
    assert not [s for s in of_type(resources, "AWS::SNS::Subscription").values()
                if props(s)["TopicArn"] == {"Ref": topic_id}]


def test_alarm_email_context_adds_an_email_subscription() -> None:
    app = App(context={ALARM_EMAIL_CONTEXT_KEY: "oncall@example.com"})
    stack = Stack(app, "AlarmTopicOnly")
    email = alarm_email(stack.node.try_get_context(ALARM_EMAIL_CONTEXT_KEY))
    AlarmTopic(stack, "Alarms", email=email)
    Template.from_stack(stack).has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "oncall@example.com"}
    )


@pytest.mark.parametrize("value", ["not-an-address", 42, "a@b"])
def test_a_bad_alarm_email_is_refused(value: object) -> None:
    with pytest.raises(SettingsError, match="e-mail"):
        alarm_email(value)


def test_dashboard_follows_the_request_path(template_json: dict[str, Any]) -> None:
    widgets = render_dashboard(template_json)["DashboardBody"]["widgets"]
    headers = [w["properties"]["markdown"] for w in widgets
               if w["type"] == "text" and w["properties"]["markdown"].startswith("# ")]
    assert [h.split(".")[0] for h in headers] == [f"# {n}" for n in range(1, 8)]
    assert [h.split(". ", 1)[1].split(":")[0] for h in headers] == [
        "REST API", "Commands topic", "Queues and their dead-letter queues", "Functions",
        "Commands", "Tables", "Notifications"]
    metrics = json.dumps(widgets)
    for name in ("ConnectCount", "MessageCount", "IntegrationError", "ClientError",
                 "ExecutionError", "EndToEndAge", "CommandSucceeded", "CommandFailed",
                 "NotificationDelivered", "NotificationGone", "NotificationUnsubscribed",
                 "FailedRecords"):
        assert f'"{name}"' in metrics, name


def test_rendered_dashboard_is_up_to_date(template_json: dict[str, Any]) -> None:
    """Fails when the committed JSON drifts from the code: run `crudops render-dashboard`."""
    assert RENDERED_DASHBOARD.read_text() == dashboard_json(template_json)


def test_the_dashboard_and_the_api_alarms_carry_the_stack_s_names(
        resources: Resources) -> None:
    # Two stacks in one account and Region must not share a dashboard or an alarm.
    (dashboard,) = [props(d) for d in of_type(resources, "AWS::CloudWatch::Dashboard").values()]
    assert dashboard["DashboardName"] == {"Ref": "AWS::StackName"}
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        assert stack_scoped(props(alarm)["AlarmName"], "other").startswith("other-")
    # The REST API's metrics are keyed by its name: its alarms read the same one.
    (api,) = [props(a) for a in of_type(resources, "AWS::ApiGateway::RestApi").values()]
    for name in ("Crudops-api-5xx", "Crudops-api-p99-latency-high"):
        dimensions = {d["Name"]: d["Value"] for d in _metric(_alarms(resources)[name])[
            "Dimensions"]}
        assert dimensions["ApiName"] == api["Name"]


def test_the_dashboard_s_api_widgets_read_the_api_s_name(template_json: dict[str, Any]) -> None:
    rendered = render_dashboard(template_json)
    assert rendered["DashboardName"] == "${AWS::StackName}"
    api_names = {metric[metric.index("ApiName") + 1]
                 for widget in rendered["DashboardBody"]["widgets"]
                 for metric in widget.get("properties", {}).get("metrics", [])
                 if "ApiName" in metric}
    assert api_names == {"${AWS::StackName}-api"}
