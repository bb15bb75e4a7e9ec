"""Reporting throughput: events applied per second, CPU per event, lag at 1,000 events/s offered,
memory, rebuild speed; the service beside a FastStream peer and a raw kombu baseline.

In one invocation:

* **drain**: N events (a realistic mix of every type) are published while nothing consumes them,
  to three queues bound alike; the baseline, a plain kombu consumer acking each message on arrival
  (prefetch = the service's MAX_WORKERS), drains its copy; then the real service
  (`python -m shared.runner reporting`, --processes replicas) drains its own: events applied per
  second from the log's received_at, and the service's CPU seconds per event (/proc);
* **lag**: RATE events/s offered for SECONDS (each stamped `time` = now), consumed by the running
  service and the baseline at once; lag = application time - event time, p50 and p99;
* **peer** (unless --no-peer): the same drain and lag run by bench/faststream_peer.py, a FastStream
  subscriber doing the service's validation and group commit through the same use case and
  repository SQL into a database of its own, so the cost of the nameko/eventlet stack is measured;
* **rebuild**: `smartcity reporting rebuild`'s function over the whole log, padded with copies to
  --rebuild-events.

Ratios: applied/s over the baseline's consume/s; lag over the raw consumer's lag in the same lag
run. Also: resident memory of each consumer when ready and at its peak. It checks that the
service and the peer applied every event exactly once, the baseline consumed every one and the
rebuild replayed the whole log. It uses its own databases (smartcity_reporting_bench and
smartcity_reporting_faststream_bench, recreated and dropped at the end), port 19004 and the
RabbitMQ vhost smartcity_bench; with SMARTCITY_TEST_SLOT=N: the suffix _N, port 19004 + 100*N
and smartcity_bench_N (see bench/harness.py), never the dev or test ones. `--smoke`: 1,000
events, 1 s lag runs, a 5,000-event rebuild, every check and no speed targets.

    make bench-reporting
    .venv/bin/python -m bench.reporting_throughput --smoke
    .venv/bin/python -m bench.reporting_throughput --events 20000 --rate 1000 --seconds 10 --processes 2

The exit status is 1 when a check fails or, in a full run, a target: service drain >= 0.5 of
raw kombu's, lag p99 < 50 ms, rebuild >= 100,000/s.
"""
import contextlib
import itertools
import json
import math
import subprocess
import sys
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

NAME = "reporting_throughput"
BASELINE_QUEUE = "bench-reporting-baseline"
PEER_QUEUE = "bench-reporting-faststream"
SMOKE = {"events": 1_000, "rebuild_events": 5_000, "timeout": 30.0}

TARGET_DRAIN_RATIO = 0.5  # of raw kombu's consume-and-ack, measured in the same run
TARGET_LAG_P99_MS = 50
TARGET_REBUILD_RATE = 100_000


@dataclass
class Consumer:
    """One consumer's figures: drain rate, CPU per event, lag at the offered rate, memory."""

    name: str
    drain_rate: float = 0.0
    drain_cpu_us: float = math.nan  # CPU microseconds per event while draining
    lag_p50_ms: float = math.nan
    lag_p99_ms: float = math.nan
    lag_cpu_us: float = math.nan  # CPU microseconds per event during the lag run
    baseline_lag_p50_ms: float = math.nan  # the raw consumer's lag in the same lag run
    baseline_lag_p99_ms: float = math.nan
    rss_start_mb: float = math.nan  # resident memory at the first event applied (replicas summed)
    rss_peak_mb: float = math.nan


@dataclass
class Figures:
    offered_rate: float
    processes: int
    baseline: Consumer
    service: Consumer
    peer: Consumer = None  # FastStream, unless --no-peer
    rebuild_events: int = 0
    rebuild_rate: float = 0.0


