"""One provider per CloudFormation type, registered here by type.

Teaching the local stack a type is one module under `providers/` with its provider
class (see `base.ResourceProvider`) and one line in `PROVIDERS`. A type with no
provider gets an id only (`placeholders.Placeholder`), as the types the local stack
plays itself do; tests/unit/local/test_providers.py fails when the synthesized
template uses a type that is not registered, so that a new one is a decision.
"""

from __future__ import annotations

from collections.abc import Mapping

from crudops_local.cloudformation.providers.apigateway_rest_api import RestApi, RestApiStage
from crudops_local.cloudformation.providers.apigatewayv2_api import (
    WebSocketApi,
    WebSocketStage,
)
from crudops_local.cloudformation.providers.base import ResourceProvider
from crudops_local.cloudformation.providers.cloudwatch_alarm import CloudWatchAlarm
from crudops_local.cloudformation.providers.cognito_user_pool import (
    CognitoUserPool,
    CognitoUserPoolClient,
)
from crudops_local.cloudformation.providers.dynamodb_table import DynamoDbTable
from crudops_local.cloudformation.providers.iam_role import IamRole
from crudops_local.cloudformation.providers.kms_key import KmsKey
from crudops_local.cloudformation.providers.lambda_function import LambdaFunction
from crudops_local.cloudformation.providers.logs_log_group import LogsLogGroup
from crudops_local.cloudformation.providers.placeholders import IDS_ONLY_TYPES, Placeholder
from crudops_local.cloudformation.providers.sns_subscription import SnsSubscription
from crudops_local.cloudformation.providers.sns_topic import SnsTopic
from crudops_local.cloudformation.providers.sns_topic_policy import SnsTopicPolicy
from crudops_local.cloudformation.providers.sqs_queue import SqsQueue
from crudops_local.cloudformation.providers.sqs_queue_policy import SqsQueuePolicy

PROVIDERS: Mapping[str, ResourceProvider] = {provider.type: provider for provider in (
    DynamoDbTable(),
    SqsQueue(),
    SqsQueuePolicy(),
    SnsTopic(),
    SnsTopicPolicy(),
    SnsSubscription(),
    KmsKey(),
    LogsLogGroup(),
    CloudWatchAlarm(),
    CognitoUserPool(),
    CognitoUserPoolClient(),
    LambdaFunction(),
    IamRole(),
    RestApi(),
    RestApiStage(),
    WebSocketApi(),
    WebSocketStage(),
    *(Placeholder(resource_type) for resource_type in IDS_ONLY_TYPES),
)}


def provider_for(resource_type: str) -> ResourceProvider:
    """The type's provider; an id-only placeholder for a type none is registered for."""
    return PROVIDERS.get(resource_type) or Placeholder(resource_type)


__all__ = ["PROVIDERS", "ResourceProvider", "provider_for"]
