from __future__ import annotations

import json
from decimal import Decimal

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
