"""The running stack's AWS endpoint lists the functions and APIs it serves (ADR 0031):
what `aws lambda list-functions` and `aws apigateway get-rest-apis` show after
`eval "$(crudops local env)"` is what the runtime runs and the gateway serves."""

from __future__ import annotations

import urllib.parse

import pytest

from crudops_local.run import LocalStack
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e


def test_the_endpoint_lists_the_functions_the_runtime_runs(
        local_stack: LocalStack, api: Api) -> None:
    pages = api.aws("lambda").get_paginator("list_functions").paginate()
    listed = {f["FunctionArn"]: f for page in pages for f in page["Functions"]}
    assert set(listed) == set(local_stack.pools)
    for arn, pool in local_stack.pools.items():
        assert listed[arn]["FunctionName"] == pool.spec.name
        assert listed[arn]["Handler"] == pool.spec.handler


def test_the_urls_built_from_the_listed_apis_are_the_ones_the_gateway_serves(
        local_stack: LocalStack, api: Api) -> None:
    assert local_stack.endpoints is not None
    apigateway, apigatewayv2 = api.aws("apigateway"), api.aws("apigatewayv2")
    (rest_api,) = apigateway.get_rest_apis()["items"]
    assert rest_api["id"] == api.ref("RestApi", "AWS::ApiGateway::RestApi")
    (stage,) = apigateway.get_stages(restApiId=rest_api["id"])["item"]
    rest_url = urllib.parse.urlsplit(local_stack.endpoints.rest_url)
    # an execute-api URL's path is the stage: the gateway serves the listed one
    assert rest_url.path == f"/{stage['stageName']}"
    answer = api.http.get(f"/requests/{'0' * 8}")
    assert answer.status_code == 404, answer.text  # routed by the API, not a missing stage

    (ws_api,) = apigatewayv2.get_apis()["Items"]
    assert ws_api["ProtocolType"] == "WEBSOCKET"
    (ws_stage,) = apigatewayv2.get_stages(ApiId=ws_api["ApiId"])["Items"]
    assert urllib.parse.urlsplit(local_stack.endpoints.ws_url).path == \
        f"/{ws_stage['StageName']}"
