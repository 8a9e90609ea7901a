"""What the on-call SRE sees on the local stack: an alarm that fires, `crudops status`
that shows it, and `crudops trace` that follows one request through its functions."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import Api
from tests.support.waiting import wait_until
from tools.status import do_status
from tools.trace import TraceReport, do_trace

pytestmark = pytest.mark.e2e

ALARM_DEADLINE_SECONDS = 120.0


def _state_file(api: Api) -> Path:
    path = api.stack.options.state_file
    assert path is not None
    return path


def test_a_poison_message_puts_the_create_dlq_alarm_in_alarm_and_status_shows_it(
        api: Api) -> None:
    api.aws("sns").publish(
        TopicArn=api.ref("MessagingCommands", "AWS::SNS::Topic"),
        Message="not a command either",
        MessageAttributes={"operation": {"DataType": "String", "StringValue": "create"}},
    )
    cloudwatch = api.aws("cloudwatch")
    # Not with AlarmNamePrefix too: the emulator then ignores StateValue.
    wait_until(
        lambda: [a["AlarmName"] for a in cloudwatch.describe_alarms(
            StateValue="ALARM")["MetricAlarms"]],
        lambda names: "crudops-create-dlq-not-empty" in names,
        timeout=ALARM_DEADLINE_SECONDS, interval=0.5, describe="the create DLQ alarm in ALARM")

    report = do_status(local=True, local_state_file=_state_file(api))
    assert "alarm crudops-create-dlq-not-empty is in ALARM" in report.problems
    (dlq,) = [q for q in report.queues if q.is_dlq and "CreateConsumerDlq" in q.logical_id]
    assert dlq.total >= 1 and report.exit_code == 1
    # Age and errors come from the metrics the local stack publishes, not n/a.
    assert dlq.oldest_age_seconds is not None
    assert all(f.errors is not None for f in report.functions)
    # The alarms of the template are all there, each with its runbook.
    described = cloudwatch.describe_alarms(AlarmNames=["crudops-create-dlq-not-empty"])
    assert "runbooks/dlq-not-empty.md" in described["MetricAlarms"][0]["AlarmDescription"]
    assert len(report.alarms) == 37


def test_trace_follows_a_request_through_its_worker_and_notify(api: Api) -> None:
    request_id = api.submit("POST", "/items", json={"name": "traced"})
    assert api.stored_outcome(request_id)["status"] == "success"

    def complete(report: TraceReport) -> bool:
        functions = {s.name for s in report.spans if s.kind == "AWS::Lambda::Function"}
        # Subsegments reach the daemon on their own schedule: wait for the queue wait
        # too when worker and Notify share one trace.
        linked = len(report.trace_ids) > 1 or any(s.name == "queue wait" for s in report.spans)
        # ...and for every document asserted on below: the daemon uploads what it has
        # buffered once a second, so a function's segment can arrive before the
        # subsegments its SDK sent.
        annotated = [s for s in report.spans if s.annotations.get("requestId") == request_id]
        return (any("CreateHandler" in f for f in functions)
                and any("NotifyHandler" in f for f in functions) and len(report.logs) >= 2
                and linked and len(annotated) >= 2
                and any(s.kind == "aws" and s.name == "dynamodb" for s in report.spans))

    report = wait_until(
        lambda: do_trace(request_id, local=True, local_state_file=_state_file(api)),
        complete, timeout=30, interval=0.5, describe=f"the trace of {request_id}")
    assert report.exit_code == 0 and report.outcome is not None
    assert report.outcome["status"] == "success" and report.outcome["requestId"] == request_id
    annotated = [s for s in report.spans if s.annotations.get("requestId") == request_id]
    assert {s.annotations.get("operation") for s in annotated} == {"create"}
    assert len(annotated) >= 2
    # Worker and Notify share the request's trace unless Notify's batch started with
    # another request's record (a batch runs under its first record's trace locally,
    # see ADR 0009); in the shared trace the queue wait sits between the two.
    # A Create that overran its 1 s timeout on a loaded machine is redelivered and
    # retried under a trace of its own: one more trace per extra Create invocation.
    create_invocations = [s for s in report.spans if s.kind == "AWS::Lambda::Function"
                          and "CreateHandler" in s.name]
    assert 1 <= len(report.trace_ids) <= 1 + len(create_invocations), (
        report.trace_ids, [(s.trace_id, s.name) for s in report.spans])
    own_trace = [s for s in report.spans if s.trace_id == annotated[0].trace_id]
    names = [s.name for s in own_trace]
    if len(report.trace_ids) == 1:
        creates = [i for i, n in enumerate(names) if "CreateHandler" in n]
        notifies = [i for i, n in enumerate(names) if "NotifyHandler" in n]
        waits = [i for i, n in enumerate(names) if n == "queue wait"]
        assert any(c < w < n for c in creates for w in waits for n in notifies), names
    assert any(s.kind == "aws" and s.name == "dynamodb" for s in report.spans)
    assert all(request_id in line.text for line in report.logs)


def test_trace_of_an_unknown_request_finds_nothing(api: Api) -> None:
    report = do_trace(str(uuid.uuid4()), local=True, local_state_file=_state_file(api))
    assert not report.found and report.exit_code == 1
