"""The built-in dashboard, loaded by a real browser: headless Chromium renders it and takes a screenshot."""
import shutil
import struct
import subprocess
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.event_stream import envelope
from shared.events import service_of
from tests.reporting.helpers import wait_applied
from tests.reporting.test_api import scenario

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 1100
SCREENSHOT = Path(__file__).resolve().parents[2] / "bench" / "results" / "dashboard.png"


def chromium(*args, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (scripts/ensure_infra.sh installs it as root)")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={WIDTH},{HEIGHT}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout


def png_pixels(path):
    """(width, height, distinct scanline contents) of an 8-bit RGB(A) PNG, with the standard library only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"IDAT":
            chunks.append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    stride = 1 + width * {2: 3, 6: 4}[colour] * depth // 8
    rows = {raw[i * stride + 1:(i + 1) * stride] for i in range(height)}
    return width, height, rows


def test_the_dashboard_renders_the_summary_in_a_browser(reporting_api, reporting_sql, reporting_url, publish_event,
                                                         tmp_path):
    today = datetime.now(timezone.utc).replace(hour=10, minute=0, second=0, microsecond=0)
    recent = [envelope("IdeaSubmitted", uuid.uuid4(), today - timedelta(days=day), author_id=f"citizen-{day}")
              for day in (0, 1, 1, 3, 6, 6, 6, 12, 20)]
    events = scenario() + recent
    for event in events:
        publish_event(service_of(event["type"]), event["type"], envelope=event)
    wait_applied(reporting_sql, len(events))
    page = reporting_api("GET", "/dashboard")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "<script" not in page.text and "http://" not in page.text.split("</head>")[0]

    dom = chromium("--dump-dom", reporting_url + "/dashboard", tmp_path=tmp_path)
    assert '<b id="kpi-ideas">12</b>' in dom
    assert '<b id="kpi-votes">3</b>' in dom
    assert '<b id="kpi-participants">9</b>' in dom
    assert 'data-value="3"><title>' in dom  # three submissions six days ago
    assert '<b id="kpi-on-time">100%</b>' in dom
    assert 'data-label="pilot" data-value="1"' in dom

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    chromium(f"--screenshot={SCREENSHOT}", reporting_url + "/dashboard", tmp_path=tmp_path)
    width, height, rows = png_pixels(SCREENSHOT)
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(rows) > 100  # not blank: many different scanlines (charts, text)
