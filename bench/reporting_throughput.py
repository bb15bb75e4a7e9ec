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
It checks that the service applied every event exactly once, the baseline consumed every one
and the rebuild replayed the whole log. It uses its own database (smartcity_reporting_bench,
recreated and dropped at the end), port 19004 and the RabbitMQ vhost smartcity_bench; with
SMARTCITY_TEST_SLOT=N: smartcity_reporting_bench_N, port 19004 + 100*N and smartcity_bench_N
(see bench/harness.py), never the dev or test ones. `--smoke`: 1,000 events, 1 s of lag run,
a 5,000-event rebuild, every check and no speed targets.

    make bench-reporting
    .venv/bin/python -m bench.reporting_throughput --smoke
    .venv/bin/python -m bench.reporting_throughput --events 20000 --rate 1000 --seconds 10

The exit status is 1 when a check fails or, in a full run, a target: service drain >= RATE,
lag p99 < 1 s, rebuild >= 10,000/s.
"""
import contextlib
import itertools
import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import psycopg2
from kombu import Connection

from bench import harness
from bench.event_stream import mixed_stream
from services.reporting.rebuild import rebuild
from services.reporting.service import EVERY_EVENT
from shared import config
from shared.amqp import Publisher

NAME = "reporting_throughput"
BASELINE_QUEUE = "bench-reporting-baseline"
SMOKE = {"events": 1_000, "rebuild_events": 5_000, "timeout": 30.0}

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


@dataclass
class Counts:
    """What the checks compare: events published, consumed by the baseline, applied by the service, rebuilt."""

    drain_published: int
    lag_published: int = 0
    baseline_consumed: int = 0
    drain_applied: int = 0
    applied: int = 0
    log_padded: int = 0
    rebuilt: int = 0


# --- the broker ---------------------------------------------------------------------------

def publish_paced(publisher, templates, rate, seconds):
    """Publish `rate` events a second for `seconds`, each with a new id and `time` = now; returns how many."""
    sent, started, batch = 0, time.perf_counter(), max(1, rate // 20)
    source = itertools.cycle(templates)
    while time.perf_counter() - started < seconds:
        now = datetime.now(timezone.utc).isoformat()
        harness.publish_events(publisher, [{**next(source), "id": str(uuid.uuid4()), "time": now}
                                           for _ in range(batch)])
        sent += batch
        ahead = sent / rate - (time.perf_counter() - started)
        if ahead > 0:
            time.sleep(ahead)
    return sent


class BaselineConsumer:
    """Plain kombu: consume and ack at once, noting each event's lag (now - its `time`)."""

    def __init__(self, uri, prefetch, timeout):
        self.uri, self.prefetch, self.timeout = uri, prefetch, timeout
        self.lags, self.received = [], 0

    def _on_message(self, message):
        event = json.loads(message.body)
        self.lags.append((datetime.now(timezone.utc) - datetime.fromisoformat(event["time"])).total_seconds())
        message.ack()
        self.received += 1

    def consume(self, until):
        """Until `until()` holds or `timeout` seconds passed."""
        deadline = time.monotonic() + self.timeout
        with Connection(self.uri) as conn:
            with conn.Consumer(harness.event_queue(BASELINE_QUEUE, EVERY_EVENT), on_message=self._on_message,
                               prefetch_count=self.prefetch):
                while not until() and time.monotonic() < deadline:
                    with contextlib.suppress(TimeoutError, OSError):
                        conn.drain_events(timeout=0.2)

    def drain(self, count):
        """Seconds to consume `count` preloaded messages."""
        started = time.perf_counter()
        self.consume(lambda: self.received >= count)
        return time.perf_counter() - started


# --- the service --------------------------------------------------------------------------

def logged(dsn):
    return harness.query_one(dsn, "SELECT count(*) FROM event_log")[0]


def wait_logged(dsn, count, timeout):
    """How many events the log holds once it holds `count` (or `timeout` passed)."""
    harness.wait_for(lambda: logged(dsn) >= count, timeout, interval=0.1)
    return logged(dsn)


