"""AWS::CloudWatch::Alarm: an id from the provisioner; the alarm evaluator puts it.

The provisioner creates no alarm: the local alarm evaluator
(crudops_local/cloudwatch/alarms.py) puts its copies of the template's alarms into the
endpoint's CloudWatch when it starts, and the run records them in its ledger by
alarm name, so that teardown removes them here.
"""

from __future__ import annotations

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.providers.placeholders import placeholder
from crudops_local.cloudformation.template import PhysicalResource

ALARM_TYPE = "AWS::CloudWatch::Alarm"


class CloudWatchAlarm(ResourceProvider):
    type = ALARM_TYPE
    service = "cloudwatch"
    gone_codes = frozenset({"ResourceNotFound"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        return placeholder(request)

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_alarms(AlarmNames=[ref])
