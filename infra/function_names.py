"""Short names of the stack's functions (`create`, `update-delete`, `ws-connect`, ...).

One rule, used where the names are made (the alarm names, infra/observability.py) and
where an operator types them (`crudops logs create`): a function's short name is the
kebab form of the construct id that names it. That is the id of the `QueueToFunction`
(`Create`, `UpdateDelete`, `Notify`), whose function is its `Handler`, or of the
`ServiceFunction` itself (`WsConnect`).

CloudFormation logical ids are those construct paths joined, plus CDK's 8-character
hash (`WorkersUpdateDeleteHandlerFunction2B2BC078`), so the short name can be read back
from a logical id alone, without synthesizing: drop the hash, the ids of the
constructs that make a function (`Handler`, `Function`) and the id of the stack-level
construct that holds it (`FUNCTION_HOLDERS`). This module imports no CDK: the CLI uses
it on a deployed stack's resource list. A template test keeps it true of every
function the stack defines.
"""

from __future__ import annotations

import re
from typing import Final

# Construct ids of the stack-level constructs that hold functions (infra/stack.py).
FUNCTION_HOLDERS: Final = ("Workers", "WebSocket")
# The names the rule gives the stack's functions, for help texts that cannot
# synthesize; a template test keeps them equal.
SHORT_NAMES: Final = ("create", "read", "update-delete", "notify", "ws-authorizer",
                      "ws-connect", "ws-default", "ws-disconnect")
# `<path>[Handler]Function<hash>`: a ServiceFunction's function, alone or in a
# QueueToFunction.
_FUNCTION_LOGICAL_ID: Final = re.compile(r"^(?P<path>[A-Za-z0-9]+?)(?:Handler)?Function"
                                         r"[0-9A-F]{8}$")


def short_name(construct_id: str) -> str:
    """`UpdateDelete` -> `update-delete`."""
    return re.sub(r"(?<!^)([A-Z])", r"-\1", construct_id).lower()


def short_name_of_logical_id(logical_id: str) -> str | None:
    """The short name of the function with this logical id; None when the id is not
    one of a function built the stack's way (a CDK-provided helper function)."""
    match = _FUNCTION_LOGICAL_ID.match(logical_id)
    if match is None:
        return None
    path = match["path"]
    for holder in FUNCTION_HOLDERS:
        if path.startswith(holder) and len(path) > len(holder):
            return short_name(path.removeprefix(holder))
    return None
