"""The REST API's WAF: the rate-based rule, the body size rule and a decided action for
every rule of the AWS common rule set, each refusal with a JSON body
(docs/adr/0025-waf-rules-and-throttling.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra.firewall import Firewall
from infra.settings import IpRateLimit, SettingsError, StackSettings
from tests.infra.helpers import Resources, of_type, props

# The rules of AWSManagedRulesCommonRuleSet as AWS documents them (the baseline rule
# groups page of the WAF developer guide), written out here rather than read from
# infra/firewall.py, so a rule dropped there fails this test.
COMMON_RULES = (
    "NoUserAgent_HEADER", "UserAgent_BadBots_HEADER", "SizeRestrictions_QUERYSTRING",
    "SizeRestrictions_Cookie_HEADER", "SizeRestrictions_BODY", "SizeRestrictions_URIPATH",
    "EC2MetaDataSSRF_BODY", "EC2MetaDataSSRF_COOKIE", "EC2MetaDataSSRF_URIPATH",
    "EC2MetaDataSSRF_QUERYARGUMENTS", "GenericLFI_QUERYARGUMENTS", "GenericLFI_URIPATH",
    "GenericLFI_BODY", "RestrictedExtensions_URIPATH", "RestrictedExtensions_QUERYARGUMENTS",
    "GenericRFI_QUERYARGUMENTS", "GenericRFI_BODY", "GenericRFI_URIPATH",
    "CrossSiteScripting_COOKIE", "CrossSiteScripting_QUERYARGUMENTS",
    "CrossSiteScripting_BODY", "CrossSiteScripting_URIPATH",
)
# Item data is stored and returned as JSON, never rendered, fetched or used as a path:
# what these find in a body is an ordinary item. A missing User-Agent is no attack.
COUNTED = frozenset({
    "NoUserAgent_HEADER", "SizeRestrictions_BODY", "EC2MetaDataSSRF_BODY", "GenericLFI_BODY",
    "GenericRFI_BODY", "CrossSiteScripting_BODY",
})


def _acl(resources: Resources) -> dict[str, Any]:
    (acl,) = [props(a) for a in of_type(resources, "AWS::WAFv2::WebACL").values()]
    return acl


def _rules(acl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["Name"]: r for r in acl["Rules"]}


def _refusal(acl: dict[str, Any], action: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """(status, parsed JSON body) of a Block action with a custom response."""
    custom = action["Block"]["CustomResponse"]
    body = acl["CustomResponseBodies"][custom["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    return int(custom["ResponseCode"]), json.loads(body["Content"])


def _overrides(acl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    statement = _rules(acl)["AWSManagedRulesCommonRuleSet"]["Statement"]
    overrides = statement["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    return {o["Name"]: o["ActionToUse"] for o in overrides}


def test_rules_run_rate_limit_then_body_size_then_the_common_rule_set(
        resources: Resources) -> None:
    acl = _acl(resources)
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    by_priority = [r["Name"] for r in sorted(acl["Rules"], key=lambda r: r["Priority"])]
    assert by_priority == ["RateLimitPerIp", "BodyTooLarge", "AWSManagedRulesCommonRuleSet"]


def test_rate_limit_per_ip_blocks_with_429_and_a_json_body(
        resources: Resources, settings: StackSettings) -> None:
    acl = _acl(resources)
    rule = _rules(acl)["RateLimitPerIp"]
    assert rule["Statement"] == {"RateBasedStatement": {
        "Limit": settings.waf_rate_limit.requests,
        "EvaluationWindowSec": settings.waf_rate_limit.window_seconds,
        "AggregateKeyType": "IP",
    }}
    status, body = _refusal(acl, rule["Action"])
    assert status == 429 and body["error"]["code"] == "TooManyRequests"
    assert str(settings.waf_rate_limit.requests) in body["error"]["message"]


def test_oversize_bodies_are_blocked_with_413_and_a_json_body(
        resources: Resources, settings: StackSettings) -> None:
    acl = _acl(resources)
    assert acl["AssociationConfig"] == {
        "RequestBody": {"API_GATEWAY": {"DefaultSizeInspectionLimit": "KB_64"}}
    }
    rule = _rules(acl)["BodyTooLarge"]
    constraint = rule["Statement"]["SizeConstraintStatement"]
    assert constraint["ComparisonOperator"] == "GT"
    assert constraint["Size"] == settings.max_body_bytes
    assert constraint["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
    status, body = _refusal(acl, rule["Action"])
    assert status == 413 and body["error"]["code"] == "RequestTooLarge"


def test_every_common_rule_has_an_action_of_its_own(resources: Resources) -> None:
    # A rule left to the group's own action would answer WAF's plain-text 403.
    acl = _acl(resources)
    assert sorted(_overrides(acl)) == sorted(COMMON_RULES)
    common = _rules(acl)["AWSManagedRulesCommonRuleSet"]
    assert common["OverrideAction"] == {"None": {}}


@pytest.mark.parametrize("rule", COMMON_RULES)
def test_each_common_rule_counts_or_blocks_with_a_json_403(
        resources: Resources, rule: str) -> None:
    acl = _acl(resources)
    action = _overrides(acl)[rule]
    if rule in COUNTED:
        assert action == {"Count": {}}
        return
    status, body = _refusal(acl, action)
    assert status == 403
    assert body == {"error": {"code": "RequestBlocked",
                              "message": "the firewall refused this request"}}


def test_the_web_acl_and_the_api_are_named_after_the_stack(resources: Resources) -> None:
    per_stack = {"Fn::Join": ["", [{"Ref": "AWS::StackName"}, "-api"]]}
    assert _acl(resources)["Name"] == per_stack
    (api,) = [props(a) for a in of_type(resources, "AWS::ApiGateway::RestApi").values()]
    assert api["Name"] == per_stack


def test_the_rate_limit_comes_from_its_settings() -> None:
    stack = Stack(App(), "FirewallOnly")
    Firewall(stack, "Firewall", stage_arn="arn:aws:apigateway:eu-west-1::/restapis/a/stages/v1",
             max_body_bytes=1024, rate_limit=IpRateLimit(requests=250, window_seconds=60))
    (acl,) = Template.from_stack(stack).find_resources("AWS::WAFv2::WebACL").values()
    rule = _rules(acl["Properties"])["RateLimitPerIp"]
    assert rule["Statement"]["RateBasedStatement"]["Limit"] == 250
    assert rule["Statement"]["RateBasedStatement"]["EvaluationWindowSec"] == 60


def test_rate_limit_settings_come_from_the_context() -> None:
    settings = StackSettings.from_context(
        {"waf_rate_limit": {"requests": "100000", "window_seconds": 600}})
    assert settings.waf_rate_limit == IpRateLimit(requests=100_000, window_seconds=600)


@pytest.mark.parametrize("limit", [{"requests": 9}, {"requests": 2_000_000_001},
                                   {"window_seconds": 30}, {"window_seconds": 900}])
def test_rate_limits_waf_refuses_are_refused(limit: dict[str, int]) -> None:
    with pytest.raises(SettingsError):
        IpRateLimit(**limit)
