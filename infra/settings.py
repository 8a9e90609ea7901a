"""Every tunable of the stack, in one typed place.

The constructs never hold a literal for a batch size, a timeout or a retry count;
they read it from `StackSettings`. The functions' own settings (`functions.settings`)
receive the same numbers through environment variables, so the queue's
`maxReceiveCount` and the handler's idea of "the last attempt" cannot drift apart.

Overrides come from CDK context key `crudops:settings` (a JSON object whose keys are
field names; nested settings are nested objects), e.g.
`cdk synth -c 'crudops:settings={"max_receive_count": 8, "create": {"batch_size": 5}}'`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from dashboards.thresholds import AlarmThresholds, MonitoringSettings
from functions.settings import DEFAULTS

CONTEXT_KEY: Final = "crudops:settings"
# `-c crudops:fis=true` deploys the AWS FIS experiment on the queue consumers
# (infra/fault_injection.py); the same as `fault_injection.enabled` in CONTEXT_KEY.
FIS_CONTEXT_KEY: Final = "crudops:fis"

_T = TypeVar("_T")

# SQS keeps a message at most 14 days. (Its 12-hour visibility limit cannot be reached:
# 6 x 900 s + 300 s is 95 minutes.)
SQS_MAX_RETENTION_SECONDS: Final = 14 * 24 * 3600
# Values CloudWatch Logs accepts for a retention period, in days.
LOG_RETENTION_DAYS_ALLOWED: Final = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)


# `arn:<partition>:cognito-idp:<region>:<account>:userpool/<region>_<id>`.
USER_POOL_ARN: Final = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):cognito-idp:(?P<region>[a-z0-9-]+):\d{12}:"
    r"userpool/(?P<pool_id>(?P=region)_[0-9A-Za-z]+)$")
USER_POOL_CLIENT_ID: Final = re.compile(r"^[\w+]{1,128}$")
MFA_MODES: Final = frozenset({"optional", "required"})


class SettingsError(ValueError):
    """A setting is out of the range AWS or the design accepts."""


@dataclass(frozen=True)
class FunctionSizing:
    """Timeout and memory of one Lambda function."""

    timeout_seconds: int = 30
    memory_mb: int = 512
    # None leaves the function in the account's unreserved pool; reserving concurrency
    # takes it away from every other function in the account, so it is opt-in.
    reserved_concurrency: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.timeout_seconds <= 900:
            raise SettingsError(f"timeout_seconds={self.timeout_seconds} not in 1..900")
        if not 128 <= self.memory_mb <= 10_240:
            raise SettingsError(f"memory_mb={self.memory_mb} not in 128..10240")


@dataclass(frozen=True)
class QueueConsumer:
    """One SQS queue and the Lambda function that drains it."""

    batch_size: int = 10
    max_batching_window_seconds: int = 0
    # Maximum concurrency of the event source mapping (2..1000): caps how hard one
    # queue can hit DynamoDB without reserving account concurrency.
    max_concurrency: int = 20
    function: FunctionSizing = field(default_factory=FunctionSizing)

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 10_000:
            raise SettingsError(f"batch_size={self.batch_size} not in 1..10000")
        if self.batch_size > 10 and self.max_batching_window_seconds < 1:
            raise SettingsError("a batch_size over 10 needs max_batching_window_seconds >= 1")
        if not 0 <= self.max_batching_window_seconds <= 300:
            raise SettingsError("max_batching_window_seconds not in 0..300")
        if not 2 <= self.max_concurrency <= 1000:
            raise SettingsError(f"max_concurrency={self.max_concurrency} not in 2..1000")

    @property
    def visibility_timeout_seconds(self) -> int:
        """AWS's rule for SQS event sources: 6 x function timeout + batching window.

        A shorter timeout lets a message become visible again while a retrying
        invocation still holds it, so one command would be processed twice at once.
        """
        return 6 * self.function.timeout_seconds + self.max_batching_window_seconds


@dataclass(frozen=True)
class Throttle:
    """API Gateway stage throttling (steady rate per second and burst)."""

    rate_limit: float = 100.0
    burst_limit: int = 200


# Evaluation windows WAF's rate-based rules accept, in seconds.
WAF_RATE_WINDOWS_SECONDS: Final = frozenset({60, 120, 300, 600})


@dataclass(frozen=True)
class IpRateLimit:
    """The WAF rate-based rule: requests one client IP may send in a trailing window.

    WAF counts each IP's requests over the last `window_seconds`, checks about every
    10 s, and refuses (429) while the count is above `requests`; enforcement is near
    the limit, not exact. The stage throttle (`Throttle`) caps all clients together;
    this keeps one client from taking all of it. A load test from one machine above
    `requests / window_seconds` per second needs a higher limit.
    """

    requests: int = 6000
    window_seconds: int = 300

    def __post_init__(self) -> None:
        if not 10 <= self.requests <= 2_000_000_000:
            raise SettingsError(f"requests={self.requests} not in 10..2000000000")
        if self.window_seconds not in WAF_RATE_WINDOWS_SECONDS:
            raise SettingsError(f"window_seconds={self.window_seconds} is not one of "
                                f"{sorted(WAF_RATE_WINDOWS_SECONDS)}")


@dataclass(frozen=True)
class IdentitySettings:
    """The user pool the stack creates (ignored when it uses an existing one).

    Operators add the users (no self sign-up), who sign in by username.
    """

    password_min_length: int = 14
    # "optional" (TOTP for those who enrol) or "required". Required MFA stops
    # non-interactive sign-in (`crudops token`, load-test users) at a challenge.
    mfa: str = "optional"
    temporary_password_validity_days: int = 3
    id_token_validity_minutes: int = 60
    access_token_validity_minutes: int = 60
    refresh_token_validity_days: int = 30

    def __post_init__(self) -> None:
        if not 8 <= self.password_min_length <= 99:
            raise SettingsError(f"password_min_length={self.password_min_length} not in 8..99")
        if self.mfa not in MFA_MODES:
            raise SettingsError(f"mfa={self.mfa!r} is not one of {sorted(MFA_MODES)}")
        if not 1 <= self.temporary_password_validity_days <= 365:
            raise SettingsError("temporary_password_validity_days not in 1..365")
        # Cognito's limits for an app client's tokens.
        for name in ("id_token_validity_minutes", "access_token_validity_minutes"):
            if not 5 <= getattr(self, name) <= 24 * 60:
                raise SettingsError(f"{name}={getattr(self, name)} not in 5..1440")
        if not 1 <= self.refresh_token_validity_days <= 3650:
            raise SettingsError("refresh_token_validity_days not in 1..3650")


# What FIS accepts: an action lasts 1 minute to 12 hours; Lambda's added delay is at
# most 900,000 ms; percentages are 1..100.
FIS_DURATION_SECONDS: Final = range(60, 12 * 3600 + 1)
FIS_MAX_DELAY_MILLISECONDS: Final = 900_000
# The public SSM parameter AWS keeps the Region's FIS Lambda extension layer ARN in
# (x86_64, like every crudops function), major version 1.
FIS_EXTENSION_LAYER_PARAMETER: Final = (
    "/aws/service/fis/lambda-extension/AWS-FIS-extension-x86_64/1.x.x")


@dataclass(frozen=True)
class FaultInjectionSettings:
    """The AWS FIS experiment on the queue consumers (ADR 0028); off by default, so
    the default template has no trace of it.

    `error_percentage` of the consumers' invocations fail; with `prevent_execution`
    false (the default) the handler runs and commits first, so the whole batch comes
    back although its work is done: the redelivery the idempotency must absorb.
    `delay_percentage` of invocations start `delay_milliseconds` late. The experiment
    stops by itself after `duration_seconds`, or when more than
    `max_parked_commands` commands wait in the consumers' DLQs.
    """

    enabled: bool = False
    duration_seconds: int = 600
    error_percentage: int = 10
    prevent_execution: bool = False
    delay_percentage: int = 20
    delay_milliseconds: int = 2000
    max_parked_commands: int = 10
    # How long the extension waits for an in-flight poll of the configuration before
    # the handler starts (AWS recommends a non-zero value, e.g. 2000).
    poll_max_wait_milliseconds: int = 2000
    # An explicit layer ARN instead of the one the public SSM parameter names.
    extension_layer_arn: str = ""

    def __post_init__(self) -> None:
        if self.duration_seconds not in FIS_DURATION_SECONDS:
            raise SettingsError(f"fault_injection.duration_seconds={self.duration_seconds} "
                                "not in 60..43200")
        for name in ("error_percentage", "delay_percentage"):
            if not 1 <= getattr(self, name) <= 100:
                raise SettingsError(f"fault_injection.{name}={getattr(self, name)} "
                                    "not in 1..100")
        if not 0 <= self.delay_milliseconds <= FIS_MAX_DELAY_MILLISECONDS:
            raise SettingsError(f"fault_injection.delay_milliseconds="
                                f"{self.delay_milliseconds} not in 0..900000")
        if self.max_parked_commands < 0:
            raise SettingsError("fault_injection.max_parked_commands must be >= 0")
        if not 0 <= self.poll_max_wait_milliseconds <= 10_000:
            raise SettingsError("fault_injection.poll_max_wait_milliseconds not in 0..10000")
        if self.extension_layer_arn and ":layer:" not in self.extension_layer_arn:
            raise SettingsError(f"fault_injection.extension_layer_arn="
                                f"{self.extension_layer_arn!r} is not a layer version ARN")

    @property
    def duration(self) -> str:
        """ISO 8601, as FIS takes it (`PT600S`)."""
        return f"PT{self.duration_seconds}S"


@dataclass(frozen=True)
class StackSettings:
    """The stack's tunables; build with `StackSettings()` or `from_context(...)`."""

    service_name: str = "crudops"
    metrics_namespace: str = DEFAULTS.metrics_namespace
    log_level: str = "INFO"

    create: QueueConsumer = field(default_factory=QueueConsumer)
    read: QueueConsumer = field(default_factory=QueueConsumer)
    write: QueueConsumer = field(default_factory=QueueConsumer)
    notify: QueueConsumer = field(default_factory=QueueConsumer)
    websocket_function: FunctionSizing = field(
        default_factory=lambda: FunctionSizing(timeout_seconds=10, memory_mb=256)
    )
    # The `$connect` authorizer: one RS256 check, and on a cold start one JWKS fetch
    # (5 s timeout, functions/domain/tokens.py).
    websocket_authorizer_function: FunctionSizing = field(
        default_factory=lambda: FunctionSizing(timeout_seconds=10, memory_mb=256)
    )

    # Tokens of an existing Cognito user pool (its ARN) and app client instead of a
    # pool the stack creates: both or neither. The client must have no secret.
    user_pool_arn: str = ""
    user_pool_client_id: str = ""
    identity: IdentitySettings = field(default_factory=IdentitySettings)

    # How many receives before SQS moves a message to its DLQ. The handlers read the
    # same number to know when an "item not yet created" retry is the last one.
    max_receive_count: int = DEFAULTS.max_receive_count
    queue_retention_seconds: int = 4 * 24 * 3600
    dlq_retention_seconds: int = SQS_MAX_RETENTION_SECONDS

    outcome_ttl_seconds: int = DEFAULTS.outcome_ttl_seconds
    subscription_ttl_seconds: int = DEFAULTS.subscription_ttl_seconds
    missing_item_retry_window_seconds: int = DEFAULTS.missing_item_retry_window_seconds
    missing_item_retry_delay_seconds: int = DEFAULTS.missing_item_retry_delay_seconds
    late_subscriber_replay_delay_seconds: int = DEFAULTS.late_subscriber_replay_delay_seconds
    # Live subscriptions one WebSocket connection may hold; beyond it a subscribe gets
    # the `too_many_subscriptions` error frame and a 429 (ADR 0029).
    max_subscriptions_per_connection: int = DEFAULTS.max_subscriptions_per_connection
    list_max_limit: int = DEFAULTS.list_max_limit
    notification_max_bytes: int = DEFAULTS.notification_max_bytes

    # Requests with a larger body are refused with 413 by the WAF in front of the API.
    max_body_bytes: int = 64 * 1024
    # Requests per client IP the WAF lets through per window (refused with 429 above).
    waf_rate_limit: IpRateLimit = field(default_factory=IpRateLimit)
    rest_throttle: Throttle = field(default_factory=Throttle)
    websocket_throttle: Throttle = field(default_factory=Throttle)

    alarms: AlarmThresholds = field(default_factory=AlarmThresholds)
    # Every alarm description ends with `<runbook_base_url><page>.md`. The default is
    # the path inside this repository; point it at the repository's web view (or a
    # wiki) so the link in an alarm e-mail opens directly.
    runbook_base_url: str = "runbooks/"

    # Version of the public layer `AWSLambdaPowertoolsPythonV3-python313-x86_64`.
    powertools_layer_version: int = 27
    log_retention_days: int = 30
    fault_injection: FaultInjectionSettings = field(default_factory=FaultInjectionSettings)

    def __post_init__(self) -> None:
        if self.alarms.period_seconds not in {10, 30} and self.alarms.period_seconds % 60:
            # CloudWatch alarm periods: 10, 30 or a multiple of 60 seconds.
            raise SettingsError(f"period_seconds={self.alarms.period_seconds} must be 10, "
                                "30 or a multiple of 60")
        if not 1 <= self.alarms.datapoints_to_alarm <= self.alarms.evaluation_periods:
            raise SettingsError("datapoints_to_alarm must be in 1..evaluation_periods")
        if self.max_receive_count < 5:
            # Fewer receives turn a brief throttle of the function into a DLQ message.
            raise SettingsError(f"max_receive_count={self.max_receive_count} must be >= 5")
        for name in ("queue_retention_seconds", "dlq_retention_seconds"):
            value = getattr(self, name)
            if not 60 <= value <= SQS_MAX_RETENTION_SECONDS:
                raise SettingsError(f"{name}={value} not in 60..{SQS_MAX_RETENTION_SECONDS}")
        if self.dlq_retention_seconds < self.queue_retention_seconds:
            # A message's age carries over to its DLQ; a shorter DLQ retention drops it.
            raise SettingsError("dlq_retention_seconds must be >= queue_retention_seconds")
        if self.log_retention_days not in LOG_RETENTION_DAYS_ALLOWED:
            raise SettingsError(f"log_retention_days={self.log_retention_days} is not a value "
                                "CloudWatch Logs accepts")
        if self.dlq_max_age_seconds(subscription=False) < self.alarms.period_seconds:
            raise SettingsError(
                "dlq_retention_seconds - queue_retention_seconds - "
                "alarms.critical.dlq_time_to_act_seconds leaves no time for the DLQ age "
                "alarm to fire before a message can expire")
        if self.max_subscriptions_per_connection < 1:
            raise SettingsError("max_subscriptions_per_connection must be >= 1 (a "
                                "?requestId= connection holds one)")
        if not 1 <= self.max_body_bytes <= 64 * 1024:
            # WAF inspects at most 64 KiB of an API Gateway request body.
            raise SettingsError("max_body_bytes must be in 1..65536")
        self._check_existing_user_pool()

    def _check_existing_user_pool(self) -> None:
        if bool(self.user_pool_arn) != bool(self.user_pool_client_id):
            raise SettingsError("user_pool_arn and user_pool_client_id go together: set "
                                "both (an existing pool) or neither (the stack creates one)")
        if self.user_pool_arn and not USER_POOL_ARN.match(self.user_pool_arn):
            raise SettingsError(f"user_pool_arn={self.user_pool_arn!r} is not a Cognito user "
                                "pool ARN (arn:aws:cognito-idp:<region>:<account>:"
                                "userpool/<region>_<id>)")
        if self.user_pool_client_id and not USER_POOL_CLIENT_ID.match(self.user_pool_client_id):
            raise SettingsError(f"user_pool_client_id={self.user_pool_client_id!r} is not an "
                                "app client id")

    def dlq_max_age_seconds(self, *, subscription: bool) -> int:
        """The DLQ oldest-message age above which a message may expire within
        `dlq_time_to_act_seconds`.

        A standard queue's message keeps its original enqueue time when SQS moves it
        to the DLQ, and expires `dlq_retention_seconds` after it; the DLQ's
        `ApproximateAgeOfOldestMessage` counts from the move. A message can reach the
        DLQ as late as `queue_retention_seconds` after it was sent, so it may have only
        `dlq_retention - queue_retention` left there. A subscription DLQ's message is
        sent there by SNS (a new enqueue time), so it has the whole DLQ retention.
        """
        time_left = self.dlq_retention_seconds - (
            0 if subscription else self.queue_retention_seconds)
        return time_left - self.alarms.critical.dlq_time_to_act_seconds

    def monitoring(self, name_prefix: str) -> MonitoringSettings:
        """What the dashboard and alarms (`dashboards/`) are built from; `name_prefix`
        starts every alarm name and is the dashboard's name (the stack's name)."""
        return MonitoringSettings(
            service_name=self.service_name, metrics_namespace=self.metrics_namespace,
            thresholds=self.alarms, runbook_base_url=self.runbook_base_url,
            dlq_max_age_seconds=self.dlq_max_age_seconds(subscription=False),
            subscription_dlq_max_age_seconds=self.dlq_max_age_seconds(subscription=True),
            name_prefix=name_prefix)

    @property
    def consumers(self) -> Mapping[str, QueueConsumer]:
        return {"create": self.create, "read": self.read, "write": self.write,
                "notify": self.notify}

    @classmethod
    def from_context(cls, value: object, *, fis: object = None) -> StackSettings:
        """Build from the CDK context value (a dict, a JSON string, or None); `fis`,
        the value of `FIS_CONTEXT_KEY` (`true`/`false`, as `cdk -c` passes it), turns
        the fault injection experiment on or off whatever the JSON says."""
        settings = cls._from_settings_context(value)
        if fis is None:
            return settings
        return dataclasses.replace(settings, fault_injection=dataclasses.replace(
            settings.fault_injection, enabled=_switch(FIS_CONTEXT_KEY, fis)))

    @classmethod
    def _from_settings_context(cls, value: object) -> StackSettings:
        if value is None:
            return cls()
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise SettingsError(f"context {CONTEXT_KEY} is not JSON: {exc}") from exc
        if not isinstance(value, Mapping):
            raise SettingsError(f"context {CONTEXT_KEY} must be a JSON object")
        return _with_overrides(cls(), value)


