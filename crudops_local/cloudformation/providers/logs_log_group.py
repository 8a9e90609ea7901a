"""AWS::Logs::LogGroup: created by name (the functions write their own files locally)."""

from __future__ import annotations

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.template import PhysicalResource

LOG_GROUP_NAME_MAX = 512


class LogsLogGroup(ResourceProvider):
    type = "AWS::Logs::LogGroup"
    service = "logs"
    created_in_endpoint = True
    gone_codes = frozenset({"ResourceNotFoundException"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        name = request.name(request.properties.get("LogGroupName"), LOG_GROUP_NAME_MAX)
        request.client(self.service).create_log_group(logGroupName=name)
        return PhysicalResource(name, {"Arn": request.arn("logs", f"log-group:{name}:*")})

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_log_group(logGroupName=ref)
