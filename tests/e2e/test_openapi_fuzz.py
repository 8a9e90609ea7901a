"""The REST API fuzzed from its own description (docs/openapi.json) with schemathesis.

Two runs, each as a user no other test uses. The first drives schemathesis from
Python, case by case; the second runs its command line as CI would (`schemathesis
run`, the coverage phase's boundary values, wrong types and undeclared methods) and
reads what it sent from its HAR report.

The first sends every operation of the description, with valid (positive) and
invalid (negative) inputs schemathesis derives from it, to the local stack's REST
gateway with a valid ID token. Each answer must:
- never be a 5xx;
- be documented (status, content type, headers, body schema);
- if it is a 4xx, carry the JSON error body;
- for positive input be accepted (202; 200/404 for an outcome), for negative input
  refused with a 4xx.
After the run, when every accepted command has its outcome, the user's items and
outcomes are accounted for: no refused request has an outcome, every accepted one has
exactly one, and every item that changed did so by the successful outcomes of
accepted commands alone (created, deleted, one version per update).

Bounded and deterministic: `MAX_EXAMPLES` per operation and mode, derandomized
(the same inputs on every run), no example database, no shrinking (a failure is
reported with the curl command that reproduces it). The command line's run is
deterministic (`--generation-deterministic`: its coverage cases are derived, not
drawn), one worker, under a request rate and a time budget; its checks are
schemathesis's own, then the same JSON error body and accounting follow it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from boto3.dynamodb.types import TypeDeserializer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crudops_local.run import LocalStack
from functions.contracts.tables import ITEMS_KEY, OUTCOMES_KEY
from infra.mapping_templates import OUTCOME_DOCUMENT_ATTRIBUTE
from tests.e2e.conftest import NOTIFICATION_TIMEOUT_SECONDS, Api, api_of, id_token
from tests.support.waiting import wait_until
from tools.openapi import OPENAPI_DOCUMENT
from tools.openapi_schemas import ERROR, answer_schemas

pytestmark = pytest.mark.e2e

FUZZ_USER = "e2e-fuzz"
CLI_FUZZ_USER = "e2e-fuzz-cli"
MAX_EXAMPLES = 20
SEEDED_ITEMS = 3
REQUEST_TIMEOUT_SECONDS = 30.0
# A throttled answer (429) is retried, as a client would, until this deadline.
THROTTLE_RETRY_SECONDS = 30.0
SETTLE_TIMEOUT_SECONDS = 3 * NOTIFICATION_TIMEOUT_SECONDS
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance,
          negative_data_rejection, ignored_auth]
_ERROR_BODY = Draft4Validator(answer_schemas()[ERROR])
_deserialize = TypeDeserializer().deserialize


@dataclass(frozen=True)
class Sent:
    """One fuzzed request and how it was answered."""

    label: str
    mode: GenerationMode
    status: int
    request_id: str
    curl: str


@pytest.fixture(scope="module")
def fuzz_api(local_stack: LocalStack) -> Iterator[Api]:
    """The fuzzing user's client: its items and outcomes are its own alone."""
    with api_of(local_stack, id_token(local_stack, FUZZ_USER)) as client:
        yield client


@pytest.fixture(scope="module")
def cli_fuzz_api(local_stack: LocalStack) -> Iterator[Api]:
    """The command line run's user: another owner, so each run's accounting is its own."""
    with api_of(local_stack, id_token(local_stack, CLI_FUZZ_USER)) as client:
        yield client


def _table(api: Api, logical_prefix: str) -> str:
    return api.ref(logical_prefix, "AWS::DynamoDB::Table")


def _items(api: Api) -> dict[str, dict[str, Any]]:
    client, table = api.aws("dynamodb"), _table(api, "StorageItems")
    pages = client.get_paginator("query").paginate(
        TableName=table, ConsistentRead=True,
        KeyConditionExpression="#o = :o", ExpressionAttributeNames={"#o": ITEMS_KEY.partition},
        ExpressionAttributeValues={":o": {"S": api.sub}})
    rows = [{k: _deserialize(v) for k, v in row.items()}
            for page in pages for row in page["Items"]]
    return {str(row[ITEMS_KEY.sort]): row for row in rows}


