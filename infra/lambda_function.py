"""One Lambda function with the defaults every crudops function shares.

The code is a plain directory asset whose root holds the `functions/` package, so the
handler string `functions.create.handler` imports the same module in Lambda as in the
tests. No Docker bundling: the functions' third-party imports (Powertools and its
dependencies, boto3, and `cryptography`, which the layer carries for its data masking
extra) come from the Powertools layer and the runtime; the pure-Python packages the
layer lacks (`BUNDLED_PACKAGES`: PyJWT) are copied beside `functions/` from this
environment, so the deployed version is the one pinned and tested (ADR 0024).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from aws_cdk import Aws, CfnCondition, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.settings import EnvVar
from infra.function_names import short_name
from infra.nag import acknowledge
from infra.settings import FunctionSizing, StackSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_PACKAGE = REPO_ROOT / "functions"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python313-x86_64"
# The accounts that publish the public Powertools layer, from the layer tables of
# Powertools' docs (docs/index.md: "Lambda Layer", "Lambda Layer (GovCloud)", China):
# one account for every commercial Region, one for China (cn-north-1), and one per
# GovCloud Region. The stack picks one by `AWS::Partition` / `AWS::Region` at deploy
# time (ADR 0024), so the template stays free of a fixed environment.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_ACCOUNT_BY_PARTITION: Final = {"aws-cn": "498634801083"}
POWERTOOLS_LAYER_ACCOUNT_BY_REGION: Final = {
    "us-gov-east-1": "165087284144",
    "us-gov-west-1": "165093116878",
}

# Import name -> distribution of the pure-Python packages the asset carries itself.
BUNDLED_PACKAGES: Final = {"jwt": "pyjwt"}
_NOT_SOURCE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")

_RETENTION_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}



def log_retention(days: int) -> logs.RetentionDays:
    return _RETENTION_BY_DAYS[days]


def stage_lambda_source(staging_root: Path, source: Path = FUNCTIONS_PACKAGE,
                        bundled: Mapping[str, str] = BUNDLED_PACKAGES) -> Path:
    """Copy the `functions` package, and each `bundled` package with its dist-info
    (version and license), into `staging_root` and return the root.

    The copy leaves out bytecode caches so the asset hash (and thus the deployment)
    changes only when the source or a bundled package's version does. The directory
    is replaced on every call.
    """
    if not (source / "__init__.py").is_file():
        raise FileNotFoundError(f"{source} is not a Python package")
    if staging_root.exists():
        shutil.rmtree(staging_root)
    staging_root.mkdir(parents=True)
    shutil.copytree(source, staging_root / "functions", ignore=_NOT_SOURCE)
    for package, distribution in bundled.items():
        package_dir, dist_info = _installed(package, distribution)
        shutil.copytree(package_dir, staging_root / package, ignore=_NOT_SOURCE)
        shutil.copytree(dist_info, staging_root / dist_info.name, ignore=_NOT_SOURCE)
    return staging_root


def _installed(package: str, distribution: str) -> tuple[Path, Path]:
    """The directory of an installed import package and its distribution's dist-info."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed; pip install -e .")
    installed = importlib.metadata.distribution(distribution)
    metadata = next((f for f in installed.files or ()
                     if f.name == "METADATA" and f.parent.name.endswith(".dist-info")), None)
    if metadata is None:
        raise FileNotFoundError(f"distribution {distribution!r} has no dist-info")
    return (Path(next(iter(spec.submodule_search_locations))),
            Path(str(installed.locate_file(metadata))).parent)


def powertools_layer_arn(scope: Construct, version: int) -> str:
    """The public Powertools layer in the deployment's own partition and region.

    The publishing account is chosen with conditions on `AWS::Partition` and
    `AWS::Region` (`Fn::If`), not `Fn::FindInMap`: GovCloud publishes from one account
    per Region, which a map keyed by partition cannot say, and the local stack resolves
    conditions but not maps. The conditions are made once per stack, under `scope`.
    """
    account: str = POWERTOOLS_LAYER_ACCOUNT
    choices = [(f"PowertoolsLayerIn{_pascal(partition)}", Aws.PARTITION, partition, publisher)
               for partition, publisher in POWERTOOLS_LAYER_ACCOUNT_BY_PARTITION.items()]
    choices += [(f"PowertoolsLayerIn{_pascal(region)}", Aws.REGION, region, publisher)
                for region, publisher in POWERTOOLS_LAYER_ACCOUNT_BY_REGION.items()]
    stack = Stack.of(scope)
    for condition_id, pseudo, value, publisher in reversed(choices):
        condition = stack.node.try_find_child(condition_id)
        if condition is None:
            condition = CfnCondition(stack, condition_id,
                                     expression=Fn.condition_equals(pseudo, value))
        account = Fn.condition_if(condition_id, publisher, account).to_string()
    return Fn.sub(
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${Account}:layer:${Name}:${Version}",
        {"Account": account, "Name": POWERTOOLS_LAYER_NAME, "Version": str(version)},
    )


def _pascal(key: str) -> str:
    """`us-gov-east-1` -> `UsGovEast1` (a logical id may hold letters and digits only)."""
    return "".join(part.capitalize() for part in key.split("-"))


class ServiceFunction(Construct):
    """A Python 3.13 function with tracing, an explicit log group and its own role.

    The role is built here (not by `lambda_.Function`) so logging is granted on this
    function's log group only, instead of the account-wide AWSLambdaBasicExecutionRole.
    `short_name` reaches the handler as `CRUDOPS_FUNCTION`, the dimension of its
    `FailedRecords` metric.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        code: lambda_.Code,
        powertools: lambda_.ILayerVersion,
        sizing: FunctionSizing,
        settings: StackSettings,
        environment: Mapping[str, str],
        description: str,
        short_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.short_name = short_name
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(settings.log_retention_days),
            # Operational logs of a deleted stack have no owner left to read them.
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"crudops {construct_id} function",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            handler=handler,
            code=code,
            layers=[powertools],
            role=self.role,
            timeout=Duration.seconds(sizing.timeout_seconds),
            memory_size=sizing.memory_mb,
            reserved_concurrent_executions=sizing.reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            description=description,
            environment={"POWERTOOLS_LOG_LEVEL": settings.log_level,
                         EnvVar.FUNCTION.value: short_name, **environment},
        )
        acknowledge(
            self,
            "AwsSolutions-L1",
            "Pinned to python3.13 because the Powertools layer used is built for it "
            "(AWSLambdaPowertoolsPythonV3-python313); upgrade both together.",
        )
        acknowledge(
            self,
            "AwsSolutions-IAM5[Resource::*]",
            "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, "
            "which support no resource-level permissions.",
        )


class FunctionFactory:
    """Holds what all functions of the stack share: code asset, layer, settings."""

    def __init__(self, scope: Construct, *, lambda_source: Path, settings: StackSettings):
        self.settings = settings
        self.code = lambda_.Code.from_asset(str(lambda_source))
        self.powertools = lambda_.LayerVersion.from_layer_version_arn(
            scope, "PowertoolsLayer",
            powertools_layer_arn(scope, settings.powertools_layer_version)
        )

    def new(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        sizing: FunctionSizing,
        environment: Mapping[str, str],
        description: str,
        name: str | None = None,
    ) -> ServiceFunction:
        """`name`: the function's short name, if not that of `construct_id`."""
        return ServiceFunction(
            scope,
            construct_id,
            handler=handler,
            code=self.code,
            powertools=self.powertools,
            sizing=sizing,
            settings=self.settings,
            environment=environment,
            description=description,
            short_name=name or short_name(construct_id),
        )
