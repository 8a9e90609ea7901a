"""One ASGI app serving the template's REST and WebSocket APIs, as API Gateway would.

Paths, like an execute-api host's: `/{restStage}/...` for each REST API stage,
`/{wsStage}` (WebSocket upgrade) and `/{wsStage}/@connections/{id}` (the management
API) for each WebSocket API stage. Stage names come from the template; two APIs with
the same stage name would collide, and the first one wins (logged).

The caller provides the created resources through `resolver`, the AWS endpoint the
REST integrations call (`aws`), and `invoke_function(function_arn, event)`: a
blocking call that runs a Lambda function and returns its result, or raises a
`crudops_local.lambda_.runtime.FunctionInvocationError`. It is called from worker threads.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from crudops_local.apigateway.rest.authorizers import CognitoAuthorizer, cognito_authorizers
from crudops_local.apigateway.rest.handler import RestStageHandler, StageConfig
from crudops_local.apigateway.rest.routes import rest_apis
from crudops_local.apigateway.rest.throttling import stage_throttle
from crudops_local.apigateway.rest.waf import web_acl_for_stage
from crudops_local.apigateway.websocket.connections import ConnectionRegistry
from crudops_local.apigateway.websocket.management import ManagementApi
from crudops_local.apigateway.websocket.routes import websocket_apis
from crudops_local.apigateway.websocket.server import WebSocketEndpoint, WebSocketStage
from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.template import Resolver, Template

log = logging.getLogger("crudops.local.gateway")

class AnyMethodRoute(Route):
    """A route for every HTTP method. The REST handler answers a method a resource
    lacks as API Gateway does (MISSING_AUTHENTICATION_TOKEN, 403, JSON); a method
    list here (Starlette's default for a function is GET) answered `TRACE`, `CONNECT`
    or `PROPFIND` with Starlette's plain-text 405 before the handler saw them."""

    def __init__(self, path: str, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        super().__init__(path, endpoint)
        self.methods = None


class AnyPath(Convertor[str]):
    """Starlette's `path`, but matching every character. Its own is `.*`, which stops
    at a newline: `/v1/items/a%0Ab` matched no route and got Starlette's plain-text 404,
    where API Gateway routes the segment like any other (`id` is `a\nb`)."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPath())


async def _no_such_stage(request: Request) -> Response:
    # What an execute-api host answers for a path outside every stage.
    return JSONResponse({"message": "Forbidden"}, 403,
                        headers={"x-amzn-ErrorType": "ForbiddenException"})


def build_gateway_app(
    template: Template,
    resolver: Resolver,
    aws: AwsEndpoint,
    invoke_function: Callable[[str, dict[str, Any]], Any],
    *,
    public_host: str,
) -> Starlette:
    """The ASGI app of every API in `template`; `public_host` is `host:port` it is reached at."""
    account_id = str(resolver.resolve({"Ref": "AWS::AccountId"}))
    region = str(resolver.resolve({"Ref": "AWS::Region"}))
    partition = str(resolver.resolve({"Ref": "AWS::Partition"}))
    routes: list[BaseRoute] = []
    taken: set[str] = set()

    def claim(stage: str, owner: str) -> bool:
        if stage in taken:
            log.warning("stage /%s of %s is already served by another API; skipped",
                        stage, owner)
            return False
        taken.add(stage)
        return True

    registry = ConnectionRegistry()
    for ws_api in websocket_apis(template, resolver):
        for stage in ws_api.stages:
            if not claim(stage, ws_api.logical_id):
                continue
            management = ManagementApi(registry)
            routes.append(Route(f"/{stage}/@connections/{{connection_id}}",
                                management.__call__, methods=["GET", "POST", "DELETE"]))
            routes.append(WebSocketRoute(f"/{stage}", WebSocketEndpoint(
                WebSocketStage(ws_api, stage, public_host, region=region,
                               account_id=account_id, partition=partition),
                registry, invoke_function).__call__))
    for rest_api in rest_apis(template, resolver):
        # One verifier per pool with its key cache, shared by the API's stages.
        authorizers = {
            logical_id: CognitoAuthorizer(spec, aws.service_url("cognito-idp"))
            for logical_id, spec in cognito_authorizers(
                template, resolver, rest_api.logical_id).items()}
        for stage, (stage_logical_id, variables) in rest_api.stages.items():
            if not claim(stage, rest_api.logical_id):
                continue
            web_acl = web_acl_for_stage(template, stage_logical_id)
            if web_acl is not None and web_acl.skipped_rules:
                log.info("stage /%s: WAF rules not emulated locally: %s", stage,
                         ", ".join(web_acl.skipped_rules))
            throttle = stage_throttle({"MethodSettings": resolver.resolve(
                template.resources[stage_logical_id].properties.get("MethodSettings", []))})
            handler = RestStageHandler(StageConfig(
                api=rest_api, stage=stage, stage_variables=variables, web_acl=web_acl,
                account_id=account_id, public_host=public_host, throttle=throttle,
                authorizers=authorizers,
            ), aws).__call__
            routes.append(AnyMethodRoute(f"/{stage}", handler))
            routes.append(AnyMethodRoute(f"/{stage}/{{path:anypath}}", handler))
    routes.append(AnyMethodRoute("/{path:anypath}", _no_such_stage))
    app = Starlette(routes=routes)
    app.state.connections = registry
    return app
