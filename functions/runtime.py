"""Per-process singletons of a function: Powertools utilities, settings, AWS clients.

Clients are created on first use (not at import) so tests can point them at an
emulator first; `reset()` forgets them between tests.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer

from functions.settings import FunctionSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@functools.cache
def settings() -> FunctionSettings:
    return FunctionSettings.from_env()


@functools.cache
def dynamodb() -> Any:
    return boto3.client("dynamodb")


@functools.cache
def sqs() -> Any:
    return boto3.client("sqs")


@functools.cache
def management_api() -> Any:
    """API Gateway's management API of our WebSocket stage (post_to_connection)."""
    return boto3.client("apigatewaymanagementapi", endpoint_url=settings().websocket_callback_url)


@functools.cache
def queue_url_from_arn(queue_arn: str) -> str:
    """Event records carry the queue ARN; SQS calls want its URL."""
    _, _, _, _, account, name = queue_arn.split(":", 5)
    return str(sqs().get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


_CACHED = (settings, dynamodb, sqs, management_api, queue_url_from_arn)


def reset() -> None:
    for cached in _CACHED:
        cached.cache_clear()
