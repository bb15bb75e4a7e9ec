"""A service process stops cleanly within 5 seconds of SIGTERM, and never hangs past its watchdog."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.fixtures import assert_stopped_gracefully, sigterm_when

pytestmark = pytest.mark.integration


def test_sigterm_stops_the_service_within_five_seconds(ideas_database):
    env = {**os.environ, "SMARTCITY_IDEAS_HTTP_ADDRESS": "127.0.0.1:18011"}

    def ready():
        try:
            return requests.get("http://127.0.0.1:18011/health/ready", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    code, elapsed, stderr = sigterm_when("ideas", env, ready)
    assert_stopped_gracefully(code, elapsed, stderr)


def test_sigterm_as_soon_as_the_port_opens_waits_for_the_start_then_stops_cleanly(ideas_database):
    """A signal in the middle of nameko's start (its HTTP server listens before the rest has started):
    the stop waits for the start instead of racing it, which could hang with the server still accepting."""
    env = {**os.environ, "SMARTCITY_IDEAS_HTTP_ADDRESS": "127.0.0.1:18012"}

    def listening():
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", 18012)) == 0

    for _ in range(3):
        code, elapsed, stderr = sigterm_when("ideas", env, listening)
        assert_stopped_gracefully(code, elapsed, stderr)


def test_the_watchdog_ends_a_process_whose_event_loop_is_stuck_and_says_where_it_stood():
    """A stop that hangs (here: the whole event loop blocked by a call that is not green) still ends,
    with status 1 and every green thread's stack on stderr."""
    stuck = ("import shared.green\n"
             "import eventlet\n"
             "from eventlet import patcher\n"
             "from shared.runner import start_watchdog\n"
             "def parked_green_thread():\n"
             "    eventlet.sleep(60)\n"
             "eventlet.spawn(parked_green_thread)\n"
             "eventlet.sleep(0)\n"
             "start_watchdog('stuck', 0.5)\n"
             "patcher.original('time').sleep(30)\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", stuck], capture_output=True, text=True, timeout=20,
                          cwd=Path(__file__).resolve().parents[2])
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert "stuck still running 0.5 s after the stop signal; exiting hard" in done.stderr
    assert "parked_green_thread" in done.stderr  # the green threads' stacks
