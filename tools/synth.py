"""`crudops synth`: write the CloudFormation template without AWS credentials.

The stack is environment-agnostic (no account, no region), so synthesis needs no
AWS access; the template is the single source of truth for deployment and for the
local stack.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.errors import UserError

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
