"""The REST API: direct AWS integrations to the commands topic and the outcomes table.

No Lambda sits behind the REST API: API Gateway validates the request, publishes the
Command to SNS and answers 202 with the request id; the outcome arrives on the
WebSocket or from `GET /requests/{requestId}` (a DynamoDB `GetItem`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from functions.contracts.command import Operation
from functions.contracts.schemas import ITEM_CREATE_SCHEMA, ITEM_UPDATE_SCHEMA
from infra import mapping_templates as templates
from infra.firewall import Firewall
from infra.lambda_function import log_retention
from infra.nag import acknowledge
from infra.names import per_stack
from infra.settings import StackSettings
from infra.storage import grant_table

STAGE_NAME = "v1"
JSON = "application/json"

# Integration responses by the status SNS or DynamoDB returned. Success is matched
# explicitly; anything unexpected falls to the default (500), never to 202.
_SUCCESS = r"2\d{2}"
_UPSTREAM_5XX = r"5\d{2}"


def json_schema(schema: Mapping[str, Any]) -> apigateway.JsonSchema:
    """Turn a draft-04 JSON Schema dict into CDK's `JsonSchema` struct.

    API Gateway models support draft-04 only; the `$schema` key becomes
    `JsonSchemaVersion.DRAFT4` rather than being copied.
    """
    kwargs: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$schema":
            if "draft-04" not in value:
                raise ValueError(f"API Gateway supports JSON Schema draft-04 only, not {value}")
            kwargs["schema"] = apigateway.JsonSchemaVersion.DRAFT4
            continue
        name = re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
        if name == "type":
            kwargs[name] = apigateway.JsonSchemaType(value.upper())
        elif name in {"properties", "pattern_properties", "definitions"}:
            kwargs[name] = {k: json_schema(v) for k, v in value.items()}
        elif name in {"any_of", "all_of", "one_of"}:
            kwargs[name] = [json_schema(v) for v in value]
        elif name in {"items", "not", "additional_properties"} and isinstance(value, Mapping):
            kwargs["not_" if name == "not" else name] = json_schema(value)
        else:
            kwargs[name] = value
    return apigateway.JsonSchema(**kwargs)


class ApiToTopic(Construct):
    """Methods that publish a Command to an SNS topic and answer 202.

    The API assumes a role that may only `sns:Publish` to this topic (and use the
    topic's KMS key for that).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, topic: sns.ITopic, topic_key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = topic
        self.role = iam.Role(
            self,
            "PublishRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway publishes crudops commands",
        )
        # Written out rather than `topic.grant_publish`, which grants
        # `kms:GenerateDataKey*`; publishing to an SSE topic needs exactly these two.
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[topic_key.key_arn]
            )
        )

    def add_command_method(
        self,
        resource: apigateway.IResource,
        http_method: str,
        operation: Operation,
        *,
        validator: apigateway.IRequestValidator,
        request_parameters: Mapping[str, bool],
        request_model: apigateway.IModel | None = None,
    ) -> apigateway.Method:
        integration = apigateway.AwsIntegration(
            service="sns",
            path="/",
            integration_http_method="POST",
            options=apigateway.IntegrationOptions(
                credentials_role=self.role,
                passthrough_behavior=apigateway.PassthroughBehavior.NEVER,
                request_parameters={
                    "integration.request.header.Content-Type": (
                        "'application/x-www-form-urlencoded'"
                    ),
                    "integration.request.header.Accept": "'application/json'",
                },
                request_templates={
                    JSON: templates.sns_publish_template(operation, self.topic.topic_arn)
                },
                integration_responses=[
                    apigateway.IntegrationResponse(
                        status_code="202",
                        selection_pattern=_SUCCESS,
                        response_templates={JSON: templates.ACCEPTED_RESPONSE_TEMPLATE},
                    ),
                    apigateway.IntegrationResponse(
                        status_code="502",
                        selection_pattern=_UPSTREAM_5XX,
                        response_templates={
                            JSON: templates.error_body(
                                "UpstreamUnavailable", "the command was not accepted; retry"
                            )
                        },
                    ),
                    apigateway.IntegrationResponse(
                        status_code="500",
                        response_templates={
                            JSON: templates.error_body(
                                "PublishFailed", "the command was not accepted; retry"
                            )
                        },
                    ),
                ],
            ),
        )
        return resource.add_method(
            http_method,
            integration,
            request_validator=validator,
            request_parameters=dict(request_parameters),
            request_models={JSON: request_model} if request_model else None,
            method_responses=[
                apigateway.MethodResponse(status_code=code) for code in ("202", "500", "502")
            ],
        )


