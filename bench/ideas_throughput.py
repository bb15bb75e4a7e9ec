"""Throughput of idea submission: the real ideas service over HTTP against raw PostgreSQL.

In one invocation and at the same concurrency N (default 16) it measures

* the raw baseline: N threads, each with its own psycopg2 connection, committing the two
  INSERTs an idea submission makes (the idea row and its outbox row) as fast as they can;
* the service: `python -m shared.runner ideas` in a subprocess, answering
  POST /api/v1/ideas from N keep-alive HTTP clients (raw HTTP/1.1 on asyncio, so the load
  generator leaves the CPU to the service);

each for a warm-up and then a measured run of fixed duration and bounded request count.
After the HTTP run it checks that every 201 left one idea row and that the outbox relay
published every event (sent_at set), then prints ideas/s, p50/p99 latency, the
service/baseline ratio and PASS/FAIL against the targets, and writes the figures as JSON.

It uses its own database (smartcity_ideas_bench, recreated and dropped at the end), port
18101 and the RabbitMQ vhost smartcity_bench (made by scripts/ensure_infra.sh; the default
vhost when it is missing, SMARTCITY_AMQP_URI when set), never the dev or test ones.

    make bench
    .venv/bin/python -m bench.ideas_throughput --concurrency 16 --seconds 10 \\
        --max-workers 32 --db-pool-size 16

--max-workers and --db-pool-size default to SMARTCITY_IDEAS_MAX_WORKERS and
SMARTCITY_IDEAS_DB_POOL_SIZE (else 10) and are passed to the service. The exit status is 1
when a target or a check fails.
"""
import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg2
import psycopg2.extras

from bench.common import drop_database, percentile, prepare, progress, stop, wait_ready, without_password
from services.ideas import repository
from shared import config
from shared.auth import mint
from shared.envelope import exchange_of, make_event

DATABASE = "smartcity_ideas_bench"
HOST, PORT = "127.0.0.1", 18101
SUBMIT_PATH = "/api/v1/ideas"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

TARGET_RATE = 500  # ideas/s
TARGET_P99_MS = 100
TARGET_RATIO = 0.3
TARGET_CONCURRENCY = 16

REQUEST_TIMEOUT = 10.0
OUTBOX_TIMEOUT = 10.0

IDEA = {
    "municipality": "gera",
    "title": "Solar panels on every school roof",
    "description": "The city's schools have large flat roofs; panels there would cover their daytime power use.",
    "field_of_action": "energie",
    "channel": "form",
}
OUTBOX_INSERT = "INSERT INTO outbox (id, exchange, routing_key, body) VALUES (%s, %s, %s, %s)"

psycopg2.extras.register_uuid()


# --- measuring ----------------------------------------------------------------------------

@dataclass
class Phase:
    """A stretch of load: from `started` until `deadline` (perf_counter) or until `budget` is used up."""

    started: float
    deadline: float
    budget: object  # an iterator; each request takes one item (next() is atomic under the GIL)

    def go_on(self):
        return time.perf_counter() < self.deadline and next(self.budget, None) is not None

    def cancel(self):
        self.deadline = -math.inf


def make_phases(warmup, seconds, max_requests):
    now = time.perf_counter()
    return (Phase(now, now + warmup, itertools.count()),
            Phase(now + warmup, now + warmup + seconds, iter(range(max_requests))))


@dataclass
class Tally:
    """One client's requests in one phase: latencies of the good ones, errors by kind."""

    latencies: list = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    finished: float = 0.0

    def record(self, began, error=None):
        now = time.perf_counter()
        self.finished = now
        if error is None:
            self.latencies.append(now - began)
        else:
            self.errors[error] += 1


@dataclass
class Result:
    name: str
    ok: int
    errors: dict
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float


def summarize(name, phase, tallies):
    latencies = sorted(value for tally in tallies for value in tally.latencies)
    errors = sum((tally.errors for tally in tallies), Counter())
    seconds = max((tally.finished for tally in tallies), default=phase.started) - phase.started
    return Result(
        name=name, ok=len(latencies), errors=dict(errors), seconds=seconds,
        rate=len(latencies) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(latencies, 0.50) * 1000, p99_ms=percentile(latencies, 0.99) * 1000,
    )


def cpu_seconds(pid):
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields_after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields_after_name[11]) + int(fields_after_name[12])) / os.sysconf("SC_CLK_TCK")


