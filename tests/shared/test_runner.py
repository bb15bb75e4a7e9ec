"""A service process stops cleanly within 5 seconds of SIGTERM."""
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.fixtures import wait_for

pytestmark = pytest.mark.integration


def test_sigterm_stops_the_service_within_five_seconds(ideas_database):
    env = {**os.environ, "SMARTCITY_IDEAS_HTTP_ADDRESS": "127.0.0.1:18011"}
    process = subprocess.Popen([sys.executable, "-m", "shared.runner", "ideas"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def ready():
            try:
                return requests.get("http://127.0.0.1:18011/health/ready", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False
        wait_for(ready, timeout=30, interval=0.2, message="service ready")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
        elapsed = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, process.stderr.read().decode()[-2000:]
    assert elapsed < 5.0, f"took {elapsed:.1f}s to stop"
