"""The three DynamoDB tables: items (the data), outcomes and subscriptions.

Their keys are functions/contracts/tables.py's, where the functions and the operator
tools read them too: items and outcomes are keyed by their owner (the caller's sub).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from functions.contracts.tables import ITEMS_KEY, OUTCOMES_KEY, SUBSCRIPTIONS_KEY, TableKey
from functions.settings import DEFAULTS

TTL_ATTRIBUTE = "expiresAt"


def _table(
    scope: Construct,
    construct_id: str,
    *,
    key: TableKey,
    ttl: bool,
    removal_policy: RemovalPolicy,
) -> dynamodb.Table:
    """A table with the defaults every crudops table shares.

    On-demand billing because the load is bursty and unknown; AWS-managed encryption
    because no consumer outside the account reads these tables; point-in-time recovery
    everywhere because it is cheap at this size and an operator restoring the items
    table wants the outcomes of the same moment.
    """
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name=key.partition, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=key.sort, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=TTL_ATTRIBUTE if ttl else None,
        removal_policy=removal_policy,
    )


class Storage(Construct):
    """Items, outcomes and subscriptions tables."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # The items table is the system of record: deleting the stack must not delete it.
        # Keyed (owner, id): a caller's items are one partition, so `list` is a Query.
        self.items = _table(
            self, "Items", key=ITEMS_KEY, ttl=False, removal_policy=RemovalPolicy.RETAIN
        )
        # Outcomes and subscriptions are short-lived by design (TTL of days and hours)
        # and hold no item data, so a stack deletion may take them with it.
        # Keyed (requestId, owner): the API's GetItem names the caller, so it reads only
        # the caller's; a subscriber's Query by requestId still sees another's exists.
        self.outcomes = _table(
            self,
            "Outcomes",
            key=OUTCOMES_KEY,
            ttl=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.subscriptions = _table(
            self,
            "Subscriptions",
            key=SUBSCRIPTIONS_KEY,
            ttl=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Each connection's counter row (its live subscriptions, ADR 0029) lives here
        # too, keyed (`connection#<id>`, id), so the same transaction writes both and
        # the TTL and `$disconnect` clear it with them.
        # $disconnect knows only the connection id; the index finds its subscriptions
        # (and its counter row).
        self.subscriptions.add_global_secondary_index(
            index_name=DEFAULTS.subscriptions_by_connection_index,
            partition_key=dynamodb.Attribute(
                name=SUBSCRIPTIONS_KEY.sort, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(
                name=SUBSCRIPTIONS_KEY.partition, type=dynamodb.AttributeType.STRING
            ),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )


def grant_table(
    grantee: iam.IGrantable,
    table: dynamodb.ITable,
    *actions: str,
    index_name: str | None = None,
) -> iam.Grant:
    """Allow `actions` on the table, or on one named index of it.

    CDK's `Table.grant*` adds `<table>/index/*` whenever the table has an index; this
    names the one index a function queries, or none at all.
    """
    resource = f"{table.table_arn}/index/{index_name}" if index_name else table.table_arn
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=list(actions), resource_arns=[resource]
    )
