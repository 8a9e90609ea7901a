"""Runbooks: the index, the pages and the `crudops` commands they tell people to run.

The link from each synthesized alarm to its page is checked in
`tests/infra/test_observability.py`; this file checks the pages against the index
(which lists every alarm) and runs every `crudops` command line of a page as
`--help`, so a page cannot send an operator to a command or option that does not exist.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dashboards.alarms import Runbook
from tools.cli import app

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
INDEX_ROW = re.compile(r"^\| `(?P<alarm>crudops-[a-z0-9-]+)` \| (?P<severity>critical|warning) "
                       r"\| \[(?P<page>[a-z0-9-]+\.md)\]\((?P=page)\) \|$", re.MULTILINE)
CODE_BLOCK = re.compile(r"```[a-z]*\n(?P<body>.*?)```", re.DOTALL)


def _index() -> dict[str, str]:
    rows = {m["alarm"]: m["page"] for m in INDEX_ROW.finditer((RUNBOOKS / "README.md").read_text())}
    assert rows, "runbooks/README.md lists no alarm"
    return rows


def _pages() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(RUNBOOKS.glob("*.md")) if p.name != "README.md"}


def _names(text: str, alarm: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(alarm)}(?![\w-])", text) is not None


def test_every_indexed_alarm_is_named_on_exactly_its_own_page() -> None:
    pages = _pages()
    for alarm, page in _index().items():
        naming = [name for name, text in pages.items() if _names(text, alarm)]
        assert naming == [page], f"{alarm}: index says {page}, named on {naming}"


def test_every_page_names_an_indexed_alarm_and_is_a_known_family() -> None:
    indexed = _index()
    assert set(_pages()) == {runbook.file_name for runbook in Runbook}
    for name, text in _pages().items():
        assert any(_names(text, alarm) for alarm in indexed), f"{name} names no alarm"


@pytest.mark.parametrize("heading", ["## Symptom", "## Impact", "## Dashboard",
                                     "## Diagnosis", "## Remediation", "## Verify",
                                     "## Escalation"])
def test_every_page_has_every_section(heading: str) -> None:
    for name, text in _pages().items():
        assert heading in text, f"{name} lacks {heading}"


def _crudops_commands() -> list[tuple[str, list[str]]]:
    """(page, argv) for each line of a code block that runs `crudops`."""
    commands = []
    for path in sorted(RUNBOOKS.glob("*.md")):
        for block in CODE_BLOCK.finditer(path.read_text()):
            for line in block["body"].splitlines():
                if line.strip().startswith("crudops "):
                    commands.append((path.name, shlex.split(line.strip())[1:]))
    return commands


def test_runbooks_do_use_crudops_commands() -> None:
    assert len(_crudops_commands()) >= 5


@pytest.mark.parametrize(("page", "argv"), _crudops_commands(),
                         ids=lambda value: " ".join(value) if isinstance(value, list) else value)
def test_every_crudops_command_in_a_runbook_exists(page: str, argv: list[str]) -> None:
    subcommand = []
    for word in argv:
        if word.startswith("-"):
            break
        subcommand.append(word)
    result = CliRunner().invoke(app, [*subcommand, "--help"])
    assert result.exit_code == 0, f"{page}: `crudops {' '.join(subcommand)}`: {result.output}"
    for option in (word.split("=")[0] for word in argv if word.startswith("--")):
        assert option in result.output, f"{page}: `crudops {' '.join(argv)}`: no {option}"
