"""What every benchmark in bench/ shares: names, the database, the broker, the service, the report.

The HTTP benchmarks (ideas, voting) are `Benchmark` subclasses that say what one write is
(`baseline_transaction` for the raw psycopg2 baseline, `next_request` for the service over
HTTP), how to prepare the database before each load (`seed`) and what to check afterwards
(`check`). `main` runs one: recreate its own database, the baseline (N threads, each with its
own connection), the real service as `python -m shared.runner <service>` subprocesses
answering N keep-alive HTTP clients (raw HTTP/1.1 on asyncio, so the load generator leaves
the CPU to the service), each as a warm-up and then a measured run of fixed duration and
bounded request count; then it waits for the outbox relay, prints the figures and PASS/FAIL
against the targets, writes them as JSON and exits 1 when a target or a check fails.

The event-driven benchmarks (notifications, reporting) drive their service through the broker
and use the parts: `bench_database`, `claim_ports`, `amqp_uri`, `service_env`,
`running_service`, `fresh_queues`/`subscriber_queues`, `OwnerPublishers`/`publish_events`,
`wait_for`, `print_checks`, `write_json` and `cli`.

Every benchmark has `--smoke` (`make bench-smoke`): about a second of load (the HTTP ones at 8
clients), every correctness check, no speed targets, figures in bench/results/<name>_smoke.json.

Names follow SMARTCITY_TEST_SLOT=N (default 0), so two checkouts can benchmark side by side:
the service under test listens on 19000 + 100*N + (1 ideas, 2 voting, 3 notifications,
4 reporting; 25 the notifications benchmark's SMTP sink), apart from the tests' 18000 + 100*N + n;
its database is smartcity_<service>_bench (dropped at the end) and the RabbitMQ vhost
smartcity_bench (made by scripts/ensure_infra.sh; the default vhost when it is missing,
SMARTCITY_AMQP_URI when set), each with the suffix _N for slot N > 0: never the dev or test ones.
The services run there under their own broker users (created by `amqp_uri`, as `make run` does),
and events are published as their owners: consumers refuse anything else.
"""
import argparse
import asyncio
import contextlib
import http.client
import inspect
import itertools
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extras
from kombu import Connection

from shared import config, identities, provision, queues, registry
from shared.amqp import Publisher, event_exchange
from shared.envelope import CONTENT_TYPE, exchange_of
from shared.events import service_of
from shared.migrate import migrate

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
OUTBOX_INSERT = "INSERT INTO outbox (id, exchange, routing_key, body) VALUES (%s, %s, %s, %s)"

READY_TIMEOUT = 30.0
REQUEST_TIMEOUT = 10.0
OUTBOX_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
PUBLISH_BATCH = 500

psycopg2.extras.register_uuid()


# --- names: ports, databases and the vhost of this slot -----------------------------------

SLOT = int(os.environ.get("SMARTCITY_TEST_SLOT") or 0)
SUFFIX = f"_{SLOT}" if SLOT else ""
PORTS = {"ideas": 1, "voting": 2, "notifications": 3, "reporting": 4, "smtp": 25}
BENCH_AMQP_URI = f"amqp://guest:guest@127.0.0.1:5672/smartcity_bench{SUFFIX}"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def bench_port(name):
    """The port of a service under test (or of "smtp", the notifications benchmark's sink) in this slot."""
    return 19000 + 100 * SLOT + PORTS[name]


def database_name(service):
    return f"smartcity_{service}_bench{SUFFIX}"


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


def percentile(ordered, q):
    """Nearest-rank percentile of a sorted list (NaN when empty)."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarize(name, phase, tallies):
    latencies = sorted(value for tally in tallies for value in tally.latencies)
    errors = sum((tally.errors for tally in tallies), Counter())
    seconds = max((tally.finished for tally in tallies), default=phase.started) - phase.started
    return Result(
        name=name, ok=len(latencies), errors=dict(errors), seconds=seconds,
        rate=len(latencies) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(latencies, 0.50) * 1000, p99_ms=percentile(latencies, 0.99) * 1000,
    )


def summarize_phases(name, phases, per_client):
    """(measured, warm-up) results from each client's per-phase tallies."""
    warm, measured = ([tallies[i] for tallies in per_client] for i in range(2))
    return summarize(name, phases[1], measured), summarize(f"warm-up ({name})", phases[0], warm)


