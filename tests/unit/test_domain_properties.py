"""Properties of the domain rules over generated input (Hypothesis), not chosen cases.

Each property is one promise of the contract: whatever a client puts in a path, header,
query string or body reaches the handler unchanged through the real mapping template
(rendered by the local stack's API Gateway renderer); a number the handler accepts is
stored exactly; a list page fits its notification and its cursor resumes after it;
an outcome survives its own serialization. `derandomize=True` makes every run draw
the same examples, so the suite stays deterministic.
"""

from __future__ import annotations

import json
import urllib.parse
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crudops_local.apigateway.rest.vtl import Input, JavaMap, render
from functions.contracts.command import Operation, parse_command
from functions.contracts.outcome import Outcome, Status, dumps
from functions.domain import paging
from functions.domain.item_model import parse_expected_version
from functions.domain.numbers import unstorable
from infra.mapping_templates import COMMAND_SHAPES, sns_publish_template

PROPERTY_SETTINGS = settings(derandomize=True, deadline=None, max_examples=150,
                             suppress_health_check=[HealthCheck.too_slow])
TOPIC_ARN = "arn:aws:sns:us-east-1:000000000000:commands"
REQUEST_ID = "3f1c2a4e-0000-4000-8000-000000000001"
OWNER = "8178fd0d-40ce-41e1-832d-e1615a295357"

# What a client controls: any unicode text but the surrogates HTTP cannot carry.
client_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
json_scalars = st.one_of(st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
                         client_text)
json_bodies = st.dictionaries(client_text, st.one_of(
    json_scalars, st.lists(json_scalars, max_size=3),
    st.dictionaries(client_text, json_scalars, max_size=3)), max_size=5)


def _published_command(operation: Operation, params: dict[str, dict[str, str]],
                       body: Any) -> dict[str, str]:
    context = JavaMap(requestId=REQUEST_ID, requestTimeEpoch=1_732_400_000_123,
                      authorizer=JavaMap(claims=JavaMap(sub=OWNER)))
    form = render(sns_publish_template(operation, TOPIC_ARN),
                  input_=Input(json.dumps(body), params), context=context)
    parsed = urllib.parse.parse_qs(form, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values()), parsed
    return {key: values[0] for key, values in parsed.items()}


@PROPERTY_SETTINGS
@given(operation=st.sampled_from(list(Operation)), item_id=client_text,
       idempotency_key=client_text, if_match=client_text, limit=client_text,
       cursor=client_text, body=json_bodies)
def test_what_a_client_sends_reaches_the_handler_unchanged(
    operation: Operation, item_id: str, idempotency_key: str, if_match: str, limit: str,
    cursor: str, body: dict[str, Any],
) -> None:
    params = {"path": {"id": item_id}, "querystring": {"limit": limit, "cursor": cursor},
              "header": {"Idempotency-Key": idempotency_key, "If-Match": if_match}}
    form = _published_command(operation, params, body)
    command = parse_command(form["Message"])
    shape = COMMAND_SHAPES[operation]
    assert command.request_id == REQUEST_ID
    assert command.owner == OWNER
    assert command.operation == operation.value
    assert command.idempotency_key == idempotency_key
    assert command.item_id == (item_id if shape.item_id else "")
    assert command.if_match == (if_match if shape.if_match else "")
    assert (command.limit, command.cursor) == ((limit, cursor) if shape.query else ("", ""))
    assert command.payload == (body if shape.payload else None)
    assert form["MessageAttributes.entry.1.Value.StringValue"] == operation.value


# Numbers as a client may write them in JSON: any digits, any exponent.
client_numbers = st.decimals(allow_nan=False, allow_infinity=False, places=None)


@PROPERTY_SETTINGS
@given(number=client_numbers)
def test_a_number_the_handler_accepts_is_stored_exactly(number: Decimal) -> None:
    """The handler's check is the whole rule: what it passes, boto3 serializes and
    reads back as the same number (no rounding, no overflow); what it refuses is
    outside what DynamoDB stores."""
    if unstorable(number) is not None:
        digits = len(number.as_tuple().digits)
        assert number and (digits > 38 or not -130 <= number.adjusted() <= 125)
        return
    stored = TypeSerializer().serialize(number)
    assert TypeDeserializer().deserialize(stored) == number


items = st.lists(st.fixed_dictionaries({"id": st.uuids().map(str),
                                        "name": client_text,
                                        "description": st.text(max_size=600)}),
                 max_size=30, unique_by=lambda item: item["id"])


@PROPERTY_SETTINGS
@given(page=items, more_after=st.booleans(), budget=st.integers(1_100, 8_000))
def test_a_list_page_fits_its_notification_and_resumes_after_itself(
    page: list[dict[str, Any]], more_after: bool, budget: int,
) -> None:
    cut = paging.cut_to_budget(page, more_after, budget)
    assert cut.items == page[:len(cut.items)]
    if page:
        assert cut.items, "a page always carries at least one item"
    if len(cut.items) > 1:
        size = sum(len(dumps(item).encode()) + 1 for item in cut.items)
        assert size <= budget - paging.ENVELOPE_BYTES
    truncated = len(cut.items) < len(page)
    if cut.items and (truncated or more_after):
        assert cut.next_cursor is not None
        assert paging.decode_cursor(cut.next_cursor) == {"id": cut.items[-1]["id"]}
    else:
        assert cut.next_cursor is None


@PROPERTY_SETTINGS
@given(version=st.integers(min_value=1, max_value=10**12),
       form=st.sampled_from(['{}', '"{}"', 'W/"{}"', ' {} ']), in_body=st.booleans())
def test_a_precondition_reads_the_same_from_header_and_body(
    version: int, form: str, in_body: bool,
) -> None:
    payload = {"expectedVersion": version} if in_body else {}
    assert parse_expected_version(payload, form.format(version)) == version


@PROPERTY_SETTINGS
@given(result=st.one_of(st.none(), json_bodies), status=st.sampled_from(list(Status)),
       submitted=st.integers(min_value=0, max_value=2**53))
def test_an_outcome_survives_its_own_serialization(
    result: Any, status: Status, submitted: int,
) -> None:
    failed = status is Status.ERROR
    outcome = Outcome(REQUEST_ID, "get", status, result, "not_found" if failed else None,
                      "no such item" if failed else None, "2026-12-01T00:00:00.000Z",
                      submitted)
    assert Outcome.from_json(outcome.to_json()) == outcome
