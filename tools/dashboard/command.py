"""`crudops dashboard`: the logic behind the command (tools/cli.py only parses and prints).

- `--local`: the running local stack's dashboard, read from the template it runs
  (the state file names it) and resolved with its resources' real names; the lines
  from its CloudWatch endpoint (percentiles, which the emulator does not compute, from
  the stack's own samples), the alarm states from `DescribeAlarms` there.
  `serve_local_dashboard` serves it, `do_dashboard_snapshot` writes one page.
- `--stack NAME`: a deployed stack's dashboard is in the CloudWatch console;
  `do_dashboard_url` gives its address (the name is the physical id of the stack's
  dashboard resource).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tools.aws_errors import aws_errors_as_user_errors
from tools.dashboard.body import DashboardBodyError, Widget, parse_widgets, resolved_body
from tools.dashboard.page import PageInfo, fragment_html, page_html
from tools.dashboard.series import (
    AlarmBook,
    CloudWatchSeries,
    PercentileSource,
    WatchedMetric,
    WidgetView,
    Window,
    local_percentiles,
    widget_views,
)
from tools.dashboard.serve import DashboardServer
from tools.dashboard_render import DASHBOARD_TYPE
from tools.errors import UserError
from tools.stacks import STATE_FILE, read_local_stack, require_one_stack, resolve_stack_target

DEFAULT_MINUTES: Final = 15
DEFAULT_REFRESH_SECONDS: Final = 10.0
MAX_MINUTES: Final = 24 * 60
# CloudWatch returns at most 1,440 datapoints per GetMetricStatistics call.
MAX_POINTS_PER_GRAPH: Final = 1440


@dataclass(frozen=True)
class DashboardOptions:
    """What the page shows: the last `minutes`, on periods of `period_seconds` (None:
    the smallest of 10 s, 30 s, 1 min, 5 min, … that keeps a graph under 120 points)."""

    minutes: int = DEFAULT_MINUTES
    period_seconds: int | None = None
    refresh_seconds: float = DEFAULT_REFRESH_SECONDS

    def check(self) -> None:
        if not 1 <= self.minutes <= MAX_MINUTES:
            raise UserError(f"--minutes {self.minutes} is not in 1..{MAX_MINUTES}")
        if self.period_seconds is not None and not 1 <= self.period_seconds <= 86400:
            raise UserError(f"--period {self.period_seconds} is not in 1..86400 seconds")
        period = self.period_seconds or Window.ending(0, minutes=self.minutes).period_seconds
        if self.minutes * 60 / period > MAX_POINTS_PER_GRAPH:
            raise UserError(f"--minutes {self.minutes} at --period {period} is more than "
                            f"{MAX_POINTS_PER_GRAPH} points a graph",
                            hint="a longer --period, or leave it out")
        if not 1 <= self.refresh_seconds <= 3600:
            raise UserError(f"--refresh {self.refresh_seconds:g} is not in 1..3600 seconds")


class LocalDashboard:
    """The local stack's dashboard: widgets read once, drawn anew on each `render`."""

    def __init__(self, name: str, target: str, widgets: list[Widget], alarms: AlarmBook,
                 cloudwatch: Any, *, metrics: bool, options: DashboardOptions,
                 percentiles: PercentileSource | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.target = target
        self.widgets = widgets
        self.alarms = alarms
        self._cloudwatch = cloudwatch
        self._metrics = metrics
        self.options = options
        self._percentiles = percentiles
        self._clock = clock

    def _views(self, refresh_seconds: float | None) -> tuple[list[WidgetView], PageInfo]:
        now = self._clock()
        window = Window.ending(now, minutes=self.options.minutes,
                               period_seconds=self.options.period_seconds)
        with aws_errors_as_user_errors(local=True):
            if self.alarms.names:
                self.alarms.read(self._cloudwatch)
            source = (CloudWatchSeries(self._cloudwatch, window, self._percentiles)
                      if self._metrics else None)
            views = widget_views(self.widgets, source, self.alarms)
        target = self.target + ("" if self._metrics else
                                " · the local stack publishes no metrics")
        return views, PageInfo(self.name, target, window, now, refresh_seconds)

    def page(self, *, live: bool = True) -> str:
        views, info = self._views(self.options.refresh_seconds if live else None)
        return page_html(views, info)

    def fragment(self) -> str:
        views, info = self._views(self.options.refresh_seconds)
        return fragment_html(views, info)


def open_local_dashboard(options: DashboardOptions,
                         local_state_file: Path = STATE_FILE,
                         clients: Callable[[str], Any] | None = None) -> LocalDashboard:
    """The running local stack's dashboard. Raises `UserError` when no local stack runs
    or its template cannot be read."""
    from crudops_local.cloudformation.template import (
        PhysicalResource,
        Pseudo,
        Resolver,
        Template,
        TemplateError,
    )
    from crudops_local.cloudwatch.alarms import template_alarms

    options.check()
    described = read_local_stack(local_state_file)
    if described.template is None:
        raise UserError(f"{local_state_file} does not name its template",
                        hint="restart the local stack with `crudops local up`")
    try:
        template = Template.load(described.template)
        physical = {r.logical_id: PhysicalResource(r.physical_id,
                                                   described.attributes.get(r.logical_id, {}))
                    for r in described.resources}
        resolver = Resolver(template, Pseudo(region=described.region,
                                             account_id=described.account_id or "123456789012",
                                             stack_name=described.stack), physical)
        widgets = parse_widgets(resolved_body(template, resolver))
        name = str(resolver.resolve(
            next(template.of_type(DASHBOARD_TYPE)).properties.get("DashboardName", "")))
        watched = [WatchedMetric(a.name, a.key) for a in template_alarms(template, resolver)]
    except (TemplateError, DashboardBodyError) as exc:
        raise UserError(f"cannot read the dashboard of {described.template}: {exc}",
                        hint="restart the local stack with `crudops local up`") from exc
    cloudwatch = (clients or described.clients())("cloudwatch")
    return LocalDashboard(name or described.stack, described.target, widgets,
                          AlarmBook(watched if described.own_alarms else [],
                                    listed=[arn.rsplit(":", 1)[-1] for w in widgets
                                            for arn in w.alarm_arns]
                                    if described.own_alarms else []), cloudwatch,
                          metrics=described.metrics, options=options,
                          percentiles=local_percentiles(described.percentiles_url)
                          if described.percentiles_url else None)


def do_dashboard_snapshot(out: Path, options: DashboardOptions,
                          local_state_file: Path = STATE_FILE,
                          clients: Callable[[str], Any] | None = None) -> Path:
    """Write the local dashboard as one self-contained page (no script, no request)."""
    dashboard = open_local_dashboard(options, local_state_file, clients)
    html = dashboard.page(live=False)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc}") from exc
    return out


