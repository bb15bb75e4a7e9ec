"""What every benchmark needs: its own database and vhost, a service subprocess, percentiles."""
import contextlib
import http.client
import math
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from kombu import Connection

from shared import config
from shared.migrate import migrate

BENCH_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/smartcity_bench"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def percentile(ordered, q):
    """Nearest-rank percentile of a sorted list (NaN when empty)."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def bench_dsn(database):
    return f"{config.env('PG_URL', 'postgresql://postgres@127.0.0.1:5432').rstrip('/')}/{database}"


def drop_database(dsn):
    name = urlsplit(dsn).path.lstrip("/")
    admin = urlunsplit(urlsplit(dsn)._replace(path="/postgres"))
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def recreate_database(service, dsn):
    drop_database(dsn)
    migrate(service, dsn)


def amqp_uri():
    """SMARTCITY_AMQP_URI when set, else the bench vhost when the broker has it, else the default vhost."""
    if config.env("AMQP_URI"):
        return config.env("AMQP_URI")
    try:
        with Connection(BENCH_AMQP_URI, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return BENCH_AMQP_URI
    except Exception:  # no such vhost (or no broker: then the service's readiness check says so)
        return DEFAULT_AMQP_URI


def without_password(uri):
    return Connection(uri).as_uri()


def port_in_use(host, port):
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def is_ready(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=1)
    try:
        conn.request("GET", "/health/ready")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def wait_ready(process, log_path, host, port, service):
    deadline = time.monotonic() + READY_TIMEOUT
    while not is_ready(host, port):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the {service} service did not become ready (exit code {process.poll()}):\n{tail}")
        time.sleep(0.2)


def stop(process, service):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"{service} service did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM; killing it", file=sys.stderr)
        process.kill()
        process.wait()


def progress(message):
    print(message, file=sys.stderr, flush=True)


def prepare(service, database, host, port, results):
    """Refuse a busy port, pick the broker, recreate the bench database; returns (amqp uri, dsn)."""
    if port_in_use(host, port):
        sys.exit(f"{host}:{port} is in use: is another benchmark (or its service) still running?")
    uri, dsn = amqp_uri(), bench_dsn(database)
    results.mkdir(parents=True, exist_ok=True)
    progress(f"recreating {database}")
    recreate_database(service, dsn)
    return uri, dsn
