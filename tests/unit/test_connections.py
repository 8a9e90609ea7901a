from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from functions.domain.connections import ConnectionPoster, Delivery


@pytest.fixture
def management_client() -> object:
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url="https://abc.execute-api.us-east-1.amazonaws.com/prod"
    )


def test_a_post_to_an_open_connection_is_delivered(management_client: object) -> None:
    with Stubber(management_client) as stub:
        stub.add_response("post_to_connection", {}, {"ConnectionId": "c1", "Data": b"hi"})
        assert ConnectionPoster(management_client).post("c1", "hi") is Delivery.DELIVERED
        stub.assert_no_pending_responses()


def test_a_gone_connection_is_reported_not_raised(management_client: object) -> None:
    with Stubber(management_client) as stub:
        stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
        assert ConnectionPoster(management_client).post("c1", "hi") is Delivery.GONE


def test_other_failures_raise_so_the_notification_is_retried(management_client: object) -> None:
    with Stubber(management_client) as stub:
        stub.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
        with pytest.raises(ClientError):
            ConnectionPoster(management_client).post("c1", "hi")
