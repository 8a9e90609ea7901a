"""Paths the REST API fuzz (tests/e2e/test_openapi_fuzz.py) found the local gateway
answering unlike API Gateway, each kept as a regression test."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from tests.integration.local.conftest import Gateway
from tests.integration.local.gateway_support import client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("item_id", ["a\nb", "\n", "x\r\ny", "tab\tand\x0bvt"])
def test_an_item_id_with_a_line_break_is_routed_like_any_other(
        gateway: Gateway, item_id: str) -> None:
    # GIVEN an id whose percent-encoding holds a newline (a path segment like any other
    # to API Gateway; it used to fall through every route to a plain-text 404)
    path = "/v1/items/" + urllib.parse.quote(item_id, safe="")
    # WHEN it is read
    response = gateway.http().get(path)
    # THEN the method runs and the command carries the id as sent
    assert response.status_code == 202, (response.status_code, response.text)
    request_id = response.json()["requestId"]
    sqs = client(gateway.endpoint, "sqs")
    queue = gateway.path.queue_by_operation["get"]
    found = []
    for _ in range(10):
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", []):
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            command = json.loads(message["Body"])
            if command["requestId"] == request_id:
                found.append(command)
        if found:
            break
    assert [urllib.parse.unquote_plus(c["itemId"]) for c in found] == [item_id]


def test_a_path_outside_every_stage_with_a_line_break_is_the_json_forbidden(
        gateway: Gateway) -> None:
    response = gateway.http().get("/elsewhere/a%0Ab")
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_a_method_no_resource_has_is_missing_authentication_token_in_json(
        gateway: Gateway, method: str) -> None:
    # GIVEN a method API Gateway has no resource method for (it used to be Starlette's
    # plain-text 405, before the handler saw it)
    response = gateway.http().request(method, "/v1/items")
    # THEN it is the gateway response of any method a resource lacks
    assert response.status_code == 403, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "MISSING_AUTHENTICATION_TOKEN"
    outside = gateway.http().request(method, "/elsewhere")
    assert (outside.status_code, outside.json()) == (403, {"message": "Forbidden"})
