"""Playwright on Debian's chromium (installed by `make test`); screenshots go to test-artifacts/."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.settings import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is
    open, which would break asyncio.run() in tests collected after the browser tests."""
    from playwright.sync_api import sync_playwright

    executable = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    if not executable.is_file():
        pytest.fail(f"{executable} missing: run `make test` (it installs Debian chromium) or set CHROMIUM_PATH")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture()
def screenshot():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def record_timing(**values: float) -> None:
    """Timings for the closing notes, kept beside the screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "timings.json"
    timings = json.loads(path.read_text()) if path.is_file() else {}
    timings.update({key: round(value, 3) for key, value in values.items()})
    path.write_text(json.dumps(timings, indent=2))
