"""The metric math of the dashboard's graphs, evaluated over aligned series.

CloudWatch computes expressions such as `FILL(requests,0) / PERIOD(requests)` itself;
an emulator's `GetMetricData` may not (moto evaluates none), so they are evaluated
here from the series of the ids they name. Supported: numbers, ids, `+ - * /`,
unary minus, parentheses, `FILL(series, number)` and `PERIOD(series)`. Anything else
(`SEARCH(…)`, `METRICS()`, `ANOMALY_DETECTION_BAND`, …) raises
`UnsupportedExpressionError` naming it, and the graph says so instead of drawing a
wrong line. FILL of a series without any datapoint in the window stays empty.
Two series combine where both have a value, as CloudWatch does; a
division by zero leaves that point out.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Union

# Period start (epoch seconds) → value.
Series = dict[float, float]
Value = Union[Series, float]  # noqa: UP007 - a runtime alias, read by isinstance below

_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub,
    ast.Mult: operator.mul, ast.Div: operator.truediv,
}


class UnsupportedExpressionError(ValueError):
    """An expression that is not evaluated here (its text says which part)."""


def evaluate(expression: str, lookup: Callable[[str], Series], *, period_seconds: int,
             buckets: Sequence[float]) -> Series:
    """The series `expression` describes; `lookup(id)` gives the series of an id
    (raising KeyError for an unknown one), `buckets` every period start of the window
    (what FILL fills)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise UnsupportedExpressionError(f"cannot parse {expression!r}") from exc
    result = _Evaluator(lookup, period_seconds, buckets).value(tree.body)
    if isinstance(result, dict):
        return result
    # A constant expression is a flat line over the window.
    return dict.fromkeys(buckets, result)


class _Evaluator:
    def __init__(self, lookup: Callable[[str], Series], period_seconds: int,
                 buckets: Sequence[float]) -> None:
        self._lookup = lookup
        self._period = float(period_seconds)
        self._buckets = buckets

    def value(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            try:
                return self._lookup(node.id)
            except KeyError as exc:
                raise UnsupportedExpressionError(f"unknown id {node.id!r}") from exc
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return _apply(operator.mul, -1.0, self.value(node.operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _apply(_OPERATORS[type(node.op)], self.value(node.left),
                          self.value(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._call(node.func.id, node.args)
        raise UnsupportedExpressionError(f"{ast.unparse(node)} is not evaluated locally")

    def _call(self, name: str, args: Sequence[ast.expr]) -> Value:
        if name == "PERIOD" and len(args) == 1:
            return self._period
        if name == "FILL" and len(args) == 2:
            series, fill = self.value(args[0]), self.value(args[1])
            if not isinstance(series, dict) or isinstance(fill, dict):
                raise UnsupportedExpressionError("FILL takes a series and a number")
            if not series:
                # Locally most metrics (API Gateway, DynamoDB) are never published: a
                # line at the fill value would claim a measurement nobody made.
                return {}
            return {bucket: series.get(bucket, fill) for bucket in self._buckets}
        raise UnsupportedExpressionError(f"{name}(…) is not evaluated locally")


def _apply(op: Callable[[float, float], float], left: Value, right: Value) -> Value:
    if not isinstance(left, dict) and not isinstance(right, dict):
        return op(left, right)
    if isinstance(left, dict) and isinstance(right, dict):
        pairs: Mapping[float, tuple[float, float]] = {
            t: (left[t], right[t]) for t in left.keys() & right.keys()}
    elif isinstance(left, dict):
        pairs = {t: (v, float(right)) for t, v in left.items()}  # type: ignore[arg-type]
    else:
        assert isinstance(right, dict)
        pairs = {t: (float(left), v) for t, v in right.items()}
    result: Series = {}
    for t, (a, b) in sorted(pairs.items()):
        try:
            result[t] = op(a, b)
        except ZeroDivisionError:
            continue
    return result
