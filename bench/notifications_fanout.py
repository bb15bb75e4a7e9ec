"""Fan-out of one PilotApproved to N confirmed e-mail subscribers (default 10,000) into a local SMTP sink.

In one invocation it measures

* the raw baseline: `--connections` threads sending the same number of ready-made mails with
  smtplib straight to the sink, one persistent connection each;
* the service: the real notifications service (`python -m shared.runner notifications`, a
  subprocess) receives one PilotApproved from RabbitMQ, records a delivery per subscriber, renders
  each mail from the Jinja2 templates and sends it over SMTP, writing NotificationSent to its outbox;

both into the same sink (scripts/smtp_sink.py, aiosmtpd, writing one .eml file per mail), timed
until the sink holds the last mail. It then checks that every subscriber got exactly one mail and
that every delivery is marked sent with its NotificationSent published, and prints mails/s, the
time to the first and the last mail and the ratio to the baseline.

Own database smartcity_notifications_bench (recreated, dropped at the end), HTTP port 18103,
SMTP port 18125 and the RabbitMQ vhost smartcity_bench (see bench/ideas_throughput.py).

    make bench-notifications
    .venv/bin/python -m bench.notifications_fanout --subscribers 10000 --senders 4 --batch 100
"""
import argparse
import contextlib
import json
import os
import secrets
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extras
from kombu import Connection, Exchange

from bench.ideas_throughput import amqp_uri, cpu_seconds, stop
from scripts import smtp_sink
from services.notifications.mail import compose
from services.notifications.settings import load as load_settings
from services.notifications.rendering import Renderer
from shared import config
from shared.envelope import CONTENT_TYPE, exchange_of, make_event
from shared.migrate import migrate

DATABASE = "smartcity_notifications_bench"
# A municipality of its own: board decisions other benchmarks publish on the shared bench vhost reach nobody here.
MUNICIPALITY = "benchstadt"
HOST, HTTP_PORT, SMTP_PORT = "127.0.0.1", 18103, 18125
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TARGET_RATE = 500  # mails/s
TIMEOUT = 300.0

psycopg2.extras.register_uuid()


def progress(message):
    print(message, file=sys.stderr, flush=True)


# --- set-up ---------------------------------------------------------------------------------

def bench_dsn():
    return f"{config.env('PG_URL', 'postgresql://postgres@127.0.0.1:5432').rstrip('/')}/{DATABASE}"


def drop_database(dsn):
    with contextlib.closing(psycopg2.connect(urlunsplit(urlsplit(dsn)._replace(path="/postgres")))) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def add_subscribers(dsn, count):
    """`count` confirmed subscribers (half German, half English) following MUNICIPALITY's pilot decisions."""
    now = datetime.now(timezone.utc)
    rows = [(uuid.uuid4(), f"citizen-{n:05d}@bench.example.org", "de" if n % 2 else "en", secrets.token_urlsafe(32),
             now) for n in range(count)]
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
        psycopg2.extras.execute_values(
            cur, "INSERT INTO subscribers (id, email, language, digest, access_token, created_at, confirmed_at)"
                 " VALUES %s", [(i, email, lang, token, at, at) for i, email, lang, token, at in rows],
            template="(%s, %s, %s, 'immediate', %s, %s, %s)")
        psycopg2.extras.execute_values(cur, "INSERT INTO subscriptions (subscriber_id, topic) VALUES %s",
                                       [(row[0], f"pilot_decisions:{MUNICIPALITY}") for row in rows])
    return [row[1] for row in rows]


