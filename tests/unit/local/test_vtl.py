"""Rendering the real mapping templates (infra/mapping_templates.py) with the local engine.

The templates are built by the same functions the CDK app uses, so a change to them
is tested here without synthesizing.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from crudops_local.apigateway.rest import jsonpath, vtl
from crudops_local.apigateway.rest.context import RequestFacts, new_context
from infra.mapping_templates import (
    Operation,
    outcome_lookup_request_template,
    outcome_lookup_response_template,
    sns_publish_template,
)

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:commands"
HOSTILE = 'a "quoted" \'single\'\nnew line\ttab \\ back / slash é 漢字 🎉 + plus %25 & amp = eq'


def _context() -> vtl.JavaMap:
    return new_context(RequestFacts(
        api_id="api", account_id="123456789012", stage="v1", domain_name="localhost",
        http_method="PUT", path="/v1/items/x", resource_path="/items/{id}", resource_id="r",
        source_ip="127.0.0.1", user_agent="test",
    ))


def _render(template: str, body: str = "", *, path: dict[str, str] | None = None,
            query: dict[str, str] | None = None, header: dict[str, str] | None = None,
            context: vtl.JavaMap | None = None) -> str:
    params = {"path": path or {}, "querystring": query or {}, "header": header or {}}
    return vtl.render(template, input_=vtl.Input(body, params), context=context or _context())


def _published(form_body: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The Command JSON and the form fields of an SNS Publish body."""
    fields = dict(urllib.parse.parse_qsl(form_body, keep_blank_values=True, strict_parsing=True))
    return json.loads(fields["Message"]), fields


@pytest.mark.parametrize("operation", list(Operation))
def test_command_template_turns_hostile_input_into_a_valid_command(operation: Operation) -> None:
    # GIVEN an id, headers, query and body full of quotes, newlines, unicode, + and %
    body = json.dumps({"name": HOSTILE, "attributes": {"flag": True, "n": 1.5}})
    context = _context()

    # WHEN the operation's request template renders
    rendered = _render(
        sns_publish_template(operation, TOPIC_ARN), body,
        path={"id": HOSTILE}, query={"limit": "10", "cursor": HOSTILE},
        header={"Idempotency-Key": HOSTILE, "If-Match": '"3"'}, context=context,
    )

    # THEN it is one form body whose Message is the Command JSON, every string intact
    command, fields = _published(rendered)
    assert fields["Action"] == "Publish"
    assert fields["TopicArn"] == TOPIC_ARN
    assert fields["MessageAttributes.entry.1.Value.StringValue"] == operation.value
    assert command["operation"] == operation.value
    assert urllib.parse.unquote_plus(command["requestId"]) == context["requestId"]
    assert command["submittedAt"] == context["requestTimeEpoch"]
    assert urllib.parse.unquote_plus(command["idempotencyKey"]) == HOSTILE
    shape_has_id = operation in (Operation.GET, Operation.UPDATE, Operation.DELETE)
    assert urllib.parse.unquote_plus(command["itemId"]) == (HOSTILE if shape_has_id else "")
    if operation in (Operation.CREATE, Operation.UPDATE):
        assert command["payload"] == json.loads(body)
    else:
        assert command["payload"] is None
    if operation is Operation.LIST:
        assert urllib.parse.unquote_plus(command["query"]["cursor"]) == HOSTILE
    if operation in (Operation.UPDATE, Operation.DELETE):
        assert urllib.parse.unquote_plus(command["ifMatch"]) == '"3"'


def test_absent_parameters_render_empty_not_the_reference_text() -> None:
    command, _ = _published(_render(sns_publish_template(Operation.DELETE, TOPIC_ARN)))
    assert command["idempotencyKey"] == ""
    assert command["ifMatch"] == ""
    assert "$input" not in json.dumps(command)


def test_an_empty_body_is_an_empty_object_for_input_json() -> None:
    command, _ = _published(_render(sns_publish_template(Operation.CREATE, TOPIC_ARN), ""))
    assert command["payload"] == {}


def test_outcome_lookup_request_is_valid_json_for_any_request_id() -> None:
    rendered = _render(outcome_lookup_request_template("outcomes"), path={"requestId": HOSTILE})
    request = json.loads(rendered)
    assert request["TableName"] == "outcomes"
    assert urllib.parse.unquote_plus(request["Key"]["requestId"]["S"]) == HOSTILE
    assert request["ConsistentRead"] is True