class ApiToTable(Construct):
    """`GET` of one stored outcome by request id, straight from DynamoDB."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        resource: apigateway.IResource,
        validator: apigateway.IRequestValidator,
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "ReadRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway reads crudops outcomes",
        )
        grant_table(self.role, table, "dynamodb:GetItem")
        integration = apigateway.AwsIntegration(
            service="dynamodb",
            action="GetItem",
            options=apigateway.IntegrationOptions(
                credentials_role=self.role,
                passthrough_behavior=apigateway.PassthroughBehavior.NEVER,
                request_templates={
                    JSON: templates.outcome_lookup_request_template(table.table_name)
                },
                integration_responses=[
                    apigateway.IntegrationResponse(
                        status_code="200",
                        selection_pattern=_SUCCESS,
                        response_templates={
                            JSON: templates.outcome_lookup_response_template()
                        },
                    ),
                    apigateway.IntegrationResponse(
                        status_code="502",
                        selection_pattern=_UPSTREAM_5XX,
                        response_templates={
                            JSON: templates.error_body("UpstreamUnavailable", "retry later")
                        },
                    ),
                    apigateway.IntegrationResponse(
                        status_code="500",
                        response_templates={
                            JSON: templates.error_body("LookupFailed", "retry later")
                        },
                    ),
                ],
            ),
        )
        self.method = resource.add_method(
            "GET",
            integration,
            request_validator=validator,
            request_parameters={"method.request.path.requestId": True},
            method_responses=[
                apigateway.MethodResponse(status_code=code)
                for code in ("200", "404", "500", "502")
            ],
        )


_GATEWAY_ERROR = (
    '{"error": {"code": "%s", "message": $context.error.messageString%s}, '
    '"requestId": "$context.requestId"}'
)


class CommandsApi(Construct):
    """The REST API, its stage (tracing, logs, throttling), validation and the WAF.

    Every method requires an ID token of `user_pool` in the `Authorization` header
    (API Gateway's Cognito authorizer, no OAuth scopes): a missing, expired or forged
    token is a 401 before any integration runs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: StackSettings,
        topic: sns.ITopic,
        topic_key: kms.IKey,
        outcomes: dynamodb.ITable,
        user_pool: cognito.IUserPool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.authorizer = apigateway.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[user_pool],
            identity_source=apigateway.IdentitySource.header("Authorization"),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=per_stack("api"),
            description="crudops commands: validated, published to SNS, answered 202",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            # Execution and access logging need the account's API Gateway CloudWatch
            # role; creating it here makes a first deployment in a new account work.
            cloud_watch_role=True,
            default_method_options=apigateway.MethodOptions(
                authorization_type=apigateway.AuthorizationType.COGNITO,
                authorizer=self.authorizer,
            ),
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE_NAME,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=settings.rest_throttle.rate_limit,
                throttling_burst_limit=settings.rest_throttle.burst_limit,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False,
                ),
            ),
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level API Gateway logging role uses the AWS policy made for "
            "exactly that role; a copy of it would not be narrower.",
        )
        self._add_gateway_responses()
        validate_body = self.api.add_request_validator(
            "BodyAndParameters", validate_request_body=True, validate_request_parameters=True
        )
        validate_parameters = self.api.add_request_validator(
            "Parameters", validate_request_body=False, validate_request_parameters=True
        )
        create_model = self.api.add_model(
            "ItemCreate", content_type=JSON, schema=json_schema(ITEM_CREATE_SCHEMA)
        )
        update_model = self.api.add_model(
            "ItemUpdate", content_type=JSON, schema=json_schema(ITEM_UPDATE_SCHEMA)
        )

        self.commands = ApiToTopic(self, "Commands", topic=topic, topic_key=topic_key)
        items = self.api.root.add_resource("items")
        item = items.add_resource("{id}")
        idempotency = {"method.request.header.Idempotency-Key": False}
        precondition = {"method.request.header.If-Match": False}
        item_id = {"method.request.path.id": True}
        self.commands.add_command_method(
            items, "POST", Operation.CREATE, validator=validate_body,
            request_parameters=idempotency, request_model=create_model,
        )
        self.commands.add_command_method(
            items, "GET", Operation.LIST, validator=validate_parameters,
            request_parameters={
                **idempotency,
                **{f"method.request.querystring.{name}": False
                   for name in templates.LIST_QUERY_PARAMETERS},
            },
        )
        self.commands.add_command_method(
            item, "GET", Operation.GET, validator=validate_parameters,
            request_parameters={**idempotency, **item_id},
        )
        self.commands.add_command_method(
            item, "PUT", Operation.UPDATE, validator=validate_body,
            request_parameters={**idempotency, **precondition, **item_id},
            request_model=update_model,
        )
        self.commands.add_command_method(
            item, "DELETE", Operation.DELETE, validator=validate_parameters,
            request_parameters={**idempotency, **precondition, **item_id},
        )
        self.outcomes = ApiToTable(
            self,
            "Outcomes",
            table=outcomes,
            resource=self.api.root.add_resource("requests").add_resource("{requestId}"),
            validator=validate_parameters,
        )
        self.firewall = Firewall(
            self,
            "Firewall",
            stage_arn=self.api.deployment_stage.stage_arn,
            max_body_bytes=settings.max_body_bytes,
            rate_limit=settings.waf_rate_limit,
        )

    def _add_gateway_responses(self) -> None:
        """JSON error bodies for API Gateway's own refusals (validation, size, auth).

        The authorizer's and the throttle's are spelled out, not left to Default4xx, so
        their status and code cannot drift, and a 401 names its scheme (RFC 6750).
        """
        details = ', "details": "$context.error.validationErrorString"'
        bearer = {"WWW-Authenticate": "'Bearer'"}
        responses = [
            ("BadRequestBody", apigateway.ResponseType.BAD_REQUEST_BODY, "400", details, None),
            ("BadRequestParameters", apigateway.ResponseType.BAD_REQUEST_PARAMETERS, "400",
             details, None),
            ("RequestTooLarge", apigateway.ResponseType.REQUEST_TOO_LARGE, "413", "", None),
            ("Unauthorized", apigateway.ResponseType.UNAUTHORIZED, "401", "", bearer),
            ("AccessDenied", apigateway.ResponseType.ACCESS_DENIED, "403", "", None),
            ("Throttled", apigateway.ResponseType.THROTTLED, "429", "", None),
            ("Default4xx", apigateway.ResponseType.DEFAULT_4_XX, None, "", None),
            ("Default5xx", apigateway.ResponseType.DEFAULT_5_XX, None, "", None),
        ]
        for name, response_type, status, extra, headers in responses:
            code = name if status else "$context.error.responseType"
            self.api.add_gateway_response(
                name,
                type=response_type,
                status_code=status,
                response_headers=headers,
                templates={JSON: _GATEWAY_ERROR % (code, extra)},
            )
