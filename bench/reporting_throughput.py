"""Reporting throughput: events applied per second, lag at 1,000 events/s offered, rebuild speed.

In one invocation, against a raw kombu baseline measured in the same run:

* **drain**: N events (a realistic mix of every type) are published while nothing consumes them;
  the baseline, a plain kombu consumer acking each message on arrival (prefetch = the service's
  MAX_WORKERS), drains its copy; then the real service (`python -m shared.runner reporting`)
  starts and drains its own: events applied per second from the log's received_at;
* **lag**: RATE events/s offered for SECONDS (each stamped `time` = now), consumed by the running
  service and the baseline at once; lag = application time - event time, p50 and p99;
* **rebuild**: `smartcity reporting rebuild`'s function over the whole log, padded with copies to
  --rebuild-events.

Ratios: applied/s and rebuild/s over the baseline's consume/s; lag p99 over the baseline's.
It uses its own database (smartcity_reporting_bench, recreated and dropped at the end), port
18104 and the RabbitMQ vhost smartcity_bench (see bench/harness.py), never the dev or test ones.

    make bench-reporting
    .venv/bin/python -m bench.reporting_throughput --events 20000 --rate 1000 --seconds 10

The exit status is 1 when a target fails: service drain >= RATE, lag p99 < 1 s, rebuild >= 10,000/s.
"""
import argparse
import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg2
from kombu import Connection, Queue, binding

from bench.harness import (amqp_uri, bench_dsn, drop_database, percentile, port_in_use, progress,
                           recreate_database, stop, wait_ready)
from services.reporting.rebuild import rebuild
from services.reporting.service import EVERY_EVENT, ReportingService
from shared import config
from shared.amqp import Publisher, event_exchange
from shared.envelope import CONTENT_TYPE, exchange_of
from shared.events import service_of
from tests.reporting.factory import mixed_stream

DATABASE = "smartcity_reporting_bench"
HOST, PORT = "127.0.0.1", 18104
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BASELINE_QUEUE = "bench-reporting-baseline"
PUBLISH_BATCH = 500
DRAIN_TIMEOUT = 120.0

TARGET_REBUILD_RATE = 10_000
TARGET_LAG_P99_S = 1.0


@dataclass
class Figures:
    baseline_drain_rate: float
    service_drain_rate: float
    baseline_lag_p50_ms: float
    baseline_lag_p99_ms: float
    service_lag_p50_ms: float
    service_lag_p99_ms: float
    offered_rate: float
    rebuild_events: int
    rebuild_rate: float


# --- the broker ---------------------------------------------------------------------------

def routes_queue(name):
    """A durable queue bound to every event type, as the service's own queue is."""
    bindings = [binding(event_exchange(exchange_of(source)), routing_key=event_type)
                for source, event_type in EVERY_EVENT]
    return Queue(name, bindings=bindings, durable=True)


def service_queue_name():
    [subscriber] = ReportingService.on_event.nameko_entrypoints
    return subscriber.queue_name(ReportingService.name, "on_event")


def fresh_queues(uri):
    with Connection(uri) as conn:
        channel = conn.channel()
        for name in (BASELINE_QUEUE, service_queue_name()):
            channel.queue_delete(name)
            routes_queue(name)(channel).declare()
        channel.close()


def publish(publisher, events):
    for start in range(0, len(events), PUBLISH_BATCH):
        publisher.publish_many([
            dict(body=json.dumps(event), exchange=exchange_of(service_of(event["type"])), routing_key=event["type"],
                 content_type=CONTENT_TYPE, message_id=event["id"],
                 declare=[event_exchange(exchange_of(service_of(event["type"])))])
            for event in events[start:start + PUBLISH_BATCH]])


