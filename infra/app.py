"""Entry point of the CDK app (`cdk synth` runs `python -m infra.app`).

`build_app` is what the CLI and the tests call; it stages the Lambda source, builds
the stack and registers cdk-nag, whose unacknowledged findings make synthesis fail.
"""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.lambda_function import stage_lambda_source
from infra.settings import CONTEXT_KEY, FIS_CONTEXT_KEY, StackSettings
from infra.stack import STACK_NAME, CrudopsStack

DEFAULT_OUTDIR = Path("cdk.out")
STAGING_DIR = Path(".staging") / "lambda-src"


def build_app(outdir: Path | str = DEFAULT_OUTDIR, *, settings: StackSettings | None = None,
              nag: bool = True) -> App:
    """The app with its one stack; call `.synth()` on the result to write `outdir`.

    Settings come from the argument, else from CDK context `crudops:settings` (and
    `crudops:fis`, which turns the fault injection experiment on).
    """
    outdir = Path(outdir)
    app = App(outdir=str(outdir))
    if settings is None:
        settings = StackSettings.from_context(app.node.try_get_context(CONTEXT_KEY),
                                              fis=app.node.try_get_context(FIS_CONTEXT_KEY))
    lambda_source = stage_lambda_source(outdir / STAGING_DIR)
    CrudopsStack(app, STACK_NAME, settings=settings, lambda_source=lambda_source)
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    # The cdk CLI passes the output directory in CDK_OUTDIR.
    build_app(os.environ.get("CDK_OUTDIR", str(DEFAULT_OUTDIR))).synth()


if __name__ == "__main__":
    main()
