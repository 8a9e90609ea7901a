"""The state file's contract (crudops_local/state.py): what `local up` writes is what
the `--local` commands read back, and a missing, garbled or stale file is one error
with a hint, not a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crudops_local.errors import ConfigurationError
from crudops_local.state import (
    LocalStackState,
    ResourceState,
    StateFileError,
    remove_state,
    trace_index_of,
    write_state,
)
from crudops_local.xray.index import TraceIndex, read_index


def _state(**overrides: object) -> LocalStackState:
    fields: dict[str, object] = dict(
        stack="Crudops-local-abc123", region="eu-west-1", aws_endpoint="http://127.0.0.1:5000",
        physical={"Queue": ResourceState("AWS::SQS::Queue", "http://q/1",
                                         {"QueueName": "q", "Arn": "arn:aws:sqs:::q"})},
        target_kind="emulator", placeholder_credentials=False,
        service_endpoints={"dynamodb": "http://127.0.0.1:8000"},
        rest_url="http://127.0.0.1:9/v1", ws_url="ws://127.0.0.1:9/live",
        log_dir=Path("/tmp/logs"), trace_index=trace_index_of(Path("/tmp/logs")),
        template=Path("cdk.out/Crudops.template.json"), account_id="111122223333",
        pid=None, metrics=True, percentiles_url="http://127.0.0.1:7/percentiles")
    fields.update(overrides)
    return LocalStackState(**fields)  # type: ignore[arg-type]


def test_what_is_written_is_read_back(tmp_path: Path) -> None:
    # GIVEN a state with every field away from its default
    state = _state()
    path = tmp_path / ".crudops" / "local-stack.json"
    # WHEN it is written and read back
    write_state(path, state)
    # THEN it is the same state, and no temporary file is left beside it
    assert LocalStackState.read(path) == state
    assert [p.name for p in path.parent.iterdir()] == ["local-stack.json"]


def test_the_running_writer_is_not_stale_and_its_file_is_its_own_to_remove(
        tmp_path: Path) -> None:
    import os

    path = tmp_path / "local-stack.json"
    write_state(path, _state(pid=os.getpid()))
    assert LocalStackState.read(path).pid == os.getpid()
    remove_state(path, os.getpid() + 1)  # another stack's stop leaves it
    assert path.is_file()
    remove_state(path, os.getpid())
    assert not path.exists()


def test_a_file_written_before_newer_keys_takes_their_defaults(tmp_path: Path) -> None:
    path = tmp_path / "local-stack.json"
    path.write_text(json.dumps({"region": "us-east-1", "aws_endpoint": None,
                                "resources": {}}))
    state = LocalStackState.read(path)
    assert (state.stack, state.embedded, state.own_alarms, state.pid) == (
        "local", True, True, None)
    assert state.trace_index_path == trace_index_of(state.log_dir)


def test_a_missing_file_says_how_to_start_a_stack(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="no running local stack") as caught:
        LocalStackState.read(tmp_path / "local-stack.json")
    assert isinstance(caught.value, ConfigurationError)  # the CLI prints it as one line
    assert "crudops local up" in caught.value.hint


def test_a_garbled_file_says_to_restart(tmp_path: Path) -> None:
    path = tmp_path / "local-stack.json"
    path.write_text('{"region": "us-east-1", "resources": {"Q": "not an object"}}')
    with pytest.raises(StateFileError, match="not a local stack description") as caught:
        LocalStackState.read(path)
    assert "restart" in caught.value.hint


def test_the_file_of_a_stack_that_no_longer_runs_is_stale(tmp_path: Path) -> None:
    # GIVEN the state file of a stack whose process has ended (killed: nothing removed it)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    path = tmp_path / "local-stack.json"
    write_state(path, _state(pid=int(ended.stdout)))
    # WHEN a command reads it THEN it is told the stack is gone, and how to clean up
    with pytest.raises(StateFileError, match=r"\(process \d+\) is not running") as caught:
        LocalStackState.read(path)
    assert "crudops local down" in caught.value.hint


def test_the_trace_index_reads_what_it_wrote_and_skips_a_torn_line(tmp_path: Path) -> None:
    path = trace_index_of(tmp_path)
    index = TraceIndex(path)
    index.add("req-1", "1-a")
    index.add("req-2", "1-b")
    index.add("req-1", "1-c")
    index.add("req-1", "1-a")  # seen: not written twice
    with path.open("a") as file:
        file.write('{"requestId": "req-1", "traceId"')  # a writer cut short
    assert read_index(path, "req-1") == ["1-a", "1-c"]
    assert len(path.read_text().splitlines()) == 4
    assert read_index(tmp_path / "none.jsonl", "req-1") == []