def test_outcome_response_is_the_stored_document() -> None:
    document = json.dumps({"requestId": "r1", "status": "SUCCEEDED", "note": HOSTILE})
    answer = json.dumps({"Item": {"requestId": {"S": "r1"}, "document": {"S": document}}})
    context = _context()
    rendered = _render(outcome_lookup_response_template(), answer, context=context)
    assert json.loads(rendered) == json.loads(document)
    assert context["responseOverride"]["status"] is None


def test_a_missing_outcome_sets_the_status_override_to_404() -> None:
    context = _context()
    rendered = _render(outcome_lookup_response_template(), "{}", context=context)
    assert context["responseOverride"]["status"] == 404
    assert json.loads(rendered)["error"]["code"] == "NotFound"
    assert json.loads(rendered)["requestId"] == context["requestId"]


def test_booleans_and_maps_print_like_java_and_arrays_as_json() -> None:
    body = json.dumps({"on": True, "off": False, "m": {"a": 1, "b": None}, "l": [True, "x"]})
    rendered = _render("$input.path('$.on') $input.path('$.off') $input.path('$.m') "
                       "$input.path('$.l') #if($input.path('$.off'))yes#{else}no#end "
                       "$input.json('$.m')", body)
    assert rendered == 'true false {a=1, b=null} [true,"x"] no {"a":1,"b":null}'


def test_params_lookup_order_and_case_insensitive_headers() -> None:
    rendered = _render("$input.params('x')|$input.params('q')|$input.params('x-h')|"
                       "$input.params('nope')|$input.params().path.x",
                       path={"x": "from-path"}, query={"x": "from-query", "q": "query"},
                       header={"X-H": "header"})
    assert rendered == "from-path|query|header||from-path"


def test_response_override_header_is_settable() -> None:
    context = _context()
    _render("#set($context.responseOverride.header.Location = '/x')", context=context)
    assert context["responseOverride"]["header"]["Location"] == "/x"


@pytest.mark.parametrize(
    ("text", "encoded"),
    [("a b", "a+b"), ("*-._~", "*-._%7E"), ("é", "%C3%A9"), ("a+b%c", "a%2Bb%25c"),
     ("\"'\n", "%22%27%0A")],
)
def test_url_encode_follows_java_url_encoder(text: str, encoded: str) -> None:
    assert vtl.Util.urlEncode(text) == encoded
    assert vtl.Util.urlDecode(encoded) == text


def test_escape_javascript_follows_commons_lang() -> None:
    assert vtl.Util.escapeJavaScript("a'b\"c\\d/e\nf é") == "a\\'b\\\"c\\\\d\\/e\\nf \\u00E9"


def test_base64_and_parse_json() -> None:
    assert _render("$util.base64Encode('héllo')") == "aMOpbGxv"
    assert _render("$util.base64Decode('aMOpbGxv')") == "héllo"
    assert _render("#set($o = $util.parseJson('{\"a\":[1,true]}'))$o.a[1] $o.a.size()") == "true 2"


def test_a_broken_template_is_a_mapping_template_error() -> None:
    with pytest.raises(vtl.MappingTemplateError):
        _render("#set($x = ", "")
    with pytest.raises(vtl.MappingTemplateError):
        _render("$input.json('$')", "{not json")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [("$", {"a": {"b": [10, {"c": "x"}]}}), ("$.a.b[0]", 10), ("$.a.b[1].c", "x"),
     ("$['a']['b'][-1]", {"c": "x"}), ("$.a.missing", None), ("$.a.b[5]", None),
     ("$.a.b.c", None)],
)
def test_jsonpath_subset(expression: str, expected: Any) -> None:
    assert jsonpath.find({"a": {"b": [10, {"c": "x"}]}}, expression) == expected


@pytest.mark.parametrize("expression", ["a.b", "$..a", "$.a[*]", "$.a[?(@.b)]"])
def test_jsonpath_outside_the_subset_fails_loudly(expression: str) -> None:
    with pytest.raises(jsonpath.JsonPathError):
        jsonpath.find({}, expression)
