"""Registering a type the local stack plays on the emulator it runs against (ADR 0031).

The local runtime and gateways serve the template's functions and APIs themselves; the
emulator's Lambda, IAM and API Gateway get a copy under the same names and ids only so
that their own listings (`aws lambda list-functions`, `aws apigateway get-rest-apis`)
show them. The copy is a convenience, never a dependency: nothing at run time reads it.
So an emulator that lacks the service or refuses a call (LocalStack's community edition
has no apigatewayv2; a name taken by another run) gets one warning naming the resource,
and the stack starts all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from botocore.exceptions import ClientError, ParamValidationError

from crudops_local.cloudformation.providers.base import CreateRequest

log = logging.getLogger("crudops.local.provision")

# The run that registered a copy (its stack name is the run's own on a shared
# endpoint): a stage is added only to its own run's API, an API found only by it.
STACK_TAG = "crudops:stack"
# How moto and LocalStack let a caller choose a new resource's id (moto's
# `moto.utilities.id_generator.TAG_KEY_CUSTOM_ID`): the REST API gets the id the local
# gateway serves. moto 5.2.5's apigatewayv2 ignores it and draws its own.
CUSTOM_ID_TAG = "_custom_id_"

T = TypeVar("T")


class NotRegisteredError(Exception):
    """A copy a provider declines to make, and why (an id another run's API holds)."""


def registered(request: CreateRequest, call: Callable[[], T]) -> T | None:
    """`call()`'s answer, or None (with a warning) when the endpoint refuses it."""
    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        reason = f"{error.get('Code', '?')} {error.get('Message', '')}".strip()
    except (NotRegisteredError, ParamValidationError) as exc:
        reason = str(exc)
    log.warning("%s (%s) is served locally, but the endpoint does not list it: %s",
                request.resource.logical_id, request.resource.type, reason)
    return None


def tag_map(tags: Any) -> dict[str, str]:
    """A template's `Tags` ([{Key, Value}] or a map, as each type spells them) as a map."""
    if isinstance(tags, Mapping):
        return {str(key): str(value) for key, value in tags.items()}
    if isinstance(tags, list):
        return {str(tag["Key"]): str(tag["Value"]) for tag in tags
                if isinstance(tag, Mapping) and "Key" in tag}
    return {}


def run_tags(request: CreateRequest, custom_id: str | None = None) -> dict[str, str]:
    """The template's tags, plus the run's name and the id asked for."""
    tags = tag_map(request.properties.get("Tags"))
    tags[STACK_TAG] = request.pseudo.stack_name
    if custom_id is not None:
        tags[CUSTOM_ID_TAG] = custom_id
    return tags


def passed_on(properties: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The properties that are parameters of the same name of the create call."""
    return {name: properties[name] for name in names if name in properties}

