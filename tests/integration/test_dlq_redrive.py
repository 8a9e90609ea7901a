"""`crudops dlq redrive` against moto: a queue named outside any stack, the selection
moving exactly what it chooses, a dry run that changes nothing, the journal and
`--resume`, visibility kept while a batch is sent, FIFO groups, and many threads.

The small cases run in `mock_aws`; those that need real processes or many messages
run against the embedded server in its own process, as the local stack runs it
(`benchmarks/sqs_depth.py` `running_server`, patched: receive and delete cost the same
at any depth).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from benchmarks.sqs_depth import running_server
from tests.integration.test_dlq import ScriptedSqs
from tests.support.waiting import wait_until
from tools.dlq.addressing import Where
from tools.dlq.commands import do_dlq_redrive, do_dlq_redrive_preview
from tools.dlq.journal import Journal, read_journal
from tools.dlq.redrive import Redrive, RedrivePlan
from tools.dlq.selection import Selection, selection
from tools.errors import UserError

REGION = "us-east-1"
REPO_ROOT = Path(__file__).resolve().parents[2]


class Queues:
    """A work queue and its DLQ (standard or FIFO) on one SQS endpoint."""

    def __init__(self, sqs: Any, *, fifo: bool = False, prefix: str = "") -> None:
        self.sqs = sqs
        suffix = ".fifo" if fifo else ""
        extra = {"FifoQueue": "true"} if fifo else {}
        self.dlq = sqs.create_queue(QueueName=f"{prefix}work-dlq{suffix}",
                                    Attributes=extra)["QueueUrl"]
        self.dlq_arn = self.arn(self.dlq)
        self.work = sqs.create_queue(QueueName=f"{prefix}work{suffix}", Attributes={
            **extra, "RedrivePolicy": json.dumps({"deadLetterTargetArn": self.dlq_arn,
                                                  "maxReceiveCount": 5})})["QueueUrl"]

    def arn(self, url: str) -> str:
        return str(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"])

    def fill(self, count: int, *, operation: str = "create", group: str | None = None,
             start: int = 0) -> None:
        for first in range(start, start + count, 10):
            entries = []
            for n in range(first, min(first + 10, start + count)):
                entry: dict[str, Any] = {
                    "Id": str(n - first),
                    "MessageBody": json.dumps({"requestId": f"r{n:05}", "operation": operation}),
                    "MessageAttributes": {"operation": {"DataType": "String",
                                                        "StringValue": operation}}}
                if group is not None:
                    entry |= {"MessageGroupId": group, "MessageDeduplicationId": f"d{n}"}
                entries.append(entry)
            assert not self.sqs.send_message_batch(QueueUrl=self.dlq, Entries=entries).get(
                "Failed")

    def drain(self, url: str) -> list[dict[str, Any]]:
        """Receive and delete everything visible in `url`, in the order received."""
        found: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                MessageAttributeNames=["All"]).get("Messages", []):
            found.extend(batch)
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
        return found

    def request_ids(self, url: str) -> list[str]:
        return sorted(json.loads(m["Body"])["requestId"] for m in self.drain(url))

    def depth(self, url: str) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return (int(attributes["ApproximateNumberOfMessages"]),
                int(attributes["ApproximateNumberOfMessagesNotVisible"]))


@pytest.fixture
def mocked() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def _standalone(sqs: Any) -> Where:
    """No --stack, no --local: the queue named by URL, ARN or name."""
    return Where(clients=lambda service: sqs)


def _redrive(where: Where, queue: str, journals: Path, **options: Any) -> Any:
    return do_dlq_redrive(where, queue, journal_dir=journals, **options)


# --- addressing without a stack ---------------------------------------------------
@pytest.mark.parametrize("how", ["url", "arn", "name"])
def test_a_queue_outside_any_stack_goes_back_to_the_queue_its_wiring_names(
        mocked: Any, tmp_path: Path, how: str) -> None:
    queues = Queues(mocked)
    queues.fill(3)
    named = {"url": queues.dlq, "arn": queues.dlq_arn, "name": "work-dlq"}[how]
    dlq, report = _redrive(_standalone(mocked), named, tmp_path)
    assert dlq.redrive_url == queues.work and report.ok and report.moved == 3
    assert queues.request_ids(queues.work) == ["r00000", "r00001", "r00002"]


def test_a_dlq_of_two_queues_asks_which_and_to_works_without_a_stack(
        mocked: Any, tmp_path: Path) -> None:
    queues = Queues(mocked)
    other = mocked.create_queue(QueueName="other", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": queues.dlq_arn, "maxReceiveCount": 5})})["QueueUrl"]
    queues.fill(2)
    with pytest.raises(UserError, match="the DLQ of 2 queues") as raised:
        _redrive(_standalone(mocked), queues.dlq, tmp_path)
    assert other in raised.value.message and queues.work in raised.value.message
    _, report = _redrive(_standalone(mocked), queues.dlq, tmp_path, to="other")
    assert report.moved == 2 and queues.request_ids(other) == ["r00000", "r00001"]


def test_a_short_name_without_a_stack_says_what_to_give(mocked: Any, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no queue 'create-consumer-dlq'") as raised:
        _redrive(_standalone(mocked), "create-consumer-dlq", tmp_path)
    assert "--stack NAME or --local" in raised.value.hint


# --- the selection ------------------------------------------------------------------
def test_filter_and_max_move_exactly_the_chosen(mocked: Any, tmp_path: Path) -> None:
    queues = Queues(mocked)
    queues.fill(12, operation="create")
    queues.fill(8, operation="update", start=100)
    chosen = selection(expression="body.operation == 'update'", limit=5)
    _, report = _redrive(_standalone(mocked), queues.dlq, tmp_path, selection=chosen)
    moved = queues.request_ids(queues.work)
    assert report.ok and report.moved == 5 and len(moved) == 5
    assert all(100 <= int(r[1:]) < 108 for r in moved)  # updates only
    left = queues.request_ids(queues.dlq)
    assert len(left) == 15 and set(left).isdisjoint(moved)  # the rest, visible again


def test_older_than_moves_only_the_messages_sent_before(mocked: Any, tmp_path: Path) -> None:
    queues = Queues(mocked)
    queues.fill(4)
    first = [int(m["Attributes"]["SentTimestamp"]) for m in mocked.receive_message(
        QueueUrl=queues.dlq, MaxNumberOfMessages=10, AttributeNames=["All"],
        VisibilityTimeout=0)["Messages"]]
    # the second lot is sent once the clock has passed the first lot's timestamps
    wait_until(lambda: _now_ms(), lambda now: now > max(first) + 20, timeout=5,
               describe="the clock to move on")
    split = max(first) + 10
    queues.fill(3, start=10)
    # "now" an hour after the split: the first lot is older than 1h, the second not
    plan = RedrivePlan(source_url=queues.dlq, target_url=queues.work, run_id="t1",
                       selection=Selection(older_than_seconds=3600))
    journal = Journal.create("t1", {"source": queues.dlq, "target": queues.work}, tmp_path)
    report = Redrive(mocked, plan, journal, clock_ms=lambda: split + 3_600_000).run()
    assert report.moved == 4 and report.skipped == 3
    assert queues.request_ids(queues.work) == [f"r{n:05}" for n in range(4)]


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def test_a_dry_run_changes_nothing_but_one_receive_each(mocked: Any, tmp_path: Path) -> None:
    queues = Queues(mocked)
    queues.fill(15, operation="create")
    queues.fill(5, operation="delete", start=50)
    _, found = do_dlq_redrive_preview(_standalone(mocked), queues.dlq,
                                      selection=selection(older_than="0s"))
    assert found.chosen == 20 and dict(found.by_operation) == {"create": 15, "delete": 5}
    assert len(found.sample) == 5 and found.oldest_sent_ms is not None
    # THEN the DLQ holds all twenty, visible at once, each received once more (the
    # receive that reads the count is the second); nothing went anywhere
    assert queues.depth(queues.dlq) == (20, 0)
    counts = [int(m["Attributes"]["ApproximateReceiveCount"]) for m in queues.drain(queues.dlq)]
    assert sorted(counts) == [2] * 20
    assert queues.depth(queues.work) == (0, 0) and not tmp_path.joinpath("redrive").exists()


# --- failures, the journal and --resume ----------------------------------------------
def test_a_failed_send_entry_stays_in_the_dlq_and_the_journal_says_it_was_not_sent(
        mocked: Any, tmp_path: Path) -> None:
    queues = Queues(mocked)
    queues.fill(25)
    failing = ScriptedSqs(mocked, fail_send="r00007")
    _, report = _redrive(_standalone(failing), queues.dlq, tmp_path, concurrency=2)
    assert report.moved == 24 and not report.ok and len(report.failed) == 1
    assert queues.request_ids(queues.dlq) == ["r00007"]
    arrived = queues.request_ids(queues.work)
    assert len(arrived) == 24 and "r00007" not in arrived
    state = read_journal(next(tmp_path.glob("*.jsonl")))
    assert len(state.deleted) == 24 and state.sent == state.deleted
    assert not state.sent & set(report.failed)


def test_a_resume_deletes_what_the_journal_shows_sent_without_sending_it_again(
        mocked: Any, tmp_path: Path) -> None:
    # GIVEN a run that sent two messages and was killed before deleting them
    queues = Queues(mocked)
    queues.fill(6)
    ids = {json.loads(m["Body"])["requestId"]: m["MessageId"] for m in mocked.receive_message(
        QueueUrl=queues.dlq, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]}
    journal = Journal.create("run1", {"source": queues.dlq, "target": queues.work,
                                      "selection": Selection().as_json()}, tmp_path)
    journal.sending([ids["r00001"], ids["r00002"]])
    journal.sent([ids["r00001"], ids["r00002"]])
    journal.close()
    mocked.send_message(QueueUrl=queues.work, MessageBody=json.dumps({"requestId": "r00001"}))
    mocked.send_message(QueueUrl=queues.work, MessageBody=json.dumps({"requestId": "r00002"}))

    # WHEN it is resumed
    _, report = _redrive(_standalone(mocked), queues.dlq, tmp_path, resume="run1")

    # THEN those two are deleted, not sent again; the rest moved once
    assert report.ok and report.moved == 6 and report.resumed_deletes == 2
    assert queues.request_ids(queues.work) == [f"r{n:05}" for n in range(6)]
    assert queues.depth(queues.dlq) == (0, 0)


def test_resume_refuses_a_new_selection_or_another_queue(mocked: Any, tmp_path: Path) -> None:
    queues = Queues(mocked)
    other = Queues(mocked, prefix="b-")
    Journal.create("run2", {"source": queues.dlq, "target": queues.work}, tmp_path).close()
    with pytest.raises(UserError, match="moves what the run chose"):
        _redrive(_standalone(mocked), queues.dlq, tmp_path, resume="run2",
                 selection=selection(limit=1))
    with pytest.raises(UserError, match=r"not .*b-work-dlq"):
        _redrive(_standalone(mocked), other.dlq, tmp_path, resume="run2")
    with pytest.raises(UserError, match="no journal of run nope"):
        _redrive(_standalone(mocked), queues.dlq, tmp_path, resume="nope")


class SlowSends(ScriptedSqs):
    """Holds each send until the DLQ's visibility was extended at least once."""

    def __init__(self, sqs: Any) -> None:
        super().__init__(sqs)
        self.extended = threading.Event()

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[Any]) -> Any:
        if any(e["VisibilityTimeout"] > 0 for e in Entries):
            self.extended.set()
        return self._sqs.change_message_visibility_batch(QueueUrl=QueueUrl, Entries=Entries)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        assert self.extended.wait(10), "the batch's visibility was never extended"
        self.extended.clear()
        return super().send_message_batch(QueueUrl=QueueUrl, Entries=Entries)


