"""The local stack, started once for the e2e tests, driven over real HTTP and WebSocket.

Package-scoped, so it stops after the last e2e test: an idle stack (pollers, metrics
and alarms every second) would otherwise take a quarter of a core from every test
that runs after it in the same pytest run.

The template is synthesized with short function timeouts (through the documented
`crudops:settings` mechanism) so that visibility timeouts, 6 x the function timeout,
are seconds: a failed record comes back, and a poison one reaches its DLQ, within a
test's budget.

The API refuses anonymous callers: `api` is user A's client and `other_api` user B's,
each with an ID token of the stack's pool (tools/tokens.py, the path of `crudops local
token`), fresh for every test, sent in `Authorization` (REST and, by default, the
WebSocket; `connect(..., token_in="query")` sends `?token=` as a browser must).

A poison message takes maxReceiveCount visibility timeouts (about 30 s) to reach its
DLQ. The tests that only read what it leaves (the parked message, its logged attempts,
the DLQ alarm) share one, `parked_poison`, published as soon as the stack is up when
any of them is collected, so that its retries run while the tests before them do.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from crudops_local.run import LocalStack, LocalStackOptions
from crudops_local.telemetry import ObservabilitySettings
from tests.support.poison import PoisonMessage, stack_ref
from tests.support.waiting import wait_until

USER_A = "e2e-user-a"
USER_B = "e2e-user-b"

NOTIFICATION_TIMEOUT_SECONDS = 60.0
# Alarms evaluated every second over 10 s periods (the template's are 300 s), and
# metrics published every second, so an alarm fires within a test's budget.
E2E_OBSERVABILITY = ObservabilitySettings(metrics_interval_seconds=1.0,
                                          alarm_interval_seconds=1.0, alarm_period_seconds=10)


def _e2e_settings() -> Any:
    from infra.settings import FunctionSizing, QueueConsumer, StackSettings

    def consumer(timeout_seconds: int) -> QueueConsumer:
        return QueueConsumer(function=FunctionSizing(timeout_seconds=timeout_seconds))

    return StackSettings(
        create=consumer(1), read=consumer(2), write=consumer(2), notify=consumer(2),
        # Retry an update that overtook its create quickly, within a short window.
        missing_item_retry_delay_seconds=1,
    )


@pytest.fixture(scope="session")
def e2e_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tools.synth import do_synth

    template: Path = do_synth(tmp_path_factory.mktemp("cdk.out"),
                              settings=_e2e_settings()).template
    return template


@pytest.fixture(scope="package")
def local_stack(e2e_template: Path) -> Iterator[LocalStack]:
    out = e2e_template.parent
    options = LocalStackOptions(template=e2e_template, log_dir=out / "logs",
                                max_workers_per_function=2, max_pollers_per_mapping=2,
                                state_file=out / "local-stack.json",
                                fault_plan=out / "faults.json",
                                observability=E2E_OBSERVABILITY)
    with LocalStack(options) as stack:
        yield stack


@pytest.fixture(scope="package")
def parked_poison(local_stack: LocalStack) -> PoisonMessage:
    """The stack's one shared poison message; `.parked()` waits until it is in the
    create DLQ (at once when it already is). For tests that read what it left; a test
    that needs a failure happening now publishes a poison message of its own."""
    return PoisonMessage(local_stack)


@pytest.fixture(scope="package", autouse=True)
def _poison_published_early(request: pytest.FixtureRequest) -> None:
    """Publish the shared poison message before the first e2e test, if any test collected
    reads it: its 30 s of retries then overlap the tests that run before that one."""
    if any("parked_poison" in getattr(item, "fixturenames", ())
           for item in request.session.items):
        poison: PoisonMessage = request.getfixturevalue("parked_poison")
        poison.publish()


@dataclass
class Api:
    """A client of the running stack, as a user of the API would hold one."""

    stack: LocalStack
    http: httpx.Client
    # the caller's ID token (None: anonymous)
    token: str | None = None

    @property
    def sub(self) -> str:
        """The caller's `sub`: the owner of what it creates (a command built by hand,
        as the REST API publishes it, names it in `owner`)."""
        from tools.tokens import token_sub

        assert self.token is not None
        return token_sub(self.token)

    @property
    def ws_url(self) -> str:
        assert self.stack.endpoints is not None
        return self.stack.endpoints.ws_url

    def submit(self, method: str, path: str, **kwargs: Any) -> str:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == 202, (response.status_code, response.text)
        request_id = response.json()["requestId"]
        assert isinstance(request_id, str) and request_id
        return request_id

    def stored_outcome(self, request_id: str) -> dict[str, Any]:
        """Wait until `GET /requests/{id}` has the outcome."""
        response = wait_until(
            lambda: self.http.get(f"/requests/{request_id}"),
            lambda r: r.status_code == 200,
            timeout=NOTIFICATION_TIMEOUT_SECONDS,
            describe=f"outcome of {request_id}",
        )
        document: dict[str, Any] = response.json()
        return document

    def connect(self, request_id: str | None = None, *,
                token_in: str = "header") -> ClientConnection:
        """A WebSocket of this caller: its token in the `Authorization` header, or in
        `?token=` (`token_in="query"`)."""
        query = {"requestId": request_id} if request_id else {}
        headers = {}
        if self.token and token_in == "query":
            query["token"] = self.token
        elif self.token:
            headers["Authorization"] = self.token
        url = self.ws_url + (f"?{urllib.parse.urlencode(query)}" if query else "")
        return connect(url, open_timeout=30, additional_headers=headers)

    def created_item(self, name: str = "widget", **fields: Any) -> dict[str, Any]:
        outcome = self.stored_outcome(self.submit("POST", "/items", json={"name": name, **fields}))
        assert outcome["status"] == "success", outcome
        item: dict[str, Any] = outcome["result"]
        return item

    def aws(self, service: str) -> Any:
        assert self.stack.aws is not None
        return self.stack.aws.client(service)

    def ref(self, logical_prefix: str, resource_type: str) -> str:
        """`Ref` of the one resource of that type whose logical id has that prefix."""
        return stack_ref(self.stack, logical_prefix, resource_type)

    def queue_url(self, logical_prefix: str) -> str:
        return self.ref(logical_prefix, "AWS::SQS::Queue")


def receive_notification(connection: ClientConnection, request_id: str,
                         timeout: float = NOTIFICATION_TIMEOUT_SECONDS) -> dict[str, Any]:
    """The next notification for `request_id` on this connection (others are skipped)."""
    seen: list[Any] = []

    def next_frame() -> Any:
        frame = json.loads(connection.recv(timeout=timeout))
        seen.append(frame)
        return frame

    frame = wait_until(
        next_frame,
        lambda f: f.get("type") == "notification" and f.get("requestId") == request_id,
        timeout=timeout, interval=0, describe=f"notification of {request_id}",
    )
    result: dict[str, Any] = frame
    return result


def id_token(stack: LocalStack, user: str) -> str:
    """An ID token of `user` from the stack's pool, as `crudops local token` issues it."""
    from tools.tokens import user_pool_of

    assert stack.aws is not None
    return user_pool_of(stack.describe(), stack.aws.client).issue(user).token


