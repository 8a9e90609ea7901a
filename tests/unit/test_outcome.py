from __future__ import annotations

import json
from decimal import Decimal

import pytest

from functions.contracts.exact_json import dumps
from functions.contracts.outcome import Outcome, Status
from functions.exceptions import VersionConflictError


def test_success_document_has_the_seed_fields_plus_completed_at() -> None:
    outcome = Outcome.success("r-1", "create", {"id": "i", "price": Decimal("2.5")}, 1000)

    document = json.loads(outcome.to_json())

    assert document["requestId"] == "r-1"
    assert document["operation"] == "create"
    assert document["status"] == "success"
    assert document["type"] == "notification"
    assert document["error"] is None
    assert document["result"] == {"id": "i", "price": 2.5}
    assert document["completedAt"].endswith("Z")


def test_error_document_carries_code_and_message_and_round_trips() -> None:
    outcome = Outcome.failure("r-2", "update", VersionConflictError("at version 3, not 2"))

    document = json.loads(outcome.to_json())
    again = Outcome.from_json(outcome.to_json())

    assert document["status"] == "error"
    assert document["error"] == {"code": "conflict", "message": "at version 3, not 2"}
    assert document["result"] is None
    assert again == outcome
    assert again.status is Status.ERROR


@pytest.mark.parametrize("text", [
    "0.1234567890123456789012345678901234567",  # 37 digits: a float keeps 17
    "12345678901234567890123456789012345678",  # 38 digits, DynamoDB's most
    "-9.99999999999999999999999999999999999E+125",  # DynamoDB's largest magnitude
    "1E-130",  # and its smallest
    "100", "-0.5", "0"])
def test_a_decimal_keeps_every_digit_in_the_json(text: str) -> None:
    number = Decimal(text)
    written = dumps({"result": {"n": number, "list": [number]}})
    read = json.loads(written, parse_float=Decimal)
    assert Decimal(read["result"]["n"]) == number
    assert Decimal(read["result"]["list"][0]) == number


def test_an_integral_decimal_is_written_as_its_digits() -> None:
    assert dumps({"n": Decimal("1E+2"), "big": Decimal("1E+125")}) == (
        '{"n":100,"big":1' + "0" * 125 + "}")


def test_sets_and_plain_values_are_written_as_the_json_module_writes_them() -> None:
    document = {"tags": {"b", "a"}, "text": 'é "q"', "none": None, "yes": True, "f": 2.5,
                "nested": [{"k": [1, {"x": "y"}]}], "empty": {}, "none_list": []}
    assert json.loads(dumps(document)) == {**document, "tags": ["a", "b"]}
    assert dumps({"text": "é"}) == '{"text":"é"}'


def test_a_number_json_cannot_write_is_refused() -> None:
    with pytest.raises(ValueError):
        dumps({"n": Decimal("NaN")})