def cpu_seconds(pid):
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields_after_name = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields_after_name[11]) + int(fields_after_name[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid):
    """(resident now, peak resident) of a process in MB (Linux /proc: VmRSS, VmHWM)."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))


def milliseconds(seconds):
    return math.nan if seconds is None else seconds * 1000


# --- database -----------------------------------------------------------------------------

def bench_dsn(database):
    return f"{config.env('PG_URL', 'postgresql://postgres@127.0.0.1:5432').rstrip('/')}/{database}"


def drop_database(dsn):
    parts = urlsplit(dsn)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def recreate_database(service, dsn):
    drop_database(dsn)
    migrate(service, dsn)


@contextlib.contextmanager
def bench_database(service, name=None):
    """The DSN of this slot's bench database of `service` (or `name`, with the service's schema), migrated
    afresh; dropped when the block ends."""
    name = name or database_name(service)
    dsn = bench_dsn(name)
    progress(f"recreating {name}")
    recreate_database(service, dsn)
    try:
        yield dsn
    finally:
        drop_database(dsn)


def query_one(dsn, sql, params=()):
    """The first row of one query, on a connection of its own."""
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def wait_for(condition, timeout, interval=0.05):
    """Seconds until `condition()` held (polled every `interval`), None when `timeout` passed first."""
    started = time.monotonic()
    while True:
        waited = time.monotonic() - started
        if condition():
            return waited
        if waited > timeout:
            return None
        time.sleep(interval)


def outbox_published(dsn):
    """Waits for the relay, then: outbox rows, how many were sent, how long that took, publish lag."""
    unsent = lambda: query_one(dsn, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0] == 0  # noqa: E731
    drain_seconds = wait_for(unsent, OUTBOX_TIMEOUT)
    events, sent, lag_p50, lag_p99 = query_one(
        dsn, "SELECT count(*), count(sent_at),"
             " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)),"
             " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at))"
             " FROM outbox")
    return {"outbox_rows": events, "outbox_sent": sent,
            "drain_seconds": OUTBOX_TIMEOUT if drain_seconds is None else drain_seconds,
            "publish_lag_p50_ms": milliseconds(lag_p50), "publish_lag_p99_ms": milliseconds(lag_p99)}


# --- raw baseline -------------------------------------------------------------------------

def baseline_client(conn, phases, transaction):
    tallies = [Tally() for _ in phases]
    for phase, tally in zip(phases, tallies):
        while phase.go_on():
            began = time.perf_counter()
            try:
                transaction(conn)
            except psycopg2.Error as exc:
                tally.record(began, type(exc).__name__)
            else:
                tally.record(began)
    return tallies


def run_baseline(dsn, args, transaction):
    """`transaction(conn)` from `args.concurrency` threads, each with its own connection."""
    connections = [psycopg2.connect(dsn) for _ in range(args.concurrency)]
    try:
        phases = make_phases(args.warmup, args.seconds, args.max_requests)
        with ThreadPoolExecutor(args.concurrency) as pool:
            try:
                per_client = list(pool.map(lambda conn: baseline_client(conn, phases, transaction), connections))
            finally:
                for phase in phases:  # after Ctrl-C: threads stop after their current transaction
                    phase.cancel()
    finally:
        for conn in connections:
            conn.close()
    return summarize_phases("raw baseline (SQL)", phases, per_client)[0]


# --- the broker ---------------------------------------------------------------------------

def amqp_uri():
    """SMARTCITY_AMQP_URI when set, else this slot's bench vhost when the broker has it, else the default
    vhost; with every service's broker user in place there (shared.provision)."""
    uri = config.env("AMQP_URI")
    if not uri:
        try:
            with Connection(BENCH_AMQP_URI, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)
            uri = BENCH_AMQP_URI
        except Exception:  # no such vhost (or no broker: then the service's readiness check says so)
            uri = DEFAULT_AMQP_URI
    provision.broker(uri)
    return uri


def broker(args):
    """The broker URI without its password."""
    return Connection(args.amqp_uri).as_uri()


def event_queue(name, routes):
    """A durable (quorum) queue bound to (source service, event type) routes, for a benchmark's own consumer."""
    return queues.quorum(name, queues.event_bindings(routes))


def subscriber_queues(service):
    """The event queues of `service`, one per @subscribe/@subscribe_many entrypoint, as it declares them."""
    from shared.subscriber import EventSubscriber

    service_class = registry.spec(service).load_class()
    return [queues.subscription(entrypoint.queue_name(service_class.name, attribute), service_class.name,
                                entrypoint.routes)
            for attribute, member in inspect.getmembers(service_class)
            for entrypoint in getattr(member, "nameko_entrypoints", ()) if isinstance(entrypoint, EventSubscriber)]


