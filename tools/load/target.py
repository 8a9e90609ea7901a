"""Where `crudops load` sends its load, and where it reads the queues' metrics from.

- `--rest-url` with `--ws-url`: those gateways; no queue metrics (no stack named);
- `--stack NAME`: the stack's outputs, its queues' metrics from CloudWatch;
- `--local`: the running local stack (its state file), its queues' metrics from its
  CloudWatch emulation (published every 10 s by `crudops local up`);
- nothing: the running local stack when its state file names gateways that answer,
  else a local stack started for the run (metrics every second) and stopped after it.

Its tokens: two users of the stack's pool (tools/tokens.py), which the scenario's
users take in turn; for bare URLs the one in `CRUDOPS_TOKEN`, if set.

Before Locust starts, both gateways are probed (`require_reachable`): a refused
connection is one line naming the URL, not a run full of `Unreachable` failures.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from tools.aws_errors import aws_errors_as_user_errors
from tools.errors import UserError
from tools.stacks import (
    STATE_FILE,
    ClientFactory,
    Resource,
    deployed_stack_clients,
    gateway_urls,
    read_local_stack,
    stack_resources,
)
from tools.tokens import (
    DEFAULT_USER,
    SECOND_USER,
    UserPoolClient,
    deployed_user_pool,
    given_token,
    local_user_pool,
)

PROBE_TIMEOUT_SECONDS: Final = 5.0
# Two callers at once, so that the tables hold both users' items under load.
LOAD_USERS: Final = (DEFAULT_USER, SECOND_USER)
# A stack started for the run publishes its queue metrics this often (the plots' grain).
OWN_STACK_METRICS_SECONDS: Final = 1.0


@dataclass(frozen=True)
class QueueMetrics:
    """Where the queues' CloudWatch metrics are: clients, the stack's resources, and
    the period to read them at (the local emulation's datapoints are seconds apart,
    SQS's own a minute)."""

    clients: ClientFactory
    resources: Callable[[], list[Resource]]
    period_seconds: int


@dataclass(frozen=True)
class LoadTarget:
    rest_url: str
    ws_url: str
    description: str
    queue_metrics: QueueMetrics | None = None
    # The ID tokens the scenario's users take in turn, issued when the run starts (none:
    # anonymous, which the API refuses).
    issue_tokens: Callable[[], tuple[str, ...]] = tuple


def probe(url: str, timeout_seconds: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """Why a TCP connection to `url`'s host and port fails, or None when it opens."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        return "not an http(s):// or ws(s):// URL"
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_seconds):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def require_reachable(target: LoadTarget) -> None:
    for label, url in (("REST API", target.rest_url), ("WebSocket API", target.ws_url)):
        problem = probe(url)
        if problem is not None:
            raise UserError(f"cannot reach the {label} at {url}: {problem}",
                            hint="is the stack up? (crudops local up, or check --stack)")


def _local_target(state_file: Path) -> LoadTarget:
    described = read_local_stack(state_file)
    if not described.rest_url or not described.ws_url:
        raise UserError(f"{state_file} names no gateway URLs",
                        hint="restart the local stack with `crudops local up`")
    metrics = QueueMetrics(described.clients(), lambda: described.resources,
                           period_seconds=1) if described.metrics else None
    return LoadTarget(described.rest_url, described.ws_url, described.target, metrics,
                      issue_tokens=lambda: _tokens(local_user_pool(state_file), local=True))


def _tokens(pool: UserPoolClient, *, local: bool) -> tuple[str, ...]:
    with aws_errors_as_user_errors(local=local):
        return tuple(pool.issue(user).token for user in LOAD_USERS)


@contextmanager
def load_target(*, rest_url: str | None, ws_url: str | None, stack: str | None,
                local: bool, region: str | None, state_file: Path = STATE_FILE,
                on_status: Callable[[str], None] = lambda line: None) -> Iterator[LoadTarget]:
    """The target the options name (see the module's docstring), for the run's length:
    a local stack started here is stopped when the block ends."""
    urls = gateway_urls(rest_url=rest_url, ws_url=ws_url, stack=stack, local=local,
                        region=region, neither_allowed=True, local_state_file=state_file,
                        both_hint="or use --local / --stack NAME")
    if local:
        yield _local_target(state_file)
    elif urls is not None and stack is not None:
        clients = deployed_stack_clients(region)
        yield LoadTarget(urls[0], urls[1], f"stack {stack}", QueueMetrics(
            clients, lambda: stack_resources(clients("cloudformation"), stack),
            period_seconds=60), issue_tokens=lambda: _tokens(
                deployed_user_pool(stack, region, clients), local=False))
    elif urls is not None:
        given = given_token(os.environ)
        yield LoadTarget(urls[0], urls[1], f"{urls[0]} and {urls[1]}",
                         issue_tokens=lambda: (given,) if given else ())
    elif (running := _running_local_target(state_file)) is not None:
        yield running
    else:
        with _own_local_stack(on_status) as own:
            yield own


def _running_local_target(state_file: Path) -> LoadTarget | None:
    """The local stack of the state file, when there is one and its gateways answer."""
    if not state_file.is_file():
        return None
    try:
        target = _local_target(state_file)
    except UserError:
        return None
    if probe(target.rest_url) is not None or probe(target.ws_url) is not None:
        return None  # a stale state file: that stack was killed
    return target


@contextmanager
def _own_local_stack(on_status: Callable[[str], None]) -> Iterator[LoadTarget]:
    from crudops_local.run import LocalStackOptions
    from crudops_local.telemetry import ObservabilitySettings
    from tools.local.up import sigterm_interrupts, start_local_stack, template_for

    on_status("no running local stack: starting one for this run")
    with sigterm_interrupts():
        stack = start_local_stack(LocalStackOptions(
            template=template_for(None, None),
            observability=ObservabilitySettings(
                metrics_interval_seconds=OWN_STACK_METRICS_SECONDS)))
        try:
            assert stack.options.state_file is not None
            target = _local_target(stack.options.state_file)
            yield replace(target, description="a local stack started for this run")
        finally:
            on_status("stopping the local stack started for this run")
            stack.stop()
