"""cfn-lint on the synthesized template: what CloudFormation itself would reject."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tools.synth import SynthResult


def _cfn_lint() -> str:
    beside_python = Path(sys.executable).with_name("cfn-lint")
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which("cfn-lint")
    assert found, "cfn-lint is not installed (pip install -e .[dev])"
    return found


# W3005 (a DependsOn that a Ref already implies) is how CDK orders a function after
# its role's policy; the redundancy is harmless and not ours to remove.
IGNORED_CHECKS = ("W3005",)


def test_template_passes_cfn_lint(synthesized: SynthResult) -> None:
    result = subprocess.run(
        [_cfn_lint(), "--format", "parseable", "--ignore-checks", *IGNORED_CHECKS, "--",
         str(synthesized.template)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
