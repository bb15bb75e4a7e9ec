"""A cluster of its own for the fault drills: three RabbitMQ nodes joined into one cluster and a
PostgreSQL instance, started from the installed servers, never touching the machine's.

    python -m scripts.local_cluster up       # start (or repair) it and provision the services on it
    python -m scripts.local_cluster status   # what runs, the URIs
    python -m scripts.local_cluster down     # stop everything it started and remove its directory

Names follow SMARTCITY_TEST_SLOT=S (default 0), so two checkouts can drill side by side:
PostgreSQL on 26000+20·S, the nodes `sc<S>rq<N>@localhost` (N = 1..3) with AMQP on 26000+20·S+N and
Erlang distribution on 26000+20·S+10+N, the drill services' HTTP on 16000+100·S+(1..4) and their
SMTP sink on 16000+100·S+5, everything under /tmp/smartcity-drill-S. Each node has its own data,
logs, pid file, empty plugin list, a config naming its own listener (the machine's rabbitmq.conf
pins 5672) and an Erlang cookie of the cluster's own; the directories belong to the `rabbitmq`
user, to which `rabbitmq-server` drops. PostgreSQL is an `initdb` in that directory (as the
`postgres` user when run as root), trusting 127.0.0.1.

`down` finds every process by its pid file (and a node without one by its name, as `epmd -names`
lists it), so it also cleans up after a caller that crashed.
"""
import argparse
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from shared import identities, registry

ROOT = Path(__file__).resolve().parent.parent
NODES = (1, 2, 3)
SERVICE_PORTS = {"ideas": 1, "voting": 2, "notifications": 3, "reporting": 4, "smtp": 5}
VHOST = "smartcity_drill"
NODE_START_TIMEOUT = 90.0
CTL_TIMEOUT = 60.0
PG_MAX_CONNECTIONS = 200  # four services with pools of 10 (and their relays and checks), the drill's own


class ClusterError(RuntimeError):
    pass


def slot():
    return int(os.environ.get("SMARTCITY_TEST_SLOT") or 0)


def _owned_by(path, user):
    """mkdir -p `path` and give it to `user` (when running as root; else it stays ours)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is as good as gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _cmdline(pid):
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def _node_of(pid):
    """The RabbitMQ node name an Erlang VM was started as (RABBITMQ_NODENAME in its environment)."""
    with contextlib.suppress(OSError):
        for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if entry.startswith(b"RABBITMQ_NODENAME="):
                return entry.split(b"=", 1)[1].decode(errors="replace")
    return None


def _kill(pid, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds; True when it is gone."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.1)
    return not _alive(pid)


def _reachable(port, timeout=0.5):
    with socket.socket() as sock:
        sock.settimeout(timeout)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Node:
    """One RabbitMQ node of the cluster."""

    cluster: "LocalCluster"
    number: int

    @property
    def name(self):
        return f"sc{self.cluster.slot}rq{self.number}@localhost"

    @property
    def short_name(self):
        return self.name.split("@")[0]

    @property
    def amqp_port(self):
        return self.cluster.base_port + self.number

    @property
    def dist_port(self):
        return self.cluster.base_port + 10 + self.number

    @property
    def directory(self):
        return self.cluster.directory / f"rq{self.number}"

    @property
    def pid_file(self):
        return self.directory / "rabbitmq.pid"

    def pid(self):
        """The node's Erlang VM, from its pid file (None when not running)."""
        with contextlib.suppress(OSError, ValueError):
            pid = int(self.pid_file.read_text().strip())
            if _alive(pid) and _node_of(pid) == self.name:
                return pid
        return None

    def env(self):
        d = self.directory
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            # Not the machine's rabbitmq-env.conf: it names the machine's node.
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            # The cookie: `su` (the server drops to the rabbitmq user) sets HOME to the machine's
            # node's, so it cannot come from a cookie file in a HOME of our own.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS":
                f"-setcookie {self.cluster.cookie()} -kernel inet_dist_use_interface {{127,0,0,1}}",
        }

    def prepare(self):
        d = _owned_by(self.directory, "rabbitmq")
        for sub in ("mnesia", "log"):
            _owned_by(d / sub, "rabbitmq")
        (d / "enabled_plugins").write_text("[].\n")
        (d / "rabbitmq-env.conf").write_text("")
        (d / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.amqp_port}\n"
            "log.console = false\nlog.file.level = info\n"
            "vm_memory_high_watermark.relative = 0.4\n"
            "disk_free_limit.absolute = 50MB\n")
        for name in ("enabled_plugins", "rabbitmq-env.conf", "rabbitmq.conf"):
            if os.geteuid() == 0:
                entry = pwd.getpwnam("rabbitmq")
                os.chown(d / name, entry.pw_uid, entry.pw_gid)

    def start(self):
        """`rabbitmq-server -detached` for this node (returns at once; `wait_running` waits)."""
        if self.pid():
            return
        self.prepare()
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env(), cwd=self.directory, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=CTL_TIMEOUT)

    def wait_running(self, timeout=NODE_START_TIMEOUT):
        """Until the node's AMQP listener answers and the app runs (rabbitmqctl await_startup)."""
        deadline = time.monotonic() + timeout
        while not self.pid() or not _reachable(self.amqp_port):
            if time.monotonic() > deadline:
                raise ClusterError(f"{self.name} did not start within {timeout:.0f} s; see {self.directory / 'log'}")
            time.sleep(0.3)
        self.ctl("await_startup", timeout=max(5.0, deadline - time.monotonic()))

    def ctl(self, *args, timeout=CTL_TIMEOUT, check=True):
        """rabbitmqctl against this node; its output."""
        return self.cluster.ctl(self.name, *args, timeout=timeout, check=check)

    def kill(self):
        """SIGKILL, as a crashed machine would leave it (no clean shutdown)."""
        pid = self.pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        return pid

    def stop(self):
        """A clean stop of the whole node (rabbitmqctl stop), killed when that does not end it."""
        pid = self.pid()
        if not pid:
            return
        with contextlib.suppress(ClusterError, subprocess.TimeoutExpired):
            self.ctl("stop", timeout=30, check=False)
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            _kill(pid)


