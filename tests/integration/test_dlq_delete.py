"""`crudops dlq delete` and `crudops dlq purge` against moto: each keeps a copy first
(and the copy replays), `delete` takes only the named messages, `purge` says what it
could not copy and turns SQS's one-purge-a-minute rule into one line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.integration.test_dlq import Stack, deployed, stack  # noqa: F401  (fixtures)
from tools.cli import app
from tools.dlq import dump_file
from tools.dlq.delete import do_dlq_delete, do_dlq_purge
from tools.dlq.replay import do_dlq_replay
from tools.errors import UserError

NOW = datetime(2026, 12, 1, 9, 30, 12, 345000, tzinfo=UTC)


def _ids(world: Stack, count: int) -> dict[str, str]:
    for index in range(count):
        world.dead_letter(f"r{index:02}")
    messages: dict[str, str] = {}
    handles = []
    while batch := world.sqs.receive_message(QueueUrl=world.dlq, MaxNumberOfMessages=10,
                                             VisibilityTimeout=30).get("Messages", []):
        messages.update((json.loads(m["Body"])["requestId"], m["MessageId"]) for m in batch)
        handles.extend(m["ReceiptHandle"] for m in batch)
    for handle in handles:  # visible again, as they were
        world.sqs.change_message_visibility(QueueUrl=world.dlq, ReceiptHandle=handle,
                                            VisibilityTimeout=0)
    return messages


def test_delete_copies_the_named_messages_first_and_takes_only_them(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    ids = _ids(stack, 12)
    # WHEN two messages (and one that is not there) are deleted
    report = do_dlq_delete(stack.where, "work-dlq", [ids["r02"], ids["r09"], "not-there"],
                           yes=True, copy_dir=tmp_path / "deleted", now=lambda: NOW)
    # THEN their copy is in the file named after the time, and only they are gone
    copy = tmp_path / "deleted" / "20261201T093012.345Z-work-dlq.jsonl"
    assert report.export.path == copy and report.missing == ["not-there"]
    assert sorted(report.export.deleted) == sorted([ids["r02"], ids["r09"]])
    assert report.exit_code == 1
    assert sorted(json.loads(line)["requestId"] for line in copy.read_text().splitlines()) == [
        "r02", "r09"]
    assert stack.request_ids(stack.dlq) == [f"r{i:02}" for i in range(12) if i not in (2, 9)]
    # and the copy puts them back
    assert do_dlq_replay(stack.where, copy, "work-dlq", yes=True).sent == [1, 2]
    assert stack.request_ids(stack.dlq) == ["r02", "r09"]


def test_delete_deletes_nothing_when_its_copy_cannot_be_written(
        stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    ids = _ids(stack, 3)

    def full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dump_file.os, "fsync", full)
    with pytest.raises(UserError, match="nothing was deleted"):
        do_dlq_delete(stack.where, "work-dlq", [ids["r01"]], yes=True,
                      copy_dir=tmp_path / "deleted", now=lambda: NOW)
    assert stack.request_ids(stack.dlq) == ["r00", "r01", "r02"]


def test_purge_exports_first_then_empties_the_queue(stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    for index in range(13):
        stack.dead_letter(f"r{index:02}")
    report = do_dlq_purge(stack.where, "work-dlq", yes=True, copy_dir=tmp_path, now=lambda: NOW)
    assert report.exported == 13 and report.uncopied == 0
    assert report.export is not None
    lines = report.export.path.read_text().splitlines()
    assert sorted(json.loads(line)["requestId"] for line in lines) == [
        f"r{i:02}" for i in range(13)]
    assert stack.drain(stack.dlq) == []

    # SQS allows one purge a minute: the second is one line, and keeps its copy
    stack.dead_letter("late")
    with pytest.raises(UserError, match=r"purged less than 60 s ago.*the copy in"):
        do_dlq_purge(stack.where, "work-dlq", yes=True, copy_dir=tmp_path,
                     now=lambda: NOW.replace(minute=31))
    assert stack.request_ids(stack.dlq) == ["late"]


def test_purge_counts_what_it_could_not_copy(stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    # GIVEN a message another reader holds hidden while the purge reads the DLQ
    stack.dead_letter("held")
    stack.dead_letter("visible")
    held = stack.sqs.receive_message(QueueUrl=stack.dlq, VisibilityTimeout=300)["Messages"]
    assert len(held) == 1
    report = do_dlq_purge(stack.where, "work-dlq", yes=True, copy_dir=tmp_path, now=lambda: NOW)
    # THEN the copy has the one it could read, and the report says one went uncopied
    assert report.exported == 1 and report.uncopied == 1
    assert report.as_json()["without_copy_at_least"] == 1


def test_the_cli_purge_without_export_and_delete_need_yes_without_a_terminal(
        deployed: Stack) -> None:  # noqa: F811
    deployed.dead_letter("r00")
    runner = CliRunner()
    refused = runner.invoke(app, ["dlq", "purge", "work-dlq", "--stack", "Crudops"])
    assert refused.exit_code == 2 and "add --yes" in refused.output
    refused = runner.invoke(app, ["dlq", "delete", "work-dlq", "--stack", "Crudops",
                                  "--message-id", "m"])
    assert refused.exit_code == 2 and "add --yes" in refused.output
    assert deployed.request_ids(deployed.dlq) == ["r00"]
    deployed.dead_letter("r01")
    purged = runner.invoke(app, ["dlq", "purge", "work-dlq", "--stack", "Crudops",
                                 "--no-export", "--yes", "--json"])
    assert purged.exit_code == 0, purged.output
    assert json.loads(purged.stdout.splitlines()[-1])["copy"] is None
    assert deployed.drain(deployed.dlq) == []


def test_a_delete_that_finds_none_of_its_messages_leaves_no_copy(
        stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    stack.dead_letter("r00")
    report = do_dlq_delete(stack.where, "work-dlq", ["not-there"], yes=True,
                           copy_dir=tmp_path / "deleted", now=lambda: NOW)
    assert report.missing == ["not-there"] and report.exit_code == 1
    assert report.as_json()["copy"] is None
    assert list((tmp_path / "deleted").glob("*")) == []
    assert stack.request_ids(stack.dlq) == ["r00"]
