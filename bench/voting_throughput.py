"""Throughput of support votes: the real voting service over HTTP against raw PostgreSQL.

In one invocation and at the same concurrency N (default 32) it measures

* the raw baseline: N threads, each with its own psycopg2 connection, committing the writes
  one cast makes, in one transaction per vote and through the service's own repository
  statements: the locking read (idea row lock, earlier vote, open rounds, threshold), the
  write (budget, vote, hash-chained ledger entry, new total) and a serialized VoteCast
  envelope inserted into the outbox;
* the service: `python -m shared.runner voting` in a subprocess, answering
  POST /api/v1/ideas/{id}/votes from N keep-alive HTTP clients, each request with the
  bearer token of its voter;

each for a warm-up and then a measured run of fixed duration and bounded request count.

Votes follow one plan in both runs: batches of 1,000 voters, each supporting up to the
round's budget (100) of distinct ideas out of --ideas (default 500) published ideas of one
open round, so no vote repeats and requests in flight fall on different ideas (an idea's
row lock serialises its votes; `--ideas 1` measures that worst case instead). The ideas
and the round are inserted directly, so the ideas service need not run. The support
threshold is set beyond reach, so every vote writes exactly one event in both runs.

After the HTTP run it checks that every 200 left exactly one vote row, every idea's total
equals its votes, budgets were spent once per vote, the ledger verifies and the outbox
relay published one event per vote; then prints votes/s, p50/p99 latency, the
service/baseline ratio and PASS/FAIL against the targets, and writes the figures as JSON.

It uses its own database (smartcity_voting_bench, recreated and dropped at the end), port
19002 and the RabbitMQ vhost smartcity_bench, never the dev or test ones; with
SMARTCITY_TEST_SLOT=N: smartcity_voting_bench_N, port 19002 + 100*N, smartcity_bench_N
(see bench/harness.py).

    make bench-voting
    .venv/bin/python -m bench.voting_throughput --smoke    # about a second, the checks, no targets
    .venv/bin/python -m bench.voting_throughput --concurrency 32 --seconds 10 \\
        --max-workers 32 --db-pool-size 16

--max-workers and --db-pool-size default to SMARTCITY_VOTING_MAX_WORKERS and
SMARTCITY_VOTING_DB_POOL_SIZE (else 10) and are passed to the service. The exit status is 1
when a target or a check fails.
"""
import contextlib
import itertools
import json
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import psycopg2.extras

from bench import harness
from services.voting import domain, ledger, use_cases
from services.voting.repository import VotingRepository
from shared import config
from shared.auth import mint
from shared.db import Pool, SqlUnitOfWork
from shared.envelope import exchange_of, make_event

MUNICIPALITY, FIELD = "gera", "energie"
BUDGET = 100  # the most a round may give (NewRound's limit)
VOTERS_PER_BATCH = 1000
THRESHOLD = 1_000_000  # out of reach: no SupportThresholdReached, one event per vote


class VotePlan:
    """The k-th vote of a run as (voter, idea): never the same pair twice, never over budget.

    Voter v of a batch supports ideas v, v+1, ... (mod the number of ideas); consecutive
    votes come from consecutive voters, so votes in flight fall on different ideas and a
    voter's next vote comes a whole batch later.
    """

    def __init__(self, idea_ids):
        self.idea_ids = idea_ids
        self.per_voter = min(BUDGET, len(idea_ids))

    def vote(self, k):
        batch, rest = divmod(k, VOTERS_PER_BATCH * self.per_voter)
        turn, voter = divmod(rest, VOTERS_PER_BATCH)
        return batch * VOTERS_PER_BATCH + voter, self.idea_ids[(voter + turn) % len(self.idea_ids)]


def subject(voter):
    return f"bench-voter-{voter}"


def vote_cast_body(idea_id, round_id):
    """A real VoteCast envelope, serialized: the size of what the service writes to the outbox."""
    entry = ledger.next_entry({"id": idea_id, "ledger_seq": 0, "ledger_head": ledger.GENESIS}, "cast", round_id,
                              subject(0), 1, datetime.now(timezone.utc))
    data = {"idea_id": idea_id, "municipality": MUNICIPALITY, "field_of_action": FIELD, "round_id": round_id,
            "total": 1, "cast_at": entry["at"], "ledger_seq": entry["seq"], "ledger_hash": entry["hash"]}
    return json.dumps(make_event("voting", "VoteCast", data, subject=str(idea_id)))


