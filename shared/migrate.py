"""Migration runner: plain SQL files, applied once each, in name order, per database.

Shared tables (outbox, inbox) come from shared/migrations and are applied to every
service's database before the service's own (the folder its ServiceSpec names).
Run them as the database's owner role (SMARTCITY_<SERVICE>_MIGRATION_DATABASE_URL): the tables
are its own, and it grants the service's runtime role what that needs and nothing more, so a
migration job with nothing but the owner's URL leaves a database the service can use.
"""
import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from shared import registry

log = logging.getLogger(__name__)

SHARED_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def migrations_of(service):
    return [("shared", SHARED_MIGRATIONS), (service, registry.spec(service).migrations)]


def ensure_database(dsn):
    """Create the database named in `dsn` when it does not exist yet."""
    parts = urlsplit(dsn)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                log.info("creating database %s", name)
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def _connect(dsn):
    """A connection to the database of `dsn`, created first when missing and the role may create it
    (a provisioned database exists already: its owner role may not create databases)."""
    try:
        return psycopg2.connect(dsn)
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    ensure_database(dsn)
    return psycopg2.connect(dsn)


def migrate(service, dsn, runtime_role=None):
    """Apply every pending migration of `service`, then grant `runtime_role` (by default the
    database's name + `_app`) its rights; returns the versions applied now."""
    applied_now = []
    conn = _connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        for scope, folder in migrations_of(service):
            for path in sorted(folder.glob("*.sql")) if folder.is_dir() else []:
                version = f"{scope}/{path.name}"
                with conn, conn.cursor() as cur:
                    # one migration at a time across replicas starting together
                    cur.execute("SELECT pg_advisory_xact_lock(hashtext('schema_migrations'))")
                    cur.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (version,))
                    if cur.fetchone():
                        continue
                    log.info("applying %s", version)
                    cur.execute(path.read_text())
                    cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                    applied_now.append(version)
        with conn, conn.cursor() as cur:
            grant_runtime_role(cur, runtime_role)
    finally:
        conn.close()
    return applied_now


_GRANTS = (
    "REVOKE ALL ON DATABASE {db} FROM PUBLIC",  # no connecting, no temporary tables for anyone else
    "GRANT CONNECT ON DATABASE {db} TO {app}",
    "REVOKE ALL ON SCHEMA public FROM PUBLIC",
    "GRANT USAGE ON SCHEMA public TO {app}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}",
)


def grant_runtime_role(cur, runtime_role=None):
    """As the database's owner: the runtime role may connect to this database only, read and write
    rows and use sequences; no DDL, no TRUNCATE, no temporary tables. Idempotent.

    Nothing to grant when the service runs as the migrating role itself (a single-role
    installation) or its runtime role does not exist here (a database without one)."""
    cur.execute("SELECT current_user, current_database()")
    owner, database = cur.fetchone()
    runtime_role = runtime_role or f"{database}_app"
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (runtime_role,))
    if runtime_role == owner or cur.fetchone() is None:
        log.info("%s: no runtime role %s to grant rights to", database, runtime_role)
        return
    names = {"db": sql.Identifier(database), "app": sql.Identifier(runtime_role)}
    for statement in _GRANTS:
        cur.execute(sql.SQL(statement).format(**names))
