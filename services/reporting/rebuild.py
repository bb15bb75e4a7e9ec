"""Rebuild the projections of a reporting database from outside the running service.

`smartcity reporting rebuild` (cli.py) and the benchmark call this with a database URL; the
work itself is the use case recording.rebuild, in a unit of work on a connection of its own.
"""
import time
from dataclasses import dataclass

from shared.db import Pool, SqlUnitOfWork

from . import recording
from .repository import ReportingRepository


@dataclass
class Rebuilt:
    events: int
    seconds: float

    @property
    def rate(self):
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(dsn, batch_size=10_000, on_progress=lambda done, total: None):
    """Replace every projection with one computed from the whole log; returns how many events and how fast."""
    started = time.perf_counter()
    pool = Pool(dsn, 1)
    try:
        events = recording.rebuild(SqlUnitOfWork("reporting", pool, ReportingRepository), batch_size, on_progress)
    finally:
        pool.close()
    return Rebuilt(events=events, seconds=time.perf_counter() - started)
