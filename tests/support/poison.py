"""A poison message on the local stack: a body that is no Command, published to the
commands topic with `operation=create`, as the REST API publishes a create.

The create consumer fails it on every receive; SQS moves it to the create DLQ on the
receive after its `maxReceiveCount`-th, each receive one visibility timeout (6 x the
function timeout) after the one before. That is about 30 s on the e2e template, spent
waiting, not working: `PoisonMessage` lets the tests that only read the result (the
parked message, its logged attempts, the alarm it raises) share one such wait.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from crudops_local.run import LocalStack
from tests.support.waiting import wait_until
from tools.dlq.commands import Where
from tools.dlq.messages import DeadLetter
from tools.dlq.show import do_dlq_show

CREATE_DLQ = "create-consumer-dlq"
# maxReceiveCount receives 6 s apart, then the move, on a loaded two-core machine.
PARK_DEADLINE_SECONDS = 120.0


def stack_ref(stack: LocalStack, logical_prefix: str, resource_type: str) -> str:
    """`Ref` of the one resource of that type whose logical id has that prefix."""
    assert stack.provisioned is not None
    resources = stack.template.resources
    (ref,) = [
        physical.ref
        for logical_id, physical in stack.provisioned.physical.items()
        if logical_id.startswith(logical_prefix) and resources[logical_id].type == resource_type
    ]
    return ref


def create_max_receive_count(stack: LocalStack) -> int:
    """The create queue's `maxReceiveCount`, as its template's redrive policy says."""
    (queue,) = [r for logical_id, r in stack.template.resources.items()
                if logical_id.startswith("MessagingCreateConsumerQueue")
                and r.type == "AWS::SQS::Queue"]
    return int(queue.properties["RedrivePolicy"]["maxReceiveCount"])


def publish_poison(stack: LocalStack, body: str) -> None:
    """Publish `body` as a create command: the create consumer gets it and fails it."""
    assert stack.aws is not None
    stack.aws.client("sns").publish(
        TopicArn=stack_ref(stack, "MessagingCommands", "AWS::SNS::Topic"), Message=body,
        MessageAttributes={"operation": {"DataType": "String", "StringValue": "create"}})


def parked_copies(stack: LocalStack, body: str) -> list[DeadLetter]:
    """The messages in the create DLQ with this body, read as `crudops dlq show` reads
    them (every message, left in the DLQ and visible again)."""
    assert stack.options.state_file is not None
    where = Where(local=True, local_state_file=stack.options.state_file)
    report = do_dlq_show(where, CREATE_DLQ, limit=None, errors=False)
    return [m for m in report.messages if m.body == body]


@dataclass
class PoisonMessage:
    """One poison message of a stack, published at most once and awaited at most once.

    `publish` may come early (as soon as the stack is up, so that its retries overlap
    other tests); `parked` publishes it if nobody has, then waits, once, until SQS has
    moved it to the create DLQ. The body is unique to this message.
    """

    stack: LocalStack
    body: str = field(default_factory=lambda: f"not a command {uuid.uuid4()}")
    published: bool = False
    _parked: DeadLetter | None = None

    def publish(self) -> None:
        if not self.published:
            publish_poison(self.stack, self.body)
            self.published = True

    def parked(self) -> DeadLetter:
        """The message as it sits in the create DLQ (its receive count as first seen
        there). Fails, showing what the DLQ held, when it is not there in time."""
        self.publish()
        if self._parked is None:
            copies = wait_until(lambda: parked_copies(self.stack, self.body), bool,
                                timeout=PARK_DEADLINE_SECONDS, interval=1,
                                describe=f"{self.body!r} in the create DLQ")
            assert len(copies) == 1, copies
            self._parked = copies[0]
        return self._parked
