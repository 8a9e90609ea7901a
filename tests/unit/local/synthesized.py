"""The app's CloudFormation template, synthesized once per test process.

Shared by the unit and integration tests of the local gateway: the gateway reads
everything (routes, templates, models, WAF rule) from it, so the tests exercise the
real configuration rather than a copy.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from tools.local.template import Template
from tools.synth import do_synth


@functools.cache
def synthesized_template() -> Template:
    out = Path(tempfile.mkdtemp(prefix="crudops-gateway-synth-"))
    result = do_synth(out)
    return Template.load(result.template)