def wait_port(port, process, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {seconds} s")


def wait_for_mails(maildir, count, started):
    """(seconds to the first mail, seconds to the last), counted in the sink's folder."""
    first = None
    while time.monotonic() - started < TIMEOUT:
        received = sum(1 for entry in os.scandir(maildir) if entry.name.endswith(".eml"))
        if received and first is None:
            first = time.monotonic() - started
        if received >= count:
            return first, time.monotonic() - started
        time.sleep(0.02)
    raise RuntimeError(f"only {received} of {count} mails arrived within {TIMEOUT:.0f} s")


# --- raw baseline ---------------------------------------------------------------------------

def run_baseline(maildir, addresses, connections):
    """smtplib sending one ready-made mail (rendered from the same template) per address."""
    settings = load_settings()
    rendered = Renderer().notification("de", {"type": "PilotApproved", "idea_title": "Smarte Straßenbeleuchtung",
                                              "municipality": "gera", "field_of_action": "energie",
                                              "tally": {"yes": 7, "no": 2, "abstain": 1}},
                                       {"unsubscribe": "http://x/u", "manage": "http://x/m"})
    body = compose(settings, addresses[0], rendered, {"unsubscribe": "http://x/u"}, uuid.uuid4()).as_bytes(
        policy=policy.compat32.clone(linesep="\r\n"))
    shares = [addresses[n::connections] for n in range(connections)]

    def send(share):
        with smtplib.SMTP(HOST, SMTP_PORT) as smtp:
            for address in share:
                smtp.sendmail(settings.mail_from, [address], body)

    started = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(send, shares))
    return wait_for_mails(maildir, len(addresses), started)


# --- the service ----------------------------------------------------------------------------

def service_env(dsn, args):
    return {**os.environ, "SMARTCITY_AMQP_URI": args.amqp_uri, "SMARTCITY_NOTIFICATIONS_DATABASE_URL": dsn,
            "SMARTCITY_NOTIFICATIONS_HTTP_ADDRESS": f"{HOST}:{HTTP_PORT}", "SMARTCITY_LOG_LEVEL": "WARNING",
            "SMARTCITY_NOTIFICATIONS_SMTP_HOST": HOST, "SMARTCITY_NOTIFICATIONS_SMTP_PORT": str(SMTP_PORT),
            "SMARTCITY_NOTIFICATIONS_SMTP_SECURITY": "none", "SMARTCITY_NOTIFICATIONS_DISPATCH_SECONDS": "0.2",
            "SMARTCITY_NOTIFICATIONS_EMAIL_SENDERS": str(args.senders),
            "SMARTCITY_NOTIFICATIONS_EMAIL_BATCH": str(args.batch), "SMARTCITY_NOTIFICATIONS_DB_POOL_SIZE": "16"}


def publish_pilot_approved(uri):
    event = make_event("voting", "PilotApproved", {
        "idea_id": uuid.uuid4(), "municipality": MUNICIPALITY, "field_of_action": "energie",
        "decision_id": uuid.uuid4(),
        "tally": {"yes": 7, "no": 2, "abstain": 1}, "board_size": 11, "quorum": 6, "quorum_met": True,
        "majority_rule": "simple", "decided_at": datetime.now(timezone.utc)})
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        exchange = Exchange(exchange_of("voting"), "topic", durable=True)
        conn.Producer().publish(json.dumps(event), exchange=exchange, routing_key="PilotApproved",
                                content_type=CONTENT_TYPE, content_encoding="utf-8", declare=[exchange],
                                delivery_mode=2)
    return event


