"""Each function's role holds exactly the (action, resource) pairs its code calls.

Read from the synthesized template: every statement of every policy attached to the
function's role, each resource named by its logical id without CDK's hash (a join such
as an index ARN spelled out). A grant that is broader than the code needs, or one
that is missing, fails here; so does a grant added to the wrong function. Why each
pair is needed is written at the grant (infra/workers.py, infra/websocket.py) and in
ADR 0024 (data part).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.infra.helpers import Resources, logical_id_of, of_type, props

# CDK appends 8 hex digits of a path hash to every logical id.
_HASH = re.compile(r"[0-9A-F]{8}$")

TRACING = {("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")}


def _logs(function: str) -> set[tuple[str, str]]:
    return {("logs:CreateLogStream", f"{function}Logs"), ("logs:PutLogEvents", f"{function}Logs")}


def _consumes(queue: str) -> set[tuple[str, str]]:
    """What a Lambda SQS event source mapping needs on its queue."""
    return {(action, queue) for action in (
        "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl",
        "sqs:DeleteMessage", "sqs:GetQueueAttributes")}


SENDS_NOTIFICATIONS = {(action, "MessagingNotificationsQueue") for action in (
    "sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")}
CONNECTIONS = "arn:{AWS::Partition}:execute-api:{AWS::Region}:{AWS::AccountId}:" \
              "{WebSocketApi}/live/*/@connections/*"
OWN_OUTCOMES = {("dynamodb:GetItem", "StorageOutcomes"), ("dynamodb:PutItem", "StorageOutcomes")}

EXPECTED: dict[str, set[tuple[str, str]]] = {
    # Create writes a new item (and never reads, scans, changes or deletes one).
    "WorkersCreateHandler": {
        ("dynamodb:PutItem", "StorageItems"),
        *OWN_OUTCOMES, *SENDS_NOTIFICATIONS,
        *_consumes("MessagingCreateConsumerQueue"),
    },
    # Read gets one item or Queries the caller's partition; it writes no item.
    "WorkersReadHandler": {
        ("dynamodb:GetItem", "StorageItems"), ("dynamodb:Query", "StorageItems"),
        *OWN_OUTCOMES, *SENDS_NOTIFICATIONS,
        *_consumes("MessagingReadConsumerQueue"),
    },
    # UpdateDelete reads the item, then puts its new state or deletes it.
    "WorkersUpdateDeleteHandler": {
        ("dynamodb:GetItem", "StorageItems"), ("dynamodb:PutItem", "StorageItems"),
        ("dynamodb:DeleteItem", "StorageItems"),
        *OWN_OUTCOMES, *SENDS_NOTIFICATIONS,
        *_consumes("MessagingWriteConsumerQueue"),
    },
    # Notify reads subscriptions and outcomes, removes subscriptions, posts frames,
    # puts back a replay whose connection is not open yet; it never writes an outcome
    # and never touches items.
    "WorkersNotifyHandler": {
        ("dynamodb:Query", "StorageSubscriptions"),
        ("dynamodb:DeleteItem", "StorageSubscriptions"),
        # the counter row of the subscription's connection (ADR 0029)
        ("dynamodb:UpdateItem", "StorageSubscriptions"),
        ("dynamodb:Query", "StorageOutcomes"),
        ("execute-api:ManageConnections", CONNECTIONS),
        *SENDS_NOTIFICATIONS,
        *_consumes("MessagingNotificationsQueue"),
    },
    # The WebSocket functions never touch items.
    "WebSocketWsConnect": {
        ("dynamodb:PutItem", "StorageSubscriptions"),
        ("dynamodb:UpdateItem", "StorageSubscriptions"),
        ("dynamodb:Query", "StorageOutcomes"),
        *SENDS_NOTIFICATIONS,
    },
    "WebSocketWsDefault": {
        ("dynamodb:PutItem", "StorageSubscriptions"),
        ("dynamodb:UpdateItem", "StorageSubscriptions"),
        ("dynamodb:DeleteItem", "StorageSubscriptions"),
        ("dynamodb:Query", "StorageOutcomes"),
        ("execute-api:ManageConnections", CONNECTIONS),
    },
    "WebSocketWsDisconnect": {
        ("dynamodb:Query", "StorageSubscriptions/index/byConnection"),
        ("dynamodb:DeleteItem", "StorageSubscriptions"),
        ("dynamodb:BatchWriteItem", "StorageSubscriptions"),
    },
}


def _name(resource: Any) -> str:
    """A resource of a statement as a stable, readable name."""
    if isinstance(resource, str):
        return resource
    if "Fn::GetAtt" in resource:
        return _HASH.sub("", resource["Fn::GetAtt"][0])
    if "Ref" in resource:
        ref = resource["Ref"]
        return "{" + (ref if ref.startswith("AWS::") else _HASH.sub("", ref)) + "}"
    if "Fn::Join" in resource:
        separator, parts = resource["Fn::Join"]
        return separator.join(p if isinstance(p, str) else _name(p) for p in parts)
    raise AssertionError(f"unexpected resource {resource}")


def _names(statement: dict[str, Any]) -> list[str]:
    # A bare GetAtt names the resource itself; inside a join it is a part of an ARN.
    resources = statement["Resource"]
    return [_name(r) for r in (resources if isinstance(resources, list) else [resources])]


def granted(resources: Resources, role_id: str) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        if {"Ref": role_id} not in props(policy)["Roles"]:
            continue
        for statement in props(policy)["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow" and "Condition" not in statement, statement
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                pairs.update((action, name) for name in _names(statement))
    return pairs


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_the_role_holds_exactly_what_the_function_calls(
    resources: Resources, function: str
) -> None:
    expected = EXPECTED[function] | TRACING | _logs(function)
    actual = granted(resources, logical_id_of(resources, "AWS::IAM::Role", f"{function}Role"))
    assert actual == expected, (
        f"broader than needed: {sorted(actual - expected)}; missing: {sorted(expected - actual)}")


def test_no_function_may_scan_or_update_items(resources: Resources) -> None:
    # Every function of the stack, also one this file does not list yet.
    for role_id in of_type(resources, "AWS::IAM::Role"):
        for action, name in granted(resources, role_id):
            if name.startswith("StorageItems"):
                assert action not in {"dynamodb:Scan", "dynamodb:UpdateItem",
                                      "dynamodb:BatchWriteItem"}, (role_id, action)
