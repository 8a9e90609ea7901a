"""AWS::SNS::Topic: tracing and encryption attributes."""

from __future__ import annotations

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.template import PhysicalResource

TOPIC_NAME_MAX = 256


class SnsTopic(ResourceProvider):
    type = "AWS::SNS::Topic"
    service = "sns"
    created_in_endpoint = True
    gone_codes = frozenset({"NotFound", "NotFoundException"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        properties = request.properties
        name = request.name(properties.get("TopicName"), TOPIC_NAME_MAX)
        attributes = {}
        if "TracingConfig" in properties:
            attributes["TracingConfig"] = str(properties["TracingConfig"])
        if "KmsMasterKeyId" in properties:
            attributes["KmsMasterKeyId"] = str(properties["KmsMasterKeyId"])
        client = request.client(self.service)
        try:
            arn = client.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        except client.exceptions.InvalidParameterException:
            if "TracingConfig" not in attributes:
                raise
            # Emulators that lack the tracing attribute still route messages the same;
            # everything else (encryption) must still apply.
            del attributes["TracingConfig"]
            arn = client.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        return PhysicalResource(arn, {"TopicArn": arn, "TopicName": name})

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_topic(TopicArn=ref)
