"""The WAFv2 web ACL associated with a REST API stage, reduced to what is local.

Only rules whose statement is a `SizeConstraintStatement` on the `Body` are evaluated
(the only WAF rule that changes what a well-behaved client sees); managed rule groups,
rate-based rules and the rest are skipped and listed in `skipped_rules`. WAF inspects
at most the association's body inspection limit (16 KB by default for API Gateway,
`DefaultSizeInspectionLimit` raises it); a larger body is handled by the rule's
`OversizeHandling` (`MATCH`, `NO_MATCH`, `CONTINUE` = inspect the first part).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crudops_local.cloudformation.template import Template

_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "EQ": operator.eq, "NE": operator.ne, "LE": operator.le,
    "LT": operator.lt, "GE": operator.ge, "GT": operator.gt,
}
_INSPECTION_LIMITS = {"KB_16": 16 * 1024, "KB_32": 32 * 1024,
                      "KB_48": 48 * 1024, "KB_64": 64 * 1024}
DEFAULT_INSPECTION_LIMIT = _INSPECTION_LIMITS["KB_16"]
WAF_BLOCK_STATUS = 403


@dataclass(frozen=True)
class Blocked:
    """What the client receives when a rule blocks: a custom response or WAF's 403."""

    rule: str
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


@dataclass(frozen=True)
class BodySizeRule:
    name: str
    priority: int
    comparison: str
    size: int
    oversize_handling: str
    action: str
    blocked: Blocked | None

    def matches(self, body_length: int, inspection_limit: int) -> bool:
        if body_length > inspection_limit:
            if self.oversize_handling == "MATCH":
                return True
            if self.oversize_handling == "NO_MATCH":
                return False
            body_length = inspection_limit
        return _COMPARISONS[self.comparison](body_length, self.size)


@dataclass(frozen=True)
class WebAcl:
    logical_id: str
    rules: tuple[BodySizeRule, ...]
    inspection_limit: int
    default_blocked: Blocked | None
    skipped_rules: tuple[str, ...]

    def evaluate(self, body_length: int) -> Blocked | None:
        """The response of the first terminating rule that matches, or the default action."""
        for rule in self.rules:
            if not rule.matches(body_length, self.inspection_limit):
                continue
            if rule.action == "Block":
                return rule.blocked
            if rule.action == "Allow":
                return None
        return self.default_blocked


_CONTENT_TYPES = {"APPLICATION_JSON": "application/json", "TEXT_PLAIN": "text/plain",
                  "TEXT_HTML": "text/html"}


def _blocked(rule: str, action: dict[str, Any], bodies: dict[str, Any]) -> Blocked:
    custom = action.get("CustomResponse")
    if not custom:
        return Blocked(rule, WAF_BLOCK_STATUS, b'{"message":"Forbidden"}', "application/json", {})
    body = bodies.get(custom.get("CustomResponseBodyKey", ""), {})
    headers = {h["Name"]: str(h["Value"]) for h in custom.get("ResponseHeaders", [])}
    return Blocked(
        rule=rule,
        status=int(custom["ResponseCode"]),
        body=str(body.get("Content", "")).encode(),
        content_type=_CONTENT_TYPES.get(str(body.get("ContentType", "")), "text/plain"),
        headers=headers,
    )


def _references(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(str(argument.split(".")[0] if isinstance(argument, str)
                              else argument[0]))
            else:
                found |= _references(argument)
    return found


def web_acl_for_stage(template: Template, stage_logical_id: str) -> WebAcl | None:
    """The web ACL whose association's ResourceArn names `stage_logical_id`, if any."""
    resources = template.resources
    for association in template.of_type("AWS::WAFv2::WebACLAssociation"):
        if stage_logical_id not in _references(association.properties.get("ResourceArn")):
            continue
        acl_ids = _references(association.properties.get("WebACLArn")) & resources.keys()
        for acl_id in acl_ids:
            return _web_acl(acl_id, resources[acl_id].properties)
    return None


def _web_acl(logical_id: str, properties: dict[str, Any]) -> WebAcl:
    bodies = properties.get("CustomResponseBodies", {})
    limit_name = (properties.get("AssociationConfig", {}).get("RequestBody", {})
                  .get("API_GATEWAY", {}).get("DefaultSizeInspectionLimit", "KB_16"))
    rules: list[BodySizeRule] = []
    skipped: list[str] = []
    for rule in sorted(properties.get("Rules", []), key=lambda r: int(r.get("Priority", 0))):
        statement = rule.get("Statement", {}).get("SizeConstraintStatement")
        action = rule.get("Action", {})
        if not statement or "Body" not in statement.get("FieldToMatch", {}) or not action:
            skipped.append(str(rule.get("Name")))
            continue
        (action_name, action_body), = action.items()
        rules.append(BodySizeRule(
            name=str(rule["Name"]),
            priority=int(rule.get("Priority", 0)),
            comparison=str(statement["ComparisonOperator"]),
            size=int(statement["Size"]),
            oversize_handling=str(statement["FieldToMatch"]["Body"].get(
                "OversizeHandling", "CONTINUE")),
            action=action_name,
            blocked=_blocked(str(rule["Name"]), action_body, bodies)
            if action_name == "Block" else None,
        ))
    default = properties.get("DefaultAction", {"Allow": {}})
    return WebAcl(
        logical_id=logical_id,
        rules=tuple(rules),
        inspection_limit=_INSPECTION_LIMITS.get(str(limit_name), DEFAULT_INSPECTION_LIMIT),
        default_blocked=_blocked("DefaultAction", default["Block"], bodies)
        if "Block" in default else None,
        skipped_rules=tuple(skipped),
    )
