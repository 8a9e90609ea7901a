"""`crudops dlq` against moto: a deployed stack (CloudFormation in `mock_aws`) with a
consumer queue and its DLQ, and a topic whose subscription has its own DLQ."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from tools.cli import app
from tools.dlq.commands import Where, do_dlq_list
from tools.dlq.commands import do_dlq_redrive as _do_dlq_redrive
from tools.dlq.discovery import DeadLetterQueue
from tools.dlq.export import do_dlq_export
from tools.dlq.redrive import RedriveReport
from tools.dlq.selection import selection
from tools.dlq.show import do_dlq_show
from tools.errors import UserError

REGION = "us-east-1"
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
# A stack as `--stack` finds it (moto's CloudFormation cannot create SNS subscriptions,
# so the subscription's DLQ is tested on the local-stack path below).
TEMPLATE = {
    "Resources": {
        "WorkDlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "work-dlq"}},
        "Work": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": "work",
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["WorkDlq", "Arn"]},
                              "maxReceiveCount": 5}}},
    }
}


def _local_stack_with_a_subscription_dlq(state_file: Path) -> None:
    """The same queues plus a topic whose subscription to `work` has its own DLQ,
    described in a local-stack.json as `crudops local up` writes it."""
    sqs, sns = (boto3.client(s, region_name=REGION) for s in ("sqs", "sns"))
    urls = {"WorkDlq": sqs.create_queue(QueueName="work-dlq")["QueueUrl"],
            "DeliveryDlq": sqs.create_queue(QueueName="delivery-dlq")["QueueUrl"]}
    arn = {k: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"] for k, u in urls.items()}
    urls["Work"] = sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": arn["WorkDlq"], "maxReceiveCount": 5})})["QueueUrl"]
    work_arn = sqs.get_queue_attributes(QueueUrl=urls["Work"], AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="commands")["TopicArn"]
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=work_arn, ReturnSubscriptionArn=True,
        Attributes={"RawMessageDelivery": "true", "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": arn["DeliveryDlq"]})})["SubscriptionArn"]
    resources = {logical: {"type": "AWS::SQS::Queue", "ref": url}
                 for logical, url in urls.items()}
    resources["Commands"] = {"type": "AWS::SNS::Topic", "ref": topic}
    resources["WorkSubscription"] = {"type": "AWS::SNS::Subscription", "ref": subscription}
    state_file.write_text(json.dumps({"stack": "Crudops-local", "region": REGION,
                                      "aws_endpoint": "http://127.0.0.1:1",
                                      "resources": resources}))


def do_dlq_redrive(where: Where, queue: str, *, request_ids: set[str] | None = None,
                   limit: int | None = None, **options: Any
                   ) -> tuple[DeadLetterQueue, RedriveReport]:
    """The redrive with its journal in the test's directory (the `journal_dir` fixture
    sets it)."""
    return _do_dlq_redrive(where, queue, selection=selection(request_ids=request_ids,
                                                             limit=limit),
                           journal_dir=JOURNALS[-1], **options)


JOURNALS: list[Path] = []


@pytest.fixture(autouse=True)
def journal_dir(tmp_path: Path) -> Iterator[Path]:
    JOURNALS.append(tmp_path / "redrive")
    yield JOURNALS[-1]
    JOURNALS.pop()


class Stack:
    def __init__(self, where: Where) -> None:
        self.where = where
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.dlq = self.sqs.get_queue_url(QueueName="work-dlq")["QueueUrl"]
        self.work = self.sqs.get_queue_url(QueueName="work")["QueueUrl"]

    def dead_letter(self, request_id: str, *, trace: bool = False) -> None:
        self.sqs.send_message(
            QueueUrl=self.dlq,
            MessageBody=json.dumps({"requestId": request_id, "operation": "create"}),
            MessageAttributes={"operation": {"DataType": "String", "StringValue": "create"}},
            **({"MessageSystemAttributes": {"AWSTraceHeader": {
                "DataType": "String", "StringValue": TRACE}}} if trace else {}))

    def drain(self, url: str) -> list[dict[str, Any]]:
        """Receive and delete everything (visible) in `url`."""
        found: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                MessageAttributeNames=["All"]).get("Messages", [])
            if not batch:
                return found
            found.extend(batch)
            for message in batch:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def request_ids(self, url: str) -> list[str]:
        return sorted(json.loads(m["Body"])["requestId"] for m in self.drain(url))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """The local-stack path, its clients in `mock_aws` (as `--local` would build them)."""
    with mock_aws():
        state_file = tmp_path / "local-stack.json"
        _local_stack_with_a_subscription_dlq(state_file)
        yield Stack(Where(local=True, local_state_file=state_file,
                          clients=lambda service: boto3.client(service, region_name=REGION)))


@pytest.fixture
def deployed() -> Iterator[Stack]:
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="Crudops", TemplateBody=json.dumps(TEMPLATE))
        yield Stack(Where(stack="Crudops", region=REGION))


def test_list_names_each_dlq_its_source_and_where_a_redrive_goes(stack: Stack) -> None:
    stack.dead_letter("r1")
    queues = {q.logical_id: q for q in do_dlq_list(stack.where)}
    assert set(queues) == {"WorkDlq", "DeliveryDlq"}  # the consumer queue is not a DLQ
    assert queues["WorkDlq"].source == "queue work"
    assert queues["WorkDlq"].redrive_url == stack.work
    assert queues["WorkDlq"].visible == 1
    # SNS could not deliver to the work queue: a redrive delivers there
    assert queues["DeliveryDlq"].source.startswith("subscription arn:aws:sns:")
    assert queues["DeliveryDlq"].redrive_url == stack.work


def test_show_and_export_leave_every_message_in_place(stack: Stack, tmp_path: Path) -> None:
    for index in range(15):
        stack.dead_letter(f"r{index:02}")
    shown_report = do_dlq_show(stack.where, "work-dlq", limit=12)
    dlq, shown = shown_report.dlq, shown_report.messages
    assert len(shown) == 12 and len({m.message_id for m in shown}) == 12
    assert all(m.request_id and m.operation == "create" for m in shown)
    assert shown_report.receives == 12  # each one received once: its count rose by 1

    count = do_dlq_export(stack.where, "WorkDlq", tmp_path / "dlq.jsonl").written
    lines = [json.loads(line) for line in (tmp_path / "dlq.jsonl").read_text().splitlines()]
    assert count == 15 and sorted(line["requestId"] for line in lines) == [
        f"r{i:02}" for i in range(15)]
    assert lines[0]["messageAttributes"]["operation"]["StringValue"] == "create"
    with pytest.raises(UserError, match="exists"):
        do_dlq_export(stack.where, "WorkDlq", tmp_path / "dlq.jsonl")

    # all of them can be received at once again: none is left hidden
    assert stack.request_ids(dlq.url) == [f"r{i:02}" for i in range(15)]


def test_binary_attributes_are_exported_as_base64(stack: Stack, tmp_path: Path) -> None:
    stack.sqs.send_message(QueueUrl=stack.dlq, MessageBody="{}", MessageAttributes={
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}})
    do_dlq_export(stack.where, "work-dlq", tmp_path / "out.jsonl")
    line = json.loads((tmp_path / "out.jsonl").read_text())
    assert line["messageAttributes"]["blob"]["BinaryValue"] == "AP8="


def test_redrive_moves_body_attributes_and_trace_and_empties_the_dlq(stack: Stack) -> None:
    for index in range(23):
        stack.dead_letter(f"r{index:02}", trace=index == 0)
    recording = ScriptedSqs(stack.sqs)
    _, report = do_dlq_redrive(_where_with(stack, recording), "work-dlq")
    assert report.ok and report.moved == 23
    arrived = stack.drain(stack.work)
    assert sorted(json.loads(m["Body"])["requestId"] for m in arrived) == [
        f"r{i:02}" for i in range(23)]
    assert all(m["MessageAttributes"]["operation"]["StringValue"] == "create" for m in arrived)
    # the trace header goes along (moto's SendMessageBatch drops it: checked as sent)
    traced = [e for e in recording.sent if "r00" in e["MessageBody"]]
    assert traced[0]["MessageSystemAttributes"]["AWSTraceHeader"]["StringValue"] == TRACE
    assert stack.drain(stack.dlq) == []
    assert report.remaining == 0  # what the DLQ reported after moving everything


def test_redrive_of_chosen_requests_or_at_most_n(stack: Stack) -> None:
    for index in range(12):
        stack.dead_letter(f"r{index:02}")
    stack.dead_letter("r03")  # a second copy of one command: both go
    _, report = do_dlq_redrive(stack.where, "work-dlq", request_ids={"r03", "r07"})
    assert report.ok and report.moved == 3 and report.skipped == 10
    assert stack.request_ids(stack.work) == ["r03", "r03", "r07"]

    # an id that no message carries is not a success
    _, report = do_dlq_redrive(stack.where, "work-dlq", request_ids={"r03"})
    assert not report.ok and report.missing == ["r03"] and report.moved == 0

    _, report = do_dlq_redrive(stack.where, "work-dlq", limit=4)
    assert report.moved == 4 and report.skipped == 0  # hid no more than it moved
    assert len(stack.drain(stack.work)) == 4
    # the rest is still there, and visible at once (not hidden by the skipped receives)
    assert len(stack.request_ids(stack.dlq)) == 6


class ScriptedSqs:
    """moto's SQS, recording what is sent, and failing chosen sends or deletes as SQS
    reports such failures."""

    def __init__(self, sqs: Any, *, fail_send: str | None = None,
                 fail_delete: str | None = None) -> None:
        self._sqs, self.fail_send, self.fail_delete = sqs, fail_send, fail_delete
        self.sent: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        self.sent.extend(Entries)
        keep = [e for e in Entries
                if self.fail_send is None or self.fail_send not in e["MessageBody"]]
        result = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=keep) if keep else {}
        failed = [{"Id": e["Id"], "Code": "KMS.AccessDeniedException", "SenderFault": True,
                   "Message": "denied"} for e in Entries if e not in keep]
        return {"Successful": result.get("Successful", []), "Failed": failed}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
        if self.fail_delete is None:
            return self._sqs.delete_message_batch(QueueUrl=QueueUrl, Entries=Entries)
        raise RuntimeError(self.fail_delete)


def _where_with(stack: Stack, sqs: Any) -> Where:
    real = boto3.Session(region_name=REGION)
    return replace(stack.where, clients=lambda service: sqs if service == "sqs"
                   else real.client(service))


def test_a_message_whose_send_fails_stays_in_the_dlq(stack: Stack) -> None:
    for index in range(5):
        stack.dead_letter(f"r{index:02}")
    failing = ScriptedSqs(stack.sqs, fail_send="r02")
    _, report = do_dlq_redrive(_where_with(stack, failing), "work-dlq")
    assert report.moved == 4 and not report.ok
    assert next(iter(report.failed.values())).startswith("send failed: KMS.AccessDeniedException")
    assert stack.request_ids(stack.dlq) == ["r02"]  # visible again at once
    assert stack.request_ids(stack.work) == ["r00", "r01", "r03", "r04"]


def test_a_message_sent_but_not_deleted_is_reported_never_lost(stack: Stack) -> None:
    stack.dead_letter("r00")
    _, report = do_dlq_redrive(_where_with(stack, ScriptedSqs(stack.sqs, fail_delete="throttled")),
                               "work-dlq")
    assert report.moved == 0 and list(report.not_deleted.values()) == [
        "delete failed: throttled"]
    # a copy in the queue, the original still in the DLQ (visible again when the run ends)
    assert stack.request_ids(stack.work) == ["r00"]
    assert stack.request_ids(stack.dlq) == ["r00"]


def test_unknown_or_ambiguous_dlq_names_are_user_errors(stack: Stack) -> None:
    with pytest.raises(UserError, match="no DLQ matches 'nothing'"):
        do_dlq_show(stack.where, "nothing", limit=1)
    with pytest.raises(UserError, match=r"'dlq' matches 2 DLQs .*: delivery-dlq, work-dlq$"):
        do_dlq_show(stack.where, "dlq", limit=1)
    with pytest.raises(UserError, match="give --stack NAME or --local") as raised:
        do_dlq_list(Where())
    assert "crudops dlq list --local" in raised.value.hint  # a command that exists


def test_the_cli_exits_1_while_a_dlq_holds_messages_and_0_after_the_redrive(
        deployed: Stack) -> None:
    deployed.dead_letter("r00")
    runner = CliRunner()
    listed = runner.invoke(app, ["dlq", "list", "--stack", "Crudops", "--json"])
    assert listed.exit_code == 1, listed.output
    assert {q["logical_id"]: q["visible"] for q in json.loads(listed.output)} == {
        "WorkDlq": 1}
    # without a terminal, a redrive must be told --yes: nothing moves until it is
    refused = runner.invoke(app, ["dlq", "redrive", "work-dlq", "--stack", "Crudops"])
    assert refused.exit_code == 2 and "add --yes" in refused.output
    assert runner.invoke(app, ["dlq", "list", "--stack", "Crudops"]).exit_code == 1
    moved = runner.invoke(app, ["dlq", "redrive", "work-dlq", "--stack", "Crudops", "--json",
                                "--yes"])
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.output.splitlines()[-1])["moved"] == 1
    assert runner.invoke(app, ["dlq", "list", "--stack", "Crudops"]).exit_code == 0


def test_an_export_that_fails_half_way_leaves_no_file(
        stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.dlq.record import DumpedMessage

    for index in range(3):
        stack.dead_letter(f"r{index:02}")
    written: list[str] = []

    def line(self: DumpedMessage) -> str:
        if written:
            raise ValueError("cannot write this one")
        written.append(self.message_id)
        return "{}\n"

    monkeypatch.setattr(DumpedMessage, "line", line)
    with pytest.raises(ValueError):
        do_dlq_export(stack.where, "work-dlq", tmp_path / "out.jsonl")
    assert list(tmp_path.glob("out.jsonl*")) == []
    assert len(stack.request_ids(stack.dlq)) == 3  # and the messages are all still there


def test_redrive_to_another_queue_of_the_stack(stack: Stack) -> None:
    # GIVEN a command parked by the wrong consumer, and the queue it belongs in
    stack.sqs.create_queue(QueueName="other")
    resources = json.loads(stack.where.local_state_file.read_text())
    other_url = stack.sqs.get_queue_url(QueueName="other")["QueueUrl"]
    resources["resources"]["OtherConsumerQueue"] = {"type": "AWS::SQS::Queue",
                                                    "ref": other_url}
    stack.where.local_state_file.write_text(json.dumps(resources))
    stack.dead_letter("misrouted")

    # WHEN it is redriven --to that queue, named by the words of its logical id
    dlq, report = do_dlq_redrive(stack.where, "work-dlq", to="other-consumer-queue")

    # THEN it is there, not in the queue it failed in, and the DLQ is empty
    assert report.ok and report.moved == 1 and dlq.redrive_url == other_url
    assert stack.request_ids(other_url) == ["misrouted"]
    assert stack.request_ids(stack.work) == [] and stack.request_ids(stack.dlq) == []


@pytest.mark.parametrize(("to", "message"), [("nothing-like-it", "no queue matches"),
                                             ("work-dlq", "itself")])
def test_redrive_to_an_unknown_queue_or_the_dlq_itself_is_refused(
        stack: Stack, to: str, message: str) -> None:
    stack.dead_letter("stays")
    with pytest.raises(UserError, match=message):
        do_dlq_redrive(stack.where, "work-dlq", to=to)
    assert stack.request_ids(stack.dlq) == ["stays"]
