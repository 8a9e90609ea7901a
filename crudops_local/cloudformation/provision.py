"""Creating the template's resources in an AWS endpoint (moto by default).

Each type's provider (crudops_local/cloudformation/providers/) knows how: only what
the request path needs at run time is created as a real emulated resource (DynamoDB
tables, SQS queues, the SNS topic and its subscriptions, KMS keys, log groups, the
queue and topic policies applied to them); everything else (IAM, API Gateway, Lambda,
WAF) is given a physical id so that `Ref`/`Fn::GetAtt` resolve, and the local stack
itself plays those services. On an emulator, the functions, their roles and the APIs
with their stages are registered there as well, under the same names and ids, so that
its own listings (`aws lambda list-functions`, `aws apigateway get-rest-apis`) show
them (ADR 0031). Creation follows the references between resources, like
CloudFormation.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.providers import provider_for
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.template import (
    PhysicalResource,
    Pseudo,
    Resolver,
    Resource,
    Template,
)

log = logging.getLogger("crudops.local.provision")


@dataclass
class Provisioned:
    physical: dict[str, PhysicalResource] = field(default_factory=dict)
    resolver: Resolver | None = None

    def ref(self, logical_id: str) -> str:
        return self.physical[logical_id].ref

    def attribute(self, logical_id: str, name: str) -> Any:
        return self.physical[logical_id].attributes[name]


def _references(value: Any) -> Iterator[str]:
    """Logical ids a property value refers to (Ref, GetAtt, ${X} / ${X.Attr} in Sub)."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                yield argument
            elif key == "Fn::GetAtt":
                target = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
                yield str(target)
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                for name in _sub_names(text):
                    yield name.split(".", 1)[0]
                if not isinstance(argument, str):
                    yield from _references(argument[1])
            else:
                yield from _references(argument)


def _sub_names(text: str) -> Iterator[str]:
    start = text.find("${")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            return
        name = text[start + 2:end]
        if not name.startswith("!"):
            yield name
        start = text.find("${", end)


def creation_order(template: Template) -> list[Resource]:
    """Resources sorted so that each comes after what it references (Kahn's algorithm)."""
    resources = template.resources
    dependencies = {
        logical_id: {
            ref for ref in (*_references(resource.properties), *resource.depends_on)
            if ref in resources and ref != logical_id
        }
        for logical_id, resource in resources.items()
    }
    ordered: list[Resource] = []
    ready = sorted(lid for lid, deps in dependencies.items() if not deps)
    remaining = {lid: set(deps) for lid, deps in dependencies.items() if deps}
    while ready:
        current = ready.pop(0)
        ordered.append(resources[current])
        for logical_id in sorted(remaining):
            remaining[logical_id].discard(current)
            if not remaining[logical_id]:
                del remaining[logical_id]
                ready.append(logical_id)
    if remaining:
        raise ValueError(f"circular references between {sorted(remaining)}")
    return ordered


# Called once per resource created in the endpoint, as soon as it exists there.
OnCreated = Callable[[str, str, PhysicalResource], None]


class Provisioner:
    def __init__(self, template: Template, aws: AwsEndpoint, pseudo: Pseudo,
                 on_created: OnCreated | None = None, *,
                 shared: Callable[[str], bool] | None = None) -> None:
        self._template = template
        self._aws = aws
        self._pseudo = pseudo
        self._on_created = on_created
        self._reported: set[str] = set()
        # Whether a resource type lives on an endpoint shared with others (whose names
        # must then all be the run's own).
        self._shared = shared or (lambda resource_type: False)
        self._result = Provisioned()
        self._resolver = Resolver(template, pseudo, self._result.physical)
        self._result.resolver = self._resolver

    def _report(self, resource: Resource, physical: PhysicalResource) -> None:
        """Tell `on_created` once, as soon as the resource exists (before any follow-up
        call that may fail or wait: a table is reported before it is ACTIVE).

        Providers call it themselves for what they register (`visible`); the provisioner
        calls it after `create` for every type that is `created_in_endpoint`."""
        if self._on_created is not None and resource.logical_id not in self._reported:
            self._reported.add(resource.logical_id)
            self._on_created(resource.logical_id, resource.type, physical)

    def _visible(self, provider: ResourceProvider) -> bool:
        """Whether a played type is registered too: on an emulator, not on AWS itself
        (a real account would get functions and APIs nobody deploys: ADR 0031)."""
        return (provider.visible_in_endpoint and provider.service is not None
                and self._aws.url_for(provider.service) is not None)

    def provision(self) -> Provisioned:
        for resource in creation_order(self._template):
            provider = provider_for(resource.type)
            physical = provider.create(CreateRequest(
                resource=resource,
                properties=self._resolver.resolve(resource.properties),
                pseudo=self._pseudo,
                client=self._aws.client,
                shared=provider.created_in_endpoint and self._shared(resource.type),
                report=functools.partial(self._report, resource),
                visible=self._visible(provider),
            ))
            self._result.physical[resource.logical_id] = physical
            if provider.created_in_endpoint:
                self._report(resource, physical)
        return self._result


def provision(template: Template, aws: AwsEndpoint, pseudo: Pseudo,
              on_created: OnCreated | None = None, *,
              shared: Callable[[str], bool] | None = None) -> Provisioned:
    """Create the template's resources; returns their physical ids and a Resolver.

    `on_created(logical_id, type, physical)` is called as soon as each resource exists
    in the endpoint, so that a failure half-way still knows what to remove.
    `shared(type)` says which resources go to an endpoint others use too: a name fixed
    in the template is refused for those.
    """
    return Provisioner(template, aws, pseudo, on_created, shared=shared).provision()
