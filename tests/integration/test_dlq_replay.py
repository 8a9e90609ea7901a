"""`crudops dlq replay` against moto: export → replay byte-exact on bodies and message
attributes (Binary, Number, unicode, a body that is not JSON), FIFO group ids and
deduplication, a failed line reported and sent again alone with `--lines`, a dry run,
a file that is not an export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.integration.test_dlq import (  # noqa: F401  (fixtures)
    TRACE,
    ScriptedSqs,
    Stack,
    _where_with,
    deployed,
    stack,
)
from tools.cli import app
from tools.dlq.export import do_dlq_export
from tools.dlq.replay import do_dlq_replay, line_ranges, parse_lines
from tools.errors import UserError

ODD_MESSAGES: list[dict[str, Any]] = [
    {"MessageBody": '{"requestId": "r1",  "operation":"create", "payload": {"n": 1.50}}',
     "MessageAttributes": {"operation": {"DataType": "String", "StringValue": "create"}}},
    {"MessageBody": "plain text, not JSON: ünïcode \u2603 \U0001f600\n\ttabs and\r\nlines",
     "MessageAttributes": {
         "price": {"DataType": "Number", "StringValue": "1.50"},
         "big": {"DataType": "Number.int", "StringValue": "12345678901234567890"},
         "blob": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
         "gz": {"DataType": "Binary.gzip", "BinaryValue": b"\x1f\x8b\x08\x00"},
         "text": {"DataType": "String", "StringValue": "naïve ☃"}}},
    {"MessageBody": "   ",
     "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String",
                                                    "StringValue": TRACE}}},
]


def _add_queue(world: Stack, logical_id: str, name: str, **attributes: str) -> str:
    url: str = world.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    state = json.loads(world.where.local_state_file.read_text())
    state["resources"][logical_id] = {"type": "AWS::SQS::Queue", "ref": url}
    world.where.local_state_file.write_text(json.dumps(state))
    return url


def _arn(world: Stack, url: str) -> str:
    return str(world.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"])


def _received(world: Stack, url: str) -> list[dict[str, Any]]:
    return [{"Body": m["Body"], "MessageAttributes": m.get("MessageAttributes", {})}
            for m in world.drain(url)]


def test_export_then_replay_is_byte_exact_on_bodies_and_attributes(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    # GIVEN odd messages in the DLQ, as SQS itself gives them back
    for message in ODD_MESSAGES:
        stack.sqs.send_message(QueueUrl=stack.dlq, **message)
    original = sorted(
        ({"Body": m["Body"], "MessageAttributes": m.get("MessageAttributes", {})}
         for m in stack.sqs.receive_message(QueueUrl=stack.dlq, MaxNumberOfMessages=10,
                                            MessageAttributeNames=["All"],
                                            VisibilityTimeout=0)["Messages"]),
        key=lambda m: m["Body"])
    assert len(original) == 3

    # WHEN they are exported (and deleted), then replayed into the work queue
    out = tmp_path / "dlq.jsonl"
    do_dlq_export(stack.where, "work-dlq", out, delete_written=True, yes=True)
    recording = ScriptedSqs(stack.sqs)
    report = do_dlq_replay(_where_with(stack, recording), out, "work", yes=True)

    # THEN the queue holds exactly what the DLQ held, byte for byte
    assert report.exit_code == 0 and report.sent == [1, 2, 3] and not report.fifo
    # (equal str bodies are equal UTF-8 bytes; Binary values compare as bytes)
    assert sorted(_received(stack, stack.work), key=lambda m: m["Body"]) == original
    # and the trace header went along (moto's SendMessageBatch drops it: checked as sent)
    traced = [e for e in recording.sent if e["MessageBody"] == "   "]
    assert traced[0]["MessageSystemAttributes"]["AWSTraceHeader"]["StringValue"] == TRACE
    assert stack.drain(stack.dlq) == []


def test_fifo_keeps_group_order_and_a_second_run_is_deduplicated(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    # GIVEN a FIFO queue and its FIFO DLQ holding two groups
    dlq = _add_queue(stack, "OrdersDlq", "orders-dlq.fifo", FifoQueue="true")
    orders = _add_queue(stack, "Orders", "orders.fifo", FifoQueue="true",
                        RedrivePolicy=json.dumps({"deadLetterTargetArn": _arn(stack, dlq),
                                                  "maxReceiveCount": 1}))
    for index in range(6):
        stack.sqs.send_message(QueueUrl=dlq, MessageBody=f"{'ab'[index % 2]}{index}",
                               MessageGroupId="ab"[index % 2],
                               MessageDeduplicationId=f"d{index}")
    out = tmp_path / "orders.jsonl"
    assert do_dlq_export(stack.where, "orders-dlq.fifo", out).written == 6
    assert json.loads(out.read_text().splitlines()[0])["attributes"]["MessageGroupId"]

    # WHEN they are replayed into the FIFO queue, twice
    first = do_dlq_replay(stack.where, out, "orders.fifo", yes=True)
    second = do_dlq_replay(stack.where, out, "orders.fifo", yes=True)

    # THEN each arrives once (SQS dropped the second run's copies), in order per group
    assert first.fifo and first.exit_code == 0 and second.exit_code == 0
    arrived: list[dict[str, Any]] = []
    while batch := stack.sqs.receive_message(
            QueueUrl=orders, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages"):
        arrived.extend(batch)
        for message in batch:
            stack.sqs.delete_message(QueueUrl=orders, ReceiptHandle=message["ReceiptHandle"])
    by_group: dict[str, list[str]] = {}
    for message in arrived:
        by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(message["Body"])
    assert by_group == {"a": ["a0", "a2", "a4"], "b": ["b1", "b3", "b5"]}


def test_a_standard_export_cannot_go_into_a_fifo_queue_line_by_line(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    _add_queue(stack, "Orders", "orders.fifo", FifoQueue="true")
    stack.dead_letter("r1")
    out = tmp_path / "dlq.jsonl"
    do_dlq_export(stack.where, "work-dlq", out)
    report = do_dlq_replay(stack.where, out, "orders.fifo", yes=True)
    assert report.sent == [] and list(report.failed) == [1]
    assert "no MessageGroupId" in report.failed[1]


def test_a_failed_line_is_reported_and_sent_again_alone(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    for index in range(4):
        stack.dead_letter(f"r{index}")
    out = tmp_path / "dlq.jsonl"
    do_dlq_export(stack.where, "work-dlq", out, delete_written=True, yes=True)
    failing_line = next(number for number, line in enumerate(out.read_text().splitlines(), 1)
                        if json.loads(line)["requestId"] == "r2")

    report = do_dlq_replay(_where_with(stack, ScriptedSqs(stack.sqs, fail_send="r2")), out,
                           "work", yes=True)
    assert report.exit_code == 1 and list(report.failed) == [failing_line]
    assert len(report.sent) == 3 and failing_line not in report.sent
    assert report.as_json()["retry_lines"] == str(failing_line)
    assert stack.request_ids(stack.work) == ["r0", "r1", "r3"]

    again = do_dlq_replay(stack.where, out, "work", yes=True, lines={failing_line})
    assert again.sent == [failing_line] and stack.request_ids(stack.work) == ["r2"]


def test_a_dry_run_sends_nothing_and_a_bad_line_stops_before_sending(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    stack.dead_letter("r1")
    out = tmp_path / "dlq.jsonl"
    do_dlq_export(stack.where, "work-dlq", out, delete_written=True, yes=True)
    report = do_dlq_replay(stack.where, out, "work", dry_run=True)
    assert report.dry_run and report.chosen == [1] and report.operations == {"create": 1}
    assert report.sent == [] and stack.drain(stack.work) == []

    out.write_text(out.read_text() + "{not json\n")
    with pytest.raises(UserError, match="line 2 is not JSON"):
        do_dlq_replay(stack.where, out, "work", yes=True)
    assert stack.drain(stack.work) == []


def test_a_file_of_the_earlier_export_format_replays(stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({
        "queue": "work-dlq", "message_id": "m-1", "request_id": "r1", "operation": "create",
        "body": '{"requestId": "r1"}', "attributes": {"SentTimestamp": "1"},
        "message_attributes": {"blob": {"DataType": "Binary", "BinaryValue": "AP8="}}}) + "\n")
    assert do_dlq_replay(stack.where, old, "work", yes=True).sent == [1]
    arrived = stack.drain(stack.work)
    assert arrived[0]["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\xff"


def test_lines_option_and_ranges() -> None:
    assert parse_lines("3, 7-9,1") == {1, 3, 7, 8, 9}
    assert line_ranges([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"
    for bad in ("0", "4-2", "x", "1,,2"):
        with pytest.raises(UserError):
            parse_lines(bad)


def test_the_cli_needs_yes_without_a_terminal_and_prints_json(
        deployed: Stack, tmp_path: Path) -> None:  # noqa: F811
    deployed.dead_letter("r1")
    out = tmp_path / "dlq.jsonl"
    runner = CliRunner()
    exported = runner.invoke(app, ["dlq", "export", "work-dlq", "--stack", "Crudops",
                                   "--to", str(out)])
    assert exported.exit_code == 0, exported.output
    refused = runner.invoke(app, ["dlq", "replay", str(out), "--to", "work", "--stack",
                                  "Crudops"])
    assert refused.exit_code == 2 and "add --yes" in refused.output
    assert deployed.drain(deployed.work) == []
    sent = runner.invoke(app, ["dlq", "replay", str(out), "--to", "work", "--stack",
                               "Crudops", "--yes", "--json"])
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout.splitlines()[-1])["sent_lines"] == "1"
    assert deployed.request_ids(deployed.work) == ["r1"]


def test_replay_sends_only_what_the_selection_or_request_ids_choose(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    for index in range(5):
        stack.dead_letter(f"r{index}")
    out = tmp_path / "dlq.jsonl"
    do_dlq_export(stack.where, "work-dlq", out, delete_written=True, yes=True)
    report = do_dlq_replay(stack.where, out, "work", yes=True, request_ids={"r1", "r3"},
                           select=lambda record: record.request_id != "r3")
    assert len(report.sent) == 1 and stack.request_ids(stack.work) == ["r1"]
