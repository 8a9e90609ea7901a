"""Runbooks: the index, the pages and the `crudops` commands they tell people to run.

The link from each synthesized alarm to its page is checked in
`tests/infra/test_observability.py`; this file checks the pages against the index
(which lists every alarm) and runs every `crudops` command line of a page as
`--help`, so a page cannot send an operator to a command or option that does not exist.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dashboards.alarms import Runbook
from tests.support.runbook_blocks import (
    defined_variables,
    shell_blocks,
    used_variables,
    without_heredoc_bodies,
)
from tools.cli import app

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
INDEX_ROW = re.compile(r"^\| `(?P<alarm>Crudops-[a-z0-9-]+)` \| (?P<severity>critical|warning) "
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


# --- every block runs as pasted: variables defined first, commands that exist ---------
def _shell_blocks_per_page() -> dict[str, list[str]]:
    return {name: shell_blocks(text) for name, text in _pages().items()}


def test_the_block_parsers_read_definitions_and_uses_as_bash_does() -> None:
    block = textwrap.dedent("""\
        export STACK=Crudops; QUEUE_URL=$(crudops x) && for ITEM in a b; do echo "$ITEM"; done
        python - <<'PY'
        print("$NOT_EXPANDED")
        PY
        echo '$ALSO_NOT' "${USED}" $QUEUE_URL
        """)
    assert defined_variables(block) == {"STACK", "QUEUE_URL", "ITEM"}
    assert used_variables(block) == {"ITEM", "USED", "QUEUE_URL"}


@pytest.mark.parametrize("page", sorted(_pages()))
def test_every_variable_a_block_uses_is_defined_by_an_earlier_block_of_its_page(
        page: str) -> None:
    defined: set[str] = set()
    for block in _shell_blocks_per_page()[page]:
        defined |= defined_variables(block)
        missing = used_variables(block) - defined
        assert not missing, (f"{page}: {sorted(missing)} used before any block of the "
                             f"page defines it:\n{block}")


AWS_CLI_GLOBAL_OPTIONS = frozenset({
    "--endpoint-url", "--region", "--profile", "--output", "--query", "--debug",
    "--no-paginate", "--no-verify-ssl", "--color", "--ca-bundle", "--cli-read-timeout",
    "--cli-connect-timeout", "--cli-input-json", "--generate-cli-skeleton",
    "--max-items", "--starting-token", "--page-size",
})


def _commands(block: str) -> list[list[str]]:
    """The simple commands of a block (split at pipes, lists and substitutions), each
    as its words; a quoted heredoc's body is the program's, not the shell's."""
    commands = []
    for line in without_heredoc_bodies(block).replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in lexer:
            if token and set(token) <= set("|&;()<>"):
                commands.append(words)
                words = []
            else:
                words.append(token)
        commands.append(words)
    return [c for c in commands if c]


def _aws_commands() -> list[tuple[str, list[str]]]:
    """(page, argv after `aws`) of every `aws` command in a shell block."""
    return [(page, words[1:]) for page, blocks in _shell_blocks_per_page().items()
            for block in blocks for words in _commands(block) if words[0] == "aws"]


@pytest.mark.parametrize(("page", "argv"), _aws_commands(),
                         ids=lambda value: " ".join(value) if isinstance(value, list) else value)
def test_every_aws_command_exists_in_the_pip_installable_aws_cli(
        page: str, argv: list[str]) -> None:
    """AWS CLI v1 (`pip install awscli`) builds its commands from botocore's service
    models; what is not there (e.g. v2's `aws logs tail`) is not in the CLI either."""
    import botocore.session
    from botocore import xform_name

    words = [w for w in argv]
    while words and words[0].startswith("--"):  # global options before the service
        words = words[2:]
    service, operation, options = words[0], words[1], words[2:]
    model = botocore.session.get_session().get_service_model(service)
    operations = {xform_name(name, "-"): name for name in model.operation_names}
    assert operation in operations, f"{page}: `aws {service} {operation}` is not a command"
    shape = model.operation_model(operations[operation]).input_shape
    members = {f"--{xform_name(m, '-')}" for m in (shape.members if shape else {})}
    members |= {f"--no-{m.removeprefix('--')}" for m in members}
    for option in (w for w in options if w.startswith("--")):
        assert option in members | AWS_CLI_GLOBAL_OPTIONS, (
            f"{page}: `aws {service} {operation}` has no option {option}")
