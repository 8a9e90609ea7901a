"""`crudops render-dashboard`: the dashboard body as reviewable JSON.

CloudFormation holds the dashboard body as one `Fn::Join` of JSON fragments and
tokens (queue names, function names, the region). Rendering joins the fragments,
puts a stable placeholder where each token was (`${AWS::Region}`, `${LogicalId}`,
`${LogicalId.Attribute}`) and pretty-prints the result, so a change to the dashboard
shows up as a readable diff of `dashboards/rendered/dashboard.json`.

The committed file is rendered from the default `StackSettings` (no CDK context), so
it does not depend on who runs the command; `--check` fails when it drifts.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[1]
RENDERED_DASHBOARD = REPO_ROOT / "dashboards" / "rendered" / "dashboard.json"
DASHBOARD_TYPE = "AWS::CloudWatch::Dashboard"


@dataclass(frozen=True)
class RenderResult:
    path: Path
    # True when the file on disk differed from the code (before writing, if writing).
    changed: bool
    written: bool

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "changed": self.changed, "written": self.written}


def placeholder(token: Any) -> str:
    """A stable stand-in for one CloudFormation token inside the dashboard body."""
    if isinstance(token, Mapping) and len(token) == 1:
        ((intrinsic, argument),) = token.items()
        if intrinsic == "Ref" and isinstance(argument, str):
            return f"${{{argument}}}"
        if intrinsic == "Fn::GetAtt" and isinstance(argument, list) and len(argument) == 2:
            return f"${{{argument[0]}.{argument[1]}}}"
    raise ValueError(f"cannot render token {token!r} in a dashboard body")


def _joined(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, Mapping) and set(body) == {"Fn::Join"}:
        separator, parts = body["Fn::Join"]
        return str(separator).join(
            part if isinstance(part, str) else placeholder(part) for part in parts
        )
    raise ValueError(f"unexpected DashboardBody {str(body)[:80]!r}")


def _name(value: Any) -> str | None:
    """The dashboard's name: the stack's name (`${AWS::StackName}`) in the template."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping) and set(value) == {"Fn::Join"}:
        return _joined(value)
    return placeholder(value)


def render_dashboard(template: Mapping[str, Any]) -> dict[str, Any]:
    """The stack's one dashboard as `{DashboardName, DashboardBody}` with placeholders."""
    dashboards = [
        resource["Properties"]
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == DASHBOARD_TYPE
    ]
    if len(dashboards) != 1:
        raise ValueError(f"expected one {DASHBOARD_TYPE}, found {len(dashboards)}")
    properties = dashboards[0]
    return {
        "DashboardName": _name(properties.get("DashboardName")),
        "DashboardBody": json.loads(_joined(properties["DashboardBody"])),
    }


def dashboard_json(template: Mapping[str, Any]) -> str:
    """`render_dashboard` as the exact text of the committed file."""
    return json.dumps(render_dashboard(template), indent=2, sort_keys=True) + "\n"


def _synthesized_template() -> dict[str, Any]:
    # Imported here: loading aws_cdk starts Node.js, which `--help` should not pay for.
    from infra.app import build_app
    from infra.settings import StackSettings
    from infra.stack import STACK_NAME

    with tempfile.TemporaryDirectory(prefix="crudops-dashboard-") as outdir:
        # nag=False: cdk-nag has no say in the dashboard, and `crudops synth` runs it.
        assembly = build_app(outdir, settings=StackSettings(), nag=False).synth()
        return dict(assembly.get_stack_by_name(STACK_NAME).template)


def do_render_dashboard(
    out: Path = RENDERED_DASHBOARD,
    *,
    check: bool = False,
    template: Path | None = None,
) -> RenderResult:
    """Render the dashboard of `template` (default: synthesize the stack) to `out`.

    With `check`, nothing is written and `changed` tells whether `out` differs from
    what the code renders (a missing file differs). Raises `UserError` for a template
    that cannot be read or has no single dashboard.
    """
    if template is not None:
        try:
            source = json.loads(template.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"cannot read template {template}: {exc}",
                            hint="pass the file `crudops synth` printed") from exc
    else:
        source = _synthesized_template()
    try:
        rendered = dashboard_json(source)
    except ValueError as exc:
        raise UserError(str(exc), hint="render the crudops stack's template") from exc
    current = out.read_text() if out.is_file() else None
    changed = current != rendered
    if check or not changed:
        return RenderResult(path=out, changed=changed, written=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rendered)
    return RenderResult(path=out, changed=True, written=True)


def print_render_result(result: RenderResult, *, check: bool) -> int:
    """`written` / `up to date`, or with `check` a drift on stderr and exit code 1."""
    import typer

    if check and result.changed:
        typer.echo(f"{result.path} differs from the code; run `crudops render-dashboard`",
                   err=True)
        return 1
    typer.echo(f"{result.path} {'written' if result.written else 'up to date'}")
    return 0
