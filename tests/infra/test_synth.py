"""`do_synth` and the `crudops synth` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.stack import STACK_NAME
from tools import synth as synth_module
from tools.cli import app
from tools.errors import USER_ERROR_EXIT_CODE, UserError
from tools.synth import DEFAULT_OUTDIR, SynthResult, do_synth, resolve_outdir, synthesize


def test_synth_honours_cdk_outdir(synthesized: SynthResult, synth_outdir: Path) -> None:
    # The session fixture synthesized with CDK_OUTDIR=synth_outdir and no --out.
    assert synthesized.template == synth_outdir / f"{STACK_NAME}.template.json"
    assert synthesized.stack == STACK_NAME
    template = json.loads(synthesized.template.read_text())
    assert synthesized.resources == len(template["Resources"])
    assert (synth_outdir / "manifest.json").is_file()


@pytest.mark.parametrize(
    ("out", "environ", "expected"),
    [
        (Path("given"), {"CDK_OUTDIR": "from-env"}, Path("given")),
        (None, {"CDK_OUTDIR": "from-env"}, Path("from-env")),
        (None, {"CDK_OUTDIR": ""}, DEFAULT_OUTDIR),
        (None, {}, DEFAULT_OUTDIR),
    ],
)
def test_out_beats_cdk_outdir_beats_default(
    out: Path | None, environ: dict[str, str], expected: Path
) -> None:
    assert resolve_outdir(out, environ) == expected


def test_output_path_that_is_a_file_is_a_user_error(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(UserError, match="is a file") as caught:
        do_synth(a_file, environ={})
    assert caught.value.hint


def test_a_user_error_in_the_synthesis_child_is_the_callers(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(UserError, match="is a file") as caught:
        synthesize(a_file, environ={})
    assert caught.value.hint == "pass a directory to --out"


def test_cli_prints_json_summary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[Path | None] = []

    def fake_synthesize(out: Path | None) -> SynthResult:
        calls.append(out)
        return SynthResult(template=tmp_path / "Crudops.template.json", stack="Crudops",
                           resources=3)

    monkeypatch.setattr(synth_module, "synthesize", fake_synthesize)
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "template": str(tmp_path / "Crudops.template.json"), "stack": "Crudops", "resources": 3
    }
    assert calls == [tmp_path]


def test_cli_user_error_is_one_line_with_exit_code_2(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    result = CliRunner().invoke(app, ["synth", "--out", str(a_file)])
    assert result.exit_code == USER_ERROR_EXIT_CODE
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: ") and "hint:" in result.stderr


def test_help_shows_an_example() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "crudops synth" in result.stdout
