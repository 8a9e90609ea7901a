"""The provisioner applies the template's resource policies, not only its resources:
an endpoint that enforces them (an account) needs them for SNS to reach the queues."""

from __future__ import annotations

import json
from typing import Any

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.provision import provision
from crudops_local.cloudformation.template import Pseudo, Template
from tests.support.moto_server import running_moto_server

REGION = "us-east-1"


def _statements(policy: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(policy)["Statement"]
    return statements


def test_queue_topic_and_key_policies_are_applied(crudops_template: Template) -> None:
    with running_moto_server() as endpoint:
        aws = AwsEndpoint(endpoint, REGION)
        provisioned = provision(crudops_template, aws, Pseudo(region=REGION))
        sqs, sns, kms = aws.client("sqs"), aws.client("sns"), aws.client("kms")
        resolver = provisioned.resolver
        assert resolver is not None

        queues = {logical: provisioned.physical[logical].ref
                  for logical, r in crudops_template.resources.items()
                  if r.type == "AWS::SQS::Queue"}
        for logical, url in queues.items():
            policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])[
                "Attributes"].get("Policy")
            assert policy, f"{logical} has no policy"
            assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s)
                       for s in _statements(policy)), logical
        consumer = next(url for logical, url in queues.items()
                        if logical.startswith("MessagingCreateConsumerQueue"))
        consumer_policy = sqs.get_queue_attributes(QueueUrl=consumer, AttributeNames=[
            "Policy"])["Attributes"]["Policy"]
        assert any(s.get("Principal") == {"Service": "sns.amazonaws.com"}
                   and s["Action"] == "sqs:SendMessage"
                   for s in _statements(consumer_policy))

        for logical, resource in crudops_template.resources.items():
            if resource.type == "AWS::SNS::Topic":
                arn = provisioned.physical[logical].ref
                attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
                assert "aws:SecureTransport" in attributes["Policy"], logical
            if resource.type == "AWS::KMS::Key":
                key_id = provisioned.physical[logical].ref
                policy = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
                expected = resolver.resolve(resource.properties)["KeyPolicy"]
                assert json.loads(policy) == expected, logical
