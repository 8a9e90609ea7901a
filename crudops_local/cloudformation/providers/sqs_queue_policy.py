"""AWS::SQS::QueuePolicy: applied to its queues, given an id only.

The template's queue policies (TLS only, SNS may send): an endpoint that enforces them
(an account) needs them for SNS to deliver; moto stores them. Removing the queue
removes its policy, so there is nothing of its own to delete.
"""

from __future__ import annotations

import json

from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.providers.placeholders import placeholder
from crudops_local.cloudformation.template import PhysicalResource


class SqsQueuePolicy(ResourceProvider):
    type = "AWS::SQS::QueuePolicy"
    service = "sqs"

    def create(self, request: CreateRequest) -> PhysicalResource:
        policy = json.dumps(request.properties["PolicyDocument"])
        for url in request.properties.get("Queues", []):
            request.client(self.service).set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": policy})
        return placeholder(request)
