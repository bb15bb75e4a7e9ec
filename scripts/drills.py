"""Fault drills: the whole chain under load while the broker, the database or a service fails.

    python -m scripts.drills                       # `make drill`: every scenario, full length, the table
    python -m scripts.drills --short -s pg-restart # one scenario, short (as tests/faults runs it)

Runs on the cluster of scripts/local_cluster.py (three RabbitMQ nodes, a PostgreSQL of its own;
started here unless --use-running-cluster). Per scenario: fresh databases and queues, the four
services as real processes (`python -m shared.runner <service>`) and the SMTP sink, each service
given the list of the three nodes' URIs; a few confirmed mail subscribers, published ideas and an
open voting round; then continuous HTTP load of idea submissions and support votes (about 50
writes/s from several client threads, each write with a client timeout) while the fault happens:

  node-kill        SIGKILL the RabbitMQ node leading the busiest queue; later start it again
  cluster-restart  stop every node, then start them all again
  service-kill     SIGKILL each service in turn in the middle of its work, then start it again
  pg-restart       stop PostgreSQL under load, then start it again
  memory-alarm     a memory alarm on a node (every publisher blocked), then cleared

After the load, once drained, it checks by event id: every write answered 2xx is in its service's
database and its event in reporting's event log exactly once; every event in any outbox is in the
log, and the projections equal the ideas and voting services' own figures; every notification
went out once (the SMTP sink's mails against the delivery log); the vote ledger verifies; no dead
letters; each service's /health/ready went 503 (or down) where the fault touches it and 200 after;
no write got a 500 or hung past the client timeout (a 503 must carry Retry-After). When an event is
missing it says where it is (outbox row sent or not, queues, dead letters).

Figures per scenario: writes offered / accepted / applied / lost / applied twice, seconds until
every service was ready again after the fault ended, and the publish lag after recovery (from the
fault's end until reporting had every event written before it). --write-doc puts the table into
docs/reliability.md. The exit status is 1 when any check failed.
"""
import argparse
import contextlib
import http.client
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import psycopg2
from kombu import Connection

from scripts.local_cluster import VHOST, LocalCluster
from shared import identities, provision
from shared.auth import mint
from shared.config import DEV_JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
SERVICES = ("ideas", "voting", "notifications", "reporting")
EMITTERS = ("ideas", "voting", "notifications")  # reporting emits nothing
CLIENT_TIMEOUT = 5.0
READY_TARGET = 30.0  # seconds from the fault's end
MUNICIPALITY, FIELD = "gera", "energie"
LOCATION = {"lat": 50.8806, "lon": 12.0817}
AUTHORS = [f"drill-author-{n}" for n in range(6)]
MAIL_AUTHORS = AUTHORS[:3]  # these have confirmed mail subscriptions: their receipts go out by mail too
SEED_IDEAS = 12
DELIVERY_IN_MESSAGE_ID = re.compile(r"[.<]([0-9a-f-]{36})@notifications\.smartcity>")
CONFIRM_LINK = re.compile(r"/confirm\?token=([\w-]+)")


@dataclass(frozen=True)
class Timing:
    """How long each stretch of a scenario lasts (seconds)."""

    warmup: float  # load before the fault
    outage: float  # how long the fault lasts
    after: float  # load after the fault ended
    drain_timeout: float  # how long the system may take to have everything in reporting
    idea_rate: float = 20.0  # writes/s, all idea clients together
    vote_rate: float = 30.0


SHORT = Timing(warmup=3, outage=4, after=4, drain_timeout=120)
LONG = Timing(warmup=10, outage=15, after=15, drain_timeout=240)


def progress(message):
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the system under test ---------------------------------------------------------------------------