class LocalCluster:
    """The drill cluster of one slot: its names, ports and directory, and what starts and stops it."""

    def __init__(self, slot_number=None):
        self.slot = slot() if slot_number is None else slot_number
        self.base_port = 26000 + 20 * self.slot
        self.pg_port = self.base_port
        self.directory = Path(f"/tmp/smartcity-drill-{self.slot}")
        self.nodes = [Node(self, n) for n in NODES]

    # --- names ---------------------------------------------------------------------------

    def http_port(self, service):
        """The drill services' HTTP ports (and "smtp", their mail sink)."""
        return 16000 + 100 * self.slot + SERVICE_PORTS[service]

    @property
    def pg_url(self):
        """The admin's URL (the postgres superuser, trusted on 127.0.0.1)."""
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}"

    def amqp_uri(self, node=1, user="guest", password="guest", vhost=VHOST):
        return f"amqp://{user}:{password}@127.0.0.1:{self.nodes[node - 1].amqp_port}/{vhost}"

    def amqp_uris(self, user="guest", password="guest", vhost=VHOST):
        """Every node's URI, `;`-separated: kombu's failover list, as the services take it."""
        return ";".join(self.amqp_uri(node.number, user, password, vhost) for node in self.nodes)

    def service_amqp_uris(self, service, vhost=VHOST):
        """A service's list of node URIs, as its own broker user (development password)."""
        return self.amqp_uris(service, identities.local_password(service), vhost)

    def cookie(self):
        path = self.directory / "erlang.cookie"
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(20).upper())
            path.chmod(0o600)
        return path.read_text().strip()

    def ctl_env(self, node=1):
        """Environment for rabbitmqctl (and `smartcity provision`, which calls it) aimed at a node."""
        return {**os.environ, "RABBITMQ_NODENAME": self.nodes[node - 1].name,
                "RABBITMQ_ERLANG_COOKIE": self.cookie()}

    def ctl(self, node_name, *args, timeout=CTL_TIMEOUT, check=True):
        result = subprocess.run(["rabbitmqctl", "-n", node_name, "--erlang-cookie", self.cookie(), "-q", *args],
                                capture_output=True, text=True, timeout=timeout, cwd="/tmp")
        if check and result.returncode != 0:
            raise ClusterError(f"rabbitmqctl -n {node_name} {' '.join(args)}: {result.stderr or result.stdout}")
        return result.stdout

    # --- RabbitMQ --------------------------------------------------------------------------

    def running_nodes(self, via=None):
        """The cluster's running nodes as the first reachable node sees them."""
        for node in [via] if via else self.nodes:
            if node.pid() is None:
                continue
            with contextlib.suppress(ClusterError, subprocess.TimeoutExpired):
                status = json.loads(node.ctl("cluster_status", "--formatter", "json", timeout=30))
                return sorted(status.get("running_nodes", []))
        return []

    def start_nodes(self, nodes=None):
        """Start nodes (all by default) and wait until each runs; a node that was clustered rejoins."""
        nodes = self.nodes if nodes is None else nodes
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_running()

    def join(self):
        """Join nodes 2 and 3 to node 1 (those not yet in its cluster)."""
        first = self.nodes[0]
        members = json.loads(first.ctl("cluster_status", "--formatter", "json")).get("disk_nodes", [])
        for node in self.nodes[1:]:
            if node.name in members:
                continue
            node.ctl("stop_app")
            node.ctl("join_cluster", first.name)
            node.ctl("start_app")

    def wait_cluster(self, timeout=NODE_START_TIMEOUT):
        """Until cluster_status shows all three nodes running."""
        want = sorted(node.name for node in self.nodes)
        deadline = time.monotonic() + timeout
        while (running := self.running_nodes()) != want:
            if time.monotonic() > deadline:
                raise ClusterError(f"cluster not formed within {timeout:.0f} s: running {running}")
            time.sleep(0.5)

    def stop_all_nodes(self):
        """Stop every node at once (as a power cut or a whole cluster's pods going would), each cleanly."""
        threads = [threading.Thread(target=node.stop) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def epmd_names(self):
        """Our nodes as epmd lists them: {short name: port}."""
        result = subprocess.run(["epmd", "-names"], capture_output=True, text=True, timeout=10)
        names = {}
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 5 and parts[0] == "name" and parts[1].startswith(f"sc{self.slot}rq"):
                names[parts[1]] = int(parts[4])
        return names

    def _stray_node_pids(self):
        """Erlang VMs of our nodes that their pid files do not name (a node that never wrote one, or whose
        directory is gone), as long as epmd still lists them: found by the node name in their environment
        (an exact name only this slot's cluster uses)."""
        names = {f"{name}@localhost" for name in self.epmd_names()} & {node.name for node in self.nodes}
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and "beam" in _cmdline(int(entry.name)) and _node_of(int(entry.name)) in names:
                pids.append(int(entry.name))
        return pids

    # --- the vhost and provisioning ----------------------------------------------------------

    def add_vhost(self, vhost=VHOST):
        first = self.nodes[0]
        if vhost not in first.ctl("list_vhosts", "--formatter", "json"):
            first.ctl("add_vhost", vhost)
        first.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")

    def delete_vhost(self, vhost):
        self.nodes[0].ctl("delete_vhost", vhost, check=False)

    def provision_env(self, vhost=VHOST):
        """The environment of `smartcity provision` / `migrate` on this cluster: its node 1 as the local
        broker (rabbitmqctl through RABBITMQ_NODENAME and the cookie) and its PostgreSQL as admin."""
        env = {key: value for key, value in self.ctl_env().items() if not key.startswith("SMARTCITY_")}
        return {**env, "SMARTCITY_AMQP_URI": self.amqp_uri(1, vhost=vhost), "SMARTCITY_PG_URL": self.pg_url}

    def provision(self, vhost=VHOST):
        """The project's own `smartcity provision` and `smartcity migrate` against this cluster."""
        self.add_vhost(vhost)
        smartcity = [sys.executable, "-m", "shared.cli"]
        for command in ("provision", "migrate"):
            result = subprocess.run([*smartcity, command], env=self.provision_env(vhost), cwd=ROOT,
                                    capture_output=True, text=True, timeout=180)
            if result.returncode != 0:
                raise ClusterError(f"smartcity {command} failed:\n{result.stdout}\n{result.stderr}")

    def reset_databases(self):
        """Drop every service's database (the drill's own PostgreSQL): the next provision makes them anew."""
        with contextlib.closing(psycopg2.connect(self.pg_url + "/postgres")) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                for service in registry.services():
                    cur.execute(f'DROP DATABASE IF EXISTS "smartcity_{service}" WITH (FORCE)')

    # --- PostgreSQL ---------------------------------------------------------------------------

    @property
    def pg_directory(self):
        return self.directory / "pg"

    def _as_postgres(self, *command, timeout=120):
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/tmp")

    def pg_pid(self):
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.pg_directory / "data" / "postmaster.pid").read_text().split()[0])
            if _alive(pid) and "postgres" in _cmdline(pid):
                return pid
        return None

    def pg_init(self):
        data = self.pg_directory / "data"
        if (data / "PG_VERSION").exists():
            return
        _owned_by(self.pg_directory, "postgres")
        result = self._as_postgres("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                   "--locale=C", "--no-sync")
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stderr}")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"\n# the drill's own instance (scripts/local_cluster.py)\nport = {self.pg_port}\n"
                       f"listen_addresses = '127.0.0.1'\nunix_socket_directories = '{self.pg_directory}'\n"
                       f"max_connections = {PG_MAX_CONNECTIONS}\nshared_buffers = 32MB\nfsync = off\n"
                       "full_page_writes = off\n")

    def pg_ctl(self, action, *options, timeout=120):
        result = self._as_postgres("pg_ctl", "-D", str(self.pg_directory / "data"), "-l",
                                   str(self.pg_directory / "postgres.log"), "-w", "-t", str(int(timeout - 5)),
                                   *options, action, timeout=timeout)
        if result.returncode != 0:
            raise ClusterError(f"pg_ctl {action} failed: {result.stdout}{result.stderr}")

    def pg_start(self):
        if not self.pg_pid():
            self.pg_ctl("start")

    def pg_stop(self):
        if self.pg_pid():
            self.pg_ctl("stop", "-m", "fast")

    def pg_restart(self):
        self.pg_ctl("restart", "-m", "fast")

    # --- the whole -----------------------------------------------------------------------------

    def up(self, provision=True):
        """Start (or repair) PostgreSQL and the three nodes, join them, provision the services."""
        if shutil.which("rabbitmq-server") is None or shutil.which("initdb") is None:
            raise ClusterError("rabbitmq-server and initdb must be installed (scripts/ensure_infra.sh)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)
        self.pg_init()
        self.pg_start()
        self.start_nodes()
        self.join()
        self.wait_cluster()
        if provision:
            self.provision()

    @property
    def alarm_marker(self):
        return self.directory / "alarm-set"

    def set_memory_alarm(self, node):
        """A memory alarm on `node` at once (watermark 0): the cluster blocks every publishing connection."""
        self.alarm_marker.write_text(node.name)
        node.ctl("set_vm_memory_high_watermark", "0")

    def clear_memory_alarm(self):
        with contextlib.suppress(OSError):
            node = next(n for n in self.nodes if n.name == self.alarm_marker.read_text().strip())
            node.ctl("set_vm_memory_high_watermark", "0.4")
            self.alarm_marker.unlink()

    def ensure_healthy(self):
        """Back to the starting state after a drill, whatever it left: PostgreSQL up, every node running and
        clustered, no alarm."""
        self.pg_start()
        self.start_nodes([node for node in self.nodes if node.pid() is None] or [])
        if self.alarm_marker.exists():
            self.clear_memory_alarm()
        self.wait_cluster()

    def down(self):
        """Stop everything this slot's cluster started (pid files, then stray nodes by name); remove its directory."""
        for node in self.nodes:
            pid = node.pid()
            if pid:
                _kill(pid, grace=0.5)  # its data goes away with the directory: no clean stop needed
        for pid in self._stray_node_pids():
            _kill(pid, grace=0.5)
        pid = self.pg_pid()
        if pid:
            with contextlib.suppress(ClusterError, subprocess.TimeoutExpired):
                self.pg_ctl("stop", "-m", "immediate", timeout=30)
            _kill(pid)
        shutil.rmtree(self.directory, ignore_errors=True)

    def status(self):
        running = {node.name: node.pid() for node in self.nodes}
        return {"directory": str(self.directory), "nodes": running,
                "cluster_running_nodes": self.running_nodes() if any(running.values()) else [],
                "amqp": self.amqp_uris(), "postgresql": self.pg_url, "postgresql_pid": self.pg_pid()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--no-provision", action="store_true", help="up: only start the cluster and PostgreSQL")
    args = parser.parse_args(argv)
    cluster = LocalCluster()
    if args.action == "up":
        started = time.monotonic()
        try:
            cluster.up(provision=not args.no_provision)
        except BaseException:
            cluster.down()
            raise
        print(f"cluster of slot {cluster.slot} up in {time.monotonic() - started:.0f} s")
    elif args.action == "down":
        cluster.down()
        print(f"cluster of slot {cluster.slot} down; {cluster.directory} removed")
        return 0
    print(json.dumps(cluster.status(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
