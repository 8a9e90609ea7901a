"""API Gateway's own answers (gateway responses) and their default status codes.

A response type customized in the template (`AWS::ApiGateway::GatewayResponse`) is
rendered with its template and `$context.error.*`; otherwise `DEFAULT_4XX` /
`DEFAULT_5XX` by the status class; otherwise API Gateway's built-in
`{"message":$context.error.messageString}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from crudops_local.apigateway.rest import vtl
from crudops_local.apigateway.rest.mapping import choose_template, method_response_headers
from crudops_local.apigateway.rest.routes import GatewayResponse

DEFAULT_STATUS: dict[str, int] = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "BAD_REQUEST_BODY": 400,
    "BAD_REQUEST_PARAMETERS": 400,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 500,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}
BUILT_IN_TEMPLATE = '{"message":$context.error.messageString}'


@dataclass(frozen=True)
class GatewayAnswer:
    status: int
    body: bytes
    headers: dict[str, str]


def render(
    response_type: str,
    message: str,
    responses: Mapping[str, GatewayResponse],
    context: vtl.JavaMap,
    *,
    accept: str | None = None,
    validation_error: str = "",
) -> GatewayAnswer:
    status = DEFAULT_STATUS.get(response_type, 500)
    configured = responses.get(response_type) or responses.get(
        "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
    )
    context["error"] = vtl.JavaMap(
        message=message,
        messageString=json.dumps(message),
        responseType=response_type,
        # Templates put it in quotes: escaped as a JSON string's content.
        validationErrorString=json.dumps(validation_error, ensure_ascii=False)[1:-1],
    )
    template = choose_template(configured.response_templates, accept) if configured else None
    content_type, text = template or ("application/json", BUILT_IN_TEMPLATE)
    if configured and configured.response_type == response_type and configured.status_code:
        status = int(configured.status_code)
    body = vtl.render(text, input_=vtl.Input("", {}), context=context)
    headers = {"Content-Type": content_type, "x-amzn-ErrorType": _error_type(response_type)}
    if configured:
        headers.update(method_response_headers(
            configured.response_parameters, {}, "gatewayresponse.header."))
    return GatewayAnswer(status, body.encode(), headers)


def _error_type(response_type: str) -> str:
    names = {
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "BAD_REQUEST_BODY": "BadRequestException",
        "BAD_REQUEST_PARAMETERS": "BadRequestException",
        "REQUEST_TOO_LARGE": "RequestTooLargeException",
        "UNSUPPORTED_MEDIA_TYPE": "UnsupportedMediaTypeException",
    }
    return names.get(response_type, "InternalServerErrorException")
