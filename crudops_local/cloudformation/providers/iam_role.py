"""AWS::IAM::Role: never assumed locally (the gateway and the functions sign as the
endpoint does: ADR 0010), registered on an emulator because its Lambda refuses a
function whose role it does not know.

The copy has the template's trust policy, path, description, maximum session and
tags; its permissions (`Policies`, `ManagedPolicyArns`, the `AWS::IAM::Policy`
resources) are not copied: no call is ever made as the role. `Arn` and `RoleId` stay
the local stack's own (`RoleId` is not the emulator's).
"""

from __future__ import annotations

import json
from typing import Any

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import (
    CreateRequest,
    ResourceProvider,
    short_id,
)
from crudops_local.cloudformation.providers.registration import passed_on, registered
from crudops_local.cloudformation.template import PhysicalResource

ROLE_NAME_MAX = 64
ROLE_ID_LENGTH = 21
_PARAMETERS = ("Path", "Description", "MaxSessionDuration")


class IamRole(ResourceProvider):
    type = "AWS::IAM::Role"
    service = "iam"
    visible_in_endpoint = True
    gone_codes = frozenset({"NoSuchEntity"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        name = request.name(request.properties.get("RoleName"), ROLE_NAME_MAX)
        pseudo = request.pseudo
        # A role's ARN carries its path (`/` when the template gives none).
        path = str(request.properties.get("Path") or "/")
        arn = f"arn:{pseudo.partition}:iam::{pseudo.account_id}:role{path}{name}"
        if request.visible:
            answer = registered(request, lambda: self._register(request, name))
            if answer is not None:
                request.report(PhysicalResource(name))
        return PhysicalResource(name, {"Arn": arn,
                                       "RoleId": short_id(name, ROLE_ID_LENGTH).upper()})

    def _register(self, request: CreateRequest, name: str) -> dict[str, Any]:
        properties = request.properties
        parameters = passed_on(properties, _PARAMETERS)
        if properties.get("Tags"):
            parameters["Tags"] = properties["Tags"]
        answer: dict[str, Any] = request.client(self.service).create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(properties.get("AssumeRolePolicyDocument", {})),
            **parameters)
        return answer

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_role(RoleName=ref)
