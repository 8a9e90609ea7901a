"""Calling the AWS service of a `Type: AWS` integration, as API Gateway does.

The integration URI says which service and how: `arn:aws:apigateway:{region}:{service}:
path/{path}` sends the rendered body to that path of the service endpoint;
`...:action/{Action}` calls an action, as `Action=` in the query string for the query
protocol (SNS, SQS-query) or as `X-Amz-Target` for JSON-protocol services (DynamoDB,
...). The request is signed with SigV4 for the URI's service, which is also how a
single-endpoint emulator such as moto tells the services apart.

The HTTP status of the service's answer is what integration responses select on; a
transport failure or timeout is the caller's INTEGRATION_FAILURE / INTEGRATION_TIMEOUT.

API Gateway signs with the integration's role; the local gateway signs with the
credentials of the stack's `AwsEndpoint` instead (the role is not assumed): against
moto any credentials do, against a real account that identity needs the permissions
the role would have had.
"""

from __future__ import annotations

import re
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from crudops_local.aws.endpoint import AwsEndpoint

# Services whose actions are JSON-protocol calls: (X-Amz-Target prefix, content type).
JSON_PROTOCOL_SERVICES: dict[str, tuple[str, str]] = {
    "dynamodb": ("DynamoDB_20120810", "application/x-amz-json-1.0"),
    "states": ("AWSStepFunctions", "application/x-amz-json-1.0"),
    "kinesis": ("Kinesis_20131202", "application/x-amz-json-1.1"),
    "events": ("AWSEvents", "application/x-amz-json-1.1"),
    "firehose": ("Firehose_20150804", "application/x-amz-json-1.1"),
}

_URI = re.compile(
    r"^arn:[^:]+:apigateway:(?P<region>[^:]*):(?P<service>[^:]+):"
    r"(?P<kind>path|action)/(?P<rest>.*)$"
)


class IntegrationConfigurationError(ValueError):
    """The integration URI is not one the local gateway can call."""


class IntegrationFailure(RuntimeError):
    """The service could not be reached."""


class IntegrationTimeout(IntegrationFailure):
    pass


@dataclass(frozen=True)
class ServiceCall:
    """An HTTP request to an AWS service, before signing."""

    service: str
    region: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class ServiceAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


def service_call(
    uri: str,
    http_method: str,
    body: bytes,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    path_parameters: Mapping[str, str],
    default_region: str,
) -> ServiceCall:
    """What `uri` asks for: which service, path, target or action, with which headers."""
    match = _URI.match(uri)
    if match is None:
        raise IntegrationConfigurationError(f"not an AWS service integration URI: {uri!r}")
    service = match["service"].split(".")[0]
    region = match["region"] or default_region
    call_headers = dict(headers)
    call_query = dict(query)
    if match["kind"] == "path":
        path = match["rest"]
        for name, value in path_parameters.items():
            path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
        path = "/" + path.lstrip("/")
    else:
        action = match["rest"].split("&")[0]
        path = "/"
        if service in JSON_PROTOCOL_SERVICES:
            prefix, content_type = JSON_PROTOCOL_SERVICES[service]
            call_headers.setdefault("X-Amz-Target", f"{prefix}.{action}")
            if not any(k.lower() == "content-type" for k in call_headers):
                call_headers["Content-Type"] = content_type
        else:
            call_query["Action"] = action
    return ServiceCall(service, region, http_method, path, call_query, call_headers, body)


def signed(call: ServiceCall, base_url: str, credentials: ReadOnlyCredentials) -> AWSRequest:
    url = base_url + call.path
    if call.query:
        url += "?" + urllib.parse.urlencode(call.query)
    request = AWSRequest(method=call.method, url=url, data=call.body, headers=call.headers)
    SigV4Auth(credentials, call.service, call.region).add_auth(request)
    return request


# Creating an SSL context costs milliseconds; one serves every client.
_SSL_CONTEXT = ssl.create_default_context()


async def send(
    call: ServiceCall, aws: AwsEndpoint, credentials: ReadOnlyCredentials, timeout_seconds: float
) -> ServiceAnswer:
    request = signed(call, aws.service_url(call.service), credentials)
    try:
        async with httpx.AsyncClient(verify=_SSL_CONTEXT, timeout=timeout_seconds) as client:
            response = await client.request(
                request.method,
                request.url,
                content=call.body,
                headers={k: str(v) for k, v in request.headers.items()},
            )
    except httpx.TimeoutException as exc:
        raise IntegrationTimeout(f"{call.service} did not answer in {timeout_seconds:g} s") from exc
    except httpx.HTTPError as exc:
        raise IntegrationFailure(f"{call.service}: {type(exc).__name__}: {exc}") from exc
    return ServiceAnswer(response.status_code, dict(response.headers), response.content)
