"""`crudops status`: the report's verdict, its inputs and the command's exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tools import status as status_module
from tools.cli import app
from tools.errors import USER_ERROR_EXIT_CODE, UserError
from tools.status import (
    AlarmStatus,
    FunctionStatus,
    QueueStatus,
    StatusReport,
    do_status,
    print_report,
)


def _queue(name: str, *, is_dlq: bool, visible: int = 0, in_flight: int = 0,
           delayed: int = 0) -> QueueStatus:
    return QueueStatus(logical_id=name, name=name, url=f"http://sqs/{name}", is_dlq=is_dlq,
                       visible=visible, in_flight=in_flight, delayed=delayed,
                       oldest_age_seconds=None, age_note=status_module.NO_LOCAL_METRICS)


def _report(*queues: QueueStatus, alarms: tuple[AlarmStatus, ...] = ()) -> StatusReport:
    return StatusReport(target="t", minutes=15, queues=list(queues), alarms=list(alarms),
                        functions=[FunctionStatus("Fn", "fn", None, "n/a")])


def test_all_clear_exits_0_even_with_a_busy_queue() -> None:
    report = _report(_queue("work", is_dlq=False, visible=500), _queue("dlq", is_dlq=True),
                     alarms=(AlarmStatus("crudops-x", "OK", ""),))
    assert report.problems == [] and report.exit_code == 0


@pytest.mark.parametrize("depth", [{"visible": 1}, {"in_flight": 1}, {"delayed": 1}])
def test_a_dlq_holding_any_message_exits_1(depth: dict[str, int]) -> None:
    report = _report(_queue("dlq", is_dlq=True, **depth))
    assert report.exit_code == 1
    assert report.problems == ["DLQ dlq holds 1 message(s)"]


def test_an_alarm_in_alarm_exits_1() -> None:
    report = _report(alarms=(AlarmStatus("crudops-a", "ALARM", "Threshold crossed"),
                             AlarmStatus("crudops-b", "INSUFFICIENT_DATA", "")))
    assert report.problems == ["alarm crudops-a is in ALARM"]


def test_json_is_plain_data() -> None:
    report = _report(_queue("dlq", is_dlq=True, visible=2))
    data = json.loads(json.dumps(report.as_json()))
    assert data["queues"][0]["total"] == 2 and data["problems"]


def test_table_output_names_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    print_report(_report(_queue("dlq", is_dlq=True, visible=3)),
                 console=Console(width=200, force_terminal=False))
    out = capsys.readouterr().out
    assert "dlq" in out and "PROBLEM DLQ dlq holds 3 message(s)" in out and "n/a" in out


@pytest.mark.parametrize("kwargs", [{}, {"stack": "Crudops", "local": True}])
def test_exactly_one_target(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UserError, match="exactly one"):
        do_status(**kwargs)


def test_cli_exit_codes_follow_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    reports = iter([_report(), _report(_queue("dlq", is_dlq=True, visible=1))])
    monkeypatch.setattr(status_module, "do_status", lambda **_: next(reports))
    assert CliRunner().invoke(app, ["status", "--local", "--json"]).exit_code == 0
    failing = CliRunner().invoke(app, ["status", "--local", "--json"])
    assert failing.exit_code == 1
    assert json.loads(failing.stdout)["problems"] == ["DLQ dlq holds 1 message(s)"]


def test_cli_user_error_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .crudops/local-stack.json here
    result = CliRunner().invoke(app, ["status", "--local"])
    assert result.exit_code == USER_ERROR_EXIT_CODE
    assert "crudops local up" in result.stderr


def test_help_explains_why_local_age_is_not_available() -> None:
    result = CliRunner().invoke(app, ["status", "--help"])
    assert result.exit_code == 0
    assert "n/a" in result.stdout


def test_long_queue_names_are_folded_never_cut_on_a_narrow_terminal() -> None:
    import io
    import re

    from rich.console import Console

    from tools.status import QueueStatus, StatusReport, print_report

    name = "Crudops-MessagingCreateSubscriptionDlq7D1D11F3"
    output = io.StringIO()
    print_report(StatusReport("local", 15, [QueueStatus("L", name, "u", True, 1, 0, 0, 3.0)]),
                 Console(file=output, width=80))

    first_column = "".join(
        re.split(r"[│┃]", line)[1].strip() for line in output.getvalue().splitlines()
        if line.startswith("│")
    )
    assert name in first_column
    assert "…" not in output.getvalue()


def test_problems_only_keeps_what_is_worth_a_look(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    report = StatusReport(
        target="t", minutes=15,
        queues=[_queue("busy-queue", is_dlq=False, visible=9),
                _queue("empty-dlq", is_dlq=True), _queue("full-dlq", is_dlq=True, visible=1)],
        alarms=[AlarmStatus("crudops-quiet", "OK", ""),
                AlarmStatus("crudops-loud", "ALARM", "Threshold Crossed")],
        functions=[FunctionStatus("A", "fn-healthy", 0, failed_records=0.0),
                   FunctionStatus("B", "fn-failing", 0, failed_records=4.0,
                                  short_name="create")])

    print_report(report, console=Console(width=200, force_terminal=False),
                 problems_only=True)

    out = capsys.readouterr().out
    for shown in ("full-dlq", "crudops-loud", "fn-failing", "create"):
        assert shown in out, shown
    for hidden in ("busy-queue", "empty-dlq", "crudops-quiet", "fn-healthy"):
        assert hidden not in out, hidden


def test_failed_records_show_beside_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    report = StatusReport(target="t", minutes=15, functions=[
        FunctionStatus("B", "fn", 0, failed_records=4.0, short_name="create")])
    print_report(report, console=Console(width=200, force_terminal=False))
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if "failed records" in line)
    row = next(line for line in lines if " fn " in line)
    cells = [cell.strip() for cell in row.strip("│┃ ").split("│")]
    assert "errors (15 min)" in header and "failed records (15 min)" in header
    assert cells == ["fn", "create", "0", "4"]
    assert report.as_json()["functions"][0]["failed_records"] == 4.0
    assert report.as_json()["functions"][0]["failing"] is True


def test_watch_redraws_until_stopped_and_survives_a_failed_refresh() -> None:
    reports = iter([_report(), _report(_queue("dlq", is_dlq=True, visible=1))])
    calls = {"n": 0}

    def fetch() -> StatusReport:
        calls["n"] += 1
        if calls["n"] == 2:
            raise UserError("the endpoint does not answer")
        return next(reports)

    shown: list[tuple[int, str]] = []
    waits = iter([False, False, True])
    code = status_module.watch_reports(
        fetch, interval_seconds=1, show=lambda r, note: shown.append((r.exit_code, note)),
        wait=lambda seconds: next(waits))
    # THEN the failed refresh kept the last report with a note, the next one showed
    # the DLQ, and the exit code is the last report's
    assert shown == [(0, ""), (0, "refresh failed: error: the endpoint does not answer"),
                     (1, "")]
    assert code == 1


def test_watch_lets_a_wrong_target_fail_at_once() -> None:
    def fetch() -> StatusReport:
        raise UserError("no running local stack")

    with pytest.raises(UserError):
        status_module.watch_reports(fetch, interval_seconds=1, show=lambda r, n: None,
                                    wait=lambda seconds: True)


def test_a_dlq_carries_the_short_name_crudops_dlq_and_the_runbooks_use(
        capsys: pytest.CaptureFixture[str]) -> None:
    dlq = QueueStatus(logical_id="MessagingCreateConsumerDlqE57F5DC0",
                      name="Crudops-MessagingCreateConsumerDlqE57F5DC0-x1", url="u",
                      is_dlq=True, visible=1, in_flight=0, delayed=0, oldest_age_seconds=None)
    report = StatusReport("local", 15, [dlq])
    assert report.as_json()["queues"][0]["short_name"] == "create-consumer-dlq"
    print_report(report)
    assert "create-consumer-dlq" in capsys.readouterr().out
