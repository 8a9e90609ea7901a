"""SLO gates of `crudops load`: `notify.p99<=1s`, `lost==0`, `errors<=0.1%`, ...

An SLO is `<measure><comparison><value>` with no spaces:
- latency, in ms or s: `notify.p99` (202 → notification over every operation),
  `notify.create.p95` (one operation), `e2e.p99` (send → notification), `http.p99`
  (time to the 202); percentiles p50, p95, p99 and p99.9, and `max`;
- counts, or with `%` a share of the commands sent: `lost`, `errors` (HTTP failures
  and unexpected error outcomes; a lost notification is `lost`, not an error),
  `conflicts` (expected conflict outcomes);
- rates, per second of the run: `notified/s`, `accepted/s`, `offered/s`.
Comparisons: `<=`, `<`, `>=`, `>`, `==`. One a line in a file (`#` starts a comment).

Evaluation needs only the measures (tools/load/summary.py `LoadSummary.measure`), so
it is tested without a run.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tools.errors import UserError

COMPARISONS: Final[dict[str, Callable[[float, float], bool]]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt,
}
COUNTS: Final = ("lost", "errors", "conflicts")
RATES: Final = ("notified/s", "accepted/s", "offered/s")
LATENCY_KINDS: Final = ("notify", "e2e", "http")
STATISTICS: Final = ("p50", "p95", "p99", "p99.9", "max")
# Without any SLO a run must lose nothing and fail nothing (what exit 0 always meant).
DEFAULT_SLOS: Final = ("lost==0", "errors==0")
_SLO = re.compile(r"^(?P<measure>[a-z0-9./_-]+?)(?P<op><=|>=|==|<|>)(?P<value>[0-9.]+)"
                  r"(?P<unit>ms|s|%|/s)?$")
_LATENCY = re.compile(r"^(?P<kind>notify|e2e|http)(?:\.(?P<operation>[a-z-]+))?"
                      r"\.(?P<stat>p50|p95|p99|p99\.9|max)$")
_HINT: Final = 'e.g. --slo "notify.p99<=1s" --slo "lost==0" --slo "errors<=0.1%"'


@dataclass(frozen=True)
class Slo:
    text: str
    measure: str  # "notify.p99", "notify.create.p95", "lost", "notified/s", ...
    comparison: str
    threshold: float  # ms for latencies, a fraction (0.001) for a share, else as given
    share: bool = False  # a share of the commands sent (`%`)

    @property
    def latency(self) -> bool:
        return _LATENCY.match(self.measure) is not None


@dataclass(frozen=True)
class SloResult:
    slo: Slo
    measured: float | None  # None: nothing to measure (no such operation in the run)
    met: bool

    def as_json(self) -> dict[str, object]:
        return {"slo": self.slo.text, "measured": self.measured, "met": self.met,
                "unit": "ms" if self.slo.latency else "%" if self.slo.share else
                "/s" if self.slo.measure in RATES else "count"}


def parse_slo(text: str) -> Slo:
    """One SLO; a user error saying what is wrong with it."""
    cleaned = text.strip()
    match = _SLO.match(cleaned.replace(" ", ""))
    if match is None:
        raise UserError(f"SLO {text!r} is not <measure><comparison><value>", hint=_HINT)
    measure, unit = match["measure"], match["unit"]
    try:
        value = float(match["value"])
    except ValueError:
        raise UserError(f"SLO {text!r}: {match['value']!r} is not a number", hint=_HINT) from None
    comparison = match["op"]
    if _LATENCY.match(measure):
        if unit not in ("ms", "s"):
            raise UserError(f"SLO {text!r}: a latency needs a unit, ms or s", hint=_HINT)
        return Slo(cleaned, measure, comparison, value * 1000 if unit == "s" else value)
    if measure in COUNTS:
        if unit not in (None, "%"):
            raise UserError(f"SLO {text!r}: {measure} is a count or a share (%)", hint=_HINT)
        return Slo(cleaned, measure, comparison, value / 100 if unit == "%" else value,
                   share=unit == "%")
    rate = measure if unit is None else measure + unit  # notified/s>=50 or notified>=50/s
    if rate in RATES:
        return Slo(cleaned, rate, comparison, value)
    known = ", ".join((*(f"{k}[.<operation>].<{'|'.join(STATISTICS)}>" for k in LATENCY_KINDS),
                       *COUNTS, *RATES))
    raise UserError(f"SLO {text!r}: unknown measure {measure!r}", hint=f"measures: {known}")


def read_slo_file(path: Path) -> list[str]:
    """The SLOs of a file, one a line; blank lines and `#` comments skipped."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise UserError(f"cannot read the SLO file {path}: {exc.strerror}") from exc
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def slos_from(given: Iterable[str], slo_file: Path | None) -> list[Slo]:
    """`--slo` (or its environment variable) and `--slo-file` together, parsed before
    the run so that a typo costs no run; the defaults when there are none."""
    texts = [*given, *(read_slo_file(slo_file) if slo_file is not None else [])]
    return [parse_slo(text) for text in texts] if texts else default_slos()


def default_slos() -> list[Slo]:
    return [parse_slo(text) for text in DEFAULT_SLOS]


def evaluate(slos: Iterable[Slo], measure: Callable[[Slo], float | None]) -> list[SloResult]:
    """Each SLO against what `measure` reports for it. A latency with nothing measured
    (no such operation ran) is missed: a gate that nothing tested has not passed."""
    results = []
    for slo in slos:
        measured = measure(slo)
        met = measured is not None and COMPARISONS[slo.comparison](measured, slo.threshold)
        results.append(SloResult(slo, measured, met))
    return results
