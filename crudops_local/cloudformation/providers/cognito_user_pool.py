"""AWS::Cognito::UserPool and AWS::Cognito::UserPoolClient, created in the endpoint's
cognito-idp (moto's issues real RS256 tokens and serves the pool's JWKS).

The pool answers `Ref` with its id and `Fn::GetAtt` with `Arn`, `ProviderName`,
`ProviderURL` (`cognito-idp.<region>.amazonaws.com/<id>`, no scheme, as CloudFormation
gives it) and `UserPoolId`. The client answers `Ref` with its client id. Only the
properties that are `CreateUserPool` / `CreateUserPoolClient` parameters of the same
name are passed on; `DeletionProtection` is not, so that stopping the stack can always
remove the pool.
"""

from __future__ import annotations

from typing import Any

from crudops_local.aws.endpoint import ClientFactory
from crudops_local.cloudformation.providers.base import CreateRequest, ResourceProvider
from crudops_local.cloudformation.template import PhysicalResource

POOL_NAME_MAX = 128
CLIENT_NAME_MAX = 128
_POOL_PARAMETERS = (
    "Policies", "LambdaConfig", "AutoVerifiedAttributes", "AliasAttributes",
    "UsernameAttributes", "SmsVerificationMessage", "EmailVerificationMessage",
    "EmailVerificationSubject", "VerificationMessageTemplate", "SmsAuthenticationMessage",
    "MfaConfiguration", "UserAttributeUpdateSettings", "DeviceConfiguration",
    "EmailConfiguration", "SmsConfiguration", "UserPoolTags", "AdminCreateUserConfig",
    "Schema", "UserPoolAddOns", "UsernameConfiguration", "AccountRecoverySetting",
)
_CLIENT_PARAMETERS = (
    "GenerateSecret", "RefreshTokenValidity", "AccessTokenValidity", "IdTokenValidity",
    "TokenValidityUnits", "ReadAttributes", "WriteAttributes", "ExplicitAuthFlows",
    "SupportedIdentityProviders", "CallbackURLs", "LogoutURLs", "DefaultRedirectURI",
    "AllowedOAuthFlows", "AllowedOAuthScopes", "AllowedOAuthFlowsUserPoolClient",
    "PreventUserExistenceErrors", "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData", "AuthSessionValidity",
)


def provider_url(region: str, user_pool_id: str) -> str:
    """The pool's issuer without its scheme, as CloudFormation's `ProviderURL` is."""
    return f"cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def _passed_on(properties: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: properties[name] for name in names if name in properties}


class CognitoUserPool(ResourceProvider):
    type = "AWS::Cognito::UserPool"
    service = "cognito-idp"
    created_in_endpoint = True
    gone_codes = frozenset({"ResourceNotFoundException"})

    def create(self, request: CreateRequest) -> PhysicalResource:
        properties = request.properties
        name = request.name(properties.get("UserPoolName"), POOL_NAME_MAX)
        pool = request.client(self.service).create_user_pool(
            PoolName=name, **_passed_on(properties, _POOL_PARAMETERS))["UserPool"]
        pool_id = str(pool["Id"])
        url = provider_url(request.pseudo.region, pool_id)
        return PhysicalResource(pool_id, {
            "Arn": pool.get("Arn") or request.arn("cognito-idp", f"userpool/{pool_id}"),
            "ProviderName": url, "ProviderURL": url, "UserPoolId": pool_id})

    def delete(self, client: ClientFactory, ref: str) -> None:
        client(self.service).delete_user_pool(UserPoolId=ref)


class CognitoUserPoolClient(ResourceProvider):
    """An app client lives in its pool and goes with it: the template creates one only
    in a pool it creates too (an existing pool comes with its existing client), so it
    is not listed for removal on its own (its `Ref`, the client id, could not name its
    pool for `DeleteUserPoolClient` anyway)."""

    type = "AWS::Cognito::UserPoolClient"
    service = "cognito-idp"

    def create(self, request: CreateRequest) -> PhysicalResource:
        properties = request.properties
        client = request.client(self.service).create_user_pool_client(
            UserPoolId=str(properties["UserPoolId"]),
            ClientName=str(properties.get("ClientName") or request.resource.logical_id),
            **_passed_on(properties, _CLIENT_PARAMETERS))["UserPoolClient"]
        client_id = str(client["ClientId"])
        return PhysicalResource(client_id, {"ClientId": client_id,
                                            "Name": client.get("ClientName", "")})
