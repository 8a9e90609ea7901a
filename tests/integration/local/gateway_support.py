"""What the gateway tests need around the app: moto, a few resources, a fake Lambda.

`create_request_path` creates only what the REST integrations touch (the commands
topic, its SQS subscriptions with the template's filter policies, the outcomes
table, the user pool and app client its Cognito authorizer trusts) and returns the
`PhysicalResource` map the `Resolver` needs; the real
provisioner (crudops_local/cloudformation/provision.py) does the complete job for
`crudops local up`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from crudops_local.cloudformation.template import PhysicalResource, Pseudo, Template
from crudops_local.lambda_.runtime import FunctionHandlerError

REGION = "us-east-1"


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="local", aws_secret_access_key="local")


def _target(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise AssertionError(f"unexpected reference {value!r}")


@dataclass
class RequestPath:
    physical: dict[str, PhysicalResource]
    queue_by_operation: dict[str, str]
    outcomes_table: str
    user_pool_id: str = ""
    app_client_id: str = ""


def _create_user_pool(template: Template, endpoint: str, pseudo: Pseudo,
                      physical: dict[str, PhysicalResource]) -> tuple[str, str]:
    """The template's pool and app client, made by their providers (as `local up` does)."""
    from crudops_local.cloudformation.providers import provider_for
    from crudops_local.cloudformation.providers.base import CreateRequest
    from crudops_local.cloudformation.template import Resolver

    created: dict[str, str] = {}
    for kind in ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient"):
        for resource in template.of_type(kind):
            resolver = Resolver(template, pseudo, physical)
            physical[resource.logical_id] = provider_for(kind).create(CreateRequest(
                resource=resource, properties=resolver.resolve(resource.properties),
                pseudo=pseudo, client=lambda service: client(endpoint, service),
                shared=False, report=lambda _: None))
            created[kind] = physical[resource.logical_id].ref
    return created.get("AWS::Cognito::UserPool", ""), created.get(
        "AWS::Cognito::UserPoolClient", "")


def create_request_path(template: Template, endpoint: str, pseudo: Pseudo) -> RequestPath:
    sns, sqs, dynamodb = (client(endpoint, s) for s in ("sns", "sqs", "dynamodb"))
    physical: dict[str, PhysicalResource] = {}
    queue_by_operation: dict[str, str] = {}
    for subscription in template.of_type("AWS::SNS::Subscription"):
        properties = subscription.properties
        topic_id = _target(properties["TopicArn"])
        if topic_id not in physical:
            arn = sns.create_topic(Name=topic_id)["TopicArn"]
            physical[topic_id] = PhysicalResource(arn, {"TopicArn": arn})
        queue_id = _target(properties["Endpoint"])
        url = sqs.create_queue(QueueName=queue_id)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        physical[queue_id] = PhysicalResource(url, {"Arn": arn, "QueueUrl": url})
        attributes = {"RawMessageDelivery": "true"} if properties.get(
            "RawMessageDelivery") in (True, "true") else {}
        if "FilterPolicy" in properties:
            attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
            for operation in properties["FilterPolicy"].get("operation", []):
                queue_by_operation[str(operation)] = url
        sns.subscribe(TopicArn=physical[topic_id].ref, Protocol="sqs", Endpoint=arn,
                      Attributes=attributes)
    lookup = next(m for m in template.of_type("AWS::ApiGateway::Method")
                  if ":dynamodb:" in json.dumps(m.properties["Integration"]["Uri"]))
    table_id = next(
        part["Ref"] for part in lookup.properties["Integration"]["RequestTemplates"][
            "application/json"]["Fn::Join"][1] if isinstance(part, dict))
    table = template.resources[table_id].properties
    dynamodb.create_table(TableName=table_id, KeySchema=table["KeySchema"],
                          AttributeDefinitions=table["AttributeDefinitions"],
                          BillingMode="PAY_PER_REQUEST")
    physical[table_id] = PhysicalResource(table_id, {})
    for function in template.of_type("AWS::Lambda::Function"):
        name = function.logical_id
        physical[name] = PhysicalResource(name, {
            "Arn": f"arn:aws:lambda:{pseudo.region}:{pseudo.account_id}:function:{name}"})
    pool_id, client_id = _create_user_pool(template, endpoint, pseudo, physical)
    return RequestPath(physical, queue_by_operation, table_id, pool_id, client_id)


@dataclass
class FakeFunctions:
    """Stands in for the worker pools: records events, answers with `responses[arn]`.

    A response may be a callable of the event, to act like a handler (post back).
    """

    responses: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, function_arn: str, event: dict[str, Any]) -> Any:
        with self._changed:
            self.events.append((function_arn, event))
            self._changed.notify_all()
        answer = self.responses.get(function_arn, {"statusCode": 200})
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(event)
        return answer

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool],
                 timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for _, event in self.events:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [e["requestContext"].get("routeKey") for _, e in self.events]
                    raise AssertionError(f"no matching event in {timeout} s; saw {seen}")
                self._changed.wait(remaining)


def handler_error() -> FunctionHandlerError:
    return FunctionHandlerError("RuntimeError", "boom", [])
