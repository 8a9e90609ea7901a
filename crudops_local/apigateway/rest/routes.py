"""The REST API's route table, read from the template's `AWS::ApiGateway::*` resources.

Resources form a tree through `ParentId` (the root is the RestApi's
`RootResourceId`); each Method hangs off one Resource. The structure (which resource
belongs to which API, which validator and model a method uses) is read from the
logical ids in `Ref`/`Fn::GetAtt`, so it does not depend on what the provisioner
created; the values a request needs (topic ARN in a template, table name, URI) are
resolved with the `Resolver`.

Matching follows API Gateway: a literal path part beats a `{param}`, which beats a
greedy `{param+}`; a path with no resource, or a resource without the method (and no
`ANY`), is `MISSING_AUTHENTICATION_TOKEN` (403) on an API without authorizers.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from crudops_local.cloudformation.template import Resolver, Template, TemplateError


@dataclass(frozen=True)
class IntegrationResponse:
    status_code: str
    selection_pattern: str | None
    response_templates: dict[str, str]
    response_parameters: dict[str, str]


@dataclass(frozen=True)
class Integration:
    type: str
    uri: str
    http_method: str
    request_templates: dict[str, str]
    request_parameters: dict[str, str]
    responses: tuple[IntegrationResponse, ...]
    passthrough_behavior: str
    timeout_seconds: float


@dataclass(frozen=True)
class Validator:
    body: bool
    parameters: bool


@dataclass(frozen=True)
class Method:
    logical_id: str
    http_method: str
    resource_path: str
    resource_id: str
    request_parameters: dict[str, bool]
    request_models: dict[str, dict[str, Any]]
    validator: Validator
    integration: Integration
    # "NONE", "COGNITO_USER_POOLS", ...; and the logical id of its `AuthorizerId`
    authorization_type: str = "NONE"
    authorizer_id: str | None = None


@dataclass(frozen=True)
class GatewayResponse:
    response_type: str
    status_code: str | None
    response_templates: dict[str, str]
    response_parameters: dict[str, str]


@dataclass
class _Node:
    """One path part of the resource tree."""

    part: str
    resource_id: str
    children: list[_Node] = field(default_factory=list)
    methods: dict[str, Method] = field(default_factory=dict)

    @property
    def parameter(self) -> str | None:
        if self.part.startswith("{") and self.part.endswith("}"):
            return self.part[1:-1].rstrip("+")
        return None

    @property
    def greedy(self) -> bool:
        return self.part.endswith("+}")


@dataclass(frozen=True)
class RouteMatch:
    method: Method | None
    path_parameters: dict[str, str]
    resource_found: bool


INTEGRATION_TIMEOUT_DEFAULT_MS = 29_000


def _logical_target(value: Any) -> str | None:
    """The logical id a `Ref` / `Fn::GetAtt` points at, unresolved."""
    if isinstance(value, dict) and len(value) == 1:
        (key, argument), = value.items()
        if key == "Ref" and isinstance(argument, str):
            return argument
        if key == "Fn::GetAtt":
            return str(argument.split(".", 1)[0] if isinstance(argument, str) else argument[0])
    return None


class RestApi:
    """One `AWS::ApiGateway::RestApi`: its resource tree, gateway responses and stages."""

    def __init__(self, template: Template, resolver: Resolver, api_logical_id: str) -> None:
        self.logical_id = api_logical_id
        self.api_id = physical_id(resolver, api_logical_id)
        resources = template.resources
        belongs = [
            r for r in resources.values()
            if _logical_target(r.properties.get("RestApiId")) == api_logical_id
        ]
        self.root = _Node("", "/")
        nodes: dict[str, _Node] = {}
        paths: dict[str, str] = {}

        def node_of(logical_id: str) -> _Node:
            if logical_id in nodes:
                return nodes[logical_id]
            resource = resources[logical_id]
            parent_id = _logical_target(resource.properties.get("ParentId"))
            if parent_id is None:
                raise TemplateError(f"{logical_id}: ParentId is not a reference")
            parent = self.root if parent_id == api_logical_id else node_of(parent_id)
            node = _Node(str(resource.properties["PathPart"]), logical_id)
            parent.children.append(node)
            nodes[logical_id] = node
            paths[logical_id] = (paths.get(parent_id, "") if parent is not self.root
                                 else "") + "/" + node.part
            return node

        for resource in belongs:
            if resource.type == "AWS::ApiGateway::Resource":
                node_of(resource.logical_id)
        models = {
            r.logical_id: dict(resolver.resolve(r.properties.get("Schema", {})))
            for r in belongs if r.type == "AWS::ApiGateway::Model"
        }
        validators = {
            r.logical_id: Validator(
                body=_true(r.properties.get("ValidateRequestBody")),
                parameters=_true(r.properties.get("ValidateRequestParameters")),
            )
            for r in belongs if r.type == "AWS::ApiGateway::RequestValidator"
        }
        for resource in belongs:
            if resource.type != "AWS::ApiGateway::Method":
                continue
            properties = resource.properties
            target = _logical_target(properties.get("ResourceId"))
            node = self.root if target == api_logical_id or target is None else node_of(target)
            method = Method(
                logical_id=resource.logical_id,
                http_method=str(properties["HttpMethod"]).upper(),
                resource_path=paths.get(node.resource_id, "/"),
                resource_id=physical_id(resolver, node.resource_id),
                request_parameters={
                    k: _true(v) for k, v in properties.get("RequestParameters", {}).items()
                },
                request_models={
                    content_type: models[model_id]
                    for content_type, ref in properties.get("RequestModels", {}).items()
                    if (model_id := _logical_target(ref) or str(ref)) in models
                },
                validator=validators.get(
                    _logical_target(properties.get("RequestValidatorId")) or "",
                    Validator(body=False, parameters=False),
                ),
                integration=_integration(resolver, properties.get("Integration", {})),
                authorization_type=str(properties.get("AuthorizationType", "NONE")).upper(),
                authorizer_id=_logical_target(properties.get("AuthorizerId")),
            )
            node.methods[method.http_method] = method
        self.gateway_responses = {
            str(r.properties["ResponseType"]): GatewayResponse(
                response_type=str(r.properties["ResponseType"]),
                status_code=(str(r.properties["StatusCode"])
                             if "StatusCode" in r.properties else None),
                response_templates=dict(resolver.resolve(
                    r.properties.get("ResponseTemplates", {}))),
                response_parameters=dict(resolver.resolve(
                    r.properties.get("ResponseParameters", {}))),
            )
            for r in belongs if r.type == "AWS::ApiGateway::GatewayResponse"
        }
        self.stages = {
            str(r.properties["StageName"]): (r.logical_id, dict(resolver.resolve(
                r.properties.get("Variables", {}))))
            for r in belongs if r.type == "AWS::ApiGateway::Stage"
        }

    def methods(self) -> Iterator[Method]:
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield from node.methods.values()
            stack.extend(node.children)

    def match(self, http_method: str, raw_path: str) -> RouteMatch:
        """The method for `raw_path` (still percent-encoded, relative to the stage)."""
        parts = [urllib.parse.unquote(p) for p in raw_path.strip("/").split("/") if p]
        found = _walk(self.root, parts, {})
        if found is None:
            return RouteMatch(None, {}, resource_found=False)
        node, parameters = found
        method = node.methods.get(http_method.upper()) or node.methods.get("ANY")
        return RouteMatch(method, parameters, resource_found=True)


def _walk(
    node: _Node, parts: list[str], bound: dict[str, str]
) -> tuple[_Node, dict[str, str]] | None:
    if not parts:
        return node, bound
    head, rest = parts[0], parts[1:]
    ranked = sorted(node.children, key=lambda c: (c.parameter is not None, c.greedy))
    for child in ranked:
        if child.greedy and child.parameter is not None:
            return child, {**bound, child.parameter: "/".join(parts)}
        if child.parameter is None and child.part != head:
            continue
        extra = {child.parameter: head} if child.parameter is not None else {}
        found = _walk(child, rest, {**bound, **extra})
        if found is not None:
            return found
    return None


def physical_id(resolver: Resolver, logical_id: str) -> str:
    """The resource's physical id, or its logical id when it was not given one.

    Only `$context` values (apiId, resourceId) use these, so a provisioner that skips
    API Gateway's own resources still gets a working gateway.
    """
    try:
        return str(resolver.resolve({"Ref": logical_id}))
    except TemplateError:
        return logical_id


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _integration(resolver: Resolver, raw: dict[str, Any]) -> Integration:
    def resolved(key: str, default: Any) -> Any:
        return resolver.resolve(raw[key]) if key in raw else default

    return Integration(
        type=str(resolved("Type", "MOCK")).upper(),
        uri=str(resolved("Uri", "")),
        http_method=str(resolved("IntegrationHttpMethod", "POST")).upper(),
        request_templates=dict(resolved("RequestTemplates", {})),
        request_parameters=dict(resolved("RequestParameters", {})),
        responses=tuple(
            IntegrationResponse(
                status_code=str(response["StatusCode"]),
                selection_pattern=response.get("SelectionPattern") or None,
                response_templates=dict(response.get("ResponseTemplates", {})),
                response_parameters=dict(response.get("ResponseParameters", {})),
            )
            for response in resolved("IntegrationResponses", [])
        ),
        passthrough_behavior=str(resolved("PassthroughBehavior", "WHEN_NO_MATCH")).upper(),
        timeout_seconds=int(resolved("TimeoutInMillis", INTEGRATION_TIMEOUT_DEFAULT_MS)) / 1000,
    )


def rest_apis(template: Template, resolver: Resolver) -> list[RestApi]:
    return [RestApi(template, resolver, r.logical_id)
            for r in template.of_type("AWS::ApiGateway::RestApi")]