def _outcomes(api: Api) -> dict[str, dict[str, Any]]:
    client, table = api.aws("dynamodb"), _table(api, "StorageOutcomes")
    pages = client.get_paginator("scan").paginate(
        TableName=table, ConsistentRead=True,
        FilterExpression="#o = :o", ExpressionAttributeNames={"#o": OUTCOMES_KEY.sort},
        ExpressionAttributeValues={":o": {"S": api.sub}})
    return {row[OUTCOMES_KEY.partition]["S"]: json.loads(row[OUTCOME_DOCUMENT_ATTRIBUTE]["S"])
            for page in pages for row in page["Items"]}


def _error_body_on_4xx(response: Any, curl: str) -> None:
    if not 400 <= response.status_code < 500:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (
        response.status_code, response.headers, curl)
    errors = sorted(_ERROR_BODY.iter_errors(response.json()), key=str)
    assert not errors, (response.status_code, response.text, [e.message for e in errors], curl)


def _accepted_if_valid(mode: GenerationMode, label: str, status: int, curl: str) -> None:
    """Valid input is accepted: every command is 202 (its outcome may still be an
    error), an outcome lookup 200 or 404. (Whether invalid input was refused is
    schemathesis's `negative_data_rejection`: it knows which inputs it negated.)"""
    if mode is GenerationMode.POSITIVE:
        accepted = {200, 404} if label.startswith("GET /requests") else {202}
        assert status in accepted, (label, status, curl)


@dataclass(frozen=True)
class Client:
    """Where and as whom the cases are sent."""

    session: requests.Session
    base_url: str
    token: str

    def headers(self) -> dict[str, str]:
        # A fresh dict each time: a check that re-sends without credentials takes them
        # out of the dict it was given.
        return {"Authorization": self.token}

    def send(self, case: Any) -> Any:
        """The case's request; a 429 (the stage's throttle) is sent again until it
        passes, as a client would."""
        return wait_until(
            lambda: case.call(base_url=self.base_url, session=self.session,
                              headers=self.headers(), timeout=REQUEST_TIMEOUT_SECONDS),
            lambda r: r.status_code != 429, timeout=THROTTLE_RETRY_SECONDS,
            describe=f"{case.operation.label} answered without throttling")

    def validate(self, case: Any, response: Any, checks: list[Any]) -> None:
        case.validate_response(response, checks=checks, headers=self.headers(),
                               transport_kwargs={"base_url": self.base_url,
                                                 "headers": self.headers(),
                                                 "session": self.session})


def _exercise(operation: Any, mode: GenerationMode, targets: st.SearchStrategy[str | None],
              client: Client, sent: list[Sent]) -> None:
    """MAX_EXAMPLES cases of `operation` in `mode`, each sent and checked."""
    parameter = _path_parameter(operation.path)

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None,
              deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), target=targets)
    def exercise(case: Any, target: str | None) -> None:
        if target is not None and parameter is not None:
            case.path_parameters[parameter] = target
        response = client.send(case)
        curl = case.as_curl_command(headers=client.headers())
        sent.append(Sent(case.operation.label, mode, response.status_code,
                         response.headers.get("x-amzn-requestid", [""])[0], curl))
        _error_body_on_4xx(response, curl)
        _accepted_if_valid(mode, case.operation.label, response.status_code, curl)
        client.validate(case, response, CHECKS)

    exercise()


def _path_parameter(path: str) -> str | None:
    names = re.findall(r"{(\w+)}", path)
    return names[0] if names else None


def _fuzz(operations: list[Any], client: Client, known: dict[str, list[str]]) -> list[Sent]:
    """Each operation, positive (and negative where there is a body), MAX_EXAMPLES
    each; what was answered. A positive case names a `known` path value about half
    the time (one of the user's items, one of its requests), so updates and deletes
    find something to change and a lookup finds an outcome."""
    sent: list[Sent] = []
    for operation in operations:
        # Every parameter is an optional string (or a path segment): only a body can be
        # invalid, so an operation without one has no negative input to generate.
        negatable = "requestBody" in operation.definition.raw
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negatable else [])
        values = known.get(_path_parameter(operation.path) or "", [])
        for mode in modes:
            targets: st.SearchStrategy[str | None] = (
                st.sampled_from(values) | st.none()
                if mode is GenerationMode.POSITIVE and values else st.none())
            _exercise(operation, mode, targets, client, sent)
    return sent


