"""Which messages `--filter`, `--request-id`, `--older-than` and `--max` choose
(tools/dlq/selection.py): a pure predicate over one message's view."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.dlq.selection import Selection, message_view, parse_duration, selection
from tools.errors import UserError

NOW_MS = 1_800_000_000_000


def _message(body: Any, *, operation: str | None = None, receives: int = 5,
             age_seconds: float = 0, binary: bytes | None = None) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if operation is not None:
        attributes["operation"] = {"DataType": "String", "StringValue": operation}
    if binary is not None:
        attributes["blob"] = {"DataType": "Binary", "BinaryValue": binary}
    return {"MessageId": "m1", "ReceiptHandle": "h1",
            "Body": body if isinstance(body, str) else json.dumps(body),
            "Attributes": {"ApproximateReceiveCount": str(receives),
                           "SentTimestamp": str(int(NOW_MS - age_seconds * 1000))},
            "MessageAttributes": attributes}


def _chooses(chosen: Selection, message: dict[str, Any]) -> bool:
    return chosen.chooses(message_view(message), now_ms=NOW_MS)


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600),
                                               ("2d", 172800), ("1.5h", 5400)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["1", "h", "1w", "-1h", ""])
def test_a_bad_duration_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError, match="is not a duration"):
        parse_duration(text)


def test_the_view_parses_a_json_body_and_keeps_a_text_one() -> None:
    view = message_view(_message({"requestId": "r1", "operation": "create"}, binary=b"\x00"))
    assert view.body == {"requestId": "r1", "operation": "create"}
    assert view.request_id == "r1" and view.operation == "create"
    assert view.attributes == {"blob": "AA=="} and view.receive_count == 5
    text = message_view(_message("not json", operation="update"))
    assert text.body == "not json" and text.operation == "update"  # from the attribute
    assert text.request_id is None


@pytest.mark.parametrize(("expression", "body", "chosen"), [
    ("body.operation == 'create'", {"operation": "create"}, True),
    ("body.operation == 'create'", {"operation": "update"}, False),
    ("contains(body, 'timeout')", "a timeout happened", True),
    ("receiveCount > `4`", {}, True),
    ("receiveCount > `5`", {}, False),
    ("attributes.operation", {}, True),  # present: a non-empty string
    ("body.missing", {}, False),  # null is false
    ("body.items", {"items": []}, False),  # an empty list is false
    ("length(body) > `3`", 7, False),  # a type error on this message: not chosen
])
def test_the_filter_is_jmespath_over_the_view(expression: str, body: Any,
                                               chosen: bool) -> None:
    assert _chooses(selection(expression=expression), _message(body, operation="get")) is chosen


def test_request_ids_and_age_and_filter_must_all_hold() -> None:
    chosen = selection(expression="body.operation == 'create'", request_ids=["r1"],
                       older_than="1h")
    old = {"requestId": "r1", "operation": "create"}
    assert _chooses(chosen, _message(old, age_seconds=3601))
    assert not _chooses(chosen, _message(old, age_seconds=3599))  # too young
    assert not _chooses(chosen, _message({**old, "requestId": "r2"}, age_seconds=7200))
    assert not _chooses(chosen, _message({**old, "operation": "get"}, age_seconds=7200))


def test_a_bad_expression_or_max_is_a_user_error_before_anything_is_read() -> None:
    with pytest.raises(UserError, match="is not a JMESPath expression"):
        selection(expression="body.operation ==")
    with pytest.raises(UserError, match="--max 0 must be at least 1"):
        selection(limit=0)


def test_a_selection_survives_the_journal() -> None:
    chosen = selection(expression="body.x", request_ids=["b", "a"], older_than="2m", limit=3)
    assert Selection.from_json(json.loads(json.dumps(chosen.as_json()))) == chosen
    assert not chosen.everything and selection(limit=3).everything
