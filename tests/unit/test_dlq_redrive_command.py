"""The redrive's option rules and the entry it sends (no network)."""

from __future__ import annotations

import pytest

from tools.dlq.addressing import Where
from tools.dlq.commands import do_dlq_redrive, parse_rate
from tools.dlq.redrive import deduplication_id, send_entry
from tools.dlq.redrive_command import resume_command
from tools.errors import UserError

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
MESSAGE = {"MessageId": "m1", "Body": '{"requestId": "r1"}',
           "Attributes": {"AWSTraceHeader": TRACE, "MessageGroupId": "g1",
                          "MessageDeduplicationId": "old", "ApproximateReceiveCount": "5"},
           "MessageAttributes": {"operation": {"DataType": "String", "StringValue": "create",
                                               "StringListValues": []}}}


@pytest.mark.parametrize(("text", "rate"), [("50/s", 50), ("50", 50), (" 7 / s ", 7), (None, None)])
def test_rates(text: str | None, rate: int | None) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0/s", "1.5/s", "fast", "10/m"])
def test_a_bad_rate_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError, match="--rate"):
        parse_rate(text)


@pytest.mark.parametrize("seconds", [0, 4, 43201])
def test_a_visibility_timeout_outside_what_sqs_takes_is_a_user_error(seconds: int) -> None:
    # refused before any queue is looked up (Where() names no reachable stack)
    with pytest.raises(UserError, match="--visibility-timeout"):
        do_dlq_redrive(Where(), "create-consumer-dlq", visibility_seconds=seconds)


def test_the_resume_line_names_the_same_stack() -> None:
    assert resume_command(Where(local=True), "create-consumer-dlq", "R1") == (
        "crudops dlq redrive create-consumer-dlq --local --resume R1 --yes")
    assert resume_command(Where(stack="Crudops"), "https://q/x y", "R1") == (
        "crudops dlq redrive 'https://q/x y' --stack Crudops --resume R1 --yes")


def test_an_entry_copies_body_attributes_and_trace() -> None:
    entry = send_entry(3, MESSAGE, fifo_target=False, run_id="run")
    assert entry == {"Id": "3", "MessageBody": '{"requestId": "r1"}',
                     "MessageAttributes": {"operation": {"DataType": "String",
                                                         "StringValue": "create"}},
                     "MessageSystemAttributes": {"AWSTraceHeader": {
                         "DataType": "String", "StringValue": TRACE}}}


def test_a_fifo_entry_keeps_its_group_and_gets_an_id_of_this_run() -> None:
    entry = send_entry(0, MESSAGE, fifo_target=True, run_id="run")
    assert entry["MessageGroupId"] == "g1"
    assert entry["MessageDeduplicationId"] == deduplication_id("run", "m1") != "old"
    # the same when a resume of the run sends it again: SQS drops that second copy
    assert send_entry(0, MESSAGE, fifo_target=True, run_id="run") == entry
    assert deduplication_id("other-run", "m1") != entry["MessageDeduplicationId"]
