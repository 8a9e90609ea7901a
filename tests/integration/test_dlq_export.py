"""`crudops dlq export` against moto: every kind of attribute in the record, `--delete`
deleting only what is on disk (a write failure injected half-way), the confirmation
rule, and `--out` kept as the old name of `--to`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.integration.test_dlq import (  # noqa: F401  (fixtures)
    TRACE,
    Stack,
    deployed,
    stack,
)
from tools.cli import app
from tools.dlq import dump_file
from tools.dlq.export import do_dlq_export
from tools.errors import UserError


def _ids_in(path: Path) -> list[str]:
    return [json.loads(line)["messageId"] for line in path.read_text().splitlines()]


def _ids_left(world: Stack) -> list[str]:
    return [m["MessageId"] for m in world.drain(world.dlq)]


def test_the_record_keeps_every_attribute_kind_and_the_system_attributes(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    stack.sqs.send_message(
        QueueUrl=stack.dlq, MessageBody="héllo, not JSON \u2603",
        MessageAttributes={
            "text": {"DataType": "String", "StringValue": "ünïcode"},
            "price": {"DataType": "Number", "StringValue": "1.50"},
            "weight": {"DataType": "Number.kg", "StringValue": "-3e2"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff\x10"}},
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String",
                                                    "StringValue": TRACE}})
    report = do_dlq_export(stack.where, "work-dlq", tmp_path / "out.jsonl")
    assert report.written == 1 and report.exit_code == 0
    record = json.loads((tmp_path / "out.jsonl").read_text())
    assert record["format"] == "crudops.dlq.message/1" and record["queue"] == "work-dlq"
    assert record["body"] == "héllo, not JSON \u2603"
    assert record["messageAttributes"] == {
        "text": {"DataType": "String", "StringValue": "ünïcode"},
        "price": {"DataType": "Number", "StringValue": "1.50"},
        "weight": {"DataType": "Number.kg", "StringValue": "-3e2"},
        "blob": {"DataType": "Binary", "BinaryValue": "AP8Q"}}
    assert record["attributes"]["AWSTraceHeader"] == TRACE
    assert record["receiveCount"] == 1
    assert record["sentTimestamp"] == int(record["attributes"]["SentTimestamp"])
    assert record["firstReceiveTimestamp"] == int(
        record["attributes"]["ApproximateFirstReceiveTimestamp"])


def test_export_delete_takes_only_the_chosen_messages_out(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    for index in range(14):
        stack.dead_letter(f"r{index:02}")
    report = do_dlq_export(stack.where, "work-dlq", tmp_path / "out.jsonl",
                           request_ids={"r03", "r11", "absent"}, delete_written=True,
                           yes=True)
    assert (report.written, len(report.deleted), report.skipped) == (2, 2, 12)
    assert report.missing == ["absent"] and report.exit_code == 1
    assert sorted(json.loads(line)["requestId"] for line in
                  (tmp_path / "out.jsonl").read_text().splitlines()) == ["r03", "r11"]
    assert stack.request_ids(stack.dlq) == [f"r{i:02}" for i in range(14)
                                            if i not in (3, 11)]


def test_a_write_failure_half_way_deletes_nothing_that_is_not_on_disk(
        stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    # GIVEN 25 messages, and a disk that fails to fsync the file's second batch
    for index in range(25):
        stack.dead_letter(f"r{index:02}")
    real_fsync, calls = os.fsync, []

    def fsync(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == 3:  # the directory, the first batch, then the second batch
            raise OSError(28, "No space left on device")
        real_fsync(descriptor)

    monkeypatch.setattr(dump_file.os, "fsync", fsync)
    out = tmp_path / "out.jsonl"

    # WHEN the export with --delete runs into it
    with pytest.raises(UserError, match=r"No space left on device.*deleted so far are in"):
        do_dlq_export(stack.where, "work-dlq", out, delete_written=True, yes=True)

    # THEN what was fsynced is in the kept .partial file and gone from the DLQ, and
    # everything else (the batch written but not fsynced too) is still in the DLQ
    partial = tmp_path / "out.jsonl.partial"
    assert not out.exists() and partial.exists()
    saved = set(_ids_in(partial))
    left = set(_ids_left(stack))
    assert len(left) == 25 - 10 and len(saved) >= 10
    synced = _ids_in(partial)[:10]
    assert not set(synced) & left and len(saved | left) == 25
    # and a second export does not write over the file that holds deleted messages
    with pytest.raises(UserError, match="partial exists"):
        do_dlq_export(stack.where, "work-dlq", out, delete_written=True, yes=True)


def test_a_failed_delete_is_reported_and_the_message_stays(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    from tests.integration.test_dlq import ScriptedSqs, _where_with

    stack.dead_letter("r00")
    report = do_dlq_export(_where_with(stack, ScriptedSqs(stack.sqs, fail_delete="throttled")),
                           "work-dlq", tmp_path / "out.jsonl", delete_written=True, yes=True)
    assert report.written == 1 and report.deleted == [] and report.exit_code == 1
    assert list(report.not_deleted.values()) == ["delete failed: throttled"]
    assert stack.request_ids(stack.dlq) == ["r00"]  # visible again at once


def test_the_cli_asks_before_deleting_and_needs_yes_without_a_terminal(
        deployed: Stack, tmp_path: Path) -> None:  # noqa: F811
    deployed.dead_letter("r00")
    runner = CliRunner()
    out = tmp_path / "out.jsonl"
    refused = runner.invoke(app, ["dlq", "export", "work-dlq", "--stack", "Crudops",
                                  "--to", str(out), "--delete"])
    assert refused.exit_code == 2 and "add --yes" in refused.output
    assert not out.exists() and deployed.request_ids(deployed.dlq) == ["r00"]

    deployed.dead_letter("r01")
    # `--out`, the runbooks' spelling, still works
    done = runner.invoke(app, ["dlq", "export", "work-dlq", "--stack", "Crudops",
                               "--out", str(out), "--delete", "--yes", "--json"])
    assert done.exit_code == 0, done.output
    summary: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert (summary["written"], summary["deleted"]) == (1, 1)
    assert deployed.request_ids(deployed.dlq) == []


def test_a_selection_sees_the_record_and_only_its_messages_go(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    for index in range(12):
        stack.dead_letter(f"r{index:02}")
    seen: list[dict[str, Any]] = []

    def odd(record: Any) -> bool:
        seen.append(record.as_json())
        return int(json.loads(record.body)["requestId"][1:]) % 2 == 1

    report = do_dlq_export(stack.where, "work-dlq", tmp_path / "odd.jsonl", select=odd,
                           delete_written=True, yes=True)
    assert report.written == 6 and report.skipped == 6
    assert {"body", "attributes", "receiveCount", "sentTimestamp"} <= set(seen[0])
    assert stack.request_ids(stack.dlq) == [f"r{i:02}" for i in range(0, 12, 2)]


def test_export_filter_chooses_as_the_redrive_does(stack: Stack,  # noqa: F811
                                                   tmp_path: Path) -> None:
    """`--filter` is the redrive's JMESPath over the same view of a message."""
    from tools.dlq.export import chosen_by
    from tools.dlq.selection import selection

    for index in range(6):
        stack.dead_letter(f"r{index:02}")
    chosen = chosen_by(selection(expression="body.requestId == 'r02' || "
                                            "body.requestId == 'r04'"))
    report = do_dlq_export(stack.where, "work-dlq", tmp_path / "out.jsonl", select=chosen)
    assert report.written == 2
    assert sorted(json.loads(line)["requestId"] for line in
                  (tmp_path / "out.jsonl").read_text().splitlines()) == ["r02", "r04"]
    assert chosen_by(selection()) is None  # no condition: nothing to test per message
    with pytest.raises(UserError):
        selection(expression="body.[")
