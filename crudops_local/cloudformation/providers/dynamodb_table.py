"""AWS::DynamoDB::Table: keys, GSIs, billing, encryption and TTL."""

from __future__ import annotations

from typing import Any

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.template import PhysicalResource

TABLE_NAME_MAX = 255
# DynamoDB creates tables asynchronously (seconds in an account, at once in moto).
TABLE_WAIT_DELAY_SECONDS = 1
TABLE_WAIT_MAX_ATTEMPTS = 300


class DynamoDbTable(ResourceProvider):
    type = "AWS::DynamoDB::Table"
    service = "dynamodb"
    created_in_endpoint = True
    gone_codes = frozenset({"ResourceNotFoundException"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        properties = request.properties
        name = request.name(properties.get("TableName"), TABLE_NAME_MAX)
        table: dict[str, Any] = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        if table["BillingMode"] == "PROVISIONED":
            table["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
        if properties.get("GlobalSecondaryIndexes"):
            table["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        sse = properties.get("SSESpecification")
        if sse:
            table["SSESpecification"] = {
                "Enabled": sse.get("SSEEnabled") in (True, "true"),
                **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
                **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
            }
        client = request.client(self.service)
        description = client.create_table(**table)["TableDescription"]
        request.report(PhysicalResource(name, {}))
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

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_table(TableName=ref)
