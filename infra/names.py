"""Names that must be unique per account and Region carry the stack's name.

CloudWatch alarm names, the dashboard's name, the REST API's name (its CloudWatch
metrics are keyed by `ApiName`) and the web ACL's name are unique per account and
Region, or are read as if they were. Each starts with the CloudFormation stack's name,
`AWS::StackName`, resolved when the stack is created, not when the app is synthesized:
one template deploys as two stacks side by side (`Crudops` and `crudops-staging`), and
the local stack, which resolves `AWS::StackName` to its own run's name, gets names of
its own on an endpoint it shares.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Aws

# The stack's name as the template spells it (`{"Ref": "AWS::StackName"}`).
STACK_NAME: Final = Aws.STACK_NAME


def per_stack(suffix: str) -> str:
    """`<stack name>-<suffix>`, resolved by CloudFormation."""
    return f"{STACK_NAME}-{suffix}"
