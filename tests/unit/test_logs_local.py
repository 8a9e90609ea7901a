"""`crudops logs --local`: a function's log file read once and followed (rotation,
truncation), the filters, the names, the exit codes; no stack runs, only its state
file and log files are written."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crudops_local.state import StateFileError
from tools.cli import app
from tools.errors import USER_ERROR_EXIT_CODE, UserError
from tools.logs.commands import do_logs, parse_since
from tools.logs.local_files import LogFileFollower, read_log_file
from tools.logs.records import LogRecord

REQUEST_ID = "0b6c3f0e-1111-4c1b-9b7e-3c1d2e4f5a6b"
OTHER_ID = "aaaaaaaa-1111-4c1b-9b7e-3c1d2e4f5a6b"
CREATE = "crudops-local-WorkersCreateHandlerFunc-1a2b3c"
FUNCTIONS = {
    "WorkersCreateHandlerFunctionBF4B914A": CREATE,
    "WorkersUpdateDeleteHandlerFunction2B2BC078": "crudops-local-WorkersUpdateDelete-4d5e",
    "WebSocketWsConnectFunctionA8EC5B2B": "crudops-local-WebSocketWsConnect-7f8a",
}


def _record(message: str, *, level: str = "INFO", request_id: str = REQUEST_ID,
            at: datetime | None = None, **keys: object) -> str:
    at = at or datetime.now(UTC)
    return json.dumps({"level": level, "message": message,
                       "timestamp": at.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3] + "+0000",
                       "service": "crudops", "correlation_id": request_id, **keys})


@pytest.fixture
def stack_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory as `crudops local up` leaves it: the state file and the log dir."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".crudops" / "logs").mkdir(parents=True)
    (tmp_path / ".crudops" / "local-stack.json").write_text(json.dumps({
        "stack": "crudops-local", "region": "us-east-1",
        "aws_endpoint": "http://127.0.0.1:1", "log_dir": ".crudops/logs",
        "resources": {logical_id: {"type": "AWS::Lambda::Function", "ref": name}
                      for logical_id, name in FUNCTIONS.items()},
    }))
    return tmp_path


def _log(stack_dir: Path, *lines: str, function: str = CREATE) -> Path:
    path = stack_dir / ".crudops" / "logs" / f"{function}.log"
    with path.open("a") as file:
        file.writelines(line + "\n" for line in lines)
    return path


def _shown(**options: object) -> tuple[list[LogRecord], int]:
    records: list[LogRecord] = []
    report = do_logs(str(options.pop("function", "create")), local=True,
                     local_state_file=Path(".crudops/local-stack.json"),
                     on_record=records.append, **options)  # type: ignore[arg-type]
    return records, report.exit_code


# --- one read -----------------------------------------------------------------------------
def test_the_short_name_reads_that_functions_file_with_its_text_lines(stack_dir: Path) -> None:
    _log(stack_dir, _record("command answered"), "a stray print")
    _log(stack_dir, _record("not this function"), function=FUNCTIONS[
        "WorkersUpdateDeleteHandlerFunction2B2BC078"])

    records, exit_code = _shown()

    assert [r.message for r in records] == ["command answered", "a stray print"]
    assert exit_code == 0


@pytest.mark.parametrize("name", ["create", "WorkersCreateHandlerFunctionBF4B914A", CREATE])
def test_a_function_is_found_by_short_name_logical_id_or_physical_name(
        stack_dir: Path, name: str) -> None:
    _log(stack_dir, _record("found"))
    records, _ = _shown(function=name)
    assert [r.message for r in records] == ["found"]


def test_an_unknown_function_is_a_user_error_listing_the_names(stack_dir: Path) -> None:
    with pytest.raises(UserError) as raised:
        _shown(function="creat")
    assert raised.value.hint == "one of create, update-delete, ws-connect"


def test_request_id_level_and_since_choose_the_records(stack_dir: Path) -> None:
    old = datetime(2026, 1, 1, tzinfo=UTC)
    _log(stack_dir, _record("long ago", at=old), _record("answered"),
         _record("failed", level="WARNING", exception="Traceback ...\nValueError: x"),
         _record("another request", level="ERROR", request_id=OTHER_ID))

    assert [r.message for r in _shown(request_id=REQUEST_ID)[0]] == ["answered", "failed"]
    assert [r.message for r in _shown(level="warning")[0]] == ["failed", "another request"]
    assert [r.message for r in _shown(since="2025-12-31T00:00")[0]] == [
        "long ago", "answered", "failed", "another request"]


def test_nothing_matched_exits_1(stack_dir: Path) -> None:
    _log(stack_dir, _record("answered"))
    records, exit_code = _shown(request_id=OTHER_ID)
    assert (records, exit_code) == ([], 1)


def test_a_function_that_never_ran_has_no_file_and_exits_1(stack_dir: Path) -> None:
    assert _shown(function="ws-connect") == ([], 1)


@pytest.mark.parametrize("options", [
    {"since": "yesterday"}, {"level": "LOUD"}, {"request_id": 'x" OR "y'},
])
def test_bad_options_are_user_errors(stack_dir: Path, options: dict[str, str]) -> None:
    with pytest.raises(UserError):
        _shown(**options)


def test_no_local_stack_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StateFileError, match="no running local stack"):
        _shown()


def test_since_takes_durations_and_iso_times() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert parse_since("10m", now) == datetime(2026, 12, 1, 11, 50, tzinfo=UTC)
    assert parse_since("2h", now) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert parse_since("1d", now) == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert parse_since("2026-12-01T09:30", now) == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert parse_since("2026-12-01T09:30:00+01:00", now) == datetime(
        2026, 12, 1, 8, 30, tzinfo=UTC)


# --- following --------------------------------------------------------------------------------
def test_follow_shows_what_is_appended_after_it_started(stack_dir: Path) -> None:
    path = _log(stack_dir, _record("before"))
    appended: list[str] = []

    def sleep(seconds: float) -> None:
        # While "sleeping", a worker writes: first a line, then nothing more.
        if not appended:
            appended.append("after")
            _log(stack_dir, _record("after"))

    records: list[LogRecord] = []
    report = do_logs("create", local=True, local_state_file=Path(".crudops/local-stack.json"),
                     on_record=records.append, follow=True, sleep=sleep,
                     stop=lambda: len(records) >= 2 or len(appended) > 5)

    assert [r.message for r in records] == ["before", "after"]
    assert report.exit_code == 0 and path.is_file()


def test_follower_waits_for_a_whole_line_and_a_file_that_does_not_exist_yet(
        tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    follower = LogFileFollower(path)
    assert follower.read_existing() == []
    with path.open("a") as file:
        file.write(_record("half")[:20])
    assert follower.read_new() == []
    with path.open("a") as file:
        file.write(_record("half")[20:] + "\n")
    assert [r.message for r in follower.read_new()] == ["half"]


def test_follower_reads_a_truncated_file_again_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_text(_record("one") + "\n" + _record("two") + "\n")
    follower = LogFileFollower(path)
    assert [r.message for r in follower.read_existing()] == ["one", "two"]

    path.write_text(_record("three") + "\n")  # truncated in place, shorter

    assert [r.message for r in follower.read_new()] == ["three"]


def test_follower_finishes_a_rotated_file_then_reads_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_text(_record("one") + "\n")
    follower = LogFileFollower(path)
    assert [r.message for r in follower.read_existing()] == ["one"]
    with path.open("a") as file:
        file.write(_record("last of the old file") + "\n")
    os.rename(path, tmp_path / "f.log.1")
    path.write_text(_record("first of the new file") + "\n")

    assert [r.message for r in follower.read_new()] == [
        "last of the old file", "first of the new file"]


def test_a_traceback_being_followed_is_shown_once_its_writer_is_idle(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_text("")
    follower = LogFileFollower(path)
    follower.read_existing()
    path.write_text("Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                    "ValueError: boom\n")

    first = follower.read_new()
    later = follower.read_new()

    assert [r.message for r in first + later] == ["ValueError: boom"]
    assert (first + later)[0].time_inferred


def test_read_log_file_keeps_a_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_text(_record("whole") + "\nkilled mid-li")
    assert [r.message for r in read_log_file(path)] == ["whole", "killed mid-li"]


# --- the command ------------------------------------------------------------------------------
def test_cli_prints_one_line_per_record_with_the_traceback_beneath(stack_dir: Path) -> None:
    _log(stack_dir, _record("failed", level="WARNING", receive_count=3,
                            exception="Traceback (most recent call last):\nValueError: x"))

    result = CliRunner().invoke(app, ["logs", "create", "--local"])

    assert result.exit_code == 0, result.output
    first, *beneath = result.stdout.splitlines()
    assert first.split()[1:4] == ["WARNING", REQUEST_ID, "failed"]
    assert first.endswith("receive_count=3")
    assert beneath == ["    Traceback (most recent call last):", "    ValueError: x"]


def test_cli_json_prints_one_object_per_record(stack_dir: Path) -> None:
    _log(stack_dir, _record("answered", operation="create"), "a print")

    result = CliRunner().invoke(app, ["logs", "create", "--local", "--json"])

    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["level"], o["requestId"], o["message"]) for o in objects] == [
        ("INFO", REQUEST_ID, "answered"), (None, None, "a print")]
    assert objects[0]["fields"]["operation"] == "create"
    assert objects[1]["timeInferred"] is True


@pytest.mark.parametrize(("arguments", "exit_code"), [
    (["logs", "create"], USER_ERROR_EXIT_CODE),  # neither --stack nor --local
    (["logs", "nope", "--local"], USER_ERROR_EXIT_CODE),
    (["logs", "create", "--local", "--since", "soon"], USER_ERROR_EXIT_CODE),
    (["logs", "create", "--local", "--level", "LOUD"], USER_ERROR_EXIT_CODE),
    (["logs", "create", "--local", "--request-id", OTHER_ID], 1),
])
def test_cli_exit_codes(stack_dir: Path, arguments: list[str], exit_code: int) -> None:
    _log(stack_dir, _record("answered"))
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output


def test_help_has_an_example_and_names_the_options() -> None:
    result = CliRunner().invoke(app, ["logs", "--help"])
    assert result.exit_code == 0
    for word in ("Example: crudops logs", "--request-id", "--since", "--follow", "--level",
                 "--json", "update-delete"):
        assert word in result.stdout


def test_records_of_workers_sharing_a_file_come_out_in_time_order(stack_dir: Path) -> None:
    first = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
    second = datetime(2026, 12, 1, 9, 0, 1, tzinfo=UTC)
    # The worker that logged second wrote its line first.
    _log(stack_dir, _record("second", at=second), _record("first", at=first))

    records, _ = _shown(since="2026-12-01T08:00")

    assert [r.message for r in records] == ["first", "second"]
