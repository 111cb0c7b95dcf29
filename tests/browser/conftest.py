"""Browser fixtures: Debian's Chromium driven by Playwright (executable_path, no download)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        if IN_CI:
            raise
        pytest.skip(f"playwright is not installed ({exc}); run scripts/test")
    if not Path(CHROMIUM).exists():
        if IN_CI:
            raise RuntimeError("Chromium is required in CI (scripts/test installs it)")
        pytest.skip("Chromium not installed (Debian package 'chromium'); run scripts/test")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()
