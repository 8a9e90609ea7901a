"""Which function `crudops logs FUNCTION` means: its short name (`create`,
`update-delete`, `ws-connect`: the names of its alarms, infra/function_names.py), its
logical id, or its physical name."""

from __future__ import annotations

from collections.abc import Iterable

from infra.function_names import short_name_of_logical_id
from tools.errors import UserError
from tools.stacks import FUNCTION_TYPE, Resource


def function_names(resources: Iterable[Resource]) -> dict[str, Resource]:
    """Short name -> function, in the order of the names; a function built otherwise
    is listed under its logical id."""
    functions = {short_name_of_logical_id(r.logical_id) or r.logical_id: r
                 for r in resources if r.type == FUNCTION_TYPE and r.physical_id}
    return dict(sorted(functions.items()))


def find_function(resources: Iterable[Resource], wanted: str) -> tuple[str, Resource]:
    """The short name and resource of the function called `wanted`; a `UserError`
    listing the names when none is."""
    names = function_names(resources)
    for name, function in names.items():
        if wanted in (name, function.logical_id, function.physical_id):
            return name, function
    raise UserError(f"no function {wanted!r} in this stack",
                    hint=f"one of {', '.join(names) or 'none (is it the right stack?)'}")