def _delete_queues(uri, queues, declare):
    with Connection(uri) as conn:
        channel = conn.channel()
        for queue in queues:
            channel.queue_delete(queue.name)
            if declare:
                queue(channel).declare()
        channel.close()


@contextlib.contextmanager
def fresh_queues(uri, queues):
    """`queues` declared empty and bound, so nothing another run left on the vhost reaches the service and
    events published before its consumers start wait for them; deleted when the block ends, so they
    gather nothing from the benchmarks after this one."""
    _delete_queues(uri, queues, declare=True)
    try:
        yield queues
    finally:
        _delete_queues(uri, queues, declare=False)


class OwnerPublishers:
    """A shared.amqp.Publisher per event owner, logged in as its broker user (development password)."""

    def __init__(self, amqp_uri):
        self.by_owner = {
            owner: Publisher(identities.with_credentials(amqp_uri, owner, identities.local_password(owner)))
            for owner in identities.owners().values()}

    def close(self):
        for publisher in self.by_owner.values():
            publisher.close()


def publish_events(publishers, events):
    """Publish envelopes (dicts) to their source's exchange as its owner (OwnerPublishers), confirmed in batches."""
    for start in range(0, len(events), PUBLISH_BATCH):
        batch = events[start:start + PUBLISH_BATCH]
        for owner, publisher in publishers.by_owner.items():
            mine = [event for event in batch if service_of(event["type"]) == owner]
            if mine:
                publisher.publish_many([
                    dict(body=json.dumps(event), exchange=exchange_of(owner), routing_key=event["type"],
                         content_type=CONTENT_TYPE, message_id=event["id"],
                         declare=[event_exchange(exchange_of(owner))])
                    for event in mine])


# --- the service --------------------------------------------------------------------------

def port_in_use(port):
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def claim_ports(*ports):
    """Exit with a message when one of `ports` is taken (a benchmark of this slot still running?)."""
    for port in ports:
        if port_in_use(port):
            sys.exit(f"{HOST}:{port} is in use: is another benchmark (or its service) of slot {SLOT} still running?"
                     " (SMARTCITY_TEST_SLOT=N moves the bench ports to 19000 + 100*N + n)")


def service_env(service, dsn, amqp_uri, **settings):
    """The environment of `service` under test: this slot's port, `dsn`, the broker, quiet logs and
    `settings` as SMARTCITY_<SERVICE>_<NAME> (e.g. max_workers=32)."""
    prefix = f"SMARTCITY_{service.upper()}"
    return {**os.environ, "SMARTCITY_AMQP_URI": amqp_uri, f"{prefix}_DATABASE_URL": dsn,
            f"{prefix}_HTTP_ADDRESS": f"{HOST}:{bench_port(service)}", "SMARTCITY_LOG_LEVEL": "WARNING",
            "SMARTCITY_RATE_LIMITS": "off",  # a benchmark is one client address sending as fast as it can
            **{f"{prefix}_{name.upper()}": str(value) for name, value in settings.items()}}


def is_ready(port):
    conn = http.client.HTTPConnection(HOST, port, timeout=1)
    try:
        conn.request("GET", "/health/ready")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def listens(pid, port):
    """True when process `pid` itself has a socket listening on `port` (Linux /proc). With replicas sharing
    the port, /health/ready may be answered by one started earlier."""
    with contextlib.suppress(OSError):
        sockets = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port \
                        and f"socket:[{fields[9]}]" in sockets:
                    return True
    return False


def wait_ready(service, port, process, log_path):
    deadline = time.monotonic() + READY_TIMEOUT
    while not (listens(process.pid, port) and is_ready(port)):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the {service} service did not become ready (exit code {process.poll()}):\n{tail}")
        time.sleep(0.2)


