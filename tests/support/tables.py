"""The stack's tables as CreateTable requests, for tests and benchmarks that build
them on a bare DynamoDB endpoint (no template): made from the same key contracts and
index name infra/storage.py uses, so they cannot drift from the deployed tables."""

from __future__ import annotations

from typing import Any

from functions.contracts.tables import SUBSCRIPTIONS_KEY
from functions.settings import DEFAULTS


def subscriptions_table(name: str = "subscriptions") -> dict[str, Any]:
    """The subscriptions table: (requestId, connectionId) and its byConnection index
    (the key reversed, keys only), on demand."""
    key = SUBSCRIPTIONS_KEY
    return {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": key.partition, "KeyType": "HASH"},
                      {"AttributeName": key.sort, "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": key.partition, "AttributeType": "S"},
                                 {"AttributeName": key.sort, "AttributeType": "S"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": DEFAULTS.subscriptions_by_connection_index,
            "KeySchema": [{"AttributeName": key.sort, "KeyType": "HASH"},
                          {"AttributeName": key.partition, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
    }
