"""What the commands print and the exit codes they return, without the CLI: the
`do_…` and print functions tools/cli.py wires up (bench, local down, dlq redrive,
render-dashboard, status --watch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.errors import UserError

BENCH_DEFAULTS = dict(users=32, duration=30.0, backlogs="0,1000", backlog_duration=10.0,
                      grace=30.0, connections=4, pacing="poisson", budget_requests=300,
                      workers=2, drain_timeout=300.0, idle_worker_seconds=10.0,
                      template=None, record_calls=False, command="crudops bench")


def test_bench_options_within_bounds_become_the_run_options() -> None:
    from tools.bench import bench_options

    options = bench_options(**{**BENCH_DEFAULTS, "pacing": "fixed"})  # type: ignore[arg-type]
    assert options.backlogs == (0, 1000) and options.pacing == "fixed"
    assert options.command == "crudops bench"


@pytest.mark.parametrize("change, message", [
    ({"users": 0}, "--users 0 is outside 1..1000"),
    ({"grace": 601.0}, "--grace 601 is outside 0..600"),
    ({"workers": 17}, "--workers 17 is outside 1..16"),
    ({"pacing": "bursty"}, "unknown pacing 'bursty'"),
    ({"backlogs": "x"}, "whole numbers"),
    ({"template": Path("/nonexistent/t.json")}, "does not exist"),
])
def test_bench_options_out_of_bounds_are_user_errors(change: dict[str, object],
                                                     message: str) -> None:
    from tools.bench import bench_options

    with pytest.raises(UserError, match=message):
        bench_options(**{**BENCH_DEFAULTS, **change})  # type: ignore[arg-type]


def test_local_down_prints_one_line_per_stack_and_fails_on_leftovers(
        capsys: pytest.CaptureFixture[str]) -> None:
    from crudops_local.cloudformation.teardown import TeardownReport
    from tools.local.down import DownReport, LedgerOutcome
    from tools.local.output import print_down_report

    left = TeardownReport()
    left.failed["Table"] = "AccessDenied"
    report = DownReport([LedgerOutcome("run-1", "http://127.0.0.1:9", "123", "removed"),
                         LedgerOutcome("run-2", "AWS eu-west-1", "456", "incomplete",
                                       report=left)])
    assert print_down_report(report, as_json=False) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "run-1 (http://127.0.0.1:9, account 123): 0 removed, 0 already gone",
        "run-2 (AWS eu-west-1, account 456): 1 could not be removed"]
    assert "  Table: AccessDenied" in err
    assert print_down_report(DownReport(), as_json=False) == 0
    assert capsys.readouterr().out == "nothing to remove\n"


def test_a_stopped_stack_says_what_it_removed_and_what_it_could_not(
        capsys: pytest.CaptureFixture[str]) -> None:
    from types import SimpleNamespace

    from crudops_local.cloudformation.teardown import TeardownReport
    from tools.local.output import print_stopped

    report = TeardownReport(removed=["Table", "Queue"], already_gone=["Topic"])
    stack = SimpleNamespace(teardown_report=report, pseudo=SimpleNamespace(stack_name="run-1"))
    assert print_stopped(stack) is True  # type: ignore[arg-type]
    assert capsys.readouterr().err == "Removed 3 resources of run-1\n"
    report.failed["Key"] = "AccessDenied"
    assert print_stopped(stack) is False  # type: ignore[arg-type]
    assert "error: 1 resources could not be removed" in capsys.readouterr().err
    assert print_stopped(SimpleNamespace(teardown_report=None)) is True  # type: ignore[arg-type]


def test_a_redrive_that_left_messages_behind_says_which_and_exits_1(
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tools.dlq.discovery import DeadLetterQueue
    from tools.dlq.output import print_redrive
    from tools.dlq.redrive import RedriveReport

    dlq = DeadLetterQueue(logical_id="CreateDlq", name="create-dlq", url="http://q/create-dlq",
                          arn="arn:q", visible=3, in_flight=0, source="queue create",
                          redrive_url="http://q/create")
    report = RedriveReport(run_id="r1", moved=1, failed={"m2": "throttled"}, missing=["r9"])
    assert print_redrive(dlq, report, as_json=False) == 1
    out, err = capsys.readouterr()
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in out.splitlines() if line.count("│") == 3}
    assert rows["moved"] == "1" and rows["failed"] == "1" and rows["to"] == "create"
    assert "  m2: throttled" in err and "requestId r9: no message in create-dlq" in err
    assert print_redrive(dlq, RedriveReport(moved=1), as_json=True) == 0
    assert json.loads(capsys.readouterr().out)["moved"] == 1
    assert print_redrive(dlq, RedriveReport(moved=1, interrupted=True), as_json=True) == 1


def test_a_drifted_dashboard_file_exits_1_with_the_fix(
        capsys: pytest.CaptureFixture[str]) -> None:
    from tools.dashboard_render import RenderResult, print_render_result

    drifted = RenderResult(Path("d.json"), changed=True, written=False)
    assert print_render_result(drifted, check=True) == 1
    assert "run `crudops render-dashboard`" in capsys.readouterr().err
    written = RenderResult(Path("d.json"), changed=True, written=True)
    assert print_render_result(written, check=False) == 0
    assert capsys.readouterr().out == "d.json written\n"


def test_status_watch_interval_is_bounded_before_anything_is_read() -> None:
    from tools.status import do_status_command

    def fetch() -> object:
        raise AssertionError("read before the interval was checked")

    with pytest.raises(UserError) as caught:
        do_status_command(fetch, as_json=True, problems_only=False,  # type: ignore[arg-type]
                          watch=True, interval_seconds=0.5)
    assert str(caught.value) == "--interval 0.5 is not in 1..3600"