def applied_rate(dsn, first_seq, last_seq):
    """Events per second between the first and the last application of a range of the log."""
    n, seconds = harness.query_one(
        dsn, "SELECT count(*), extract(epoch FROM max(received_at) - min(received_at))"
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

def lag_ms(ordered, q):
    return harness.milliseconds(harness.percentile(ordered, q))


def measure(args, dsn):
    events = mixed_stream(ideas=max(1, args.events // 8), seed=42)[:args.events]
    counts = Counts(drain_published=len(events))
    service_env = harness.service_env("reporting", dsn, args.amqp_uri, max_workers=args.max_workers,
                                      db_pool_size=args.db_pool_size)
    queues = harness.subscriber_queues("reporting") + [harness.event_queue(BASELINE_QUEUE, EVERY_EVENT)]
    publisher = Publisher(args.amqp_uri)
    baseline = BaselineConsumer(args.amqp_uri, args.max_workers, args.timeout)
    try:
        with harness.fresh_queues(args.amqp_uri, queues):
            harness.progress(f"drain: publishing {len(events)} events")
            harness.publish_events(publisher, events)
            baseline_drain = len(events) / baseline.drain(len(events))
            baseline.lags.clear()
            harness.progress(f"drain: baseline {baseline_drain:,.0f}/s")
            with harness.running_service("reporting", service_env):
                counts.drain_applied = wait_logged(dsn, len(events), args.timeout)
                service_drain = applied_rate(dsn, 1, len(events))
                harness.progress(f"drain: service {service_drain:,.0f}/s; lag: {args.rate}/s offered"
                                 f" for {args.seconds:g} s")
                before = baseline.received
                sent = [0]
                consumer = threading.Thread(target=baseline.consume, daemon=True,
                                            kwargs={"until": lambda: sent[0] and baseline.received - before >= sent[0]})
                consumer.start()
                sent[0] = counts.lag_published = publish_paced(publisher, events, args.rate, args.seconds)
                consumer.join(args.timeout)
                counts.applied = wait_logged(dsn, len(events) + sent[0], args.timeout)
                counts.baseline_consumed = baseline.received
    finally:
        publisher.close()
    lags = service_lags(dsn, len(events))
    baseline_lags = sorted(baseline.lags)
    harness.progress(f"rebuild: padding the log to {args.rebuild_events:,} events")
    counts.log_padded = pad_log(dsn, args.rebuild_events)
    rebuilt = rebuild(dsn)
    counts.rebuilt = rebuilt.events
    return Figures(
        baseline_drain_rate=baseline_drain, service_drain_rate=service_drain,
        baseline_lag_p50_ms=lag_ms(baseline_lags, 0.5), baseline_lag_p99_ms=lag_ms(baseline_lags, 0.99),
        service_lag_p50_ms=lag_ms(lags, 0.5), service_lag_p99_ms=lag_ms(lags, 0.99),
        offered_rate=args.rate, rebuild_events=rebuilt.events, rebuild_rate=rebuilt.rate), counts


def verdicts(args, f, c):
    published = c.drain_published + c.lag_published
    return harness.speed_checks(args, [
        (f"service drains >= {f.offered_rate:.0f} events/s", f.service_drain_rate >= f.offered_rate,
         f"{f.service_drain_rate:,.0f}/s"),
        (f"lag p99 < {TARGET_LAG_P99_S:g} s at {f.offered_rate:.0f}/s offered",
         f.service_lag_p99_ms < TARGET_LAG_P99_S * 1000, f"{f.service_lag_p99_ms:.0f} ms"),
        (f"rebuild >= {TARGET_REBUILD_RATE:,} events/s", f.rebuild_rate >= TARGET_REBUILD_RATE,
         f"{f.rebuild_rate:,.0f}/s"),
    ]) + [
        ("drain: every event applied once", c.drain_applied == c.drain_published,
         f"{c.drain_applied} of {c.drain_published}"),
        ("every event applied once", c.applied == published, f"{c.applied} of {published}"),
        ("baseline consumed every event", c.baseline_consumed == published,
         f"{c.baseline_consumed} of {published}"),
        ("rebuild replayed the whole log", c.rebuilt == c.log_padded, f"{c.rebuilt} of {c.log_padded}"),
    ]


def print_report(args, f, checks):
    ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
    smoke = " (smoke run: no speed targets)" if args.smoke else ""
    print(f"\nreporting throughput{smoke}: {args.events} events drained, {f.offered_rate:.0f}/s offered for"
          f" {args.seconds:g} s, MAX_WORKERS={args.max_workers} DB_POOL_SIZE={args.db_pool_size},"
          f" broker {harness.broker(args)}")
    print(f"  {'':34} {'service':>12} {'raw kombu':>12} {'ratio':>7}")
    print(f"  {'drain (events/s)':34} {f.service_drain_rate:12,.0f} {f.baseline_drain_rate:12,.0f}"
          f" {ratio(f.service_drain_rate, f.baseline_drain_rate):7.2f}")
    print(f"  {'lag p50 at offered load (ms)':34} {f.service_lag_p50_ms:12.1f} {f.baseline_lag_p50_ms:12.1f}"
          f" {ratio(f.service_lag_p50_ms, f.baseline_lag_p50_ms):7.1f}")
    print(f"  {'lag p99 at offered load (ms)':34} {f.service_lag_p99_ms:12.1f} {f.baseline_lag_p99_ms:12.1f}"
          f" {ratio(f.service_lag_p99_ms, f.baseline_lag_p99_ms):7.1f}")
    print(f"  {'rebuild (events/s, ' + format(f.rebuild_events, ',') + ' events)':34} {f.rebuild_rate:12,.0f}"
          f" {f.baseline_drain_rate:12,.0f} {ratio(f.rebuild_rate, f.baseline_drain_rate):7.2f}")
    harness.print_checks(checks, width=40)


def parse_args(argv):
    parser = harness.argument_parser(__doc__, NAME)
    parser.add_argument("--events", type=int, default=20_000, help="events in the drain run (default 20000)")
    parser.add_argument("--rate", type=int, default=1000, help="events/s offered in the lag run (default 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the lag run (default 10)")
    parser.add_argument("--rebuild-events", type=int, default=100_000, help="log size for the rebuild (default 100000)")
    settings = config.load("reporting")
    parser.add_argument("--max-workers", type=int, default=settings.max_workers,
                        help=f"the service's nameko workers (default {settings.max_workers}, from the environment)")
    parser.add_argument("--db-pool-size", type=int, default=settings.db_pool_size,
                        help=f"the service's database connections (default {settings.db_pool_size})")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="how long to wait for the service or the baseline to catch up (default 120)")
    return harness.apply_smoke(parser.parse_args(argv), NAME, **SMOKE)


def main(argv=None):
    args = parse_args(argv)
    harness.claim_ports(harness.bench_port("reporting"))
    args.amqp_uri = harness.amqp_uri()
    with harness.bench_database("reporting") as dsn:
        figures, counts = measure(args, dsn)
    checks = verdicts(args, figures, counts)
    print_report(args, figures, checks)
    harness.write_json(args, checks, figures=asdict(figures), counts=asdict(counts))
    return harness.exit_status(checks)


if __name__ == "__main__":
    harness.cli(main)