def test_visibility_is_extended_while_a_batch_is_sent(mocked: Any, tmp_path: Path) -> None:
    queues = Queues(mocked)
    queues.fill(4)
    slow = SlowSends(mocked)
    plan = RedrivePlan(source_url=queues.dlq, target_url=queues.work, run_id="v1",
                       selection=Selection(), visibility_seconds=2)
    journal = Journal.create("v1", {"source": queues.dlq, "target": queues.work}, tmp_path)
    report = Redrive(slow, plan, journal).run()
    assert report.moved == 4 and report.ok
    assert queues.request_ids(queues.work) == [f"r{n:05}" for n in range(4)]



class CtrlCMidSend(ScriptedSqs):
    """Presses Ctrl-C (SIGINT to this process) while the first batch is being sent, and
    lets the send finish only once the run has seen it."""

    def __init__(self, sqs: Any) -> None:
        super().__init__(sqs)
        self.engine: Redrive | None = None
        self.pressed = False

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        if not self.pressed:
            self.pressed = True
            os.kill(os.getpid(), signal.SIGINT)
            wait_until(lambda: self.engine is not None and self.engine.report.interrupted,
                       lambda seen: seen, timeout=30, describe="the run to see the Ctrl-C")
        return super().send_message_batch(QueueUrl=QueueUrl, Entries=Entries)


