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

Own database smartcity_notifications_bench (recreated, dropped at the end), HTTP port 19003,
SMTP port 19025 and the RabbitMQ vhost smartcity_bench; with SMARTCITY_TEST_SLOT=N:
smartcity_notifications_bench_N, ports 19003/19025 + 100*N and smartcity_bench_N (see
bench/harness.py). `--smoke`: 200 subscribers, every check, no speed target.

    make bench-notifications
    .venv/bin/python -m bench.notifications_fanout --smoke
    .venv/bin/python -m bench.notifications_fanout --subscribers 10000 --senders 4 --batch 100

The exit status is 1 when a check fails or, in a full run, the service makes less than 0.7 of the
raw smtplib baseline's mails/s in the same run.
"""
import contextlib
import os
import shutil
import smtplib
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

import psycopg2
import psycopg2.extras

from bench import harness
from scripts import smtp_sink
from services.notifications.mail import compose
from services.notifications.rendering import Renderer
from services.notifications.settings import load as load_settings
from shared.envelope import make_event

NAME = "notifications_fanout"
# A municipality of its own: board decisions other benchmarks publish on the shared bench vhost reach nobody here.
MUNICIPALITY = "benchstadt"
HTTP_PORT, SMTP_PORT = harness.bench_port("notifications"), harness.bench_port("smtp")
TARGET_RATIO = 0.7  # of the raw smtplib baseline's mails/s, measured in the same run
PUBLISH_TIMEOUT = 30.0  # for the last NotificationSent after the last mail
SMOKE = {"subscribers": 200, "timeout": 30.0}


# --- set-up ---------------------------------------------------------------------------------

def add_subscribers(dsn, count):
    """`count` confirmed subscribers (half German, half English) following MUNICIPALITY's pilot decisions."""
    now = datetime.now(timezone.utc)
    rows = [(uuid.uuid4(), f"citizen-{n:05d}@bench.example.org", "de" if n % 2 else "en", now)
            for n in range(count)]
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
        psycopg2.extras.execute_values(
            cur, "INSERT INTO subscribers (id, email, language, digest, created_at, confirmed_at)"
                 " VALUES %s", [(i, email, lang, at, at) for i, email, lang, at in rows],
            template="(%s, %s, %s, 'immediate', %s, %s)")
        psycopg2.extras.execute_values(cur, "INSERT INTO subscriptions (subscriber_id, topic) VALUES %s",
                                       [(row[0], f"pilot_decisions:{MUNICIPALITY}") for row in rows])
    return [row[1] for row in rows]


@contextlib.contextmanager
def smtp_sink_running(maildir):
    """scripts/smtp_sink.py on SMTP_PORT, writing to `maildir`, until the block ends."""
    sink = smtp_sink.start(maildir, SMTP_PORT)
    try:
        harness.wait_for(lambda: sink.poll() is not None or harness.port_in_use(SMTP_PORT), 30)
        if not harness.port_in_use(SMTP_PORT):
            raise RuntimeError(f"the SMTP sink did not listen on {SMTP_PORT} (exit code {sink.poll()})")
        yield sink
    finally:
        sink.terminate()
        sink.wait()


def mail_count(maildir):
    return sum(1 for entry in os.scandir(maildir) if entry.name.endswith(".eml"))


def wait_for_mails(maildir, count, started, timeout):
    """(seconds to the first mail, seconds to the last or None when fewer than `count` came within `timeout`)."""
    first = []

    def arrived():
        received = mail_count(maildir)
        if received and not first:
            first.append(time.monotonic() - started)
        return received >= count

    waited = harness.wait_for(arrived, timeout - (time.monotonic() - started), interval=0.02)
    return (first[0] if first else None), (None if waited is None else time.monotonic() - started)


def recipients(maildir):
    parser = BytesHeaderParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes())["To"] for path in smtp_sink.mails(maildir)]


# --- raw baseline ---------------------------------------------------------------------------

