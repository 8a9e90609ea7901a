"""API Gateway's own answers (gateway responses), rendered for the error that ended a
request (one class per response type: crudops_local/apigateway/exceptions.py).

A response type customized in the template (`AWS::ApiGateway::GatewayResponse`) is
rendered with its template and `$context.error.*`; otherwise `DEFAULT_4XX` /
`DEFAULT_5XX` by the status class; otherwise API Gateway's built-in
`{"message":$context.error.messageString}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from crudops_local.apigateway.exceptions import GatewayResponseError
from crudops_local.apigateway.rest import vtl
from crudops_local.apigateway.rest.mapping import choose_template, method_response_headers
from crudops_local.apigateway.rest.routes import GatewayResponse

BUILT_IN_TEMPLATE = '{"message":$context.error.messageString}'


@dataclass(frozen=True)
class GatewayAnswer:
    status: int
    body: bytes
    headers: dict[str, str]


def render(
    error: GatewayResponseError,
    responses: Mapping[str, GatewayResponse],
    context: vtl.JavaMap,
    *,
    accept: str | None = None,
) -> GatewayAnswer:
    """The answer to a request that `error` ended: the template's response for its
    type (or for DEFAULT_4XX / DEFAULT_5XX), else API Gateway's built-in one."""
    response_type, status = error.response_type, error.status
    configured = responses.get(response_type) or responses.get(error.fallback_type())
    context["error"] = vtl.JavaMap(
        message=error.message,
        messageString=json.dumps(error.message),
        responseType=response_type,
        # Templates put it in quotes: escaped as a JSON string's content.
        validationErrorString=json.dumps(error.validation_error, ensure_ascii=False)[1:-1],
    )
    template = choose_template(configured.response_templates, accept) if configured else None
    content_type, text = template or ("application/json", BUILT_IN_TEMPLATE)
    if configured and configured.response_type == response_type and configured.status_code:
        status = int(configured.status_code)
    body = vtl.render(text, input_=vtl.Input("", {}), context=context)
    headers = {"Content-Type": content_type, "x-amzn-ErrorType": error.error_type}
    if configured:
        headers.update(method_response_headers(
            configured.response_parameters, {}, "gatewayresponse.header."))
    return GatewayAnswer(status, body.encode(), headers)

