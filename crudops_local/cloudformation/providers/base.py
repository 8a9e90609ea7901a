"""What a provider of one CloudFormation type is, and what it is given to create one.

Modelled on LocalStack's `ResourceProvider` (one class per type with its `create` and
`delete`): each fact about a type is written once, in its provider. The provisioner
(crudops_local/cloudformation/provision.py) looks a type up in the registry
(`providers/__init__.py`), calls `create` in creation order, and records what
`created_in_endpoint` says lives on the endpoint, and what a provider reports it
registered there (`visible`); teardown calls `delete` and counts the provider's
`gone_codes` as done, so removing is idempotent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.template import (
    PhysicalResource,
    Pseudo,
    Resource,
    TemplateError,
)


@dataclass(frozen=True)
class CreateRequest:
    """One resource to create: its resolved properties, and the endpoint's clients."""

    resource: Resource
    # `Ref`, `Fn::GetAtt` and `Fn::Sub` already resolved
    properties: dict[str, Any]
    pseudo: Pseudo
    client: ClientFactory
    # Whether it goes to an endpoint others use too (every name must be the run's own).
    shared: bool
    # "It exists now": called before a follow-up call that may fail or wait, so that
    # a failure half-way still knows what to remove (a table before it is ACTIVE).
    report: Callable[[PhysicalResource], None]
    # Whether a type the local stack plays is also registered on the endpoint, so that
    # its own listings show it (an emulator's; never AWS itself: ADR 0031).
    visible: bool = False

    def name(self, explicit: Any, limit: int) -> str:
        """The template's name, or one made of the stack's name and the logical id."""
        if explicit and self.shared:
            # Creating it could return someone else's resource (CreateQueue and
            # CreateTopic are idempotent), which the stop would then delete.
            raise TemplateError(f"{self.resource.logical_id}: the name {explicit!r} is fixed "
                                "in the template; on another endpoint every name must be "
                                "the run's own (drop the explicit name)")
        if explicit:
            return str(explicit)
        return f"{self.pseudo.stack_name}-{self.resource.logical_id}"[:limit]

    def arn(self, service: str, resource: str) -> str:
        p = self.pseudo
        return f"arn:{p.partition}:{service}:{p.region}:{p.account_id}:{resource}"


def short_id(text: str, length: int = 10) -> str:
    """A stable id made from `text` (the same logical id gets the same id every run)."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class ResourceProvider:
    """How the local stack creates and removes one CloudFormation type.

    `service`: the boto3 service that holds it, or the copy of a type the local stack
    plays (None: no endpoint ever has it). `created_in_endpoint`: the provisioner
    creates it there, so it is reported to the ledger and removed on stop when the
    endpoint outlives the stack. `visible_in_endpoint`: the local stack plays it, and
    on an emulator a copy is registered in `service` too (the provider reports what it
    registered). `gone_codes`: the error codes of `delete` that mean "already gone".
    """

    type: str
    service: str | None = None
    created_in_endpoint: bool = False
    visible_in_endpoint: bool = False
    gone_codes: frozenset[str] = frozenset()

    def create(self, request: CreateRequest) -> PhysicalResource:
        raise NotImplementedError

    def delete(self, client: ClientFactory, ref: str) -> None:
        raise ValueError(f"no way to remove a {self.type}")
