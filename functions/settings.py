"""Every setting a function reads, with the environment variable that carries it.

The CDK stack imports `EnvVar` to fill each function's environment, so the name on
both sides is spelled once. `FunctionSettings.from_env()` is called lazily by the
handlers (never at import time of a module that tests import), so a test can set
the environment first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from functions.contracts.metrics import DEFAULT_NAMESPACE


class EnvVar(StrEnum):
    """Environment variable names shared by the stack (writer) and functions (reader)."""

    ITEMS_TABLE = "ITEMS_TABLE_NAME"
    OUTCOMES_TABLE = "OUTCOMES_TABLE_NAME"
    SUBSCRIPTIONS_TABLE = "SUBSCRIPTIONS_TABLE_NAME"
    SUBSCRIPTIONS_BY_CONNECTION_INDEX = "SUBSCRIPTIONS_BY_CONNECTION_INDEX"
    NOTIFICATIONS_QUEUE_URL = "NOTIFICATIONS_QUEUE_URL"
    WEBSOCKET_CALLBACK_URL = "WEBSOCKET_CALLBACK_URL"
    OUTCOME_TTL_SECONDS = "OUTCOME_TTL_SECONDS"
    SUBSCRIPTION_TTL_SECONDS = "SUBSCRIPTION_TTL_SECONDS"
    MISSING_ITEM_RETRY_WINDOW_SECONDS = "MISSING_ITEM_RETRY_WINDOW_SECONDS"
    MISSING_ITEM_RETRY_DELAY_SECONDS = "MISSING_ITEM_RETRY_DELAY_SECONDS"
    MAX_RECEIVE_COUNT = "MAX_RECEIVE_COUNT"
    LIST_MAX_LIMIT = "LIST_MAX_LIMIT"
    NOTIFICATION_MAX_BYTES = "NOTIFICATION_MAX_BYTES"
    LATE_SUBSCRIBER_REPLAY_DELAY_SECONDS = "LATE_SUBSCRIBER_REPLAY_DELAY_SECONDS"
    MAX_SUBSCRIPTIONS_PER_CONNECTION = "MAX_SUBSCRIPTIONS_PER_CONNECTION"
    # The Cognito user pool whose tokens the `$connect` authorizer accepts, its app
    # client, and the issuer its tokens carry (`https://` + the pool's provider URL).
    USER_POOL_ID = "CRUDOPS_USER_POOL_ID"
    USER_POOL_CLIENT_ID = "CRUDOPS_USER_POOL_CLIENT_ID"
    TOKEN_ISSUER = "CRUDOPS_TOKEN_ISSUER"
    # The function's short name (`create`, `update-delete`, `notify`, ...): the one its
    # alarms, metrics and `crudops logs` use, unlike the generated physical name.
    FUNCTION = "CRUDOPS_FUNCTION"
    SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
    METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"


@dataclass(frozen=True)
class Defaults:
    """Defaults for the tunables; the stack passes its own values explicitly."""

    outcome_ttl_seconds: int = 7 * 24 * 3600
    subscription_ttl_seconds: int = 2 * 3600
    missing_item_retry_window_seconds: int = 60
    missing_item_retry_delay_seconds: int = 5
    max_receive_count: int = 5
    list_max_limit: int = 100
    # API Gateway WebSocket frames are limited to 128 KiB; keep a margin for framing.
    notification_max_bytes: int = 120 * 1024
    # A $connect handler cannot post to its own connection until it has returned: its
    # replay request goes at once, and Notify asks again while the connection is not
    # open, after these delays (the first ones a queue round trip each, tens of ms; a
    # connect slower than those is given ~6 s more), then gives up.
    late_subscriber_replay_delay_seconds: int = 0
    late_subscriber_replay_retry_delays_seconds: tuple[int, ...] = (0, 0, 0, 0, 1, 1, 1, 1, 1, 1)
    # Live subscriptions (not yet answered) one WebSocket connection may hold. Far
    # above what a client waiting on its own requests holds: `crudops verify` spreads
    # its 300 commands over 4 connections, a load test user holds its share of the
    # rate times the notify timeout (10/s x 30 s at the stage's 100/s over 10 users).
    max_subscriptions_per_connection: int = 1000
    subscriptions_by_connection_index: str = "byConnection"
    metrics_namespace: str = DEFAULT_NAMESPACE


DEFAULTS = Defaults()


def _int(env: Mapping[str, str], name: EnvVar, default: int) -> int:
    raw = env.get(name.value)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"environment variable {name.value}={raw!r} is not an integer") from exc


@dataclass(frozen=True)
class FunctionSettings:
    """The resolved settings of one function invocation environment.

    Table and queue names are optional so that each function only needs what it uses;
    `require()` raises a clear error naming the missing variable.
    """

    function: str = ""
    items_table: str = ""
    outcomes_table: str = ""
    subscriptions_table: str = ""
    subscriptions_by_connection_index: str = DEFAULTS.subscriptions_by_connection_index
    notifications_queue_url: str = ""
    websocket_callback_url: str = ""
    outcome_ttl_seconds: int = DEFAULTS.outcome_ttl_seconds
    subscription_ttl_seconds: int = DEFAULTS.subscription_ttl_seconds
    missing_item_retry_window_seconds: int = DEFAULTS.missing_item_retry_window_seconds
    missing_item_retry_delay_seconds: int = DEFAULTS.missing_item_retry_delay_seconds
    max_receive_count: int = DEFAULTS.max_receive_count
    list_max_limit: int = DEFAULTS.list_max_limit
    notification_max_bytes: int = DEFAULTS.notification_max_bytes
    late_subscriber_replay_delay_seconds: int = DEFAULTS.late_subscriber_replay_delay_seconds
    max_subscriptions_per_connection: int = DEFAULTS.max_subscriptions_per_connection
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    token_issuer: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FunctionSettings:
        source: Mapping[str, str] = os.environ if env is None else env
        return cls(
            function=source.get(EnvVar.FUNCTION.value, ""),
            items_table=source.get(EnvVar.ITEMS_TABLE.value, ""),
            outcomes_table=source.get(EnvVar.OUTCOMES_TABLE.value, ""),
            subscriptions_table=source.get(EnvVar.SUBSCRIPTIONS_TABLE.value, ""),
            subscriptions_by_connection_index=source.get(
                EnvVar.SUBSCRIPTIONS_BY_CONNECTION_INDEX.value,
                DEFAULTS.subscriptions_by_connection_index,
            ),
            notifications_queue_url=source.get(EnvVar.NOTIFICATIONS_QUEUE_URL.value, ""),
            websocket_callback_url=source.get(EnvVar.WEBSOCKET_CALLBACK_URL.value, ""),
            outcome_ttl_seconds=_int(
                source, EnvVar.OUTCOME_TTL_SECONDS, DEFAULTS.outcome_ttl_seconds
            ),
            subscription_ttl_seconds=_int(
                source, EnvVar.SUBSCRIPTION_TTL_SECONDS, DEFAULTS.subscription_ttl_seconds
            ),
            missing_item_retry_window_seconds=_int(
                source,
                EnvVar.MISSING_ITEM_RETRY_WINDOW_SECONDS,
                DEFAULTS.missing_item_retry_window_seconds,
            ),
            missing_item_retry_delay_seconds=_int(
                source,
                EnvVar.MISSING_ITEM_RETRY_DELAY_SECONDS,
                DEFAULTS.missing_item_retry_delay_seconds,
            ),
            max_receive_count=_int(source, EnvVar.MAX_RECEIVE_COUNT, DEFAULTS.max_receive_count),
            list_max_limit=_int(source, EnvVar.LIST_MAX_LIMIT, DEFAULTS.list_max_limit),
            notification_max_bytes=_int(
                source, EnvVar.NOTIFICATION_MAX_BYTES, DEFAULTS.notification_max_bytes
            ),
            late_subscriber_replay_delay_seconds=_int(
                source,
                EnvVar.LATE_SUBSCRIBER_REPLAY_DELAY_SECONDS,
                DEFAULTS.late_subscriber_replay_delay_seconds,
            ),
            max_subscriptions_per_connection=_int(
                source,
                EnvVar.MAX_SUBSCRIPTIONS_PER_CONNECTION,
                DEFAULTS.max_subscriptions_per_connection,
            ),
            user_pool_id=source.get(EnvVar.USER_POOL_ID.value, ""),
            user_pool_client_id=source.get(EnvVar.USER_POOL_CLIENT_ID.value, ""),
            token_issuer=source.get(EnvVar.TOKEN_ISSUER.value, ""),
        )

    def require(self, *fields: str) -> None:
        """Fail fast, at cold start, when a function lacks a resource name it needs."""
        env_by_field = {
            "items_table": EnvVar.ITEMS_TABLE,
            "outcomes_table": EnvVar.OUTCOMES_TABLE,
            "subscriptions_table": EnvVar.SUBSCRIPTIONS_TABLE,
            "notifications_queue_url": EnvVar.NOTIFICATIONS_QUEUE_URL,
            "websocket_callback_url": EnvVar.WEBSOCKET_CALLBACK_URL,
            "user_pool_id": EnvVar.USER_POOL_ID,
            "user_pool_client_id": EnvVar.USER_POOL_CLIENT_ID,
            "token_issuer": EnvVar.TOKEN_ISSUER,
        }
        missing = [env_by_field[f].value for f in fields if not getattr(self, f)]
        if missing:
            raise RuntimeError(f"missing environment variables: {', '.join(missing)}")
