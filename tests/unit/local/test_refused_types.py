"""The local stack refuses a template with the AWS FIS experiment (ADR 0028), in one
line with a hint, before it creates or starts anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crudops_local.cloudformation.refused import REFUSED_TYPES, refuse_what_needs_aws
from crudops_local.cloudformation.template import Template
from crudops_local.errors import ConfigurationError
from crudops_local.run import LocalStack, LocalStackOptions

QUEUE = {"Type": "AWS::SQS::Queue"}
EXPERIMENT = {"Type": "AWS::FIS::ExperimentTemplate", "Properties": {"Description": "x"}}


def test_a_template_without_an_experiment_passes() -> None:
    refuse_what_needs_aws(Template({"Resources": {"Queue": QUEUE}}))


def test_a_template_with_an_experiment_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "Crudops.template.json"
    path.write_text(json.dumps({"Resources": {"Queue": QUEUE, "Faults": EXPERIMENT}}))
    with pytest.raises(ConfigurationError) as raised:
        refuse_what_needs_aws(Template.load(path))
    line = raised.value.one_line()
    assert "\n" not in line
    assert "Faults is AWS::FIS::ExperimentTemplate" in line and str(path) in line
    assert "crudops:fis" in line and "--faults all" in raised.value.hint


def test_the_local_stack_refuses_it_before_it_starts_anything(tmp_path: Path) -> None:
    path = tmp_path / "Crudops.template.json"
    path.write_text(json.dumps({"Resources": {"Faults": EXPERIMENT}}))
    state_file = tmp_path / "state.json"
    with pytest.raises(ConfigurationError, match="AWS::FIS::ExperimentTemplate"):
        LocalStack(LocalStackOptions(template=path, state_file=state_file,
                                     log_dir=tmp_path / "logs", runs_dir=None))
    assert not state_file.exists() and not (tmp_path / "logs").exists()


def test_every_refused_type_says_why_and_what_to_do() -> None:
    for reason, hint in REFUSED_TYPES.values():
        assert reason and hint
