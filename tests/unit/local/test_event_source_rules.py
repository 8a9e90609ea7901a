from __future__ import annotations

import json

import pytest

from crudops_local.lambda_.event_source_mapping.filtering import record_passes_filters
from crudops_local.lambda_.event_source_mapping.poller import _failed_ids

IDS = {"a", "b", "c"}


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        # Lambda treats a malformed partial response as a failure of the whole batch.
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, IDS),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, IDS),
        ({"batchItemFailures": "b"}, IDS),
        ("not a dict", IDS),
    ],
)
def test_partial_batch_responses_are_read_as_lambda_reads_them(
    response: object, failed: set[str]
) -> None:
    assert _failed_ids(response, IDS) == failed


def _record(body: object) -> dict[str, object]:
    return {"messageId": "m", "body": json.dumps(body), "attributes": {}}


@pytest.mark.parametrize(
    ("pattern", "body", "passes"),
    [
        ({"body": {"operation": ["create"]}}, {"operation": "create"}, True),
        ({"body": {"operation": ["create"]}}, {"operation": "delete"}, False),
        ({"body": {"name": [{"prefix": "wid"}]}}, {"name": "widget"}, True),
        ({"body": {"name": [{"exists": False}]}}, {"other": 1}, True),
        ({"body": {"name": [{"exists": True}]}}, {"other": 1}, False),
        ({"body": {"size": [{"numeric": [">", 2, "<=", 5]}]}}, {"size": 5}, True),
        ({"body": {"size": [{"numeric": [">", 2]}]}}, {"size": 1}, False),
        ({"body": {"op": [{"anything-but": ["get"]}]}}, {"op": "list"}, True),
    ],
)
def test_filter_criteria_follow_the_event_pattern_rules(
    pattern: dict[str, object], body: object, passes: bool
) -> None:
    assert record_passes_filters(_record(body), (pattern,)) is passes


def test_no_filters_means_every_record_passes() -> None:
    assert record_passes_filters(_record("plain text"), ()) is True
