"""DynamoDB cost by table size on the embedded AWS server, patched and unpatched.

    .venv/bin/python -m benchmarks.dynamodb_size --sizes 100,10000 --calls 50

Each server runs in its own process as the local stack runs it (`benchmarks/sqs_depth.py`
starts them). One subscriptions table as the stack defines it (key requestId +
connectionId, global index `byConnection` on connectionId, keys only) and one items
table, each filled to every size (BatchWriteItem of 25); at each size `--calls` of each
call the functions make, timed one by one from one client thread:

- `transact`: TransactWriteItems of two conditional puts (an item and its outcome, as
  a create does: `attribute_not_exists`);
- `conditional_put`: PutItem with `attribute_not_exists` that fails (a redelivery);
- `index_query`: Query of `byConnection` for one connection (three subscriptions), as
  `$disconnect` does;
- `key_query`: Query of one requestId's subscriptions, as Notify does.

Figures are p50 milliseconds. A measurement to read, not a timed test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError
from rich.console import Console
from rich.table import Table

from benchmarks.processes import machine
from benchmarks.sqs_depth import SERVERS, running_server
from benchmarks.stats import percentile
from tests.support.tables import subscriptions_table

BATCH = 25
CONNECTIONS_PER_REQUEST = 3
CALLS = ("transact", "conditional_put", "index_query", "key_query")


def _client(endpoint: str) -> Any:
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                 region_name="us-east-1").client("dynamodb",
                                                                 endpoint_url=endpoint)


def _create_tables(dynamodb: Any) -> None:
    dynamodb.create_table(**subscriptions_table())
    dynamodb.create_table(
        TableName="items", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "owner", "KeyType": "HASH"},
                   {"AttributeName": "id", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "owner", "AttributeType": "S"},
                              {"AttributeName": "id", "AttributeType": "S"}])


def _fill(dynamodb: Any, start: int, stop: int) -> None:
    """Subscriptions `start..stop` (request n on connections n..n+2, so one connection
    holds three) and as many items."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for n in range(start, stop):
        connection = f"c{n // CONNECTIONS_PER_REQUEST}"
        rows.append(("subscriptions", {"requestId": {"S": f"r{n}"},
                                       "connectionId": {"S": connection},
                                       "owner": {"S": "bench"}}))
        rows.append(("items", {"owner": {"S": "bench"}, "id": {"S": f"i{n}"},
                               "name": {"S": f"item {n}"}, "version": {"N": "1"}}))
    for offset in range(0, len(rows), BATCH):
        requests: dict[str, list[Any]] = {}
        for table, item in rows[offset:offset + BATCH]:
            requests.setdefault(table, []).append({"PutRequest": {"Item": item}})
        while requests:
            requests = dynamodb.batch_write_item(RequestItems=requests).get(
                "UnprocessedItems") or {}


def _calls(dynamodb: Any, size: int) -> dict[str, Callable[[], Any]]:
    def transact() -> None:
        new = str(uuid.uuid4())
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "items", "ConditionExpression": "attribute_not_exists(id)",
                     "Item": {"owner": {"S": "bench"}, "id": {"S": new}}}},
            {"Put": {"TableName": "subscriptions",
                     "ConditionExpression": "attribute_not_exists(requestId)",
                     "Item": {"requestId": {"S": new}, "connectionId": {"S": "outcome"}}}}])

    def conditional_put() -> None:
        with contextlib.suppress(ClientError):  # it fails: i0 exists
            dynamodb.put_item(TableName="items", ConditionExpression="attribute_not_exists(id)",
                              Item={"owner": {"S": "bench"}, "id": {"S": "i0"}})

    connection = f"c{(size - 1) // CONNECTIONS_PER_REQUEST}"

    def index_query() -> None:
        dynamodb.query(TableName="subscriptions", IndexName="byConnection",
                       KeyConditionExpression="connectionId = :c",
                       ExpressionAttributeValues={":c": {"S": connection}})

    def key_query() -> None:
        dynamodb.query(TableName="subscriptions", KeyConditionExpression="requestId = :r",
                       ExpressionAttributeValues={":r": {"S": f"r{size - 1}"}},
                       ConsistentRead=True)

    return {"transact": transact, "conditional_put": conditional_put,
            "index_query": index_query, "key_query": key_query}


def measure_server(kind: str, sizes: Sequence[int], calls: int,
                   console: Console) -> list[dict[str, Any]]:
    rows = []
    with running_server(kind) as server:
        dynamodb = _client(server.endpoint)
        _create_tables(dynamodb)
        filled = 0
        for size in sorted(sizes):
            with console.status(f"{kind}: filling to {size:,}"):
                started = time.perf_counter()
                _fill(dynamodb, filled, size)
                fill_seconds = time.perf_counter() - started
                filled = max(filled, size)
            row: dict[str, Any] = {"server": kind, "size": size,
                                   "fill_seconds": round(fill_seconds, 1)}
            for name, call in _calls(dynamodb, size).items():
                with console.status(f"{kind}: {calls} calls of {name} at {size:,}"):
                    timings = []
                    for _ in range(calls):
                        started = time.perf_counter()
                        call()
                        timings.append(time.perf_counter() - started)
                p50 = percentile(timings, 0.5)
                row[f"{name}_p50_ms"] = None if p50 is None else round(p50 * 1000, 2)
            rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,10000",
                        help="comma-separated rows per table (default 100,10000)")
    parser.add_argument("--calls", type=int, default=50, help="timed calls of each kind")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args(argv)
    sizes = [int(value) for value in arguments.sizes.split(",") if value.strip()]
    servers = [value.strip() for value in arguments.servers.split(",") if value.strip()]
    if any(server not in SERVERS for server in servers) or any(s < 1 for s in sizes):
        parser.error(f"servers are {', '.join(SERVERS)}; sizes are positive")
    console = Console(stderr=True)
    about = machine()
    rows = [row for server in servers
            for row in measure_server(server, sizes, arguments.calls, console)]
    if arguments.json:
        print(json.dumps({"machine": about, "calls": arguments.calls, "rows": rows}, indent=2))
        return
    table = Table(title="DynamoDB by table size (p50 ms, one client)")
    for column in ("server", "size", *CALLS):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(row["server"], f"{row['size']:,}",
                      *(str(row[f"{name}_p50_ms"]) for name in CALLS))
    Console().print(table)
    Console().print(f"{about['nproc']} CPUs ({about['cpu_model']}), Python {about['python']}, "
                    f"moto {about['moto']}, load at start {about['load_average_at_start']}")


if __name__ == "__main__":
    main()
