"""Drop and rebuild every projection by replaying the event log: `smartcity reporting rebuild`.

The log is read in batches through a server-side cursor and folded in memory with the same
rules the live consumer uses (domain.effects); the projections are then emptied and written in
bulk. All of it is one transaction holding a SHARE lock on the log: readers see the old
projections until the commit, and live events wait for it instead of slipping in between.
"""
import sys
import time
from dataclasses import dataclass

import psycopg2
import psycopg2.extras

from . import domain, repository as repo
from .projector import MemoryStore


@dataclass
class Rebuilt:
    events: int
    seconds: float

    @property
    def rate(self):
        return self.events / self.seconds if self.seconds else 0.0


class ProgressBar:
    """A one-line progress bar on a terminal (stderr), redrawn at most ten times a second."""

    def __init__(self, stream=sys.stderr, width=30):
        self.stream, self.width = stream, width
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


def _event(row):
    event_id, event_type, source, subject, when, received_at, data = row
    return domain.Event(id=event_id, type=event_type, source=source, subject=subject, time=when,
                        received_at=received_at, data=data)


def rebuild(dsn, batch_size=10_000, on_progress=lambda done, total: None):
    """Replace every projection with one computed from the whole log; returns how many events and how fast.

    `on_progress(done, total)` is called at the start, after every batch and at the end.
    """
    started = time.perf_counter()
    conn = psycopg2.connect(dsn)
    try:
        with conn:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                total = repo.lock_log(cur)
                on_progress(0, total)
                store, done = MemoryStore(), 0
                for row in repo.log_rows(conn, batch_size):
                    domain.apply(store, domain.effects(_event(row)))
                    done += 1
                    if done % batch_size == 0:
                        on_progress(done, total)
                repo.truncate_projections(cur)
                store.save(cur)
                on_progress(done, total)
    finally:
        conn.close()
    return Rebuilt(events=done, seconds=time.perf_counter() - started)


def rebuild_with_progress_bar(dsn, batch_size=10_000):
    bar = ProgressBar()
    result = rebuild(dsn, batch_size, bar.update)
    bar.close()
    return result
