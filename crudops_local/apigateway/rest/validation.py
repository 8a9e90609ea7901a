"""Request validation as a REST API's `RequestValidator` does it.

Parameters first (`method.request.{path,querystring,header}.X: true` must be present
and non-empty), then the body against the model for the request's content type
(JSON Schema draft 4). A failure is the gateway response error it ends the request with
(crudops_local/apigateway/exceptions.py), carrying API Gateway's texts: the message
("Missing required request parameters: [...]", "Invalid request body") and a
`validationErrorString` phrased like API Gateway's validator (java-json-tools), e.g.
`[object has missing required properties (["name"])]`. The phrasing of the less
common keywords is close to, not exactly, API Gateway's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError

from crudops_local.apigateway.exceptions import BadRequestBodyError, BadRequestParametersError

_PARAMETER_KINDS = ("path", "querystring", "header")


def missing_parameters(
    required: Mapping[str, bool], supplied: Mapping[str, Mapping[str, str]]
) -> BadRequestParametersError | None:
    """The required parameters absent from the request, in API Gateway's words."""
    missing: list[str] = []
    for expression, is_required in required.items():
        prefix, _, name = expression.partition("method.request.")[2].partition(".")
        if not is_required or prefix not in _PARAMETER_KINDS:
            continue
        values = supplied.get(prefix, {})
        if prefix == "header":
            present = any(k.lower() == name.lower() and v for k, v in values.items())
        else:
            present = bool(values.get(name))
        if not present:
            missing.append(name)
    if not missing:
        return None
    listed = "[" + ", ".join(missing) + "]"
    return BadRequestParametersError(f"Missing required request parameters: {listed}",
                                     validation_error=f"Missing required request parameters: "
                                                      f"{listed}")


def parse_json_body(body: bytes) -> Any:
    """The body as JSON a Java service would read it, or ValueError saying why not.

    Stricter than `json.loads(bytes)` where that would let a body through that the
    rest of the request path cannot carry: only UTF-8 (no byte order mark, no UTF-16
    or UTF-32, which Python would detect and decode), no `NaN`/`Infinity` (not JSON),
    no lone surrogate escape (`"\\ud800"` cannot be sent on as UTF-8), and no deeper
    than Python's parser reaches (about 1,000 levels, like Jackson's default limit in
    API Gateway's Java; deeper was an uncaught RecursionError).
    """
    if body.startswith(b"\xef\xbb\xbf"):
        raise ValueError("a byte order mark is not JSON text")
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    try:
        document = json.loads(text, parse_constant=_not_json)
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise ValueError("nested too deeply (about 1,000 levels at most)") from None
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate (not a Unicode character)") from None
    return document


def invalid_body(schema: Mapping[str, Any], body: bytes) -> BadRequestBodyError | None:
    """Why `body` does not satisfy `schema`, or None when it does.

    An empty body is validated as `{}` (what the mapping templates also see). A body
    `parse_json_body` refuses is an invalid body, as API Gateway's parser would have it.
    """
    try:
        document = parse_json_body(body) if body.strip() else {}
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a constant, …
        return BadRequestBodyError(validation_error=f"[Invalid JSON: {exc}]")
    validator = Draft4Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    return BadRequestBodyError(
        validation_error="[" + ", ".join(describe(error) for error in errors) + "]")


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _instance_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def describe(error: ValidationError) -> str:
    """One error in the java-json-tools phrasing API Gateway reports."""
    keyword, value, instance = error.validator, error.validator_value, error.instance
    text: str
    if keyword == "required" and isinstance(instance, dict):
        missing = [name for name in value if name not in instance]
        text = f"object has missing required properties ({_json(missing)})"
    elif keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(
            k for k in instance
            if k not in allowed and not _matches_any(k, error.schema.get("patternProperties", {}))
        )
        text = ("object instance has properties which are not allowed by the schema: "
                f"{_json(extra)}")
    elif keyword == "type":
        types = value if isinstance(value, list) else [value]
        text = (f"instance type ({_instance_type(instance)}) does not match any allowed "
                f"primitive type (allowed: {_json(types)})")
    elif keyword == "maxLength":
        text = (f"string {_json(instance)} is too long (length: {len(instance)}, "
                f"maximum allowed: {value})")
    elif keyword == "minLength":
        text = (f"string {_json(instance)} is too short (length: {len(instance)}, "
                f"required minimum: {value})")
    elif keyword == "minProperties":
        text = f"object has too few properties (found {len(instance)}, required {value})"
    elif keyword == "maxProperties":
        text = (f"object has too many properties (found {len(instance)}, "
                f"maximum allowed: {value})")
    elif keyword == "minimum":
        text = (f"numeric instance is lower than the required minimum "
                f"(minimum: {value}, found: {instance})")
    elif keyword == "maximum":
        text = (f"numeric instance is greater than the required maximum "
                f"(maximum: {value}, found: {instance})")
    elif keyword == "anyOf":
        text = f"instance failed to match at least one required schema among {len(value)}"
    elif keyword == "enum":
        text = (f"instance value ({_json(instance)}) not found in enum "
                f"(possible values: {_json(value)})")
    elif keyword == "pattern":
        text = f"ECMA 262 regex {_json(value)} does not match input string {_json(instance)}"
    else:
        text = error.message
    pointer = "/" + "/".join(str(p) for p in error.absolute_path)
    return text if pointer == "/" else f"{text} at {pointer}"


def _matches_any(name: str, patterns: Mapping[str, Any]) -> bool:
    return any(re.search(pattern, name) for pattern in patterns)
