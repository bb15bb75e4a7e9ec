"""The reporting service's `smartcity` commands (registered through its ServiceSpec):

  smartcity reporting rebuild [--batch-size N]   replay the event log into fresh projections
"""
import sys
import time

from shared import config


class ProgressBar:
    """A one-line progress bar on a terminal (stderr), redrawn at most ten times a second."""

    def __init__(self, stream=None, width=30):
        self.stream, self.width = stream or sys.stderr, width  # sys.stderr as it is now (tests capture it)
        self.started = time.perf_counter()
        self.drawn = 0.0

    def update(self, done, total):
        now = time.perf_counter()
        if now - self.drawn < 0.1 and 0 < done < total:
            return
        self.drawn = now
        share = done / total if total else 1.0
        filled = int(share * self.width)
        rate = done / (now - self.started) if now > self.started else 0.0
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{total:,} events"
                          f" {share:4.0%} {rate:,.0f}/s")
        self.stream.flush()

    def close(self):
        self.stream.write("\n")


def _rebuild(args):
    from .rebuild import rebuild  # only when run: `smartcity --help` stays quick

    bar = ProgressBar()
    result = rebuild(config.load("reporting").database_url, args.batch_size, bar.update)
    bar.close()
    print(f"rebuilt the reporting projections from {result.events:,} events in {result.seconds:.2f} s"
          f" ({result.rate:,.0f} events/s)")
    return 0


def register(subparsers):
    p = subparsers.add_parser("reporting", help="reporting service tasks: rebuild its projections from its event log")
    p.add_argument("action", choices=["rebuild"])
    p.add_argument("--batch-size", type=int, default=10_000, help="events fetched per round trip (default 10000)")
    p.set_defaults(func=_rebuild)
