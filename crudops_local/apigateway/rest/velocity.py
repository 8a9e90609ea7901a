"""API Gateway's Velocity dialect, built on a private copy of airspeed 0.7.1.

airspeed follows Apache Velocity; API Gateway's templates differ where it matters to
a template's output (each case is in tests/unit/local/test_vtl_conformance.py):

- a null or missing reference prints nothing (airspeed prints the reference's text),
  and `$null == ""` holds;
- values print as Java does (`true`, `{a=1}`, a JSON array as JSON: `java_values`);
- `#set` takes map keys (`#set($m[$k] = 1)`); names may hold `-`, as in Velocity 1.7
  (`#set($context.requestOverride.header.X-Amz-Target = ...)`, so `$a-b` is one name);
- `#break` leaves the innermost `#foreach`;
- string literals keep backslashes as written (Velocity 1.7 has no escapes there);
- Java's String, Map and List methods templates call (`replaceAll` with `$1`
  groups, `put`, `containsKey`, `toString`, `substring`, ...), for subclasses too.

The copy is loaded under its own module name so the patched element classes (airspeed
looks them up by module-global name while parsing) never change the `airspeed` module
other code imports. ADR 0019 says why this over the `airspeed-ext` fork.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import airspeed

from crudops_local.apigateway.rest.java_values import JavaList, JavaMap, java_str, printed


def _private_airspeed() -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{__name__}._airspeed", airspeed.__file__)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load a copy of airspeed from {airspeed.__file__}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_engine: Any = _private_airspeed()  # a module; its classes are patched below


# --- Java methods -------------------------------------------------------------------

def _java_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """Java's `Matcher.appendReplacement`: `$n` is group n, `\\x` is x literally."""
    def expand(match: re.Match[str]) -> str:
        out: list[str] = []
        index = 0
        while index < len(replacement):
            char = replacement[index]
            if char == "\\" and index + 1 < len(replacement):
                out.append(replacement[index + 1])
                index += 2
            elif char == "$" and index + 1 < len(replacement) and replacement[index + 1].isdigit():
                end = index + 2
                while end < len(replacement) and replacement[end].isdigit():
                    end += 1
                out.append(match.group(int(replacement[index + 1:end])) or "")
                index = end
            else:
                out.append(char)
                index += 1
        return "".join(out)
    return expand


def _split(text: str, pattern: str, limit: int = 0) -> JavaList:
    """Java's `String.split`: a regex, and trailing empty strings dropped (limit 0)."""
    parts = re.split(pattern, text, maxsplit=max(limit - 1, 0))
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return JavaList(parts)


def _map_put(self: dict[Any, Any], key: Any, value: Any) -> Any:
    previous = self.get(key)
    self[key] = value
    return previous


def _list_add(self: list[Any], value: Any) -> bool:
    self.append(value)
    return True


def _list_set(self: list[Any], index: int, value: Any) -> Any:
    previous = self[index]
    self[index] = value
    return previous


_STRING_METHODS: dict[str, Callable[..., Any]] = {
    "length": len,
    "isEmpty": lambda s: not s,
    "equals": lambda s, other: isinstance(other, str) and s == other,
    "equalsIgnoreCase": lambda s, other: isinstance(other, str) and s.lower() == other.lower(),
    "contains": lambda s, part: str(part) in s,
    "startsWith": lambda s, prefix: s.startswith(str(prefix)),
    "endsWith": lambda s, suffix: s.endswith(str(suffix)),
    "indexOf": lambda s, part: s.find(str(part)),
    "lastIndexOf": lambda s, part: s.rfind(str(part)),
    "substring": lambda s, begin, end=None: s[begin:end],
    "charAt": lambda s, index: s[index],
    "toUpperCase": str.upper,
    "toLowerCase": str.lower,
    "trim": str.strip,
    "concat": lambda s, other: s + str(other),
    "matches": lambda s, pattern: re.fullmatch(pattern, s) is not None,
    "replaceAll": lambda s, pattern, repl: re.sub(pattern, _java_replacement(repl), s),
    "replaceFirst": lambda s, pattern, repl: re.sub(
        pattern, _java_replacement(repl), s, count=1),
    "split": _split,
    "toString": lambda s: s,
}