def stop(service, process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"{service} service did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM; killing it", file=sys.stderr)
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_service(service, env, processes=1):
    """The real service as `processes` subprocesses (replicas) with `env`, ready on this slot's port.

    Replicas share the port (eventlet listens with SO_REUSEPORT; the kernel spreads connections),
    as pods behind a Kubernetes Service would. Their output goes to bench/results/<service>_service.log.
    SIGTERM to each when the block ends.
    """
    port, log_path = bench_port(service), RESULTS / f"{service}_service.log"
    RESULTS.mkdir(parents=True, exist_ok=True)
    progress(f"starting the {service} service on {HOST}:{port}, broker {Connection(env['SMARTCITY_AMQP_URI']).as_uri()}"
             f" (log: {log_path})")
    started = []
    with open(log_path, "wb") as log:
        try:
            for _ in range(processes):
                started.append(subprocess.Popen([sys.executable, "-m", "shared.runner", service], cwd=ROOT,
                                                env=env, stdout=log, stderr=subprocess.STDOUT))
                wait_ready(service, port, started[-1], log_path)
            yield started
        finally:
            for process in started:
                stop(service, process)


# --- HTTP load ----------------------------------------------------------------------------

def post_request(path, port, token, body=None):
    """The bytes of one HTTP/1.1 POST with a bearer token and `body` as JSON (none when None)."""
    payload = b"" if body is None else json.dumps(body).encode()
    content_type = "" if body is None else "Content-Type: application/json\r\n"
    head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"{content_type}Content-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class HttpConnection:
    """One keep-alive HTTP/1.1 connection to HOST:port."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def connect(self):
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def send(self, request):
        """The response's status code. After a failure the next call connects afresh."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                if self.writer is None:
                    await self.connect()
                self.writer.write(request)
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


async def http_client(connection, phases, next_request, ok_status):
    tallies = [Tally() for _ in phases]
    for phase, tally in zip(phases, tallies):
        while phase.go_on():
            request = next_request()
            began = time.perf_counter()
            try:
                status = await connection.send(request)
            except Exception as exc:
                tally.record(began, type(exc).__name__)
            else:
                tally.record(began, None if status == ok_status else f"HTTP {status}")
    return tallies


async def http_load(port, args, next_request, ok_status):
    connections = [HttpConnection(port) for _ in range(args.concurrency)]
    try:
        # connect every client before the clock starts
        await asyncio.gather(*(connection.connect() for connection in connections))
        phases = make_phases(args.warmup, args.seconds, args.max_requests)
        per_client = await asyncio.gather(*(http_client(connection, phases, next_request, ok_status)
                                            for connection in connections))
    finally:
        for connection in connections:
            connection.close()
    return phases, per_client


def run_http(port, args, service_pids, next_request, ok_status):
    """(measured result, warm-up result, CPU and memory of the service, CPU of this load generator).

    Each request is `next_request()` (bytes); a response other than `ok_status` counts as an error.
    CPU per request is the service's CPU seconds over both phases divided by the requests answered in
    them: unlike the rates, it hardly depends on how much of the machine other processes take.
    """
    service_cpu = lambda: sum(cpu_seconds(pid) for pid in service_pids)  # noqa: E731
    idle_mb = sum(memory_mb(pid)[0] for pid in service_pids)
    wall, own_cpu, started_cpu = time.perf_counter(), time.process_time(), service_cpu()
    phases, per_client = asyncio.run(http_load(port, args, next_request, ok_status))
    wall, used = time.perf_counter() - wall, service_cpu() - started_cpu
    measured, warmup = summarize_phases("service (HTTP)", phases, per_client)
    answered = sum(len(t.latencies) + sum(t.errors.values()) for tallies in per_client for t in tallies)
    cpu = {"service_cores": used / wall, "service_cpu_us_per_request": used / max(1, answered) * 1e6,
           "load_generator_cores": (time.process_time() - own_cpu) / wall,
           "service_rss_idle_mb": idle_mb, "service_rss_peak_mb": sum(memory_mb(pid)[1] for pid in service_pids)}
    return measured, warmup, cpu


# --- reporting and the command line (every benchmark) ------------------------------------

def progress(message):
    print(message, file=sys.stderr, flush=True)


def speed_checks(args, checks):
    """The speed targets of a full run; none in a smoke run (a second of load proves no speed)."""
    return [] if args.smoke else checks


def print_checks(checks, width=38):
    """One line per (label, passed, figure): PASS or FAIL, the label, the figure."""
    for label, passed, figure in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {label:{width}} {figure}")


def exit_status(checks):
    return 0 if all(passed for _, passed, _ in checks) else 1


def settings_of(args):
    """The run's options for the JSON, with the broker (without its password) instead of its URI."""
    return {**{key: value for key, value in vars(args).items() if key not in ("json", "amqp_uri")},
            "broker": broker(args)}


