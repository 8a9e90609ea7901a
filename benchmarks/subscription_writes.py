"""What counting subscriptions per connection costs on the embedded AWS server (ADR 0029).

    .venv/bin/python -m benchmarks.subscription_writes --rows 0,1000 --calls 200

On the server the local stack runs (`crudops_local.aws.server`, in its own process),
a subscriptions table holding `--rows` other rows; then `--calls` subscribes and as
many removals, three ways: uncounted (one PutItem / one DeleteItem, as before the
limit), counted by two single-row conditional writes (`SubscriptionStore`, what the
functions do), and counted by one `TransactWriteItems` (the alternative ADR 0029
rejects; moto copies each table a transaction names). Figures are p50 milliseconds
per call. A measurement to read, not a timed test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import boto3

from benchmarks.processes import machine
from benchmarks.sqs_depth import running_server
from benchmarks.stats import percentile
from functions.contracts.tables import SUBSCRIPTIONS_KEY
from functions.domain.subscriptions import SubscriptionStore, counter_key

TABLE = "subscriptions"
INDEX = "byConnection"


def create_subscriptions_table(dynamodb: Any, name: str) -> None:
    keys = [{"AttributeName": SUBSCRIPTIONS_KEY.partition, "KeyType": "HASH"},
            {"AttributeName": SUBSCRIPTIONS_KEY.sort, "KeyType": "RANGE"}]
    dynamodb.create_table(
        TableName=name, KeySchema=keys, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k["AttributeName"], "AttributeType": "S"}
                              for k in keys],
        GlobalSecondaryIndexes=[{"IndexName": INDEX, "KeySchema": list(reversed(
            [{**k, "KeyType": t} for k, t in zip(keys, ("RANGE", "HASH"), strict=True)])),
            "Projection": {"ProjectionType": "KEYS_ONLY"}}])


def _transaction_add(dynamodb: Any, table: str, request_id: str, connection_id: str) -> None:
    dynamodb.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": counter_key(connection_id),
                    "UpdateExpression": "ADD #live :one",
                    "ConditionExpression": "attribute_not_exists(#live) OR #live < :limit",
                    "ExpressionAttributeNames": {"#live": "live"},
                    "ExpressionAttributeValues": {":one": {"N": "1"},
                                                  ":limit": {"N": "1000000"}}}},
        {"Put": {"TableName": table,
                 "Item": {**SUBSCRIPTIONS_KEY.of(request_id, connection_id),
                          "owner": {"S": "o"}},
                 "ConditionExpression": "attribute_not_exists(requestId)"}}])


def _transaction_remove(dynamodb: Any, table: str, request_id: str,
                        connection_id: str) -> None:
    dynamodb.transact_write_items(TransactItems=[
        {"Delete": {"TableName": table, "Key": SUBSCRIPTIONS_KEY.of(request_id, connection_id),
                    "ConditionExpression": "attribute_exists(requestId)"}},
        {"Update": {"TableName": table, "Key": counter_key(connection_id),
                    "UpdateExpression": "ADD #live :minus_one",
                    "ConditionExpression": "#live > :zero",
                    "ExpressionAttributeNames": {"#live": "live"},
                    "ExpressionAttributeValues": {":minus_one": {"N": "-1"},
                                                  ":zero": {"N": "0"}}}}])


def _p50_ms(call: Callable[[int], object], calls: int) -> float:
    samples = []
    for n in range(calls):
        started = time.perf_counter()
        call(n)
        samples.append((time.perf_counter() - started) * 1000)
    value = percentile(samples, 0.5)
    return round(value or 0.0, 2)


def measure(endpoint: str, rows: int, calls: int) -> dict[str, float]:
    dynamodb = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local",
        region_name="us-east-1").client("dynamodb", endpoint_url=endpoint)
    table = f"{TABLE}-{rows}-{time.monotonic_ns()}"
    create_subscriptions_table(dynamodb, table)
    for n in range(rows):
        dynamodb.put_item(TableName=table, Item=SUBSCRIPTIONS_KEY.of(f"other-{n}", "c-other"))
    store = SubscriptionStore(dynamodb, table, INDEX, ttl_seconds=7200,
                              limit_per_connection=1_000_000)

    def put(n: int) -> None:
        dynamodb.put_item(TableName=table, Item={**SUBSCRIPTIONS_KEY.of(f"u-{n}", "c-u"),
                                                 "owner": {"S": "o"}})

    def delete(n: int) -> None:
        dynamodb.delete_item(TableName=table, Key=SUBSCRIPTIONS_KEY.of(f"u-{n}", "c-u"),
                             ReturnValues="ALL_OLD")

    return {
        "uncounted put_item": _p50_ms(put, calls),
        "counted add (2 conditional writes)": _p50_ms(
            lambda n: store.add(f"w-{n}", "c-w", "o"), calls),
        "counted add (1 transaction)": _p50_ms(
            lambda n: _transaction_add(dynamodb, table, f"t-{n}", "c-t"), calls),
        "uncounted delete_item": _p50_ms(delete, calls),
        "counted remove (2 conditional writes)": _p50_ms(
            lambda n: store.remove(f"w-{n}", "c-w"), calls),
        "counted remove (1 transaction)": _p50_ms(
            lambda n: _transaction_remove(dynamodb, table, f"t-{n}", "c-t"), calls),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="0,1000",
                        help="comma-separated sizes of the table before the calls")
    parser.add_argument("--calls", type=int, default=200, help="calls of each kind")
    options = parser.parse_args(argv)
    report: dict[str, Any] = {"machine": machine(), "calls": options.calls, "p50_ms": {}}
    with running_server("patched") as server:
        for rows in (int(r) for r in options.rows.split(",")):
            report["p50_ms"][str(rows)] = measure(server.endpoint, rows, options.calls)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