_MAP_METHODS: dict[str, Callable[..., Any]] = {
    "put": _map_put,
    "putAll": lambda m, other: m.update(other),
    "get": lambda m, key: m.get(key),
    "containsKey": lambda m, key: key in m,
    "containsValue": lambda m, value: value in m.values(),
    "isEmpty": lambda m: not m,
    "size": len,
    "keySet": lambda m: JavaList(m.keys()),
    "values": lambda m: JavaList(m.values()),
    "entrySet": lambda m: JavaList(JavaMap(key=k, value=v) for k, v in m.items()),
    "remove": lambda m, key: m.pop(key, None),
    "toString": java_str,
}

_LIST_METHODS: dict[str, Callable[..., Any]] = {
    "size": len,
    "isEmpty": lambda lst: not lst,
    "get": lambda lst, index: lst[index],
    "add": _list_add,
    "set": _list_set,
    "contains": lambda lst, value: value in lst,
    "indexOf": lambda lst, value: lst.index(value) if value in lst else -1,
    "toString": java_str,
}


class _MethodsByType(dict[type, dict[str, Callable[..., Any]]]):
    """airspeed looks methods up by the exact class; this follows the MRO instead."""

    def get(self, cls: type, default: Any = None) -> Any:
        for base in cls.__mro__:
            if base in self:
                return self[base]
        return default


def _java_equals(left: Any, right: Any) -> bool:
    """`==` as API Gateway evaluates it: a null equals the empty string."""
    if (left is None and right == "") or (right is None and left == ""):
        return True
    return bool(left == right)


# --- patched elements ---------------------------------------------------------------

class _FormalReference(_engine.FormalReference):  # type: ignore[misc]
    """`$ref`: a null prints nothing and a value prints as Java's `toString`."""

    def evaluate_raw(self, stream: Any, namespace: Any, loader: Any) -> None:
        if self.expression is None:  # a `$` that starts no reference
            stream.write(self.my_text())
            return
        value = self.expression.calculate(namespace, loader)
        if value is None and self.alternate is not None:
            value = self.alternate.calculate(namespace, loader)
        stream.write(printed(value))


class _StringLiteral(_engine.StringLiteral):  # type: ignore[misc]
    """`'text'`: Velocity 1.7 has no backslash escapes in string literals."""

    STRING = re.compile(r"'([^']*)'", re.S)

    def parse(self) -> None:
        (self.value,) = self.identity_match(self.STRING)


class _InterpolatedStringLiteral(_engine.InterpolatedStringLiteral):  # type: ignore[misc]
    """`"text $ref"`: references are rendered, backslashes kept as written."""

    STRING = re.compile(r'"([^"]*)"', re.S)

    def parse(self) -> None:
        (self.value,) = self.identity_match(self.STRING)
        self.block = _engine.Block(self.filename, self.value, 0)


class _DictionaryLiteral(_engine.DictionaryLiteral):  # type: ignore[misc]
    def calculate(self, namespace: Any, loader: Any) -> JavaMap:
        return JavaMap(super().calculate(namespace, loader))


class _ArrayLiteral(_engine.ArrayLiteral):  # type: ignore[misc]
    def calculate(self, namespace: Any, loader: Any) -> JavaList:
        return JavaList(super().calculate(namespace, loader))


class _NameOrCall(_engine.NameOrCall):  # type: ignore[misc]
    """A name in a reference: Velocity 1.7 names may hold `-` (`$header.X-Amz-Target`)."""

    NAME = re.compile(r"([_a-z][a-z0-9_-]*)", re.S | re.I)


class _Break(BaseException):
    """Raised by `#break`; a BaseException so airspeed's error wrapping lets it pass."""


class _BreakDirective(_engine._Element):  # type: ignore[misc]
    """`#break`: leaves the innermost `#foreach`, or the template outside any loop."""

    BREAK = re.compile(r"#(?:break|\{break\})(?![A-Za-z0-9_])", re.S)

    def parse(self) -> None:
        self.identity_match(self.BREAK)

    def evaluate_raw(self, stream: Any, namespace: Any, loader: Any) -> None:
        raise _Break