@contextmanager
def api_of(stack: LocalStack, token: str | None) -> Iterator[Api]:
    assert stack.endpoints is not None
    headers = {"Authorization": token} if token else {}
    with httpx.Client(base_url=stack.endpoints.rest_url, timeout=30, headers=headers) as http:
        yield Api(stack, http, token)


@pytest.fixture
def api(local_stack: LocalStack) -> Iterator[Api]:
    """User A's client."""
    with api_of(local_stack, id_token(local_stack, USER_A)) as client:
        yield client


@pytest.fixture
def other_api(local_stack: LocalStack) -> Iterator[Api]:
    """User B's client: another caller of the same stack."""
    with api_of(local_stack, id_token(local_stack, USER_B)) as client:
        yield client


@pytest.fixture
def anonymous_api(local_stack: LocalStack) -> Iterator[Api]:
    """A client without a token."""
    with api_of(local_stack, None) as client:
        yield client


@pytest.fixture
def operator_dir(api: Api, tmp_path: Path) -> Path:
    """A directory where `crudops … --local` finds the session stack."""
    state_file = api.stack.options.state_file
    assert state_file is not None and state_file.is_file()
    (tmp_path / ".crudops").mkdir()
    (tmp_path / ".crudops" / "local-stack.json").symlink_to(state_file.resolve())
    return tmp_path
