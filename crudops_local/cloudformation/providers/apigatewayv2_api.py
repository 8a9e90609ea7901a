"""AWS::ApiGatewayV2::Api and AWS::ApiGatewayV2::Stage: served by the local WebSocket
gateway (crudops_local/apigateway/websocket/), listed by the emulator's apigatewayv2.

The functions' execute-api URLs of the API are pointed at the local gateway when their
environment is built. On an emulator the API is registered with its name, protocol,
route selection expression and description, and each stage with its name, auto-deploy,
variables and default route settings (ADR 0031). Its id there is the emulator's own:
moto 5.2.5's apigatewayv2 draws a random id and ignores the `_custom_id_` tag, so the
copy carries the id the gateway serves in that tag, which is also how its stages find
it. Routes, integrations and authorizers are not registered. What this provider
shares with the REST API's is in served_api.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest
from crudops_local.cloudformation.providers.registration import (
    CUSTOM_ID_TAG,
    STACK_TAG,
    passed_on,
    run_tags,
    tag_map,
)
from crudops_local.cloudformation.providers.served_api import ServedApi, ServedStage

_API_PARAMETERS = ("Description", "RouteSelectionExpression", "ApiKeySelectionExpression",
                   "DisableSchemaValidation", "DisableExecuteApiEndpoint", "Version")
_STAGE_PARAMETERS = ("AutoDeploy", "Description", "StageVariables", "DefaultRouteSettings")


def _apis(client: Any) -> Iterator[dict[str, Any]]:
    """Every API of the endpoint (`GetApis` pages with `NextToken`)."""
    arguments: dict[str, Any] = {}
    while True:
        answer = client.get_apis(**arguments)
        yield from answer.get("Items", [])
        if not answer.get("NextToken"):
            return
        arguments["NextToken"] = answer["NextToken"]


def endpoint_api_id(client: Any, api_id: str, stack_name: str) -> str | None:
    """The emulator's id of the API the local gateway serves as `api_id` in this run."""
    for api in _apis(client):
        tags = api.get("Tags") or {}
        if tags.get(STACK_TAG) == stack_name and tags.get(CUSTOM_ID_TAG) == api_id:
            return str(api["ApiId"])
    return None


class WebSocketApi(ServedApi):
    type = "AWS::ApiGatewayV2::Api"
    service = "apigatewayv2"
    answer_id_key = "ApiId"

    def attributes(self, request: CreateRequest, api_id: str) -> dict[str, Any]:
        pseudo = request.pseudo
        endpoint = f"wss://{api_id}.execute-api.{pseudo.region}.{pseudo.url_suffix}"
        return {"ApiEndpoint": endpoint, "ApiId": api_id}

    def _register(self, request: CreateRequest, api_id: str) -> dict[str, Any]:
        properties = request.properties
        answer: dict[str, Any] = request.client(self.service).create_api(
            Name=str(properties.get("Name") or request.resource.logical_id),
            ProtocolType=str(properties.get("ProtocolType", "WEBSOCKET")),
            Tags=run_tags(request, custom_id=api_id),
            **passed_on(properties, _API_PARAMETERS))
        return answer

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_api(ApiId=ref)


class WebSocketStage(ServedStage):
    type = "AWS::ApiGatewayV2::Stage"
    service = "apigatewayv2"

    def _register(self, request: CreateRequest) -> None:
        properties = request.properties
        client = request.client(self.service)
        api_id = endpoint_api_id(client, str(properties["ApiId"]), request.pseudo.stack_name)
        if api_id is None:
            # Not registered by this run (the API's own warning said why).
            return
        parameters = passed_on(properties, _STAGE_PARAMETERS)
        tags = tag_map(properties.get("Tags"))
        if tags:
            parameters["Tags"] = tags
        client.create_stage(ApiId=api_id, StageName=str(properties["StageName"]),
                            **parameters)
