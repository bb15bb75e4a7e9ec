"""Runs tests/browser/browser.mjs (Playwright over Debian's Chromium, axe-core) and returns its JSON answer."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "browser.mjs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def run_browser(job, timeout=180):
    """Send `job` to the browser script; its JSON result. Skips where Chromium or the npm packages are missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (scripts/ensure_infra.sh installs it as root)")
    if not (ROOT / "node_modules" / "playwright-core").is_dir():
        pytest.skip("npm packages are not installed (make node)")
    done = subprocess.run(["node", str(SCRIPT)], input=json.dumps({"chromium": CHROMIUM, **job}), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def assert_accessible(url, result):
    """No serious or critical axe-core violation; skip link first; landmarks; the page's language."""
    assert result["status"] < 400, (url, result["status"])
    assert result["violations"] == [], (url, result["violations"])
    first = result["firstFocus"]
    assert first["href"] == "#main" and first["top"] >= 0, (url, first)  # visible when focused
    assert first["outline"] != "none", (url, first)  # focus is visible
    marks = result["landmarks"]
    assert (marks["main"], marks["header"], marks["footer"], marks["h1"]) == (1, 1, 1, 1), (url, marks)
    assert marks["nav"] >= 1 and marks["lang"] in ("de", "en"), (url, marks)
