"""Which queue a `crudops dlq` command means, and where its clients point.

QUEUE is any of: a queue URL, an ARN, a queue name, or a short name (`create-consumer-dlq`,
`read-consumer-queue`: the words of the queue's logical id without the stack-level
construct and CDK's hash, the names `dlq list`, `status` and the runbooks print).

Where the command looks (`Where`):
- `--stack NAME` / `--local`: the stack's queues, matched by every name above; a URL or
  ARN outside the stack is used as given, on the stack's clients.
- neither: boto3's standard configuration (AWS_ENDPOINT_URL, AWS_PROFILE, AWS_REGION),
  for a URL, an ARN or a queue name only (a short name needs a stack to be read in).
  Where a DLQ's messages go back to is then read from the queue's own wiring
  (`ListDeadLetterSourceQueues`): there is no stack whose SNS subscriptions to follow.

Matching a name the user typed (`match_queue`), in this order:
1. exactly one of its names (short name, queue name, logical id, URL, ARN);
2. the short names that start with it, word by word (`create` → `create-consumer-dlq`
   and `create-subscription-dlq`; `create-sub` → `create-subscription-dlq`);
3. the logical ids that hold all of its words (`consumer-dlq-create`).
The first step that finds any decides: one is the answer; several are a user error that
names them and says which rule matched (docs/adr/0020-dlq-redrive-run.md says why
`create` does not pick the consumer DLQ over the subscription's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tools.errors import UserError
from tools.stacks import (
    STATE_FILE,
    ClientFactory,
    StackTarget,
    deployed_stack_clients,
    resolve_stack_target,
)

# Stack-level constructs that hold queues (infra/stack.py): not part of a short name.
QUEUE_HOLDERS: Final = ("Messaging",)
_HASH: Final = re.compile(r"[0-9A-F]{8}$")
_ARN: Final = re.compile(r"^arn:(?P<partition>[^:]+):sqs:(?P<region>[^:]+):(?P<account>\d+):"
                         r"(?P<name>[^:]+)$")


def queue_short_name(logical_id: str) -> str:
    """`MessagingCreateConsumerDlqE57F5DC0` → `create-consumer-dlq`; a logical id not made
    the stack's way keeps its words (`WorkDlq` → `work-dlq`)."""
    path = _HASH.sub("", logical_id) if len(logical_id) > 8 else logical_id
    for holder in QUEUE_HOLDERS:
        if path.startswith(holder) and len(path) > len(holder):
            path = path.removeprefix(holder)
            break
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", path).lower()


def is_queue_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))


def is_queue_arn(text: str) -> bool:
    return _ARN.match(text) is not None


def queue_url_of(sqs: Any, queue: str) -> str:
    """The URL of a queue given by URL, ARN or name, on `sqs`'s endpoint (a user error
    when there is no such queue)."""
    from botocore.exceptions import ClientError

    if is_queue_url(queue):
        return queue
    arn = _ARN.match(queue)
    try:
        if arn is not None:
            return str(sqs.get_queue_url(QueueName=arn["name"],
                                         QueueOwnerAWSAccountId=arn["account"])["QueueUrl"])
        return str(sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    except ClientError as exc:
        if "NonExistentQueue" in str(exc) or "does not exist" in str(exc):
            raise UserError(f"no queue {queue!r} at {sqs.meta.endpoint_url}",
                            hint="check the name, AWS_REGION and AWS_ENDPOINT_URL") from exc
        raise


@dataclass(frozen=True)
class Candidate:
    """One queue as a name may match it."""

    short_name: str
    logical_id: str
    names: tuple[str, ...]  # exact names: short name, queue name, logical id, URL, ARN


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def _starts_with(short_name: str, wanted: list[str]) -> bool:
    words = short_name.split("-")
    return len(wanted) <= len(words) and all(
        word.startswith(part) for part, word in zip(wanted, words, strict=False))


def match_queue(candidates: Sequence[Candidate], wanted: str, kind: str, listing: str) -> int:
    """Index of the one candidate `wanted` names (the module's three rules); a user error
    naming the matches, or every candidate when none matches."""
    exact = [i for i, c in enumerate(candidates) if wanted in c.names]
    if len(exact) == 1:
        return exact[0]
    words = _words(wanted)
    rules = (
        ("names it exactly", exact),
        (f"short names start with {wanted!r}",
         [i for i, c in enumerate(candidates) if words and _starts_with(c.short_name, words)]),
        (f"logical ids hold every word of {wanted!r}",
         [i for i, c in enumerate(candidates)
          if words and all(w in c.logical_id.lower() for w in words)]),
    )
    for why, found in rules:
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(candidates[i].short_name for i in found)
            raise UserError(f"{wanted!r} matches {len(found)} {kind}s ({why}): {names}",
                            hint="give one of these short names")
    known = ", ".join(c.short_name for c in candidates) or "none"
    raise UserError(f"no {kind} matches {wanted!r}", hint=f"{listing}: {known}")


@dataclass(frozen=True)
class Where:
    """Where a `dlq` command looks: `--stack NAME`, `--local`, or neither (boto3's
    standard configuration; then QUEUE must be a URL, an ARN or a queue name)."""

    stack: str | None = None
    local: bool = False
    local_state_file: Path = STATE_FILE
    region: str | None = None
    clients: ClientFactory | None = None  # tests
    # Options of the client that moves messages (adaptive retries, a pool per thread).
    client_config: Any = None

    @property
    def standalone(self) -> bool:
        return self.stack is None and not self.local

    def target(self, command: str = "dlq list") -> StackTarget:
        if self.stack is not None and self.local:
            raise UserError("give one of --stack NAME and --local, not both")
        if self.standalone:
            return StackTarget(
                "the AWS configuration of this shell (AWS_PROFILE, AWS_REGION, "
                "AWS_ENDPOINT_URL)",
                self.clients or deployed_stack_clients(self.region, self.client_config),
                False, True, local_resources=[])
        target = resolve_stack_target(stack=self.stack, local=self.local,
                                      local_state_file=self.local_state_file,
                                      region=self.region, clients=self.clients,
                                      command=command, config=self.client_config)
        return target