def publish_paced(publisher, templates, rate, seconds):
    """Publish `rate` events a second for `seconds`, each with a new id and `time` = now; returns how many."""
    sent, started, batch = 0, time.perf_counter(), max(1, rate // 20)
    source = itertools.cycle(templates)
    while time.perf_counter() - started < seconds:
        now = datetime.now(timezone.utc).isoformat()
        publish(publisher, [{**next(source), "id": str(uuid.uuid4()), "time": now} for _ in range(batch)])
        sent += batch
        ahead = sent / rate - (time.perf_counter() - started)
        if ahead > 0:
            time.sleep(ahead)
    return sent


class BaselineConsumer:
    """Plain kombu: consume and ack at once, noting each event's lag (now - its `time`)."""

    def __init__(self, uri, prefetch):
        self.uri, self.prefetch = uri, prefetch
        self.lags, self.received = [], 0
        self.stopping = threading.Event()

    def _on_message(self, message):
        event = json.loads(message.body)
        self.lags.append((datetime.now(timezone.utc) - datetime.fromisoformat(event["time"])).total_seconds())
        message.ack()
        self.received += 1

    def consume(self, until):
        with Connection(self.uri) as conn:
            with conn.Consumer(routes_queue(BASELINE_QUEUE), on_message=self._on_message,
                               prefetch_count=self.prefetch):
                while not until():
                    with contextlib.suppress(TimeoutError, OSError):
                        conn.drain_events(timeout=0.2)

    def drain(self, count):
        """Seconds to consume `count` preloaded messages."""
        started = time.perf_counter()
        self.consume(lambda: self.received >= count)
        return time.perf_counter() - started


# --- the service --------------------------------------------------------------------------

@contextlib.contextmanager
def reporting_service(dsn, args, log_path):
    env = {**os.environ, "SMARTCITY_AMQP_URI": args.amqp_uri, "SMARTCITY_REPORTING_DATABASE_URL": dsn,
           "SMARTCITY_REPORTING_HTTP_ADDRESS": f"{HOST}:{PORT}", "SMARTCITY_LOG_LEVEL": "WARNING",
           "SMARTCITY_REPORTING_MAX_WORKERS": str(args.max_workers),
           "SMARTCITY_REPORTING_DB_POOL_SIZE": str(args.db_pool_size)}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "shared.runner", "reporting"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready("reporting", PORT, process, log_path)
            yield process
        finally:
            stop("reporting", process)


def query(dsn, sql, params=()):
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def wait_logged(dsn, count):
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while query(dsn, "SELECT count(*) FROM event_log")[0] < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the service applied fewer than {count} events within {DRAIN_TIMEOUT:.0f} s")
        time.sleep(0.1)


def applied_rate(dsn, first_seq, last_seq):
    """Events per second between the first and the last application of a range of the log."""
    n, seconds = query(dsn, "SELECT count(*), extract(epoch FROM max(received_at) - min(received_at))"
                            " FROM event_log WHERE seq BETWEEN %s AND %s", (first_seq, last_seq))
    return (n - 1) / float(seconds) if seconds else 0.0


def service_lags(dsn, after_seq):
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT extract(epoch FROM received_at - time) FROM event_log WHERE seq > %s", (after_seq,))
        return sorted(float(row[0]) for row in cur.fetchall())


def pad_log(dsn, target):
    """Copy the log's events under new ids until it holds `target` events (for the rebuild run)."""
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM event_log")
        have = cur.fetchone()[0]
        copies = -(-target // have) - 1 if have and target > have else 0
        cur.execute("INSERT INTO event_log (event_id, event_type, source, subject, time, received_at, data)"
                    " SELECT event_id || '-copy-' || k, event_type, source, subject, time, received_at, data"
                    " FROM event_log, generate_series(1, %s) AS k", (copies,))
        cur.execute("SELECT count(*) FROM event_log")
        return cur.fetchone()[0]


# --- the run ------------------------------------------------------------------------------

def milliseconds(ordered, q):
    return percentile(ordered, q) * 1000


def measure(args, dsn, log_path):
    events = mixed_stream(ideas=max(1, args.events // 8), seed=42)[:args.events]
    fresh_queues(args.amqp_uri)
    publisher = Publisher(args.amqp_uri)
    baseline = BaselineConsumer(args.amqp_uri, args.max_workers)
    try:
        progress(f"drain: publishing {len(events)} events")
        publish(publisher, events)
        baseline_drain = len(events) / baseline.drain(len(events))
        baseline.lags.clear()
        progress(f"drain: baseline {baseline_drain:,.0f}/s; starting the service (log: {log_path})")
        with reporting_service(dsn, args, log_path):
            wait_logged(dsn, len(events))
            service_drain = applied_rate(dsn, 1, len(events))
            progress(f"drain: service {service_drain:,.0f}/s; lag: {args.rate}/s offered for {args.seconds:g} s")
            before = baseline.received
            sent = [0]
            consumer = threading.Thread(target=baseline.consume,
                                        kwargs={"until": lambda: sent[0] and baseline.received - before >= sent[0]})
            consumer.start()
            sent[0] = publish_paced(publisher, events, args.rate, args.seconds)
            consumer.join(DRAIN_TIMEOUT)
            wait_logged(dsn, len(events) + sent[0])
    finally:
        publisher.close()
    lags = service_lags(dsn, len(events))
    baseline_lags = sorted(baseline.lags)
    progress(f"rebuild: padding the log to {args.rebuild_events:,} events")
    logged = pad_log(dsn, args.rebuild_events)
    rebuilt = rebuild(dsn)
    assert rebuilt.events == logged
    return Figures(
        baseline_drain_rate=baseline_drain, service_drain_rate=service_drain,
        baseline_lag_p50_ms=milliseconds(baseline_lags, 0.5), baseline_lag_p99_ms=milliseconds(baseline_lags, 0.99),
        service_lag_p50_ms=milliseconds(lags, 0.5), service_lag_p99_ms=milliseconds(lags, 0.99),
        offered_rate=args.rate, rebuild_events=rebuilt.events, rebuild_rate=rebuilt.rate)


def verdicts(f):
    return [
        (f"service drains >= {f.offered_rate:.0f} events/s", f.service_drain_rate >= f.offered_rate,
         f"{f.service_drain_rate:,.0f}/s"),
        (f"lag p99 < {TARGET_LAG_P99_S:g} s at {f.offered_rate:.0f}/s offered",
         f.service_lag_p99_ms < TARGET_LAG_P99_S * 1000, f"{f.service_lag_p99_ms:.0f} ms"),
        (f"rebuild >= {TARGET_REBUILD_RATE:,} events/s", f.rebuild_rate >= TARGET_REBUILD_RATE,
         f"{f.rebuild_rate:,.0f}/s"),
    ]


def print_report(args, f, checks):
    ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
    print(f"\nreporting throughput: {args.events} events drained, {f.offered_rate:.0f}/s offered for {args.seconds:g} s,"
          f" MAX_WORKERS={args.max_workers} DB_POOL_SIZE={args.db_pool_size}, broker {Connection(args.amqp_uri).as_uri()}")
    print(f"  {'':34} {'service':>12} {'raw kombu':>12} {'ratio':>7}")
    print(f"  {'drain (events/s)':34} {f.service_drain_rate:12,.0f} {f.baseline_drain_rate:12,.0f}"
          f" {ratio(f.service_drain_rate, f.baseline_drain_rate):7.2f}")
    print(f"  {'lag p50 at offered load (ms)':34} {f.service_lag_p50_ms:12.1f} {f.baseline_lag_p50_ms:12.1f}"
          f" {ratio(f.service_lag_p50_ms, f.baseline_lag_p50_ms):7.1f}")
    print(f"  {'lag p99 at offered load (ms)':34} {f.service_lag_p99_ms:12.1f} {f.baseline_lag_p99_ms:12.1f}"
          f" {ratio(f.service_lag_p99_ms, f.baseline_lag_p99_ms):7.1f}")
    print(f"  {'rebuild (events/s, ' + format(f.rebuild_events, ',') + ' events)':34} {f.rebuild_rate:12,.0f}"
          f" {f.baseline_drain_rate:12,.0f} {ratio(f.rebuild_rate, f.baseline_drain_rate):7.2f}")
    for label, passed, figure in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {label:40} {figure}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000, help="events in the drain run (default 20000)")
    parser.add_argument("--rate", type=int, default=1000, help="events/s offered in the lag run (default 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the lag run (default 10)")
    parser.add_argument("--rebuild-events", type=int, default=100_000, help="log size for the rebuild (default 100000)")
    settings = config.load("reporting")
    parser.add_argument("--max-workers", type=int, default=settings.max_workers,
                        help=f"the service's nameko workers (default {settings.max_workers}, from the environment)")
    parser.add_argument("--db-pool-size", type=int, default=settings.db_pool_size,
                        help=f"the service's database connections (default {settings.db_pool_size})")
    parser.add_argument("--json", type=Path, default=RESULTS / "reporting_throughput.json",
                        help="where to write the figures (default bench/results/reporting_throughput.json)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if port_in_use(PORT):
        sys.exit(f"{HOST}:{PORT} is in use: is another benchmark (or its service) still running?")
    args.amqp_uri, dsn = amqp_uri(), bench_dsn(DATABASE)
    RESULTS.mkdir(parents=True, exist_ok=True)
    progress(f"recreating {DATABASE}")
    recreate_database("reporting", dsn)
    try:
        figures = measure(args, dsn, RESULTS / "reporting_service.log")
    finally:
        drop_database(dsn)
    checks = verdicts(figures)
    print_report(args, figures, checks)
    args.json.write_text(json.dumps({"settings": {k: v for k, v in vars(args).items() if k != "json"} | {
        "amqp_uri": Connection(args.amqp_uri).as_uri()}, "figures": asdict(figures),
        "checks": [{"check": label, "pass": passed, "figure": figure} for label, passed, figure in checks]},
        indent=2) + "\n")
    return 0 if all(passed for _, passed, _ in checks) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
