"""The Lambda functions and SQS event source mappings as the local stack reads them
from the synthesized template (crudops_local/lambda_/specs.py,
crudops_local/lambda_/event_source_mapping/specs.py), without starting anything."""

from __future__ import annotations

import pytest

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.template import PhysicalResource, Pseudo, Resolver, Template
from crudops_local.lambda_.event_source_mapping.specs import MAPPING_TYPE, mapping_specs
from crudops_local.lambda_.specs import FUNCTION_TYPE, ServiceEnvironment, function_specs


def _physical(template: Template) -> dict[str, PhysicalResource]:
    return {r.logical_id: PhysicalResource(r.logical_id, {
        "Arn": f"arn:local:{r.logical_id}", "QueueUrl": f"http://127.0.0.1:1/q/{r.logical_id}",
        "QueueName": r.logical_id,
        "ProviderURL": f"cognito-idp.us-east-1.amazonaws.com/{r.logical_id}"})
        for r in template.resources.values()}


def test_each_function_runs_its_handler_with_its_template_settings(
        crudops_template: Template) -> None:
    assert crudops_template.source is not None
    physical = _physical(crudops_template)
    resolver = Resolver(crudops_template, Pseudo(), physical)
    service = ServiceEnvironment(AwsEndpoint("http://127.0.0.1:5000", "us-east-1"),
                                 Pseudo(), "http://127.0.0.1:9",
                                 telemetry={"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"})

    specs = function_specs(crudops_template, crudops_template.source, resolver, physical,
                           service)

    functions = list(crudops_template.of_type(FUNCTION_TYPE))
    assert sorted(specs) == sorted(f.logical_id for f in functions)
    for function in functions:
        properties = resolver.resolve(function.properties)
        spec = specs[function.logical_id]
        assert (spec.handler, spec.timeout_seconds, spec.memory_mb, spec.arn) == (
            properties["Handler"], float(properties["Timeout"]),
            int(properties.get("MemorySize", 128)), f"arn:local:{function.logical_id}")
        assert spec.code_path.is_dir()
        variables = properties["Environment"]["Variables"]
        assert {k: spec.environment[k] for k in variables} == {
            k: str(v) for k, v in variables.items()}
        assert spec.environment["AWS_LAMBDA_FUNCTION_NAME"] == function.logical_id
        assert spec.environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
        assert spec.environment["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:2000"
        # traced: the SDK's "Lambda mode" needs the code's root
        assert spec.environment["LAMBDA_TASK_ROOT"] == str(spec.code_path)


def test_each_sqs_mapping_polls_its_queue_for_its_function(crudops_template: Template) -> None:
    physical = _physical(crudops_template)
    resolver = Resolver(crudops_template, Pseudo(), physical)
    arn_by_name = {r.logical_id: f"arn:local:{r.logical_id}"
                   for r in crudops_template.of_type(FUNCTION_TYPE)}

    specs = {s.logical_id: s for s in mapping_specs(
        crudops_template, resolver, physical, arn_by_name, max_pollers_per_mapping=2)}

    mappings = list(crudops_template.of_type(MAPPING_TYPE))
    assert sorted(specs) == sorted(m.logical_id for m in mappings)
    for mapping in mappings:
        properties = resolver.resolve(mapping.properties)
        spec = specs[mapping.logical_id]
        assert spec.function_arn == arn_by_name[properties["FunctionName"]]
        assert spec.queue_arn == properties["EventSourceArn"]
        assert spec.queue_url.endswith("/q/" + spec.queue_arn.removeprefix("arn:local:"))
        assert spec.batch_size == properties["BatchSize"]
        assert spec.report_batch_item_failures
        assert spec.max_concurrency <= 2 and spec.enabled


def test_a_mapping_on_anything_but_a_queue_of_the_template_is_skipped(
        caplog: pytest.LogCaptureFixture) -> None:
    template = Template({"Resources": {
        "Fn": {"Type": FUNCTION_TYPE, "Properties": {}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "FromQueue": {"Type": MAPPING_TYPE, "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}, "FunctionName": {"Ref": "Fn"},
            "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"op": ["create"]}}'}]}}},
        "FromStream": {"Type": MAPPING_TYPE, "Properties": {
            "EventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s", "FunctionName": "Fn"}},
    }})
    physical = _physical(template)

    (spec,) = mapping_specs(template, Resolver(template, Pseudo(), physical), physical,
                            {"Fn": "arn:local:Fn"}, max_pollers_per_mapping=5)

    # Lambda's defaults, the template's filter, and the stream mapping left out, said so
    assert (spec.logical_id, spec.batch_size, spec.batching_window_seconds) == (
        "FromQueue", 10, 0.0)
    assert spec.filters == ({"body": {"op": ["create"]}},)
    assert not spec.report_batch_item_failures and spec.max_concurrency == 5
    assert "FromStream" in caplog.text and "skipped" in caplog.text
