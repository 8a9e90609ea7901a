"""The REST API's rules as the gateway reads them from the synthesized template."""

from __future__ import annotations

import json

import pytest

from crudops_local.apigateway.exceptions import GATEWAY_ERRORS
from crudops_local.apigateway.rest import gateway_responses, validation
from crudops_local.apigateway.rest.context import RequestFacts, new_context
from crudops_local.apigateway.rest.mapping import select_response
from crudops_local.apigateway.rest.routes import Method, RestApi, rest_apis
from crudops_local.apigateway.rest.waf import WebAcl, web_acl_for_stage
from crudops_local.cloudformation.template import PhysicalResource, Pseudo, Resolver, Template


@pytest.fixture(scope="module")
def api(crudops_template: Template) -> RestApi:
    physical = {
        r.logical_id: PhysicalResource(r.logical_id, {"Arn": f"arn:local:{r.logical_id}"})
        for r in crudops_template.resources.values()
    }
    (found,) = rest_apis(crudops_template, Resolver(crudops_template, Pseudo(), physical))
    return found


@pytest.fixture(scope="module")
def web_acl(crudops_template: Template, api: RestApi) -> WebAcl:
    (stage_logical_id, _), = api.stages.values()
    acl = web_acl_for_stage(crudops_template, stage_logical_id)
    assert acl is not None, "the stage has no associated web ACL"
    return acl


def _method(api: RestApi, http_method: str, path: str) -> Method:
    match = api.match(http_method, path)
    assert match.method is not None, f"{http_method} {path} has no method"
    return match.method


@pytest.mark.parametrize(
    ("http_method", "path", "resource_path", "parameters"),
    [
        ("POST", "/items", "/items", {}),
        ("GET", "/items", "/items", {}),
        ("GET", "/items/a%2Bb%25c%2Fd", "/items/{id}", {"id": "a+b%c/d"}),
        ("PUT", "/items/x/", "/items/{id}", {"id": "x"}),
        ("DELETE", "/items/x", "/items/{id}", {"id": "x"}),
        ("GET", "/requests/r-1", "/requests/{requestId}", {"requestId": "r-1"}),
    ],
)
def test_routes_match_resource_paths(api: RestApi, http_method: str, path: str,
                                     resource_path: str, parameters: dict[str, str]) -> None:
    match = api.match(http_method, path)
    assert match.method is not None
    assert match.method.resource_path == resource_path
    assert match.path_parameters == parameters


@pytest.mark.parametrize(("http_method", "path", "resource_found"), [
    ("GET", "/nothing", False), ("GET", "/items/x/y", False), ("PATCH", "/items", True),
    ("POST", "/requests/r-1", True), ("GET", "/", True),
])
def test_unknown_routes_have_no_method(api: RestApi, http_method: str, path: str,
                                       resource_found: bool) -> None:
    match = api.match(http_method, path)
    assert match.method is None
    assert match.resource_found is resource_found


def test_stage_comes_from_the_template(api: RestApi) -> None:
    assert list(api.stages) == ["v1"]


@pytest.mark.parametrize(
    ("body", "expected_detail"),
    [
        (b"{}", 'object has missing required properties (["name"])'),
        (b'{"name": "x", "colour": 1}',
         'object instance has properties which are not allowed by the schema: ["colour"]'),
        (b'{"name": 5}', 'instance type (integer) does not match any allowed primitive type '
                         '(allowed: ["string"]) at /name'),
        (b'{"name": ""}', 'string "" is too short (length: 0, required minimum: 1) at /name'),
        (b'{"name": "x", "attributes": {"k": [1]}}',
         "instance failed to match at least one required schema among 3 at /attributes/k"),
        (b"[1", "Invalid JSON"),
        (b'{"name": "x", "attributes": {"k": NaN}}', "NaN is not a JSON number"),
        (b'{"name": "x", "attributes": {"k": -Infinity}}', "-Infinity is not a JSON number"),
        (b'{"name": "x", "attributes": {"k": 1e300}}',
         "instance failed to match at least one required schema among 3 at /attributes/k"),
        (b"", 'object has missing required properties (["name"])'),
    ],
)
def test_create_body_validation_messages(api: RestApi, body: bytes,
                                         expected_detail: str) -> None:
    method = _method(api, "POST", "/items")
    assert method.validator.body
    failure = validation.invalid_body(method.request_models["application/json"], body)
    assert failure is not None
    assert failure.response_type == "BAD_REQUEST_BODY"
    assert failure.message == "Invalid request body"
    assert expected_detail in failure.validation_error


def test_a_valid_body_passes(api: RestApi) -> None:
    method = _method(api, "PUT", "/items/x")
    body = json.dumps({"name": "n", "attributes": {"a": True, "b": 1, "c": "s"},
                       "expectedVersion": 2}).encode()
    assert validation.invalid_body(method.request_models["application/json"], body) is None


def _facts() -> RequestFacts:
    return RequestFacts("api", "123456789012", "v1", "localhost", "POST", "/v1/items",
                        "/items", "r", "127.0.0.1", "")


