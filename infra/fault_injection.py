"""`ConsumersToFaultExperiment`: an AWS FIS experiment template on the queue consumers.

Opt-in (`-c crudops:fis=true`, `FaultInjectionSettings.enabled`): without it the stack
has none of this. With it, every function behind an SQS event source mapping (Create,
Read, UpdateDelete, Notify) carries the AWS FIS Lambda extension: a layer, the exec
wrapper that puts the extension's Runtime API proxy in front of the handler, and the
S3 location where FIS writes an experiment's fault configuration and the extension
polls it. The experiment template runs two actions at once on those functions —
`aws:lambda:invocation-error` and `aws:lambda:invocation-add-delay`, which the
extension applies together because they are different actions — for
`duration_seconds`, unless a stop condition fires first. `crudops verify --stack NAME
--faults fis` starts it (tools/verify/fis.py). Why each choice: ADR 0028.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_fis as fis
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from dashboards.alarms import Runbook
from infra.lambda_function import ServiceFunction, log_retention
from infra.nag import acknowledge, nag_finding_id
from infra.names import per_stack
from infra.settings import FIS_EXTENSION_LAYER_PARAMETER, FaultInjectionSettings

# The folder of the bucket that FIS writes to and the extension reads from.
CONFIGURATION_PREFIX: Final = "FisConfigs"
# What the extension reads (docs: "AWS FIS Lambda environment variables").
EXEC_WRAPPER: Final = "/opt/aws-fis/bootstrap"
ENV_EXEC_WRAPPER: Final = "AWS_LAMBDA_EXEC_WRAPPER"
ENV_CONFIGURATION_LOCATION: Final = "AWS_FIS_CONFIGURATION_LOCATION"
ENV_POLL_MAX_WAIT: Final = "AWS_FIS_POLL_MAX_WAIT_MILLISECONDS"
LAMBDA_TARGET_TYPE: Final = "aws:lambda:function"
# The target key FIS's Lambda actions name their functions by.
LAMBDA_TARGET_KEY: Final = "Functions"
TARGET_NAME: Final = "Consumers"
INVOCATION_ERROR: Final = "aws:lambda:invocation-error"
INVOCATION_ADD_DELAY: Final = "aws:lambda:invocation-add-delay"
# The tag `crudops verify` and an operator find the experiment by.
EXPERIMENT_TAG: Final = "crudops:experiment"
EXPERIMENT_NAME: Final = "consumer-faults"
GUARD_PERIOD: Final = Duration.minutes(1)
# CloudWatch Logs' vended delivery (what FIS experiment logging uses) authorizes these
# on the caller, with no resource-level permissions.
LOG_DELIVERY_ACTIONS: Final = ("logs:CreateLogDelivery", "logs:PutResourcePolicy",
                               "logs:DescribeResourcePolicies", "logs:DescribeLogGroups")


def extension_layer_arn(scope: Construct, settings: FaultInjectionSettings) -> str:
    """The setting's ARN, else the public SSM parameter AWS publishes per Region
    (a template parameter of type `AWS::SSM::Parameter::Value<String>`, resolved by
    CloudFormation at deploy time, so the template names no Region's account)."""
    if settings.extension_layer_arn:
        return settings.extension_layer_arn
    return ssm.StringParameter.value_for_string_parameter(scope, FIS_EXTENSION_LAYER_PARAMETER)


class ConsumersToFaultExperiment(Construct):
    """The extension on each consumer, the configuration bucket, the experiment role,
    its log group, the guard alarm and the experiment template.

    `dead_letter_queues`: the consumers' DLQs, summed by the guard alarm (a stop
    condition). `api_alarm_name`: the stack's API 5XX alarm, the other stop condition;
    `alarms` is the construct that holds it, which the template is created after.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: FaultInjectionSettings,
        consumers: Sequence[ServiceFunction],
        dead_letter_queues: Sequence[sqs.IQueue],
        api_alarm_name: str,
        alarms: Construct,
        runbook_base_url: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.bucket = self._configuration_bucket()
        location = f"{self.bucket.bucket_arn}/{CONFIGURATION_PREFIX}/"
        layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "ExtensionLayer", extension_layer_arn(self, settings))
        for consumer in consumers:
            self._carry_extension(consumer, layer, location)
        self.log_group = logs.LogGroup(
            self, "ExperimentLogs", retention=log_retention(log_retention_days),
            removal_policy=RemovalPolicy.DESTROY)
        self.role = self._experiment_role([c.function for c in consumers])
        self.guard = self._guard_alarm(dead_letter_queues, runbook_base_url)
        self.template = self._experiment_template(
            [c.function for c in consumers],
            stop_alarms=[self.guard.alarm_arn, _alarm_arn(self, api_alarm_name)])
        # FIS checks the stop-condition alarms when the template is created.
        self.template.node.add_dependency(alarms)

    # --- the functions' side --------------------------------------------------------
    def _configuration_bucket(self) -> s3.Bucket:
        """Holds only FIS's short-lived fault configurations: FIS deletes each when its
        experiment ends; the lifecycle rule removes any it could not."""
        bucket = s3.Bucket(
            self, "Configurations",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(1))],
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(bucket, "AwsSolutions-S1",
                    "Holds only the fault configurations FIS writes for a running "
                    "experiment; every write is recorded by the experiment's own log.")
        return bucket

    def _carry_extension(self, consumer: ServiceFunction, layer: lambda_.ILayerVersion,
                         location: str) -> None:
        function = consumer.function
        function.add_layers(layer)
        function.add_environment(ENV_EXEC_WRAPPER, EXEC_WRAPPER)
        function.add_environment(ENV_CONFIGURATION_LOCATION, location)
        function.add_environment(ENV_POLL_MAX_WAIT,
                                 str(self.settings.poll_max_wait_milliseconds))
        # The extension lists and reads the configuration folder, nothing else.
        consumer.role.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{CONFIGURATION_PREFIX}/*"]}}))
        consumer.role.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[self.bucket.arn_for_objects(f"{CONFIGURATION_PREFIX}/*")]))
        acknowledge(consumer, self._configurations_finding(),
                    "The FIS extension reads whichever configuration file FIS writes for "
                    "an experiment; the names are FIS's, inside one folder of a bucket "
                    "that holds nothing else.")

    def _configurations_finding(self) -> str:
        """cdk-nag's id of the wildcard on the configuration folder's objects."""
        objects = self.bucket.arn_for_objects(f"{CONFIGURATION_PREFIX}/*")
        return nag_finding_id("AwsSolutions-IAM5", "Resource", Stack.of(self).resolve(objects))

    # --- the experiment's side ------------------------------------------------------
    def _experiment_role(self, functions: Sequence[lambda_.IFunction]) -> iam.Role:
        """What FIS's Lambda actions and experiment logging need, and no more."""
        stack = Stack.of(self)
        role = iam.Role(
            self, "ExperimentRole",
            assumed_by=iam.ServicePrincipal("fis.amazonaws.com", conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": stack.format_arn(
                    service="fis", resource="experiment", resource_name="*")},
            }),
            description="crudops: FIS experiments on the queue consumers",
        )
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:PutObject", "s3:DeleteObject"],
            resources=[self.bucket.arn_for_objects(f"{CONFIGURATION_PREFIX}/*")]))
        # FIS reads each target's configuration location from its environment.
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["lambda:GetFunction"],
            resources=[function.function_arn for function in functions]))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["tag:GetResources"], resources=["*"]))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=list(LOG_DELIVERY_ACTIONS), resources=["*"]))
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                    "tag:GetResources and CloudWatch Logs' log delivery actions "
                    "(experiment logging) support no resource-level permissions.")
        acknowledge(role, self._configurations_finding(),
                    "FIS names the configuration files it writes for each experiment; "
                    "the role may write only inside their folder.")
        return role

    def _guard_alarm(self, dead_letter_queues: Sequence[sqs.IQueue],
                     runbook_base_url: str) -> cloudwatch.Alarm:
        """Commands parked in the consumers' DLQs, summed, per minute.

        A few parked commands are what faults may cost and what `crudops verify
        --redrive` sends back; more than `max_parked_commands` means the retries no
        longer absorb the faults, and the experiment stops. It notifies no one: the
        stack's own DLQ alarms page as always.
        """
        metrics = {f"dlq{index}": queue.metric_approximate_number_of_messages_visible(
            statistic="Maximum", period=GUARD_PERIOD)
            for index, queue in enumerate(dead_letter_queues)}
        return cloudwatch.Alarm(
            self, "ParkedCommands",
            alarm_name=per_stack("fault-experiment-parked-commands"),
            alarm_description=(
                "[experiment guard] More commands wait in the consumers' dead-letter "
                "queues than a FIS experiment may park; it stops the experiment and "
                f"notifies no one.\nRunbook: {runbook_base_url}"
                f"{Runbook.DLQ_NOT_EMPTY.file_name}"),
            metric=cloudwatch.MathExpression(
                expression="+".join(metrics), using_metrics=metrics, period=GUARD_PERIOD,
                label="commands parked in the consumers' DLQs"),
            threshold=self.settings.max_parked_commands,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            actions_enabled=False,
        )

    def _experiment_template(self, functions: Sequence[lambda_.IFunction], *,
                             stop_alarms: Sequence[str]) -> fis.CfnExperimentTemplate:
        settings = self.settings
        functions_target = {LAMBDA_TARGET_KEY: TARGET_NAME}
        prevent = "true" if settings.prevent_execution else "false"
        return fis.CfnExperimentTemplate(
            self, "ConsumerFaults",
            description=(f"crudops: {settings.error_percentage}% invocation errors and "
                         f"{settings.delay_percentage}% +{settings.delay_milliseconds} ms "
                         "on the queue consumers"),
            role_arn=self.role.role_arn,
            targets={TARGET_NAME: fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty(
                resource_type=LAMBDA_TARGET_TYPE,
                resource_arns=[function.function_arn for function in functions],
                selection_mode="ALL")},
            actions={
                "InvocationErrors": fis.CfnExperimentTemplate.ExperimentTemplateActionProperty(
                    action_id=INVOCATION_ERROR,
                    description="Fail a share of the consumers' invocations",
                    parameters={"duration": settings.duration,
                                "invocationPercentage": str(settings.error_percentage),
                                "preventExecution": prevent},
                    targets=functions_target),
                "AddedDelay": fis.CfnExperimentTemplate.ExperimentTemplateActionProperty(
                    action_id=INVOCATION_ADD_DELAY,
                    description="Start a share of the consumers' invocations late",
                    parameters={"duration": settings.duration,
                                "invocationPercentage": str(settings.delay_percentage),
                                "startupDelayMilliseconds": str(settings.delay_milliseconds)},
                    targets=functions_target),
            },
            stop_conditions=[fis.CfnExperimentTemplate.ExperimentTemplateStopConditionProperty(
                source="aws:cloudwatch:alarm", value=arn) for arn in stop_alarms],
            log_configuration=fis.CfnExperimentTemplate.ExperimentTemplateLogConfigurationProperty(
                log_schema_version=2,
                cloud_watch_logs_configuration={"LogGroupArn": self.log_group.log_group_arn}),
            experiment_options=(
                fis.CfnExperimentTemplate.ExperimentTemplateExperimentOptionsProperty(
                    account_targeting="single-account", empty_target_resolution_mode="fail")),
            tags={EXPERIMENT_TAG: EXPERIMENT_NAME, "Name": per_stack(EXPERIMENT_NAME)},
        )


def _alarm_arn(scope: Construct, alarm_name: str) -> str:
    return Stack.of(scope).format_arn(service="cloudwatch", resource="alarm",
                                      resource_name=alarm_name,
                                      arn_format=ArnFormat.COLON_RESOURCE_NAME)
