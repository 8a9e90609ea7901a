"""AWS::ApiGateway::RestApi and AWS::ApiGateway::Stage: served by the local REST gateway
(crudops_local/apigateway/rest/), listed by the emulator's API Gateway.

On an emulator the API is registered with the id the local gateway serves (asked for
with the `_custom_id_` tag, which moto and LocalStack honour), its name, description
and endpoint type, and each stage with its name, deployment id, variables and tracing
(ADR 0031). Resources, methods and deployments are not registered: the gateway reads
them from the template, and moto refuses a deployment of an API without methods, so
a stage names the local stack's deployment id, which the emulator does not list.
`RootResourceId` is the local stack's own, not the emulator's root resource. What
this provider shares with the WebSocket API's is in served_api.py.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import ClientError

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, short_id
from crudops_local.cloudformation.providers.registration import (
    CUSTOM_ID_TAG,
    STACK_TAG,
    NotRegisteredError,
    run_tags,
    tag_map,
)
from crudops_local.cloudformation.providers.served_api import ServedApi, ServedStage

log = logging.getLogger("crudops.local.provision")

# template property → `CreateRestApi` parameter
_API_PARAMETERS = {"Description": "description", "ApiKeySourceType": "apiKeySource",
                   "BinaryMediaTypes": "binaryMediaTypes",
                   "MinimumCompressionSize": "minimumCompressionSize",
                   "DisableExecuteApiEndpoint": "disableExecuteApiEndpoint"}
# template property → `CreateStage` parameter
_STAGE_PARAMETERS = {"Description": "description", "Variables": "variables",
                     "TracingEnabled": "tracingEnabled",
                     "CacheClusterEnabled": "cacheClusterEnabled",
                     "CacheClusterSize": "cacheClusterSize"}


def _run_of(client: Any, api_id: str) -> str | None:
    """The run that registered the API `api_id` (None: no such API, or not a run's)."""
    try:
        tags = client.get_rest_api(restApiId=api_id).get("tags") or {}
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NotFoundException":
            return None
        raise
    return str(tags.get(STACK_TAG, "")) or None


class RestApi(ServedApi):
    type = "AWS::ApiGateway::RestApi"
    service = "apigateway"
    answer_id_key = "id"

    def attributes(self, request: CreateRequest, api_id: str) -> dict[str, Any]:
        return {"RootResourceId": short_id(api_id + "/"), "RestApiId": api_id}

    def _registered_as(self, request: CreateRequest, api_id: str, endpoint_id: str) -> None:
        if endpoint_id != api_id:
            log.warning("%s is listed by the endpoint as API %s; the local gateway "
                        "serves it as %s (the endpoint ignores %s)",
                        request.resource.logical_id, endpoint_id, api_id, CUSTOM_ID_TAG)

    def _register(self, request: CreateRequest, api_id: str) -> dict[str, Any]:
        client = request.client(self.service)
        try:
            client.get_rest_api(restApiId=api_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NotFoundException":
                raise
        else:
            # Another run's API on this endpoint: moto would replace it with this one,
            # and the other run's stop would then delete ours.
            raise NotRegisteredError(f"an API with id {api_id} exists there already")
        properties = request.properties
        parameters = {parameter: properties[name] for name, parameter in _API_PARAMETERS.items()
                      if name in properties}
        endpoint = properties.get("EndpointConfiguration") or {}
        if endpoint.get("Types"):
            parameters["endpointConfiguration"] = {"types": list(endpoint["Types"])}
        if "Policy" in properties:
            policy = properties["Policy"]
            parameters["policy"] = policy if isinstance(policy, str) else json.dumps(policy)
        answer: dict[str, Any] = client.create_rest_api(
            name=str(properties.get("Name") or request.resource.logical_id),
            tags=run_tags(request, custom_id=api_id), **parameters)
        return answer

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_rest_api(restApiId=ref)


class RestApiStage(ServedStage):
    type = "AWS::ApiGateway::Stage"
    service = "apigateway"

    def _register(self, request: CreateRequest) -> None:
        properties = request.properties
        client = request.client(self.service)
        api_id = str(properties["RestApiId"])
        if _run_of(client, api_id) != request.pseudo.stack_name:
            # Not registered by this run (the API's own warning said why).
            return
        parameters = {parameter: properties[name]
                      for name, parameter in _STAGE_PARAMETERS.items() if name in properties}
        tags = tag_map(properties.get("Tags"))
        if tags:
            parameters["tags"] = tags
        client.create_stage(restApiId=api_id, stageName=str(properties["StageName"]),
                            deploymentId=str(properties.get("DeploymentId", "")),
                            **parameters)
