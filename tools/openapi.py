"""`crudops openapi`: the REST API's OpenAPI 3.0 description, from the template.

The committed `docs/openapi.json` is built from the default `StackSettings` (no CDK
context), like the rendered dashboard, so it does not depend on who runs the
command; `--check` fails when it drifts from the code. The document itself is built
by tools/openapi_document.py.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tools.dashboard_render import REPO_ROOT
from tools.errors import UserError

OPENAPI_DOCUMENT: Final = REPO_ROOT / "docs" / "openapi.json"
STDOUT: Final = Path("-")


@dataclass(frozen=True)
class OpenApiResult:
    path: Path
    # True when the file on disk differed from the code (before writing, if writing).
    changed: bool
    written: bool
    operations: int
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "changed": self.changed, "written": self.written,
                "operations": self.operations}


def _synthesized_template() -> dict[str, Any]:
    # Imported here: loading aws_cdk starts Node.js, which `--help` should not pay for.
    from infra.app import build_app
    from infra.settings import StackSettings
    from infra.stack import STACK_NAME

    with tempfile.TemporaryDirectory(prefix="crudops-openapi-") as outdir:
        # nag=False: cdk-nag has no say in the description, and `crudops synth` runs it.
        assembly = build_app(outdir, settings=StackSettings(), nag=False).synth()
        return dict(assembly.get_stack_by_name(STACK_NAME).template)


def _read_template(template: Path) -> Mapping[str, Any]:
    try:
        source = json.loads(template.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"cannot read template {template}: {exc}",
                        hint="pass the file `crudops synth` printed") from exc
    if not isinstance(source, Mapping):
        raise UserError(f"{template} is not a CloudFormation template",
                        hint="pass the file `crudops synth` printed")
    return source


def do_openapi(
    output: Path = OPENAPI_DOCUMENT,
    *,
    check: bool = False,
    template: Path | None = None,
) -> OpenApiResult:
    """Describe the REST API of `template` (default: synthesize the stack) to `output`
    (`-`: the caller prints `text`).

    With `check`, nothing is written and `changed` tells whether `output` differs from
    what the code builds (a missing file differs). Raises `UserError` for a template
    that cannot be read or whose REST API the description does not know.
    """
    from tools.openapi_document import openapi_document

    source = _read_template(template) if template is not None else _synthesized_template()
    try:
        document = openapi_document(source)
    except (ValueError, KeyError) as exc:
        raise UserError(f"cannot describe this template's REST API: {exc}",
                        hint="describe the crudops stack's template") from exc
    text = json.dumps(document, indent=2) + "\n"
    operations = sum(len(methods) for methods in document["paths"].values())
    if output == STDOUT:
        return OpenApiResult(output, changed=False, written=False, operations=operations,
                             text=text)
    current = output.read_text() if output.is_file() else None
    changed = current != text
    if check or not changed:
        return OpenApiResult(output, changed, written=False, operations=operations, text=text)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc}", hint="choose another --output") from exc
    return OpenApiResult(output, changed=True, written=True, operations=operations, text=text)


def print_openapi_result(result: OpenApiResult, *, check: bool, as_json: bool) -> int:
    """The document (`--output -`), `written` / `up to date`, or with `check` a drift on
    stderr and exit code 1; `as_json` prints the result as one JSON object instead."""
    import typer

    drifted = check and result.changed
    if result.path == STDOUT and not as_json:
        typer.echo(result.text, nl=False)
    elif as_json:
        typer.echo(json.dumps(result.as_json()))
    elif drifted:
        typer.echo(f"{result.path} differs from the code; run `crudops openapi`", err=True)
    else:
        typer.echo(f"{result.path} {'written' if result.written else 'up to date'} "
                   f"({result.operations} operations)")
    return 1 if drifted else 0
