"""Settings every test level shares: a fake AWS identity, Powertools in test mode.

Set before any test module imports a handler, so Powertools reads them at import.
Nothing here reaches a network: integration tests start moto themselves.
"""

from __future__ import annotations

import os

_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "crudops-test",
    "POWERTOOLS_METRICS_NAMESPACE": "CrudopsTest",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
for _name, _value in _TEST_ENVIRONMENT.items():
    os.environ[_name] = _value
# A developer's own profile or endpoint must never leak into the tests.
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
