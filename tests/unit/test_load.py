"""`crudops load` without running Locust: its options and the command line they make,
reading the scenario's summary, the exit code, and the report's series and page."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from loadtests.timeline import Timeline
from tools.errors import UserError
from tools.load.options import LOCUSTFILE, SHAPE_FILE, LoadOptions, run_seconds
from tools.load.plots import latency_series, per_second, percentile
from tools.load.slo import parse_slo
from tools.load.summary import read_summary
from tools.load.target import LoadTarget

SUMMARY: dict[str, Any] = {
    "exit_code": 1, "started_at": 1000.0, "ended_at": 1010.0, "workers": 2,
    "entries": [
        {"type": "POST", "name": "POST /items", "count": 38, "failures": 0, "p50_ms": 16,
         "p95_ms": 100, "p99_ms": 150, "max_ms": 170, "per_second": 3.881},
        {"type": "NOTIFY", "name": "create", "count": 38, "failures": 2, "p50_ms": 26,
         "p95_ms": 1600, "p99_ms": 1700, "max_ms": 1800, "per_second": 3.881},
        {"type": "E2E", "name": "create", "count": 38, "failures": 2, "p50_ms": 40,
         "p95_ms": 1700, "p99_ms": 1800, "max_ms": 1900, "per_second": 3.881},
        {"type": "NOTIFY", "name": "list", "count": 0, "failures": 0, "p50_ms": None,
         "p95_ms": None, "p99_ms": None, "max_ms": None, "per_second": 0},
    ],
    "aggregates": {"NOTIFY": {"count": 38, "failures": 2, "p50_ms": 26, "p95_ms": 1600,
                              "p99_ms": 1700, "p99.9_ms": 1800, "max_ms": 1800,
                              "per_second": 3.9}},
    "failures": [
        {"type": "NOTIFY", "name": "create", "error": "NotificationLost('lost')",
         "occurrences": 1},
        {"type": "E2E", "name": "create", "error": "NotificationLost('lost')",
         "occurrences": 1},
        {"type": "NOTIFY", "name": "create", "error": "NotificationError('not_found')",
         "occurrences": 1},
    ],
    "exceptions": [],
    "crudops_timeline": {"counts": {"1000": {"offered": 4, "accepted": 4, "late": 2},
                                    "1001": {"notified": 3, "lost": 1}},
                         "notify_ms": {"1001": {"create": [10.0, 20.0, 30.0]}}},
}


def _options(**overrides: Any) -> LoadOptions:
    return LoadOptions("http://127.0.0.1:1/v1", "ws://127.0.0.1:1/live", **overrides)


def test_the_summary_is_the_scenarios_final_statistics(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    summary = read_summary(tmp_path / "summary.json", locust_exit_code=1)
    assert [(r.type, r.name) for r in summary.notifications] == [
        ("NOTIFY", "create"), ("NOTIFY", "list")]
    create = summary.notifications[0]
    assert (create.count, create.failures, create.p50_ms, create.p99_ms) == (38, 2, 26, 1700)
    assert summary.notifications[1].p99_ms is None  # nothing measured, not 0
    assert (summary.commands, summary.lost, summary.failed) == (38, 1, 1)
    assert summary.failures_by_cause() == {"NotificationLost('lost')": 1,
                                           "NotificationError('not_found')": 1}
    assert summary.workers == 2 and summary.seconds == 10
    assert summary.timeline.counts[1001] == {"notified": 3, "lost": 1}
    assert summary.measure(parse_slo("notify.p99.9<=2s")) == 1800
    with pytest.raises(UserError, match="no statistics"):
        read_summary(tmp_path / "missing", locust_exit_code=2)


def test_the_open_loop_command_carries_every_option(tmp_path: Path) -> None:
    options = _options(users=7, rate=25, run_time="2m", notify_timeout_seconds=12,
                       mix="conflict", shared_items=3, processes=2,
                       locust_args=("--tags", "create", "--loglevel", "DEBUG"))
    command = options.command(summary_file=tmp_path / "s.json", csv_prefix=tmp_path / "p",
                              html=tmp_path / "r.html")
    assert command[1:5] == ["-m", "locust", "-f", str(LOCUSTFILE)]
    pairs = dict(itertools.pairwise(command))
    assert (pairs["--host"], pairs["--ws-url"]) == ("http://127.0.0.1:1/v1",
                                                    "ws://127.0.0.1:1/live")
    assert (pairs["--users"], pairs["--spawn-rate"]) == ("7", "7")  # all connected at once
    assert (pairs["--rate"], pairs["--rate-users"], pairs["--run-time"],
            pairs["--schedule-seconds"]) == ("25", "7", "123s", "120")
    assert (pairs["--mix"], pairs["--shared-items"], pairs["--processes"]) == (
        "conflict", "3", "2")
    # after the window: a 202 (30 s at most) and then its notification (12 s)
    assert pairs["--notify-timeout"] == "12" and pairs["--stop-timeout"] == "47"
    assert pairs["--summary-file"] == str(tmp_path / "s.json")
    assert pairs["--csv"] == str(tmp_path / "p") and pairs["--html"] == str(tmp_path / "r.html")
    # the user class, then Locust's own options unchanged (a many-valued one last)
    assert command[-5:] == ["OpenLoopUser", "--tags", "create", "--loglevel", "DEBUG"]
    assert "--headless" in command and LOCUSTFILE.is_file()


def test_a_closed_loop_shape_adds_the_shape_file_and_a_step_sets_the_length(
        tmp_path: Path) -> None:
    options = _options(mode="closed", shape="step", users=3, step_seconds=10, steps=2)
    command = options.command(summary_file=tmp_path / "s", csv_prefix=tmp_path / "p",
                              html=None)
    pairs = dict(itertools.pairwise(command))
    assert pairs["-f"] == f"{LOCUSTFILE},{SHAPE_FILE}" and SHAPE_FILE.is_file()
    assert (pairs["--run-time"], pairs["--users"], pairs["--steps"]) == ("20s", "3", "2")
    assert command[-1] == "CrudUser" and "--html" not in command
    constant = _options(mode="closed").command(summary_file=tmp_path / "s",
                                               csv_prefix=tmp_path / "p", html=None)
    assert dict(itertools.pairwise(constant))["-f"] == str(LOCUSTFILE)


@pytest.mark.parametrize(("change", "message"), [
    ({"users": 0}, "--users"), ({"spawn_rate": 0}, "--spawn-rate"), ({"rate": 0}, "--rate"),
    ({"mode": "half-open"}, "--mode"), ({"mix": "write-only"}, "--mix"),
    ({"run_time": "soon"}, "not a duration"), ({"run_time": ""}, "not a duration"),
    ({"run_time": "0s"}, "above 0"), ({"run_time": "0"}, "above 0"),
    ({"run_time": "1h30"}, "not a duration"), ({"shape": "wave"}, "not one of"),
    ({"shape": "spike", "run_time": "20s"}, "within --run-time"),
    ({"processes": -2}, "--processes"),
    ({"locust_args": ("--users", "5")}, "set by crudops load itself"),
    ({"locust_args": ("--host=http://x",)}, "set by crudops load itself"),
])
def test_bad_options_are_user_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        _options(**change).check()


def test_run_times_are_locusts_durations() -> None:
    assert [run_seconds(t) for t in ("90", "90s", "5m", "1h30m20s")] == [90, 90, 300, 5420]


class _Locust:
    """Locust as a process that writes the given summary (and CSV) and exits."""

    def __init__(self, summary: dict[str, Any] | None, code: int = 1) -> None:
        self.summary, self.code = summary, code

    def __call__(self, command: list[str], **kwargs: Any) -> _Locust:
        pairs = dict(itertools.pairwise(command))
        if self.summary is not None:
            Path(pairs["--summary-file"]).write_text(json.dumps(self.summary))
            Path(pairs["--csv"] + "_stats.csv").write_text("Type,Name\n")
            if "--html" in pairs:
                Path(pairs["--html"]).write_text("<html></html>")
        self.stdout = iter(["Starting Locust 2.47.0\n"])
        return self

    def wait(self) -> int:
        return self.code


def test_the_exit_code_is_the_slos(monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.load.run import do_load

    target = LoadTarget("http://h/v1", "ws://h/live", "test")
    monkeypatch.setattr(subprocess, "Popen", _Locust(SUMMARY))
    lines: list[str] = []
    met = do_load(_options(slos=(parse_slo("notify.create.p50<=1s"),)), target,
                  on_output=lines.append)
    assert met.exit_code == 0 and lines == ["Starting Locust 2.47.0"]
    missed = do_load(_options(slos=(parse_slo("lost==0"), parse_slo("notify.p99<=1s"))),
                     target, on_output=lambda line: None)
    assert missed.exit_code == 1
    assert [(r.measured, r.met) for r in missed.slos] == [(1, False), (1700, False)]
    assert missed.as_json()["slos"][1] == {"slo": "notify.p99<=1s", "measured": 1700.0,
                                           "met": False, "unit": "ms"}
    # the scenario itself raised: something to look at, whatever the SLOs say
    broken = {**SUMMARY, "exceptions": [{"message": "KeyError('requestId')", "count": 1}]}
    monkeypatch.setattr(subprocess, "Popen", _Locust(broken))
    assert do_load(_options(slos=(parse_slo("notify.create.p50<=1s"),)), target,
                   on_output=lambda line: None).exit_code == 1


def test_no_statistics_is_a_user_error_and_an_earlier_runs_files_are_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.load.run import do_load

    (tmp_path / "locust_stats.csv").write_text("Type,Name\n")  # left by an earlier run
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    (tmp_path / "notes.csv").write_text("mine")  # not Locust's: kept
    monkeypatch.setattr(subprocess, "Popen", _Locust(None))  # it crashed before writing
    with pytest.raises(UserError, match="no statistics"):
        do_load(_options(out=tmp_path), LoadTarget("http://h", "ws://h", "t"),
                on_output=lambda line: None)
    assert not (tmp_path / "locust_stats.csv").exists()
    assert not (tmp_path / "summary.json").exists() and (tmp_path / "notes.csv").exists()


def test_out_holds_the_page_the_plots_the_summary_and_locusts_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.load.run import do_load

    monkeypatch.setattr(subprocess, "Popen", _Locust(SUMMARY))
    result = do_load(_options(out=tmp_path, slos=(parse_slo("lost==0"),)),
                     LoadTarget("http://h/v1", "ws://h/live", "given URLs"),
                     on_output=lambda line: None)
    names = {f.name for f in result.files}
    assert names == {"notify_latency.png", "throughput.png", "lost.png", "report.html",
                     "summary.json", "locust.html", "locust_stats.csv"}
    assert all((tmp_path / name).stat().st_size > 0 for name in names)
    page = (tmp_path / "report.html").read_text()
    assert "lost==0" in page and "missed" in page and 'src="throughput.png"' in page
    assert "no queue metrics" in page  # given by URL: said, not drawn empty
    document = json.loads((tmp_path / "summary.json").read_text())
    assert document["lost"] == 1 and document["timeline"]["counts"]["1001"]["lost"] == 1


def test_the_plots_series_come_from_the_timeline() -> None:
    timeline = Timeline()
    timeline.count(1000.5, "offered", 2)
    timeline.count(1003.0, "offered", 1)
    timeline.count(1012.0, "notified", 1)  # after the 10 s window: still drawn
    for value in (10, 20, 30, 40):
        timeline.notified(1001.0, "create", value)
    timeline.notified(1002.0, "get", 5)
    xs, ys = per_second(timeline, "offered", start=1000.2, seconds=10)
    assert xs[0] == 0 and len(xs) == 13 and ys[:4] == [2, 0, 0, 1]
    (create, get) = latency_series(timeline, start=1000.2, seconds=10)
    assert (create.operation, create.at, create.by_percentile[50], create.by_percentile[99]
            ) == ("create", [1.5], [20], [40])
    assert get.at == [2.5]
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == 10
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50) == 5


def test_the_result_prints_each_slo_with_its_measure_or_as_json(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from rich.console import Console

    from tools.load.output import print_load_result
    from tools.load.run import do_load

    monkeypatch.setattr(subprocess, "Popen", _Locust(SUMMARY))
    result = do_load(_options(slos=(parse_slo("notify.p99<=1s"), parse_slo("lost<=5%"))),
                     LoadTarget("http://h/v1", "ws://h/live", "given URLs"),
                     on_output=lambda line: None)
    screen = io.StringIO()
    assert print_load_result(result, False, Console(file=screen, width=120)) == 1
    lines = screen.getvalue().splitlines()
    assert any("notify.p99<=1s" in line and "1,700 ms" in line and "missed" in line
               for line in lines), lines
    assert any("lost<=5%" in line and "2.63 %" in line and "met" in line for line in lines)
    assert any("NotificationLost('lost')" in line for line in lines)  # by cause
    assert any(line.startswith("2 arrivals fired late") for line in lines), lines
    assert print_load_result(result, True) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["exit_code"] == 1 and document["lost"] == 1
    assert [s["met"] for s in document["slos"]] == [False, True]
