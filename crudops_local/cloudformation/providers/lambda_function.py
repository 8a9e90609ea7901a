"""AWS::Lambda::Function: run by the local runtime (crudops_local/lambda_/), listed by
the emulator's Lambda.

Its name and ARN are real-shaped because the event source mappings and the gateway
address functions by them, and they are the emulator's too: on an emulator the
function is registered there with the template's name, role, handler, runtime,
environment, memory, timeout, description, architectures and tracing mode (ADR 0031),
with stand-in code (`stand_in_code.py`). The environment is the template's, as a
deployed function has it; the local workers get theirs from it plus the local
endpoints (crudops_local/lambda_/specs.py). Layers are left off: moto knows only layer
versions published to it, and the template's is AWS's public Powertools layer.
"""

from __future__ import annotations

from typing import Any

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.providers.registration import (
    NotRegisteredError,
    passed_on,
    registered,
    tag_map,
)
from crudops_local.cloudformation.providers.stand_in_code import stand_in_zip
from crudops_local.cloudformation.template import PhysicalResource

FUNCTION_NAME_MAX = 64
# The properties that are `CreateFunction` parameters of the same name and shape.
_PARAMETERS = ("Role", "Handler", "Runtime", "Description", "Timeout", "MemorySize",
               "Environment", "Architectures", "TracingConfig", "EphemeralStorage",
               "LoggingConfig", "DeadLetterConfig", "KmsKeyArn")


class LambdaFunction(ResourceProvider):
    type = "AWS::Lambda::Function"
    service = "lambda"
    visible_in_endpoint = True
    gone_codes = frozenset({"ResourceNotFoundException"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        name = request.name(request.properties.get("FunctionName"), FUNCTION_NAME_MAX)
        if request.visible:
            answer = registered(request, lambda: self._register(request, name))
            if answer is not None:
                request.report(PhysicalResource(name))
        return PhysicalResource(name, {"Arn": request.arn("lambda", f"function:{name}")})

    def _register(self, request: CreateRequest, name: str) -> dict[str, Any]:
        properties = request.properties
        missing = [key for key in ("Handler", "Role", "Runtime") if key not in properties]
        if missing:  # an image function, or a hand-written template's bare one
            raise NotRegisteredError(f"no {', '.join(missing)} in the template")
        parameters = passed_on(properties, _PARAMETERS)
        tags = tag_map(properties.get("Tags"))
        if tags:
            parameters["Tags"] = tags
        try:
            code = stand_in_zip(str(properties["Handler"]))
        except ValueError as exc:
            raise NotRegisteredError(str(exc)) from exc
        answer: dict[str, Any] = request.client(self.service).create_function(
            FunctionName=name, Code={"ZipFile": code}, PackageType="Zip", **parameters)
        return answer

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_function(FunctionName=ref)
