"""The report in a real browser: headless Chromium loads it without console messages, and the
screenshot is not blank.

Skipped when no Chromium binary (``chromium``, ``chromium-browser``, ``google-chrome``) is on
PATH. The page runs no scripts, so Chromium's console only ever speaks when something is wrong
(a Content-Security-Policy violation, a blocked or failed load): any console line fails.
Set ``FARO_REPORT_SCREENSHOT=path.png`` to keep the screenshot.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from faro_audit.audit.result import AuditResult
from faro_audit.report import write_report

pytestmark = pytest.mark.browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0")
CONSOLE = re.compile(r":CONSOLE[(:]|Refused to|Content Security Policy|Failed to load|net::ERR_")


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"no Chromium binary on PATH (looked for {', '.join(BROWSERS)})")


def _screenshot(html_path: Path, png: Path, profile: Path) -> list[str]:
    """Render ``html_path`` to ``png``; return the console lines Chromium logged."""
    cmd = [_browser(), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
           "--window-size=1280,4000", html_path.resolve().as_uri()]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(profile)})
    assert png.is_file(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return [ln for ln in proc.stderr.splitlines() if CONSOLE.search(ln)]


def _pixels(png: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(png) as im:
        return np.asarray(im.convert("RGB"), dtype=np.float64)


def test_report_renders_in_chromium(audit_result: AuditResult, default_html: str,
                                    tmp_path: Path) -> None:
    html = write_report(audit_result, tmp_path / "out", formats=("html",))["html"]
    assert html.read_text(encoding="utf-8") == default_html
    png = tmp_path / "report.png"
    console = _screenshot(html, png, tmp_path / "profile")
    assert console == [], "\n".join(console)
    px = _pixels(png)
    assert px.shape[1] == 1280 and px.shape[0] >= 1000
    assert px.std() > 20.0  # not blank
    top = px[:900]
    # the violated banner: a large area of its light red background (#fee4e2)...
    banner = (np.abs(top - np.array([254, 228, 226])).sum(axis=2) < 12).mean()
    assert banner > 0.05
    # ...and text drawn in the verdict red (#b42318)
    red = (np.abs(top - np.array([180, 35, 24])).sum(axis=2) < 60).sum()
    assert red > 500
    keep = os.environ.get("FARO_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(png, keep)


def test_console_check_catches_a_blocked_load(default_html: str, tmp_path: Path) -> None:
    """The console check must fail when the page tries to load something."""
    bad = tmp_path / "bad.html"
    bad.write_text(default_html.replace(
        "<main>", '<main><img src="http://127.0.0.1:9/x.png" alt="">', 1), encoding="utf-8")
    console = _screenshot(bad, tmp_path / "bad.png", tmp_path / "profile")
    assert console and any("127.0.0.1:9" in ln for ln in console)
