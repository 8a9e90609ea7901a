"""A headless Chromium for tests that look at a page as a person would.

Playwright drives the system's Chromium (Debian's package, which `.ci/run` installs):
Playwright's own browser download cannot be fetched on these machines. The flags keep
Chromium from calling home (the closed network refuses those connections) and from
needing a sandbox or a GPU; each browser gets a fresh profile.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)


def browser_missing() -> str | None:
    """Why no browser test can run here, or None."""
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (`apt-get install chromium`; .ci/run does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    return None


@contextmanager
def chromium_context(viewport: tuple[int, int] = (1400, 1800)) -> Iterator[Any]:
    """A Playwright browser context on the system Chromium, with its own profile."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="crudops-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True,
                args=list(CHROMIUM_ARGS),
                viewport={"width": viewport[0], "height": viewport[1]})
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
