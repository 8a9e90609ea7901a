"""`crudops local up`: the whole system on one machine, from the synthesized template.

Start order: the AWS endpoint (an embedded moto server in its own process, unless an
endpoint is given), the template's resources in it, the gateway socket (its address
goes into the functions' environment), the function pools, the event source
mappings, and last the gateway. `stop()` undoes it in reverse and is safe to call
twice; on an endpoint the stack did not start it also removes the resources it
created there (docs/adr/0010-local-stack-on-an-endpoint-it-does-not-own.md).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import uvicorn
from botocore.exceptions import ClientError

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.aws.targets import (
    TargetKind,
    caller_endpoint,
    caller_identity,
    check_service_endpoints,
    run_stack_name,
    service_endpoints,
    target_kind,
    target_region,
)
from crudops_local.child_signals import stop_signals_blocked
from crudops_local.cloudformation.providers import provider_for
from crudops_local.cloudformation.providers.cloudwatch_alarm import ALARM_TYPE
from crudops_local.cloudformation.provision import Provisioned, provision
from crudops_local.cloudformation.refused import refuse_what_needs_aws
from crudops_local.cloudformation.teardown import (
    CreatedResource,
    ResourceLedger,
    TeardownReport,
    teardown,
)
from crudops_local.cloudformation.template import (
    PhysicalResource,
    Pseudo,
    Resolver,
    Template,
    TemplateError,
)
from crudops_local.cloudwatch.alarm_actions import AlarmOrigin
from crudops_local.cloudwatch.alarms import AlarmStateChange, template_alarms
from crudops_local.faults import FaultSource
from crudops_local.lambda_.event_source_mapping.poller import QueuePoller
from crudops_local.lambda_.event_source_mapping.specs import mapping_specs
from crudops_local.lambda_.runtime import FunctionPool
from crudops_local.lambda_.specs import (
    FunctionSpec,
    ServiceEnvironment,
    function_specs,
    stack_name_of,
)
from crudops_local.state import (
    FAULT_PLAN,
    LOG_DIR,
    RUNS_DIR,
    STATE_FILE,
    LocalStackState,
    ResourceState,
    remove_state,
    trace_index_of,
    write_state,
)
from crudops_local.telemetry import LocalObservability, ObservabilitySettings, WatchedQueue

log = logging.getLogger("crudops.local")

AWS_SERVER_START_TIMEOUT_SECONDS = 60.0

URL_SUFFIXES = {"aws-cn": "amazonaws.com.cn"}


@dataclass(frozen=True)
class LocalStackOptions:
    template: Path
    host: str = "127.0.0.1"
    # The gateways' port and the embedded AWS server's; 0: any free port (what tests
    # use). `crudops local up` defaults to fixed ones (tools/cli.py).
    port: int = 0
    aws_port: int = 0
    # None: the embedded server (or AWS_ENDPOINT_URL); a URL; or "aws" for AWS itself.
    aws_endpoint: str | None = None
    # "SERVICE=URL" pairs: one service elsewhere (over AWS_ENDPOINT_URL_<SERVICE>).
    service_endpoints: tuple[str, ...] = ()
    # None: the caller's configured region for another endpoint, else us-east-1.
    region: str | None = None
    # The embedded server's account; another endpoint's comes from STS.
    account_id: str = "123456789012"
    max_workers_per_function: int = 2
    max_pollers_per_mapping: int = 2
    log_dir: Path = LOG_DIR
    # Where the running stack describes itself for other commands (`crudops status
    # --local`); None writes nothing (tests running several stacks at once).
    state_file: Path | None = STATE_FILE
    # The fault plan it follows while one is there (crudops_local/faults.py); None: no
    # faults ever.
    fault_plan: Path | None = FAULT_PLAN
    # X-Ray daemon, metrics and alarm evaluation (crudops_local/telemetry.py).
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    # Workers idle this long are stopped, one warm worker per function kept, as
    # Lambda reclaims idle execution environments (each worker holds ~60 MiB).
    idle_worker_seconds: float = 60.0
    # Where ledgers of resources created on another endpoint are kept; None: memory only.
    runs_dir: Path | None = RUNS_DIR


@dataclass(frozen=True)
class StackEndpoints:
    rest_url: str
    ws_url: str
    aws_endpoint: str | None  # None: AWS's own endpoints (a real account)
    log_dir: str

    def as_json(self) -> dict[str, str | None]:
        return {"rest_url": self.rest_url, "ws_url": self.ws_url,
                "aws_endpoint": self.aws_endpoint, "log_dir": self.log_dir}


def _oldest_sent(pollers: list[QueuePoller]) -> Any:
    def oldest() -> float | None:
        seen = [t for t in (p.stats.take_oldest_sent() for p in pollers) if t is not None]
        return min(seen) if seen else None

    return oldest


class AwsServerProcess:
    """The embedded moto server (crudops_local/aws/server.py) as a child process."""

    def __init__(self, host: str, port: int = 0) -> None:
        with stop_signals_blocked():
            self._process = subprocess.Popen(
                [sys.executable, "-m", "crudops_local.aws.server", "--host", host,
                 "--port", str(port)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )
        try:
            line = self._read_first_line()
        except BaseException:  # Ctrl-C while it starts: it must not outlive the stack
            self.stop()
            raise
        started = json.loads(line)
        if "error" in started:
            self.stop()
            raise OSError(f"the embedded AWS server {started['error']}")
        self.endpoint: str = started["endpoint"]

    def _read_first_line(self) -> str:
        result: list[str] = []
        reader = threading.Thread(
            target=lambda: result.append(self._process.stdout.readline()  # type: ignore[union-attr]
                                         ), daemon=True)
        reader.start()
        reader.join(AWS_SERVER_START_TIMEOUT_SECONDS)
        if not result or not result[0]:
            self.stop()
            raise RuntimeError("the embedded AWS server did not start")
        return result[0]

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self) -> None:
        """Close its stdin (it ignores SIGINT and SIGTERM); kill it if it lingers."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)
        if self._process.stdout is not None:
            self._process.stdout.close()


