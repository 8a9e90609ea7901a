"""Reading function log records (tools/logs/records.py) and showing them
(tools/logs/format.py): Powertools' own JSON, EMF metrics, text lines and tracebacks."""

from __future__ import annotations

import functools
import io
import json
import traceback
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from aws_lambda_powertools import Logger

from tools.logs.format import format_record
from tools.logs.records import (
    LogRecord,
    RecordFilter,
    date_undated,
    level_number,
    parse_lines,
    parse_record,
)

REQUEST_ID = "0b6c3f0e-1111-4c1b-9b7e-3c1d2e4f5a6b"
MESSAGE_ID = "5fea7756-0ea4-451a-a703-a558b933e274"


@functools.cache
def _powertools_records() -> tuple[str, ...]:
    """What the handlers' Logger writes: an INFO record, and a WARNING with the
    exception of a failed record (functions/worker.py's per-record failure log).

    Made once: Powertools keeps the first stream of a service's logger."""
    stream = io.StringIO()
    logger = Logger(service="crudops-logs-test", level="INFO", stream=stream)
    logger.set_correlation_id(REQUEST_ID)
    logger.append_keys(operation="create")
    logger.info("command answered", status="success")
    try:
        try:
            raise KeyError("name")
        except KeyError as exc:
            raise ValueError("the command has no name") from exc
    except ValueError as exc:
        logger.warning("record failed; it will be retried", exc_info=exc,
                       receive_count=2, message_id=MESSAGE_ID)
    return tuple(stream.getvalue().splitlines())


def _powertools_lines() -> list[str]:
    return list(_powertools_records())


def _runner_traceback() -> list[str]:
    """A handler's exception as the local runner writes it to stderr (several lines)."""
    try:
        try:
            {}["missing"]
        except KeyError:
            raise RuntimeError("the handler failed") from None
    except RuntimeError as exc:
        return "".join(traceback.format_exception(exc)).splitlines()
    raise AssertionError("unreachable")


def test_a_powertools_record_gives_its_time_level_request_id_message_and_exception() -> None:
    info, warning = (parse_record(line, source="f.log") for line in _powertools_lines())

    assert (info.level, info.request_id, info.message) == ("INFO", REQUEST_ID,
                                                           "command answered")
    assert info.time is not None and abs(info.time - datetime.now(UTC)) < timedelta(minutes=1)
    assert not info.time_inferred
    assert warning.level == "WARNING"
    assert warning.detail.startswith("Traceback (most recent call last):")
    assert warning.detail.splitlines()[-1] == "ValueError: the command has no name"
    assert warning.fields["message_id"] == MESSAGE_ID


def test_a_failed_record_shows_as_one_line_with_its_keys_and_the_traceback_beneath() -> None:
    warning = parse_record(_powertools_lines()[1], source="f.log")

    first, *beneath = format_record(warning)

    assert first.split()[1:4] == ["WARNING", REQUEST_ID, "record"]
    assert first.endswith("operation=create receive_count=2 message_id=" + MESSAGE_ID)
    # Keys every record carries stay out of the line.
    for noise in ("service=", "location=", "exception", "stack_trace", "correlation_id"):
        assert noise not in first
    assert beneath[0] == "    Traceback (most recent call last):"
    assert beneath[-1] == "    ValueError: the command has no name"
    assert all(line.startswith("    ") or not line for line in beneath)
    # The chained KeyError is in it: the traceback is whole.
    assert any("KeyError: 'name'" in line for line in beneath)


def test_the_request_id_key_names_a_record_without_a_correlation_id() -> None:
    record = parse_record(json.dumps({"level": "ERROR", "message": "poison",
                                      "requestId": MESSAGE_ID}), source="g")
    assert record.request_id == MESSAGE_ID
    assert "requestId=" not in format_record(record)[0]


def test_text_lines_are_kept_and_a_runner_traceback_is_one_error_record() -> None:
    lines = ["a stray print", *_runner_traceback(), _powertools_lines()[0], "after it"]

    records = list(parse_lines(lines, "f.log"))

    assert [r.message for r in records] == [
        "a stray print", "RuntimeError: the handler failed", "command answered", "after it"]
    stray, failure, _, after = records
    assert stray.level is None and after.level is None
    assert failure.level == "ERROR"
    assert failure.detail.splitlines() == _runner_traceback()


def test_chained_tracebacks_stay_one_record() -> None:
    try:
        try:
            raise KeyError("first")
        except KeyError:
            raise ValueError("second")  # noqa: B904 - the implicit chain is the point
    except ValueError as exc:
        lines = "".join(traceback.format_exception(exc)).splitlines()
    assert "During handling of the above exception, another exception occurred:" in lines

    records = list(parse_lines([*lines, "next"], "f.log"))

    assert [r.message for r in records] == ["ValueError: second", "next"]
    assert "KeyError: 'first'" in records[0].detail


