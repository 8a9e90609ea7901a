"""One provider per CloudFormation type: every type the template uses has one, and each
provider's delete counts its own "already gone" codes as done (and only its own)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.cloudformation.providers import PROVIDERS, provider_for
from crudops_local.cloudformation.providers.placeholders import Placeholder
from crudops_local.cloudformation.teardown import CreatedResource, ResourceLedger, teardown
from crudops_local.cloudformation.template import Template

DELETABLE = sorted(kind for kind, provider in PROVIDERS.items() if provider.gone_codes)


def test_every_type_the_template_uses_has_a_registered_provider(
        crudops_template: Template) -> None:
    used = {resource.type for resource in crudops_template.resources.values()}
    assert used - set(PROVIDERS) == set()
    # a type nobody registered still resolves, as an id only
    assert isinstance(provider_for("AWS::S3::Bucket"), Placeholder)


def test_what_is_created_in_the_endpoint_can_be_removed_from_its_service() -> None:
    for kind, provider in PROVIDERS.items():
        assert provider.type == kind
        if provider.created_in_endpoint:
            assert provider.service is not None and provider.gone_codes, kind


class _Refusing:
    """A client whose every call fails with one error code."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.services: list[str] = []

    def __call__(self, service: str) -> Any:
        self.services.append(service)
        code = self.code

        class Client:
            def __getattr__(self, operation: str) -> Any:
                def call(**kwargs: Any) -> Any:
                    raise ClientError({"Error": {"Code": code, "Message": code}}, operation)
                return call

        return Client()


def _ledger(kind: str) -> ResourceLedger:
    ledger = ResourceLedger(AwsEndpoint("http://127.0.0.1:1", "us-east-1"), "123456789012",
                            "Crudops-local-abc123", None)
    ledger.record(CreatedResource("R", kind, "ref-of-R"))
    return ledger


@pytest.mark.parametrize("kind", DELETABLE)
def test_a_delete_answered_with_one_of_its_gone_codes_is_done(kind: str) -> None:
    provider = PROVIDERS[kind]
    for code in sorted(provider.gone_codes):
        client = _Refusing(code)
        report = teardown(_ledger(kind), client)
        assert report.ok and report.already_gone == ["R"], (kind, code)
        assert client.services == [provider.service]


@pytest.mark.parametrize("kind", DELETABLE)
def test_another_types_gone_code_is_a_failure(kind: str) -> None:
    foreign = sorted({code for provider in PROVIDERS.values() for code in provider.gone_codes}
                     - PROVIDERS[kind].gone_codes)
    assert foreign
    for code in foreign:
        report = teardown(_ledger(kind), _Refusing(code))
        assert set(report.failed) == {"R"} and report.already_gone == [], (kind, code)


def test_a_type_with_no_way_to_remove_it_stays_in_the_ledger() -> None:
    report = teardown(_ledger("AWS::WAFv2::WebACL"), _Refusing("Unused"))
    assert set(report.failed) == {"R"} and "no way to remove" in report.failed["R"]
