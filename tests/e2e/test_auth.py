"""The local stack is secure by default, from the template: anonymous callers are
refused on every REST route and on `$connect`, a caller sees and changes only its own
items, outcomes and subscriptions, and the stage throttles past its burst."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from crudops_local.run import LocalStack, LocalStackOptions
from crudops_local.telemetry import ObservabilitySettings
from tests.e2e.conftest import USER_A, Api, api_of, id_token, receive_notification

pytestmark = pytest.mark.e2e

ROUTES = (("POST", "/items"), ("GET", "/items"), ("GET", "/items/some-id"),
          ("PUT", "/items/some-id"), ("DELETE", "/items/some-id"),
          ("GET", "/requests/some-request"))
# What the throttling stack's stage allows: a burst of this many, then 1 per 10 s.
THROTTLE_BURST = 3


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_rest_route_refuses_an_anonymous_or_bad_token(
        anonymous_api: Api, api: Api, method: str, path: str) -> None:
    body = {"json": {"name": "x"}} if method in ("POST", "PUT") else {}
    for headers in ({}, {"Authorization": "not-a-token"},
                    {"Authorization": (api.token or "")[:-6] + "AAAAAA"}):
        answer = anonymous_api.http.request(method, path, headers=headers, **body)
        assert answer.status_code == 401, (method, path, headers, answer.text)
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["error"] == {"code": "Unauthorized", "message": "Unauthorized"}
        assert answer.headers["www-authenticate"] == "Bearer"


def _refused(url: str, headers: dict[str, str] | None = None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=30, additional_headers=headers or {}).close()
    return int(refused.value.response.status_code)


def test_connect_refuses_anonymous_and_bad_tokens_in_either_form(api: Api) -> None:
    assert _refused(api.ws_url) == 401
    assert _refused(f"{api.ws_url}?requestId=r-1") == 401
    assert _refused(f"{api.ws_url}?token=garbage") == 401
    assert _refused(api.ws_url, {"Authorization": "Bearer garbage"}) == 401
    # and accepts the caller's token in either form
    for token_in in ("header", "query"):
        with api.connect(token_in=token_in) as connection:
            connection.send(json.dumps({"action": "subscribe", "requestId": "none-yet"}))


def _outcome(client: Api, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    return client.stored_outcome(client.submit(method, path, **kwargs))


def test_another_callers_item_is_invisible_and_unchangeable(api: Api, other_api: Api) -> None:
    # GIVEN user A's item
    item = api.created_item(f"a's {uuid.uuid4().hex[:6]}")
    item_id = item["id"]
    # WHEN user B reads, changes and deletes it
    for method, extra in (("GET", {}), ("PUT", {"json": {"name": "b was here"}}),
                          ("DELETE", {})):
        outcome = _outcome(other_api, method, f"/items/{item_id}", **extra)
        # THEN each is not_found, as if there were no such item
        assert outcome["status"] == "error", (method, outcome)
        assert outcome["error"]["code"] == "not_found", (method, outcome)
    listed = _outcome(other_api, "GET", "/items?limit=100")
    assert item_id not in {i["id"] for i in listed["result"]["items"]}
    # AND A's item is untouched
    mine = _outcome(api, "GET", f"/items/{item_id}")
    assert mine["status"] == "success" and mine["result"]["name"] == item["name"]
    assert mine["result"]["version"] == 1
    assert item_id in {i["id"] for i in _outcome(api, "GET", "/items?limit=100")["result"]["items"]}


def test_another_callers_request_id_is_404(api: Api, other_api: Api) -> None:
    request_id = api.submit("POST", "/items", json={"name": "a's request"})
    assert api.stored_outcome(request_id)["status"] == "success"
    answer = other_api.http.get(f"/requests/{request_id}")
    assert answer.status_code == 404, answer.text


def _frames_until_quiet(connection: ClientConnection, seconds: float) -> list[Any]:
    frames: list[Any] = []
    while True:
        try:
            frames.append(json.loads(connection.recv(timeout=seconds)))
        except TimeoutError:
            return frames


def test_a_subscribe_to_another_callers_request_gets_only_the_error_frame(
        api: Api, other_api: Api) -> None:
    # GIVEN user A's completed request
    request_id = api.submit("POST", "/items", json={"name": "a's secret"})
    assert api.stored_outcome(request_id)["status"] == "success"
    # WHEN user B subscribes to it, both ways
    with other_api.connect() as connection:
        connection.send(json.dumps({"action": "subscribe", "requestId": request_id}))
        on_message = _frames_until_quiet(connection, 5)
    with other_api.connect(request_id, token_in="query") as connection:
        on_connect = _frames_until_quiet(connection, 5)
    # THEN B gets the error frame and nothing else
    expected = {"type": "error", "requestId": request_id, "error": {
        "code": "not_found", "message": "no request of yours has this id"}}
    assert on_message == [expected]
    assert on_connect == [expected]
    # AND A still gets its own
    with api.connect() as connection:
        connection.send(json.dumps({"action": "subscribe", "requestId": request_id}))
        assert receive_notification(connection, request_id)["status"] == "success"


# --- throttling: a short stack whose stage allows a burst of 3 -------------------------------
@pytest.fixture(scope="module")
def throttled_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    from infra.settings import StackSettings, Throttle
    from tools.synth import do_synth

    out = tmp_path_factory.mktemp("throttled")
    settings = StackSettings(rest_throttle=Throttle(rate_limit=0.1,
                                                    burst_limit=THROTTLE_BURST))
    template: Path = do_synth(out / "cdk.out", settings=settings).template
    options = LocalStackOptions(template=template, log_dir=out / "logs", state_file=None,
                                fault_plan=None, max_workers_per_function=1,
                                observability=ObservabilitySettings(metrics=False,
                                                                    alarms=False))
    with LocalStack(options) as stack:
        yield stack


def test_past_the_stage_burst_the_api_answers_429(throttled_stack: LocalStack) -> None:
    token = id_token(throttled_stack, USER_A)
    with api_of(throttled_stack, token) as client:
        path = f"/requests/{urllib.parse.quote('not-there')}"
        statuses = [client.http.get(path).status_code for _ in range(THROTTLE_BURST + 2)]
        throttled = client.http.get(path)
    assert statuses[:THROTTLE_BURST] == [404] * THROTTLE_BURST, statuses
    assert statuses[THROTTLE_BURST:] == [429, 429], statuses
    assert throttled.status_code == 429
    assert throttled.headers["content-type"].startswith("application/json")
    assert throttled.json()["error"] == {"code": "Throttled", "message": "Too Many Requests"}
