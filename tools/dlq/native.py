"""SQS's own redrive: a message move task (StartMessageMoveTask), listed and cancelled.

The move runs inside SQS, for a whole queue, at up to `MAX_RATE` messages a second
(`MaxNumberOfMessagesPerSecond`; SQS's own pace when none is given), to the queues
the messages came from or to one `DestinationArn`. It moves everything and chooses
nothing (no `--request-id`, no filter), and it serves only DLQs of SQS queues: not
an SNS subscription's DLQ (SQS refuses such a source). One task may run per source
queue at a time; `ListMessageMoveTasks` gives the last ten, and only a running task
carries the `TaskHandle` that cancels it.

The local stack's emulator (moto 5.2.5) does not implement these calls (it answers
HTTP 500): `crudops dlq redrive` does the same move there, and the tests of this
module drive botocore's `Stubber` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from tools.aws_errors import aws_errors_as_user_errors
from tools.dlq.commands import Where, _one
from tools.dlq.discovery import DeadLetterQueue, find_queue_url
from tools.errors import UserError

# StartMessageMoveTask's highest MaxNumberOfMessagesPerSecond.
MAX_RATE: Final = 500
RUNNING: Final = "RUNNING"


@dataclass(frozen=True)
class MoveTask:
    """One entry of ListMessageMoveTasks."""

    status: str  # RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
    source_arn: str
    destination_arn: str | None
    max_per_second: int | None
    moved: int
    to_move: int | None
    started: datetime | None
    failure_reason: str | None = None
    handle: str | None = None  # only while RUNNING

    @classmethod
    def of(cls, entry: dict[str, Any]) -> MoveTask:
        started = entry.get("StartedTimestamp")
        return cls(status=str(entry.get("Status", "")), source_arn=str(entry.get("SourceArn", "")),
                   destination_arn=entry.get("DestinationArn"),
                   max_per_second=entry.get("MaxNumberOfMessagesPerSecond"),
                   moved=int(entry.get("ApproximateNumberOfMessagesMoved", 0)),
                   to_move=entry.get("ApproximateNumberOfMessagesToMove"),
                   started=datetime.fromtimestamp(started / 1000, UTC)
                   if isinstance(started, int) else None,
                   failure_reason=entry.get("FailureReason"), handle=entry.get("TaskHandle"))

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "source": self.source_arn,
                "destination": self.destination_arn, "max_per_second": self.max_per_second,
                "moved": self.moved, "to_move": self.to_move,
                "started": self.started.isoformat() if self.started else None,
                "failure_reason": self.failure_reason, "task_handle": self.handle}


@dataclass(frozen=True)
class NativeMoveStarted:
    dlq: DeadLetterQueue
    handle: str
    # None: back to the queues the messages came from
    destination_arn: str | None
    max_per_second: int | None

    def as_json(self) -> dict[str, Any]:
        return {"queue": self.dlq.name, "task_handle": self.handle,
                "destination": self.destination_arn, "max_per_second": self.max_per_second}


@dataclass(frozen=True)
class CancelReport:
    dlq: DeadLetterQueue
    task: MoveTask
    # how many it had moved when cancelled (SQS's count)
    moved: int

    def as_json(self) -> dict[str, Any]:
        return {"queue": self.dlq.name, "cancelled": self.task.as_json(), "moved": self.moved}


@contextmanager
def _move_task_errors(call: str, *, local: bool) -> Iterator[None]:
    """What SQS refuses (a task already running, a source it does not serve, no
    permission) is the user's to fix: one line with SQS's own words."""
    from botocore.exceptions import ClientError

    try:
        with aws_errors_as_user_errors(local=local):
            yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        # An endpoint without the call (an emulator) answers 500 with a page, not words.
        said = (f"HTTP {status} from the endpoint" if status >= 500 else
                f"{error.get('Code')}: {error.get('Message', '')}")
        raise UserError(f"{call} failed: {said}",
                        hint="the local stack's emulator has no message move tasks: use "
                             "`crudops dlq redrive`" if local else "") from exc


def _check_source(dlq: DeadLetterQueue) -> None:
    if not dlq.source.startswith("queue "):
        raise UserError(f"{dlq.name} is the DLQ of an SNS subscription, which a message "
                        "move task cannot take from", hint="use `crudops dlq redrive`")


def start_move_task(sqs: Any, source_arn: str, *, destination_arn: str | None = None,
                    max_per_second: int | None = None) -> str:
    """Start the task; its handle."""
    if max_per_second is not None and not 1 <= max_per_second <= MAX_RATE:
        raise UserError(f"a message move task moves 1 to {MAX_RATE} messages a second, "
                        f"not {max_per_second}")
    arguments: dict[str, Any] = {"SourceArn": source_arn}
    if destination_arn is not None:
        arguments["DestinationArn"] = destination_arn
    if max_per_second is not None:
        arguments["MaxNumberOfMessagesPerSecond"] = max_per_second
    return str(sqs.start_message_move_task(**arguments)["TaskHandle"])


def list_move_tasks(sqs: Any, source_arn: str) -> list[MoveTask]:
    """The source's last tasks, newest first (SQS keeps ten)."""
    return [MoveTask.of(entry) for entry in sqs.list_message_move_tasks(
        SourceArn=source_arn, MaxResults=10).get("Results", [])]


def cancel_running_task(sqs: Any, source_arn: str) -> tuple[MoveTask, int]:
    """Cancel the source's running task: it and how many it had moved."""
    running = [task for task in list_move_tasks(sqs, source_arn)
               if task.status == RUNNING and task.handle]
    if not running:
        raise UserError("no message move task is running from this queue",
                        hint="`crudops dlq tasks QUEUE` lists its last ones")
    answer = sqs.cancel_message_move_task(TaskHandle=running[0].handle)
    return running[0], int(answer.get("ApproximateNumberOfMessagesMoved", 0))


def do_dlq_native_move(where: Where, queue: str, *, to: str | None = None,
                       max_per_second: int | None = None) -> NativeMoveStarted:
    """Start SQS's move of the whole DLQ `queue` back to where its messages came from,
    or to the stack's queue `to`, at up to `max_per_second` (1 to `MAX_RATE`; SQS's
    own pace when None). Returns once SQS has accepted the task; `do_dlq_tasks`
    follows it."""
    target, dlq = _one(where, queue, "dlq redrive")
    _check_source(dlq)
    sqs = target.clients("sqs")
    with _move_task_errors("StartMessageMoveTask", local=where.local):
        destination = None
        if to is not None:
            url = find_queue_url(target.resources(), to)
            if url == dlq.url:
                raise UserError(f"--to {to} is {dlq.name} itself")
            destination = str(sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
        handle = start_move_task(sqs, dlq.arn, destination_arn=destination,
                                 max_per_second=max_per_second)
    return NativeMoveStarted(dlq, handle, destination, max_per_second)


def do_dlq_tasks(where: Where, queue: str) -> tuple[DeadLetterQueue, list[MoveTask]]:
    target, dlq = _one(where, queue, "dlq tasks")
    with _move_task_errors("ListMessageMoveTasks", local=where.local):
        return dlq, list_move_tasks(target.clients("sqs"), dlq.arn)


def do_dlq_cancel(where: Where, queue: str) -> CancelReport:
    target, dlq = _one(where, queue, "dlq cancel")
    with _move_task_errors("CancelMessageMoveTask", local=where.local):
        task, moved = cancel_running_task(target.clients("sqs"), dlq.arn)
    return CancelReport(dlq, task, moved)
