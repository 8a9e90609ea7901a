"""`StackSettings`: derived values, AWS limits, overrides from CDK context."""

from __future__ import annotations

import pytest

from functions.settings import DEFAULTS
from infra.settings import (
    FunctionSizing,
    IdentitySettings,
    QueueConsumer,
    SettingsError,
    StackSettings,
)

POOL_ARN = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123"


def test_visibility_timeout_is_derived_not_set() -> None:
    consumer = QueueConsumer(
        batch_size=50, max_batching_window_seconds=5,
        function=FunctionSizing(timeout_seconds=20),
    )
    assert consumer.visibility_timeout_seconds == 6 * 20 + 5


def test_defaults_agree_with_the_functions_defaults() -> None:
    settings = StackSettings()
    assert settings.max_receive_count == DEFAULTS.max_receive_count >= 5
    assert settings.dlq_retention_seconds == 14 * 24 * 3600
    assert settings.powertools_layer_version == 27


@pytest.mark.parametrize(
    "build",
    [
        lambda: StackSettings(max_receive_count=4),
        lambda: StackSettings(log_retention_days=10),
        lambda: StackSettings(max_body_bytes=65 * 1024),
        lambda: StackSettings(max_subscriptions_per_connection=0),
        lambda: StackSettings(dlq_retention_seconds=3600),
        lambda: QueueConsumer(batch_size=20),
        lambda: QueueConsumer(max_concurrency=1),
        lambda: FunctionSizing(timeout_seconds=901),
        lambda: StackSettings(user_pool_arn=POOL_ARN),
        lambda: StackSettings(user_pool_client_id="client"),
        lambda: StackSettings(user_pool_arn="arn:aws:s3:::bucket", user_pool_client_id="c"),
        lambda: StackSettings(user_pool_arn=POOL_ARN.replace("eu-west-1_", "us-east-1_"),
                              user_pool_client_id="client"),
        lambda: StackSettings(user_pool_arn=POOL_ARN, user_pool_client_id="no spaces"),
        lambda: IdentitySettings(password_min_length=7),
        lambda: IdentitySettings(mfa="off"),
        lambda: IdentitySettings(id_token_validity_minutes=4),
        lambda: IdentitySettings(refresh_token_validity_days=0),
    ],
)
def test_out_of_range_settings_are_refused(build: object) -> None:
    with pytest.raises(SettingsError):
        build()  # type: ignore[operator]


def test_context_overrides_nested_fields_and_coerces_strings() -> None:
    settings = StackSettings.from_context(
        '{"max_receive_count": "8", "create": {"batch_size": 5, '
        '"function": {"timeout_seconds": 12}}}'
    )
    assert settings.max_receive_count == 8
    assert settings.create.batch_size == 5
    assert settings.create.visibility_timeout_seconds == 72
    assert settings.read == StackSettings().read


def test_context_rejects_unknown_names() -> None:
    with pytest.raises(SettingsError, match="unknown"):
        StackSettings.from_context({"max_recieve_count": 8})


def test_no_context_means_defaults() -> None:
    assert StackSettings.from_context(None) == StackSettings()


def test_an_existing_pool_comes_from_context_as_both_of_its_settings() -> None:
    settings = StackSettings.from_context(
        {"user_pool_arn": POOL_ARN, "user_pool_client_id": "client",
         "identity": {"mfa": "required", "password_min_length": "16"}})
    assert (settings.user_pool_arn, settings.user_pool_client_id) == (POOL_ARN, "client")
    assert settings.identity == IdentitySettings(mfa="required", password_min_length=16)
    assert StackSettings().user_pool_arn == StackSettings().user_pool_client_id == ""
