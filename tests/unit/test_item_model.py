from __future__ import annotations

import json
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from functions.domain import item_model
from functions.exceptions import InvalidCommandError

NOW = "2026-11-24T12:00:00.000Z"


def test_a_new_item_starts_at_version_1_with_an_id_derived_from_the_request() -> None:
    item = item_model.new_item("req-1", {"name": "widget", "attributes": {"color": "red"}}, NOW)

    assert item["version"] == 1
    assert item["createdAt"] == item["updatedAt"] == NOW
    assert item["id"] == item_model.item_id_for("req-1")
    assert item_model.item_id_for("req-1") != item_model.item_id_for("req-2")


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "ok", "unknown": 1},
        {"name": "ok", "description": 5},
        {"name": "ok", "attributes": {"bad key!": "v"}},
        {"name": "ok", "attributes": {"k": {"nested": True}}},
        {"name": "ok", "attributes": {f"k{i}": i for i in range(51)}},
    ],
)
def test_invalid_create_payloads_are_validation_errors(payload: object) -> None:
    with pytest.raises(InvalidCommandError):
        item_model.new_item("req-1", payload, NOW)


@pytest.mark.parametrize("number", ["1e-131", "-1e-131", "1e126", "8.8e126", "1e300",
                                    "123456789012345678901234567890123456789",
                                    "1.0000000000000000000000000000000000000001", "NaN"])
def test_a_number_dynamodb_cannot_store_is_a_validation_error(number: str) -> None:
    payload = json.loads(f'{{"name": "n", "attributes": {{"k": {number}}}}}',
                         parse_float=Decimal)
    with pytest.raises(InvalidCommandError, match=r"attributes\.k"):
        item_model.new_item("req-1", payload, NOW)
    with pytest.raises(InvalidCommandError, match=r"attributes\.k"):
        item_model.validated_changes(payload)


@pytest.mark.parametrize("number", ["1e-130", "-1e-130", "0", "0.5", "-7",
                                    "9.9999999999999999999999999999999999999E+125",
                                    "-9.9999999999999999999999999999999999999E+125",
                                    "12345678901234567890123456789012345678"])
def test_every_number_dynamodb_stores_is_accepted(number: str) -> None:
    payload = json.loads(f'{{"name": "n", "attributes": {{"k": {number}}}}}',
                         parse_float=Decimal)
    item = item_model.new_item("req-1", payload, NOW)
    TypeSerializer().serialize(item["attributes"]["k"])  # and boto3 sends it as it is


def test_a_validation_error_says_which_rule_failed() -> None:
    with pytest.raises(InvalidCommandError) as raised:
        item_model.new_item("req-1", {"name": "ok", "unknown": 1}, NOW)
    assert str(raised.value) == "invalid item: data must not contain {'unknown'} properties"


def test_update_changes_only_given_fields_and_bumps_the_version() -> None:
    current = item_model.new_item("req-1", {"name": "a", "description": "d"}, NOW)
    changes = item_model.validated_changes({"name": "b", "expectedVersion": 1})

    updated = item_model.updated_item(current, changes, "later")

    assert changes == {"name": "b"}
    assert updated["name"] == "b"
    assert updated["description"] == "d"
    assert updated["version"] == 2
    assert updated["createdAt"] == NOW
    assert updated["updatedAt"] == "later"


@pytest.mark.parametrize("payload", [{}, {"expectedVersion": 2}, {"version": 3}, "text"])
def test_an_update_must_change_something_valid(payload: object) -> None:
    with pytest.raises(InvalidCommandError):
        item_model.validated_changes(payload)


@pytest.mark.parametrize(
    ("payload", "if_match", "expected"),
    [
        ({"name": "x"}, "", None),
        ({"name": "x", "expectedVersion": 4}, "", 4),
        ({"name": "x"}, '"7"', 7),
        ({"name": "x"}, 'W/"7"', 7),
        ({"name": "x"}, "7", 7),
        (None, "3", 3),
        ({"name": "x", "expectedVersion": 7}, '"7"', 7),
    ],
)
def test_expected_version_comes_from_body_or_if_match(
    payload: object, if_match: str, expected: int | None
) -> None:
    assert item_model.parse_expected_version(payload, if_match) == expected


@pytest.mark.parametrize(
    ("payload", "if_match"), [({"expectedVersion": 1}, '"2"'), (None, "abc"), (None, '"-1"')]
)
def test_a_bad_or_contradicting_precondition_is_a_validation_error(
    payload: object, if_match: str
) -> None:
    with pytest.raises(InvalidCommandError):
        item_model.parse_expected_version(payload, if_match)
