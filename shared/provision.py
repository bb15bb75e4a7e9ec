"""Create the identities of shared.identities, idempotently: broker users and PostgreSQL roles.

    broker(vhost, subscribers)                        users, permissions, topic permissions, exchanges
    database(admin_url, runtime_url, migration_url)   a database and its owner and runtime roles

The broker part writes RabbitMQ definitions and imports them with `rabbitmqctl` (one call, a local
broker only); for any other broker `definitions()` is what to import (management UI, or the
Messaging Topology Operator on Kubernetes). Passwords are the ones the services' URLs carry, so
what is created is exactly what the configuration says.
"""
import base64
import contextlib
import hashlib
import json
import logging
import shutil
import subprocess
from urllib.parse import unquote, urlsplit

import psycopg2
from psycopg2 import sql

from shared import config, identities, registry

log = logging.getLogger(__name__)


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class ProvisionError(RuntimeError):
    pass


# --- RabbitMQ -------------------------------------------------------------------------------

def vhost_of(amqp_uri):
    """The vhost of an AMQP URI (of a list of node URIs: the first node's; they name the same)."""
    path = urlsplit(identities.nodes(amqp_uri)[0]).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _password_hash(user, password):
    """RabbitMQ's salted SHA-256 (rabbit_password_hashing_sha256); the salt is derived, so the
    same password gives the same definitions."""
    salt = hashlib.sha256(f"{user}\0{password}".encode()).digest()[:4]
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def _exchange(name, vhost):
    return {"name": name, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
            "internal": False, "arguments": {}}


def definitions(vhost, passwords):
    """RabbitMQ definitions for one vhost: the users of `passwords` ({user: password}: services and
    `sub-…` subscribers), their permissions and topic permissions, and the exchanges they use.

    The event exchanges are declared here, not only by their owners, because a consumer may
    only bind to them (it is not allowed to declare another service's exchange). The vhost itself
    must exist (scripts/ensure_infra.sh makes the tests' and benchmarks'): it is left as it is.
    """
    users = sorted(passwords)
    return {
        "users": [{"name": user, "password_hash": _password_hash(user, passwords[user]),
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []} for user in users],
        "permissions": [dict(zip(("user", "vhost", "configure", "write", "read"),
                                 (user, vhost, *identities.vhost_permissions(user)))) for user in users],
        "topic_permissions": [{"user": user, "vhost": vhost, "exchange": exchange, "write": write, "read": read}
                              for user in users for exchange, write, read in identities.topic_permissions(user)],
        "exchanges": [_exchange(name, vhost) for name in (*identities.owners(), identities.RPC_EXCHANGE)],
    }


def passwords(subscribers=()):
    """{user: password}: every service's user with the password of its configured URI, and the
    outside subscribers, each given as `name` (its development password) or `name:password`."""
    found = {service: identities.password_of(config.amqp_uri_for(service)) or ""
             for service in registry.services()}
    for subscriber in subscribers:
        name, _, password = subscriber.partition(":")
        user = identities.subscriber_user(name)
        found[user] = password or identities.local_password(user)
    return found


def broker(amqp_uri, subscribers=()):
    """Create (or update) the service users and `subscribers` on the vhost of `amqp_uri` with rabbitmqctl."""
    vhost = vhost_of(amqp_uri)
    local = all(urlsplit(node).hostname in LOCAL_HOSTS for node in identities.nodes(amqp_uri))
    if not local or shutil.which("rabbitmqctl") is None:
        raise ProvisionError("rabbitmqctl manages only a broker on this machine: import `smartcity provision"
                             " --definitions` into yours, or create the users of the README's trust model by hand")
    document = json.dumps(definitions(vhost, passwords(subscribers)))
    result = subprocess.run(["rabbitmqctl", "import_definitions"], input=document, text=True,
                            capture_output=True, timeout=60)
    if result.returncode != 0:
        raise ProvisionError(f"rabbitmqctl import_definitions failed: {result.stderr or result.stdout}")
    log.info("broker users of vhost %s in place", vhost)


# --- PostgreSQL -----------------------------------------------------------------------------

def _role(cur, name, password):
    """Create or update a login role with `password` (None: none); never touches a superuser (an admin's own)."""
    cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (name,))
    row = cur.fetchone()
    if row and row[0]:
        raise ProvisionError(f"{name} is a superuser: a service must not run as one")
    verb = "ALTER" if row else "CREATE"
    cur.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s").format(
        sql.Identifier(name)), (password,))


def _admin_connection(admin_url, database):
    conn = psycopg2.connect(urlsplit(admin_url)._replace(path=f"/{database}").geturl())
    conn.autocommit = True
    return conn


def database(admin_url, runtime_url, migration_url):
    """The database of `migration_url`, owned by that URL's role, and the role of `runtime_url`.

    Both roles are created (or get the URLs' passwords) without any right of their own; the owner
    owns the database, its schema and every object in it (also ones made earlier by another role).
    What the runtime role may do the owner grants when it migrates (shared.migrate), as on
    Kubernetes, where the operator makes roles and databases and a job migrates.
    With one role in both URLs (an installation without the two roles) the database is only created.
    """
    name, other = (unquote(urlsplit(url).path.lstrip("/")) for url in (migration_url, runtime_url))
    if other != name:
        raise ProvisionError(f"the runtime and migration URLs name different databases ({other}, {name})")
    owner, app = identities.user_of(migration_url), identities.user_of(runtime_url)
    ids = {"db": sql.Identifier(name), "owner": sql.Identifier(owner or ""), "app": sql.Identifier(app or "")}
    with contextlib.closing(_admin_connection(admin_url, "postgres")) as conn, conn.cursor() as cur:
        if owner != app:
            _role(cur, owner, identities.password_of(migration_url))
            _role(cur, app, identities.password_of(runtime_url))
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            log.info("creating database %s", name)
            cur.execute(sql.SQL("CREATE DATABASE {db} OWNER {owner}" if owner != app else "CREATE DATABASE {db}")
                        .format(**ids))
        if owner == app:
            return
        cur.execute(sql.SQL("ALTER DATABASE {db} OWNER TO {owner}").format(**ids))
    with contextlib.closing(_admin_connection(admin_url, name)) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("ALTER SCHEMA public OWNER TO {owner}").format(**ids))
        _hand_over(cur, owner)


_KINDS = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}


def _hand_over(cur, owner):
    """Give the owner role what another role (the admin, before the roles existed) created in the schema."""
    cur.execute("SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
                " AND pg_get_userbyid(c.relowner) <> %s"
                " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))",
                (owner,))
    for relname, kind in cur.fetchall():
        cur.execute(sql.SQL("ALTER " + _KINDS[kind] + " {} OWNER TO {}").format(
            sql.Identifier(relname), sql.Identifier(owner)))
    cur.execute("SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s", (owner,))
    for (signature,) in cur.fetchall():
        cur.execute(sql.SQL("ALTER FUNCTION " + signature + " OWNER TO {}").format(sql.Identifier(owner)))


def service_database(service, settings=None):
    """Provision one service's database as its settings name it (admin: SMARTCITY_PG_URL)."""
    settings = settings or config.load(service)
    if settings.migration_database_url is None:
        raise ProvisionError(f"SMARTCITY_{service.upper()}_MIGRATION_DATABASE_URL is not set")
    database(config.env("PG_URL", config.DEFAULT_PG_URL), settings.database_url, settings.migration_database_url)
