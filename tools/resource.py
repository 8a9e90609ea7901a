"""`crudops resource KIND NAME`: the physical id of one resource of a stack.

Runbooks need real names (a function, a log group, a queue URL) for the AWS CLI, and
the template's names are generated (`Crudops-WorkersCreateHandlerFunctionBF4B914A-…`).
This prints exactly one, so a page can say `FUNCTION_NAME=$(crudops resource function
create --stack Crudops)` and go on. NAME is matched as everywhere in the CLI: a
function's short name, a physical id or logical id, or words that only one logical id
of that kind holds (`rest-access` for the REST API's access log group).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from tools.aws_errors import aws_errors_as_user_errors
from tools.errors import UserError
from tools.stacks import (
    FUNCTION_TYPE,
    STATE_FILE,
    ClientFactory,
    function_short_name,
    match_one,
    resolve_stack_target,
)

# What an operator calls each kind, and its CloudFormation type.
KINDS: Final = {
    "function": FUNCTION_TYPE,
    "queue": "AWS::SQS::Queue",
    "log-group": "AWS::Logs::LogGroup",
    "table": "AWS::DynamoDB::Table",
    "topic": "AWS::SNS::Topic",
    "key": "AWS::KMS::Key",
    "rest-api": "AWS::ApiGateway::RestApi",
    "websocket-api": "AWS::ApiGatewayV2::Api",
    "dashboard": "AWS::CloudWatch::Dashboard",
}


@dataclass(frozen=True)
class FoundResource:
    kind: str
    logical_id: str
    physical_id: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def do_resource(kind: str, name: str, *, stack: str | None = None, local: bool = False,
                local_state_file: Path = STATE_FILE, region: str | None = None,
                clients: ClientFactory | None = None) -> FoundResource:
    if kind not in KINDS:
        raise UserError(f"unknown kind {kind!r}", hint=f"one of {', '.join(KINDS)}")
    target = resolve_stack_target(stack=stack, local=local, local_state_file=local_state_file,
                                  region=region, clients=clients, command="resource")
    with aws_errors_as_user_errors(local=local):
        resources = sorted((r for r in target.resources()
                            if r.type == KINDS[kind] and r.physical_id),
                           key=lambda r: r.logical_id)
    candidates = [(r.logical_id, (r.physical_id, r.logical_id, function_short_name(r.logical_id)))
                  for r in resources]
    index = match_one(candidates, name, kind, f"the stack's {kind}s are")
    return FoundResource(kind, resources[index].logical_id, resources[index].physical_id)


def print_resource(found: FoundResource, as_json: bool) -> None:
    """The physical id alone (for `$(...)` in a runbook), or {kind, logical_id, physical_id}."""
    import json

    import typer

    typer.echo(json.dumps(found.as_json()) if as_json else found.physical_id)
