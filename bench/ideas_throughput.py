"""Throughput of idea submission: the real ideas service over HTTP against raw PostgreSQL.

In one invocation and at the same concurrency N (default 16) it measures

* the raw baseline: N threads, each with its own psycopg2 connection, committing the two
  INSERTs an idea submission makes (the idea row and its outbox row) as fast as they can;
* the service: `python -m shared.runner ideas` in a subprocess, answering
  POST /api/v1/ideas from N keep-alive HTTP clients (raw HTTP/1.1 on asyncio, so the load
  generator leaves the CPU to the service);

each for a warm-up and then a measured run of fixed duration and bounded request count.
After the HTTP run it checks that every 201 left one idea row and that the outbox relay
published every event (sent_at set), then prints ideas/s, p50/p99 latency, the
service/baseline ratio and PASS/FAIL against the targets, and writes the figures as JSON.

It uses its own database (smartcity_ideas_bench, recreated and dropped at the end), port
19001 and the RabbitMQ vhost smartcity_bench (made by scripts/ensure_infra.sh; the default
vhost when it is missing, SMARTCITY_AMQP_URI when set), never the dev or test ones; with
SMARTCITY_TEST_SLOT=N: smartcity_ideas_bench_N, port 19001 + 100*N, smartcity_bench_N
(see bench/harness.py).

    make bench-ideas
    .venv/bin/python -m bench.ideas_throughput --smoke    # about a second, the checks, no targets
    .venv/bin/python -m bench.ideas_throughput --concurrency 16 --seconds 10 \\
        --max-workers 32 --db-pool-size 16

--max-workers and --db-pool-size default to SMARTCITY_IDEAS_MAX_WORKERS and
SMARTCITY_IDEAS_DB_POOL_SIZE (else 10) and are passed to the service. The exit status is 1
when a target or a check fails.
"""
import contextlib
import json
import uuid
from datetime import datetime, timezone

import psycopg2

from bench import harness
from services.ideas.repository import IdeasRepository
from shared import config
from shared.auth import mint
from shared.envelope import exchange_of, make_event

IDEA = {
    "municipality": "gera",
    "title": "Solar panels on every school roof",
    "description": "The city's schools have large flat roofs; panels there would cover their daytime power use.",
    "field_of_action": "energie",
    "channel": "form",
}


def idea_row(author_id):
    """An idea row as the service's submit_idea stores it."""
    now = datetime.now(timezone.utc)
    return {**IDEA, "id": uuid.uuid4(), "working_group": None, "working_group_id": None, "competition_id": None,
            "profile": None, "lat": None, "lon": None, "author_id": author_id,
            "status": "submitted", "status_reason": None, "created_at": now, "updated_at": now,
            "published_at": None}


def envelope_body():
    """A real IdeaSubmitted envelope, serialized: the size of what the service writes to the outbox."""
    idea = idea_row("bench-user")
    data = {"idea_id": idea["id"], "municipality": idea["municipality"], "field_of_action": idea["field_of_action"],
            "title": idea["title"], "channel": idea["channel"], "working_group": None, "location": None,
            "author_id": idea["author_id"], "submitted_at": idea["created_at"]}
    return json.dumps(make_event("ideas", "IdeaSubmitted", data, subject=str(idea["id"])))


class IdeasThroughput(harness.Benchmark):
    """Idea submission: one idea row and its IdeaSubmitted outbox row per write."""

    service = "ideas"
    operation = "ideas"
    ok_status = 201
    targets = harness.Targets(p99_ms=50, ratio=0.4, concurrency=16)

    def __init__(self, args):
        super().__init__(args)
        self.body = envelope_body()
        self.request = harness.post_request("/api/v1/ideas", self.port,
                                            mint(config.DEV_JWT_SECRET, "bench-user", ["citizen"]), IDEA)

    def seed(self, dsn):
        with contextlib.closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
            # CASCADE: the strategy process's tables (shortlists, sponsors, sub-concepts …) refer to ideas
            cur.execute("TRUNCATE milestones, ideas, outbox CASCADE")

    def baseline_transaction(self, conn):
        with conn, conn.cursor() as cur:
            IdeasRepository(cur).add_idea(idea_row("bench-user"))
            cur.execute(harness.OUTBOX_INSERT, (uuid.uuid4(), exchange_of("ideas"), "IdeaSubmitted", self.body))

    def next_request(self):
        return self.request

    def check(self, dsn, accepted):
        ideas = harness.query_one(dsn, "SELECT count(*) FROM ideas")[0]
        return ({"accepted": accepted, "idea_rows": ideas},
                [("idea rows == 201 responses", ideas == accepted, f"{ideas} == {accepted}")])


if __name__ == "__main__":
    harness.main(IdeasThroughput, __doc__)
