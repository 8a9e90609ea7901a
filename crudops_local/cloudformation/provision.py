"""Creating the template's resources in an AWS endpoint (moto by default).

Only what the request path needs at run time is created as a real emulated
resource: DynamoDB tables (keys, GSIs, TTL), SQS queues (visibility timeout,
retention, delay, redrive policy), the SNS topic and its subscriptions (filter
policies, raw delivery, subscription redrive policy), KMS keys and log groups.
Everything else (IAM, API Gateway, Lambda, WAF) is given a physical id so that
`Ref`/`Fn::GetAtt` resolve; the local stack itself plays those services.
Creation follows the references between resources, like CloudFormation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from crudops_local.cloudformation.template import (
    PhysicalResource,
    Pseudo,
    Resolver,
    Resource,
    Template,
    TemplateError,
)

log = logging.getLogger("crudops.local.provision")

SQS_QUEUE_NAME_MAX = 80
CREATED_IN_ENDPOINT = frozenset({
    "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::SNS::Subscription",
    "AWS::KMS::Key", "AWS::Logs::LogGroup",
})


@dataclass(frozen=True)
class AwsEndpoint:
    """Where the emulated services live: `url=None` means the real AWS endpoints.

    `access_key_id=None` signs with the default boto3 credential chain (environment,
    profile, SSO), resolved again as temporary credentials expire.
    """

    url: str | None
    region: str
    access_key_id: str | None = "local"
    secret_access_key: str | None = "local"
    session_token: str | None = None
    # service (boto3's name) → its own endpoint, overriding `url` for that service
    service_urls: Mapping[str, str] = field(default_factory=dict)

    def url_for(self, service: str) -> str | None:
        return self.service_urls.get(service, self.url)

    def session(self) -> boto3.session.Session:
        if self.access_key_id is None:
            return boto3.session.Session(region_name=self.region)
        return boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=self.region,
        )

    def client(self, service: str) -> Any:
        # No URL means AWS itself: an AWS_ENDPOINT_URL or a profile's endpoint_url
        # left over from emulator work must not quietly send the calls elsewhere.
        url = self.url_for(service)
        config = None if url else Config(ignore_configured_endpoint_urls=True)
        return self.session().client(service, endpoint_url=url, config=config)


def cached_clients(aws: AwsEndpoint) -> Callable[[str], Any]:
    """One boto3 client per service (clients are thread-safe; creating one is not cheap)."""
    cache: dict[str, Any] = {}
    lock = threading.Lock()

    def client(service: str) -> Any:
        with lock:
            if service not in cache:
                cache[service] = aws.client(service)
            return cache[service]

    return client


@dataclass
class Provisioned:
    physical: dict[str, PhysicalResource] = field(default_factory=dict)
    resolver: Resolver | None = None

    def ref(self, logical_id: str) -> str:
        return self.physical[logical_id].ref

    def attribute(self, logical_id: str, name: str) -> Any:
        return self.physical[logical_id].attributes[name]


def _references(value: Any) -> Iterator[str]:
    """Logical ids a property value refers to (Ref, GetAtt, ${X} / ${X.Attr} in Sub)."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                yield argument
            elif key == "Fn::GetAtt":
                target = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
                yield str(target)
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                for name in _sub_names(text):
                    yield name.split(".", 1)[0]
                if not isinstance(argument, str):
                    yield from _references(argument[1])
            else:
                yield from _references(argument)


def _sub_names(text: str) -> Iterator[str]:
    start = text.find("${")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            return
        name = text[start + 2:end]
        if not name.startswith("!"):
            yield name
        start = text.find("${", end)


def creation_order(template: Template) -> list[Resource]:
    """Resources sorted so that each comes after what it references (Kahn's algorithm)."""
    resources = template.resources
    dependencies = {
        logical_id: {
            ref for ref in (*_references(resource.properties), *resource.depends_on)
            if ref in resources and ref != logical_id
        }
        for logical_id, resource in resources.items()
    }
    ordered: list[Resource] = []
    ready = sorted(lid for lid, deps in dependencies.items() if not deps)
    remaining = {lid: set(deps) for lid, deps in dependencies.items() if deps}
    while ready:
        current = ready.pop(0)
        ordered.append(resources[current])
        for logical_id in sorted(remaining):
            remaining[logical_id].discard(current)
            if not remaining[logical_id]:
                del remaining[logical_id]
                ready.append(logical_id)
    if remaining:
        raise ValueError(f"circular references between {sorted(remaining)}")
    return ordered


