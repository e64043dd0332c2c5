"""The HTML report in a real browser: headless Chromium loads it and draws it.

Chromium comes from Debian's packages (``.ci/browser`` installs it); without it this test
skips, except under CI=true, where it must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from loyaltykit.demo import run_demo
from loyaltykit.feed import apply_feed
from loyaltykit.reports import CHARTS


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/browser installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def headless(browser: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_report_loads_and_draws_in_chromium(tmp_path: Path) -> None:
    browser = chromium()
    result = run_demo(
        tmp_path, members=60, complaints=3, importer=lambda lo, rows, _n, _l: apply_feed(lo, rows)
    )
    address = result.html.resolve().as_uri()
    dom = headless(browser, "--dump-dom", address)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # the page Chromium parsed holds every chart as drawn SVG, and the figures
    for chart, _title in CHARTS:
        assert f'data-chart="{chart}"><svg' in dom.stdout, chart
    assert "Net liability" in dom.stdout
    shot = tmp_path / "report.png"
    taken = headless(browser, "--window-size=1200,2400", f"--screenshot={shot}", address)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a drawn page, not a blank one