class System:
    """The four services and the SMTP sink as subprocesses on the cluster, with their environment."""

    def __init__(self, cluster, workdir):
        self.cluster = cluster
        self.workdir = Path(workdir)
        self.maildir = self.workdir / "mail"
        self.processes = {}
        self.logs = {}
        self.sink = None

    def url(self, service):
        return f"http://127.0.0.1:{self.cluster.http_port(service)}"

    def env(self, service):
        """Explicit settings only: nothing SMARTCITY_ of the caller (a test process has its own) leaks in."""
        base = {key: value for key, value in os.environ.items() if not key.startswith("SMARTCITY_")}
        prefix = f"SMARTCITY_{service.upper()}"
        return {
            **base,
            "SMARTCITY_TEST_SLOT": str(self.cluster.slot),
            "SMARTCITY_PG_URL": self.cluster.pg_url,
            "SMARTCITY_AMQP_URI": self.cluster.amqp_uris(),
            f"{prefix}_AMQP_URI": self.cluster.service_amqp_uris(service),
            f"{prefix}_HTTP_ADDRESS": f"127.0.0.1:{self.cluster.http_port(service)}",
            "SMARTCITY_RATE_LIMITS": "off",  # one client address writing 50/s
            "SMARTCITY_LOG_FORMAT": "text",
            "SMARTCITY_RETRY_DELAYS": "0.5,2,5",
            "SMARTCITY_OUTBOX_SWEEP_SECONDS": "1",
            "SMARTCITY_OUTBOX_MIN_AGE_SECONDS": "2",
            "SMARTCITY_PSEUDONYM_KEY": "drill-pseudonym-key",
            "SMARTCITY_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "SMARTCITY_NOTIFICATIONS_SMTP_PORT": str(self.cluster.http_port("smtp")),
            "SMARTCITY_NOTIFICATIONS_DISPATCH_SECONDS": "0.5",
            "SMARTCITY_NOTIFICATIONS_RETRY_BASE_SECONDS": "2",
            "SMARTCITY_NOTIFICATIONS_RETRY_MAX_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
        }

    def start_sink(self):
        self.maildir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "smtp-sink.log", "ab")
        self.sink = subprocess.Popen([sys.executable, "-m", "scripts.smtp_sink", "--port",
                                      str(self.cluster.http_port("smtp")), "--maildir", str(self.maildir)],
                                     cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while not _port_open(self.cluster.http_port("smtp")):
            if self.sink.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.1)

    def start(self, service):
        log_path = self.workdir / f"{service}.log"
        self.logs[service] = log_path
        with open(log_path, "ab") as log:
            self.processes[service] = subprocess.Popen([sys.executable, "-m", "shared.runner", service], cwd=ROOT,
                                                       env=self.env(service), stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, service, timeout=90.0):
        """Seconds until /health/ready answered 200."""
        started = time.monotonic()
        while ready_state(self.url(service)) != "ready":
            process = self.processes[service]
            if process.poll() is not None or time.monotonic() - started > timeout:
                tail = self.logs[service].read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{service} did not become ready (exit code {process.poll()}):\n{tail}")
            time.sleep(0.2)
        return time.monotonic() - started

    def start_all(self):
        for port in [self.cluster.http_port(name) for name in (*SERVICES, "smtp")]:
            if _port_open(port):
                raise RuntimeError(f"127.0.0.1:{port} is in use: a drill of slot {self.cluster.slot} still running?")
        self.start_sink()
        for service in SERVICES:
            self.start(service)
        for service in SERVICES:
            self.wait_ready(service)
        self.wait_consuming()

    def wait_consuming(self, timeout=60.0):
        """Until every event queue of every service has its consumer. /health/ready answers before a service's
        consumers have declared and bound their queues; on a fresh vhost an event published before then is
        unroutable and dropped, which would show as lost although no fault had happened yet."""
        from bench.harness import subscriber_queues

        wanted = {queue.name for service in SERVICES for queue in subscriber_queues(service)}

        def consuming():
            rows = json.loads(self.cluster.nodes[0].ctl("list_queues", "-p", VHOST, "name", "consumers",
                                                         "--formatter", "json") or "[]")
            return wanted <= {row["name"] for row in rows if row.get("consumers")}

        wait_until(consuming, timeout, "every service's event queues to have their consumers", interval=0.5)

    def kill(self, service):
        process = self.processes[service]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self):
        """SIGTERM to everything started, SIGKILL to what is still there after 8 s."""
        running = [p for p in [*self.processes.values(), self.sink] if p is not None and p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 8
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _port_open(port):
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ready_state(url, timeout=3.0):
    """"ready" (200), "not_ready" (503), "down" (no answer) or "status <n>"."""
    host, port = url.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/health/ready")
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return "down"
    finally:
        conn.close()
    return {200: "ready", 503: "not_ready"}.get(status, f"status {status}")


# --- state: fresh per scenario ------------------------------------------------------------------------

def database_url(cluster, service):
    """The admin's view of a service's database on the drill's PostgreSQL."""
    return f"{cluster.pg_url}/smartcity_{service}"


def query(cluster, service, sql, params=()):
    with contextlib.closing(psycopg2.connect(database_url(cluster, service), connect_timeout=5)) as conn:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


def reset(cluster):
    """Empty databases (made again by shared.provision, migrated by each service as it starts) and empty queues
    on the drill vhost, so nothing of an earlier scenario counts in this one."""
    cluster.reset_databases()
    for service in SERVICES:
        runtime, migration = identities.database_urls(cluster.pg_url, f"smartcity_{service}")
        provision.database(cluster.pg_url, runtime, migration)
    listing = cluster.nodes[0].ctl("list_queues", "-p", VHOST, "name", "messages", "--formatter", "json")
    names = [row["name"] for row in json.loads(listing or "[]") if row.get("messages")]
    if names:
        with Connection(cluster.amqp_uris(), connect_timeout=5) as conn:
            channel = conn.channel()
            for name in names:
                channel.queue_purge(name)
            channel.close()


# --- HTTP --------------------------------------------------------------------------------------------

def token(subject, role="citizen"):
    return mint(DEV_JWT_SECRET, subject, [role], ttl_seconds=4 * 3600)


def call(url, method, path, body=None, subject=None, role="citizen", timeout=CLIENT_TIMEOUT):
    """(status, parsed body or text, headers) of one request on a connection of its own."""
    host, port = url.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if subject:
        headers["Authorization"] = f"Bearer {token(subject, role)}"
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return response.status, parsed, dict(response.getheaders())
    finally:
        conn.close()


def expect(answer, *statuses):
    status, body, _ = answer
    if status not in statuses:
        raise RuntimeError(f"expected {statuses}, got {status}: {body}")
    return body


def wait_until(condition, timeout, message, interval=0.2):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)


