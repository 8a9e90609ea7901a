"""Mapping templates render as API Gateway renders them.

Each case names its source: an example of the API Gateway developer guide (page given
by its address under https://docs.aws.amazon.com/apigateway/latest/developerguide/),
or behaviour recorded on real API Gateway (issue 16, /work/shared/EMULATOR-FACTS.md
"airspeed against behaviour recorded on real API Gateway"). Expected outputs are
API Gateway's; where the guide shows pretty-printed JSON, the case compares parsed
JSON rather than whitespace.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from crudops_local.apigateway.rest import vtl
from crudops_local.apigateway.rest.context import RequestFacts, new_context


def _context() -> vtl.JavaMap:
    return new_context(RequestFacts(
        api_id="abcd1234", account_id="111122223333", stage="prod", domain_name="localhost",
        http_method="GET", path="/prod/pets/1", resource_path="/pets/{petId}",
        resource_id="efg567", source_ip="192.0.2.1", user_agent="curl/7.84.0",
    ))


def _render(template: str, body: str = "", *, path: dict[str, str] | None = None,
            query: dict[str, str] | None = None, header: dict[str, str] | None = None,
            context: vtl.JavaMap | None = None) -> str:
    params = {"path": path or {}, "querystring": query or {}, "header": header or {}}
    return vtl.render(template, input_=vtl.Input(body, params), context=context or _context())


PETS = json.dumps([
    {"id": 1, "type": "dog", "price": 249.99},
    {"id": 2, "type": "cat", "price": 124.99},
    {"id": 3, "type": "fish", "price": 0.99},
])


def test_the_guides_mapping_template_example_transforms_the_pets() -> None:
    # models-mappings.html, "Mapping template example": a #foreach over $input.path('$')
    # with $foreach.hasNext separators turns the pets into descriptions.
    template = (
        "#set($inputRoot = $input.path('$'))\n"
        "[\n"
        "#foreach($elem in $inputRoot)\n"
        "  {\n"
        '    "description" : "Item $elem.id is a $elem.type.",\n'
        '    "askingPrice" : $elem.price\n'
        "  }#if($foreach.hasNext),#end\n"
        "\n"
        "#end\n"
        "]\n"
    )
    assert json.loads(_render(template, PETS)) == [
        {"description": "Item 1 is a dog.", "askingPrice": 249.99},
        {"description": "Item 2 is a cat.", "askingPrice": 124.99},
        {"description": "Item 3 is a fish.", "askingPrice": 0.99},
    ]


def test_input_path_size_counts_the_array() -> None:
    # api-gateway-mapping-template-reference.html, $input.path(x): "$input.path('$.pets').size()"
    # returns 3 for a pets array of three.
    body = json.dumps({"pets": json.loads(PETS)})
    assert _render("$input.path('$.pets').size()", body) == "3"


def test_input_json_is_the_json_text_of_the_path() -> None:
    # api-gateway-mapping-template-reference.html, $input.json(x): a JSON string of the
    # structure at the path.
    body = json.dumps({"pets": json.loads(PETS)})
    assert json.loads(_render("$input.json('$.pets')", body)) == json.loads(PETS)
    assert _render("$input.json('$.pets[0].type')", body) == '"dog"'


def test_input_body_is_the_raw_payload() -> None:
    # api-gateway-mapping-template-reference.html, $input.body: the raw payload as a
    # string, which keeps a number such as 10.00 as written.
    assert _render("$input.body", '{"price": 10.00}') == '{"price": 10.00}'


def test_input_body_of_an_empty_payload_is_an_empty_object() -> None:
    # Recorded on API Gateway (issue 16): $input.body of an empty body is {}.
    assert _render("$input.body", "") == "{}"


def test_input_params_searches_path_then_query_then_header() -> None:
    # api-gateway-mapping-template-reference.html, $input.params(x): path, query string
    # or header value, searched in that order.
    rendered = _render("$input.params('petId') $input.params('q') $input.params('h')",
                       path={"petId": "1"}, query={"petId": "2", "q": "query"},
                       header={"petId": "3", "h": "header"})
    assert rendered == "1 query header"


def test_all_params_pass_through_as_json() -> None:
    # api-gateway-mapping-variable-examples.html, Example 2: every parameter type and
    # name from $input.params() into a JSON payload, values escaped for JavaScript.
    template = (
        "#set($allParams = $input.params())\n"
        "{\n"
        '  "params" : {\n'
        "    #foreach($type in $allParams.keySet())\n"
        "    #set($params = $allParams.get($type))\n"
        '    "$type" : {\n'
        "      #foreach($paramName in $params.keySet())\n"
        '      "$paramName" : "$util.escapeJavaScript($params.get($paramName))"\n'
        "      #if($foreach.hasNext),#end\n"
        "      #end\n"
        "    }\n"
        "    #if($foreach.hasNext),#end\n"
        "    #end\n"
        "  }\n"
        "}\n"
    )
    rendered = _render(template, path={"petId": "1"}, query={"sort": "a b"},
                       header={"X-Trace": 'say "hi"'})
    assert json.loads(rendered) == {"params": {
        "path": {"petId": "1"}, "querystring": {"sort": "a b"},
        "header": {"X-Trace": 'say "hi"'},
    }}


def test_context_variables_and_missing_ones_print_nothing() -> None:
    # api-gateway-mapping-variable-examples.html, Example 1: $context variables into a
    # payload. Without an API key or IAM caller those variables are null, and API
    # Gateway prints a null reference as nothing (recorded, issue 16).
    template = (
        '{"stage" : "$context.stage", "api_id" : "$context.apiId",'
        ' "resource_path" : "$context.resourcePath", "http_method" : "$context.httpMethod",'
        ' "source_ip" : "$context.identity.sourceIp",'
        ' "user-agent" : "$context.identity.userAgent",'
        ' "api_key" : "$context.identity.apiKey", "caller" : "$context.identity.caller"}'
    )
    assert json.loads(_render(template)) == {
        "stage": "prod", "api_id": "abcd1234", "resource_path": "/pets/{petId}",
        "http_method": "GET", "source_ip": "192.0.2.1", "user-agent": "curl/7.84.0",
        "api_key": "", "caller": "",
    }


def test_escape_javascript_then_replace_all_undoes_escaped_single_quotes() -> None:
    # api-gateway-mapping-template-reference.html, $util.escapeJavaScript: the escaped
    # single quote is not valid JSON, so the guide turns it back with
    # .replaceAll("\\'","'") (a Java regex; Velocity keeps the backslashes as written).
    template = ('{"input" : "$util.escapeJavaScript($input.path(\'$.data\'))'
                '.replaceAll("\\\\\'","\'")"}')
    rendered = _render(template, json.dumps({"data": "it's \"quoted\"\n"}))
    assert json.loads(rendered) == {"input": "it's \"quoted\"\n"}


def test_parse_json_gives_an_object_to_navigate() -> None:
    # api-gateway-mapping-template-reference.html, $util.parseJson: the errorMessage
    # example, key2.arr[0] of the parsed string is 1.
    body = json.dumps({"errorMessage": json.dumps({"key1": "var1", "key2": {"arr": [1, 2, 3]}})})
    template = (
        "#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))\n"
        '{"errorMessageObjKey2ArrVal" : $errorMessageObj.key2.arr[0]}'
    )
    assert json.loads(_render(template, body)) == {"errorMessageObjKey2ArrVal": 1}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # api-gateway-mapping-template-reference.html, $util functions.
        ("$util.urlEncode('a b&c=d')", "a+b%26c%3Dd"),
        ("$util.urlDecode('a+b%26c%3Dd')", "a b&c=d"),
        ("$util.base64Encode('pets')", "cGV0cw=="),
        ("$util.base64Decode('cGV0cw==')", "pets"),
        # Recorded on API Gateway (issue 16): urlEncode of a null is "".
        ("[$util.urlEncode($input.path('$.missing'))]", "[]"),
    ],
)
def test_util_functions(template: str, expected: str) -> None:
    assert _render(template, "{}") == expected


def test_status_override_from_the_body_with_map_to_string() -> None:
    # apigateway-override-request-response-parameters.html, Example 1: the response
    # template sets the status to 400 when $inputRoot.toString() contains "error".
    template = (
        "#set($inputRoot = $input.path('$'))\n"
        '$input.json("$")\n'
        '#if($inputRoot.toString().contains("error"))\n'
        "#set($context.responseOverride.status = 400)\n"
        "#end\n"
    )
    body = json.dumps({"errors": [{"key": "GetPetRequest.petId",
                                   "message": "The value is out of range."}]})
    context = _context()
    assert json.loads(_render(template, body, context=context)) == json.loads(body)
    assert context["responseOverride"]["status"] == 400

    fine = _context()
    _render(template, json.dumps({"id": 1}), context=fine)
    assert fine["responseOverride"]["status"] is None


def test_request_override_headers_built_from_parameters() -> None:
    # apigateway-override-request-response-parameters.html, Example 2: new headers from
    # the values of others, one of them multi-valued.
    template = (
        '#set($header1Override = "pets")\n'
        "#set($header3Value = \"$input.params('header1')$input.params('header2')\")\n"
        '$input.json("$")\n'
        "#set($context.requestOverride.header.header3 = $header3Value)\n"
        "#set($context.requestOverride.header.header1 = $header1Override)\n"
        "#set($context.requestOverride.header.multivalueheader=[$header1Override, $header3Value])\n"
    )
    context = _context()
    _render(template, "{}", header={"header1": "dog", "header2": "cat"}, context=context)
    headers = context["requestOverride"]["header"]
    assert headers["header3"] == "dogcat"
    assert headers["header1"] == "pets"
    assert headers["multivalueheader"] == ["pets", "dogcat"]


def test_hyphenated_names_in_a_set_path() -> None:
    # Recorded on API Gateway (issue 16): #set($context.requestOverride.header.X-Amz-Target
    # = ...) sets that header (Velocity 1.7 names may hold '-'), and reading it back
    # with the same name gives the value.
    context = _context()
    rendered = _render(
        "#set($context.requestOverride.header.X-Amz-Target = 'DynamoDB_20120810.GetItem')"
        "$context.requestOverride.header.X-Amz-Target", context=context)
    assert context["requestOverride"]["header"]["X-Amz-Target"] == "DynamoDB_20120810.GetItem"
    assert rendered == "DynamoDB_20120810.GetItem"


def test_break_leaves_the_innermost_foreach() -> None:
    # Velocity 1.7 user guide, "#break": stops the current loop; the outer one goes on.
    template = ("#foreach($row in [1, 2])#foreach($i in [1, 2, 3])$row$i "
                "#if($i == 2)#break#end#end|#end")
    assert _render(template) == "11 12 |21 22 |"


@pytest.mark.parametrize(
    ("template", "body", "expected"),
    [
        # Recorded on API Gateway (issue 16): a JSON array prints as JSON, also inside a
        # map; a JSON object prints as a Java map.
        ("$input.path('$.l')", {"l": [{"foo": "bar"}]}, '[{"foo":"bar"}]'),
        ("$input.path('$')", {"a": 1, "b": [{"c": 5}]}, '{a=1, b=[{"c":5}]}'),
        ("$input.path('$.m')", {"m": {"a": True, "n": None}}, "{a=true, n=null}"),
        # Recorded (issue 16): a null or missing reference prints nothing.
        ("[$input.path('$.missing')][$nothing][${nothing}][$nothing.deeper]", {}, "[][][][]"),
        ("#set($x = $input.path('$.missing'))[$x]", {}, "[]"),
        # Recorded (issue 16): $null == "" holds (and so does its converse).
        ('#if($null == "")yes#{else}no#end #if("" != $null)no#{else}yes#end', {}, "yes yes"),
        ("#if($input.path('$.missing') == \"\")empty#end", {}, "empty"),
        # Recorded (issue 16): map assignment by key and put.
        ("#set($m = {})#set($k = 'a')#set($m[$k] = 1)#set($m['b'] = 2)$m", {}, "{a=1, b=2}"),
        ("#set($m = {})$m.put('a', 1)|$m.put('a', 2)|$m", {}, "|1|{a=2}"),
        # Recorded (issue 16): .replaceAll is Java's (a regex; $1 a group).
        ("$input.path('$.s').replaceAll('([a-z]+)-(\\d+)', '$2:$1')", {"s": "pet-42"}, "42:pet"),
        # Recorded (issue 16): $map.toString() renders the map.
        ("$input.path('$.m').toString()", {"m": {"a": 1}}, "{a=1}"),
        # Velocity 1.7 booleans and lists made in a template print as Java's.
        ("#set($b = true)$b #set($l = [1, 'a', false])$l", {}, "true [1, a, false]"),
    ],
)
def test_recorded_api_gateway_behaviour(template: str, body: Any, expected: str) -> None:
    assert _render(template, json.dumps(body)) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Java String methods templates call (java.lang.String, as Velocity calls them).
        ("$s.length() $s.isEmpty() $s.substring(0, 3) $s.indexOf('-') $s.toUpperCase()",
         "6 false pet 3 PET-42"),
        ("$s.contains('t-') $s.startsWith('pe') $s.endsWith('42') $s.equals('pet-42')",
         "true true true true"),
        ("#foreach($p in $s.split('-'))[$p]#end $s.matches('[a-z]+-\\d+')", "[pet][42] true"),
        # java.util.Map / List methods.
        ("$m.containsKey('a') $m.isEmpty() $m.size() $m.get('a') $m.keySet()",
         "true false 1 1 [a]"),
        ("#set($l = [])$l.add('x') $l.size() $l.get(0) $l.isEmpty()", "true 1 x false"),
    ],
)
def test_java_methods(template: str, expected: str) -> None:
    body = json.dumps({"s": "pet-42", "m": {"a": 1}})
    namespace_template = "#set($s = $input.path('$.s'))#set($m = $input.path('$.m'))" + template
    assert _render(namespace_template, body) == expected
