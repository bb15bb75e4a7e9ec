"""The fault drills of scripts/drills.py in their short form, on a cluster of their own.

One three-node RabbitMQ cluster and PostgreSQL (scripts/local_cluster.py, this slot's ports) for the
module; each scenario runs as a subprocess in a session of its own with a watchdog, so a hang fails
that scenario only: its whole process group (the drill, its services, its mail sink) is killed and
the next scenario starts from a repaired cluster. The cluster is torn down when the module ends, at
exit, and before it starts (what a crashed earlier run left behind). The test process's environment
is never changed: the subprocesses get theirs explicitly.
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.drills import SCENARIOS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_TIMEOUT = 180  # three nodes about 10 s each, PostgreSQL, provisioning; on a busy machine
SCENARIO_TIMEOUT = 240  # a short scenario takes 30-60 s; its drain deadline alone is 120 s


def environment():
    """Ours without any SMARTCITY_ setting the test run made for itself, but with its slot."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMARTCITY_")}
    env["SMARTCITY_TEST_SLOT"] = os.environ.get("SMARTCITY_TEST_SLOT", "0")
    return env


def run(args, timeout):
    """(exit status or None after the watchdog killed it, output) of `python -m <args>` in its own session."""
    process = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, output
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def cluster_down():
    run(["scripts.local_cluster", "down"], timeout=60)


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0 or not shutil.which("rabbitmq-server") or not shutil.which("initdb"):
        pytest.skip("the drills start RabbitMQ nodes and PostgreSQL of their own: root, rabbitmq-server and initdb")
    cluster_down()
    atexit.register(cluster_down)
    try:
        status, output = run(["scripts.local_cluster", "up"], timeout=CLUSTER_TIMEOUT)
        if status != 0:
            pytest.fail(f"the drill cluster did not come up (status {status}):\n{output[-4000:]}")
        yield
    finally:
        cluster_down()
        atexit.unregister(cluster_down)


@pytest.mark.timeout(CLUSTER_TIMEOUT + SCENARIO_TIMEOUT + 60)  # ours fire first; pytest-timeout would end the session
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_nothing_is_lost_or_applied_twice_and_every_service_recovers(cluster, scenario, tmp_path):
    figures_file = tmp_path / "drill.json"
    status, output = run(["scripts.drills", "--short", "--use-running-cluster", "-s", scenario,
                          "--json", str(figures_file)], timeout=SCENARIO_TIMEOUT)
    assert status is not None, f"{scenario} hung: killed after {SCENARIO_TIMEOUT} s\n{output[-6000:]}"
    assert figures_file.exists(), f"{scenario} ended without figures (status {status}):\n{output[-6000:]}"
    [result] = json.loads(figures_file.read_text())
    failed = [f"{c['check']}: {c['detail']}" for c in result["checks"] if not c["pass"]]
    assert not failed, "\n".join(failed) + "\n\n" + output[-6000:]
    figures = result["figures"]
    assert figures["accepted"] > 0 and figures["lost"] == 0 and figures["applied_twice"] == 0
    assert status == 0
