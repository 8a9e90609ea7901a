"""The template's resources on an endpoint the stack does not own: created with the
template's encryption settings, and removed again when creation fails half-way."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.provision import provision
from crudops_local.cloudformation.template import Pseudo, Template
from crudops_local.run import LocalStack, LocalStackOptions
from tests.support.moto_server import running_moto_server

REGION = "us-east-1"


def test_encryption_settings_of_the_template_are_applied(crudops_template: Template) -> None:
    with running_moto_server() as endpoint:
        aws = AwsEndpoint(endpoint, REGION)
        provisioned = provision(crudops_template, aws, Pseudo(region=REGION))
        resolver = provisioned.resolver
        assert resolver is not None
        sqs, sns, dynamodb = aws.client("sqs"), aws.client("sns"), aws.client("dynamodb")
        checked = 0
        for logical_id, resource in crudops_template.resources.items():
            properties = resolver.resolve(resource.properties)
            physical = provisioned.physical.get(logical_id)
            if resource.type == "AWS::SQS::Queue":
                attributes = sqs.get_queue_attributes(
                    QueueUrl=physical.ref if physical else "", AttributeNames=["All"])[
                    "Attributes"]
                if "KmsMasterKeyId" in properties:
                    assert attributes["KmsMasterKeyId"] == properties["KmsMasterKeyId"]
                else:
                    assert attributes["SqsManagedSseEnabled"] == "true", logical_id
                checked += 1
            elif resource.type == "AWS::SNS::Topic" and "KmsMasterKeyId" in properties:
                attributes = sns.get_topic_attributes(TopicArn=physical.ref if physical else "")[
                    "Attributes"]
                assert attributes["KmsMasterKeyId"] == properties["KmsMasterKeyId"], logical_id
                checked += 1
            elif resource.type == "AWS::DynamoDB::Table":
                table = dynamodb.describe_table(TableName=physical.ref if physical else "")[
                    "Table"]
                assert table["SSEDescription"]["Status"] == "ENABLED", logical_id
                checked += 1
        assert checked == 11 + 2 + 3  # queues, encrypted topics, tables


def test_a_creation_that_fails_half_way_removes_what_it_created(
        crudops_template: Template, tmp_path: Path) -> None:
    # GIVEN a template whose last table cannot be created (its key is not an attribute)
    document = json.loads(json.dumps(crudops_template.document))
    document["Resources"]["ZzBrokenTable"] = {"Type": "AWS::DynamoDB::Table", "Properties": {
        "KeySchema": [{"AttributeName": "missing", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST"}}
    broken = tmp_path / "Crudops.template.json"
    broken.write_text(json.dumps(document))
    with running_moto_server() as endpoint:
        stack = LocalStack(LocalStackOptions(
            template=broken, aws_endpoint=endpoint, log_dir=tmp_path / "logs",
            runs_dir=tmp_path / "runs", state_file=None))
        # WHEN the stack starts THEN creation fails ...
        with pytest.raises(ClientError):
            stack.start()
        # ... after creating other resources, and removes every one of them
        report = stack.teardown_report
        assert report is not None and report.ok and len(report.removed) > 10
        # (moto servers in one process share their state: look at this run's names only)
        prefix = stack.pseudo.stack_name
        session = boto3.Session(region_name=REGION)
        assert prefix.startswith("Crudops-local-")
        assert [q for q in session.client("sqs", endpoint_url=endpoint).list_queues().get(
            "QueueUrls", []) if prefix in q] == []
        assert [t for t in session.client("dynamodb", endpoint_url=endpoint).list_tables()[
            "TableNames"] if t.startswith(prefix)] == []
        assert [t for t in session.client("sns", endpoint_url=endpoint).list_topics()[
            "Topics"] if prefix in t["TopicArn"]] == []
        assert list((tmp_path / "runs").glob("*.json")) == []


def test_a_table_is_listed_before_it_is_waited_for(
        crudops_template: Template, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (or a timeout) while a table becomes ACTIVE must not leave it unlisted."""
    from botocore.exceptions import WaiterError
    from botocore.waiter import Waiter
    from moto import mock_aws

    def interrupted(self: Waiter, **kwargs: object) -> None:
        raise WaiterError(name="TableExists", reason="interrupted", last_response={})

    listed: list[tuple[str, str]] = []
    monkeypatch.setattr(Waiter, "wait", interrupted)
    with mock_aws(), pytest.raises(WaiterError):
        provision(crudops_template, AwsEndpoint(None, REGION), Pseudo(region=REGION),
                  on_created=lambda logical, kind, physical: listed.append((kind, physical.ref)))
    tables = [ref for kind, ref in listed if kind == "AWS::DynamoDB::Table"]
    assert len(tables) == 1 and tables[0].startswith("CrudopsStack-Storage")


def test_a_name_fixed_in_the_template_is_refused_on_a_shared_endpoint(
        crudops_template: Template) -> None:
    from moto import mock_aws

    from crudops_local.cloudformation.template import TemplateError

    document = json.loads(json.dumps(crudops_template.document))
    queue = next(r for r in document["Resources"].values() if r["Type"] == "AWS::SQS::Queue")
    queue["Properties"]["QueueName"] = "someone-elses-queue"
    with mock_aws(), pytest.raises(TemplateError, match="someone-elses-queue"):
        provision(Template(document), AwsEndpoint(None, REGION), Pseudo(region=REGION),
                  shared=lambda resource_type: True)
