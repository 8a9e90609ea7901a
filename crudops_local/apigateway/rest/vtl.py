"""`$input`, `$util` and the rendering of one REST API mapping template.

The template language is API Gateway's Velocity dialect (`velocity`); the values given
to a template are the Java-like types of `java_values`, so they print as API
Gateway's Java prints them. What still differs is listed in rest/LIMITS.md.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crudops_local.apigateway.rest import jsonpath, velocity
from crudops_local.apigateway.rest.java_values import (
    JavaBool,
    JavaList,
    JavaMap,
    JsonArray,
    java_value,
    plain_value,
    to_json,
)

__all__ = [
    "Input", "JavaBool", "JavaList", "JavaMap", "JsonArray", "MappingTemplateError", "Util",
    "java_value", "plain_value", "render", "to_json",
]


class MappingTemplateError(RuntimeError):
    """A template failed to parse or render; API Gateway answers 500 for it."""


class Util:
    """`$util` of REST API mapping templates."""

    @staticmethod
    def escapeJavaScript(text: Any) -> str:
        """Java's `StringEscapeUtils.escapeJavaScript` (commons-lang 2), as API Gateway uses.

        It escapes `'` as `\\'` and `/` as `\\/`, and non-ASCII as `\\uXXXX`: the
        result is safe inside a JavaScript string, not always inside JSON.
        """
        if text is None:
            return ""
        out: list[str] = []
        for char in str(text):
            code = ord(char)
            if char in _JS_ESCAPES:
                out.append(_JS_ESCAPES[char])
            elif code < 0x20 or code > 0x7E:
                if code > 0xFFFF:
                    encoded = char.encode("utf-16-be")
                    out.extend(
                        f"\\u{int.from_bytes(encoded[i:i + 2], 'big'):04X}" for i in (0, 2)
                    )
                else:
                    out.append(f"\\u{code:04X}")
            else:
                out.append(char)
        return "".join(out)

    @staticmethod
    def urlEncode(text: Any) -> str:
        """Java's `URLEncoder.encode(s, "UTF-8")`: space is `+`, only `*-._` stay as is.

        A null is `""`, as API Gateway renders it.
        """
        if text is None:
            return ""
        return urllib.parse.quote_plus(str(text), safe="*").replace("~", "%7E")

    @staticmethod
    def urlDecode(text: Any) -> str:
        return urllib.parse.unquote_plus(str(text))

    @staticmethod
    def base64Encode(text: Any) -> str:
        return base64.b64encode(str(text).encode()).decode()

    @staticmethod
    def base64Decode(text: Any) -> str:
        return base64.b64decode(str(text)).decode(errors="replace")

    @staticmethod
    def parseJson(text: Any) -> Any:
        try:
            return java_value(json.loads(str(text)))
        except json.JSONDecodeError as exc:
            raise MappingTemplateError(f"$util.parseJson: invalid JSON: {exc}") from exc


_JS_ESCAPES = {
    "'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/",
    "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
}


class Input:
    """`$input`: the body (request or integration response) and the request parameters.

    `params` holds `path`, `querystring` and `header` maps; header lookups by name are
    case-insensitive, like HTTP's.
    """

    def __init__(self, body: str, params: Mapping[str, Mapping[str, str]]) -> None:
        self.raw_body = body
        self._params = params
        self._parsed: Any = None
        self._parsed_ready = False

    @property
    def body(self) -> str:
        """The payload as text; an empty one is `{}`, as API Gateway gives it."""
        return self.raw_body if self.raw_body.strip() else "{}"

    def _document(self) -> Any:
        if not self._parsed_ready:
            text = self.raw_body.strip()
            try:
                # API Gateway treats an empty body as an empty object.
                # Decimal: `$input.json` hands a number on with its digits (the
                # outcome keeps 38, as DynamoDB does); `$input.path` sees a double.
                self._parsed = json.loads(text, parse_float=Decimal) if text else {}
            except json.JSONDecodeError as exc:
                raise MappingTemplateError(f"the body is not JSON: {exc}") from exc
            self._parsed_ready = True
        return self._parsed

    def json(self, path: str = "$") -> str:
        """The JSON text at `path`; a missing path is `null`."""
        return to_json(jsonpath.find(self._document(), str(path)))

    def path(self, path: str) -> Any:
        """The object at `path`, for use in templates (`None` when missing)."""
        return java_value(jsonpath.find(self._document(), str(path)))

    def params(self, name: Any = None) -> Any:
        """All parameters, or one by name: path, then query string, then header; else ""."""
        if name is None:
            return java_value({kind: dict(values) for kind, values in self._params.items()})
        key = str(name)
        for kind in ("path", "querystring"):
            values = self._params.get(kind, {})
            if key in values:
                return values[key]
        lowered = key.lower()
        for header, value in self._params.get("header", {}).items():
            if header.lower() == lowered:
                return value
        return ""


_parsed_templates: dict[str, Any] = {}
_parsed_lock = threading.Lock()


def _template(text: str) -> Any:
    with _parsed_lock:
        template = _parsed_templates.get(text)
        if template is None:
            template = _parsed_templates[text] = velocity.compile_template(text)
        return template


def render(
    text: str,
    *,
    input_: Input,
    context: JavaMap,
    stage_variables: Mapping[str, str] | None = None,
) -> str:
    """Render one mapping template; `context` is the live `$context` (it may be `#set`)."""
    namespace: dict[str, Any] = {
        "input": input_,
        "util": Util(),
        "context": context,
        "stageVariables": JavaMap(stage_variables or {}),
    }
    try:
        return str(_template(text).merge(namespace))
    except MappingTemplateError:
        raise
    except Exception as exc:  # airspeed raises its own and Python errors alike
        raise MappingTemplateError(f"{type(exc).__name__}: {exc}") from exc
