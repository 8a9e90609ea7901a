"""The template's Lambda functions, as the worker processes run them.

Each `AWS::Lambda::Function` becomes a `FunctionSpec`: its handler, its code (the zip
asset CDK staged in the cloud assembly, found through `<Stack>.assets.json`), its
timeout and memory, and an environment built as Lambda builds it: exactly the
template's variables, plus what the Lambda service adds (region, function name,
memory, runtime), plus what this run adds in place of AWS's own network (the AWS
endpoint and how to sign for it, the local X-Ray daemon, and the local gateway behind
this stack's execute-api URLs). Nothing else of the caller's environment reaches a
function but `INHERITED_ENVIRONMENT` (and, on an endpoint the stack does not own, the
caller's credential chain).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from crudops_local.cloudformation.template import (
    PhysicalResource,
    Pseudo,
    Resolver,
    Template,
    TemplateError,
)

if TYPE_CHECKING:  # a worker process unpickles a FunctionSpec: it needs no boto3 here
    from crudops_local.aws.endpoint import AwsEndpoint

FUNCTION_TYPE: Final = "AWS::Lambda::Function"
# Lambda's defaults for a function that sets none.
DEFAULT_TIMEOUT_SECONDS: Final = 3
DEFAULT_MEMORY_MB: Final = 128
DEFAULT_RUNTIME: Final = "python3.13"
# Variables a function process inherits from the stack; everything else comes from the
# template, like a Lambda environment.
INHERITED_ENVIRONMENT: Final = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "SYSTEMROOT",
                                "TZ")

@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    code_path: Path
    environment: dict[str, str]
    timeout_seconds: float
    memory_mb: int = DEFAULT_MEMORY_MB
    arn: str = ""


@dataclass(frozen=True)
class ServiceEnvironment:
    """What this run's Lambda service adds to every function's environment.

    `pseudo` must be the run's final pseudo parameters (region and URL suffix of the
    execute-api URLs to point at `gateway_origin`); `telemetry` is the X-Ray daemon's
    address for the SDK, or the variable that turns tracing off."""

    aws: AwsEndpoint
    pseudo: Pseudo
    gateway_origin: str
    telemetry: Mapping[str, str] = field(default_factory=dict)


def stack_name_of(template_path: Path) -> str:
    """CDK writes `<StackName>.template.json`."""
    name = template_path.name
    return name.removesuffix(".template.json") if name.endswith(".template.json") else "local"


def asset_directories(template_path: Path) -> dict[str, Path]:
    """S3 object key of each Lambda asset → its staged directory in the cloud assembly."""
    manifest = template_path.with_name(f"{stack_name_of(template_path)}.assets.json")
    if not manifest.exists():
        return {}
    files = json.loads(manifest.read_text()).get("files", {})
    directories: dict[str, Path] = {}
    for entry in files.values():
        source = entry.get("source", {})
        if source.get("packaging") != "zip":
            continue
        for destination in entry.get("destinations", {}).values():
            directories[destination["objectKey"]] = template_path.parent / source["path"]
    return directories


def function_specs(template: Template, template_path: Path, resolver: Resolver,
                   physical: Mapping[str, PhysicalResource],
                   service: ServiceEnvironment) -> dict[str, FunctionSpec]:
    """logical id → spec of every function of the template (provisioned: `physical`
    gives its name and ARN). A function whose code asset is not in the cloud assembly
    beside `template_path` is a `TemplateError` (synthesize first)."""
    assets = asset_directories(template_path)
    specs: dict[str, FunctionSpec] = {}
    for resource in template.of_type(FUNCTION_TYPE):
        properties = resolver.resolve(resource.properties)
        key = properties.get("Code", {}).get("S3Key", "")
        if key not in assets:
            raise TemplateError(
                f"{resource.logical_id}: code asset {key or '(inline)'} is not in "
                f"{template_path.parent} (synthesize with `crudops synth`)"
            )
        name = physical[resource.logical_id].ref
        environment = function_environment(name, properties, service)
        if "POWERTOOLS_TRACE_DISABLED" not in environment:
            # The X-Ray SDK and Powertools trace in "Lambda mode" only under it.
            environment["LAMBDA_TASK_ROOT"] = str(assets[key].resolve())
        specs[resource.logical_id] = FunctionSpec(
            logical_id=resource.logical_id,
            name=name,
            handler=properties["Handler"],
            code_path=assets[key].resolve(),
            environment=environment,
            timeout_seconds=float(properties.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
            memory_mb=int(properties.get("MemorySize", DEFAULT_MEMORY_MB)),
            arn=physical[resource.logical_id].attributes["Arn"],
        )
    return specs


def function_environment(name: str, properties: Mapping[str, Any],
                         service: ServiceEnvironment) -> dict[str, str]:
    """The environment of the function `name` with the (resolved) template
    `properties`: the caller's few inherited variables, credentials, what Lambda sets,
    the endpoints, then the template's variables (execute-api URLs made local)."""
    aws = service.aws
    environment = {k: os.environ[k] for k in INHERITED_ENVIRONMENT if k in os.environ}
    # The endpoint's region, URLs and credentials (on an endpoint the stack does not
    # own, the caller's chain, which the worker resolves and refreshes itself).
    environment.update(aws.environment(os.environ))
    environment.update({
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(properties.get("MemorySize", DEFAULT_MEMORY_MB)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{properties.get('Runtime', DEFAULT_RUNTIME)}",
        "PYTHONUNBUFFERED": "1",
    })
    environment.update(service.telemetry)
    variables = properties.get("Environment", {}).get("Variables", {})
    for key, value in variables.items():
        environment[key] = localize(str(value), service.pseudo, service.gateway_origin)
    return environment


def localize(value: str, pseudo: Pseudo, gateway_origin: str) -> str:
    """Point execute-api URLs of this stack's APIs at the local gateway (local DNS)."""
    pattern = (rf"https://[a-z0-9]+\.execute-api\.{re.escape(pseudo.region)}\."
               rf"{re.escape(pseudo.url_suffix)}")
    return re.sub(pattern, gateway_origin, value)
