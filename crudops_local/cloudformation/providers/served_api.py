"""What the REST (apigateway_rest_api.py) and WebSocket (apigatewayv2_api.py) API
providers share: the API is served by a local gateway under a stable id made from its
logical id, and on an emulator a copy of it and of its stages is registered so that
the emulator's listings show them (ADR 0031).

The copy of an API is tagged with the id the gateway serves and the run's name
(`run_tags`), and reported under the emulator's own id, the one its removal needs. A
stage goes with its API (deleting the API deletes its stages), so it is never listed
for removal on its own, and it is added only to an API its own run registered.
"""

from __future__ import annotations

from typing import Any

from crudops_local.cloudformation.providers.base import (
    CreateRequest,
    ResourceProvider,
    short_id,
)
from crudops_local.cloudformation.providers.placeholders import placeholder
from crudops_local.cloudformation.providers.registration import registered
from crudops_local.cloudformation.template import PhysicalResource


class ServedApi(ResourceProvider):
    """An API a local gateway serves; `answer_id_key` names the emulator's id in the
    answer of its create call."""

    visible_in_endpoint = True
    gone_codes = frozenset({"NotFoundException"})
    answer_id_key: str

    def create(self, request: CreateRequest) -> PhysicalResource:
        api_id = short_id(request.resource.logical_id)
        if request.visible:
            answer = registered(request, lambda: self._register(request, api_id))
            if answer is not None:
                # Removed by the emulator's id, the one the ledger needs.
                endpoint_id = str(answer[self.answer_id_key])
                request.report(PhysicalResource(endpoint_id))
                self._registered_as(request, api_id, endpoint_id)
        return PhysicalResource(api_id, self.attributes(request, api_id))

    def _register(self, request: CreateRequest, api_id: str) -> dict[str, Any]:
        """Create the copy of the API the gateway serves as `api_id`; the answer."""
        raise NotImplementedError

    def attributes(self, request: CreateRequest, api_id: str) -> dict[str, Any]:
        """What `Fn::GetAtt` reads of the API the gateway serves as `api_id`."""
        raise NotImplementedError

    def _registered_as(self, request: CreateRequest, api_id: str, endpoint_id: str) -> None:
        """Told the emulator's id of the copy, once it is reported."""


class ServedStage(ResourceProvider):
    """A stage of a `ServedApi`: an id only, and on an emulator a copy on the copy of
    its API."""

    visible_in_endpoint = True

    def create(self, request: CreateRequest) -> PhysicalResource:
        if request.visible:
            registered(request, lambda: self._register(request))
        return placeholder(request)

    def _register(self, request: CreateRequest) -> None:
        """Create the copy of the stage, unless its API's copy is not this run's."""
        raise NotImplementedError