def test_a_ctrl_c_mid_send_ends_that_batch_before_the_run_returns(
        mocked: Any, tmp_path: Path) -> None:
    # GIVEN a run whose first send is under way when Ctrl-C is pressed
    queues = Queues(mocked)
    queues.fill(30)
    client = CtrlCMidSend(mocked)
    plan = RedrivePlan(source_url=queues.dlq, target_url=queues.work, run_id="c1",
                       selection=Selection(), concurrency=2)
    journal = Journal.create("c1", {"source": queues.dlq, "target": queues.work}, tmp_path)
    client.engine = Redrive(client, plan, journal)
    # WHEN it runs (in this, the main thread, where the signal lands)
    report = client.engine.run()
    journal.close()
    # THEN it stopped, and that batch is whole: sent, journaled, deleted and counted
    assert report.interrupted and 10 <= report.moved < 30
    assert queues.request_ids(queues.work) == sorted(
        json.loads(e["MessageBody"])["requestId"] for e in client.sent)
    assert sum(queues.depth(queues.dlq)) == 30 - report.moved
    state = read_journal(journal.path)
    assert not state.in_doubt and len(state.deleted) == len(state.sent) == report.moved
    # and Ctrl-C is KeyboardInterrupt again once the run is over
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --- FIFO -----------------------------------------------------------------------------
@pytest.fixture
def atomic_receives(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's in-process receive is not atomic: two threads receiving at once may both
    read a FIFO group as free and each take part of it, which SQS never does (a group
    with a message in flight is handed to no one else). One receive at a time gives
    the threads of a run SQS's guarantee to rely on."""
    from moto.sqs.models import SQSBackend

    receive = SQSBackend.receive_message
    one_at_a_time = threading.Lock()

    def atomic(self: Any, *args: Any, **kwargs: Any) -> Any:
        with one_at_a_time:
            return receive(self, *args, **kwargs)

    monkeypatch.setattr(SQSBackend, "receive_message", atomic)


@pytest.mark.usefixtures("atomic_receives")
def test_fifo_keeps_groups_in_order_with_fresh_deduplication_ids(
        mocked: Any, tmp_path: Path) -> None:
    queues = Queues(mocked, fifo=True)
    for group in ("a", "b", "c"):
        queues.fill(12, group=group, start={"a": 0, "b": 100, "c": 200}[group])
    # the work queue took these deduplication ids minutes ago (the first delivery):
    # a copy sent with its old id would be accepted and dropped
    for n in [*range(12), *range(100, 112), *range(200, 212)]:
        mocked.send_message(QueueUrl=queues.work, MessageBody="first delivery",
                            MessageGroupId="a", MessageDeduplicationId=f"d{n}")
    assert len(queues.drain(queues.work)) == 36
    _, report = _redrive(_standalone(mocked), queues.dlq, tmp_path, concurrency=4)
    assert report.ok and report.moved == 36
    arrived = queues.drain(queues.work)
    by_group: dict[str, list[int]] = {}
    for message in arrived:
        by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(
            int(json.loads(message["Body"])["requestId"][1:]))
    assert by_group == {"a": list(range(12)), "b": list(range(100, 112)),
                        "c": list(range(200, 212))}
    # each with a deduplication id of its own, derived from the run, not the old one
    assert all(re.fullmatch("[0-9a-f]{64}", m["Attributes"]["MessageDeduplicationId"])
               for m in arrived)


def test_fifo_a_message_left_behind_holds_back_the_rest_of_its_group(
        mocked: Any, tmp_path: Path) -> None:
    queues = Queues(mocked, fifo=True)
    queues.fill(5, group="a")
    queues.fill(3, group="b", start=100)
    # r00002 is not chosen: r00003 and r00004 of its group must not overtake it
    chosen = selection(expression="body.requestId != 'r00002'")
    _, report = _redrive(_standalone(mocked), queues.dlq, tmp_path, selection=chosen)
    assert report.moved == 5 and report.skipped == 1 and report.held_back == 2
    assert queues.request_ids(queues.work) == ["r00000", "r00001", "r00100", "r00101",
                                               "r00102"]
    assert queues.request_ids(queues.dlq) == ["r00002", "r00003", "r00004"]


# --- many messages, many threads, and kill -9 -----------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server("patched") as running:
        yield running.endpoint


def _client(endpoint: str) -> Any:
    from botocore.config import Config

    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                 region_name=REGION).client(
        "sqs", endpoint_url=endpoint, config=Config(max_pool_connections=20))


