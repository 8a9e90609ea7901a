"""`crudops local env`: the running local stack as environment variables for a shell.

`eval "$(crudops local env)"` points the AWS CLI, boto3 and any SDK at the stack's AWS
endpoint (AWS_ENDPOINT_URL, and AWS_ENDPOINT_URL_<SERVICE> for a service sent
elsewhere), in its region, with the placeholder keys it accepts, and names its
gateways (CRUDOPS_REST_URL, CRUDOPS_WS_URL) — LocalStack's habit of `awslocal`, without
a wrapper. A stack on a real account (`local up --aws-endpoint aws`) gets no endpoint
and no keys: the shell's own credentials are the ones it runs with.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import typer

from tools.stacks import STATE_FILE, read_local_stack

PLACEHOLDER_KEY = "local"


def do_local_env(state_file: Path = STATE_FILE) -> dict[str, str]:
    """The variables, in the order they are printed."""
    described = read_local_stack(state_file)
    variables: dict[str, str] = {}
    if described.aws_endpoint:
        variables["AWS_ENDPOINT_URL"] = described.aws_endpoint
    for service, url in sorted(described.service_endpoints.items()):
        variables[f"AWS_ENDPOINT_URL_{service.upper()}"] = url
    variables["AWS_REGION"] = described.region
    variables["AWS_DEFAULT_REGION"] = described.region
    if described.placeholder_credentials:
        variables["AWS_ACCESS_KEY_ID"] = PLACEHOLDER_KEY
        variables["AWS_SECRET_ACCESS_KEY"] = PLACEHOLDER_KEY
    if described.rest_url:
        variables["CRUDOPS_REST_URL"] = described.rest_url
    if described.ws_url:
        variables["CRUDOPS_WS_URL"] = described.ws_url
    return variables


def export_lines(variables: dict[str, str]) -> list[str]:
    """POSIX shell `export` lines, each value quoted."""
    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]


def print_local_env(variables: dict[str, str], as_json: bool) -> None:
    typer.echo(json.dumps(variables) if as_json else "\n".join(export_lines(variables)))