def _short_id(logical_id: str, length: int = 10) -> str:
    return hashlib.sha256(logical_id.encode()).hexdigest()[:length]


# What the provisioner creates in the endpoint (the rest are ids only).
OnCreated = Callable[[str, str, PhysicalResource], None]
# DynamoDB creates tables asynchronously (seconds in an account, at once in moto).
TABLE_WAIT_DELAY_SECONDS = 1
TABLE_WAIT_MAX_ATTEMPTS = 300


class Provisioner:
    def __init__(self, template: Template, aws: AwsEndpoint, pseudo: Pseudo,
                 on_created: OnCreated | None = None, *,
                 shared: Callable[[str], bool] | None = None) -> None:
        self._template = template
        self._aws = aws
        self._pseudo = pseudo
        self._on_created = on_created
        self._reported: set[str] = set()
        # Whether a resource type lives on an endpoint shared with others (whose names
        # must then all be the run's own).
        self._shared = shared or (lambda resource_type: False)
        self._result = Provisioned()
        self._resolver = Resolver(template, pseudo, self._result.physical)
        self._result.resolver = self._resolver
        self._clients: dict[str, Any] = {}
        self._creators: dict[str, Callable[[Resource, dict[str, Any]], PhysicalResource]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::KMS::Key": self._kms_key,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::TopicPolicy": self._topic_policy,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::Lambda::Function": self._function,
            "AWS::IAM::Role": self._role,
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::ApiGatewayV2::Api": self._websocket_api,
        }

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._aws.client(service)
        return self._clients[service]

    def _arn(self, service: str, resource: str) -> str:
        p = self._pseudo
        return f"arn:{p.partition}:{service}:{p.region}:{p.account_id}:{resource}"

    def _name(self, resource: Resource, explicit: Any, limit: int = 80) -> str:
        if explicit and resource.type in CREATED_IN_ENDPOINT and self._shared(resource.type):
            # Creating it could return someone else's resource (CreateQueue and
            # CreateTopic are idempotent), which the stop would then delete.
            raise TemplateError(f"{resource.logical_id}: the name {explicit!r} is fixed in "
                                "the template; on another endpoint every name must be "
                                "the run's own (drop the explicit name)")
        if explicit:
            return str(explicit)
        return f"{self._pseudo.stack_name}-{resource.logical_id}"[:limit]

    def _report(self, resource: Resource, physical: PhysicalResource) -> None:
        """Tell `on_created` once, as soon as the resource exists (before any follow-up
        call that may fail or wait: a table is reported before it is ACTIVE)."""
        if (self._on_created is not None and resource.type in CREATED_IN_ENDPOINT
                and resource.logical_id not in self._reported):
            self._reported.add(resource.logical_id)
            self._on_created(resource.logical_id, resource.type, physical)

    def provision(self) -> Provisioned:
        for resource in creation_order(self._template):
            properties = self._resolver.resolve(resource.properties)
            creator = self._creators.get(resource.type, self._placeholder)
            physical = creator(resource, properties)
            self._result.physical[resource.logical_id] = physical
            self._report(resource, physical)
        return self._result

    # --- created in the endpoint ---------------------------------------------
    def _table(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        name = self._name(resource, properties.get("TableName"), 255)
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        if request["BillingMode"] == "PROVISIONED":
            request["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
        if properties.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        sse = properties.get("SSESpecification")
        if sse:
            request["SSESpecification"] = {
                "Enabled": sse.get("SSEEnabled") in (True, "true"),
                **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
                **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
            }
        client = self._client("dynamodb")
        description = client.create_table(**request)["TableDescription"]
        self._report(resource, PhysicalResource(name, {}))
        # Settings and traffic need an ACTIVE table (an account takes seconds).
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={
            "Delay": TABLE_WAIT_DELAY_SECONDS, "MaxAttempts": TABLE_WAIT_MAX_ATTEMPTS})
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        return PhysicalResource(name, {"Arn": description["TableArn"],
                                       "StreamArn": description.get("LatestStreamArn", "")})

    def _queue(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        name = self._name(resource, properties.get("QueueName"), SQS_QUEUE_NAME_MAX)
        attributes: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                    "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize",
                    "FifoQueue", "ContentBasedDeduplication", "KmsMasterKeyId",
                    "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled"):
            if key in properties:
                attributes[key] = str(properties[key]).lower() if isinstance(
                    properties[key], bool) else str(properties[key])
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        client = self._client("sqs")
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self._report(resource, PhysicalResource(url, {}))
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        return PhysicalResource(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _topic(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        name = self._name(resource, properties.get("TopicName"), 256)
        attributes = {}
        if "TracingConfig" in properties:
            attributes["TracingConfig"] = str(properties["TracingConfig"])
        if "KmsMasterKeyId" in properties:
            attributes["KmsMasterKeyId"] = str(properties["KmsMasterKeyId"])
        client = self._client("sns")
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

    def _subscription(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        attributes: dict[str, str] = {}
        if "FilterPolicy" in properties:
            attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
        if "FilterPolicyScope" in properties:
            attributes["FilterPolicyScope"] = str(properties["FilterPolicyScope"])
        if properties.get("RawMessageDelivery") in (True, "true"):
            attributes["RawMessageDelivery"] = "true"
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        arn = self._client("sns").subscribe(
            TopicArn=properties["TopicArn"],
            Protocol=properties["Protocol"],
            Endpoint=properties["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return PhysicalResource(arn, {"Arn": arn})

    def _queue_policy(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        """The template's queue policies (TLS only, SNS may send): an endpoint that
        enforces them (an account) needs them for SNS to deliver; moto stores them."""
        policy = json.dumps(properties["PolicyDocument"])
        for url in properties.get("Queues", []):
            self._client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        return self._placeholder(resource, properties)

    def _topic_policy(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        policy = json.dumps(properties["PolicyDocument"])
        for arn in properties.get("Topics", []):
            self._client("sns").set_topic_attributes(
                TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
        return self._placeholder(resource, properties)

    def _kms_key(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        request: dict[str, Any] = {
            "Description": str(properties.get("Description", resource.logical_id))}
        if "KeyPolicy" in properties:
            request["Policy"] = json.dumps(properties["KeyPolicy"])
        metadata = self._client("kms").create_key(**request)["KeyMetadata"]
        return PhysicalResource(metadata["KeyId"], {"Arn": metadata["Arn"],
                                                    "KeyId": metadata["KeyId"]})

    def _log_group(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        name = self._name(resource, properties.get("LogGroupName"), 512)
        client = self._client("logs")
        client.create_log_group(logGroupName=name)
        return PhysicalResource(name, {"Arn": self._arn("logs", f"log-group:{name}:*")})

    # --- played by the local stack: ids only ----------------------------------
    def _function(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        name = self._name(resource, properties.get("FunctionName"), 64)
        return PhysicalResource(name, {"Arn": self._arn("lambda", f"function:{name}")})

    def _role(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        name = self._name(resource, properties.get("RoleName"), 64)
        arn = f"arn:{self._pseudo.partition}:iam::{self._pseudo.account_id}:role/{name}"
        return PhysicalResource(name, {"Arn": arn, "RoleId": _short_id(name, 21).upper()})

    def _rest_api(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        api_id = _short_id(resource.logical_id)
        return PhysicalResource(api_id, {"RootResourceId": _short_id(api_id + "/"),
                                         "RestApiId": api_id})

    def _websocket_api(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        api_id = _short_id(resource.logical_id)
        endpoint = (f"wss://{api_id}.execute-api.{self._pseudo.region}."
                    f"{self._pseudo.url_suffix}")
        return PhysicalResource(api_id, {"ApiEndpoint": endpoint, "ApiId": api_id})

    def _placeholder(self, resource: Resource, properties: dict[str, Any]) -> PhysicalResource:
        physical_id = _short_id(resource.logical_id)
        return PhysicalResource(physical_id, {"Arn": self._arn("local", physical_id),
                                              "Id": physical_id})


def provision(template: Template, aws: AwsEndpoint, pseudo: Pseudo,
              on_created: OnCreated | None = None, *,
              shared: Callable[[str], bool] | None = None) -> Provisioned:
    """Create the template's resources; returns their physical ids and a Resolver.

    `on_created(logical_id, type, physical)` is called as soon as each resource exists
    in the endpoint, so that a failure half-way still knows what to remove.
    `shared(type)` says which resources go to an endpoint others use too: a name fixed
    in the template is refused for those.
    """
    return Provisioner(template, aws, pseudo, on_created, shared=shared).provision()
