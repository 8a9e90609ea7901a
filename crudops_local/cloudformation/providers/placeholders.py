"""The types the local stack plays itself with nothing but an id: no call.

API Gateway's resources, methods, models and authorizers, IAM policies, Lambda's
permissions and event source mappings, WAF and the rest need no resource in the
endpoint: the local gateways, runtime and event source mappings read them from the
template. They are given physical ids so that `Ref` and `Fn::GetAtt` resolve; the ids
are stable (made from the logical id), so a run's URLs and ARNs are the same every
time. The played types an emulator lists (functions, roles, APIs and their stages)
have providers of their own that register a copy there (ADR 0031).
"""

from __future__ import annotations

from crudops_local.cloudformation.providers.base import (
    CreateRequest,
    ResourceProvider,
    short_id,
)
from crudops_local.cloudformation.template import PhysicalResource

# Types whose id is all anything reads (an `Id` and a made-up `Arn`); the gateways
# read the authorizers' properties from the template itself.
IDS_ONLY_TYPES = (
    "AWS::ApiGateway::Account", "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::Deployment", "AWS::ApiGateway::GatewayResponse",
    "AWS::ApiGateway::Method", "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::Resource",
    "AWS::ApiGatewayV2::Authorizer", "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route", "AWS::CloudWatch::Dashboard", "AWS::IAM::Policy",
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