class VotingThroughput(harness.Benchmark):
    """Support votes: a cast with its ledger entry, new total and VoteCast outbox row per write."""

    service = "voting"
    operation = "votes"
    ok_status = 200
    targets = harness.Targets(p99_ms=100, ratio=0.5, concurrency=32)

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--ideas", type=int, default=500,
                            help="published ideas the votes spread over (default 500; 1: every vote on one idea)")

    def __init__(self, args):
        super().__init__(args)
        self.plan = VotePlan([uuid.uuid4() for _ in range(args.ideas)])
        self.round_id = uuid.uuid4()
        self.body = vote_cast_body(self.plan.idea_ids[0], self.round_id)
        self.tokens = {}
        self.baseline_votes = itertools.count()  # next() is atomic under the GIL: shared by the threads
        self.http_votes = itertools.count()
        for voter in range(VOTERS_PER_BATCH):  # the first batch before the clock starts
            self.token(voter)

    def token(self, voter):
        if voter not in self.tokens:
            self.tokens[voter] = mint(config.DEV_JWT_SECRET, subject(voter), ["citizen"])
        return self.tokens[voter]

    def service_settings(self):
        return {"support_threshold": THRESHOLD}

    def seed(self, dsn):
        """No votes yet; the plan's ideas published and one open municipality-wide round."""
        now = datetime.now(timezone.utc)
        with contextlib.closing(psycopg2.connect(dsn)) as conn, conn, conn.cursor() as cur:
            cur.execute("TRUNCATE ledger, votes, ballots, board_votes, decisions, rounds, thresholds, ideas, outbox")
            repo = VotingRepository(cur)
            for idea_id in self.plan.idea_ids:
                repo.track_idea({"id": idea_id, "municipality": MUNICIPALITY, "field_of_action": FIELD,
                                 "title": f"Bench idea {idea_id}", "status": "published", "status_at": now,
                                 "published_at": now},
                                ledger.GENESIS)
            repo.add_round({"id": self.round_id, "municipality": MUNICIPALITY, "field_of_action": None,
                            "title": "Bench round", "opens_at": now - timedelta(minutes=1),
                            "closes_at": now + timedelta(days=1), "budget": BUDGET, "created_at": now})

    def baseline_transaction(self, conn):
        """What use_cases.cast_vote writes for a new vote, without HTTP, auth, validation or the event schema."""
        voter, idea_id = self.plan.vote(next(self.baseline_votes))
        voter = subject(voter)
        now = datetime.now(timezone.utc)
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            repo = VotingRepository(cur)
            idea = repo.idea_for_vote(idea_id, voter, THRESHOLD, now)  # the plan never repeats a vote
            round_ = domain.pick_round(idea["open_rounds"], FIELD, now)
            entry = ledger.next_entry(idea, "cast", round_["id"], voter, idea["total"] + 1, now)
            repo.record_cast(entry, voter, round_, None)
            cur.execute(harness.OUTBOX_INSERT, (uuid.uuid4(), exchange_of("voting"), "VoteCast", self.body))

    def next_request(self):
        voter, idea_id = self.plan.vote(next(self.http_votes))
        return harness.post_request(f"/api/v1/ideas/{idea_id}/votes", self.port, self.token(voter))

    def check(self, dsn, accepted):
        votes, spent, wrong_totals = harness.query_one(
            dsn, "SELECT (SELECT count(*) FROM votes), (SELECT coalesce(sum(used), 0) FROM ballots),"
                 " (SELECT count(*) FROM ideas i WHERE total <> (SELECT count(*) FROM votes v WHERE v.idea_id = i.id))")
        pool = Pool(dsn, 1)
        try:
            ideas_checked, problems = use_cases.verify_ledger(SqlUnitOfWork("voting", pool, VotingRepository))
        finally:
            pool.close()
        facts = {"accepted": accepted, "vote_rows": votes, "budget_spent": spent, "wrong_totals": wrong_totals,
                 "ledger_ideas": ideas_checked, "ledger_problems": problems[:20]}
        return facts, [
            ("vote rows == 200 responses", votes == accepted, f"{votes} == {accepted}"),
            ("budget spent once per vote", spent == votes, f"{spent} == {votes}"),
            ("every idea's total == its votes", wrong_totals == 0, f"{wrong_totals} differ"),
            ("the ledger verifies", not problems, f"{ideas_checked} ideas, {len(problems)} problems"),
        ]


if __name__ == "__main__":
    harness.main(VotingThroughput, __doc__)