class _ForeachDirective(_engine.ForeachDirective):  # type: ignore[misc]
    def evaluate_raw(self, stream: Any, namespace: Any, loader: Any) -> None:
        with contextlib.suppress(_Break):
            super().evaluate_raw(stream, namespace, loader)


class _TemplateBody(_engine.TemplateBody):  # type: ignore[misc]
    def evaluate_raw(self, stream: Any, namespace: Any, loader: Any) -> None:
        with contextlib.suppress(_Break):
            super().evaluate_raw(stream, namespace, loader)


class _SetDirective(_engine._Element):  # type: ignore[misc]
    """`#set($a.b-c[$k].d = value)`: dotted names may hold `-`, and `[key]` steps index."""

    START = re.compile(r"#set\s*\(\s*\$", re.S | re.I)
    NAME = re.compile(r"([A-Za-z_][\w-]*)", re.S)
    DOT_NAME = re.compile(r"\.([A-Za-z_][\w-]*)", re.S)
    EQUALS = re.compile(r"\s*=\s*", re.S)
    END = re.compile(r"\s*\)(?:[ \t]*\r?\n)?", re.S)

    def parse(self) -> None:
        self.identity_match(self.START)
        (self.name,) = self.require_match(self.NAME, "variable name")
        self.steps: list[Any] = []
        while True:
            dotted = self.next_match(self.DOT_NAME)
            if dotted is not None:
                self.steps.append(dotted[0])
                continue
            try:
                self.steps.append(self.next_element(_engine.ArrayIndex))
            except _engine.NoMatch:
                break
        self.require_match(self.EQUALS, "=")
        self.value = self.require_next_element(_engine.Expression, "expression")
        self.require_match(self.END, "closing paren")

    def _key(self, step: Any, namespace: Any, loader: Any) -> Any:
        return step if isinstance(step, str) else step.calculate(namespace, loader)

    def evaluate_raw(self, stream: Any, namespace: Any, loader: Any) -> None:
        value = self.value.calculate(namespace, loader)
        if not self.steps:
            namespace.set_inherited(self.name, value)
            return
        try:
            target = namespace[self.name]  # LocalNamespace looks in the enclosing scopes
        except KeyError:
            return
        for step in self.steps[:-1]:
            if target is None:
                return
            target = _item(target, self._key(step, namespace, loader))
        key = self._key(self.steps[-1], namespace, loader)
        if (isinstance(target, list) and isinstance(key, int)) or isinstance(target, dict):
            target[key] = value
        # Velocity logs and skips a #set whose left side does not resolve; so do we.


def _item(container: Any, key: Any) -> Any:
    if isinstance(container, Mapping):
        return container.get(key)
    if isinstance(container, list) and isinstance(key, int) and -len(container) <= key < len(
            container):
        return container[key]
    return getattr(container, str(key), None)


_engine.__additional_methods__ = _MethodsByType(
    {str: _STRING_METHODS, dict: _MAP_METHODS, list: _LIST_METHODS})
_engine.FormalReference = _FormalReference
_engine.DictionaryLiteral = _DictionaryLiteral
_engine.StringLiteral = _StringLiteral
_engine.InterpolatedStringLiteral = _InterpolatedStringLiteral
_engine.ArrayLiteral = _ArrayLiteral
_engine.SetDirective = _SetDirective
_engine.NameOrCall = _NameOrCall
_engine.ForeachDirective = _ForeachDirective
_engine.TemplateBody = _TemplateBody
_engine.UserDefinedDirective.DIRECTIVES.append(_BreakDirective)
for _name in ("==", "eq"):
    _engine.BinaryOperator.OPERATORS[_name] = _java_equals
for _name in ("!=", "ne"):
    _engine.BinaryOperator.OPERATORS[_name] = lambda a, b: not _java_equals(a, b)


def compile_template(text: str) -> Any:
    """A parsed template; `.merge(namespace)` renders it. Parse and render errors raise."""
    return _engine.Template(text)
