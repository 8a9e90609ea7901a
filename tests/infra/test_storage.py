"""The three tables: keys (items and outcomes by owner), PITR, TTL, the byConnection
index, removal policies."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from functions.settings import DEFAULTS
from tests.infra.helpers import Resources, logical_id_of

TABLE = "AWS::DynamoDB::Table"


def test_items_table_is_retained_on_demand_with_pitr(
    template: Template, resources: Resources
) -> None:
    template.has_resource_properties(
        TABLE,
        {
            # A caller's items are one partition: `list` is a Query, another's is absent.
            "KeySchema": [
                {"AttributeName": "owner", "KeyType": "HASH"},
                {"AttributeName": "id", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            # AWS-managed key (aws/dynamodb): SSE on, no customer key named.
            "SSESpecification": {"SSEEnabled": True},
            "TimeToLiveSpecification": Match.absent(),
        },
    )
    items = resources[logical_id_of(resources, TABLE, "Items")]
    assert items["DeletionPolicy"] == "Retain"
    assert items["UpdateReplacePolicy"] == "Retain"


def test_outcomes_table_expires_records(template: Template) -> None:
    template.has_resource_properties(
        TABLE,
        {
            # GET /requests/{id} names the caller; a Query by requestId finds any owner's.
            "KeySchema": [
                {"AttributeName": "requestId", "KeyType": "HASH"},
                {"AttributeName": "owner", "KeyType": "RANGE"},
            ],
            "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def test_subscriptions_table_has_ttl_and_keys_only_connection_index(template: Template) -> None:
    template.has_resource_properties(
        TABLE,
        {
            "KeySchema": [
                {"AttributeName": "requestId", "KeyType": "HASH"},
                {"AttributeName": "connectionId", "KeyType": "RANGE"},
            ],
            "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": DEFAULTS.subscriptions_by_connection_index,
                    "KeySchema": [
                        {"AttributeName": "connectionId", "KeyType": "HASH"},
                        {"AttributeName": "requestId", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        },
    )


def test_short_lived_tables_may_be_destroyed(resources: Resources) -> None:
    for name in ("Outcomes", "Subscriptions"):
        table = resources[logical_id_of(resources, TABLE, name)]
        assert table["DeletionPolicy"] == "Delete", name


def test_every_table_has_pitr(resources: Resources) -> None:
    tables = [r for r in resources.values() if r["Type"] == TABLE]
    assert len(tables) == 3
    for table in tables:
        spec = table["Properties"]["PointInTimeRecoverySpecification"]
        assert spec == {"PointInTimeRecoveryEnabled": True}
