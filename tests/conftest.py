"""Settings every test level shares: a fake AWS identity, Powertools in test mode.

Set before any test module imports a handler, so Powertools reads them at import.
Nothing here reaches a network: integration tests start moto themselves.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "crudops-test",
    "POWERTOOLS_METRICS_NAMESPACE": "CrudopsTest",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    # Every `crudops local up` a test starts (the runbook walk pastes it as written)
    # takes free ports, not the fixed defaults a developer's own stack may hold.
    "CRUDOPS_PORT": "0",
    "CRUDOPS_AWS_PORT": "0",
}
for _name, _value in _TEST_ENVIRONMENT.items():
    os.environ[_name] = _value
# A developer's own profile or endpoints must never leak into the tests.
for _name in [n for n in os.environ
              if n in ("AWS_PROFILE", "AWS_ENDPOINT_URL") or n.startswith("AWS_ENDPOINT_URL_")]:
    os.environ.pop(_name, None)
# Tests press Ctrl-C (SIGINT) on the processes they start, as a terminal does to its
# foreground job. A suite started in the background of a non-interactive shell
# inherits SIGINT ignored, and so would those processes: give them the default back.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


E2E_DIRECTORY = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`./dev test` runs two pytest-xdist workers with `--dist loadgroup`: every e2e
    test in one group, so that they share the one local stack their package starts
    (tests/e2e/conftest.py) and run in their order, on one worker, while the other
    takes the unit, integration and infra tests. The e2e tests mostly wait (on
    visibility timeouts, alarms, pollers), the others mostly compute."""
    for item in items:
        if E2E_DIRECTORY in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.fixture(scope="session")
def synth_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdk.out")


@pytest.fixture(scope="session")
def synthesized(synth_outdir: Path) -> object:
    """The app synthesized once per session with default settings (cdk-nag included).

    Through CDK_OUTDIR, not `out`, so the one synth also proves the variable is honoured.
    Imported lazily: tests that never ask for the template do not start Node.js.
    """
    from tools.synth import do_synth

    return do_synth(None, environ={"CDK_OUTDIR": str(synth_outdir)})


@pytest.fixture(scope="session")
def crudops_template(synthesized: object) -> object:
    """The synthesized template as the local stack reads it."""
    from crudops_local.cloudformation.template import Template
    from tools.synth import SynthResult

    assert isinstance(synthesized, SynthResult)
    return Template.load(synthesized.template)
