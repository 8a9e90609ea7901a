"""Identity: the user pool the stack creates (or an existing one) and its outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.settings import EnvVar
from infra.app import build_app
from infra.settings import StackSettings
from infra.stack import STACK_NAME
from tests.infra.helpers import Resources, logical_id_of, of_type, props

POOL = "AWS::Cognito::UserPool"
CLIENT = "AWS::Cognito::UserPoolClient"
EXISTING_POOL_ARN = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123xyz"
EXISTING_CLIENT_ID = "4f1k2exampleclientid0123"


def test_one_pool_and_one_client_under_identity(resources: Resources) -> None:
    assert [k.startswith("IdentityUserPool") for k in of_type(resources, POOL)] == [True]
    assert [k.startswith("IdentityAppClient") for k in of_type(resources, CLIENT)] == [True]


def test_operators_add_the_users_who_sign_in_by_username(resources: Resources) -> None:
    (pool,) = map(props, of_type(resources, POOL).values())
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert "UsernameAttributes" not in pool and "AliasAttributes" not in pool
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    # No e-mail or phone to recover with: an operator resets a password.
    assert pool["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "admin_only", "Priority": 1}]}


def test_the_password_policy_is_strong_and_mfa_offered(
        resources: Resources, settings: StackSettings) -> None:
    (pool,) = map(props, of_type(resources, POOL).values())
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": settings.identity.password_min_length,
        "RequireLowercase": True, "RequireUppercase": True, "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": settings.identity.temporary_password_validity_days,
    }
    assert settings.identity.password_min_length >= 14
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]


def test_a_created_pool_outlives_its_stack(resources: Resources) -> None:
    """Its users are data: neither a stack deletion nor a replacement removes it."""
    (pool,) = of_type(resources, POOL).values()
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"
    assert props(pool)["DeletionProtection"] == "ACTIVE"


def test_the_app_client_is_public_and_signs_in_by_password_srp_or_refresh(
        resources: Resources, settings: StackSettings) -> None:
    pool_id = logical_id_of(resources, POOL, "IdentityUserPool")
    (client,) = map(props, of_type(resources, CLIENT).values())
    assert client["UserPoolId"] == {"Ref": pool_id}
    assert client["GenerateSecret"] is False
    assert sorted(client["ExplicitAuthFlows"]) == [
        "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is False
    assert "AllowedOAuthFlows" not in client and "CallbackURLs" not in client
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True
    assert client["IdTokenValidity"] == settings.identity.id_token_validity_minutes
    assert client["TokenValidityUnits"]["IdToken"] == "minutes"


def test_outputs_name_the_pool_the_client_and_the_issuer(
        template_json: dict[str, Any], resources: Resources) -> None:
    pool_id = logical_id_of(resources, POOL, "IdentityUserPool")
    client_id = logical_id_of(resources, CLIENT, "IdentityAppClient")
    outputs = template_json["Outputs"]
    assert outputs["UserPoolId"]["Value"] == {"Ref": pool_id}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": client_id}
    assert outputs["UserPoolIssuer"]["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [pool_id, "ProviderURL"]}]]}


@pytest.fixture(scope="module")
def existing_pool_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The stack synthesized (cdk-nag included) for an existing pool and client."""
    outdir = tmp_path_factory.mktemp("existing-pool")
    settings = StackSettings.from_context({"user_pool_arn": EXISTING_POOL_ARN,
                                           "user_pool_client_id": EXISTING_CLIENT_ID})
    build_app(outdir, settings=settings).synth()
    return dict(json.loads((outdir / f"{STACK_NAME}.template.json").read_text()))


def test_an_existing_pool_is_used_and_none_created(
        existing_pool_template: dict[str, Any]) -> None:
    resources: Resources = existing_pool_template["Resources"]
    assert not of_type(resources, POOL)
    assert not of_type(resources, CLIENT)
    (authorizer,) = map(props, of_type(resources, "AWS::ApiGateway::Authorizer").values())
    assert authorizer["ProviderARNs"] == [EXISTING_POOL_ARN]
    issuer = {"Fn::Join": ["", ["https://cognito-idp.eu-west-1.", {"Ref": "AWS::URLSuffix"},
                                "/eu-west-1_AbC123xyz"]]}
    function = props(resources[logical_id_of(resources, "AWS::Lambda::Function",
                                             "WsAuthorizer")])
    variables = function["Environment"]["Variables"]
    assert variables[EnvVar.USER_POOL_ID.value] == "eu-west-1_AbC123xyz"
    assert variables[EnvVar.USER_POOL_CLIENT_ID.value] == EXISTING_CLIENT_ID
    assert variables[EnvVar.TOKEN_ISSUER.value] == issuer
    outputs = existing_pool_template["Outputs"]
    assert outputs["UserPoolId"]["Value"] == "eu-west-1_AbC123xyz"
    assert outputs["UserPoolClientId"]["Value"] == EXISTING_CLIENT_ID
    assert outputs["UserPoolIssuer"]["Value"] == issuer
