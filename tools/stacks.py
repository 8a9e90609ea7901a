"""Finding a stack: `--stack NAME` (deployed) or `--local` (the running local stack),
its resources, clients signed for where they are, and what the commands share about
them (dead-letter queues, function short names, matching a name the user typed).

Every command that reads a stack goes through here: `resolve_stack_target` (or
`stack_urls` for the gateways) applies the one rule "exactly one of --stack NAME and
--local"; `read_local_stack` reads the state file through crudops_local/state.py,
which holds its path (`STATE_FILE`), its schema, its write (crudops_local/run.py
calls it) and its read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.aws.endpoint import ClientFactory as ClientFactory
from crudops_local.state import STATE_FILE as STATE_FILE
from crudops_local.state import LocalStackState
from infra.function_names import short_name_of_logical_id
from tools.aws_errors import aws_errors_as_user_errors
from tools.errors import UserError

QUEUE_TYPE: Final = "AWS::SQS::Queue"
FUNCTION_TYPE: Final = "AWS::Lambda::Function"
SUBSCRIPTION_TYPE: Final = "AWS::SNS::Subscription"
TABLE_TYPE: Final = "AWS::DynamoDB::Table"


# --- a stack's resources ------------------------------------------------------------
@dataclass(frozen=True)
class Resource:
    """One stack resource as the commands need it: logical id, type, physical id."""

    logical_id: str
    type: str
    physical_id: str


def stack_resources(cloudformation: Any, stack: str) -> list[Resource]:
    """Every resource of a deployed stack (paged: `describe_stack_resources` stops at
    100 resources, and this stack has more)."""
    from botocore.exceptions import ClientError

    resources: list[Resource] = []
    try:
        for page in cloudformation.get_paginator("list_stack_resources").paginate(
            StackName=stack
        ):
            resources.extend(
                Resource(s["LogicalResourceId"], s["ResourceType"],
                         s.get("PhysicalResourceId", ""))
                for s in page["StackResourceSummaries"]
            )
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise UserError(f"stack {stack} does not exist in this account and region",
                            hint="check --stack, AWS_PROFILE and AWS_REGION") from exc
        raise
    return resources


def resources_of_type(resources: Iterable[Resource], resource_type: str) -> list[Resource]:
    """Those of one type that exist (a physical id), by logical id."""
    return sorted((r for r in resources if r.type == resource_type and r.physical_id),
                  key=lambda r: r.logical_id)


# The stack's tables, by the construct ids of infra/storage.py (`Storage` / `Items`, …):
# their logical ids start with these, whatever hash the CDK appends.
ITEMS_TABLE: Final = "StorageItems"
OUTCOMES_TABLE: Final = "StorageOutcomes"
SUBSCRIPTIONS_TABLE: Final = "StorageSubscriptions"


def stack_table(resources: Iterable[Resource], table: str) -> str:
    """The physical name of one of the stack's tables (`ITEMS_TABLE`, …)."""
    found = [r.physical_id for r in resources_of_type(resources, TABLE_TYPE)
             if r.logical_id.startswith(table)]
    if len(found) != 1:
        raise UserError(f"the stack has {len(found)} tables named {table}…, not one",
                        hint="is it a crudops stack? deploy the current version")
    return found[0]


# --- the local stack, as its state file describes it --------------------------------
@dataclass(frozen=True)
class LocalStackDescription(LocalStackState):
    """The running local stack as its state file (`STATE_FILE`) describes it, with what
    the `--local` commands add: its resources as `Resource`s, a label, its clients.
    The schema, its write and its read are crudops_local/state.py's; the running stack
    itself is `crudops_local.run.LocalStack`."""

    @property
    def resources(self) -> list[Resource]:
        return [Resource(logical_id, r.type, r.ref) for logical_id, r in self.physical.items()]

    @property
    def target(self) -> str:
        where = self.aws_endpoint or f"AWS {self.region}"
        return f"local ({self.stack} at {where})"

    def endpoint(self, config: Any = None) -> AwsEndpoint:
        """Where the stack's resources are, signed as the stack signs (a stack started
        with `--aws-endpoint aws` is in AWS itself, whatever a profile's URL says);
        `config`: a botocore `Config` merged into each client's."""
        return AwsEndpoint(self.aws_endpoint, self.region,
                           placeholder_credentials=self.placeholder_credentials,
                           service_urls=self.service_endpoints, client_config=config)

    def clients(self, config: Any = None) -> ClientFactory:
        return self.endpoint(config).client