def _with_overrides(base: _T, overrides: Mapping[str, Any]) -> _T:
    if not dataclasses.is_dataclass(base) or isinstance(base, type):
        raise SettingsError(f"cannot override {base!r}")
    fields = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise SettingsError(f"unknown setting(s) {unknown} in {type(base).__name__}")
    changes: dict[str, Any] = {}
    for name, raw in overrides.items():
        current = getattr(base, name)
        if dataclasses.is_dataclass(current):
            if not isinstance(raw, Mapping):
                raise SettingsError(f"setting {name} must be an object")
            changes[name] = _with_overrides(current, raw)
        else:
            changes[name] = _coerce(name, current, raw)
    return dataclasses.replace(base, **changes)


_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no", ""})


def _switch(name: str, raw: object) -> bool:
    """A context value that turns something on or off; anything else is an error (a
    typo must not deploy, or fail to deploy, an experiment silently)."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise SettingsError(f"context {name}={raw!r} is neither true nor false")


def _coerce(name: str, current: object, raw: object) -> object:
    """Accept strings too: `cdk -c` passes every context value as a string."""
    if raw is None:
        return None
    target = type(current) if current is not None else int
    try:
        if target is bool and isinstance(raw, str):
            return raw.lower() in {"1", "true", "yes"}
        return target(raw)  # type: ignore[call-arg]
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}={raw!r} is not a {target.__name__}") from exc
