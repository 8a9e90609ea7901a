"""The types the local stack plays itself: an id and the attributes others read, no call.

IAM, API Gateway, Lambda, WAF and the rest need no resource in the endpoint: the local
gateways, runtime and event source mappings read them from the template. They are
given physical ids so that `Ref` and `Fn::GetAtt` resolve; the ids are stable (made
from the logical id), so a run's URLs and ARNs are the same every time.
"""

from __future__ import annotations

from crudops_local.cloudformation.providers.base import (
    CreateRequest,
    ResourceProvider,
    short_id,
)
from crudops_local.cloudformation.template import PhysicalResource

FUNCTION_NAME_MAX = 64
ROLE_NAME_MAX = 64
ROLE_ID_LENGTH = 21
# Types whose id is all anything reads (an `Id` and a made-up `Arn`); the gateways
# read the authorizers' properties from the template itself.
IDS_ONLY_TYPES = (
    "AWS::ApiGateway::Account", "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::Deployment", "AWS::ApiGateway::GatewayResponse",
    "AWS::ApiGateway::Method", "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage", "AWS::CloudWatch::Dashboard", "AWS::IAM::Policy",
    "AWS::Lambda::EventSourceMapping", "AWS::Lambda::Permission", "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation", "AWS::XRay::ResourcePolicy",
)


def placeholder(request: CreateRequest) -> PhysicalResource:
    """A stable id, with the `Arn` and `Id` attributes a reference may ask for."""
    physical_id = short_id(request.resource.logical_id)
    return PhysicalResource(physical_id, {"Arn": request.arn("local", physical_id),
                                          "Id": physical_id})


class Placeholder(ResourceProvider):
    """Any type the local stack plays with nothing but an id (also the fallback for a
    type no provider is registered for)."""

    def __init__(self, resource_type: str) -> None:
        self.type = resource_type

    def create(self, request: CreateRequest) -> PhysicalResource:
        return placeholder(request)


class LambdaFunction(ResourceProvider):
    """Run by the local runtime (crudops_local/lambda_/); its name and ARN are real-shaped
    because the event source mappings and the gateway address functions by them."""

    type = "AWS::Lambda::Function"

    def create(self, request: CreateRequest) -> PhysicalResource:
        name = request.name(request.properties.get("FunctionName"), FUNCTION_NAME_MAX)
        return PhysicalResource(name, {"Arn": request.arn("lambda", f"function:{name}")})


class IamRole(ResourceProvider):
    """Not assumed locally: the gateway and the functions sign as the endpoint does."""

    type = "AWS::IAM::Role"

    def create(self, request: CreateRequest) -> PhysicalResource:
        name = request.name(request.properties.get("RoleName"), ROLE_NAME_MAX)
        pseudo = request.pseudo
        arn = f"arn:{pseudo.partition}:iam::{pseudo.account_id}:role/{name}"
        return PhysicalResource(name, {"Arn": arn,
                                       "RoleId": short_id(name, ROLE_ID_LENGTH).upper()})


class RestApi(ResourceProvider):
    """Served by the local REST gateway (crudops_local/apigateway/rest/)."""

    type = "AWS::ApiGateway::RestApi"

    def create(self, request: CreateRequest) -> PhysicalResource:
        api_id = short_id(request.resource.logical_id)
        return PhysicalResource(api_id, {"RootResourceId": short_id(api_id + "/"),
                                         "RestApiId": api_id})


class WebSocketApi(ResourceProvider):
    """Served by the local WebSocket gateway; functions' execute-api URLs of it are
    pointed at the local gateway when their environment is built."""

    type = "AWS::ApiGatewayV2::Api"

    def create(self, request: CreateRequest) -> PhysicalResource:
        api_id = short_id(request.resource.logical_id)
        pseudo = request.pseudo
        endpoint = f"wss://{api_id}.execute-api.{pseudo.region}.{pseudo.url_suffix}"
        return PhysicalResource(api_id, {"ApiEndpoint": endpoint, "ApiId": api_id})
