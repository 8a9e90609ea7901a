"""AWS::SNS::TopicPolicy: applied to its topics, given an id only (it goes with them)."""

from __future__ import annotations

import json

from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.providers.placeholders import placeholder
from crudops_local.cloudformation.template import PhysicalResource


class SnsTopicPolicy(ResourceProvider):
    type = "AWS::SNS::TopicPolicy"
    service = "sns"

    def create(self, request: CreateRequest) -> PhysicalResource:
        policy = json.dumps(request.properties["PolicyDocument"])
        for arn in request.properties.get("Topics", []):
            request.client(self.service).set_topic_attributes(
                TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
        return placeholder(request)
