"""Parameter mappings and integration-response selection.

`RequestParameters` of an integration map into the integration request
(`integration.request.{header,querystring,path}.X`) from a static `'value'` or from
`method.request.{path,querystring,header}.Y`; `ResponseParameters` map into the
method response (`method.response.header.X`) from a static value or
`integration.response.header.Y`. Body-path sources (`...body.JSONPath`) are not
supported and are skipped.

An integration response is chosen by matching its `SelectionPattern` (a Java regular
expression, matched against the whole string) with the service's HTTP status code;
the response without a pattern is the default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from crudops_local.apigateway.rest.routes import IntegrationResponse


@dataclass
class IntegrationRequestParameters:
    header: dict[str, str] = field(default_factory=dict)
    querystring: dict[str, str] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)


def _source_value(source: str, sources: Mapping[str, Mapping[str, str]], prefix: str) -> str | None:
    """A static `'value'` or the value of `{prefix}{kind}.{name}` in `sources`."""
    if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
        return source[1:-1]
    if not source.startswith(prefix):
        return None
    kind, _, name = source[len(prefix):].partition(".")
    values = sources.get(kind, {})
    if kind == "header":
        return next((v for k, v in values.items() if k.lower() == name.lower()), None)
    return values.get(name)


def integration_request_parameters(
    mappings: Mapping[str, str], method_parameters: Mapping[str, Mapping[str, str]]
) -> IntegrationRequestParameters:
    result = IntegrationRequestParameters()
    for target, source in mappings.items():
        kind, _, name = target.removeprefix("integration.request.").partition(".")
        value = _source_value(source, method_parameters, "method.request.")
        if value is None or kind not in ("header", "querystring", "path"):
            continue
        getattr(result, kind)[name] = value
    return result


def method_response_headers(
    mappings: Mapping[str, str], integration_headers: Mapping[str, str], prefix: str
) -> dict[str, str]:
    """Headers of `mappings` (`{prefix}X` targets) from static or integration values."""
    headers: dict[str, str] = {}
    for target, source in mappings.items():
        if not target.startswith(prefix):
            continue
        value = _source_value(source, {"header": integration_headers}, "integration.response.")
        if value is not None:
            headers[target[len(prefix):]] = value
    return headers


def select_response(
    responses: tuple[IntegrationResponse, ...], status: int
) -> IntegrationResponse | None:
    selector = str(status)
    default: IntegrationResponse | None = None
    for response in responses:
        if response.selection_pattern is None:
            default = default or response
        elif re.fullmatch(response.selection_pattern, selector, re.DOTALL):
            return response
    return default


def choose_template(templates: Mapping[str, str], accept: str | None) -> tuple[str, str] | None:
    """(content type, template) for the client's Accept header, else application/json, else
    the first template.
    """
    if not templates:
        return None
    for candidate in (accept or "").split(","):
        media = candidate.split(";")[0].strip().lower()
        for content_type, template in templates.items():
            if content_type.lower() == media:
                return content_type, template
    if "application/json" in templates:
        return "application/json", templates["application/json"]
    content_type = next(iter(templates))
    return content_type, templates[content_type]
