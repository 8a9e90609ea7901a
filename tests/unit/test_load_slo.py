"""SLO gates of `crudops load` (tools/load/slo.py): parsing, files, and evaluation
against a run's summary (tools/load/summary.py), without running anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.errors import UserError
from tools.load.slo import DEFAULT_SLOS, evaluate, parse_slo, slos_from
from tools.load.summary import LoadSummary, Row


@pytest.mark.parametrize(("text", "measure", "comparison", "threshold", "share"), [
    ("notify.p99<=1s", "notify.p99", "<=", 1000.0, False),
    ("notify.create.p95 < 250ms", "notify.create.p95", "<", 250.0, False),
    ("e2e.p99.9<=2.5s", "e2e.p99.9", "<=", 2500.0, False),
    ("http.max<100ms", "http.max", "<", 100.0, False),
    ("lost==0", "lost", "==", 0.0, False),
    ("errors<=0.1%", "errors", "<=", 0.001, True),
    ("conflicts>=10", "conflicts", ">=", 10.0, False),
    ("notified/s>=40", "notified/s", ">=", 40.0, False),
    ("accepted>=40/s", "accepted/s", ">=", 40.0, False),
])
def test_slos_parse_into_a_measure_a_comparison_and_a_threshold_in_ms_or_a_fraction(
        text: str, measure: str, comparison: str, threshold: float, share: bool) -> None:
    slo = parse_slo(text)
    assert (slo.measure, slo.comparison, slo.share) == (measure, comparison, share)
    assert slo.threshold == pytest.approx(threshold)


@pytest.mark.parametrize(("text", "message"), [
    ("notify.p99 1s", "is not <measure>"),
    ("notify.p99<=1", "needs a unit"),
    ("notify.p42<=1s", "unknown measure"),
    ("latency<=1s", "unknown measure"),
    ("lost<=1s", "count or a share"),
    ("", "is not <measure>"),
])
def test_a_bad_slo_is_a_user_error_that_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_slo(text)


def test_slos_come_from_the_options_and_a_file_or_default_to_nothing_lost_or_failed(
        tmp_path: Path) -> None:
    slo_file = tmp_path / "slos.txt"
    slo_file.write_text("# the release gate\nnotify.p99<=1s\n\nerrors<=0.1%  # budget\n")
    assert [s.text for s in slos_from(["lost==0"], slo_file)] == [
        "lost==0", "notify.p99<=1s", "errors<=0.1%"]
    assert [s.text for s in slos_from([], None)] == list(DEFAULT_SLOS)
    with pytest.raises(UserError, match="cannot read the SLO file"):
        slos_from([], tmp_path / "missing.txt")


def _row(type_: str, name: str, count: int, failures: int = 0, p99: float | None = None
         ) -> Row:
    return Row(type_, name, count, failures, p50_ms=p99 and p99 / 4, p95_ms=p99 and p99 / 2,
               p99_ms=p99, max_ms=p99, per_second=0.0)


@pytest.fixture
def summary() -> LoadSummary:
    """1,000 commands: 2 lost creates, one 503, one not_found and 30 expected conflicts."""
    return LoadSummary(
        rows=[_row("POST", "POST /items", 600, 1, p99=80), _row("PUT", "PUT /items/{id}", 400,
                                                                p99=120),
              _row("NOTIFY", "create", 599, 2, p99=900),
              _row("NOTIFY", "update", 370, 1, p99=1500),
              _row("NOTIFY", "update conflict", 30, p99=700)],
        aggregates={"NOTIFY": _row("NOTIFY", "NOTIFY", 999, 3, p99=1200),
                    "HTTP": _row("HTTP", "HTTP", 1000, 1, p99=110)},
        failures={"NOTIFY create: NotificationLost('lost')": 2,
                  "E2E create: NotificationLost('lost')": 2,
                  "NOTIFY update: NotificationError('not_found')": 1,
                  "E2E update: NotificationError('not_found')": 1,
                  "POST POST /items: HttpStatus('503')": 1},
        started_at=100.0, ended_at=110.0)


def test_each_slo_is_measured_on_the_run_and_met_or_missed(summary: LoadSummary) -> None:
    results = evaluate([parse_slo(t) for t in (
        "notify.p99<=1s", "notify.create.p99<=1s", "notify.update.p99<=1s", "http.p99<=200ms",
        "lost==0", "lost<=0.5%", "errors<=0.1%", "errors<=2", "conflicts>=30",
        "notify.delete.p99<=1s")], summary.measure)
    assert [(r.slo.text, r.measured, r.met) for r in results] == [
        ("notify.p99<=1s", 1200, False),
        ("notify.create.p99<=1s", 900, True),
        ("notify.update.p99<=1s", 1500, False),  # its conflicts are an entry of their own
        ("http.p99<=200ms", 110, True),
        ("lost==0", 2, False),
        ("lost<=0.5%", 0.002, True),
        ("errors<=0.1%", 0.002, False),  # the 503 and the not_found outcome
        ("errors<=2", 2, True),
        ("conflicts>=30", 30, True),
        # nothing measured is not a pass
        ("notify.delete.p99<=1s", None, False),
    ]


def test_rates_are_per_second_of_the_run(summary: LoadSummary) -> None:
    for second in range(100, 110):
        summary.timeline.count(second, "notified", 5)
    (result,) = evaluate([parse_slo("notified/s>=4")], summary.measure)
    assert result.measured == 5.0 and result.met