def _settled(api: Api, sent: list[Sent]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The user's outcomes once every accepted command has one; the accepted ids."""
    assert all(s.request_id for s in sent), [s.curl for s in sent if not s.request_id]
    accepted = {s.request_id for s in sent if s.status == 202}
    outcomes = wait_until(
        lambda: _outcomes(api), lambda found: accepted <= set(found),
        timeout=SETTLE_TIMEOUT_SECONDS, describe="an outcome for every accepted command")
    return outcomes, accepted


def _outcomes_as_described(schema: Any, client: Client, request_ids: set[str]) -> None:
    """Every outcome the run produced, read through the API, matches the description."""
    lookup = schema["/requests/{requestId}"]["GET"]
    for request_id in sorted(request_ids):
        case = lookup.Case(path_parameters={"requestId": request_id})
        response = client.send(case)
        assert response.status_code == 200, (request_id, response.text)
        client.validate(case, response, [response_schema_conformance])


def _account(before_items: dict[str, dict[str, Any]], after_items: dict[str, dict[str, Any]],
             outcomes: dict[str, dict[str, Any]], accepted: set[str]) -> None:
    """Every item change is explained by the successful outcomes of accepted commands."""
    succeeded = [o for rid, o in outcomes.items() if rid in accepted and o["status"] == "success"]
    created = {o["result"]["id"] for o in succeeded if o["operation"] == "create"}
    deleted = {o["result"]["id"] for o in succeeded if o["operation"] == "delete"}
    updates: dict[str, int] = {}
    for outcome in succeeded:
        if outcome["operation"] == "update":
            updates[outcome["result"]["id"]] = updates.get(outcome["result"]["id"], 0) + 1
    for item_id in set(before_items) | set(after_items):
        before, after = before_items.get(item_id), after_items.get(item_id)
        if before == after:
            assert item_id not in created | deleted and item_id not in updates, item_id
            continue
        if after is None:
            assert item_id in deleted, ("removed without a delete", item_id, before)
            continue
        if before is None:
            assert item_id in created, ("appeared without a create", item_id, after)
        start = int(before["version"]) if before else 1
        assert int(after["version"]) == start + updates.get(item_id, 0), (
            "changed by something other than its updates", item_id, before, after,
            updates.get(item_id, 0))


def test_fuzzed_requests_are_answered_as_described_and_refusals_change_nothing(
        fuzz_api: Api) -> None:
    # GIVEN the user's own items, and everything of theirs settled
    seeded = [fuzz_api.submit("POST", "/items", json={"name": f"fuzz-seed-{n}"})
              for n in range(SEEDED_ITEMS)]
    item_ids = [fuzz_api.stored_outcome(request_id)["result"]["id"] for request_id in seeded]
    outcomes_before = _outcomes(fuzz_api)
    items_before = _items(fuzz_api)
    schema = schemathesis.openapi.from_path(OPENAPI_DOCUMENT)
    # Every case carries the user's token (the anonymous case is `ignored_auth`'s), and
    # no query parameter the API does not declare: API Gateway ignores those, so they
    # are not invalid input.
    schema.config.generation.update(with_security_parameters=False,
                                    allow_extra_parameters=False)
    assert fuzz_api.stack.endpoints is not None and fuzz_api.token is not None
    client = Client(requests.Session(), fuzz_api.stack.endpoints.rest_url, fuzz_api.token)

    # WHEN every operation is fuzzed, valid and invalid input; the deletes last, once
    # the rest has settled, so that reads and updates find the items
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6, [o.label for o in operations]
    known = {"id": item_ids, "requestId": seeded}
    sent = _fuzz([o for o in operations if o.method.upper() != "DELETE"], client, known)
    _settled(fuzz_api, sent)
    sent += _fuzz([o for o in operations if o.method.upper() == "DELETE"], client, known)

    # THEN every accepted command ends in exactly one outcome, no refused one in any
    outcomes, accepted = _settled(fuzz_api, sent)
    refused = {s.request_id for s in sent if 400 <= s.status < 500}
    new = set(outcomes) - set(outcomes_before)
    assert new == accepted, {"unexpected": new - accepted, "missing": accepted - new}
    assert not refused & set(outcomes)
    # AND the items changed by those outcomes alone
    _account(items_before, _items(fuzz_api), outcomes, accepted)
    # AND each of those outcomes is what the description says an outcome is
    _outcomes_as_described(schema, client, accepted)
    # AND the run reached what it is meant to: refusals, changes, stored outcomes
    answered = {(s.label, s.mode.value, s.status) for s in sent}
    for expected in [("POST /items", "negative", 400), ("PUT /items/{id}", "negative", 400),
                     ("GET /requests/{requestId}", "positive", 200)]:
        assert expected in answered, (expected, answered)
    succeeded = {o["operation"] for o in outcomes.values() if o["status"] == "success"}
    assert succeeded >= {"create", "get", "list", "update", "delete"}, succeeded


# `schemathesis run`: what CI would run, bounded in cases, rate and time. (Its
# stateful phase runs until a time budget, not a count, so it is left out here.)
CLI_MAX_EXAMPLES = 10
CLI_RATE_LIMIT = "50/s"
CLI_MAX_TIME_SECONDS = 120
CLI_TIMEOUT_SECONDS = 300
CLI_CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
              "response_headers_conformance,response_schema_conformance,"
              "negative_data_rejection,positive_data_acceptance,ignored_auth,"
              "missing_required_header,unsupported_method")