def mails(maildir):
    """Every mail in the sink: [(delivery id from its Message-ID, To, message)]."""
    found = []
    for path in sorted(Path(maildir).glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        match = DELIVERY_IN_MESSAGE_ID.search(str(message["Message-ID"] or ""))
        found.append((match.group(1) if match else None, str(message["To"] or ""), message))
    return found


def seed(system):
    """Mail subscribers (confirmed through the link in their mail), published ideas voting knows, a round.
    Returns the ids of the ideas the votes go to."""
    notifications, ideas, voting = (system.url(name) for name in ("notifications", "ideas", "voting"))
    for author in MAIL_AUTHORS:
        email = f"{author}@example.org"
        expect(call(notifications, "POST", "/api/v1/subscribers", {
            "email": email, "language": "de", "digest": "immediate",
            "subscriptions": [{"kind": "field", "municipality": MUNICIPALITY, "field_of_action": FIELD}]},
            subject=author), 202)
        wait_until(lambda: any(to == email for _, to, _ in mails(system.maildir)), 30,
                   f"the confirmation mail to {email}")
        [message] = [m for _, to, m in mails(system.maildir) if to == email]
        confirm = CONFIRM_LINK.search(message.get_body(("plain",)).get_content()).group(1)
        expect(call(notifications, "POST", f"/api/v1/subscribers/confirm?token={confirm}"), 200)
    idea_ids = []
    for n in range(SEED_IDEAS):
        author = AUTHORS[n % len(AUTHORS)]
        idea = expect(call(ideas, "POST", "/api/v1/ideas", idea_body(f"Vorschlag {n}"), subject=author), 201)
        expect(call(ideas, "POST", f"/api/v1/ideas/{idea['id']}/moderation", {"decision": "publish"},
                    subject="drill-moderator", role="moderator"), 200)
        idea_ids.append(idea["id"])
    wait_until(lambda: all(call(voting, "GET", f"/api/v1/ideas/{i}")[0] == 200 for i in idea_ids), 60,
               "the voting service to know the published ideas")
    now = datetime.now(timezone.utc)
    expect(call(voting, "POST", "/api/v1/rounds", {
        "municipality": MUNICIPALITY, "title": "Drill-Runde", "budget": 100,
        "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat()},
        subject="drill-staff", role="staff"), 201)
    return idea_ids


def idea_body(title):
    return {"municipality": MUNICIPALITY, "field_of_action": FIELD, "channel": "form", "title": title,
            "description": "Ein Vorschlag aus der Ausfallübung: bitte nicht beachten.", "location": LOCATION}


# --- load -------------------------------------------------------------------------------------------

@dataclass
class Write:
    kind: str  # "idea" or "vote"
    key: str  # idea: its title (unique); vote: "<idea id> <voter>"
    began: float  # time.time()
    ended: float = 0.0
    status: int = 0  # 0: no HTTP answer
    error: str = ""  # the exception when there was no answer
    retry_after: bool = False
    idea_id: str = ""  # from a 201


class Load:
    """Idea submissions and votes over HTTP from several threads at a fixed total rate, until stopped."""

    def __init__(self, system, idea_ids, timing, run_id, idea_clients=2, vote_clients=3):
        self.system, self.idea_ids, self.run_id = system, idea_ids, run_id
        self.writes = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.votes = itertools.count()
        self.ideas = itertools.count()
        self.threads = (
            [threading.Thread(target=self._client, args=("idea", timing.idea_rate / idea_clients), daemon=True)
             for _ in range(idea_clients)]
            + [threading.Thread(target=self._client, args=("vote", timing.vote_rate / vote_clients), daemon=True)
               for _ in range(vote_clients)])

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(CLIENT_TIMEOUT + 5)

    def _next(self, kind):
        if kind == "idea":
            n = next(self.ideas)
            title = f"Drill {self.run_id} Idee {n}"
            return Write("idea", title, time.time()), ideas_request(title, AUTHORS[n % len(AUTHORS)])
        # Vote k: voter k // ideas on idea k % ideas; consecutive votes fall on different ideas, no pair twice.
        k = next(self.votes)
        voter, idea = f"drill-{self.run_id}-voter-{k // len(self.idea_ids)}", self.idea_ids[k % len(self.idea_ids)]
        return Write("vote", f"{idea} {voter}", time.time()), ("POST", f"/api/v1/ideas/{idea}/votes", None, voter)

    def _client(self, kind, rate):
        service = "ideas" if kind == "idea" else "voting"
        port = self.system.cluster.http_port(service)
        conn = None
        interval, next_at = 1.0 / rate, time.monotonic()
        while not self.stopping.is_set():
            next_at += interval
            write, (method, path, body, subject) = self._next(kind)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
                conn.request(method, path, body=json.dumps(body) if body is not None else None,
                             headers={"Content-Type": "application/json", "Authorization": f"Bearer {token(subject)}"})
                response = conn.getresponse()
                text = response.read()
                write.status = response.status
                write.retry_after = response.getheader("Retry-After") is not None
                if response.status == 201 and kind == "idea":
                    write.idea_id = json.loads(text)["id"]
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as exc:  # no answer: timeout, refused, reset
                write.error = type(exc).__name__
                if conn is not None:
                    conn.close()
                conn = None
            write.ended = time.time()
            with self.lock:
                self.writes.append(write)
            self.stopping.wait(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at, time.monotonic() - 1.0)  # after an outage: no burst to catch up
        if conn is not None:
            conn.close()


def ideas_request(title, author):
    return "POST", "/api/v1/ideas", idea_body(title), author


# --- watching ---------------------------------------------------------------------------------------

class ReadinessMonitor:
    """Polls every service's /health/ready; keeps (time, state) per service."""

    def __init__(self, system, interval=0.5):
        self.system, self.interval = system, interval
        self.samples = {service: [] for service in SERVICES}
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._watch, args=(service,), daemon=True) for service in SERVICES]

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(10)

    def _watch(self, service):
        url = self.system.url(service)
        while not self.stopping.is_set():
            self.samples[service].append((time.time(), ready_state(url, timeout=2.0)))
            self.stopping.wait(self.interval)

    def not_ready_between(self, service, start, end):
        return any(state != "ready" for at, state in self.samples[service] if start <= at <= end)

    def ready_again(self, service, since):
        """Seconds from `since` until the service answered ready and stayed so to the end; None: never."""
        last_bad = max((at for at, state in self.samples[service] if state != "ready" and at >= since), default=None)
        after = [at for at, state in self.samples[service] if state == "ready" and at >= (last_bad or since)]
        if not after:
            return None
        return max(0.0, after[0] - since) if last_bad is not None else 0.0