def test_bad_request_body_renders_json_safe_details(api: RestApi) -> None:
    # GIVEN a validation error whose text contains quotes, backslashes and a newline
    method = _method(api, "POST", "/items")
    failure = validation.invalid_body(method.request_models["application/json"],
                                      b'{"name": "x", "a\\"b\\\\c\\n": 1}')
    assert failure is not None
    context = new_context(_facts())

    # WHEN the template's BAD_REQUEST_BODY gateway response renders
    answer = gateway_responses.render(failure, api.gateway_responses, context)

    # THEN it is the template's status and valid JSON carrying the details
    assert answer.status == 400
    document = json.loads(answer.body)
    assert document["error"]["code"] == "BadRequestBody"
    assert document["error"]["message"] == "Invalid request body"
    assert document["error"]["details"] == failure.validation_error
    assert document["requestId"] == context["requestId"]


@pytest.mark.parametrize(("response_type", "status", "code"), [
    ("MISSING_AUTHENTICATION_TOKEN", 403, "MISSING_AUTHENTICATION_TOKEN"),
    ("REQUEST_TOO_LARGE", 413, "RequestTooLarge"),
    ("UNSUPPORTED_MEDIA_TYPE", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("INTEGRATION_TIMEOUT", 504, "INTEGRATION_TIMEOUT"),
])
def test_gateway_responses_use_the_template(api: RestApi, response_type: str, status: int,
                                            code: str) -> None:
    answer = gateway_responses.render(GATEWAY_ERRORS[response_type]("some message"),
                                      api.gateway_responses, new_context(_facts()))
    assert answer.status == status
    assert json.loads(answer.body)["error"] == {"code": code, "message": "some message"}


def test_required_parameters_are_validated() -> None:
    required = {"method.request.path.id": True, "method.request.header.If-Match": True,
                "method.request.querystring.limit": False}
    failure = validation.missing_parameters(
        required, {"path": {"id": ""}, "querystring": {}, "header": {"if-match": "1"}})
    assert failure is not None
    assert failure.response_type == "BAD_REQUEST_PARAMETERS"
    assert failure.message == "Missing required request parameters: [id]"
    assert validation.missing_parameters(
        required, {"path": {"id": "x"}, "header": {"if-match": "1"}}) is None


@pytest.mark.parametrize(("service_status", "method_status"), [
    (200, "202"), (204, "202"), (500, "502"), (503, "502"), (400, "500"), (403, "500"),
])
def test_integration_response_selection(api: RestApi, service_status: int,
                                        method_status: str) -> None:
    method = _method(api, "POST", "/items")
    selected = select_response(method.integration.responses, service_status)
    assert selected is not None
    assert selected.status_code == method_status


def test_selection_patterns_match_the_whole_status(api: RestApi) -> None:
    method = _method(api, "GET", "/requests/x")
    selected = select_response(method.integration.responses, 2000)
    assert selected is not None and selected.selection_pattern is None


@pytest.mark.parametrize(("length", "blocked"), [
    (0, False), (65536, False), (65537, True), (11 * 1024 * 1024, True),
])
def test_waf_body_size_rule(web_acl: WebAcl, length: int, blocked: bool) -> None:
    result = web_acl.evaluate(length)
    assert (result is not None) is blocked
    if result is not None:
        assert result.status == 413
        assert result.content_type == "application/json"
        assert json.loads(result.body)["error"]["code"] == "RequestTooLarge"


def test_waf_rules_not_emulated_are_listed(web_acl: WebAcl) -> None:
    assert web_acl.skipped_rules == ("RateLimitPerIp", "AWSManagedRulesCommonRuleSet")


def test_every_gateway_response_the_template_configures_has_its_class(
        crudops_template: Template) -> None:
    # GIVEN the response types the template customizes (AWS::ApiGateway::GatewayResponse)
    configured = {str(r.properties["ResponseType"])
                  for r in crudops_template.of_type("AWS::ApiGateway::GatewayResponse")}
    assert configured, "the template configures no gateway response"
    # THEN each is raised and rendered through a class of its own, which knows its type
    missing = sorted(configured - set(GATEWAY_ERRORS))
    assert missing == [], f"no exception class for {missing}"
    for response_type in configured:
        error = GATEWAY_ERRORS[response_type]()
        assert error.response_type == response_type
        assert error.message and 400 <= error.status < 600


@pytest.mark.parametrize(("response_type", "status", "error_type"), [
    ("BAD_REQUEST_BODY", 400, "BadRequestException"),
    ("MISSING_AUTHENTICATION_TOKEN", 403, "MissingAuthenticationTokenException"),
    ("REQUEST_TOO_LARGE", 413, "RequestTooLargeException"),
    ("UNSUPPORTED_MEDIA_TYPE", 415, "UnsupportedMediaTypeException"),
    ("INTEGRATION_TIMEOUT", 504, "InternalServerErrorException"),
    ("API_CONFIGURATION_ERROR", 500, "InternalServerErrorException"),
])
def test_without_a_configured_response_the_class_gives_status_and_error_type(
        response_type: str, status: int, error_type: str) -> None:
    # GIVEN an API that customizes no gateway response: API Gateway's built-in answer
    answer = gateway_responses.render(GATEWAY_ERRORS[response_type](), {},
                                      new_context(_facts()))
    assert (answer.status, answer.headers["x-amzn-ErrorType"]) == (status, error_type)
    assert json.loads(answer.body) == {"message": GATEWAY_ERRORS[response_type].default_message}