def run_baseline(maildir, addresses, args):
    """smtplib sending one ready-made mail (rendered from the same template) per address: seconds to the last."""
    settings = load_settings()
    rendered = Renderer().notification("de", {"type": "PilotApproved", "idea_title": "Smarte Straßenbeleuchtung",
                                              "municipality": "gera", "field_of_action": "energie",
                                              "tally": {"yes": 7, "no": 2, "abstain": 1}},
                                       {"unsubscribe": "http://x/u", "manage": "http://x/m"})
    body = compose(settings, addresses[0], rendered, {"unsubscribe": "http://x/u"}, uuid.uuid4()).as_bytes(
        policy=policy.compat32.clone(linesep="\r\n"))
    shares = [addresses[n::args.connections] for n in range(args.connections)]

    def send(share):
        with smtplib.SMTP(harness.HOST, SMTP_PORT) as smtp:
            for address in share:
                smtp.sendmail(settings.mail_from, [address], body)

    started = time.monotonic()
    with ThreadPoolExecutor(args.connections) as pool:
        list(pool.map(send, shares))
    return wait_for_mails(maildir, len(addresses), started, args.timeout)[1]


# --- the service ----------------------------------------------------------------------------

def pilot_approved():
    return make_event("voting", "PilotApproved", {
        "idea_id": uuid.uuid4(), "municipality": MUNICIPALITY, "field_of_action": "energie",
        "decision_id": uuid.uuid4(),
        "tally": {"yes": 7, "no": 2, "abstain": 1}, "board_size": 11, "quorum": 6, "quorum_met": True,
        "majority_rule": "simple", "decided_at": datetime.now(timezone.utc)})


def outcome(dsn, event_id):
    """(deliveries of the event marked sent, its NotificationSent events published)."""
    return harness.query_one(
        dsn, "SELECT (SELECT count(*) FROM deliveries WHERE status = 'sent' AND trigger_event_id = %s),"
             " (SELECT count(*) FROM outbox WHERE routing_key = 'NotificationSent' AND sent_at IS NOT NULL"
             "  AND body::jsonb -> 'data' ->> 'trigger_event_id' = %s)", (event_id, event_id))


def run_service(dsn, maildir, args):
    """One PilotApproved through the real service: (first mail s, last mail s or None, service CPU seconds and
    cores until the last mail, RSS MB idle and at the peak, sent, published)."""
    env = harness.service_env("notifications", dsn, args.amqp_uri, smtp_host=harness.HOST, smtp_port=SMTP_PORT,
                              smtp_security="none", dispatch_seconds=0.2, email_senders=args.senders,
                              email_batch=args.batch, db_pool_size=16)
    publisher = harness.OwnerPublishers(args.amqp_uri)
    try:
        # its queues fresh and bound before it starts: no stale events, and none of ours missed
        with (harness.fresh_queues(args.amqp_uri, harness.subscriber_queues("notifications")),
              harness.running_service("notifications", env) as [service]):
            harness.progress(f"publishing one PilotApproved to {args.subscribers} subscribers")
            idle_mb = harness.memory_mb(service.pid)[0]
            cpu_before, started = harness.cpu_seconds(service.pid), time.monotonic()
            event = pilot_approved()
            harness.publish_events(publisher, [event])
            first, last = wait_for_mails(maildir, args.subscribers, started, args.timeout)
            cpu = harness.cpu_seconds(service.pid) - cpu_before
            cores = cpu / (time.monotonic() - started)
            harness.wait_for(lambda: outcome(dsn, event["id"])[1] >= args.subscribers, PUBLISH_TIMEOUT, 0.1)
            sent, published = outcome(dsn, event["id"])
            memory = (idle_mb, harness.memory_mb(service.pid)[1])
    finally:
        publisher.close()
    return first, last, cpu, cores, memory, sent, published


# --- the run --------------------------------------------------------------------------------

def rate(count, seconds):
    return count / seconds if seconds else 0.0


