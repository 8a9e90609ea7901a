"""Reading a CloudFormation template and resolving its intrinsic functions.

The local stack never re-declares what the template says: every name, policy and
setting is read from here. Intrinsics are resolved against `PhysicalResource`s the
provisioner created; the supported set is what CDK emits for this stack (Ref,
Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If with conditions,
Fn::Equals, Fn::Not, Fn::And, Fn::Or). Anything else raises `UnsupportedIntrinsicError`
naming it, rather than passing a half-resolved dict on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PSEUDO_NO_VALUE = "AWS::NoValue"


class TemplateError(ValueError):
    """The template is missing, unreadable, or uses something the local stack lacks."""


class UnsupportedIntrinsicError(TemplateError):
    pass


@dataclass(frozen=True)
class Pseudo:
    """Values of the AWS::* pseudo parameters for the local account."""

    region: str = "us-east-1"
    account_id: str = "123456789012"
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    stack_name: str = "CrudopsStack"

    def as_refs(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}"
                f":stack/{self.stack_name}/00000000-0000-0000-0000-000000000000"
            ),
        }


@dataclass
class PhysicalResource:
    """What `Ref` and `Fn::GetAtt` answer for one created resource."""

    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any]
    depends_on: tuple[str, ...]


class Template:
    def __init__(self, document: Mapping[str, Any], source: Path | None = None) -> None:
        if "Resources" not in document:
            raise TemplateError(f"{source or 'template'} has no Resources section")
        self.document = document
        self.source = source

    @classmethod
    def load(cls, path: Path) -> Template:
        try:
            return cls(json.loads(path.read_text()), path)
        except FileNotFoundError as exc:
            raise TemplateError(f"template {path} does not exist") from exc
        except json.JSONDecodeError as exc:
            raise TemplateError(f"template {path} is not JSON: {exc}") from exc

    @property
    def resources(self) -> dict[str, Resource]:
        return {
            logical_id: Resource(
                logical_id=logical_id,
                type=body["Type"],
                properties=body.get("Properties", {}),
                metadata=body.get("Metadata", {}),
                depends_on=tuple(
                    [body["DependsOn"]] if isinstance(body.get("DependsOn"), str)
                    else body.get("DependsOn", [])
                ),
            )
            for logical_id, body in self.document["Resources"].items()
        }

    def of_type(self, resource_type: str) -> Iterator[Resource]:
        return (r for r in self.resources.values() if r.type == resource_type)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.document.get("Parameters", {}))

    @property
    def conditions(self) -> dict[str, Any]:
        return dict(self.document.get("Conditions", {}))

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.document.get("Outputs", {}))


_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


class Resolver:
    """Resolves intrinsics against created resources and pseudo parameters."""

    def __init__(
        self,
        template: Template,
        pseudo: Pseudo,
        physical: Mapping[str, PhysicalResource],
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        self._template = template
        self._pseudo_refs = pseudo.as_refs()
        self._physical = physical
        self._parameters = {
            name: str(spec.get("Default", ""))
            for name, spec in template.parameters.items()
        }
        self._parameters.update(parameters or {})
        self._conditions: dict[str, bool] = {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            resolved = [self.resolve(v) for v in value]
            return [v for v in resolved if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key.startswith("Fn::") or key == "Condition":
                return self._function(key, argument)
        resolved_dict = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved_dict.items() if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == PSEUDO_NO_VALUE:
            return _NO_VALUE
        if name in self._pseudo_refs:
            return self._pseudo_refs[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._physical:
            return self._physical[name].ref
        raise TemplateError(f"Ref to {name!r}, which is not created locally")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self._physical:
            raise TemplateError(f"Fn::GetAtt on {logical_id!r}, which is not created locally")
        attributes = self._physical[logical_id].attributes
        if attribute not in attributes:
            raise TemplateError(f"{logical_id} has no attribute {attribute!r} locally")
        return attributes[attribute]

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self._template.conditions:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(self._template.conditions[name]))
        return self._conditions[name]

    def _function(self, name: str, argument: Any) -> Any:
        if name == "Fn::GetAtt":
            logical_id, attribute = (
                argument.split(".", 1) if isinstance(argument, str) else argument
            )
            return self.get_att(logical_id, self.resolve(attribute))
        if name == "Fn::Join":
            separator, parts = argument
            return str(separator).join(str(p) for p in self.resolve(parts))
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text)).split(separator)
        if name == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Fn::Equals":
            left, right = self.resolve(argument)
            return left == right
        if name == "Fn::Not":
            (inner,) = self.resolve(argument)
            return not inner
        if name == "Fn::And":
            return all(self.resolve(argument))
        if name == "Fn::Or":
            return any(self.resolve(argument))
        if name == "Condition":
            return self.condition(argument)
        raise UnsupportedIntrinsicError(f"{name} is not supported by the local stack")

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, raw_variables = argument
            variables = {k: self.resolve(v) for k, v in raw_variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self._ref(name))

        resolved = _SUB_VARIABLE.sub(replace, text)
        # ${!Literal} is CloudFormation's escape for a literal ${Literal}.
        return resolved.replace("${!", "${")


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


_NO_VALUE: Any = _NoValue()
