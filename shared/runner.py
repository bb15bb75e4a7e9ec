"""Run one service: `python -m shared.runner ideas`.

Applies pending migrations (as the owner role, when this process has its URL), starts the nameko
container (as the runtime role) and stops it gracefully on SIGTERM or SIGINT: in-flight requests
finish, the outbox is flushed; after 5 s it is killed.
"""
import shared.green  # noqa: F401  (must come first: eventlet and green psycopg2)

import argparse  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import eventlet  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

from shared import config, identities, logs, registry  # noqa: E402
from shared.migrate import migrate  # noqa: E402

STOP_TIMEOUT = 5.0
log = logging.getLogger("shared.runner")


def run(service):
    settings = config.load(service)
    if settings.migration_database_url:
        migrate(service, settings.migration_database_url, identities.user_of(settings.database_url))
    else:
        log.info("%s: no migration URL here (production: a migration job applies them)", service)
    runner = ServiceRunner(settings.nameko_config())
    runner.add_service(registry.spec(service).load_class())

    stopping = []

    def stop(signum, frame):
        if stopping:
            return
        stopping.append(signum)
        log.info("stopping %s (signal %s)", service, signum)

        def stop_or_kill():
            with eventlet.Timeout(STOP_TIMEOUT, False):
                runner.stop()
                return
            log.warning("%s did not stop within %ss; killing it", service, STOP_TIMEOUT)
            runner.kill()

        eventlet.spawn(stop_or_kill)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    log.info("%s started; HTTP on %s", service, settings.http_address)
    # Wake the hub regularly so a signal is acted on at once, even with no I/O pending; ends when
    # the containers stop (after a signal) or die (a crash, re-raised here: non-zero exit).
    waiter = eventlet.spawn(runner.wait)
    while not waiter.dead:
        eventlet.sleep(0.2)
    waiter.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=list(registry.services()))
    args = parser.parse_args(argv)
    logs.configure()
    run(args.service)
    return 0


if __name__ == "__main__":
    sys.exit(main())