@pytest.mark.timeout(180)
def test_four_threads_move_a_thousand_messages_none_lost_none_twice(
        server: str, tmp_path: Path) -> None:
    sqs = _client(server)
    queues = Queues(sqs, prefix="c4-")
    queues.fill(1000)
    _, report = _redrive(_standalone(sqs), queues.dlq, tmp_path, concurrency=4)
    arrived = Counter(json.loads(m["Body"])["requestId"] for m in queues.drain(queues.work))
    assert report.ok and report.moved == 1000
    assert set(arrived) == {f"r{n:05}" for n in range(1000)}  # none lost
    assert max(arrived.values()) == 1  # none twice
    assert queues.depth(queues.dlq) == (0, 0)


def _cli_run(server: str, tmp_path: Path, prefix: str, messages: int
             ) -> tuple[Queues, Path, dict[str, str], list[str]]:
    """A DLQ holding `messages`, and the `crudops dlq redrive` process that moves them:
    (queues, journal directory, environment, command line)."""
    queues = Queues(_client(server), prefix=prefix)
    queues.fill(messages)
    environment = {**os.environ, "AWS_ENDPOINT_URL": server, "AWS_ACCESS_KEY_ID": "local",
                   "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": REGION,
                   "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "tools.cli", "dlq", "redrive", queues.dlq, "--yes",
               "--json"]
    return queues, tmp_path / ".crudops" / "redrive", environment, command


