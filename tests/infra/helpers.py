"""Small readers of the synthesized template shared by the infra tests."""

from __future__ import annotations

from typing import Any

Resources = dict[str, dict[str, Any]]

# Functions the stack does not alarm on. Every rejected token is a Lambda error of the
# $connect authorizer (API Gateway's "Unauthorized" convention), so an errors alarm on
# it would page for every client with an expired token (ADR 0024).
WITHOUT_ALARMS = frozenset({"ws-authorizer"})


def of_type(resources: Resources, resource_type: str) -> Resources:
    return {k: v for k, v in resources.items() if v["Type"] == resource_type}


def props(resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resource.get("Properties", {}))


def logical_id_of(resources: Resources, resource_type: str, path_part: str) -> str:
    """The one resource of `resource_type` whose logical id contains `path_part`."""
    matches = [k for k in of_type(resources, resource_type) if path_part in k]
    assert len(matches) == 1, f"{resource_type} {path_part!r}: {matches}"
    return matches[0]


def stack_scoped(value: Any, stack_name: str) -> str:
    """A name the template builds from `AWS::StackName` (infra/names.py), as
    CloudFormation resolves it for a stack called `stack_name`; a plain string fails."""
    assert isinstance(value, dict) and set(value) == {"Fn::Join"}, value
    separator, parts = value["Fn::Join"]
    assert {"Ref": "AWS::StackName"} in parts, value
    return str(separator).join(
        stack_name if part == {"Ref": "AWS::StackName"} else str(part) for part in parts)