def outbox_ids(cluster, created_before=None):
    """{event id: (service, sent?)} of every emitter's outbox (optionally only rows created before a time)."""
    found = {}
    for service in EMITTERS:
        sql = "SELECT id::text, sent_at IS NOT NULL FROM outbox"
        params = ()
        if created_before is not None:
            sql += " WHERE created_at <= %s"
            params = (datetime.fromtimestamp(created_before, timezone.utc),)
        for event_id, sent in query(cluster, service, sql, params):
            found[event_id] = (service, sent)
    return found


def logged_ids(cluster, ids=None):
    if ids is None:
        return {row[0] for row in query(cluster, "reporting", "SELECT event_id FROM event_log")}
    return {row[0] for row in query(cluster, "reporting", "SELECT event_id FROM event_log WHERE event_id = ANY(%s)",
                                    (list(ids),))}


class LagProbe:
    """From the fault's end: how long until reporting's log holds every event written before it."""

    def __init__(self, cluster, fault_end, deadline):
        self.cluster, self.fault_end, self.deadline = cluster, fault_end, deadline
        self.seconds = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        wanted = None
        while time.time() < self.deadline:
            try:
                if wanted is None:
                    time.sleep(max(0.0, self.fault_end + 1.0 - time.time()))  # rows then being committed
                    wanted = set(outbox_ids(self.cluster, self.fault_end))
                if not wanted - logged_ids(self.cluster, wanted):
                    self.seconds = max(0.0, time.time() - self.fault_end)
                    return
            except psycopg2.Error:
                pass  # PostgreSQL still coming back
            time.sleep(0.25)

    def join(self, timeout):
        self.thread.join(timeout)
        return self.seconds


# --- scenarios -------------------------------------------------------------------------------------

@dataclass
class Fault:
    """What a scenario did: when its fault began and ended, which services it touches, what it expects."""

    started: float = 0.0
    ended: float = 0.0
    touches: tuple = ()  # services whose readiness must go 503 (or down) during the fault
    down: dict = field(default_factory=dict)  # service -> (start, end) it was killed (connection errors allowed)
    notes: list = field(default_factory=list)
    restore_seconds: float = 0.0  # from ending the fault until the infrastructure was back
    events: list = field(default_factory=list)  # (service, ready-again seconds) of a scenario with several faults
    restore: object = None  # what brings the infrastructure back once the system drained without it, if not done


def busiest_queue_leader(cluster):
    """(queue, node) of the busiest queue: most messages, reporting's (it gets every event) on a tie. A quorum
    queue's node is its leader; a classic queue's, the node it lives on (rabbitmqctl list_queues --local)."""
    rows = []
    for node in cluster.nodes:
        if node.pid() is None:
            continue
        for row in json.loads(node.ctl("list_queues", "--local", "-p", VHOST, "name", "type", "leader", "messages",
                                       "--formatter", "json") or "[]"):
            rows.append((row.get("messages") or 0, _carries_every_event(row["name"]), row["name"],
                         row.get("leader") or node.name))
    if not rows:
        raise RuntimeError("no queues on the drill vhost")
    _, _, queue, leader = max(rows)
    return queue, leader


