"""The WebSocket API's Lambda REQUEST authorizer on `$connect`, run as API Gateway
runs it.

`$connect` with `AuthorizationType: CUSTOM` names an `AWS::ApiGatewayV2::Authorizer`
(`AuthorizerType: REQUEST`) whose `AuthorizerUri` is a function's invocation URI.
Before `$connect` runs, that function gets the REQUEST authorizer event (the
`$connect` event's headers, query string and request context, plus `type: REQUEST`
and the route's `methodArn`), and its answer decides:

- a policy that allows `execute-api:Invoke` on the `methodArn` (and denies nothing
  there): the connection goes on, and `principalId` with the answer's `context` keys
  becomes `requestContext.authorizer` of every event of that connection (`$connect`,
  messages, `$disconnect`);
- a policy that does not allow it (an explicit `Deny`, or no matching `Allow`): 403;
- the function raising `Unauthorized` (API Gateway's convention): 401;
- any other error, or an answer that is not a policy: 500.

Without an `IdentitySource` API Gateway calls the authorizer on every connect (no
cache); with one, a request missing an identity source is 401 without a call. The
authorizer's result cache (`AuthorizerResultTtlInSeconds`) is not modelled.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from crudops_local.cloudformation.template import Resolver, Template

_FUNCTION_ARN = re.compile(r"/functions/(?P<arn>.+?)/invocations$")
UNAUTHORIZED_MESSAGE: Final = "Unauthorized"
INVOKE_ACTION: Final = "execute-api:Invoke"


@dataclass(frozen=True)
class RequestAuthorizer:
    logical_id: str
    function_arn: str
    # e.g. ("route.request.header.Authorization", "route.request.querystring.token")
    identity_sources: tuple[str, ...] = ()


class Verdict(Enum):
    ALLOW = "allow"
    DENY = "deny"  # 403
    UNAUTHORIZED = "unauthorized"  # 401
    FAILED = "failed"  # 500


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    # `requestContext.authorizer` of the connection's events, when allowed
    authorizer_context: dict[str, Any] | None = None


def _logical_target(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


def request_authorizers(template: Template, resolver: Resolver,
                        api_logical_id: str) -> dict[str, RequestAuthorizer]:
    """The API's Lambda REQUEST authorizers by logical id."""
    found: dict[str, RequestAuthorizer] = {}
    for resource in template.of_type("AWS::ApiGatewayV2::Authorizer"):
        properties = resource.properties
        if (_logical_target(properties.get("ApiId")) != api_logical_id
                or str(properties.get("AuthorizerType", "")).upper() != "REQUEST"):
            continue
        uri = str(resolver.resolve(properties.get("AuthorizerUri", "")))
        match = _FUNCTION_ARN.search(uri)
        if match is None:
            continue
        sources = properties.get("IdentitySource") or []
        found[resource.logical_id] = RequestAuthorizer(
            resource.logical_id, match["arn"],
            tuple(str(s) for s in ([sources] if isinstance(sources, str) else sources)))
    return found


def method_arn(*, partition: str, region: str, account_id: str, api_id: str, stage: str,
               route_key: str) -> str:
    return f"arn:{partition}:execute-api:{region}:{account_id}:{api_id}/{stage}/{route_key}"


def authorizer_event(connect_event: Mapping[str, Any], arn: str) -> dict[str, Any]:
    """The REQUEST authorizer event of a `$connect` (AWS's shape)."""
    event: dict[str, Any] = {"type": "REQUEST", "methodArn": arn}
    for key in ("headers", "multiValueHeaders", "queryStringParameters",
                "multiValueQueryStringParameters"):
        if key in connect_event:
            event[key] = connect_event[key]
    event["stageVariables"] = {}
    event["requestContext"] = connect_event["requestContext"]
    return event


def identity_present(authorizer: RequestAuthorizer, headers: Mapping[str, str],
                     query: Mapping[str, str]) -> bool:
    """Whether every identity source has a value (API Gateway answers 401 otherwise)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for source in authorizer.identity_sources:
        if source.startswith("route.request.header."):
            name = source.removeprefix("route.request.header.").lower()
            if not lowered.get(name):
                return False
        elif (source.startswith("route.request.querystring.")
              and not query.get(source.removeprefix("route.request.querystring."))):
            return False
    return True


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _covers(statement: Mapping[str, Any], arn: str) -> bool:
    actions = _listed(statement.get("Action", []))
    resources = _listed(statement.get("Resource", []))
    return (any(fnmatch.fnmatchcase(INVOKE_ACTION, a) for a in actions)
            and any(fnmatch.fnmatchcase(arn, r) for r in resources))


def decide(answer: Any, arn: str) -> Decision:
    """What API Gateway does with the authorizer function's answer."""
    if not isinstance(answer, dict) or not isinstance(answer.get("policyDocument"), dict):
        return Decision(Verdict.FAILED)
    statements = answer["policyDocument"].get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    matching = [s for s in statements if isinstance(s, dict) and _covers(s, arn)]
    if any(str(s.get("Effect")) == "Deny" for s in matching) or not any(
            str(s.get("Effect")) == "Allow" for s in matching):
        return Decision(Verdict.DENY)
    context = answer.get("context") or {}
    if not isinstance(context, dict):
        return Decision(Verdict.FAILED)
    authorizer: dict[str, Any] = {"principalId": str(answer.get("principalId", ""))}
    authorizer.update(context)
    return Decision(Verdict.ALLOW, authorizer)
