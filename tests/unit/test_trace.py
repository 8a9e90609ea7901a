"""`crudops trace`: its user errors (exit 2), its help, its rows in time order and its
log records shown whole."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from crudops_local.state import StateFileError
from tools.cli import app
from tools.errors import USER_ERROR_EXIT_CODE
from tools.logs.records import LogRecord
from tools.trace import Span, TraceReport, do_trace, print_report, with_queue_waits

REQUEST_ID = "0b6c3f0e-1111-4c1b-9b7e-3c1d2e4f5a6b"


@pytest.mark.parametrize("arguments", [
    ["trace", "abc"],  # neither --stack nor --local
    ["trace", "abc", "--local", "--stack", "Crudops"],
    ["trace", "not a request id!", "--local"],
    ["trace", "abc", "--local", "--hours", "0"],
])
def test_user_errors_exit_2(arguments: list[str], tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == USER_ERROR_EXIT_CODE, result.output


def test_no_local_stack_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="no running local stack"):
        do_trace("abc", local=True, local_state_file=tmp_path / "missing.json")


def test_help_names_the_sources() -> None:
    result = CliRunner().invoke(app, ["trace", "--help"])
    assert result.exit_code == 0
    for word in ("outcome", "X-Ray", "log lines", "--local", "--stack", "--json"):
        assert word in result.stdout


def test_rows_come_out_in_time_order_with_each_queue_wait_where_it_starts() -> None:
    # GIVEN Create sending at 100.10-100.15, a DynamoDB call at 100.16, Notify at 100.50
    trace = "1-6743a000-0123456789abcdef01234567"
    spans = [
        Span("create", "AWS::Lambda::Function", trace, "a", None, 100.0, 100.3),
        Span("SQS", "aws", trace, "send", "a", 100.1, 100.15, operation="SendMessage"),
        Span("DynamoDB", "aws", trace, "db", "a", 100.16, 100.2),
        Span("notify", "AWS::Lambda::Function", trace, "b", None, 100.5, 100.6),
    ]

    rows = with_queue_waits(spans)

    # THEN the message's wait starts when it was sent, before the DynamoDB call
    assert [s.name for s in rows] == ["create", "SQS", "queue wait", "DynamoDB", "notify"]
    assert [s.start for s in rows] == sorted(s.start for s in rows)


def test_log_records_are_printed_whole_with_their_traceback() -> None:
    message = "failed: " + "x" * 400
    record = LogRecord(time=datetime(2026, 12, 1, 9, 0, tzinfo=UTC), level="WARNING",
                       request_id=REQUEST_ID, message=message, source="create",
                       detail="Traceback (most recent call last):\nValueError: " + "y" * 200)
    report = TraceReport(REQUEST_ID, "local", None, [], [], [record])
    out = io.StringIO()

    print_report(report, Console(file=out, width=80))

    printed = out.getvalue().splitlines()
    assert any(line.startswith("create  2026-12-01T09:00:00.000Z  WARNING")
               and line.endswith(message) for line in printed), printed
    assert "    ValueError: " + "y" * 200 in printed