def reset_queues(uri):
    """Drop the service's event queues left on the bench vhost, with whatever others published since."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # nameko imports it; not run here
    from services.notifications.service import NotificationsService
    from shared.subscriber import EventSubscriber

    with Connection(uri) as conn:
        channel = conn.channel()
        for name in dir(NotificationsService):
            for entrypoint in getattr(getattr(NotificationsService, name), "nameko_entrypoints", ()):
                if isinstance(entrypoint, EventSubscriber):
                    source, event_type = entrypoint.source_service, entrypoint.event_type
                    channel.queue_delete(f"evt-{source}-{event_type}--notifications.{name}")


def outcome(dsn, event_id):
    """(deliveries of the event marked sent, its NotificationSent events published)."""
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM deliveries WHERE status = 'sent' AND trigger_event_id = %s),"
                    " (SELECT count(*) FROM outbox WHERE routing_key = 'NotificationSent' AND sent_at IS NOT NULL"
                    "  AND body::jsonb -> 'data' ->> 'trigger_event_id' = %s)", (event_id, event_id))
        return cur.fetchone()


def wait_published(dsn, event_id, count, seconds=30):
    deadline = time.monotonic() + seconds
    while outcome(dsn, event_id)[1] < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return outcome(dsn, event_id)


def recipients(maildir):
    parser = BytesHeaderParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes())["To"] for path in smtp_sink.mails(maildir)]


# --- main -----------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=8, help="the service's parallel SMTP connections")
    parser.add_argument("--batch", type=int, default=100, help="mails per claimed batch")
    parser.add_argument("--connections", type=int, default=4, help="the baseline's SMTP connections")
    parser.add_argument("--json", type=Path, default=RESULTS / "notifications_fanout.json")
    args = parser.parse_args(argv)
    args.amqp_uri = amqp_uri()
    dsn = bench_dsn()
    RESULTS.mkdir(parents=True, exist_ok=True)
    maildir = Path(tempfile.mkdtemp(prefix="smartcity-bench-mail-"))
    log_path = RESULTS / "notifications_service.log"
    progress(f"recreating {DATABASE}; SMTP sink on {SMTP_PORT} writing to {maildir}")
    drop_database(dsn)
    migrate("notifications", dsn)
    sink = smtp_sink.start(maildir, SMTP_PORT)
    service = None
    try:
        wait_port(SMTP_PORT, sink, "the SMTP sink")
        addresses = add_subscribers(dsn, args.subscribers)
        progress(f"raw baseline: {args.subscribers} mails over {args.connections} smtplib connections")
        _, base_last = run_baseline(maildir, addresses, args.connections)
        for path in smtp_sink.mails(maildir):
            path.unlink()
        progress(f"starting the notifications service (log: {log_path})")
        reset_queues(args.amqp_uri)
        with open(log_path, "wb") as log:
            service = subprocess.Popen([sys.executable, "-m", "shared.runner", "notifications"], cwd=ROOT,
                                       env=service_env(dsn, args), stdout=log, stderr=subprocess.STDOUT)
        wait_port(HTTP_PORT, service, "the notifications service")
        time.sleep(1.0)  # its queues are bound once the container has started
        progress(f"publishing one PilotApproved to {args.subscribers} subscribers")
        cpu_before, started = cpu_seconds(service.pid), time.monotonic()
        event = publish_pilot_approved(args.amqp_uri)
        first, last = wait_for_mails(maildir, args.subscribers, started)
        service_cores = (cpu_seconds(service.pid) - cpu_before) / last
        sent, published = wait_published(dsn, event["id"], args.subscribers)
        got = recipients(maildir)
    finally:
        if service is not None:
            stop(service)
        sink.terminate()
        sink.wait()
        drop_database(dsn)
        shutil.rmtree(maildir, ignore_errors=True)

    rate, baseline_rate = args.subscribers / last, args.subscribers / base_last
    checks = [
        (f"service mails/s >= {TARGET_RATE}", rate >= TARGET_RATE, f"{rate:.0f}"),
        ("every subscriber got exactly one mail", sorted(got) == sorted(addresses),
         f"{len(set(got))} distinct of {len(got)}"),
        ("every delivery marked sent", sent == args.subscribers, f"{sent}"),
        ("every NotificationSent published", published == args.subscribers, f"{published}"),
    ]
    print(f"\nnotifications fan-out: 1 PilotApproved -> {args.subscribers} confirmed e-mail subscribers,"
          f" {args.senders} SMTP senders, batch {args.batch}")
    print(f"  {'':32} {'mails/s':>9} {'first mail s':>13} {'last mail s':>12}")
    print(f"  {'raw baseline (smtplib)':32} {baseline_rate:9.0f} {'':>13} {base_last:12.2f}")
    print(f"  {'service (event -> mails)':32} {rate:9.0f} {first:13.2f} {last:12.2f}")
    print(f"  ratio service/baseline {rate / baseline_rate:.2f}; service CPU {service_cores:.2f} cores")
    for label, passed, figure in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {label:40} {figure}")
    args.json.write_text(json.dumps({
        "settings": {k: getattr(args, k) for k in ("subscribers", "senders", "batch", "connections")},
        "baseline": {"rate": baseline_rate, "last_s": base_last},
        "service": {"rate": rate, "first_s": first, "last_s": last, "cores": service_cores},
        "checks": [{"check": label, "pass": passed, "figure": figure} for label, passed, figure in checks],
    }, indent=2) + "\n")
    return 0 if all(passed for _, passed, _ in checks) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
