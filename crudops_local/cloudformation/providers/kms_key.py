"""AWS::KMS::Key: description and key policy; removed by scheduling its deletion."""

from __future__ import annotations

import json
from typing import Any

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.template import PhysicalResource

# The shortest waiting period KMS allows: a key cannot be deleted at once.
KMS_PENDING_WINDOW_DAYS = 7


class KmsKey(ResourceProvider):
    type = "AWS::KMS::Key"
    service = "kms"
    created_in_endpoint = True
    # A key already scheduled for deletion is in KMSInvalidStateException.
    gone_codes = frozenset({"NotFoundException", "KMSInvalidStateException"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        properties = request.properties
        key: dict[str, Any] = {
            "Description": str(properties.get("Description", request.resource.logical_id))}
        if "KeyPolicy" in properties:
            key["Policy"] = json.dumps(properties["KeyPolicy"])
        metadata = request.client(self.service).create_key(**key)["KeyMetadata"]
        return PhysicalResource(metadata["KeyId"], {"Arn": metadata["Arn"],
                                                    "KeyId": metadata["KeyId"]})

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).schedule_key_deletion(
            KeyId=ref, PendingWindowInDays=KMS_PENDING_WINDOW_DAYS)
