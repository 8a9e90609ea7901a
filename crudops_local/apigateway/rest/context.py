"""`$context` of one REST API request: ids, times, identity, overrides.

The map is shared by the request template, the response template and a gateway
response of the same request, like API Gateway's; a response template may `#set`
`$context.responseOverride.status` and `$context.responseOverride.header.X`, which the
caller reads back after rendering.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from dataclasses import dataclass

from crudops_local.apigateway.rest.vtl import JavaMap


@dataclass(frozen=True)
class RequestFacts:
    api_id: str
    account_id: str
    stage: str
    domain_name: str
    http_method: str
    path: str
    resource_path: str
    resource_id: str
    source_ip: str
    user_agent: str


def extended_request_id() -> str:
    """An id shaped like API Gateway's extendedRequestId (`Dd2b8GgDoAMF1rw=`)."""
    return base64.b64encode(os.urandom(11)).decode()


def new_context(facts: RequestFacts) -> JavaMap:
    now = time.time()
    return JavaMap(
        requestId=str(uuid.uuid4()),
        extendedRequestId=extended_request_id(),
        requestTimeEpoch=int(now * 1000),
        requestTime=time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        httpMethod=facts.http_method,
        path=facts.path,
        resourcePath=facts.resource_path,
        resourceId=facts.resource_id,
        stage=facts.stage,
        apiId=facts.api_id,
        accountId=facts.account_id,
        domainName=facts.domain_name,
        domainPrefix=facts.domain_name.split(".")[0],
        protocol="HTTP/1.1",
        identity=JavaMap(sourceIp=facts.source_ip, userAgent=facts.user_agent),
        error=JavaMap(message="", messageString='""', responseType="",
                      validationErrorString=""),
        responseOverride=JavaMap(status=None, header=JavaMap()),
        requestOverride=JavaMap(header=JavaMap(), querystring=JavaMap(), path=JavaMap()),
    )
