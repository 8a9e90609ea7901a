"""The JSONPath subset API Gateway mapping templates use: `$`, `$.a.b`, `$.a[0]`, `$['a']`.

Filters, wildcards and recursive descent are not supported and raise
`JsonPathError`, so a template that needs them fails loudly instead of rendering an
empty value. A path that does not exist in the document yields `None` (API Gateway
renders nothing for it).
"""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(
    r"""\.(?P<name>[A-Za-z_$@-][\w$@-]*)      # .name
      | \[(?P<index>-?\d+)\]                  # [0]
      | \[\s*'(?P<single>[^']*)'\s*\]         # ['name']
      | \[\s*"(?P<double>[^"]*)"\s*\]         # ["name"]
    """,
    re.VERBOSE,
)


class JsonPathError(ValueError):
    """The expression uses JSONPath beyond the supported subset."""


def parse(expression: str) -> list[str | int]:
    """The steps of `expression` (names and list indexes) after the leading `$`."""
    text = expression.strip()
    if not text.startswith("$"):
        raise JsonPathError(f"JSONPath must start with '$': {expression!r}")
    steps: list[str | int] = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise JsonPathError(f"unsupported JSONPath {expression!r} at {text[position:]!r}")
        if match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(next(g for g in match.group("name", "single", "double") if g is not None))
        position = match.end()
    return steps


def find(document: Any, expression: str) -> Any:
    """The value at `expression` in `document`, or `None` when any step is missing."""
    value = document
    for step in parse(expression):
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return None
            value = value[step]
    return value
