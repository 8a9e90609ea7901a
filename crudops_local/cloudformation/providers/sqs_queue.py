"""AWS::SQS::Queue: visibility timeout, retention, delay, encryption, redrive policy."""

from __future__ import annotations

import json

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.template import PhysicalResource

SQS_QUEUE_NAME_MAX = 80
# The queue properties that are queue attributes of the same name.
_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
               "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize", "FifoQueue",
               "ContentBasedDeduplication", "KmsMasterKeyId",
               "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled")


class SqsQueue(ResourceProvider):
    type = "AWS::SQS::Queue"
    service = "sqs"
    created_in_endpoint = True
    gone_codes = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        properties = request.properties
        name = request.name(properties.get("QueueName"), SQS_QUEUE_NAME_MAX)
        attributes: dict[str, str] = {}
        for key in _ATTRIBUTES:
            if key in properties:
                attributes[key] = str(properties[key]).lower() if isinstance(
                    properties[key], bool) else str(properties[key])
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        client = request.client(self.service)
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        request.report(PhysicalResource(url, {}))
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        return PhysicalResource(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_queue(QueueUrl=ref)
