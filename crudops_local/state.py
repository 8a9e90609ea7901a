"""Where a local stack keeps what it leaves on disk under `.crudops/`.

The state file is what `crudops local up` writes (crudops_local/run.py) and every
`--local` command reads (tools/stacks.py): both import its path from here, and this
module imports nothing, so the CLI gets the path without loading the emulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

STATE_DIR: Final = Path(".crudops")
# The running local stack's description (JSON): its endpoints, resources, log dir, ...
STATE_FILE: Final = STATE_DIR / "local-stack.json"
# Where its functions write `<function name>.log`, unless the stack is told otherwise.
LOG_DIR: Final = STATE_DIR / "logs"
# The ledgers of what stacks created on endpoints they do not own.
RUNS_DIR: Final = STATE_DIR / "runs"
# The X-Ray daemon's requestId → trace index, relative to the log directory.
TRACE_INDEX: Final = Path("xray") / "index.jsonl"
# A fault plan (crudops_local/faults.py): present only while `crudops verify --faults`
# runs; the running stack and its workers read it as it changes.
FAULT_PLAN: Final = STATE_DIR / "faults.json"