@pytest.mark.timeout(240)
def test_killed_mid_run_and_resumed_every_message_ends_once_or_stays(
        server: str, tmp_path: Path) -> None:
    queues, journals, environment, command = _cli_run(server, tmp_path, "k9-", 400)
    # GIVEN a run at 100 messages/s over two threads holding each message 5 s, killed
    # once it journaled deletes (the resumed run waits those 5 s for what it held)
    process = subprocess.Popen([*command, "--rate", "100/s", "--concurrency", "2",
                                "--visibility-timeout", "5"],
                               cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        journal = wait_until(lambda: next(journals.glob("*.jsonl"), None),
                             lambda path: path is not None
                             and path.read_text().count('"deleted"') >= 5,
                             timeout=60, describe="the run to journal five deleted batches")
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    assert journal is not None
    before = read_journal(journal)
    assert 0 < len(before.deleted) < 400  # stopped part-way

    # WHEN it is resumed
    resumed = subprocess.run([*command, "--resume", journal.stem], cwd=tmp_path,
                             env=environment, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    after = read_journal(journal)

    # THEN nothing is left behind, and only a message whose send the kill interrupted
    # (journaled "sending", never confirmed) may be there twice
    arrived = Counter(json.loads(m["Body"])["requestId"] for m in queues.drain(queues.work))
    assert set(arrived) == {f"r{n:05}" for n in range(400)}
    assert queues.depth(queues.dlq) == (0, 0)
    twice = {request_id for request_id, count in arrived.items() if count > 1}
    assert len(twice) <= len(before.in_doubt), (twice, before.in_doubt)
    assert max(arrived.values()) <= 2
    # every message journaled as sent before its delete (a delete the kill came right
    # after may lack its own line: the message was gone, so nothing depends on it)
    assert after.sent >= before.sent and len(after.sent) == 400
    assert after.deleted <= after.sent
    report = json.loads(resumed.stdout)
    assert report["run"] == journal.stem and report["ok"]


@pytest.mark.timeout(180)
def test_ctrl_c_ends_the_batches_in_hand_and_a_resume_moves_the_rest_once(
        server: str, tmp_path: Path) -> None:
    queues, journals, environment, command = _cli_run(server, tmp_path, "int-", 300)
    # GIVEN a run at 60 messages/s over two threads, Ctrl-C'd once it moved some
    process = subprocess.Popen([*command, "--rate", "60/s", "--concurrency", "2"],
                               cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        journal = wait_until(lambda: next(journals.glob("*.jsonl"), None),
                             lambda path: path is not None
                             and path.read_text().count('"deleted"') >= 3,
                             timeout=60, describe="the run to journal three deleted batches")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    # THEN it says so, with the line that continues it, and holds nothing hidden
    assert process.returncode == 130, err
    assert journal is not None and f"--resume {journal.stem}" in err
    report = json.loads(out.splitlines()[-1])
    assert report["interrupted"] and 0 < report["moved"] < 300
    # the rest is in the DLQ (visible: released; a receive whose answer a loaded server
    # lost and the client retried would keep some hidden for their visibility timeout)
    assert sum(queues.depth(queues.dlq)) == 300 - report["moved"]
    interrupted_state = read_journal(journal)
    assert interrupted_state.ended_cleanly and not interrupted_state.in_doubt

    # WHEN it is resumed, every message moves once
    resumed = subprocess.run([*command, "--resume", journal.stem], cwd=tmp_path,
                             env=environment, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    arrived = Counter(json.loads(m["Body"])["requestId"] for m in queues.drain(queues.work))
    assert set(arrived) == {f"r{n:05}" for n in range(300)} and max(arrived.values()) == 1
    assert queues.depth(queues.dlq) == (0, 0)
