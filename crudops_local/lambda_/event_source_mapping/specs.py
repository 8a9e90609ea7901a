"""The SQS event source mappings of a template, as the pollers run them.

Each `AWS::Lambda::EventSourceMapping` whose source is a queue of the same template
becomes a `MappingSpec`; any other source (a stream, a queue elsewhere) is skipped
with a warning, since the local stack polls only the queues it provisioned. Defaults
are Lambda's: batch size 10, no batching window, no partial batch responses, enabled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from crudops_local.cloudformation.template import PhysicalResource, Resolver, Template

log = logging.getLogger("crudops.local.event_sources")

MAPPING_TYPE: Final = "AWS::Lambda::EventSourceMapping"
QUEUE_TYPE: Final = "AWS::SQS::Queue"
# Lambda's ceiling for an SQS mapping's MaximumConcurrency when the template sets none.
LAMBDA_MAXIMUM_CONCURRENCY: Final = 1000


@dataclass(frozen=True)
class MappingSpec:
    logical_id: str
    function_arn: str
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False
    filters: tuple[dict[str, Any], ...] = ()
    max_concurrency: int = 2
    enabled: bool = True


def mapping_specs(template: Template, resolver: Resolver,
                  physical: Mapping[str, PhysicalResource],
                  function_arn_by_name: Mapping[str, str],
                  max_pollers_per_mapping: int) -> Iterator[MappingSpec]:
    """The template's SQS mappings; `function_arn_by_name` maps each function's
    physical name to its ARN (a mapping names its function by name or ARN), and
    `max_pollers_per_mapping` caps the poller threads below the mapping's own
    `MaximumConcurrency` (a local machine has two cores, not a fleet)."""
    queues = {physical[r.logical_id].attributes["Arn"]: r.logical_id
              for r in template.of_type(QUEUE_TYPE)}
    for resource in template.of_type(MAPPING_TYPE):
        properties = resolver.resolve(resource.properties)
        source_arn = properties.get("EventSourceArn", "")
        if source_arn not in queues:
            log.warning("%s: event source %s is not an SQS queue of this template; skipped",
                        resource.logical_id, source_arn)
            continue
        queue = physical[queues[source_arn]]
        maximum = int(properties.get("ScalingConfig", {}).get(
            "MaximumConcurrency", LAMBDA_MAXIMUM_CONCURRENCY))
        yield MappingSpec(
            logical_id=resource.logical_id,
            function_arn=function_arn_by_name[str(properties["FunctionName"]).split(":")[-1]],
            queue_url=queue.attributes["QueueUrl"],
            queue_arn=source_arn,
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in properties.get(
                "FunctionResponseTypes", []),
            filters=tuple(json.loads(f["Pattern"])
                          for f in properties.get("FilterCriteria", {}).get("Filters", [])),
            max_concurrency=min(maximum, max_pollers_per_mapping),
            enabled=properties.get("Enabled", True) not in (False, "false"),
        )