@dataclass
class _Running:
    aws_server: AwsServerProcess | None = None
    pools: dict[str, FunctionPool] = field(default_factory=dict)
    pollers: list[QueuePoller] = field(default_factory=list)
    server: uvicorn.Server | None = None
    server_thread: threading.Thread | None = None
    observability: LocalObservability | None = None
    reaper_stop: threading.Event = field(default_factory=threading.Event)
    reaper: threading.Thread | None = None


# How often idle workers are looked for; reaping is bounded by this much lateness.
REAPER_INTERVAL_SECONDS = 5.0


class LocalStack:
    def __init__(self, options: LocalStackOptions,
                 on_alarm_change: Callable[[AlarmStateChange], None] | None = None) -> None:
        """`on_alarm_change` sees each change of a local alarm's state (from the alarm
        loop's thread), after it was published to the alarm's SNS actions."""
        self.options = options
        self._on_alarm_change = on_alarm_change
        # Absolute: the workers read it too, whatever their working directory.
        self._faults = (FaultSource(options.fault_plan.resolve()) if options.fault_plan
                        else None)
        self.template = Template.load(options.template)
        refuse_what_needs_aws(self.template)
        # The option, else the SDKs' own variable: a URL, "aws", or None (embedded).
        self._endpoint = (options.aws_endpoint or os.environ.get("AWS_ENDPOINT_URL") or "").strip()
        self.kind = target_kind(self._endpoint)
        self.service_endpoints = service_endpoints(options.service_endpoints, os.environ)
        check_service_endpoints(self.kind, self.service_endpoints)
        self.pseudo = Pseudo(region=target_region(self.kind, options.region),
                             account_id=options.account_id,
                             stack_name=stack_name_of(options.template))
        self._running = _Running()
        self._stopped = False
        self.provisioned: Provisioned | None = None
        self.endpoints: StackEndpoints | None = None
        self.aws: AwsEndpoint | None = None
        # What was created on an endpoint the stack does not own, removed on stop.
        self.ledger: ResourceLedger | None = None
        self.teardown_report: TeardownReport | None = None
        self.telemetry = self._observability_settings()

    # --- lifecycle -------------------------------------------------------------
    def start(self) -> StackEndpoints:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _connect(self) -> AwsEndpoint:
        """The AWS endpoint, and on one the stack does not own, who it is there."""
        options, region = self.options, self.pseudo.region
        services = self.service_endpoints
        if self.kind is TargetKind.EMBEDDED:
            self._running.aws_server = AwsServerProcess(options.host, options.aws_port)
            # placeholder keys: the embedded server routes by them, never checks them
            aws = AwsEndpoint(self._running.aws_server.endpoint, region,
                              service_urls=services)
            if services:
                self._open_ledger(aws, self.pseudo.account_id, self.pseudo.partition)
            return aws
        url = None if self.kind is TargetKind.ACCOUNT else self._endpoint
        aws = caller_endpoint(url, region, services)
        account_id, partition = options.account_id, self.pseudo.partition
        try:
            identity = caller_identity(aws)
            account_id, partition = identity.account_id, identity.partition
        except ClientError as exc:
            if self.kind is TargetKind.ACCOUNT:
                raise
            log.warning("the endpoint does not answer STS (%s); ARNs use account %s",
                        exc.response.get("Error", {}).get("Code"), account_id)
        self._open_ledger(aws, account_id, partition)
        return aws

    def _open_ledger(self, aws: AwsEndpoint, account_id: str, partition: str) -> None:
        """Name the run's resources for it alone and start listing what it creates."""
        self.pseudo = replace(self.pseudo, account_id=account_id, partition=partition,
                              url_suffix=URL_SUFFIXES.get(partition, self.pseudo.url_suffix),
                              stack_name=run_stack_name(self.pseudo.stack_name))
        runs_dir = self.options.runs_dir
        self.ledger = ResourceLedger(
            aws, account_id, self.pseudo.stack_name,
            None if runs_dir is None else runs_dir / f"{self.pseudo.stack_name}.json")

    def _outlives_the_stack(self, resource_type: str) -> bool:
        """Whether a resource of this type is on an endpoint the stack did not start."""
        return (self.kind is not TargetKind.EMBEDDED
                or provider_for(resource_type).service in self.service_endpoints)

    def _record_created(self, logical_id: str, resource_type: str,
                        physical: PhysicalResource) -> None:
        if self.ledger is not None and self._outlives_the_stack(resource_type):
            self.ledger.record(CreatedResource(logical_id, resource_type, physical.ref))

    def _observability_settings(self) -> ObservabilitySettings:
        settings = self.options.observability
        if self.kind is TargetKind.ACCOUNT and (settings.metrics or settings.alarms):
            # The template's alarm names are fixed: local copies would overwrite the
            # deployed stack's alarms, and local metrics would mix into its dashboards.
            log.warning("metrics and alarms stay off against a real account "
                        "(the deployed stack's own alarms and dashboards are there)")
            settings = replace(settings, metrics=False, alarms=False)
        return settings

    def _start(self) -> StackEndpoints:
        options = self.options
        self.aws = self._connect()
        self.provisioned = provision(
            self.template, self.aws, self.pseudo, on_created=self._record_created,
            shared=self._outlives_the_stack if self.ledger is not None else None)
        resolver = self.provisioned.resolver
        assert resolver is not None
        self._running.observability = LocalObservability(
            self.telemetry, self.aws.client, options.log_dir,
            options.host)

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((options.host, options.port))
        host, port = listener.getsockname()[:2]
        gateway_origin = f"http://{host}:{port}"

        specs = self._function_specs(resolver, gateway_origin)
        for spec in specs.values():
            self._running.pools[spec.arn] = FunctionPool(
                spec, options.log_dir, options.max_workers_per_function,
                observer=self._running.observability,
            )
        self._start_pollers(resolver, {s.name: s.arn for s in specs.values()})
        self._start_reaper()
        self._running.observability.start(
            self._watched_queues(), template_alarms(self.template, resolver),
            origin=AlarmOrigin(self.pseudo.account_id, self.pseudo.region,
                               self.pseudo.partition),
            on_change=[self._on_alarm_change] if self._on_alarm_change else ())
        evaluator = self._running.observability.evaluator
        if self.ledger is not None and evaluator is not None:
            for alarm in evaluator.alarms:  # created in the endpoint's CloudWatch
                self._record_created(alarm.name, ALARM_TYPE, PhysicalResource(alarm.name))
        rest_stage, ws_stage = self._serve(listener, resolver)
        self.endpoints = StackEndpoints(
            rest_url=f"{gateway_origin}/{rest_stage}",
            ws_url=f"ws://{host}:{port}/{ws_stage}",
            aws_endpoint=self.aws.url,
            log_dir=str(options.log_dir),
        )
        self._write_state()
        return self.endpoints

    def describe(self) -> LocalStackState:
        """What other commands need to find this stack's resources (its state file)."""
        assert self.endpoints is not None and self.provisioned is not None
        assert self.aws is not None
        resources = self.template.resources
        observability = self._running.observability
        return LocalStackState(
            stack=self.pseudo.stack_name,
            region=self.pseudo.region,
            aws_endpoint=self.endpoints.aws_endpoint,
            physical={logical_id: ResourceState(resources[logical_id].type, physical.ref,
                                                 physical.attributes)
                       for logical_id, physical in self.provisioned.physical.items()},
            target_kind=self.kind.value,
            placeholder_credentials=self.aws.placeholder_credentials,
            service_endpoints=dict(self.service_endpoints),
            rest_url=self.endpoints.rest_url,
            ws_url=self.endpoints.ws_url,
            log_dir=self.options.log_dir,
            trace_index=trace_index_of(self.options.log_dir),
            template=self.options.template,
            account_id=self.pseudo.account_id,
            pid=os.getpid(),
            # `crudops status --local` reads queue age and function errors from CloudWatch.
            metrics=self.telemetry.metrics,
            # `crudops dashboard --local` reads p50/p99 there (the emulator computes none).
            percentiles_url=observability.percentiles_url if observability is not None else None,
            fault_plan=self.options.fault_plan.resolve() if self.options.fault_plan else None,
        )

    def _write_state(self) -> None:
        if self.options.state_file is not None:
            write_state(self.options.state_file, self.describe())

    def _remove_state(self) -> None:
        if self.options.state_file is not None:
            remove_state(self.options.state_file, os.getpid())

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._remove_state()
        running = self._running
        running.reaper_stop.set()
        for poller in running.pollers:
            poller.request_stop()
        if running.server is not None:
            running.server.should_exit = True
        if running.server_thread is not None:
            running.server_thread.join(15)
        for poller in running.pollers:
            poller.stop()
        for pool in running.pools.values():
            pool.close()
        if running.observability is not None:
            running.observability.stop()
        if self.ledger is not None and self.aws is not None:
            self.teardown_report = teardown(self.ledger, self.aws.client)
        if running.aws_server is not None:
            running.aws_server.stop()

    # --- functions ---------------------------------------------------------------
    def _start_reaper(self) -> None:
        running = self._running
        idle_seconds = self.options.idle_worker_seconds

        def reap() -> None:
            while not running.reaper_stop.wait(min(REAPER_INTERVAL_SECONDS, idle_seconds)):
                for pool in list(running.pools.values()):
                    pool.reap_idle(idle_seconds)

        running.reaper = threading.Thread(target=reap, name="worker-reaper", daemon=True)
        running.reaper.start()

    def _function_specs(self, resolver: Resolver, gateway_origin: str) -> dict[str, FunctionSpec]:
        assert self.aws is not None and self.provisioned is not None
        observability = self._running.observability
        service = ServiceEnvironment(
            self.aws, self.pseudo, gateway_origin,
            telemetry=observability.worker_environment() if observability is not None else {})
        return function_specs(self.template, self.options.template, resolver,
                              self.provisioned.physical, service)

    def invoke(self, function_arn: str, event: dict[str, Any]) -> Any:
        pool = self._running.pools.get(function_arn)
        if pool is None:
            raise TemplateError(f"no local function with ARN {function_arn}")
        return pool.invoke(event)

    @property
    def pools(self) -> dict[str, FunctionPool]:
        return dict(self._running.pools)

    @property
    def pollers(self) -> list[QueuePoller]:
        return list(self._running.pollers)

    @property
    def observability(self) -> LocalObservability | None:
        return self._running.observability

    def _watched_queues(self) -> list[WatchedQueue]:
        assert self.provisioned is not None
        watched = []
        for resource in self.template.of_type("AWS::SQS::Queue"):
            queue = self.provisioned.physical[resource.logical_id]
            pollers = [p for p in self._running.pollers
                       if p.spec.queue_url == queue.attributes["QueueUrl"]]
            watched.append(WatchedQueue(
                name=queue.attributes["QueueName"], url=queue.attributes["QueueUrl"],
                oldest_sent=_oldest_sent(pollers) if pollers else None))
        return watched

    # --- event source mappings ----------------------------------------------------
    def _start_pollers(self, resolver: Resolver, arn_by_name: dict[str, str]) -> None:
        assert self.aws is not None and self.provisioned is not None
        for spec in mapping_specs(self.template, resolver, self.provisioned.physical,
                                  arn_by_name, self.options.max_pollers_per_mapping):
            pool = self._running.pools[spec.function_arn]
            if self._faults is not None:
                # Faults hit the command path (functions behind a queue), not the
                # WebSocket routes a client's own connection and subscription need.
                pool.follow_faults(self._faults)
            poller = QueuePoller(spec, self.aws.client("sqs"), pool.invoke, self.aws.region,
                                 faults=self._faults)
            poller.start()
            self._running.pollers.append(poller)

    # --- gateway ------------------------------------------------------------------
    def _serve(self, listener: socket.socket, resolver: Resolver) -> tuple[str, str]:
        from crudops_local.apigateway.app import build_gateway_app
        from crudops_local.apigateway.serving import gateway_server, serve_in_thread

        assert self.aws is not None
        app = build_gateway_app(
            self.template, resolver, self.aws, self.invoke,
            public_host=f"{listener.getsockname()[0]}:{listener.getsockname()[1]}",
        )
        server = gateway_server(app)
        thread = serve_in_thread(server, listener)
        self._running.server = server
        self._running.server_thread = thread
        rest = next(self.template.of_type("AWS::ApiGateway::Stage")).properties["StageName"]
        ws = next(self.template.of_type("AWS::ApiGatewayV2::Stage")).properties["StageName"]
        return str(rest), str(ws)
