"""Fixtures of the infra tests: the app is synthesized once per test session.

Synthesis runs cdk-nag, so a session that gets past this fixture has already proven
the stack has no unacknowledged finding.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.settings import StackSettings
from tests.infra.helpers import Resources
from tools.synth import SynthResult


@pytest.fixture(scope="session")
def template_json(synthesized: SynthResult) -> dict[str, Any]:
    return dict(json.loads(synthesized.template.read_text()))


@pytest.fixture(scope="session")
def template(template_json: dict[str, Any]) -> Template:
    return Template.from_json(template_json)


@pytest.fixture(scope="session")
def settings() -> StackSettings:
    return StackSettings()


@pytest.fixture(scope="session")
def resources(template_json: dict[str, Any]) -> Resources:
    return dict(template_json["Resources"])
