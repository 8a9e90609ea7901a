"""One REST API request, in the order API Gateway processes it.

1. WAF (the web ACL associated with the stage) sees the body size;
2. API Gateway's payload limit (10 MB) → REQUEST_TOO_LARGE;
3. route → MISSING_AUTHENTICATION_TOKEN (403) when no resource or method matches;
4. the stage's throttling → THROTTLED (429);
5. the method's Cognito authorizer → UNAUTHORIZED (401), else the token's claims in
   `$context.authorizer.claims`; a method whose authorizer is not emulated → 500;
6. request validator: parameters → BAD_REQUEST_PARAMETERS, body → BAD_REQUEST_BODY;
7. request template by Content-Type (PassthroughBehavior decides when there is none
   → UNSUPPORTED_MEDIA_TYPE);
8. the integration (AWS service call, or MOCK);
9. integration response selected by status, its template rendered, overrides applied.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from crudops_local.apigateway.exceptions import (
    ApiConfigurationError,
    AuthorizerConfigurationError,
    GatewayResponseError,
    IntegrationFailureError,
    IntegrationTimeoutError,
    MissingAuthenticationTokenError,
    RequestTooLargeError,
    ThrottledError,
    UnsupportedMediaTypeError,
)
from crudops_local.apigateway.rest import gateway_responses, integrations, validation, vtl
from crudops_local.apigateway.rest.authorizers import COGNITO, CognitoAuthorizer, claims_map
from crudops_local.apigateway.rest.context import RequestFacts, new_context
from crudops_local.apigateway.rest.mapping import (
    choose_template,
    integration_request_parameters,
    method_response_headers,
    select_response,
)
from crudops_local.apigateway.rest.routes import Method, RestApi
from crudops_local.apigateway.rest.throttling import StageThrottle
from crudops_local.apigateway.rest.waf import WebAcl
from crudops_local.aws.endpoint import AwsEndpoint

log = logging.getLogger("crudops.local.rest")

PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024
DEFAULT_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class StageConfig:
    api: RestApi
    stage: str
    stage_variables: dict[str, str]
    web_acl: WebAcl | None
    account_id: str
    public_host: str
    throttle: StageThrottle = field(default_factory=lambda: StageThrottle(None, {}))
    # the API's Cognito authorizers by logical id (a method's `AuthorizerId`)
    authorizers: Mapping[str, CognitoAuthorizer] = field(default_factory=dict)


async def _read_body(request: Request) -> tuple[bytes, bool]:
    """The body, and whether it exceeded the payload limit (reading stops there)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > PAYLOAD_LIMIT_BYTES:
            return b"".join(chunks), True
    return b"".join(chunks), False


def _headers(request: Request) -> dict[str, str]:
    # ASGI lowercases header names; API Gateway keeps the client's spelling, which is
    # usually the canonical one.
    return {"-".join(p.capitalize() for p in k.split("-")): v for k, v in request.headers.items()}


def _query(request: Request) -> dict[str, str]:
    # For a repeated parameter, $input.params() sees the last value.
    return dict(urllib.parse.parse_qsl(request.url.query, keep_blank_values=True))


