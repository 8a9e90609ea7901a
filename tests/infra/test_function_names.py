"""The short names of the functions (infra/function_names.py), read back from the
synthesized template's logical ids, are the names of their alarms and the names
`crudops logs --help` lists."""

from __future__ import annotations

from typing import Any

from infra.function_names import SHORT_NAMES, short_name_of_logical_id
from infra.stack import STACK_NAME
from tests.infra.helpers import WITHOUT_ALARMS, Resources, of_type, props, stack_scoped


def _function_of_errors_alarm(alarm: dict[str, Any]) -> str | None:
    metric = alarm["Metrics"][0]["MetricStat"]["Metric"]
    if metric.get("Namespace") != "AWS/Lambda" or metric.get("MetricName") != "Errors":
        return None
    (dimension,) = metric["Dimensions"]
    return str(dimension["Value"]["Ref"])


def test_every_function_has_a_short_name_and_it_is_its_alarms_name(
        resources: Resources) -> None:
    functions = of_type(resources, "AWS::Lambda::Function")
    names = {logical_id: short_name_of_logical_id(logical_id) for logical_id in functions}
    assert None not in names.values(), names
    assert len(set(names.values())) == len(names)

    alarmed = {}
    for alarm in map(props, of_type(resources, "AWS::CloudWatch::Alarm").values()):
        function = _function_of_errors_alarm(alarm)
        if function is not None:
            alarmed[function] = stack_scoped(alarm["AlarmName"], STACK_NAME)
    assert alarmed == {logical_id: f"{STACK_NAME}-{name}-errors"
                       for logical_id, name in names.items() if name not in WITHOUT_ALARMS}


def test_the_names_help_texts_list_are_the_template_s(resources: Resources) -> None:
    derived = {short_name_of_logical_id(logical_id)
               for logical_id in of_type(resources, "AWS::Lambda::Function")}
    assert derived == set(SHORT_NAMES)
