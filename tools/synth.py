"""`crudops synth`: write the CloudFormation template without AWS credentials.

The stack is environment-agnostic (no account, no region), so synthesis needs no
AWS access; the template is the single source of truth for deployment and for the
local stack.

Loading aws_cdk starts a jsii Node.js kernel that stays for the life of the
interpreter (~600 MiB) and dies with a traceback at a terminal's Ctrl-C. Commands
call `synthesize`, which runs `do_synth` in a child process (`python -m tools.synth`)
of its own process group: no Node.js stays beside a running stack, and a Ctrl-C
reaches only the command, which stops the child. `do_synth` stays for tests that
synthesize in process, with settings.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.errors import UserError, interrupted

DEFAULT_OUTDIR = Path("cdk.out")
OUTDIR_ENV = "CDK_OUTDIR"


@dataclass(frozen=True)
class SynthResult:
    template: Path
    stack: str
    resources: int

    def as_json(self) -> dict[str, Any]:
        return {"template": str(self.template), "stack": self.stack,
                "resources": self.resources}


def resolve_outdir(out: Path | None, environ: Mapping[str, str]) -> Path:
    """`--out` wins, then `CDK_OUTDIR` (what the cdk CLI sets), then `cdk.out`."""
    if out is not None:
        return out
    from_env = environ.get(OUTDIR_ENV, "")
    return Path(from_env) if from_env else DEFAULT_OUTDIR


def do_synth(
    out: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    settings: Any = None,
) -> SynthResult:
    """Synthesize the app into the output directory and describe the template.

    Raises `UserError` for an unusable output directory, invalid settings, or a
    cdk-nag finding that is neither fixed nor acknowledged.
    """
    outdir = resolve_outdir(out, os.environ if environ is None else environ)
    if outdir.exists() and not outdir.is_dir():
        raise UserError(f"output path {outdir} is a file", hint="pass a directory to --out")

    # Imported here: loading aws_cdk starts a Node.js process, which `--help` and
    # the other commands should not pay for.
    from infra.app import build_app
    from infra.settings import SettingsError
    from infra.stack import STACK_NAME

    try:
        app = build_app(outdir, settings=settings)
        assembly = app.synth()
    except SettingsError as exc:
        raise UserError(str(exc), hint="check the crudops:settings context value") from exc
    except RuntimeError as exc:
        if str(exc).startswith("ValidationFailed"):
            raise UserError(
                f"cdk-nag found unacknowledged findings; see {outdir / 'validation-report.json'}",
                hint="fix the resource, or acknowledge the finding with a reason in infra/",
            ) from exc
        raise
    artifact = assembly.get_stack_by_name(STACK_NAME)
    template = Path(artifact.template_full_path)
    resources = len(json.loads(template.read_text())["Resources"])
    return SynthResult(template=template, stack=artifact.stack_name, resources=resources)


# How long a synthesis child interrupted by Ctrl-C gets to stop its Node.js kernel.
CHILD_STOP_SECONDS = 10.0


class SynthesisFailedError(RuntimeError):
    """The synthesis child failed in a way that is a bug (its traceback is above)."""


def synthesize(out: Path | None = None, *,
               environ: Mapping[str, str] | None = None) -> SynthResult:
    """`do_synth` in a child process; same answers, same `UserError`s.

    The child's stderr is the caller's (CDK warnings reach the terminal); its stdout
    carries one JSON line: the `SynthResult` or the `UserError`. A `KeyboardInterrupt`
    here stops the child (SIGTERM, which lets it close its Node.js kernel) and is
    raised again.
    """
    outdir = resolve_outdir(out, os.environ if environ is None else environ)
    child = subprocess.Popen(
        [sys.executable, "-m", "tools.synth", "--out", str(outdir)],
        stdout=subprocess.PIPE, text=True,
        # Its own process group: a terminal's Ctrl-C does not reach it or Node.js.
        process_group=0,
    )
    try:
        answer, _ = child.communicate()
    except BaseException:
        _stop_child(child)
        raise
    document = _last_json_line(answer)
    if child.returncode == 0 and "template" in document:
        return SynthResult(template=Path(document["template"]), stack=document["stack"],
                           resources=int(document["resources"]))
    if "error" in document:
        raise UserError(str(document["error"]), hint=str(document.get("hint", "")))
    raise SynthesisFailedError(f"synthesis failed with exit code {child.returncode}")


def do_synth_command(out: Path | None, *, as_json: bool) -> None:
    """`crudops synth`: synthesize in a child process and print the template's path
    (or the `SynthResult` as JSON); Ctrl-C is one line and exit code 130."""
    import typer

    try:
        result = synthesize(out)
    except KeyboardInterrupt:
        raise interrupted() from None
    typer.echo(json.dumps(result.as_json()) if as_json else str(result.template))


def _stop_child(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(CHILD_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            # Node.js shares the child's process group.
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(5)
    if child.stdout is not None:
        child.stdout.close()


def _last_json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.splitlines()):
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict):
            return document
    return {}


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SystemExit runs atexit, where jsii closes its Node.js kernel cleanly; a second
    # SIGTERM must not cut that short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.unraisablehook = _quiet_while_stopping
    raise SystemExit(128 + signum)


def _quiet_while_stopping(unraisable: Any) -> None:
    """Stopped on purpose (Ctrl-C reached the command), the child says nothing: a
    SIGTERM landing while jsii starts Node.js leaves its `_NodeProcess` half made,
    and that object's `__del__` then fails at exit ("Exception ignored in ...") on
    the terminal under the command's one line. Node.js shares the child's process
    group and its stdin, and ends with either."""


def main() -> None:
    """The child of `synthesize`: one JSON line on stdout, exit code 0 or 2."""
    parser = argparse.ArgumentParser(description="Synthesize the app (used by `synthesize`).")
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        document = do_synth(arguments.out).as_json()
        code = 0
    except UserError as exc:
        document, code = {"error": exc.message, "hint": exc.hint}, 2
    # Done: a SIGTERM from now on would only interrupt the exit itself.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        print(json.dumps(document), flush=True)
    except BrokenPipeError:  # the command is gone; nobody reads the answer
        # Point stdout at /dev/null so that the flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    raise SystemExit(code)


if __name__ == "__main__":
    main()