def _carries_every_event(queue):
    return queue.startswith("evt-all--reporting") and "retry" not in queue


def node_kill(cluster, system, timing, fault):
    """The two other nodes carry on at once (quorum queues elect new leaders): the fault "ends" as it begins,
    and the system must drain with the node still down. Only then is it started again and rejoins."""
    queue, leader = busiest_queue_leader(cluster)
    node = next(n for n in cluster.nodes if n.name == leader)
    fault.notes.append(f"killed {node.name}, leader of {queue}; started again after the drain")
    fault.started = fault.ended = time.time()
    node.kill()

    def restore():
        began = time.time()
        node.start()
        node.wait_running()
        cluster.wait_cluster()
        fault.restore_seconds = time.time() - began

    fault.restore = restore


def cluster_restart(cluster, system, timing, fault):
    fault.touches = SERVICES
    fault.started = time.time()
    cluster.stop_all_nodes()
    time.sleep(timing.outage)
    fault.ended = time.time()
    cluster.start_nodes()
    cluster.wait_cluster()
    fault.restore_seconds = time.time() - fault.ended


def service_kill(cluster, system, timing, fault):
    """Each service in turn: SIGKILL under load (in the middle of whatever batch it has), started again at once
    (as a supervisor would), the next one once it is ready."""
    fault.started = time.time()
    for service in SERVICES:
        began = time.time()
        system.kill(service)
        system.start(service)
        seconds = system.wait_ready(service)
        fault.down[service] = (began, time.time())  # down until ready again: refused connections are the outage
        fault.events.append((service, seconds))
        fault.notes.append(f"{service} killed, ready {seconds:.1f} s after its restart")
    fault.ended = time.time()
    fault.touches = SERVICES  # each was down while killed


def pg_restart(cluster, system, timing, fault):
    fault.touches = SERVICES
    fault.started = time.time()
    cluster.pg_stop()
    time.sleep(timing.outage)
    fault.ended = time.time()
    cluster.pg_start()
    fault.restore_seconds = time.time() - fault.ended


def memory_alarm(cluster, system, timing, fault):
    node = cluster.nodes[0]
    fault.started = time.time()
    cluster.set_memory_alarm(node)
    try:
        time.sleep(timing.outage)
    finally:
        fault.ended = time.time()
        cluster.clear_memory_alarm()
    fault.notes.append(f"memory alarm on {node.name} for {timing.outage:g} s")


SCENARIOS = {
    "node-kill": node_kill,
    "cluster-restart": cluster_restart,
    "service-kill": service_kill,
    "pg-restart": pg_restart,
    "memory-alarm": memory_alarm,
}


# --- checking --------------------------------------------------------------------------------------

def drained(cluster, system):
    """Everything has arrived: all outboxes sent, reporting's log holds every event, no mail pending and every
    sent mail in the sink. (reason it is not, or None)"""
    try:
        ids = outbox_ids(cluster)
        unsent = [i for i, (_, sent) in ids.items() if not sent]
        if unsent:
            return f"{len(unsent)} outbox rows unsent"
        missing = set(ids) - logged_ids(cluster)
        if missing:
            return f"{len(missing)} events not in reporting's log"
        [(pending, sent)] = query(cluster, "notifications",
                                  "SELECT count(*) FILTER (WHERE status = 'pending'),"
                                  " count(*) FILTER (WHERE status = 'sent') FROM deliveries WHERE channel = 'email'")
        if pending:
            return f"{pending} mails pending"
        in_sink = {delivery for delivery, _, _ in mails(system.maildir)}
        if len(in_sink) < sent:
            return f"{sent - len(in_sink)} sent mails not in the sink"
    except psycopg2.Error as exc:
        return f"database: {exc}".strip()
    return None


def where_is(cluster, event_id, ids):
    """Where a missing event is: its outbox row, the queues, the dead letters."""
    service, sent = ids[event_id]
    [(event_type, created, sent_at)] = query(cluster, service, "SELECT routing_key, created_at, sent_at FROM outbox"
                                             " WHERE id = %s", (event_id,))
    inbox = query(cluster, "reporting", "SELECT consumer FROM inbox WHERE event_id = %s", (event_id,))
    return (f"{event_id} {event_type} from {service}: created {created:%H:%M:%S.%f}, "
            f"{'sent ' + format(sent_at, '%H:%M:%S.%f') if sent_at else 'NOT sent'}; reporting inbox {inbox or 'no'}")


def queue_depths(cluster):
    for node in cluster.nodes:
        if node.pid() is not None:
            rows = json.loads(node.ctl("list_queues", "-p", VHOST, "name", "messages", "--formatter", "json",
                                       check=False) or "[]")
            return {row["name"]: row["messages"] for row in rows if row.get("messages")}
    return {}


