"""The REST API's OpenAPI 3.0 description, read from the synthesized template.

API Gateway itself can export a deployed API as OpenAPI 3.0.1 (`get-export
--export-type oas30`); this builds the same kind of document from the template
before anything is deployed, so the description cannot say something the stack does
not do:

- paths and methods from `AWS::ApiGateway::Resource` / `Method`; each method's
  integration is recognised by rendering its request template and comparing it with
  the template functions in infra/mapping_templates.py (a route the description does
  not know is an error, not a silent gap);
- parameters from `RequestParameters`, request bodies from `RequestModels` (the
  API Gateway models, JSON Schema draft 4 as API Gateway exports them, hence
  `patternProperties`);
- the Cognito authorizer as an `apiKey` scheme with API Gateway's extensions, as
  the export spells it;
- answers: the method responses, plus the refusals this method can meet, each read
  from the template: the gateway responses (with their status and headers), the
  stage's web ACL's block actions (403, 413, 429); bodies from tools/openapi_schemas.py.

Tokens (the topic's ARN, the pool's ARN, the stack name) become placeholders such as
`${AWS::StackName}`, as in the rendered dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Final

from crudops_local.apigateway import exceptions as gateway
from functions.contracts.command import Operation
from infra import mapping_templates as templates
from tools import openapi_schemas as schemas
from tools.dashboard_render import placeholder
from tools.options import DEFAULT_GATEWAY_PORT

OPENAPI_VERSION: Final = "3.0.1"
JSON: Final = "application/json"
OUTCOME_LOOKUP: Final = "outcome"
COGNITO: Final = "COGNITO_USER_POOLS"
_PARAMETER_PREFIX: Final = "method.request."
_PARAMETER_LOCATIONS: Final = {"path": "path", "querystring": "query", "header": "header"}


@dataclass(frozen=True)
class OperationText:
    operation_id: str
    summary: str


# What each route does, in words; everything else about it is read from the template.
OPERATIONS: Final[Mapping[str, OperationText]] = {
    Operation.CREATE: OperationText("createItem", "Create an item"),
    Operation.LIST: OperationText("listItems", "List the caller's items, one page"),
    Operation.GET: OperationText("getItem", "Read one item"),
    Operation.UPDATE: OperationText("updateItem", "Change some fields of an item"),
    Operation.DELETE: OperationText("deleteItem", "Delete an item"),
    OUTCOME_LOOKUP: OperationText("getOutcome", "The stored outcome of a request"),
}

PARAMETER_DESCRIPTIONS: Final[Mapping[str, str]] = {
    "Idempotency-Key": "Carried in the command; retry a 5xx with the same value.",
    "If-Match": "Precondition: the item's current version (`3`, `\"3\"` or `W/\"3\"`); a "
                "mismatch is a `conflict` outcome.",
    "limit": "Page size (a number, default 25, at most the stack's list_max_limit); "
             "anything else is a `validation_error` outcome.",
    "cursor": "`nextCursor` of the previous page.",
    "id": "The item's id.",
    "requestId": "The `requestId` a 202 answered.",
}

# Each refusal API Gateway can answer a method with before or around its integration,
# and when it applies (the gateway response type's default status is its class's).
_AUTHORIZER_REFUSALS: Final = (gateway.UnauthorizedError,)
_ALWAYS: Final = (gateway.RequestTooLargeError, gateway.ThrottledError)


def rendered(value: Any) -> str:
    """A template string with each token as a placeholder (`${Logical.Attr}`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return str(separator).join(rendered(part) for part in parts)
    return placeholder(value)


def _target(value: Any) -> str | None:
    """The logical id a `Ref` / `Fn::GetAtt` names."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" and isinstance(argument, str):
            return argument
        if key == "Fn::GetAtt" and isinstance(argument, list):
            return str(argument[0])
    return None


class ApiTemplate:
    """The resources of the template's one REST API, by type."""

    def __init__(self, template: Mapping[str, Any]) -> None:
        resources: Mapping[str, Any] = template.get("Resources", {})
        apis = [lid for lid, r in resources.items() if r.get("Type") == "AWS::ApiGateway::RestApi"]
        if len(apis) != 1:
            raise ValueError(f"expected one AWS::ApiGateway::RestApi, found {len(apis)}")
        self.api_id = apis[0]
        self.api = resources[self.api_id]["Properties"]
        self.all = resources
        self.own = {
            lid: r for lid, r in resources.items()
            if _target(r.get("Properties", {}).get("RestApiId")) == self.api_id
        }

    def of_type(self, kind: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for logical_id, resource in self.own.items():
            if resource["Type"] == f"AWS::ApiGateway::{kind}":
                yield logical_id, resource["Properties"]

    def path_of(self, resource_id: str | None) -> str:
        if resource_id is None or resource_id == self.api_id:
            return "/"
        properties = self.own[resource_id]["Properties"]
        parent = self.path_of(_target(properties["ParentId"]))
        return parent.rstrip("/") + "/" + str(properties["PathPart"])

    def gateway_responses(self) -> dict[str, Mapping[str, Any]]:
        return {str(p["ResponseType"]): p for _, p in self.of_type("GatewayResponse")}

    def stage_ids(self) -> set[str]:
        return {lid for lid, _ in self.of_type("Stage")}

    def web_acl_blocks(self) -> list[tuple[int, str, dict[str, Any]]]:
        """(status, rule, body) of every block action with a custom response in the web
        ACLs associated with this API's stages."""
        stages = self.stage_ids()
        blocks: list[tuple[int, str, dict[str, Any]]] = []
        for resource in self.all.values():
            if resource.get("Type") != "AWS::WAFv2::WebACLAssociation":
                continue
            properties = resource["Properties"]
            arn = properties["ResourceArn"]
            parts = arn.get("Fn::Join", ["", []])[1] if isinstance(arn, Mapping) else []
            if not any(_target(part) in stages for part in parts):
                continue
            acl = self.all[str(_target(properties["WebACLArn"]))]["Properties"]
            bodies = acl.get("CustomResponseBodies", {})
            for rule in acl.get("Rules", []):
                actions = [(rule["Name"], rule.get("Action", {}))]
                group = rule.get("Statement", {}).get("ManagedRuleGroupStatement", {})
                # A managed group's rules answer under the group's name.
                actions += [(rule["Name"], o["ActionToUse"])
                            for o in group.get("RuleActionOverrides", [])]
                for name, action in actions:
                    custom = action.get("Block", {}).get("CustomResponse")
                    if custom:
                        body = json.loads(bodies[custom["CustomResponseBodyKey"]]["Content"])
                        blocks.append((int(custom["ResponseCode"]), name, body))
        return blocks


def operation_of(integration: Mapping[str, Any]) -> str:
    """Which command (or the outcome lookup) a method's integration is, by its request
    template: exactly what infra/mapping_templates.py builds for it."""
    request = rendered(integration.get("RequestTemplates", {}).get(JSON, ""))
    topic_mark, table_mark = "TopicArn=$util.urlEncode('", '"TableName": "'
    if topic_mark in request:
        topic = request.split(topic_mark, 1)[1].split("')", 1)[0]
        for operation in Operation:
            if request == templates.sns_publish_template(operation, topic):
                return operation.value
    if table_mark in request:
        table = request.split(table_mark, 1)[1].split('"', 1)[0]
        if request == templates.outcome_lookup_request_template(table):
            return OUTCOME_LOOKUP
    raise ValueError(f"an integration the description does not know: {request[:120]!r}")


class _Responses:
    """The responses of one operation, by status code; a code met for several reasons
    lists them all."""

    def __init__(self) -> None:
        self.by_status: dict[str, dict[str, Any]] = {}
        self.reasons: dict[str, list[str]] = {}

    def add(self, status: int | str, reason: str, schema: str,
            headers: Mapping[str, Any] | None = None) -> None:
        key = str(status)
        response = self.by_status.setdefault(key, {
            "description": "", "content": {JSON: {"schema": schemas.ref(schema)}}})
        if headers:
            response.setdefault("headers", {}).update(headers)
        if reason not in self.reasons.setdefault(key, []):
            self.reasons[key].append(reason)
        response["description"] = "; ".join(self.reasons[key])

    def as_dict(self) -> dict[str, Any]:
        return {k: self.by_status[k] for k in sorted(self.by_status)}


def _gateway_status(error: type[gateway.GatewayResponseError],
                    configured: Mapping[str, Mapping[str, Any]]) -> int:
    response = configured.get(error.response_type, {})
    return int(response.get("StatusCode", error.status))


def _gateway_headers(response: Mapping[str, Any]) -> dict[str, Any]:
    prefix = "gatewayresponse.header."
    return {
        name[len(prefix):]: {"schema": {"type": "string", "enum": [str(value).strip("'")]}}
        for name, value in response.get("ResponseParameters", {}).items()
        if name.startswith(prefix)
    }


class OpenApiBuilder:
    def __init__(self, template: Mapping[str, Any]) -> None:
        self.api = ApiTemplate(template)
        self.gateway_responses = self.api.gateway_responses()
        self.validators = {lid: p for lid, p in self.api.of_type("RequestValidator")}
        self.models = {lid: p for lid, p in self.api.of_type("Model")}
        self.authorizers = {lid: p for lid, p in self.api.of_type("Authorizer")}
        self.web_acl_blocks = self.api.web_acl_blocks()
        self.kinds = {operation_of(p.get("Integration", {})) for _, p in self.api.of_type("Method")}

    def document(self) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        for _, method in sorted(self.api.of_type("Method"),
                                key=lambda item: (self.api.path_of(
                                    _target(item[1]["ResourceId"])), item[1]["HttpMethod"])):
            path = self.api.path_of(_target(method["ResourceId"]))
            paths.setdefault(path, {})[str(method["HttpMethod"]).lower()] = self.operation(method)
        stages = sorted(str(p["StageName"]) for _, p in self.api.of_type("Stage"))
        return {
            "openapi": OPENAPI_VERSION,
            "info": {
                "title": rendered(self.api.api.get("Name", self.api.api_id)),
                "description": str(self.api.api.get("Description", "")),
                "version": version("crudops"),
            },
            "servers": [
                {"url": "https://{restApiId}.execute-api.{region}.amazonaws.com/{basePath}",
                 "variables": {
                     "restApiId": {"default": "restApiId",
                                   "description": "The stack's REST API id (output "
                                                  "RestApiUrl holds the whole URL)."},
                     "region": {"default": "us-east-1"},
                     "basePath": {"default": stages[0] if stages else "", "enum": stages}}},
                {"url": f"http://127.0.0.1:{DEFAULT_GATEWAY_PORT}/{{basePath}}",
                 "description": "crudops local up",
                 "variables": {"basePath": {"default": stages[0] if stages else "",
                                            "enum": stages}}},
            ],
            "paths": paths,
            "components": {
                "schemas": {**self.request_schemas(), **schemas.answer_schemas()},
                "securitySchemes": self.security_schemes(),
            },
            "x-amazon-apigateway-gateway-responses": {
                kind: {
                    **({"statusCode": str(p["StatusCode"])} if "StatusCode" in p else {}),
                    "responseParameters": dict(p.get("ResponseParameters", {})),
                    "responseTemplates": {k: rendered(v) for k, v in
                                          p.get("ResponseTemplates", {}).items()},
                }
                for kind, p in sorted(self.gateway_responses.items())
            },
        }

    def request_schemas(self) -> dict[str, dict[str, Any]]:
        named: dict[str, dict[str, Any]] = {}
        for logical_id, model in self.models.items():
            schema = {k: v for k, v in model["Schema"].items() if k != "$schema"}
            named[self._model_name(logical_id)] = schema
        return named

    def _model_name(self, logical_id: str) -> str:
        schema = self.models[logical_id]["Schema"]
        if "title" not in schema:
            raise ValueError(f"model {logical_id} has no title to name it by")
        return str(schema["title"])

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return {self._authorizer_name(lid): self._scheme(p) for lid, p in self.authorizers.items()}

    def _authorizer_name(self, logical_id: str) -> str:
        return rendered(self.authorizers[logical_id].get("Name", logical_id))

    @staticmethod
    def _scheme(authorizer: Mapping[str, Any]) -> dict[str, Any]:
        source = str(authorizer["IdentitySource"])
        header = source.removeprefix("method.request.header.")
        if str(authorizer["Type"]) != COGNITO or header == source:
            raise ValueError(f"an authorizer the description does not know: {authorizer}")
        return {
            "type": "apiKey",
            "name": header,
            "in": "header",
            "description": "An ID token of the stack's Cognito user pool (`crudops token`, "
                           "`crudops local token`), bare or after `Bearer `.",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {
                "type": "cognito_user_pools",
                "providerARNs": [rendered(a) for a in authorizer["ProviderARNs"]],
            },
        }

    def operation(self, method: Mapping[str, Any]) -> dict[str, Any]:
        integration = method.get("Integration", {})
        kind = operation_of(integration)
        text = OPERATIONS[kind]
        validator = self.validators.get(_target(method.get("RequestValidatorId")) or "", {})
        validates_body = validator.get("ValidateRequestBody") is True
        validates_parameters = validator.get("ValidateRequestParameters") is True
        document: dict[str, Any] = {
            "operationId": text.operation_id,
            "summary": text.summary,
            "parameters": self.parameters(method),
        }
        models = method.get("RequestModels", {})
        if models:
            document["requestBody"] = {
                "required": validates_body,
                "content": {media: {"schema": schemas.ref(self._model_name(str(_target(m))))}
                            for media, m in models.items()},
            }
        responses = _Responses()
        success = schemas.OUTCOME if kind == OUTCOME_LOOKUP else schemas.ACCEPTED
        answers = {str(r["StatusCode"]): r for r in integration.get("IntegrationResponses", [])}
        for entry in method.get("MethodResponses", []):
            status = str(entry["StatusCode"])
            if int(status) < 300:
                responses.add(status, "accepted" if success == schemas.ACCEPTED else "found",
                              success)
                if success == schemas.ACCEPTED and OUTCOME_LOOKUP in self.kinds:
                    responses.by_status[status]["links"] = {"outcome": {
                        "operationId": OPERATIONS[OUTCOME_LOOKUP].operation_id,
                        "parameters": {"requestId": "$response.body#/requestId"},
                        "description": "Where the command's outcome will be (404 until it "
                                       "is)."}}
            elif status in answers:
                responses.add(status, "the integration failed; retry", schemas.ERROR)
            else:
                responses.add(status, "not found (set by the response template)", schemas.ERROR)
        self._refusals(method, integration, responses,
                       body_validated=validates_body and bool(models),
                       required_parameters=validates_parameters and any(
                           required and not name.startswith(_PARAMETER_PREFIX + "path.")
                           for name, required in method.get("RequestParameters", {}).items()))
        document["responses"] = responses.as_dict()
        if method.get("AuthorizationType") == COGNITO:
            name = self._authorizer_name(str(_target(method["AuthorizerId"])))
            document["security"] = [{name: []}]
        return document

    def _refusals(self, method: Mapping[str, Any], integration: Mapping[str, Any],
                  responses: _Responses, *, body_validated: bool,
                  required_parameters: bool) -> None:
        refusals: list[type[gateway.GatewayResponseError]] = list(_ALWAYS)
        if method.get("AuthorizationType", "NONE") != "NONE":
            refusals += _AUTHORIZER_REFUSALS
        if body_validated:
            refusals.append(gateway.BadRequestBodyError)
        if required_parameters:
            refusals.append(gateway.BadRequestParametersError)
        passthrough = str(integration.get("PassthroughBehavior", "WHEN_NO_MATCH"))
        if passthrough == "NEVER" or (passthrough == "WHEN_NO_TEMPLATES"
                                      and integration.get("RequestTemplates")):
            refusals.append(gateway.UnsupportedMediaTypeError)
        for error in refusals:
            configured = self.gateway_responses.get(error.response_type, {})
            responses.add(_gateway_status(error, self.gateway_responses),
                          f"API Gateway: {error.response_type}", schemas.ERROR,
                          _gateway_headers(configured))
        for status, rule, _ in self.web_acl_blocks:
            responses.add(status, f"firewall: {rule}", schemas.ERROR)
        if gateway.Default5xxError.response_type in self.gateway_responses:
            responses.add("5XX", "API Gateway: DEFAULT_5XX", schemas.ERROR)

    def parameters(self, method: Mapping[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for name, required in sorted(method.get("RequestParameters", {}).items()):
            location, _, parameter = name.removeprefix(_PARAMETER_PREFIX).partition(".")
            entry: dict[str, Any] = {
                "name": parameter,
                "in": _PARAMETER_LOCATIONS[location],
                "required": location == "path" or required is True,
                "schema": {"type": "string"},
            }
            if parameter in PARAMETER_DESCRIPTIONS:
                entry["description"] = PARAMETER_DESCRIPTIONS[parameter]
            found.append(entry)
        return found


def openapi_document(template: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.0 description of the template's REST API."""
    return OpenApiBuilder(template).document()


def openapi_json(template: Mapping[str, Any]) -> str:
    """`openapi_document` as the exact text of the committed file."""
    return json.dumps(openapi_document(template), indent=2) + "\n"
