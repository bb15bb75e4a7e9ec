"""A service process stops cleanly within 5 seconds of SIGTERM."""
import os

import pytest
import requests

from tests.fixtures import sigterm_when

pytestmark = pytest.mark.integration


def test_sigterm_stops_the_service_within_five_seconds(ideas_database):
    env = {**os.environ, "SMARTCITY_IDEAS_HTTP_ADDRESS": "127.0.0.1:18011"}

    def ready():
        try:
            return requests.get("http://127.0.0.1:18011/health/ready", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    code, elapsed, stderr = sigterm_when("ideas", env, ready)
    assert code == 0, stderr
    assert elapsed < 5.0, f"took {elapsed:.1f}s to stop"