def dead_letters(cluster):
    """{service: [event ids parked]} (each service's dead-letter queue, read as the service)."""
    from shared import dead_letters as parked

    found = {}
    for service in SERVICES:
        uri = cluster.amqp_uri(1, service, identities.local_password(service))
        found[service] = [p.message_id for p in parked.list_parked(uri, service)]
    return found


def verify_ledger(cluster):
    from services.voting import use_cases
    from services.voting.repository import VotingRepository
    from shared.db import Pool, SqlUnitOfWork

    pool = Pool(database_url(cluster, "voting"), 1)
    try:
        return use_cases.verify_ledger(SqlUnitOfWork("voting", pool, VotingRepository))
    finally:
        pool.close()


def evaluate(cluster, system, load, fault, monitor, lag, drain_seconds, drain_problem, scenario):
    """(figures, [(label, passed, detail)]) of a drained scenario."""
    writes = load.writes
    checks = []

    # The answers: 2xx, or 503 with Retry-After; a killed service's own connection errors are its outage.
    def excused(write):
        service = "ideas" if write.kind == "idea" else "voting"
        window = fault.down.get(service)
        return window is not None and write.error and window[0] - CLIENT_TIMEOUT <= write.began <= window[1] + 1
    accepted = [w for w in writes if 200 <= w.status < 300]
    refused = [w for w in writes if w.status == 503 and w.retry_after]
    failed = [w for w in writes if w not in accepted and w not in refused and not excused(w)]
    kinds = Counter(w.error or f"HTTP {w.status}" + ("" if w.retry_after or w.status != 503 else " without Retry-After")
                    for w in failed)
    checks.append(("no 500, no timeout, 503 only with Retry-After", not failed,
                   f"{len(failed)} failed {dict(kinds) or ''}".strip()))

    # Applied: the writes in the services' own databases, by their unique keys.
    titles = Counter(row[0] for row in query(cluster, "ideas", "SELECT title FROM ideas WHERE title LIKE %s",
                                             (f"Drill {load.run_id} %",)))
    votes = {f"{idea} {voter}" for idea, voter in query(
        cluster, "voting", "SELECT idea_id::text, voter FROM votes WHERE voter LIKE %s", (f"drill-{load.run_id}-%",))}
    applied_keys = set(titles) | votes
    accepted_missing = [w.key for w in accepted if w.key not in applied_keys]
    applied_twice = sum(n - 1 for n in titles.values() if n > 1)

    # Events by id: every outbox row of every emitter is in reporting's log, nothing else is.
    ids = outbox_ids(cluster)
    logged = logged_ids(cluster)
    missing_events = sorted(set(ids) - logged)
    unknown_events = sorted(logged - set(ids))
    for event_id in missing_events[:20]:
        progress("missing in reporting: " + where_is(cluster, event_id, ids))
    if missing_events:
        progress(f"queues with messages: {queue_depths(cluster)}")
    checks.append(("every event of every outbox in reporting's log", not missing_events,
                   f"{len(ids)} events, {len(missing_events)} missing"))
    checks.append(("no event in the log that no outbox has", not unknown_events, f"{len(unknown_events)} unknown"))

    # Accepted writes: in the database, and their events in the log.
    submitted = {row[0]: row[1] for row in query(
        cluster, "ideas", "SELECT (body::jsonb)->>'subject', id::text FROM outbox WHERE routing_key = 'IdeaSubmitted'")}
    accepted_ideas_unlogged = [w.key for w in accepted if w.kind == "idea"
                               and submitted.get(w.idea_id) not in logged]
    lost = len(accepted_missing) + len(accepted_ideas_unlogged) + len(missing_events)
    checks.append(("every accepted write applied", not accepted_missing,
                   f"{len(accepted)} accepted, {len(accepted_missing)} not in the database"))

    # Projections against the services' own figures.
    ideas_by_status = dict(query(cluster, "ideas", "SELECT status, count(*) FROM ideas GROUP BY status"))
    reported_by_status = dict(query(cluster, "reporting", "SELECT status, count(*) FROM ideas GROUP BY status"))
    idea_ids = {r[0] for r in query(cluster, "ideas", "SELECT id::text FROM ideas")}
    reported_ids = {r[0] for r in query(cluster, "reporting", "SELECT idea_id::text FROM ideas")}
    checks.append(("reporting's ideas == the ideas service's (ids, by status)",
                   ideas_by_status == reported_by_status and idea_ids == reported_ids,
                   f"{ideas_by_status} vs {reported_by_status}; ids missing {len(idea_ids - reported_ids)},"
                   f" extra {len(reported_ids - idea_ids)}"))
    totals = dict(query(cluster, "voting", "SELECT id::text, total FROM ideas WHERE total > 0"))
    reported_totals = dict(query(cluster, "reporting", "SELECT idea_id::text, sum(total)::int FROM votes GROUP BY 1"))
    vote_rows = dict(query(cluster, "voting", "SELECT idea_id::text, count(*) FROM votes GROUP BY 1"))
    vote_events = dict(query(cluster, "reporting",
                             "SELECT subject, count(*) FROM event_log WHERE event_type = 'VoteCast' GROUP BY 1"))
    surplus = sum(max(0, vote_events.get(i, 0) - n) for i, n in vote_rows.items())
    checks.append(("reporting's votes == the voting service's (totals, VoteCast per idea)",
                   totals == reported_totals and vote_rows == vote_events,
                   f"{sum(totals.values())} vs {sum(reported_totals.values())} support,"
                   f" {sum(vote_rows.values())} votes vs {sum(vote_events.values())} VoteCast"))
    [(log_rows,)] = query(cluster, "reporting", "SELECT count(*) FROM event_log")
    [(counted,)] = query(cluster, "reporting", "SELECT coalesce(sum(events), 0)::int FROM event_counts")
    checks.append(("every logged event counted once", counted == log_rows, f"{counted} counted, {log_rows} logged"))
    applied_twice += surplus + max(0, counted - log_rows)

    # Notifications: a receipt per submission (feed, and mail for subscribed authors), each mail once.
    receipts = {row[0] for row in query(cluster, "notifications", "SELECT trigger_event_id FROM feed_items")}
    submissions = {event_id for event_id, (service, _) in ids.items() if service == "ideas"} & {
        r[0] for r in query(cluster, "ideas", "SELECT id::text FROM outbox WHERE routing_key = 'IdeaSubmitted'")}
    no_receipt = submissions - receipts
    sent = {r[0] for r in query(cluster, "notifications",
                                "SELECT id::text FROM deliveries WHERE channel = 'email' AND status = 'sent'")}
    undelivered = query(cluster, "notifications",
                        "SELECT count(*) FROM deliveries WHERE channel = 'email' AND status <> 'sent'")[0][0]
    in_sink = Counter(delivery for delivery, _, _ in mails(system.maildir))
    resent = sum(n - 1 for n in in_sink.values() if n > 1)
    checks.append(("a notification for every submission", not no_receipt,
                   f"{len(submissions)} submissions, {len(no_receipt)} without a feed entry"))
    # At the SMTP edge "once" is once per Message-ID: a mail the server accepted just before a crash (or a
    # database outage) kept its batch from being recorded is sent again, with the same Message-ID.
    checks.append(("every mail delivered, once per Message-ID (sink == delivery log)",
                   set(in_sink) == sent and not undelivered,
                   f"{len(sent)} sent, {len(set(in_sink))} Message-IDs in the sink ({resent} resent),"
                   f" {len(set(in_sink) - sent)} unknown, {undelivered} not sent"))

    problems = verify_ledger(cluster)[1]
    checks.append(("the vote ledger verifies", not problems, f"{len(problems)} problems {problems[:3]}"))
    parked = dead_letters(cluster)
    checks.append(("no dead letters", not any(parked.values()),
                   ", ".join(f"{s}: {len(p)}" for s, p in parked.items() if p) or "none"))

    # Readiness: 503 (or down) during the fault where it touches a service, ready again within the target.
    silent = [s for s in fault.touches if not monitor.not_ready_between(s, fault.started - 0.5, fault.ended + 5)]
    checks.append(("/health/ready not ready during the fault where it touches the service", not silent,
                   f"touches {', '.join(fault.touches) or 'none'}; stayed ready: {', '.join(silent) or 'none'}"))
    if fault.events:
        ready = max(seconds for _, seconds in fault.events)
    else:
        again = [monitor.ready_again(s, fault.ended) for s in SERVICES]
        ready = None if None in again else max(again)
    checks.append((f"every service ready within {READY_TARGET:.0f} s of the fault's end",
                   ready is not None and ready <= READY_TARGET, "never" if ready is None else f"{ready:.1f} s"))
    checks.append(("drained (reporting has everything)", drain_problem is None,
                   drain_problem or f"{drain_seconds:.1f} s after the load stopped"))
    checks.append(("0 lost, 0 applied twice", lost == 0 and applied_twice == 0, f"{lost} lost, {applied_twice} twice"))

    figures = {
        "scenario": scenario, "offered": len(writes), "accepted": len(accepted), "refused_503": len(refused),
        "failed": len(failed), "applied": len(applied_keys), "lost": lost, "applied_twice": applied_twice,
        "ready_seconds": ready, "restore_seconds": fault.restore_seconds, "publish_lag_seconds": lag,
        "drain_seconds": drain_seconds, "events": len(ids), "mails": len(sent), "mails_resent": resent,
        "notes": fault.notes,
        "fault_seconds": fault.ended - fault.started,
    }
    return figures, checks


