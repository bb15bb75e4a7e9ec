"""`make run`: every service with demo data, until Ctrl-C.

Creates the broker users and database roles (shared.provision), applies migrations as each
database's owner, starts each service as its own process under its own identities (as in
production), waits until each is ready, loads the demo data once, prints URLs and a development
token per role. Then it supervises them: a service that exits (a crash, SIGKILL) is started again
after 1 s, the pause doubling up to 30 s while it keeps crashing; Ctrl-C or SIGTERM stops them all.
"""
import importlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from scripts import smtp_sink
from shared import config, identities, provision, registry
from shared.auth import ROLES, mint
from shared.amqp import Publisher
from shared.db import Pool
from shared.events import CATALOGUE, service_of
from shared.migrate import migrate
from shared.outbox import replay

ROOT = Path(__file__).resolve().parent.parent
SERVICES = list(registry.services())
# The notifications service's default SMTP server: a sink whose mails a person can read.
MAILDIR, SMTP_PORT, MAIL_PAGE_PORT = ROOT / "var" / "mail", 1025, 8025
EMITTERS = {service_of(event_type) for event_type in CATALOGUE}
# The outside subscriber of the README's example (docs/examples/subscribe.py): a read-only user.
EXAMPLE_SUBSCRIBER = "city-portal"


class Supervisor:
    """Child processes kept running: one that exits is started again, after a pause that doubles (from
    `first_delay` up to `max_delay`) while it keeps exiting within `stable_after` seconds of its start."""

    def __init__(self, commands, *, env=None, cwd=None, say=print, first_delay=1.0, max_delay=30.0,
                 stable_after=30.0, clock=time.monotonic):
        self.commands = dict(commands)  # {name: argv}
        self.env, self.cwd, self.say, self.clock = env, cwd, say, clock
        self.first_delay, self.max_delay, self.stable_after = first_delay, max_delay, stable_after
        self.processes, self.restarts = {}, {}
        self._started_at, self._delay, self._restart_at = {}, {}, {}
        self.stopping = False

    def start_all(self):
        for name in self.commands:
            self._start(name)
        return self.processes

    def _start(self, name):
        self.processes[name] = subprocess.Popen(self.commands[name], env=self.env, cwd=self.cwd)
        self._started_at[name] = self.clock()

    def check(self):
        """One round: note who exited (and when it comes back), start again whoever is due."""
        now = self.clock()
        for name, process in list(self.processes.items()):
            if self.stopping:
                return
            if name in self._restart_at:
                if now >= self._restart_at[name]:
                    del self._restart_at[name]
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self._start(name)
                continue
            code = process.poll()
            if code is None:
                continue
            crashed_soon = now - self._started_at[name] < self.stable_after and name in self._delay
            delay = min(self._delay[name] * 2, self.max_delay) if crashed_soon else self.first_delay
            self._delay[name] = delay
            self._restart_at[name] = now + delay
            self.say(f"{name} exited with {code}; restarting in {delay:g} s")

    def stop_all(self, timeout=10.0):
        """SIGTERM every process, wait up to `timeout` s for each, SIGKILL whoever is still there."""
        self.stopping = True
        self._restart_at.clear()
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def url_of(service):
    host, port = config.load(service).http_address.rsplit(":", 1)
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"


