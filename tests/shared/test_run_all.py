"""`make run` supervises: a service that crashes is started again (with a log line), with a growing pause
while it keeps crashing; stopping stops them all and starts nothing again. Small fake children stand in
for the services: the supervision is the same for any process."""
import signal
import sys
import time

from scripts.run_all import Supervisor
from tests.fixtures import wait_for

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]


def _watch(supervisor, until, timeout=15):
    def done():
        supervisor.check()
        return until()
    wait_for(done, timeout=timeout, interval=0.05, message="the supervisor")


def test_a_killed_service_is_started_again_with_a_log_line():
    said = []
    supervisor = Supervisor({"ideas": SLEEPER, "voting": SLEEPER}, say=said.append)
    try:
        first = supervisor.start_all()["ideas"]
        other = supervisor.processes["voting"]
        first.send_signal(signal.SIGKILL)
        _watch(supervisor, lambda: supervisor.processes["ideas"] is not first)
        assert said == ["ideas exited with -9; restarting in 1 s"]
        assert supervisor.processes["ideas"].poll() is None  # running again
        assert supervisor.processes["voting"] is other and other.poll() is None  # the others untouched
    finally:
        supervisor.stop_all()
    assert all(process.poll() is not None for process in supervisor.processes.values())


def test_a_service_that_keeps_crashing_waits_longer_each_time():
    said = []
    supervisor = Supervisor({"reporting": CRASHER}, say=said.append, first_delay=0.1, max_delay=0.4)
    try:
        supervisor.start_all()
        _watch(supervisor, lambda: len(said) >= 4)
    finally:
        supervisor.stop_all()
    assert said[:4] == [f"reporting exited with 3; restarting in {delay:g} s" for delay in (0.1, 0.2, 0.4, 0.4)]


def test_stopping_stops_every_service_and_restarts_none():
    said = []
    supervisor = Supervisor({"ideas": SLEEPER, "notifications": SLEEPER}, say=said.append, first_delay=0.01)
    supervisor.start_all()
    started = time.monotonic()
    supervisor.stop_all(timeout=5)
    assert time.monotonic() - started < 5
    assert [process.returncode for process in supervisor.processes.values()] == [-signal.SIGTERM] * 2
    time.sleep(0.05)
    supervisor.check()
    assert said == [] and all(process.poll() is not None for process in supervisor.processes.values())