def write_json(args, checks, **figures):
    """bench/results/<name>[_smoke].json (or --json): the settings, `figures` and the checks."""
    document = {"settings": settings_of(args), **figures,
                "checks": [{"check": label, "pass": passed, "figure": figure} for label, passed, figure in checks]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")


# A smoke run checks behaviour, not speed: 8 clients still overlap (row locks, the pool) and leave
# PostgreSQL connections (max_connections 100) to test runs of other slots on the same server.
SMOKE = {"seconds": 1.0, "warmup": 0.2, "max_requests": 2_000, "concurrency": 8}


def argument_parser(description, name):
    """A parser with the options every benchmark has: --json (default bench/results/<name>.json) and --smoke."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=RESULTS / f"{name}.json",
                        help=f"where to write the figures (default bench/results/{name}.json,"
                             f" {name}_smoke.json with --smoke)")
    parser.add_argument("--smoke", action="store_true",
                        help="about a second of load, every correctness check, no speed targets (make bench-smoke)")
    return parser


def apply_smoke(args, name, **overrides):
    """In a smoke run: short phases (SMOKE, then `overrides`) and figures in <name>_smoke.json."""
    if args.smoke:
        for key, value in {**SMOKE, **overrides}.items():
            if hasattr(args, key):
                setattr(args, key, value)
        if args.json == RESULTS / f"{name}.json":
            args.json = RESULTS / f"{name}_smoke.json"
    return args


def cli(main):
    """sys.exit with what `main()` returns (the exit status); 130 after Ctrl-C."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)


# --- the HTTP benchmarks ------------------------------------------------------------------

@dataclass(frozen=True)
class Targets:
    p99_ms: float
    ratio: float  # service rate / baseline rate, measured in the same run
    concurrency: int  # the clients the targets are defined at


class Benchmark:
    """One write path of one service; subclasses fill in the names and the hooks."""

    service: str  # as `python -m shared.runner <service>` knows it
    operation: str  # what one write is called in the report ("ideas", "votes")
    ok_status: int
    targets: Targets

    def __init__(self, args):
        self.args = args
        self.port = bench_port(self.service)

    @classmethod
    def name(cls):
        return f"{cls.service}_throughput"

    @classmethod
    def add_arguments(cls, parser):
        """Options of this benchmark besides the common ones."""

    def service_settings(self):
        """Settings of the service besides the database, address, pool and workers: {name: value}
        for SMARTCITY_<SERVICE>_<NAME>."""
        return {}

    def seed(self, dsn):
        """Bring the database to its starting state; runs before the baseline and before the service."""

    def baseline_transaction(self, conn):
        """One write as raw psycopg2 does it: committed, or raising psycopg2.Error."""
        raise NotImplementedError

    def next_request(self):
        """The bytes of the next HTTP request to the service."""
        raise NotImplementedError

    def check(self, dsn, accepted):
        """(facts, [(label, passed, figure)]) about the service's rows after `accepted` good responses."""
        raise NotImplementedError


def verdicts(bench, service, warmup, baseline, outbox, accepted):
    """The targets, every response good, and one event per good response, all published."""
    targets = bench.targets
    ratio = service.rate / baseline.rate if baseline.rate else 0.0
    published = outbox["outbox_sent"] == outbox["outbox_rows"] == accepted
    return speed_checks(bench.args, [
        (f"service p99 < {targets.p99_ms:g} ms", service.p99_ms < targets.p99_ms, f"{service.p99_ms:.1f} ms"),
        (f"service/baseline >= {targets.ratio:g}", ratio >= targets.ratio, f"{ratio:.2f}"),
    ]) + [
        (f"every response {bench.ok_status}", accepted > 0 and not service.errors and not warmup.errors,
         f"{sum(service.errors.values()) + sum(warmup.errors.values())} errors"),
        (f"every event published within {OUTBOX_TIMEOUT:.0f} s", published,
         f"{outbox['outbox_sent']}/{outbox['outbox_rows']} in {outbox['drain_seconds']:.2f} s"),
    ]


def print_report(bench, baseline, service, cpu, outbox, checks):
    args = bench.args
    smoke = " (smoke run: no speed targets)" if args.smoke else ""
    print(f"\n{bench.service} throughput{smoke}: {args.concurrency} clients, {args.seconds:g} s after"
          f" {args.warmup:g} s warm-up, service: {args.processes} process(es), MAX_WORKERS={args.max_workers}"
          f" DB_POOL_SIZE={args.db_pool_size}")
    print(f"  {'':20} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ok':>8} {'errors':>7}")
    for result in (baseline, service):
        errors = f" {sum(result.errors.values()):7d}" + (f"  {result.errors}" if result.errors else "")
        print(f"  {result.name:20} {result.rate:9.1f} {result.p50_ms:8.1f} {result.p99_ms:8.1f} {result.ok:8d}{errors}")
    print(f"  CPU during the HTTP run: service {cpu['service_cores']:.2f} cores"
          f" ({cpu['service_cpu_us_per_request']:,.0f} µs per request), load generator"
          f" {cpu['load_generator_cores']:.2f} cores")
    print(f"  service memory (RSS, {args.processes} process(es)): {cpu['service_rss_idle_mb']:.0f} MB idle,"
          f" {cpu['service_rss_peak_mb']:.0f} MB peak under load")
    print(f"  outbox: {outbox['outbox_sent']}/{outbox['outbox_rows']} rows sent {outbox['drain_seconds']:.2f} s after"
          f" the run; publish lag (sent_at - created_at) p50 {outbox['publish_lag_p50_ms']:.0f} ms,"
          f" p99 {outbox['publish_lag_p99_ms']:.0f} ms")
    if args.concurrency != bench.targets.concurrency:
        print(f"  (the targets are defined at {bench.targets.concurrency} clients)")
    print_checks(checks)


def parse_args(benchmark, description, argv):
    service = benchmark.service.upper()
    parser = argument_parser(description, benchmark.name())
    concurrency = benchmark.targets.concurrency
    parser.add_argument("--concurrency", type=int, default=concurrency,
                        help=f"concurrent clients (default {concurrency})")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured run per load (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up before each measured run (default 1)")
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap of a measured run (default 100000)")
    parser.add_argument("--max-workers", type=int, default=int(os.environ.get(f"SMARTCITY_{service}_MAX_WORKERS", 10)),
                        help=f"the service's nameko worker pool (default $SMARTCITY_{service}_MAX_WORKERS or 10)")
    parser.add_argument("--db-pool-size", type=int,
                        default=int(os.environ.get(f"SMARTCITY_{service}_DB_POOL_SIZE", 10)),
                        help=f"the service's database connections (default $SMARTCITY_{service}_DB_POOL_SIZE or 10)")
    parser.add_argument("--processes", type=int, default=1,
                        help="service processes (replicas) sharing the port (default 1)")
    benchmark.add_arguments(parser)
    return apply_smoke(parser.parse_args(argv), benchmark.name())


def run(bench):
    """Baseline, then the service, then the checks; the exit status (1 when anything failed)."""
    args = bench.args
    claim_ports(bench.port)
    args.amqp_uri = amqp_uri()
    env = lambda dsn: service_env(bench.service, dsn, args.amqp_uri, max_workers=args.max_workers,  # noqa: E731
                                  db_pool_size=args.db_pool_size, **bench.service_settings())
    with bench_database(bench.service) as dsn:
        bench.seed(dsn)
        progress(f"raw baseline: {args.concurrency} connections, {args.warmup:g} s + {args.seconds:g} s")
        baseline = run_baseline(dsn, args, bench.baseline_transaction)
        bench.seed(dsn)
        with (fresh_queues(args.amqp_uri, subscriber_queues(bench.service)),
              running_service(bench.service, env(dsn), args.processes) as processes):
            progress(f"service ready ({len(processes)} process(es)); HTTP load: {args.concurrency} clients,"
                     f" {args.warmup:g} s + {args.seconds:g} s")
            service, warmup, cpu = run_http(bench.port, args, [p.pid for p in processes], bench.next_request,
                                            bench.ok_status)
            progress("waiting for the outbox relay")
            outbox = outbox_published(dsn)
        accepted = warmup.ok + service.ok
        facts, own_checks = bench.check(dsn, accepted)
    checks = verdicts(bench, service, warmup, baseline, outbox, accepted) + own_checks
    print_report(bench, baseline, service, cpu, outbox, checks)
    write_json(args, checks, baseline=asdict(baseline), service=asdict(service), cpu=cpu, outbox=outbox, rows=facts)
    return exit_status(checks)


def main(benchmark, description, argv=None):
    """Run a Benchmark subclass from the command line."""
    cli(lambda: run(benchmark(parse_args(benchmark, description, argv))))
