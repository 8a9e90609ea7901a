"""Acknowledging cdk-nag findings: each one names the rule, the finding and a reason.

cdk-nag 3 reports through CDK's validation plugins; an unacknowledged finding
(warnings included) fails synthesis. A rule that reports several findings on one
resource (IAM5 wildcards) needs each finding acknowledged by its own id, which embeds
the resource or action as cdk-nag renders it: `Ref X` as `<X>`, `Fn::GetAtt [X, A]`
as `<X.A>`, `Fn::Join` as the joined string.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge `rule_id` (e.g. `AwsSolutions-L1`) on `scope` and its children."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def nag_finding_id(rule: str, kind: str, resolved: Any) -> str:
    """The finding id cdk-nag gives `kind` (`Resource`, `Action`, `Policy`) `resolved`."""
    return f"{rule}[{kind}::{_render(resolved)}]"


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((intrinsic, argument),) = value.items()
        if intrinsic == "Ref":
            return f"<{argument}>"
        if intrinsic == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if intrinsic == "Fn::Join":
            separator, parts = argument
            return str(separator).join(_render(part) for part in parts)
    raise ValueError(f"cannot render {value!r} as a cdk-nag finding")
