from __future__ import annotations

import pytest

from crudops_local.cloudformation.provision import creation_order
from crudops_local.cloudformation.template import (
    PhysicalResource,
    Pseudo,
    Resolver,
    Template,
    TemplateError,
    UnsupportedIntrinsicError,
)

TEMPLATE = Template(
    {
        "Parameters": {"Stage": {"Type": "String", "Default": "v1"}},
        "Conditions": {"IsV1": {"Fn::Equals": [{"Ref": "Stage"}, "v1"]}},
        "Resources": {
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}
                },
            },
            "Dlq": {"Type": "AWS::SQS::Queue"},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "DependsOn": "Role",
                "Properties": {"Environment": {"Variables": {"URL": {"Ref": "Queue"}}}},
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {"Policy": {"Fn::Sub": "${Queue.Arn}"}},
            },
        },
    }
)
PHYSICAL = {
    "Queue": PhysicalResource("http://q/queue", {"Arn": "arn:aws:sqs:r:1:queue"}),
    "Dlq": PhysicalResource("http://q/dlq", {"Arn": "arn:aws:sqs:r:1:dlq"}),
}


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(TEMPLATE, Pseudo(region="eu-west-1", account_id="111122223333"), PHYSICAL)


def test_ref_getatt_and_pseudo_parameters(resolver: Resolver) -> None:
    assert resolver.resolve({"Ref": "Queue"}) == "http://q/queue"
    assert resolver.resolve({"Fn::GetAtt": ["Dlq", "Arn"]}) == "arn:aws:sqs:r:1:dlq"
    assert resolver.resolve({"Fn::GetAtt": "Dlq.Arn"}) == "arn:aws:sqs:r:1:dlq"
    assert resolver.resolve({"Ref": "AWS::Region"}) == "eu-west-1"
    assert resolver.resolve({"Ref": "Stage"}) == "v1"


def test_join_sub_select_split_and_conditions(resolver: Resolver) -> None:
    joined = {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":x:", {"Ref": "AWS::AccountId"}]]
    }
    assert resolver.resolve(joined) == "arn:aws:x:111122223333"
    sub = {"Fn::Sub": ["${AWS::Region}/${Queue.Arn}/${Name}/${!Literal}", {"Name": "n"}]}
    assert resolver.resolve(sub) == "eu-west-1/arn:aws:sqs:r:1:queue/n/${Literal}"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert resolver.resolve({"Fn::If": ["IsV1", "yes", "no"]}) == "yes"
    assert resolver.resolve([{"Ref": "AWS::NoValue"}, 1]) == [1]
    assert resolver.resolve({"a": {"Ref": "AWS::NoValue"}, "b": 2}) == {"b": 2}


def test_unknown_references_and_intrinsics_fail_with_their_name(resolver: Resolver) -> None:
    with pytest.raises(TemplateError, match="Missing"):
        resolver.resolve({"Ref": "Missing"})
    with pytest.raises(TemplateError, match="NoSuchAttr"):
        resolver.resolve({"Fn::GetAtt": ["Queue", "NoSuchAttr"]})
    with pytest.raises(UnsupportedIntrinsicError, match="Fn::ImportValue"):
        resolver.resolve({"Fn::ImportValue": "x"})


def test_resources_are_created_after_what_they_reference() -> None:
    order = [r.logical_id for r in creation_order(TEMPLATE)]
    assert order.index("Dlq") < order.index("Queue") < order.index("Role") < order.index("Fn")


def test_a_template_without_resources_is_refused() -> None:
    with pytest.raises(TemplateError, match="no Resources"):
        Template({"Outputs": {}})