def request(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{method} {url} -> {exc.code}: {exc.read().decode(errors='replace')}") from None


def wait_ready(service, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{service} exited with code {process.returncode}; see its log above")
        try:
            request("GET", url_of(service) + "/health/ready")
            return
        except (urllib.error.URLError, ConnectionError, OSError, RuntimeError):
            time.sleep(0.3)
    raise SystemExit(f"{service} was not ready within {seconds}s")


def replay_history(settings, joined):
    """Bring newly added services up to date: the others publish their past events again."""
    for name in SERVICES:
        if name in joined:
            continue
        pool, publisher = Pool(settings[name].database_url, 1), Publisher(settings[name].amqp_uri)
        try:
            print(f"{', '.join(joined)} joined: {name} published {replay(pool, publisher)} past event(s) again")
        finally:
            publisher.close()
            pool.close()


def load_demo(secret, tokens):
    """Each service's demo module (if its ServiceSpec names one), in SERVICES order, loads its data once
    through the APIs."""
    def api(service, method, path, body=None, role=None, subject=None):
        token = mint(secret, subject, [role]) if subject else tokens.get(role)
        return request(method, url_of(service) + path, body, token)

    for name, spec in registry.services().items():
        if not spec.demo:
            continue
        demo = importlib.import_module(spec.demo)
        if demo.already_loaded(api):
            print(f"demo data ({name}): already loaded")
        else:
            print(f"demo data ({name}): {demo.load(api)}")


def main():
    settings = {name: config.load(name) for name in SERVICES}
    amqp_uri = config.env("AMQP_URI", config.DEFAULT_AMQP_URI)
    provision.broker(amqp_uri, [EXAMPLE_SUBSCRIBER])
    for name in SERVICES:
        provision.service_database(name, settings[name])
    # A service whose database is new missed the events published before it existed.
    joined = [name for name in SERVICES if "0001" in " ".join(migrate(
        name, settings[name].migration_database_url, identities.user_of(settings[name].database_url)))]
    env = dict(os.environ)  # logs: JSON lines (SMARTCITY_LOG_FORMAT=text for plain ones)
    supervisor = Supervisor({name: [sys.executable, "-m", "shared.runner", name] for name in SERVICES},
                            env=env, cwd=ROOT, say=lambda line: print(line, flush=True))
    processes = supervisor.start_all()
    sink = smtp_sink.start(MAILDIR, SMTP_PORT, MAIL_PAGE_PORT)

    def shutdown():
        supervisor.stop_all()
        if sink.poll() is None:
            sink.send_signal(signal.SIGTERM)
            try:
                sink.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sink.kill()
        print("\nall services stopped")

    def stop(*_):
        shutdown()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for name, process in processes.items():
            wait_ready(name, process)
        secret = settings[SERVICES[0]].jwt_secret
        tokens = {role: mint(secret, f"demo-{role}", [role], ttl_seconds=24 * 3600) for role in ROLES}
        if joined and len(joined) < len(SERVICES):
            replay_history(settings, joined)
        load_demo(secret, tokens)
    except BaseException:
        shutdown()  # and let the error show
        raise

    print("\nSmartCity is running. Ctrl-C stops it.\n")
    for name in SERVICES:
        base = url_of(name)
        print(f"  {name:<14} {base}/openapi.json   {base}/metrics   {base}/health/ready")
        for path, what in registry.spec(name).start_paths:
            print(f"  {'':<14} {base}{path}   ({what})")
    print(f"  mail sink      http://127.0.0.1:{MAIL_PAGE_PORT}/   (SMTP 127.0.0.1:{SMTP_PORT}; files in {MAILDIR})")
    subscriber, broker = identities.subscriber_user(EXAMPLE_SUBSCRIBER), urlsplit(identities.nodes(amqp_uri)[0])
    print(f"\n  RabbitMQ       {broker.hostname}:{broker.port or 5672} vhost {provision.vhost_of(amqp_uri)}"
          "  exchanges: " + ", ".join(f"{name}.events" for name in SERVICES if name in EMITTERS))
    print(f"                 every service as its own user; for the README's subscriber example: user"
          f" {subscriber}, password {identities.local_password(subscriber)}")
    print("\nDevelopment tokens (valid 24 hours; `smartcity token --sub ID --roles R` mints more):")
    for role, token in tokens.items():
        print(f"  {role:<13} {token}")
    print(f"\nTry: curl -s '{url_of('ideas')}/api/v1/ideas?municipality=gera' | python3 -m json.tool\n")
    while True:  # until Ctrl-C or SIGTERM (stop, above)
        supervisor.check()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
