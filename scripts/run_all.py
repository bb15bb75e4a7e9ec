"""`make run`: every service with demo data, until Ctrl-C.

Applies migrations, starts each service as its own process (as in production), waits until
each is ready, loads the demo data once, prints URLs and a development token per role.
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

from shared import config
from shared.auth import ROLES, mint
from shared.events import CATALOGUE, service_of
from shared.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
SERVICES = [name for name in config.HTTP_PORTS if (ROOT / "services" / name / "service.py").exists()]
EMITTERS = {service_of(event_type) for event_type in CATALOGUE}


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
    with urllib.request.urlopen(req, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None


def wait_ready(service, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{service} exited with code {process.returncode}; see its log above")
        try:
            request("GET", url_of(service) + "/health/ready")
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    raise SystemExit(f"{service} was not ready within {seconds}s")


def load_demo(tokens):
    """Each service's `demo.py` (if any), in SERVICES order, loads its data once through the APIs."""
    def api(service, method, path, body=None, role=None):
        return request(method, url_of(service) + path, body, tokens.get(role))

    for name in SERVICES:
        try:
            demo = importlib.import_module(f"services.{name}.demo")
        except ModuleNotFoundError:
            continue
        if demo.already_loaded(api):
            print(f"demo data ({name}): already loaded")
        else:
            print(f"demo data ({name}): {demo.load(api)}")


def main():
    settings = {name: config.load(name) for name in SERVICES}
    for name in SERVICES:
        migrate(name, settings[name].database_url)
    env = {**os.environ, "SMARTCITY_LOG_FORMAT": os.environ.get("SMARTCITY_LOG_FORMAT", "text")}
    processes = {name: subprocess.Popen([sys.executable, "-m", "shared.runner", name], env=env, cwd=ROOT)
                 for name in SERVICES}

    def stop(*_):
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        print("\nall services stopped")
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for name, process in processes.items():
            wait_ready(name, process)
        secret = settings[SERVICES[0]].jwt_secret
        tokens = {role: mint(secret, f"demo-{role}", [role], ttl_seconds=7 * 24 * 3600) for role in ROLES}
        load_demo(tokens)
    except BaseException:
        stop()
        raise

    print("\nSmartCity is running. Ctrl-C stops it.\n")
    for name in SERVICES:
        base = url_of(name)
        print(f"  {name:<14} {base}/api/v1/   {base}/openapi.json   {base}/metrics   {base}/health/ready")
    print("\n  RabbitMQ       amqp://guest:guest@127.0.0.1:5672/  exchanges: " +
          ", ".join(f"{name}.events" for name in SERVICES if name in EMITTERS))
    print("\nDevelopment tokens (valid 7 days; `smartcity token --sub ID --roles R` mints more):")
    for role, token in tokens.items():
        print(f"  {role:<13} {token}")
    print(f"\nTry: curl -s '{url_of('ideas')}/api/v1/ideas?municipality=gera' | python3 -m json.tool\n")
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with code {process.returncode}; stopping the others")
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
