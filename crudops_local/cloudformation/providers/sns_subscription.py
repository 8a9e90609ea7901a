"""AWS::SNS::Subscription: filter policy and its scope, raw delivery, redrive policy."""

from __future__ import annotations

import json

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.template import PhysicalResource


class SnsSubscription(ResourceProvider):
    type = "AWS::SNS::Subscription"
    service = "sns"
    created_in_endpoint = True
    gone_codes = frozenset({"NotFound", "NotFoundException"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        properties = request.properties
        attributes: dict[str, str] = {}
        if "FilterPolicy" in properties:
            attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
        if "FilterPolicyScope" in properties:
            attributes["FilterPolicyScope"] = str(properties["FilterPolicyScope"])
        if properties.get("RawMessageDelivery") in (True, "true"):
            attributes["RawMessageDelivery"] = "true"
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        arn = request.client(self.service).subscribe(
            TopicArn=properties["TopicArn"],
            Protocol=properties["Protocol"],
            Endpoint=properties["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return PhysicalResource(arn, {"Arn": arn})

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).unsubscribe(SubscriptionArn=ref)
