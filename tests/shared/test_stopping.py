"""A stopping service refuses new requests (503, Retry-After) before it closes its database pool and
lets the ones in flight finish: under a stream of writes, SIGTERM gives no 500 and loses no 2xx write.
(A SIGTERM during the start: tests/shared/test_runner.py.)"""
import os
import signal
import subprocess
import sys

import eventlet
import pytest
import requests

from tests.conftest import SLOT
from tests.fixtures import wait_for
from tests.shared.test_outages import IDEA

pytestmark = pytest.mark.integration

PORT = 18000 + 100 * SLOT + 43


def _runner(env):
    return subprocess.Popen([sys.executable, "-m", "shared.runner", "ideas"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_sigterm_under_a_stream_of_writes_answers_only_2xx_or_503_and_keeps_every_2xx_write(ideas_sql, auth):
    env = {**os.environ, "SMARTCITY_IDEAS_HTTP_ADDRESS": f"127.0.0.1:{PORT}"}
    base = f"http://127.0.0.1:{PORT}"
    process = _runner(env)
    answers, created = [], []

    def ready():
        try:
            return requests.get(base + "/health/ready", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def writer(n):
        session = requests.Session()
        headers = auth("citizen", subject=f"stopping-{n}")
        while True:
            try:
                response = session.post(base + "/api/v1/ideas", json=IDEA, headers=headers, timeout=10)
            except requests.ConnectionError:
                return  # the server is gone: the stop is over
            answers.append(response.status_code)
            if response.status_code == 201:
                created.append(response.json()["id"])
            elif response.status_code == 503:
                assert response.headers["Retry-After"] and response.json()["error"]["code"] == "unavailable"

    try:
        wait_for(ready, timeout=30, interval=0.2, message="ideas ready")
        writers = [eventlet.spawn(writer, n) for n in range(6)]
        wait_for(lambda: len(answers) >= 30, timeout=20, message="writes flowing")
        process.send_signal(signal.SIGTERM)
        for thread in writers:
            thread.wait()
        code = process.wait(timeout=15)
        stderr = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, stderr[-2000:]
    assert set(answers) <= {201, 503}, sorted(set(answers))
    stored = {str(row[0]) for row in ideas_sql("SELECT id FROM ideas WHERE id = ANY(%s::uuid[])", (created,))}
    assert stored == set(created), f"{len(set(created) - stored)} answered 201 but not stored"
    assert "connection pool is closed" not in stderr

