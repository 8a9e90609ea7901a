"""The WebSocket API: routes, stage logging and throttling."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from infra.settings import StackSettings
from tests.infra.helpers import Resources, logical_id_of, of_type, props

ROUTES = {"$connect": "WsConnect", "$disconnect": "WsDisconnect", "$default": "WsDefault"}


def test_routes_go_to_their_functions(resources: Resources) -> None:
    routes = {props(r)["RouteKey"]: props(r) for r in
              of_type(resources, "AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == set(ROUTES)
    for route_key, function_name in ROUTES.items():
        target = routes[route_key]["Target"]["Fn::Join"][1][1]["Ref"]
        integration = props(resources[target])
        assert integration["IntegrationType"] == "AWS_PROXY"
        function_id = logical_id_of(resources, "AWS::Lambda::Function", function_name)
        assert function_id in str(integration["IntegrationUri"]), route_key


def test_stage_auto_deploys_logs_and_throttles(
    template: Template, settings: StackSettings
) -> None:
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "AutoDeploy": True,
            "AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": settings.websocket_throttle.rate_limit,
                "ThrottlingBurstLimit": settings.websocket_throttle.burst_limit,
            },
        },
    )


def test_stage_waits_for_the_account_logging_role(resources: Resources) -> None:
    stage_id = logical_id_of(resources, "AWS::ApiGatewayV2::Stage", "WebSocket")
    (account_id,) = of_type(resources, "AWS::ApiGateway::Account")
    assert account_id in resources[stage_id].get("DependsOn", [])
