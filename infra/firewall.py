"""The REST API's firewall: a regional WAF web ACL in front of the stage.

Three rules, in this order (docs/adr/0025-waf-rules-and-throttling.md):

1. `RateLimitPerIp`: a client IP that sent more than `IpRateLimit.requests` in the
   last `IpRateLimit.window_seconds` is refused with 429 until its rate falls again.
   It runs first, so a flood costs no further inspection.
2. `BodyTooLarge`: a body over `max_body_bytes` is refused with 413 before it costs
   an integration call (API Gateway takes 10 MB, SNS 256 KiB). WAF inspects at most
   64 KiB of an API Gateway body; a larger one counts as a match.
3. `AWSManagedRulesCommonRuleSet`, each of its rules with the action
   `COMMON_RULE_ACTIONS` gives it: the rules that read the body only count (the body
   is item data, stored and returned as JSON, never rendered, fetched or used as a
   path), the rest block with a JSON 403.

Every refusal carries the project's JSON error body (`{"error": {"code", "message"}}`),
never WAF's own text. WAF answers before API Gateway runs, so the body has no
`requestId`. A rule AWS adds to the managed group later blocks with WAF's plain 403
until it is listed in `COMMON_RULE_ACTIONS`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.names import per_stack
from infra.settings import IpRateLimit

COMMON_RULE_SET: Final = "AWSManagedRulesCommonRuleSet"
RATE_LIMIT_RULE: Final = "RateLimitPerIp"
BODY_SIZE_RULE: Final = "BodyTooLarge"


class CommonRuleAction(StrEnum):
    """What the web ACL does with a request one rule of the common rule set matches."""

    # Let it through; WAF's metrics and sampled requests still show the match.
    COUNT = "count"
    # Refuse it with 403 and the JSON body `RequestBlocked`.
    BLOCK = "block"


# Every rule of AWSManagedRulesCommonRuleSet (AWS's list of the group's rules) and the
# action this API gives it; the reason for each is in docs/adr/0025.
COMMON_RULE_ACTIONS: Final[Mapping[str, CommonRuleAction]] = {
    "NoUserAgent_HEADER": CommonRuleAction.COUNT,
    "UserAgent_BadBots_HEADER": CommonRuleAction.BLOCK,
    "SizeRestrictions_QUERYSTRING": CommonRuleAction.BLOCK,
    "SizeRestrictions_Cookie_HEADER": CommonRuleAction.BLOCK,
    "SizeRestrictions_BODY": CommonRuleAction.COUNT,
    "SizeRestrictions_URIPATH": CommonRuleAction.BLOCK,
    "EC2MetaDataSSRF_BODY": CommonRuleAction.COUNT,
    "EC2MetaDataSSRF_COOKIE": CommonRuleAction.BLOCK,
    "EC2MetaDataSSRF_URIPATH": CommonRuleAction.BLOCK,
    "EC2MetaDataSSRF_QUERYARGUMENTS": CommonRuleAction.BLOCK,
    "GenericLFI_QUERYARGUMENTS": CommonRuleAction.BLOCK,
    "GenericLFI_URIPATH": CommonRuleAction.BLOCK,
    "GenericLFI_BODY": CommonRuleAction.COUNT,
    "RestrictedExtensions_URIPATH": CommonRuleAction.BLOCK,
    "RestrictedExtensions_QUERYARGUMENTS": CommonRuleAction.BLOCK,
    "GenericRFI_QUERYARGUMENTS": CommonRuleAction.BLOCK,
    "GenericRFI_BODY": CommonRuleAction.COUNT,
    "GenericRFI_URIPATH": CommonRuleAction.BLOCK,
    "CrossSiteScripting_COOKIE": CommonRuleAction.BLOCK,
    "CrossSiteScripting_QUERYARGUMENTS": CommonRuleAction.BLOCK,
    "CrossSiteScripting_BODY": CommonRuleAction.COUNT,
    "CrossSiteScripting_URIPATH": CommonRuleAction.BLOCK,
}


def error_body(code: str, message: str) -> str:
    """The project's JSON error document, as a WAF custom response body."""
    return json.dumps({"error": {"code": code, "message": message}})


class Firewall(Construct):
    """A regional WAF web ACL associated with one REST API stage (`stage_arn`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage_arn: str,
        max_body_bytes: int,
        rate_limit: IpRateLimit,
    ) -> None:
        super().__init__(scope, construct_id)
        bodies = {
            "TooManyRequests": error_body(
                "TooManyRequests",
                f"more than {rate_limit.requests} requests from this address in "
                f"{rate_limit.window_seconds} s; retry later"),
            "RequestTooLarge": error_body(
                "RequestTooLarge", f"the request body exceeds {max_body_bytes} bytes"),
            "RequestBlocked": error_body(
                "RequestBlocked", "the firewall refused this request"),
        }
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=per_stack("api"),
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("crudops-api"),
            association_config=wafv2.CfnWebACL.AssociationConfigProperty(
                request_body={
                    "API_GATEWAY": wafv2.CfnWebACL.RequestBodyAssociatedResourceTypeConfigProperty(
                        default_size_inspection_limit="KB_64"
                    )
                }
            ),
            custom_response_bodies={
                key: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=content)
                for key, content in bodies.items()
            },
            rules=[
                _rate_limit_rule(rate_limit, priority=0, body_key="TooManyRequests"),
                _body_size_rule(max_body_bytes, priority=1, body_key="RequestTooLarge"),
                _common_rule_set(priority=2, body_key="RequestBlocked"),
            ],
        )
        self.association = wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage_arn, web_acl_arn=self.web_acl.attr_arn
        )


def _block(status: int, body_key: str) -> wafv2.CfnWebACL.RuleActionProperty:
    return wafv2.CfnWebACL.RuleActionProperty(
        block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                response_code=status, custom_response_body_key=body_key)))


def _rate_limit_rule(limit: IpRateLimit, *, priority: int,
                     body_key: str) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=RATE_LIMIT_RULE,
        priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=limit.requests,
                evaluation_window_sec=limit.window_seconds,
                aggregate_key_type="IP",
            )
        ),
        action=_block(429, body_key),
        visibility_config=_visibility("crudops-rate-limit-per-ip"),
    )


def _body_size_rule(max_body_bytes: int, *, priority: int,
                    body_key: str) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=BODY_SIZE_RULE,
        priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                comparison_operator="GT",
                size=max_body_bytes,
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                    body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                ),
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                ],
            )
        ),
        action=_block(413, body_key),
        visibility_config=_visibility("crudops-body-too-large"),
    )


def _common_rule_set(*, priority: int, body_key: str) -> wafv2.CfnWebACL.RuleProperty:
    def action(decision: CommonRuleAction) -> wafv2.CfnWebACL.RuleActionProperty:
        if decision is CommonRuleAction.COUNT:
            return wafv2.CfnWebACL.RuleActionProperty(count=wafv2.CfnWebACL.CountActionProperty())
        return _block(403, body_key)

    return wafv2.CfnWebACL.RuleProperty(
        name=COMMON_RULE_SET,
        priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=COMMON_RULE_SET,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=action(decision))
                    for rule, decision in COMMON_RULE_ACTIONS.items()
                ],
            )
        ),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility("crudops-common-rule-set"),
    )


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric_name,
        sampled_requests_enabled=True,
    )