@dataclass
class Counts:
    """What the checks compare: events published, consumed by the baseline, applied by the service and the
    peer, rebuilt."""

    drain_published: int
    lag_published: int = 0
    peer_lag_published: int = 0
    baseline_consumed: int = 0
    drain_applied: int = 0
    applied: int = 0
    peer_applied: int = 0
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
    """Plain kombu: consume and ack at once, noting each event's lag (now - its `time`) and its own CPU time."""

    def __init__(self, uri, prefetch, timeout):
        self.uri, self.prefetch, self.timeout = uri, prefetch, timeout
        self.lags, self.received, self.cpu_seconds = [], 0, 0.0

    def _on_message(self, message):
        event = json.loads(message.body)
        self.lags.append((datetime.now(timezone.utc) - datetime.fromisoformat(event["time"])).total_seconds())
        message.ack()
        self.received += 1

    def consume(self, until):
        """Until `until()` holds or `timeout` seconds passed."""
        deadline, started_cpu = time.monotonic() + self.timeout, time.thread_time()
        with Connection(self.uri) as conn:
            with conn.Consumer(harness.event_queue(BASELINE_QUEUE, EVERY_EVENT), on_message=self._on_message,
                               prefetch_count=self.prefetch):
                while not until() and time.monotonic() < deadline:
                    with contextlib.suppress(TimeoutError, OSError):
                        conn.drain_events(timeout=0.2)
        self.cpu_seconds += time.thread_time() - started_cpu

    def drain(self, count):
        """Seconds to consume `count` preloaded messages."""
        started = time.perf_counter()
        self.consume(lambda: self.received >= count)
        return time.perf_counter() - started

    def alongside(self, count):
        """A thread consuming until `count()` more events than now arrived (count() is 0 until known)."""
        before = self.received
        thread = threading.Thread(target=self.consume, daemon=True,
                                  kwargs={"until": lambda: count() and self.received - before >= count()})
        thread.start()
        return thread


def unbind(uri, queue, bind=False):
    """Take a queue off every route, so the next phase's events no longer reach it (`bind`: back on)."""
    with Connection(uri) as conn:
        channel = conn.channel()
        for route in queue.bindings:
            (channel.queue_bind if bind else channel.queue_unbind)(
                queue.name, exchange=route.exchange.name, routing_key=route.routing_key)
        channel.close()


# --- the consumers under test: the service, the FastStream peer ------------------------------

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


def log_lags(dsn, after_seq):
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT extract(epoch FROM received_at - time) FROM event_log WHERE seq > %s", (after_seq,))
        return sorted(float(row[0]) for row in cur.fetchall())


@contextlib.contextmanager
def running_peer(args, dsn, queue):
    """bench/faststream_peer.py as a subprocess consuming `queue` into `dsn`; its log in bench/results/."""
    log_path = harness.RESULTS / "reporting_faststream_peer.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.faststream_peer", "--queue", queue, "--dsn", dsn, "--amqp-uri",
             args.amqp_uri, "--prefetch", str(args.max_workers)], cwd=harness.ROOT, stdout=log,
            stderr=subprocess.STDOUT)
        try:
            yield [process]
        finally:
            harness.stop("FastStream peer", process)


class Meter:
    """CPU seconds and memory of a set of processes, read at the start and end of a phase."""

    def __init__(self, processes):
        self.pids = [process.pid for process in processes]

    def cpu(self):
        return sum(harness.cpu_seconds(pid) for pid in self.pids)

    def memory(self):
        """(resident now, peak resident) in MB, summed over the processes."""
        now, peak = zip(*(harness.memory_mb(pid) for pid in self.pids))
        return sum(now), sum(peak)


def consume_phases(args, consumer, dsn, processes, queue, publisher, baseline, templates, published_before):
    """Drain what waits in the consumer's queue, then RATE events/s for SECONDS beside the raw consumer.

    `published_before`: how many events its queue holds. Returns (events logged after the drain, lag-run
    events published); the consumer's queue is unbound at the end, so later phases' events do not reach it.
    """
    meter = Meter(processes)
    harness.wait_for(lambda: logged(dsn) > 0, args.timeout)  # CPU from the first event on: not the start-up
    consumer.rss_start_mb = meter.memory()[0]
    cpu, start = meter.cpu(), logged(dsn)
    drained = wait_logged(dsn, published_before, args.timeout)
    consumer.drain_cpu_us = (meter.cpu() - cpu) / max(1, drained - start) * 1e6
    consumer.drain_rate = applied_rate(dsn, 1, args.events)
    harness.progress(f"drain: {consumer.name} {consumer.drain_rate:,.0f}/s; lag: {args.rate}/s offered"
                     f" for {args.seconds:g} s")
    sent, lags_before = [0], len(baseline.lags)
    thread = baseline.alongside(lambda: sent[0])
    cpu = meter.cpu()
    sent[0] = publish_paced(publisher, templates, args.rate, args.seconds)
    thread.join(args.timeout)
    applied = wait_logged(dsn, drained + sent[0], args.timeout) - drained
    consumer.lag_cpu_us = (meter.cpu() - cpu) / max(1, applied) * 1e6
    consumer.rss_peak_mb = meter.memory()[1]
    lags, baseline_lags = log_lags(dsn, drained), sorted(baseline.lags[lags_before:])
    consumer.lag_p50_ms, consumer.lag_p99_ms = lag_ms(lags, 0.5), lag_ms(lags, 0.99)
    consumer.baseline_lag_p50_ms, consumer.baseline_lag_p99_ms = lag_ms(baseline_lags, 0.5), lag_ms(baseline_lags, 0.99)
    unbind(args.amqp_uri, queue)
    return drained, sent[0]


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


