"""The code a function's copy on the emulator is registered with: a stand-in.

The functions run in the local runtime's workers from the synthesized asset
(crudops_local/lambda_/); the emulator's copy is there to be listed, not run. A zip of
the real asset would cost a compression per start for nothing, and worse, an emulator
with Docker (moto, LocalStack) would then run the real handler in a container, against
endpoints and a WebSocket callback URL it cannot reach, and half work. The stand-in
has the handler's module at the handler's path, so whatever runs it hears one clear
error instead. Its bytes are fixed (no timestamps), so its `CodeSha256` is the same
every run.
"""

from __future__ import annotations

import io
import zipfile

# What `aws lambda invoke` against the emulator answers when the emulator does run
# the code (with Docker); without Docker moto answers its own "error running docker".
STAND_IN_MESSAGE = (
    "this function runs in the crudops local stack's own runtime, not in this endpoint's "
    "Lambda: send it its events through the local stack (its REST or WebSocket API, or "
    "its queues); see crudops_local/cloudformation/LIMITS.md")
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_SOURCE = '''"""Stand-in for a function the crudops local stack runs itself."""

MESSAGE = {message!r}


class LocalRuntimeOnlyError(RuntimeError):
    pass


def {function}(event, context):
    raise LocalRuntimeOnlyError(MESSAGE)
'''


def module_path(handler: str) -> tuple[str, str]:
    """`pkg.module.function` → (`pkg/module.py`, `function`), as Python's runtime reads it."""
    module, _, function = handler.rpartition(".")
    if not module or not function:
        raise ValueError(f"handler {handler!r} is not module.function")
    return module.replace(".", "/") + ".py", function


def stand_in_zip(handler: str) -> bytes:
    """A deployment package whose handler raises `LocalRuntimeOnlyError`."""
    path, function = module_path(handler)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        entry = zipfile.ZipInfo(path, date_time=_ZIP_TIMESTAMP)
        entry.external_attr = 0o644 << 16
        package.writestr(entry, _SOURCE.format(message=STAND_IN_MESSAGE, function=function),
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