# --- running ---------------------------------------------------------------------------------------

def wait_drained(cluster, system, timeout):
    """None once drained, else why not after `timeout` seconds."""
    deadline = time.time() + timeout
    problem = drained(cluster, system)
    while problem is not None and time.time() < deadline:
        time.sleep(0.5)
        problem = drained(cluster, system)
    return problem


def run_scenario(cluster, name, timing, workdir):
    """One scenario from a fresh start to its checks: (figures, checks)."""
    workdir = Path(workdir) / name
    if workdir.exists():
        import shutil

        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    progress(f"{name}: resetting the drill's databases and queues")
    cluster.ensure_healthy()
    reset(cluster)
    system = System(cluster, workdir)
    monitor = load = None
    try:
        progress(f"{name}: starting the services (logs in {workdir})")
        system.start_all()
        idea_ids = seed(system)
        load = Load(system, idea_ids, timing, run_id=uuid.uuid4().hex[:8])
        monitor = ReadinessMonitor(system)
        monitor.start()
        load.start()
        time.sleep(timing.warmup)
        progress(f"{name}: the fault")
        fault = Fault()
        SCENARIOS[name](cluster, system, timing, fault)
        lag_probe = LagProbe(cluster, fault.ended, time.time() + timing.drain_timeout + timing.after)
        time.sleep(timing.after)
        load.stop()
        stopped = time.time()
        progress(f"{name}: load stopped ({len(load.writes)} writes); waiting until drained")
        problem = wait_drained(cluster, system, timing.drain_timeout)
        drain_seconds = time.time() - stopped
        if fault.restore is not None:
            progress(f"{name}: drained ({problem or 'complete'}); bringing the infrastructure back")
            fault.restore()
            before = problem
            problem = wait_drained(cluster, system, timing.drain_timeout) or (before and f"before that: {before}")
        time.sleep(1.0)  # anything still arriving would show as applied twice
        monitor.stop()
        lag = lag_probe.join(5)
        return evaluate(cluster, system, load, fault, monitor, lag, drain_seconds, problem, name)
    finally:
        if load is not None:
            load.stop()
        if monitor is not None:
            monitor.stop()
        system.stop_all()