# --- database -----------------------------------------------------------------------------

def empty_tables(dsn):
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
        cur.execute("TRUNCATE milestones, ideas, outbox")


# --- raw baseline -------------------------------------------------------------------------

def idea_row(author_id):
    """An idea row as the service's submit_idea stores it."""
    now = datetime.now(timezone.utc)
    return {**IDEA, "id": uuid.uuid4(), "working_group": None, "lat": None, "lon": None, "author_id": author_id,
            "status": "submitted", "status_reason": None, "created_at": now, "updated_at": now,
            "published_at": None}


def envelope_body():
    """A real IdeaSubmitted envelope, serialized: the size of what the service writes to the outbox."""
    idea = idea_row("bench-user")
    data = {"idea_id": idea["id"], "municipality": idea["municipality"], "field_of_action": idea["field_of_action"],
            "title": idea["title"], "channel": idea["channel"], "working_group": None, "location": None,
            "author_id": idea["author_id"], "submitted_at": idea["created_at"]}
    return json.dumps(make_event("ideas", "IdeaSubmitted", data, subject=str(idea["id"])))


def insert_idea_and_event(conn, body):
    with conn, conn.cursor() as cur:
        repository.add_idea(cur, idea_row("bench-user"))
        cur.execute(OUTBOX_INSERT, (uuid.uuid4(), exchange_of("ideas"), "IdeaSubmitted", body))


def baseline_client(conn, phases, body):
    tallies = [Tally() for _ in phases]
    for phase, tally in zip(phases, tallies):
        while phase.go_on():
            began = time.perf_counter()
            try:
                insert_idea_and_event(conn, body)
            except psycopg2.Error as exc:
                tally.record(began, type(exc).__name__)
            else:
                tally.record(began)
    return tallies


def run_baseline(dsn, args):
    body = envelope_body()
    connections = [psycopg2.connect(dsn) for _ in range(args.concurrency)]
    try:
        phases = make_phases(args.warmup, args.seconds, args.max_requests)
        with ThreadPoolExecutor(args.concurrency) as pool:
            try:
                per_client = list(pool.map(lambda conn: baseline_client(conn, phases, body), connections))
            finally:
                for phase in phases:  # after Ctrl-C: threads stop after their current transaction
                    phase.cancel()
    finally:
        for conn in connections:
            conn.close()
    return summarize("raw baseline (SQL)", phases[1], [tallies[1] for tallies in per_client])


# --- the service --------------------------------------------------------------------------

def service_env(dsn, args):
    return {
        **os.environ,
        "SMARTCITY_AMQP_URI": args.amqp_uri,
        "SMARTCITY_IDEAS_DATABASE_URL": dsn,
        "SMARTCITY_IDEAS_HTTP_ADDRESS": f"{HOST}:{PORT}",
        "SMARTCITY_LOG_LEVEL": "WARNING",
        "SMARTCITY_IDEAS_MAX_WORKERS": str(args.max_workers),
        "SMARTCITY_IDEAS_DB_POOL_SIZE": str(args.db_pool_size),
    }


@contextlib.contextmanager
def ideas_service(dsn, args, log_path):
    """The real ideas service as `args.processes` subprocesses (replicas), ready on HOST:PORT.

    Replicas share the port (eventlet listens with SO_REUSEPORT; the kernel spreads connections),
    as pods behind a Kubernetes Service would. SIGTERM to each when the block ends.
    """
    processes = []
    with open(log_path, "wb") as log:
        try:
            for _ in range(args.processes):
                processes.append(subprocess.Popen([sys.executable, "-m", "shared.runner", "ideas"], cwd=ROOT,
                                                  env=service_env(dsn, args), stdout=log, stderr=subprocess.STDOUT))
                wait_ready(processes[-1], log_path, HOST, PORT, "ideas")
            yield processes
        finally:
            for process in processes:
                stop(process, "ideas")


# --- HTTP load ----------------------------------------------------------------------------

