"""The OpenAPI description (docs/openapi.json) against the synthesized template.

It is committed and kept in step with the code like the rendered dashboard; it is
OpenAPI 3.0 with API Gateway's draft-04 models; its routes, parameters, models and
security are the ones the gateway reads from the same template (as API Gateway's
own export would list them); and every body the template can answer with (integration
response templates, gateway responses, the firewall's bodies), rendered by the local
gateway's Velocity engine, matches the schema documented for its status.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from openapi_spec_validator import validate as validate_openapi

from crudops_local.apigateway.exceptions import GATEWAY_ERRORS
from crudops_local.apigateway.rest import gateway_responses, vtl
from crudops_local.apigateway.rest.context import RequestFacts, new_context
from crudops_local.apigateway.rest.routes import RestApi, rest_apis
from crudops_local.cloudformation.template import PhysicalResource, Pseudo, Resolver, Template
from functions.contracts.outcome import Outcome
from infra.mapping_templates import OUTCOME_DOCUMENT_ATTRIBUTE
from tools.errors import UserError
from tools.openapi import OPENAPI_DOCUMENT, STDOUT, do_openapi, print_openapi_result
from tools.openapi_document import JSON, openapi_document, openapi_json
from tools.synth import SynthResult

_LOCATIONS = {"path": "path", "query": "querystring", "header": "header"}


@pytest.fixture(scope="module")
def document(template_json: dict[str, Any]) -> dict[str, Any]:
    return openapi_document(template_json)


@pytest.fixture(scope="module")
def gateway_api(crudops_template: Template) -> RestApi:
    """The REST API as the local gateway reads the same template."""
    physical = {r.logical_id: PhysicalResource(r.logical_id, {"Arn": f"arn:local:{r.logical_id}"})
                for r in crudops_template.resources.values()}
    (api,) = rest_apis(crudops_template, Resolver(crudops_template, Pseudo(), physical))
    return api


def _json_schema(schema: Any, components: Mapping[str, Any]) -> Any:
    """An OpenAPI 3.0 schema as plain JSON Schema: `$ref`s inlined, `nullable` as a
    union with null (what the e2e fuzz's validator does too)."""
    if isinstance(schema, list):
        return [_json_schema(s, components) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    if "$ref" in schema:
        return _json_schema(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    converted = {k: _json_schema(v, components) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _assert_matches(document: Mapping[str, Any], schema: Any, body: Any, what: str) -> None:
    validator = Draft4Validator(_json_schema(schema, document["components"]["schemas"]))
    errors = [e.message for e in validator.iter_errors(body)]
    assert not errors, (what, body, errors)


def _answer_schema(document: Mapping[str, Any], path: str, method: str, status: str) -> Any:
    responses = document["paths"][path][method.lower()]["responses"]
    response = responses.get(status) or responses[f"{status[0]}XX"]
    return response["content"][JSON]["schema"]


def _context(method: str = "GET", path: str = "/items") -> vtl.JavaMap:
    return new_context(RequestFacts(api_id="api", account_id="123456789012", stage="v1",
                                    domain_name="localhost", http_method=method, path=path,
                                    resource_path=path, resource_id="r", source_ip="127.0.0.1",
                                    user_agent="test"))


def test_committed_description_is_what_the_code_builds(template_json: dict[str, Any]) -> None:
    assert OPENAPI_DOCUMENT.read_text() == openapi_json(template_json), (
        "docs/openapi.json differs from the code; run `crudops openapi`")


def _without_pattern_properties(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_pattern_properties(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _without_pattern_properties(v) for k, v in value.items()
                if k != "patternProperties"}
    return value


def test_it_is_openapi_3_0_with_draft_4_schemas(document: dict[str, Any]) -> None:
    # API Gateway's models are JSON Schema draft 4 and exported as they are, and the
    # item fields keep them, which OpenAPI 3.0's schema object does not fully allow
    # (`patternProperties`): each schema is checked as draft 4, and the document
    # without that keyword as OpenAPI 3.0.
    schemas = document["components"]["schemas"]
    assert any("patternProperties" in json.dumps(s) for s in schemas.values())
    for schema in schemas.values():
        Draft4Validator.check_schema(schema)
    validate_openapi(_without_pattern_properties(document))


def test_routes_parameters_models_and_security_are_the_gateways(
        document: dict[str, Any], gateway_api: RestApi) -> None:
    # GIVEN the methods as the local gateway reads them from the same template
    described = {(path, method.upper()): operation
                 for path, methods in document["paths"].items()
                 for method, operation in methods.items()}
    methods = {(m.resource_path, m.http_method): m for m in gateway_api.methods()}
    # THEN the description lists exactly those, each with its parameters, model, authorizer
    assert set(described) == set(methods)
    schemas = document["components"]["schemas"]
    for key, method in methods.items():
        operation = described[key]
        assert {f"method.request.{_LOCATIONS[p['in']]}.{p['name']}": p["required"]
                for p in operation["parameters"]} == method.request_parameters, key
        model = method.request_models.get(JSON)
        body = operation.get("requestBody")
        if model is None:
            assert body is None, key
        else:
            name = body["content"][JSON]["schema"]["$ref"].rsplit("/", 1)[-1]
            assert schemas[name] == {k: v for k, v in model.items() if k != "$schema"}, key
            assert body["required"] is method.validator.body, key
        assert ("security" in operation) == (method.authorization_type != "NONE"), key


def test_every_integration_answer_matches_its_documented_schema(
        document: dict[str, Any], gateway_api: RestApi) -> None:
    # A stored outcome, as DynamoDB's GetItem returns it, and no item at all.
    stored = Outcome.success("r-1", "create", {"id": "i-1", "name": "n", "description": "",
                                               "attributes": {}, "version": 1,
                                               "createdAt": "2026-12-01T00:00:00.000Z",
                                               "updatedAt": "2026-12-01T00:00:00.000Z"})
    service_bodies = [json.dumps({"Item": {OUTCOME_DOCUMENT_ATTRIBUTE: {"S": stored.to_json()}}}),
                      "{}"]
    checked = 0
    for method in gateway_api.methods():
        for answer in method.integration.responses:
            template = answer.response_templates[JSON]
            for service_body in service_bodies:
                context = _context(method.http_method, method.resource_path)
                body = vtl.render(template, input_=vtl.Input(service_body, {}), context=context)
                status = str(context["responseOverride"]["status"] or answer.status_code)
                schema = _answer_schema(document, method.resource_path, method.http_method,
                                        status)
                _assert_matches(document, schema, json.loads(body),
                                f"{method.http_method} {method.resource_path} {status}")
                checked += 1
    assert checked >= 6 * 3 * 2


def test_every_refusal_documented_renders_the_documented_error_body(
        document: dict[str, Any], gateway_api: RestApi) -> None:
    # GIVEN each operation's documented refusals that API Gateway itself answers
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                for reason in response["description"].split("; "):
                    if not reason.startswith("API Gateway: "):
                        continue
                    response_type = reason.removeprefix("API Gateway: ")
                    error = GATEWAY_ERRORS[response_type](validation_error="a reason")
                    # WHEN the gateway renders it with the template's gateway responses
                    answer = gateway_responses.render(error, gateway_api.gateway_responses,
                                                      _context(method.upper(), path))
                    # THEN its status, headers and body are the documented ones
                    assert status == "5XX" or answer.status == int(status), (path, reason)
                    for header, spec in response.get("headers", {}).items():
                        assert answer.headers[header] in spec["schema"]["enum"], header
                    _assert_matches(document, response["content"][JSON]["schema"],
                                    json.loads(answer.body), f"{method} {path} {reason}")


def test_every_firewall_block_has_a_documented_status_and_body(
        document: dict[str, Any], template_json: dict[str, Any]) -> None:
    acls = [r["Properties"] for r in template_json["Resources"].values()
            if r["Type"] == "AWS::WAFv2::WebACL"]
    assert len(acls) == 1
    bodies = {key: json.loads(b["Content"]) for key, b in acls[0]["CustomResponseBodies"].items()}
    blocks: set[tuple[int, str]] = set()
    for rule in acls[0]["Rules"]:
        actions = [rule.get("Action", {})] + [o["ActionToUse"] for o in rule["Statement"].get(
            "ManagedRuleGroupStatement", {}).get("RuleActionOverrides", [])]
        blocks |= {(a["Block"]["CustomResponse"]["ResponseCode"],
                    a["Block"]["CustomResponse"]["CustomResponseBodyKey"])
                   for a in actions if "Block" in a}
    assert {status for status, _ in blocks} == {403, 413, 429}
    for path, methods in document["paths"].items():
        for method in methods:
            for status, key in blocks:
                _assert_matches(document, _answer_schema(document, path, method, str(status)),
                                bodies[key], f"{method} {path} firewall {status}")


def test_a_route_the_description_does_not_know_is_an_error(
        template_json: dict[str, Any], tmp_path: Path) -> None:
    # GIVEN a template whose create method publishes something else
    changed = copy.deepcopy(template_json)
    (method,) = [r for r in changed["Resources"].values()
                 if r["Type"] == "AWS::ApiGateway::Method"
                 and r["Properties"]["HttpMethod"] == "POST"]
    method["Properties"]["Integration"]["RequestTemplates"][JSON] = "Action=Publish"
    source = tmp_path / "changed.template.json"
    source.write_text(json.dumps(changed))
    # THEN describing it fails with one line, rather than leaving the route out
    with pytest.raises(UserError, match="does not know"):
        do_openapi(tmp_path / "openapi.json", template=source)


def test_command_writes_then_is_up_to_date_and_check_sees_a_drift(
        synthesized: SynthResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs" / "openapi.json"
    first = do_openapi(out, template=synthesized.template)
    assert (first.written, first.changed, first.operations) == (True, True, 6)
    assert out.read_text() == OPENAPI_DOCUMENT.read_text()
    again = do_openapi(out, template=synthesized.template)
    assert (again.written, again.changed) == (False, False)
    assert print_openapi_result(again, check=False, as_json=False) == 0
    assert "up to date (6 operations)" in capsys.readouterr().out
    # WHEN the file is edited by hand, --check reports it and writes nothing
    out.write_text(out.read_text().replace("createItem", "makeItem"))
    drift = do_openapi(out, check=True, template=synthesized.template)
    assert (drift.changed, drift.written) == (True, False)
    assert "makeItem" in out.read_text()
    assert print_openapi_result(drift, check=True, as_json=True) == 1
    assert json.loads(capsys.readouterr().out) == {
        "path": str(out), "changed": True, "written": False, "operations": 6}


def test_command_prints_the_document_to_stdout(
        synthesized: SynthResult, capsys: pytest.CaptureFixture[str]) -> None:
    result = do_openapi(STDOUT, template=synthesized.template)
    assert print_openapi_result(result, check=False, as_json=False) == 0
    assert capsys.readouterr().out == OPENAPI_DOCUMENT.read_text()


@pytest.mark.parametrize("content", ["not json", "[]", '{"Resources": {}}'])
def test_command_refuses_a_file_that_is_not_a_crudops_template(
        tmp_path: Path, content: str) -> None:
    source = tmp_path / "template.json"
    source.write_text(content)
    with pytest.raises(UserError):
        do_openapi(tmp_path / "openapi.json", template=source)


def test_every_refusal_is_documented_with_the_json_error_body(document: dict[str, Any]) -> None:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            refusals = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
            assert {"401", "413", "429"} <= set(refusals), (method, path)
            for status, response in refusals.items():
                assert response["content"] == {JSON: {"schema": {
                    "$ref": "#/components/schemas/Error"}}}, (method, path, status)