def table(results):
    head = ("scenario", "offered", "accepted", "503", "failed", "applied", "lost", "twice", "ready s", "lag s",
            "mails resent", "checks")
    rows = [head]
    for figures, checks in results:
        rows.append((figures["scenario"], figures["offered"], figures["accepted"], figures["refused_503"],
                     figures["failed"], figures["applied"], figures["lost"], figures["applied_twice"],
                     _seconds(figures["ready_seconds"]), _seconds(figures["publish_lag_seconds"]),
                     figures["mails_resent"], "pass" if all(ok for _, ok, _ in checks) else "FAIL"))
    return rows


def _seconds(value):
    return "—" if value is None else f"{value:.1f}"


def print_results(results):
    for figures, checks in results:
        print(f"\n{figures['scenario']}: {'; '.join(figures['notes'])}")
        for label, passed, detail in checks:
            print(f"  {'PASS' if passed else 'FAIL'}  {label:70} {detail}")
    rows = table(results)
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        print("  ".join(str(cell).rjust(width) if i else str(cell).ljust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))))


def write_doc(results, command):
    """The table into docs/reliability.md, between its drill-table markers."""
    rows = table(results)
    lines = ["| " + " | ".join(str(cell) for cell in rows[0]) + " |",
             "|" + "|".join("---" for _ in rows[0]) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows[1:]]
    stamp = (f"Measured {datetime.now(timezone.utc):%Y-%m-%d} with `{command}` on a 2-core machine shared with"
             " other jobs.")
    block = "<!-- drill-table -->\n" + stamp + "\n\n" + "\n".join(lines) + "\n<!-- /drill-table -->"
    text = DOC.read_text()
    text = re.sub(r"<!-- drill-table -->.*?<!-- /drill-table -->", lambda _: block, text, flags=re.S)
    DOC.write_text(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-s", "--scenario", action="append", choices=list(SCENARIOS),
                        help="a scenario to run (repeatable; default: all)")
    parser.add_argument("--short", action="store_true", help="short stretches (tests/faults)")
    parser.add_argument("--use-running-cluster", action="store_true",
                        help="the slot's cluster is up already (scripts.local_cluster up); leave it running")
    parser.add_argument("--json", type=Path, help="write the figures and checks here")
    parser.add_argument("--write-doc", action="store_true", help="put the table into docs/reliability.md")
    args = parser.parse_args(argv)
    timing = SHORT if args.short else LONG
    cluster = LocalCluster()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally-blocks run: services and cluster stop
    results = []
    try:
        if not args.use_running_cluster:
            progress(f"starting the cluster of slot {cluster.slot}")
            cluster.up()
        workdir = ROOT / "var" / f"drills-{cluster.slot}"  # the services' logs and mails: kept after the cluster
        for name in args.scenario or list(SCENARIOS):
            results.append(run_scenario(cluster, name, timing, workdir))
    finally:
        if not args.use_running_cluster:
            cluster.down()
    print_results(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([{"figures": figures, "checks": [
            {"check": label, "pass": passed, "detail": detail} for label, passed, detail in checks]}
            for figures, checks in results], indent=2, default=str) + "\n")
    if args.write_doc:
        write_doc(results, "make drill")
    return 0 if all(ok for _, checks in results for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