def test_lambda_platform_lines_and_runtime_errors_of_a_cloudwatch_event() -> None:
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    start = parse_record("START RequestId: 8f5e Version: $LATEST", source="g", time=at)
    error = parse_record("[ERROR] ValueError: boom\nTraceback (most recent call last):\n"
                         '  File "/var/task/x.py", line 1\n', source="g", time=at)

    assert (start.level, start.time, start.message) == (None, at, start.text)
    assert error.level == "ERROR" and error.message == "[ERROR] ValueError: boom"
    assert format_record(error)[1:] == ["    Traceback (most recent call last):",
                                        '      File "/var/task/x.py", line 1']


def test_emf_metrics_are_one_line_naming_their_values() -> None:
    line = json.dumps({"_aws": {"Timestamp": 1796115600000, "CloudWatchMetrics": [
        {"Namespace": "crudops", "Dimensions": [["operation", "service"]],
         "Metrics": [{"Name": "CommandSucceeded", "Unit": "Count"}]}]},
        "operation": "create", "service": "crudops", "CommandSucceeded": [1.0]})

    record = parse_record(line, source="f.log")

    assert record.time == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert record.message == "metrics CommandSucceeded=1.0 (operation=create service=crudops)"
    assert format_record(record)[0].endswith(record.message)


def test_a_text_line_is_dated_by_the_record_after_it_or_the_file_change() -> None:
    changed = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    records = date_undated(list(parse_lines(
        ["early print", _powertools_lines()[0], "late print"], "f.log")), changed)

    early, logged, late = records
    assert early.time == logged.time and early.time_inferred
    assert late.time == changed and late.time_inferred
    assert not logged.time_inferred
    assert format_record(early)[0].startswith("~")


@pytest.mark.parametrize(("level", "shown"), [
    ("DEBUG", ["INFO", "WARNING", None]),
    ("INFO", ["INFO", "WARNING", None]),
    ("WARNING", ["WARNING"]),
    ("ERROR", []),
])
def test_level_filter_keeps_that_level_and_above(level: str, shown: list[str | None]) -> None:
    records = [parse_record(line, source="f") for line in _powertools_lines()]
    records.append(parse_record("a print", source="f"))

    chosen = RecordFilter(level=level)

    assert [r.level for r in records if chosen.matches(r)] == shown


def test_request_id_filter_matches_correlation_id_key_or_text() -> None:
    other = "aaaaaaaa-1111-4c1b-9b7e-3c1d2e4f5a6b"
    records = [
        parse_record(_powertools_lines()[0], source="f"),
        parse_record(json.dumps({"level": "INFO", "message": "m", "requestId": other}),
                     source="f"),
        parse_record(f"a print about {other}", source="f"),
        parse_record("unrelated", source="f"),
    ]

    assert [r.message for r in records if RecordFilter(request_id=other).matches(r)] == [
        "m", f"a print about {other}"]
    assert [r.request_id for r in records if RecordFilter(request_id=REQUEST_ID).matches(r)
            ] == [REQUEST_ID]


def test_since_filter_drops_older_records() -> None:
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    old = LogRecord(time=at - timedelta(seconds=1), level="INFO", request_id=None,
                    message="old", source="f")
    new = LogRecord(time=at, level="INFO", request_id=None, message="new", source="f")

    assert [r.message for r in (old, new) if RecordFilter(since=at).matches(r)] == ["new"]


def test_unknown_levels_count_as_info() -> None:
    assert level_number(None) == level_number("INFO") == level_number("NOTICE")
    assert level_number("warn") == level_number("WARNING")


def test_a_python_warning_and_its_source_line_are_one_warning_record() -> None:
    warning = warnings.formatwarning("No application metrics to publish", UserWarning,
                                     "/var/task/base.py", 213, "self.flush_metrics()")
    lines = [*warning.splitlines(), _powertools_lines()[0]]

    records = list(parse_lines(lines, "f.log"))

    assert [r.level for r in records] == ["WARNING", "INFO"]
    assert records[0].detail.strip() == "self.flush_metrics()"
    assert format_record(records[0])[1] == "      self.flush_metrics()"


@pytest.mark.parametrize("line", [
    "2026-12-01T09:00:03.012Z 8f5e1c2a-0000-4000-8000-000000000000 Task timed out after "
    "3.01 seconds",
    "RequestId: 8f5e Error: Runtime exited with error: signal: killed",
    "REPORT RequestId: 8f5e Duration: 3000.00 ms Billed Duration: 3000 ms Memory Size: "
    "256 MB Max Memory Used: 256 MB Status: timeout",
    "[ERROR] Runtime.ImportModuleError: Unable to import module 'functions.create'",
])
def test_lambda_s_own_failure_lines_count_as_errors(line: str) -> None:
    assert parse_record(line, source="g").level == "ERROR"
    assert RecordFilter(level="ERROR").matches(parse_record(line, source="g"))
