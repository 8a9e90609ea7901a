"""Fixtures of the local-stack unit tests."""

from __future__ import annotations

import pytest

from tests.unit.local.synthesized import synthesized_template
from tools.local.template import Template


@pytest.fixture(scope="session")
def crudops_template() -> Template:
    return synthesized_template()
