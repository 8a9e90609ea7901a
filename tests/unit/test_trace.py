"""`crudops trace`: its user errors (exit 2) and its help."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tools.cli import app
from tools.errors import USER_ERROR_EXIT_CODE, UserError
from tools.trace import do_trace


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
    with pytest.raises(UserError, match="no running local stack"):
        do_trace("abc", local=True, local_state_file=tmp_path / "missing.json")


def test_help_names_the_sources() -> None:
    result = CliRunner().invoke(app, ["trace", "--help"])
    assert result.exit_code == 0
    for word in ("outcome", "X-Ray", "log lines", "--local", "--stack", "--json"):
        assert word in result.stdout