def verdicts(args, addresses, got, baseline_last, service_rate, baseline_rate, sent, published):
    ratio = service_rate / baseline_rate if baseline_rate else 0.0
    return harness.speed_checks(args, [
        (f"service/baseline >= {TARGET_RATIO:g}", ratio >= TARGET_RATIO, f"{ratio:.2f}"),
    ]) + [
        ("baseline: every mail arrived", baseline_last is not None,
         f"within {args.timeout:g} s" if baseline_last is not None else f"not within {args.timeout:g} s"),
        ("every subscriber got exactly one mail", sorted(got) == sorted(addresses),
         f"{len(set(got))} distinct of {len(got)} for {len(addresses)}"),
        ("every delivery marked sent", sent == args.subscribers, f"{sent} of {args.subscribers}"),
        ("every NotificationSent published", published == args.subscribers, f"{published} of {args.subscribers}"),
    ]


def print_report(args, baseline, service, checks):
    smoke = " (smoke run: no speed target)" if args.smoke else ""
    seconds = lambda value: f"{value:.2f}" if value is not None else "-"  # noqa: E731
    print(f"\nnotifications fan-out{smoke}: 1 PilotApproved -> {args.subscribers} confirmed e-mail subscribers,"
          f" {args.senders} SMTP senders, batch {args.batch}, broker {harness.broker(args)}")
    print(f"  {'':32} {'mails/s':>9} {'first mail s':>13} {'last mail s':>12}")
    print(f"  {'raw baseline (smtplib)':32} {baseline['rate']:9.0f} {'':>13} {seconds(baseline['last_s']):>12}")
    print(f"  {'service (event -> mails)':32} {service['rate']:9.0f} {seconds(service['first_s']):>13}"
          f" {seconds(service['last_s']):>12}")
    ratio = service["rate"] / baseline["rate"] if baseline["rate"] else float("nan")
    print(f"  ratio service/baseline {ratio:.2f}; service CPU {service['cores']:.2f} cores,"
          f" {service['cpu_us_per_mail']:,.0f} µs per mail; RSS {service['rss_idle_mb']:.0f} MB idle,"
          f" {service['rss_peak_mb']:.0f} MB peak")
    harness.print_checks(checks, width=40)


def parse_args(argv):
    parser = harness.argument_parser(__doc__, NAME)
    parser.add_argument("--subscribers", type=int, default=10_000, help="confirmed subscribers (default 10000)")
    parser.add_argument("--senders", type=int, default=8, help="the service's parallel SMTP connections (default 8)")
    parser.add_argument("--batch", type=int, default=100, help="mails per claimed batch (default 100)")
    parser.add_argument("--connections", type=int, default=4, help="the baseline's SMTP connections (default 4)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="how long to wait for the last mail of a run (default 300)")
    return harness.apply_smoke(parser.parse_args(argv), NAME, **SMOKE)


def main(argv=None):
    args = parse_args(argv)
    harness.claim_ports(HTTP_PORT, SMTP_PORT)
    args.amqp_uri = harness.amqp_uri()
    maildir = Path(tempfile.mkdtemp(prefix="smartcity-bench-mail-"))
    try:
        with harness.bench_database("notifications") as dsn, smtp_sink_running(maildir):
            addresses = add_subscribers(dsn, args.subscribers)
            harness.progress(f"raw baseline: {args.subscribers} mails over {args.connections} smtplib connections"
                             f" to the sink on {SMTP_PORT}")
            baseline_last = run_baseline(maildir, addresses, args)
            for path in smtp_sink.mails(maildir):
                path.unlink()
            first, last, cpu, cores, memory, sent, published = run_service(dsn, maildir, args)
            got = recipients(maildir)
    finally:
        shutil.rmtree(maildir, ignore_errors=True)

    baseline = {"rate": rate(args.subscribers, baseline_last), "last_s": baseline_last}
    service = {"rate": rate(args.subscribers, last), "first_s": first, "last_s": last, "cores": cores,
               "cpu_us_per_mail": cpu / args.subscribers * 1e6, "rss_idle_mb": memory[0], "rss_peak_mb": memory[1]}
    checks = verdicts(args, addresses, got, baseline_last, service["rate"], baseline["rate"], sent, published)
    print_report(args, baseline, service, checks)
    harness.write_json(args, checks, baseline=baseline, service=service,
                       rows={"mails": len(got), "deliveries_sent": sent, "notifications_published": published})
    return harness.exit_status(checks)


if __name__ == "__main__":
    harness.cli(main)
