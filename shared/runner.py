"""Run one service: `python -m shared.runner ideas`.

Applies pending migrations (as the owner role, when this process has its URL), starts the nameko
container (as the runtime role) and stops it gracefully on SIGTERM or SIGINT: new HTTP requests get
503 (shared.web), in-flight requests finish, the outbox is flushed; after 5 s it is killed. A
watchdog on an operating-system thread (it runs even when the event loop is stuck) ends the process
3 s after that, printing where every green thread stood: a pod must not outlive its grace period,
and a hang must say where it hung.
"""
import shared.green  # noqa: F401  (must come first: eventlet and green psycopg2)

import argparse  # noqa: E402
import gc  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402

import eventlet  # noqa: E402
import greenlet  # noqa: E402
from eventlet import patcher  # noqa: E402
from eventlet.event import Event  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

from shared import config, identities, logs, registry  # noqa: E402
from shared.migrate import migrate  # noqa: E402

STOP_TIMEOUT = 5.0
HARD_EXIT_AFTER = STOP_TIMEOUT + 3.0
log = logging.getLogger("shared.runner")
_real_threading = patcher.original("threading")
_real_time = patcher.original("time")


def green_stacks():
    """Where each green thread stands, for the watchdog's last words."""
    stacks = []
    for obj in gc.get_objects():
        if isinstance(obj, greenlet.greenlet) and obj.gr_frame is not None:
            stacks.append("".join(traceback.format_stack(obj.gr_frame)))
    return stacks


def start_watchdog(service, seconds=HARD_EXIT_AFTER):
    """End the process `seconds` from now whatever the event loop does (exit status 1)."""

    def watch():
        _real_time.sleep(seconds)
        # Plain writes to the file descriptor: the logging module's locks are green and may be held.
        os.write(2, f"{service} still running {seconds:g} s after the stop signal; exiting hard. "
                    f"Green threads:\n".encode())
        for stack in green_stacks():
            os.write(2, (stack + "--\n").encode(errors="replace"))
        os._exit(1)

    _real_threading.Thread(target=watch, name="stop-watchdog", daemon=True).start()


def run(service):
    settings = config.load(service)
    if settings.migration_database_url:
        migrate(service, settings.migration_database_url, identities.user_of(settings.database_url))
    else:
        log.info("%s: no migration URL here (production: a migration job applies them)", service)
    runner = ServiceRunner(settings.nameko_config())
    runner.add_service(registry.spec(service).load_class())

    stopping, started = [], Event()

    def stop(signum, frame):
        if stopping:
            return
        stopping.append(signum)
        log.info("stopping %s (signal %s)", service, signum)
        start_watchdog(service)

        def stop_or_kill():
            # A signal during start (a pod stopped at once, a quick Ctrl-C) waits for the start to end:
            # nameko's stop racing its own start can hang with the HTTP server still accepting.
            started.wait()
            with eventlet.Timeout(STOP_TIMEOUT, False):
                runner.stop()
                return
            log.warning("%s did not stop within %ss; killing it", service, STOP_TIMEOUT)
            runner.kill()

        eventlet.spawn(stop_or_kill)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    started.send(True)
    log.info("%s started; HTTP on %s", service, settings.http_address)
    # Wake the hub regularly so a signal is acted on at once, even with no I/O pending; ends when
    # the containers stop (after a signal) or die (a crash, re-raised here: non-zero exit).
    waiter = eventlet.spawn(runner.wait)
    while not waiter.dead:
        eventlet.sleep(0.2)
    waiter.wait()
    if stopping:
        # Stopped: every connection and pool is closed. Skip the interpreter's own teardown, which
        # would wait for threads that libraries left behind.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=list(registry.services()))
    args = parser.parse_args(argv)
    logs.configure()
    run(args.service)
    return 0


if __name__ == "__main__":
    sys.exit(main())
