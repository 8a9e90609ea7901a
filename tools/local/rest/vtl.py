"""Rendering API Gateway mapping templates (Velocity) with `airspeed`.

API Gateway evaluates templates in Java: maps print as `{a=1, b=x}`, booleans as
`true`/`false`, and a missing parameter is an empty string. airspeed is Python, so the
values given to a template are wrapped in small Java-like types (`JavaMap`,
`JavaList`, `JavaBool`) and every helper returns `""` rather than `None` (a `None`
would print the reference's own text, see docs/emulator-facts.md).

Known differences that remain (airspeed 0.7.1): a boolean created inside the template
(`#set($x = true)`) still prints `True`; `#break` and some Java string methods
(`substring`, `indexOf`, ...) are not available; a `#set` inside `#foreach` does not
survive the loop.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

import airspeed

from tools.local.rest import jsonpath


class MappingTemplateError(RuntimeError):
    """A template failed to parse or render; API Gateway answers 500 for it."""


class JavaBool(int):
    """A boolean that prints like Java's (`true`/`false`) and stays falsy in `#if`."""

    def __new__(cls, value: bool) -> JavaBool:
        return super().__new__(cls, 1 if value else 0)

    def __str__(self) -> str:
        return "true" if self else "false"

    __repr__ = __str__


class JavaMap(dict[str, Any]):
    """A JSON object / Velocity map: Java's `toString` and the methods templates call."""

    def __str__(self) -> str:
        return "{" + ", ".join(f"{k}={_java_str(v)}" for k, v in self.items()) + "}"

    def containsKey(self, key: str) -> JavaBool:
        return JavaBool(key in self)

    def isEmpty(self) -> JavaBool:
        return JavaBool(not self)

    def size(self) -> int:
        return len(self)

    def keySet(self) -> JavaList:
        return JavaList(self.keys())

    def entrySet(self) -> JavaList:
        return JavaList(JavaMap(key=k, value=v) for k, v in self.items())


class JavaList(list[Any]):
    """A JSON array / Velocity list with Java's `toString`."""

    def __str__(self) -> str:
        return "[" + ", ".join(_java_str(v) for v in self) + "]"

    def isEmpty(self) -> JavaBool:
        return JavaBool(not self)

    def size(self) -> int:
        return len(self)


def _java_str(value: Any) -> str:
    return "null" if value is None else str(value)


def java_value(value: Any) -> Any:
    """`value` (parsed JSON, plain dicts) as the Java-like types templates see."""
    if isinstance(value, bool):
        return JavaBool(value)
    if isinstance(value, Mapping):
        return JavaMap((str(k), java_value(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return JavaList(java_value(v) for v in value)
    return value


def plain_value(value: Any) -> Any:
    """The inverse of `java_value`, for serializing back to JSON."""
    if isinstance(value, JavaBool):
        return bool(value)
    if isinstance(value, Mapping):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value


def to_json(value: Any) -> str:
    return json.dumps(plain_value(value), ensure_ascii=False, separators=(",", ":"))


class Util:
    """`$util` of REST API mapping templates."""

    @staticmethod
    def escapeJavaScript(text: Any) -> str:
        """Java's `StringEscapeUtils.escapeJavaScript` (commons-lang 2), as API Gateway uses.

        It escapes `'` as `\\'` and `/` as `\\/`, and non-ASCII as `\\uXXXX`: the
        result is safe inside a JavaScript string, not always inside JSON.
        """
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
        """Java's `URLEncoder.encode(s, "UTF-8")`: space is `+`, only `*-._` stay as is."""
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
        self.body = body
        self._params = params
        self._parsed: Any = None
        self._parsed_ready = False

    def _document(self) -> Any:
        if not self._parsed_ready:
            text = self.body.strip()
            try:
                # API Gateway treats an empty body as an empty object.
                self._parsed = json.loads(text) if text else {}
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


_parsed_templates: dict[str, airspeed.Template] = {}
_parsed_lock = threading.Lock()


def _template(text: str) -> airspeed.Template:
    with _parsed_lock:
        template = _parsed_templates.get(text)
        if template is None:
            template = _parsed_templates[text] = airspeed.Template(text)
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
