"""The functions: runtime, handlers, tracing, layer, environment, event sources."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from functions.settings import DEFAULTS, EnvVar
from infra.lambda_function import POWERTOOLS_LAYER_NAME
from infra.settings import StackSettings
from tests.infra.helpers import Resources, logical_id_of, of_type, props

FUNCTION = "AWS::Lambda::Function"
ESM = "AWS::Lambda::EventSourceMapping"

HANDLERS = {
    "WorkersCreate": "functions.create.handler",
    "WorkersRead": "functions.read.handler",
    "WorkersUpdateDelete": "functions.update_delete.handler",
    "WorkersNotify": "functions.notify.handler",
    "WebSocketWsConnect": "functions.ws_connect.handler",
    "WebSocketWsDisconnect": "functions.ws_disconnect.handler",
    "WebSocketWsDefault": "functions.ws_default.handler",
    "WebSocketWsAuthorizer": "functions.ws_authorizer.handler",
}
COMMAND_ENV = {
    EnvVar.ITEMS_TABLE, EnvVar.OUTCOMES_TABLE, EnvVar.NOTIFICATIONS_QUEUE_URL,
    EnvVar.OUTCOME_TTL_SECONDS, EnvVar.MISSING_ITEM_RETRY_WINDOW_SECONDS,
    EnvVar.MISSING_ITEM_RETRY_DELAY_SECONDS, EnvVar.MAX_RECEIVE_COUNT, EnvVar.LIST_MAX_LIMIT,
    EnvVar.NOTIFICATION_MAX_BYTES, EnvVar.SERVICE_NAME, EnvVar.METRICS_NAMESPACE,
}
SUBSCRIBE_ENV = {
    EnvVar.SUBSCRIPTIONS_TABLE, EnvVar.OUTCOMES_TABLE, EnvVar.NOTIFICATIONS_QUEUE_URL,
    EnvVar.WEBSOCKET_CALLBACK_URL, EnvVar.SUBSCRIPTION_TTL_SECONDS,
    EnvVar.LATE_SUBSCRIBER_REPLAY_DELAY_SECONDS, EnvVar.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    EnvVar.SERVICE_NAME, EnvVar.METRICS_NAMESPACE,
}
ENVIRONMENTS = {
    "WorkersCreate": COMMAND_ENV,
    "WorkersRead": COMMAND_ENV,
    "WorkersUpdateDelete": COMMAND_ENV,
    "WorkersNotify": {
        EnvVar.SUBSCRIPTIONS_TABLE, EnvVar.OUTCOMES_TABLE, EnvVar.SUBSCRIPTIONS_BY_CONNECTION_INDEX,
        EnvVar.WEBSOCKET_CALLBACK_URL, EnvVar.SERVICE_NAME, EnvVar.METRICS_NAMESPACE,
        EnvVar.MAX_RECEIVE_COUNT, EnvVar.NOTIFICATIONS_QUEUE_URL,
    },
    "WebSocketWsConnect": SUBSCRIBE_ENV,
    "WebSocketWsDefault": SUBSCRIBE_ENV,
    "WebSocketWsDisconnect": {
        EnvVar.SUBSCRIPTIONS_TABLE, EnvVar.SUBSCRIPTIONS_BY_CONNECTION_INDEX,
        EnvVar.SERVICE_NAME, EnvVar.METRICS_NAMESPACE,
    },
    "WebSocketWsAuthorizer": {
        EnvVar.USER_POOL_ID, EnvVar.USER_POOL_CLIENT_ID, EnvVar.TOKEN_ISSUER,
        EnvVar.SERVICE_NAME, EnvVar.METRICS_NAMESPACE,
    },
}
SOURCE_QUEUES = {
    "WorkersCreate": ("MessagingCreateConsumerQueue", "create"),
    "WorkersRead": ("MessagingReadConsumerQueue", "read"),
    "WorkersUpdateDelete": ("MessagingWriteConsumerQueue", "write"),
    "WorkersNotify": ("MessagingNotificationsQueue", "notify"),
}


def _function(resources: Resources, name: str) -> dict[str, Any]:
    return props(resources[logical_id_of(resources, FUNCTION, name)])


def test_one_function_per_handler(resources: Resources) -> None:
    assert len(of_type(resources, FUNCTION)) == len(HANDLERS)


@pytest.mark.parametrize(("name", "handler"), HANDLERS.items())
def test_function_runtime_handler_tracing_layer(
    resources: Resources, settings: StackSettings, name: str, handler: str
) -> None:
    function = _function(resources, name)
    assert function["Runtime"] == "python3.13"
    assert function["Handler"] == handler
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["Architectures"] == ["x86_64"]
    assert function["LoggingConfig"]["LogGroup"]["Ref"] in resources
    (layer,) = function["Layers"]
    pattern, variables = layer["Fn::Sub"]
    assert pattern.startswith("arn:${AWS::Partition}:lambda:${AWS::Region}:")
    # The account by partition and region: tests/infra/test_lambda_packaging.py.
    assert variables["Account"]["Fn::If"]
    assert (variables["Name"], variables["Version"]) == (
        POWERTOOLS_LAYER_NAME, str(settings.powertools_layer_version))


def test_function_code_is_one_plain_asset_holding_the_functions_package(
    resources: Resources, synthesized: Any
) -> None:
    codes = {
        str(props(f)["Code"]["S3Key"]) for f in of_type(resources, FUNCTION).values()
    }
    assert len(codes) == 1
    asset_dir = synthesized.template.parent / f"asset.{codes.pop().removesuffix('.zip')}"
    assert (asset_dir / "functions" / "__init__.py").is_file()
    assert (asset_dir / "functions" / "settings.py").is_file()
    assert not list(asset_dir.rglob("__pycache__"))


def test_log_groups_have_explicit_retention(resources: Resources, settings: StackSettings) -> None:
    for logical_id, group in of_type(resources, "AWS::Logs::LogGroup").items():
        assert props(group)["RetentionInDays"] == settings.log_retention_days, logical_id


@pytest.mark.parametrize(("name", "expected"), ENVIRONMENTS.items())
def test_function_environment(
    resources: Resources, name: str, expected: set[EnvVar]
) -> None:
    variables = _function(resources, name)["Environment"]["Variables"]
    assert set(variables) == {v.value for v in expected} | {"POWERTOOLS_LOG_LEVEL",
                                                           EnvVar.FUNCTION.value}


@pytest.mark.parametrize("name", ["WorkersCreate", "WorkersRead", "WorkersUpdateDelete",
                                  "WorkersNotify"])
def test_handler_max_receive_count_equals_its_queue_redrive(
    resources: Resources, settings: StackSettings, name: str
) -> None:
    variables = _function(resources, name)["Environment"]["Variables"]
    queue_part, _ = SOURCE_QUEUES[name]
    queue = props(resources[logical_id_of(resources, "AWS::SQS::Queue", queue_part)])
    assert int(variables[EnvVar.MAX_RECEIVE_COUNT.value]) == queue["RedrivePolicy"][
        "maxReceiveCount"
    ]
    if name != "WorkersNotify":
        assert variables[EnvVar.OUTCOME_TTL_SECONDS.value] == str(settings.outcome_ttl_seconds)


def test_index_name_passed_to_functions_matches_the_table(resources: Resources) -> None:
    for name in ("WorkersNotify", "WebSocketWsDisconnect"):
        variables = _function(resources, name)["Environment"]["Variables"]
        index = variables[EnvVar.SUBSCRIPTIONS_BY_CONNECTION_INDEX.value]
        assert index == DEFAULTS.subscriptions_by_connection_index


def test_callback_url_is_built_from_the_api_region_and_stage(resources: Resources) -> None:
    api_id = logical_id_of(resources, "AWS::ApiGatewayV2::Api", "WebSocket")
    stage_id = logical_id_of(resources, "AWS::ApiGatewayV2::Stage", "WebSocket")
    stage_name = props(resources[stage_id])["StageName"]
    url = _function(resources, "WorkersNotify")["Environment"]["Variables"][
        EnvVar.WEBSOCKET_CALLBACK_URL.value
    ]
    assert url == {
        "Fn::Join": [
            "",
            [
                "https://", {"Ref": api_id}, ".execute-api.", {"Ref": "AWS::Region"}, ".",
                {"Ref": "AWS::URLSuffix"}, f"/{stage_name}",
            ],
        ]
    }


@pytest.mark.parametrize(("name", "source"), SOURCE_QUEUES.items())
def test_event_source_mapping_from_settings(
    resources: Resources, settings: StackSettings, name: str, source: tuple[str, str]
) -> None:
    queue_part, consumer_name = source
    consumer = settings.consumers[consumer_name]
    function_id = logical_id_of(resources, FUNCTION, name)
    queue_id = logical_id_of(resources, "AWS::SQS::Queue", queue_part)
    (mapping,) = [
        props(m) for m in of_type(resources, ESM).values()
        if props(m)["FunctionName"] == {"Ref": function_id}
    ]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == consumer.batch_size
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": consumer.max_concurrency}
    window = mapping.get("MaximumBatchingWindowInSeconds", 0)
    assert window == consumer.max_batching_window_seconds
    timeout = _function(resources, name)["Timeout"]
    assert timeout == consumer.function.timeout_seconds
    queue = props(resources[queue_id])
    assert queue["VisibilityTimeout"] >= 6 * timeout + window


def test_every_mapping_reports_batch_item_failures(template: Template) -> None:
    template.resource_count_is(ESM, 4)
    template.all_resources_properties(ESM, {"FunctionResponseTypes": ["ReportBatchItemFailures"]})
