"""Types the local stack refuses to run rather than play: what they do needs AWS itself.

`AWS::FIS::ExperimentTemplate` (the opt-in `-c crudops:fis=true`, ADR 0028) injects its
faults through the AWS FIS Lambda extension, a layer that proxies Lambda's Runtime API
and polls S3 for what FIS writes. Locally there is no FIS to start an experiment and no
Runtime API to proxy, so a template with one would start a stack whose functions carry
an extension that never runs: it looks like a fault-injection setup and injects
nothing. The local stack injects its own faults instead (crudops_local/faults.py,
`crudops verify --faults all`).
"""

from __future__ import annotations

from typing import Final

from crudops_local.cloudformation.template import Template
from crudops_local.errors import ConfigurationError

REFUSED_TYPES: Final = {
    "AWS::FIS::ExperimentTemplate": (
        "it was synthesized with the AWS FIS experiment (-c crudops:fis=true), which "
        "runs on AWS only",
        "synthesize without crudops:fis, and inject faults locally with "
        "`crudops verify --local --faults all`"),
}


def refuse_what_needs_aws(template: Template) -> None:
    """A `ConfigurationError` (one line and a hint) for the first refused type."""
    for resource in template.resources.values():
        refused = REFUSED_TYPES.get(resource.type)
        if refused is not None:
            reason, hint = refused
            source = template.source or "the template"
            raise ConfigurationError(
                f"the local stack cannot run {source}: {resource.logical_id} is "
                f"{resource.type}; {reason}", hint=hint)