class RestStageHandler:
    def __init__(self, config: StageConfig, aws: AwsEndpoint) -> None:
        self.config = config
        self.aws = aws

    async def __call__(self, request: Request) -> Response:
        config = self.config
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        stage_path = raw_path.decode("latin-1").split("?")[0][len(config.stage) + 1:] or "/"
        headers = _headers(request)
        match = config.api.match(request.method, stage_path)
        method = match.method
        facts = RequestFacts(
            api_id=config.api.api_id,
            account_id=config.account_id,
            stage=config.stage,
            domain_name=config.public_host,
            http_method=request.method,
            path=urllib.parse.unquote(raw_path.decode("latin-1")),
            resource_path=method.resource_path if method else urllib.parse.unquote(stage_path),
            resource_id=method.resource_id if method else "",
            source_ip=request.client.host if request.client else "127.0.0.1",
            user_agent=headers.get("User-Agent", ""),
        )
        context = new_context(facts)
        body, too_large = await _read_body(request)
        if config.web_acl is not None:
            length = max(len(body), int(request.headers.get("content-length") or 0))
            blocked = config.web_acl.evaluate(length)
            if blocked is not None:
                return Response(blocked.body, blocked.status, headers={
                    **blocked.headers, "Content-Type": blocked.content_type})
        try:
            if too_large:
                raise RequestTooLargeError()
            if method is None:
                raise MissingAuthenticationTokenError()
            if not config.throttle.admit(method.resource_path, method.http_method):
                raise ThrottledError()
            await self._authorize(method, headers, context)
            parameters = {"path": match.path_parameters, "querystring": _query(request),
                          "header": headers}
            self._validate(method, parameters, body, headers)
            response = await self._integrate(method, parameters, body, headers, context)
        except GatewayResponseError as rejected:
            answer = gateway_responses.render(rejected, config.api.gateway_responses, context,
                                              accept=headers.get("Accept"))
            response = Response(answer.body, answer.status, headers=answer.headers)
        response.headers["x-amzn-RequestId"] = str(context["requestId"])
        response.headers["x-amz-apigw-id"] = str(context["extendedRequestId"])
        return response

    async def _authorize(self, method: Method, headers: dict[str, str],
                         context: vtl.JavaMap) -> None:
        if method.authorization_type == "NONE":
            return
        authorizer = self.config.authorizers.get(method.authorizer_id or "")
        if method.authorization_type != COGNITO or authorizer is None:
            log.error("%s %s: authorization %s (authorizer %s) is not emulated locally",
                      method.http_method, method.resource_path, method.authorization_type,
                      method.authorizer_id)
            raise AuthorizerConfigurationError()
        caller = await run_in_threadpool(authorizer.authorize, headers)
        context["authorizer"] = vtl.JavaMap(claims=vtl.JavaMap(claims_map(caller.claims)))

    def _validate(self, method: Method, parameters: dict[str, dict[str, str]], body: bytes,
                  headers: dict[str, str]) -> None:
        failure: GatewayResponseError | None = None
        if method.validator.parameters:
            failure = validation.missing_parameters(method.request_parameters, parameters)
        if failure is None and method.validator.body:
            schema = method.request_models.get(_content_type(headers))
            if schema is not None:
                failure = validation.invalid_body(schema, body)
        if failure is not None:
            raise failure

    async def _integrate(self, method: Method, parameters: dict[str, dict[str, str]],
                         body: bytes, headers: dict[str, str], context: vtl.JavaMap) -> Response:
        integration = method.integration
        content_type = _content_type(headers)
        templates = integration.request_templates
        template = templates.get(content_type)
        if template is None and (
            integration.passthrough_behavior == "NEVER"
            or (integration.passthrough_behavior == "WHEN_NO_TEMPLATES" and templates)
        ):
            raise UnsupportedMediaTypeError()
        text_body = body.decode("utf-8", errors="replace")
        stage_variables = self.config.stage_variables
        try:
            request_body = (vtl.render(template, input_=vtl.Input(text_body, parameters),
                                       context=context, stage_variables=stage_variables)
                            if template is not None else text_body)
        except vtl.MappingTemplateError as exc:
            log.error("%s %s: request template failed: %s", method.http_method,
                      method.resource_path, exc)
            raise ApiConfigurationError() from exc
        status, answer_headers, answer_body = await self._call(
            method, request_body, parameters)
        selected = select_response(integration.responses, status)
        if selected is None:
            log.error("%s %s: no integration response matches status %s and none is the "
                      "default", method.http_method, method.resource_path, status)
            raise ApiConfigurationError()
        chosen = choose_template(selected.response_templates, headers.get("Accept"))
        response_type = chosen[0] if chosen else "application/json"
        try:
            rendered = (vtl.render(chosen[1], input_=vtl.Input(
                answer_body.decode("utf-8", errors="replace"), parameters), context=context,
                stage_variables=stage_variables).encode() if chosen else answer_body)
        except vtl.MappingTemplateError as exc:
            log.error("%s %s: response template failed: %s", method.http_method,
                      method.resource_path, exc)
            raise ApiConfigurationError() from exc
        override = context["responseOverride"]
        status_code = int(override["status"] or selected.status_code)
        response_headers = {"Content-Type": response_type}
        response_headers.update(method_response_headers(
            selected.response_parameters, answer_headers, "method.response.header."))
        response_headers.update({k: str(v) for k, v in override["header"].items()})
        return Response(rendered, status_code, headers=response_headers)

    async def _call(self, method: Method, request_body: str,
                    parameters: dict[str, dict[str, str]]) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of the integration."""
        integration = method.integration
        if integration.type == "MOCK":
            try:
                status = int(json.loads(request_body or "{}").get("statusCode", 200))
            except (ValueError, AttributeError):
                status = 200
            return status, {}, b""
        if integration.type != "AWS":
            log.error("%s %s: integration type %s is not supported locally",
                      method.http_method, method.resource_path, integration.type)
            raise ApiConfigurationError()
        mapped = integration_request_parameters(integration.request_parameters, parameters)
        try:
            call = integrations.service_call(
                integration.uri, integration.http_method, request_body.encode(),
                mapped.header, mapped.querystring, mapped.path, self.aws.region,
            )
            credentials = await run_in_threadpool(self.aws.credentials)
            answer = await integrations.send(
                call, self.aws, credentials, integration.timeout_seconds)
        except integrations.IntegrationConfigurationError as exc:
            log.error("%s %s: %s", method.http_method, method.resource_path, exc)
            raise ApiConfigurationError() from exc
        except integrations.IntegrationTimeout as exc:
            log.error("%s %s: %s", method.http_method, method.resource_path, exc)
            raise IntegrationTimeoutError() from exc
        except integrations.IntegrationFailure as exc:
            log.error("%s %s: %s", method.http_method, method.resource_path, exc)
            raise IntegrationFailureError() from exc
        if answer.status >= 300:
            log.warning("%s %s: %s answered %s: %s", method.http_method, method.resource_path,
                        call.service, answer.status, answer.body[:500])
        return answer.status, answer.headers, answer.body


def _content_type(headers: dict[str, str]) -> str:
    value = headers.get("Content-Type", "")
    return value.split(";")[0].strip().lower() or DEFAULT_CONTENT_TYPE