def _har_answers(har: Path) -> list[tuple[str, int, str, str, str]]:
    """(method url, status, request id, content type, body) of every exchange."""
    answers = []
    for entry in json.loads(har.read_text())["log"]["entries"]:
        response = entry["response"]
        headers = {h["name"].lower(): h["value"] for h in response["headers"]}
        answers.append((f"{entry['request']['method']} {entry['request']['url']}",
                        int(response["status"]), headers.get("x-amzn-requestid", ""),
                        headers.get("content-type", ""), response["content"].get("text", "")))
    return answers


def test_the_command_line_run_passes_and_its_refusals_change_nothing(
        cli_fuzz_api: Api, tmp_path: Path) -> None:
    # GIVEN the user's items and outcomes before
    outcomes_before, items_before = _outcomes(cli_fuzz_api), _items(cli_fuzz_api)
    assert cli_fuzz_api.stack.endpoints is not None and cli_fuzz_api.token is not None
    har = tmp_path / "run.har"
    # WHEN schemathesis runs its coverage phase against the local gateway: boundary
    # values of every constraint, missing and wrong types, methods no route has
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", str(OPENAPI_DOCUMENT),
         "--url", cli_fuzz_api.stack.endpoints.rest_url,
         "--header", f"Authorization: {cli_fuzz_api.token}",
         "--phases", "coverage", "--checks", CLI_CHECKS,
         "--max-examples", str(CLI_MAX_EXAMPLES),
         "--generation-deterministic", "--no-shrink",
         "--workers", "1", "--rate-limit", CLI_RATE_LIMIT,
         "--max-time", str(CLI_MAX_TIME_SECONDS), "--request-timeout", "30",
         "--report", "har", "--report-har-path", str(har), "--no-color"],
        cwd=tmp_path, capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS)
    # THEN it finds nothing
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    answers = _har_answers(har)
    statuses = {status for _, status, _, _, _ in answers}
    assert 202 in statuses and 400 in statuses and 401 in statuses, statuses
    assert max(statuses) < 500, [a[:2] for a in answers if a[1] >= 500]
    # AND every refusal carries the JSON error body
    for request, status, _, content_type, body in answers:
        if 400 <= status < 500:
            assert content_type.startswith("application/json"), (request, status, body)
            errors = [e.message for e in _ERROR_BODY.iter_errors(json.loads(body))]
            assert not errors, (request, status, body, errors)
    # AND every accepted command ends in one outcome, a refused request in none, and the
    # items changed by those outcomes alone
    sent = [Sent(request, GenerationMode.POSITIVE, status, request_id, request)
            for request, status, request_id, _, _ in answers]
    outcomes, accepted = _settled(cli_fuzz_api, sent)
    new = set(outcomes) - set(outcomes_before)
    assert new == accepted, {"unexpected": new - accepted, "missing": accepted - new}
    assert not {a[2] for a in answers if 400 <= a[1] < 500} & set(outcomes)
    _account(items_before, _items(cli_fuzz_api), outcomes, accepted)