def read_local_stack(path: Path = STATE_FILE) -> LocalStackDescription:
    """The state file at `path`; a `StateFileError` (one line and a hint, like a user
    error) when there is none, it is not one, or its stack has stopped."""
    return LocalStackDescription.read(path)


# --- names the user types ----------------------------------------------------------
def function_short_name(logical_id: str) -> str:
    """A function's short name from its logical id (infra/function_names.py), or the
    logical id itself for a function not built the stack's way."""
    return short_name_of_logical_id(logical_id) or logical_id


def match_one(candidates: Sequence[tuple[str, tuple[str, ...]]], wanted: str, kind: str,
           listing: str) -> int:
    """Index of the candidate (logical id, exact names) that `wanted` names exactly, or
    whose logical id alone holds all of `wanted`'s words; a user error otherwise."""
    for index, candidate in enumerate(candidates):
        if wanted in candidate[1]:
            return index
    words = [w for w in re.split(r"[^a-z0-9]+", wanted.lower()) if w]
    partial = [index for index, (logical_id, _) in enumerate(candidates)
               if words and all(w in logical_id.lower() for w in words)]
    if len(partial) == 1:
        return partial[0]
    known = ", ".join(candidate[0] for candidate in candidates) or "none"
    raise UserError(f"{f'several {kind}s match' if partial else f'no {kind} matches'} "
                    f"{wanted!r}", hint=f"{listing}: {known}")


# --- dead-letter queues -------------------------------------------------------------
@dataclass(frozen=True)
class DeadLetterSource:
    """What sends messages to a DLQ, and the queue they go back to on a redrive."""

    source: str  # "queue <name>" or "subscription <arn>"
    redrive_url: str | None  # None: no queue of this stack (a subscription elsewhere)


def queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def dead_letter_sources(sns: Any, queue_attributes: Mapping[str, Mapping[str, str]],
                        subscriptions: Iterable[Resource]) -> dict[str, DeadLetterSource]:
    """DLQ ARN → its source, from the RedrivePolicy of each queue (`queue_attributes`
    by queue URL; its messages go back to that queue) and of each SNS subscription
    (SNS could not deliver: they go to the subscription's queue). Read from the
    endpoint, not the template, so a policy changed by hand is what counts."""
    from botocore.exceptions import ClientError

    url_of_arn = {a.get("QueueArn"): url for url, a in queue_attributes.items()}
    sources: dict[str, DeadLetterSource] = {}
    for url, attributes in queue_attributes.items():
        target = _dead_letter_target(attributes.get("RedrivePolicy"))
        if target:
            sources[target] = DeadLetterSource(f"queue {queue_name(url)}", url)
    for subscription in subscriptions:
        try:
            attributes = sns.get_subscription_attributes(
                SubscriptionArn=subscription.physical_id)["Attributes"]
        except ClientError:
            # A subscription deleted outside CloudFormation: nothing to follow.
            continue
        target = _dead_letter_target(attributes.get("RedrivePolicy"))
        if target:
            sources[target] = DeadLetterSource(f"subscription {subscription.physical_id}",
                                               url_of_arn.get(attributes.get("Endpoint")))
    return sources


def _dead_letter_target(policy: str | None) -> str | None:
    target = json.loads(policy).get("deadLetterTargetArn") if policy else None
    return str(target) if target else None


# --- choosing a stack: --stack NAME or --local ---------------------------------------
def deployed_stack_clients(region: str | None, config: Any = None) -> ClientFactory:
    """Clients for a deployed stack: the caller's credentials, `region` or the
    configured one (AWS_REGION, the profile's), and the endpoint URLs the caller's
    configuration names, as the AWS CLI would; `config`: a botocore `Config` merged
    into each client's."""
    import boto3

    resolved = region or boto3.Session().region_name
    if not resolved:
        raise UserError("no AWS region for --stack", hint="pass --region or set AWS_REGION")
    return AwsEndpoint(None, str(resolved), placeholder_credentials=False,
                       configured_urls=True, client_config=config).client