def console_url(region: str, dashboard_name: str) -> str:
    """The CloudWatch console page of a dashboard (China regions have their own host)."""
    from urllib.parse import quote

    host = "console.amazonaws.cn" if region.startswith("cn-") else "console.aws.amazon.com"
    return (f"https://{region}.{host}/cloudwatch/home?region={region}"
            f"#dashboards/dashboard/{quote(dashboard_name, safe='')}")


def do_dashboard_url(stack: str, region: str | None = None,
                     clients: Callable[[str], Any] | None = None) -> str:
    """The console URL of a deployed stack's dashboard. Raises `UserError` for an
    unknown stack, missing credentials or region, or a stack without a dashboard."""
    if region is None and clients is None:
        import boto3

        region = boto3.Session().region_name
    if not region:
        raise UserError("no AWS region for the console URL",
                        hint="pass --region or set AWS_REGION")
    target = resolve_stack_target(stack=stack, local=False, local_state_file=STATE_FILE,
                                  region=region, clients=clients, command="dashboard")
    with aws_errors_as_user_errors(local=False):
        dashboards = [r for r in target.resources() if r.type == DASHBOARD_TYPE]
    if len(dashboards) != 1:
        raise UserError(f"stack {stack} has {len(dashboards)} dashboards, not one",
                        hint="is it a crudops stack?")
    return console_url(region, dashboards[0].physical_id)


def do_dashboard_command(*, stack: str | None, local: bool, region: str | None,
                         snapshot: Path | None, host: str, port: int,
                         options: DashboardOptions, as_json: bool) -> None:
    """`crudops dashboard`: the console URL (`--stack`), one snapshot page, or the page
    served until Ctrl-C (`--local`). Raises `UserError` for a wrong combination."""
    import typer

    if stack is not None and (local or snapshot is not None):
        raise UserError("--stack prints the console URL; --local and --snapshot are for "
                        "the local stack", hint="give --stack NAME or --local")
    if stack is not None:
        url = do_dashboard_url(stack, region)
        typer.echo(json.dumps({"url": url}) if as_json else url)
        return
    require_one_stack(stack=stack, local=local, command="dashboard")
    if snapshot is not None:
        path = do_dashboard_snapshot(snapshot, options)
        typer.echo(json.dumps({"path": str(path)}) if as_json else f"{path} written")
        return
    with DashboardServer(open_local_dashboard(options), host, port) as server:
        typer.echo(json.dumps({"url": server.url}) if as_json
                   else f"Dashboard     {server.url}\nRunning; Ctrl-C stops it.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("dashboard stopped", err=True)