def measure(args, dsn, peer_dsn):
    events = mixed_stream(ideas=max(1, args.events // 8), seed=42)[:args.events]
    counts = Counts(drain_published=len(events))
    figures = Figures(offered_rate=args.rate, processes=args.processes, baseline=Consumer("raw kombu"),
                      service=Consumer("service"), peer=Consumer("FastStream") if peer_dsn else None)
    service_env = harness.service_env("reporting", dsn, args.amqp_uri, max_workers=args.max_workers,
                                      db_pool_size=args.db_pool_size)
    service_queue, = harness.subscriber_queues("reporting")  # one @subscribe_many queue for every event
    peer_queue = harness.event_queue(PEER_QUEUE, EVERY_EVENT)
    queues = [service_queue, harness.event_queue(BASELINE_QUEUE, EVERY_EVENT)] + ([peer_queue] if peer_dsn else [])
    publisher = harness.OwnerPublishers(args.amqp_uri)
    baseline = BaselineConsumer(args.amqp_uri, args.max_workers, args.timeout)
    try:
        with harness.fresh_queues(args.amqp_uri, queues):
            harness.progress(f"drain: publishing {len(events)} events")
            harness.publish_events(publisher, events)
            if peer_dsn:  # the peer's queue keeps the drain events only, as the service's does
                unbind(args.amqp_uri, peer_queue)
            figures.baseline.drain_rate = len(events) / baseline.drain(len(events))
            figures.baseline.drain_cpu_us = baseline.cpu_seconds / len(events) * 1e6
            baseline.lags.clear()
            harness.progress(f"drain: baseline {figures.baseline.drain_rate:,.0f}/s")
            with harness.running_service("reporting", service_env, args.processes) as processes:
                drained, counts.lag_published = consume_phases(
                    args, figures.service, dsn, processes, service_queue, publisher, baseline, events, len(events))
                counts.drain_applied = min(drained, len(events))
                counts.applied = logged(dsn)
            if peer_dsn:
                harness.progress("FastStream peer: the same drain and lag run")
                unbind(args.amqp_uri, peer_queue, bind=True)
                with running_peer(args, peer_dsn, PEER_QUEUE) as processes:
                    _, counts.peer_lag_published = consume_phases(
                        args, figures.peer, peer_dsn, processes, peer_queue, publisher, baseline, events, len(events))
                counts.peer_applied = logged(peer_dsn)
            counts.baseline_consumed = baseline.received
    finally:
        publisher.close()
    harness.progress(f"rebuild: padding the log to {args.rebuild_events:,} events")
    counts.log_padded = pad_log(dsn, args.rebuild_events)
    rebuilt = rebuild(dsn)
    counts.rebuilt, figures.rebuild_events, figures.rebuild_rate = rebuilt.events, rebuilt.events, rebuilt.rate
    return figures, counts


def ratio(a, b):
    return a / b if b else math.nan


def verdicts(args, f, c):
    published = c.drain_published + c.lag_published
    checks = harness.speed_checks(args, [
        (f"service drain >= {TARGET_DRAIN_RATIO:g} of raw kombu",
         ratio(f.service.drain_rate, f.baseline.drain_rate) >= TARGET_DRAIN_RATIO,
         f"{ratio(f.service.drain_rate, f.baseline.drain_rate):.2f}"),
        (f"lag p99 < {TARGET_LAG_P99_MS:g} ms at {f.offered_rate:.0f}/s offered",
         f.service.lag_p99_ms < TARGET_LAG_P99_MS, f"{f.service.lag_p99_ms:.0f} ms"),
        (f"rebuild >= {TARGET_REBUILD_RATE:,} events/s", f.rebuild_rate >= TARGET_REBUILD_RATE,
         f"{f.rebuild_rate:,.0f}/s"),
    ]) + [
        ("drain: every event applied once", c.drain_applied == c.drain_published,
         f"{c.drain_applied} of {c.drain_published}"),
        ("every event applied once", c.applied == published, f"{c.applied} of {published}"),
        ("baseline consumed every event", c.baseline_consumed == published + c.peer_lag_published,
         f"{c.baseline_consumed} of {published + c.peer_lag_published}"),
        ("rebuild replayed the whole log", c.rebuilt == c.log_padded, f"{c.rebuilt} of {c.log_padded}"),
    ]
    if f.peer is not None:
        peer_published = c.drain_published + c.peer_lag_published
        checks.append(("FastStream peer applied every event once", c.peer_applied == peer_published,
                       f"{c.peer_applied} of {peer_published}"))
    return checks


def print_report(args, f, checks):
    smoke = " (smoke run: no speed targets)" if args.smoke else ""
    print(f"\nreporting throughput{smoke}: {args.events} events drained, {f.offered_rate:.0f}/s offered for"
          f" {args.seconds:g} s, {f.processes} service process(es), MAX_WORKERS={args.max_workers}"
          f" DB_POOL_SIZE={args.db_pool_size}, broker {harness.broker(args)}")
    columns = [f.service] + ([f.peer] if f.peer else []) + [f.baseline]
    tested = columns[:-1]
    print(f"  {'':34}" + "".join(f" {c.name:>12}" for c in columns) + "   ratio to raw kombu")
    rows = [("drain (events/s)", lambda c: c.drain_rate, "{:,.0f}", lambda c: f.baseline.drain_rate),
            ("drain CPU per event (µs)", lambda c: c.drain_cpu_us, "{:,.0f}", lambda c: f.baseline.drain_cpu_us),
            ("lag p50 at offered load (ms)", lambda c: c.lag_p50_ms, "{:.1f}", lambda c: c.baseline_lag_p50_ms),
            ("lag p99 at offered load (ms)", lambda c: c.lag_p99_ms, "{:.1f}", lambda c: c.baseline_lag_p99_ms),
            ("lag-run CPU per event (µs)", lambda c: c.lag_cpu_us, "{:,.0f}", None),
            ("RSS at the first event (MB)", lambda c: c.rss_start_mb, "{:.0f}", None),
            ("RSS peak (MB)", lambda c: c.rss_peak_mb, "{:.0f}", None)]
    for label, value, form, base in rows:
        cells = [form.format(value(c)) if c in tested or label.startswith("drain") else "" for c in columns]
        ratios = " / ".join(f"{ratio(value(c), base(c)):.2f}" for c in tested) if base else ""
        print(f"  {label:34}" + "".join(f" {cell:>12}" for cell in cells) + f"   {ratios}")
    for c in columns[:-1]:
        print(f"  raw kombu lag in {c.name}'s lag run: p50 {c.baseline_lag_p50_ms:.1f} ms,"
              f" p99 {c.baseline_lag_p99_ms:.1f} ms")
    print(f"  rebuild: {f.rebuild_rate:,.0f} events/s over {f.rebuild_events:,} events"
          f" ({ratio(f.rebuild_rate, f.baseline.drain_rate):.2f} x raw kombu's drain)")
    harness.print_checks(checks, width=44)


def parse_args(argv):
    parser = harness.argument_parser(__doc__, NAME)
    parser.add_argument("--events", type=int, default=20_000, help="events in the drain run (default 20000)")
    parser.add_argument("--rate", type=int, default=1000, help="events/s offered in the lag run (default 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each lag run (default 10)")
    parser.add_argument("--rebuild-events", type=int, default=100_000, help="log size for the rebuild (default 100000)")
    settings = config.load("reporting")
    parser.add_argument("--max-workers", type=int, default=settings.max_workers,
                        help=f"the service's nameko workers (default {settings.max_workers}, from the environment)")
    parser.add_argument("--db-pool-size", type=int, default=settings.db_pool_size,
                        help=f"the service's database connections (default {settings.db_pool_size})")
    parser.add_argument("--processes", type=int, default=1, help="service processes (replicas; default 1)")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="leave out the FastStream peer")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="how long to wait for a consumer or the baseline to catch up (default 120)")
    return harness.apply_smoke(parser.parse_args(argv), NAME, **SMOKE)


def main(argv=None):
    args = parse_args(argv)
    harness.claim_ports(harness.bench_port("reporting"))
    args.amqp_uri = harness.amqp_uri()
    with contextlib.ExitStack() as stack:
        dsn = stack.enter_context(harness.bench_database("reporting"))
        peer_dsn = stack.enter_context(harness.bench_database(
            "reporting", harness.database_name("reporting_faststream"))) if args.peer else None
        figures, counts = measure(args, dsn, peer_dsn)
    checks = verdicts(args, figures, counts)
    print_report(args, figures, checks)
    harness.write_json(args, checks, figures=asdict(figures), counts=asdict(counts))
    return harness.exit_status(checks)


if __name__ == "__main__":
    harness.cli(main)