def submit_request(token):
    body = json.dumps(IDEA).encode()
    head = (f"POST {SUBMIT_PATH} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class HttpConnection:
    """One keep-alive HTTP/1.1 connection sending the same prepared request again and again."""

    def __init__(self, request):
        self.request = request
        self.reader = self.writer = None

    async def connect(self):
        self.reader, self.writer = await asyncio.open_connection(HOST, PORT)

    async def send(self):
        """The response's status code. After a failure the next call connects afresh."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                if self.writer is None:
                    await self.connect()
                self.writer.write(self.request)
                head = await self.reader.readuntil(b"\r\n\r\n")
                length = CONTENT_LENGTH.search(head)
                if length is None:
                    raise ValueError("response without Content-Length")
                await self.reader.readexactly(int(length.group(1)))
        except Exception:
            self.close()
            raise
        return int(head[9:12])

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def http_client(connection, phases):
    tallies = [Tally() for _ in phases]
    for phase, tally in zip(phases, tallies):
        while phase.go_on():
            began = time.perf_counter()
            try:
                status = await connection.send()
            except Exception as exc:
                tally.record(began, type(exc).__name__)
            else:
                tally.record(began, None if status == 201 else f"HTTP {status}")
    return tallies


async def http_load(args):
    request = submit_request(mint(config.DEV_JWT_SECRET, "bench-user", ["citizen"]))
    connections = [HttpConnection(request) for _ in range(args.concurrency)]
    try:
        # connect every client before the clock starts
        await asyncio.gather(*(connection.connect() for connection in connections))
        phases = make_phases(args.warmup, args.seconds, args.max_requests)
        per_client = await asyncio.gather(*(http_client(connection, phases) for connection in connections))
    finally:
        for connection in connections:
            connection.close()
    return phases, per_client


def run_http(args, service_pids):
    """(measured result, warm-up result, CPU use of the service and of this load generator in cores)."""
    service_cpu = lambda: sum(cpu_seconds(pid) for pid in service_pids)  # noqa: E731
    wall, own_cpu, started_cpu = time.perf_counter(), time.process_time(), service_cpu()
    phases, per_client = asyncio.run(http_load(args))
    wall = time.perf_counter() - wall
    cpu = {"service_cores": (service_cpu() - started_cpu) / wall,
           "load_generator_cores": (time.process_time() - own_cpu) / wall}
    warm, measured = ([tallies[i] for tallies in per_client] for i in range(2))
    return summarize("service (HTTP)", phases[1], measured), summarize("warm-up (HTTP)", phases[0], warm), cpu


# --- correctness --------------------------------------------------------------------------

def wait_until_published(cur):
    """Seconds until no outbox row is left unsent (or OUTBOX_TIMEOUT passed)."""
    started = time.monotonic()
    while True:
        cur.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        waited = time.monotonic() - started
        if cur.fetchone()[0] == 0 or waited > OUTBOX_TIMEOUT:
            return waited
        time.sleep(0.05)


def milliseconds(seconds):
    return math.nan if seconds is None else seconds * 1000


def check_outbox(dsn, accepted):
    """Rows left by the HTTP run, compared with the number of 201 responses."""
    with contextlib.closing(psycopg2.connect(dsn)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            drain_seconds = wait_until_published(cur)
            cur.execute(
                "SELECT (SELECT count(*) FROM ideas), count(*), count(sent_at),"
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)),"
                " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at))"
                " FROM outbox"
            )
            ideas, events, sent, lag_p50, lag_p99 = cur.fetchone()
    return {"accepted": accepted, "idea_rows": ideas, "outbox_rows": events, "outbox_sent": sent,
            "drain_seconds": drain_seconds,
            "publish_lag_p50_ms": milliseconds(lag_p50), "publish_lag_p99_ms": milliseconds(lag_p99)}


# --- report -------------------------------------------------------------------------------

def verdicts(service, warmup, baseline, check):
    ratio = service.rate / baseline.rate if baseline.rate else 0.0
    all_sent = check["outbox_sent"] == check["outbox_rows"] == check["idea_rows"]
    return [
        (f"service ideas/s >= {TARGET_RATE}", service.rate >= TARGET_RATE, f"{service.rate:.0f}"),
        (f"service p99 < {TARGET_P99_MS} ms", service.p99_ms < TARGET_P99_MS, f"{service.p99_ms:.1f} ms"),
        (f"service/baseline >= {TARGET_RATIO}", ratio >= TARGET_RATIO, f"{ratio:.2f}"),
        ("every response 201", not service.errors and not warmup.errors,
         f"{sum(service.errors.values()) + sum(warmup.errors.values())} errors"),
        ("idea rows == 201 responses", check["idea_rows"] == check["accepted"],
         f"{check['idea_rows']} == {check['accepted']}"),
        (f"every event published within {OUTBOX_TIMEOUT:.0f} s", all_sent,
         f"{check['outbox_sent']}/{check['outbox_rows']} in {check['drain_seconds']:.2f} s"),
    ]


def print_report(args, baseline, service, cpu, check, checks):
    print(f"\nideas throughput: {args.concurrency} clients, {args.seconds:g} s after {args.warmup:g} s warm-up,"
          f" service: {args.processes} process(es), MAX_WORKERS={args.max_workers} DB_POOL_SIZE={args.db_pool_size}")
    print(f"  {'':20} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ok':>8} {'errors':>7}")
    for result in (baseline, service):
        errors = f" {sum(result.errors.values()):7d}" + (f"  {result.errors}" if result.errors else "")
        print(f"  {result.name:20} {result.rate:9.1f} {result.p50_ms:8.1f} {result.p99_ms:8.1f} {result.ok:8d}{errors}")
    print(f"  CPU during the HTTP run: service {cpu['service_cores']:.2f} cores,"
          f" load generator {cpu['load_generator_cores']:.2f} cores")
    print(f"  outbox: {check['outbox_sent']}/{check['outbox_rows']} rows sent {check['drain_seconds']:.2f} s after"
          f" the run; publish lag (sent_at - created_at) p50 {check['publish_lag_p50_ms']:.0f} ms,"
          f" p99 {check['publish_lag_p99_ms']:.0f} ms")
    if args.concurrency != TARGET_CONCURRENCY:
        print(f"  (the targets are defined at {TARGET_CONCURRENCY} clients)")
    for label, passed, figure in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {label:38} {figure}")


def write_json(path, args, baseline, service, cpu, check, checks):
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = {key: getattr(args, key) for key in ("concurrency", "processes", "seconds", "warmup", "max_requests",
                                                    "max_workers", "db_pool_size")}
    settings["broker"] = without_password(args.amqp_uri)
    document = {"settings": settings, "baseline": asdict(baseline), "service": asdict(service), "cpu": cpu,
                "outbox": check, "checks": [{"check": label, "pass": passed, "figure": figure}
                                            for label, passed, figure in checks]}
    path.write_text(json.dumps(document, indent=2) + "\n")


# --- main ---------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured run per load (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up before each measured run (default 1)")
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap of a measured run (default 100000)")
    parser.add_argument("--max-workers", type=int, default=int(os.environ.get("SMARTCITY_IDEAS_MAX_WORKERS", 10)),
                        help="the service's nameko worker pool (default $SMARTCITY_IDEAS_MAX_WORKERS or 10)")
    parser.add_argument("--db-pool-size", type=int, default=int(os.environ.get("SMARTCITY_IDEAS_DB_POOL_SIZE", 10)),
                        help="the service's database connections (default $SMARTCITY_IDEAS_DB_POOL_SIZE or 10)")
    parser.add_argument("--processes", type=int, default=1,
                        help="service processes (replicas) sharing the port (default 1)")
    parser.add_argument("--json", type=Path, default=RESULTS / "ideas_throughput.json",
                        help="where to write the figures (default bench/results/ideas_throughput.json)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.amqp_uri, dsn = prepare("ideas", DATABASE, HOST, PORT, RESULTS)
    log_path = RESULTS / "ideas_service.log"
    try:
        progress(f"raw baseline: {args.concurrency} connections, {args.warmup:g} s + {args.seconds:g} s")
        baseline = run_baseline(dsn, args)
        empty_tables(dsn)
        progress(f"starting the ideas service on {HOST}:{PORT}, broker {without_password(args.amqp_uri)} (log: {log_path})")
        with ideas_service(dsn, args, log_path) as processes:
            progress(f"service ready ({len(processes)} process(es)); HTTP load: {args.concurrency} clients,"
                     f" {args.warmup:g} s + {args.seconds:g} s")
            service, warmup, cpu = run_http(args, [p.pid for p in processes])
            progress("waiting for the outbox relay")
            check = check_outbox(dsn, accepted=warmup.ok + service.ok)
    finally:
        drop_database(dsn)
    checks = verdicts(service, warmup, baseline, check)
    print_report(args, baseline, service, cpu, check, checks)
    write_json(args.json, args, baseline, service, cpu, check, checks)
    return 0 if all(passed for _, passed, _ in checks) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