@dataclass(frozen=True)
class StackTarget:
    """One stack to read, deployed or local: its name, clients and resources."""

    name: str
    clients: ClientFactory
    local: bool
    # Whether CloudWatch has its metrics (always when deployed).
    metrics: bool
    local_resources: list[Resource] | None = None
    # Whether the `<stack>-*` alarms in its CloudWatch are its own.
    alarms: bool = True
    # What the state file says of a local stack (its log files, ...).
    described: LocalStackDescription | None = None

    def resources(self) -> list[Resource]:
        if self.local_resources is not None:
            return self.local_resources
        return stack_resources(self.clients("cloudformation"), self.name)


def resolve_stack_target(*, stack: str | None, local: bool, local_state_file: Path = STATE_FILE,
                         region: str | None = None,
                         clients: ClientFactory | None = None, command: str,
                         config: Any = None) -> StackTarget:
    """`--stack NAME` or `--local`, exactly one (a user error otherwise); `config` (a
    botocore `Config`) for every client."""
    require_one_stack(stack=stack, local=local, command=command)
    if local:
        described = read_local_stack(local_state_file)
        return StackTarget(described.target, clients or described.clients(config), True,
                           described.metrics, described.resources,
                           alarms=described.own_alarms, described=described)
    assert stack is not None
    return StackTarget(stack, clients or deployed_stack_clients(region, config), False, True)


def require_one_stack(*, stack: str | None, local: bool, command: str,
                      or_else: str | None = None, hint: str | None = None) -> None:
    """The rule every command that reads a stack shares: exactly one of `--stack NAME`
    and `--local` (or `or_else`, a third way such as `--rest-url with --ws-url`)."""
    if (stack is None) != (not local):
        return
    ways = f"--stack NAME, --local, or {or_else}" if or_else else "--stack NAME or --local"
    raise UserError(f"give exactly one of {ways}",
                    hint=hint or f"crudops {command} --local, or crudops {command} --stack Crudops")


# --- the gateways -----------------------------------------------------------------
def deployed_stack_outputs(stack: str, region: str | None = None,
                           clients: Any = None) -> dict[str, str]:
    """A deployed stack's outputs by key; one line (UserError) when it does not exist."""
    from botocore.exceptions import ClientError

    cloudformation = (clients or deployed_stack_clients(region))("cloudformation")
    try:
        with aws_errors_as_user_errors(local=False):
            described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            raise UserError(f"stack {stack} does not exist in this account and region",
                            hint="check --stack, AWS_PROFILE and AWS_REGION") from exc
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def stack_urls(*, stack: str | None, local: bool, region: str | None,
               local_state_file: Path = STATE_FILE,
               clients: Any = None) -> tuple[str, str]:
    """(REST URL, WebSocket URL) of the local stack or of a deployed one (its outputs)."""
    require_one_stack(stack=stack, local=local, command="load",
                      or_else="--rest-url with --ws-url", hint="e.g. --local, or --stack Crudops")
    if local:
        described = read_local_stack(local_state_file)
        if not described.rest_url or not described.ws_url:
            raise UserError(f"{local_state_file} names no gateway URLs",
                            hint="restart the local stack with `crudops local up`")
        return described.rest_url, described.ws_url
    outputs = deployed_stack_outputs(str(stack), region, clients)
    if "RestApiUrl" not in outputs or "WebSocketUrl" not in outputs:
        raise UserError(f"stack {stack} has no RestApiUrl / WebSocketUrl outputs",
                        hint="is it a crudops stack? deploy the current version")
    return outputs["RestApiUrl"].rstrip("/"), outputs["WebSocketUrl"]


def gateway_urls(*, rest_url: str | None, ws_url: str | None, stack: str | None,
                 local: bool, region: str | None, both_hint: str,
                 neither_allowed: bool = False, local_state_file: Path = STATE_FILE,
                 clients: Any = None) -> tuple[str, str] | None:
    """The gateways a client command (`demo`, `load`) talks to: `--rest-url` with
    `--ws-url`, or those of `--stack NAME` / `--local`. None when nothing was given
    and `neither_allowed` (demo then starts a stack of its own); otherwise giving
    nothing is the one-of rule's user error."""
    if (rest_url is None) != (ws_url is None):
        raise UserError("give both --rest-url and --ws-url, or neither", hint=both_hint)
    if rest_url is not None and ws_url is not None:
        if stack is not None or local:
            raise UserError("--rest-url/--ws-url replace --stack and --local; give one way")
        return rest_url, ws_url
    if neither_allowed and stack is None and not local:
        return None
    return stack_urls(stack=stack, local=local, region=region,
                      local_state_file=local_state_file, clients=clients)
