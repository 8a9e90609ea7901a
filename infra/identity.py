"""`Identity`: the Cognito user pool whose tokens the REST and WebSocket APIs accept.

By default the stack creates the pool (`UserPool`) and one public app client
(`AppClient`: no secret, admin password, SRP and refresh sign-in). With StackSettings
`user_pool_arn` and `user_pool_client_id` it uses an existing pool and client instead
and creates neither. Either way the rest of the stack reads the same four values:
the pool (for the REST authorizer), its id, the app client id and the token issuer.

A created pool is RETAINed and deletion-protected: its users are data an operator
added, not something a redeploy may recreate. Deleting the stack leaves the pool;
delete it by hand (after turning deletion protection off) when it is really unwanted.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra.nag import acknowledge
from infra.settings import USER_POOL_ARN, IdentitySettings, StackSettings

_MFA = {"optional": cognito.Mfa.OPTIONAL, "required": cognito.Mfa.REQUIRED}


class Identity(Construct):
    """The user pool and app client, created or imported."""

    user_pool: cognito.IUserPool
    user_pool_client_id: str
    # `https://` + the pool's provider URL: the `iss` claim of the pool's tokens.
    issuer: str

    def __init__(self, scope: Construct, construct_id: str, *,
                 settings: StackSettings) -> None:
        super().__init__(scope, construct_id)
        if settings.user_pool_arn:
            self._use_existing(settings.user_pool_arn, settings.user_pool_client_id)
        else:
            self._create(settings.identity)

    @property
    def user_pool_id(self) -> str:
        return self.user_pool.user_pool_id

    def _use_existing(self, user_pool_arn: str, client_id: str) -> None:
        match = USER_POOL_ARN.match(user_pool_arn)
        if match is None:  # StackSettings refused it already; a guard for direct use.
            raise ValueError(f"{user_pool_arn!r} is not a user pool ARN")
        self.user_pool = cognito.UserPool.from_user_pool_arn(self, "UserPool", user_pool_arn)
        self.user_pool_client_id = cognito.UserPoolClient.from_user_pool_client_id(
            self, "AppClient", client_id).user_pool_client_id
        # An imported pool has no ProviderURL attribute to read; Cognito's is
        # cognito-idp.<region>.<the partition's URL suffix>/<pool id>.
        self.issuer = (f"https://cognito-idp.{match['region']}.{Aws.URL_SUFFIX}/"
                       f"{match['pool_id']}")

    def _create(self, identity: IdentitySettings) -> None:
        pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True),
            sign_in_case_sensitive=False,
            password_policy=cognito.PasswordPolicy(
                min_length=identity.password_min_length,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(
                    identity.temporary_password_validity_days),
            ),
            mfa=_MFA[identity.mfa],
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            # No e-mail or phone is collected: an operator resets a password
            # (admin-set-user-password), so there is no self-service recovery channel.
            account_recovery=cognito.AccountRecovery.NONE,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        client = cognito.UserPoolClient(
            self,
            "AppClient",
            user_pool=pool,
            generate_secret=False,
            # CDK adds ALLOW_REFRESH_TOKEN_AUTH to any explicit flows.
            auth_flows=cognito.AuthFlow(admin_user_password=True, user_srp=True),
            # No hosted UI or domain: tokens come from InitiateAuth, not OAuth redirects.
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.minutes(identity.id_token_validity_minutes),
            access_token_validity=Duration.minutes(identity.access_token_validity_minutes),
            refresh_token_validity=Duration.days(identity.refresh_token_validity_days),
        )
        self.user_pool = pool
        self.user_pool_client_id = client.user_pool_client_id
        self.issuer = f"https://{pool.user_pool_provider_url}"
        if identity.mfa != "required":
            acknowledge(
                pool, "AwsSolutions-COG2",
                "MFA is optional (TOTP) rather than required so that operators' scripts, "
                "`crudops token` and load-test users can sign in without an interactive "
                "challenge; set identity.mfa to \"required\" to require it.")
        acknowledge(
            pool, "AwsSolutions-COG8",
            "The Essentials plan: Plus adds threat protection billed per monthly active "
            "user, for a pool whose users are created by operators (no self sign-up); "
            "use an existing Plus pool through user_pool_arn where that is wanted.")
