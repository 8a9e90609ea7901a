"""The WebSocket API's routes, read from `AWS::ApiGatewayV2::*` resources.

Each Route's `Target` is `integrations/{IntegrationId}`; an `AWS_PROXY` integration's
URI ends in `.../functions/{FunctionArn}/invocations`, which is what the caller's
`invoke_function` is keyed on. Route selection supports `$request.body.<path>`
expressions (the only kind API Gateway allows besides a static key); a message whose
selected value names no route goes to `$default`.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from crudops_local.apigateway.rest import jsonpath
from crudops_local.apigateway.rest.routes import physical_id
from crudops_local.apigateway.websocket.authorizer import RequestAuthorizer, request_authorizers
from crudops_local.cloudformation.template import Resolver, Template

log = logging.getLogger("crudops.local.websocket")

CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"

_FUNCTION_ARN = re.compile(r"/functions/(?P<arn>.+?)/invocations$")


@dataclass(frozen=True)
class WebSocketRoute:
    key: str
    function_arn: str
    # `$connect` with `AuthorizationType: CUSTOM`: the Lambda authorizer it runs first
    authorizer: RequestAuthorizer | None = None


def _logical_target(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return None


def _integration_ref(target: Any) -> str | None:
    """The integration's logical id in a Target such as `Fn::Join ["", ["integrations/", Ref]]`."""
    if isinstance(target, dict) and "Fn::Join" in target:
        for part in target["Fn::Join"][1]:
            if (ref := _logical_target(part)) is not None:
                return ref
    return None


class WebSocketApi:
    def __init__(self, template: Template, resolver: Resolver, api_logical_id: str) -> None:
        resources = template.resources
        properties = resources[api_logical_id].properties
        self.logical_id = api_logical_id
        self.api_id = physical_id(resolver, api_logical_id)
        self.selection_expression = str(properties.get("RouteSelectionExpression", ""))
        belongs = [r for r in resources.values()
                   if _logical_target(r.properties.get("ApiId")) == api_logical_id]
        self.stages = [str(r.properties["StageName"]) for r in belongs
                       if r.type == "AWS::ApiGatewayV2::Stage"]
        self.routes: dict[str, WebSocketRoute] = {}
        authorizers = request_authorizers(template, resolver, api_logical_id)
        for route in belongs:
            if route.type != "AWS::ApiGatewayV2::Route":
                continue
            key = str(route.properties["RouteKey"])
            integration_id = _integration_ref(route.properties.get("Target"))
            if integration_id is None:
                target = str(resolver.resolve(route.properties.get("Target", "")))
                integration_id = target.removeprefix("integrations/")
            integration = resources.get(integration_id)
            if integration is None:
                log.warning("route %s: integration %s is not in the template", key, integration_id)
                continue
            kind = str(integration.properties.get("IntegrationType", ""))
            uri = str(resolver.resolve(integration.properties.get("IntegrationUri", "")))
            match = _FUNCTION_ARN.search(uri)
            if kind != "AWS_PROXY" or match is None:
                log.warning("route %s: only Lambda proxy integrations are served locally "
                            "(%s %s)", key, kind, uri)
                continue
            authorizer = None
            if str(route.properties.get("AuthorizationType", "NONE")).upper() == "CUSTOM":
                authorizer_id = _logical_target(route.properties.get("AuthorizerId")) or ""
                authorizer = authorizers.get(authorizer_id)
                if authorizer is None:
                    log.warning("route %s: authorizer %s is not a Lambda REQUEST authorizer "
                                "of the API; every connect is refused", key, authorizer_id)
                    authorizer = RequestAuthorizer(authorizer_id, "")
            self.routes[key] = WebSocketRoute(key, match["arn"], authorizer)

    def select(self, body: str | None) -> WebSocketRoute | None:
        """The route for one message: the selected key if it has a route, else `$default`."""
        prefix = "$request.body."
        if body is not None and self.selection_expression.startswith(prefix):
            try:
                document = json.loads(body)
            except json.JSONDecodeError:
                document = None
            try:
                value = jsonpath.find(document, "$." + self.selection_expression[len(prefix):])
            except jsonpath.JsonPathError:
                value = None
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                route = self.routes.get(str(value))
                if route is not None and route.key not in (CONNECT, DISCONNECT):
                    return route
        return self.routes.get(DEFAULT)


def websocket_apis(template: Template, resolver: Resolver) -> list[WebSocketApi]:
    return [WebSocketApi(template, resolver, r.logical_id)
            for r in template.of_type("AWS::ApiGatewayV2::Api")
            if r.properties.get("ProtocolType") == "WEBSOCKET"]
