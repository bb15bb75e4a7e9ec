"""PostgreSQL adapter of the voting service: every SQL statement lives here.

`VotingRepository(cursor)` works in the cursor's transaction (a unit of work makes one per
transaction); rows come back as dicts (RealDictCursor). tests/voting/unit/fakes.py keeps the
same methods in memory.
"""
from datetime import datetime
from uuid import UUID

IDEA_COLUMNS = ("i.id, i.municipality, i.field_of_action, i.title, i.status, i.status_at, i.published_at, i.total,"
                " i.total_since, i.threshold_reached_at, i.ledger_seq, i.ledger_head")
ROUND_COLUMNS = "id, municipality, field_of_action, title, opens_at, closes_at, budget, created_at"
# A decision with its idea's municipality and field (for the events) and its members' votes.
_DECISIONS = (
    "SELECT d.id, d.idea_id, d.board, d.quorum, d.majority_rule, d.deadline, d.opened_by, d.opened_at, d.status,"
    " d.reason, d.quorum_met, d.decided_at, d.closed_by, i.municipality, i.field_of_action,"
    " COALESCE((SELECT json_object_agg(b.member, b.choice) FROM board_votes b WHERE b.decision_id = d.id),"
    " '{}'::json) AS votes"
    " FROM decisions d JOIN ideas i ON i.id = d.idea_id"
)


class VotingRepository:
    """The voting service's tables, in the transaction of the cursor it was made with."""

    def __init__(self, cursor):
        self.cur = cursor

    # --- votable ideas -------------------------------------------------------------------------

    def track_idea(self, idea, genesis):
        """Insert or update an idea from an event; the newest status wins, whatever order events arrive in."""
        self.cur.execute(
            "INSERT INTO ideas (id, municipality, field_of_action, title, status, status_at, published_at,"
            " ledger_head) VALUES (%(id)s, %(municipality)s, %(field_of_action)s, %(title)s, %(status)s,"
            " %(status_at)s, %(published_at)s, %(genesis)s) ON CONFLICT (id) DO UPDATE SET"
            " status = CASE WHEN ideas.status_at < EXCLUDED.status_at THEN EXCLUDED.status ELSE ideas.status END,"
            " status_at = GREATEST(ideas.status_at, EXCLUDED.status_at),"
            " published_at = LEAST(ideas.published_at, EXCLUDED.published_at),"  # LEAST ignores NULLs
            " title = COALESCE(EXCLUDED.title, ideas.title)",
            {**idea, "genesis": genesis},
        )

    def get_idea(self, idea_id, default_threshold, *, lock=False):
        """The idea with its municipality's threshold; `lock` takes its row lock (serialises its votes)."""
        self.cur.execute(
            f"SELECT {IDEA_COLUMNS}, COALESCE(t.support_threshold, %s) AS threshold"
            " FROM ideas i LEFT JOIN thresholds t ON t.municipality = i.municipality WHERE i.id = %s"
            + (" FOR UPDATE OF i" if lock else ""),
            (default_threshold, idea_id),
        )
        return self.cur.fetchone()

    def idea_for_vote(self, idea_id, voter, default_threshold, now):
        """A cast's one read, in one round trip: the idea with its row lock (serialises its votes) and its
        threshold, the voter's earlier vote on it (`vote_round_id`, None) and its municipality's rounds
        open at `now` (`open_rounds`, as rounds_of returns them). None for an unknown idea."""
        self.cur.execute(
            f"SELECT {IDEA_COLUMNS}, COALESCE(t.support_threshold, %(default)s) AS threshold,"
            " (SELECT v.round_id FROM votes v WHERE v.idea_id = i.id AND v.voter = %(voter)s) AS vote_round_id,"
            f" COALESCE((SELECT json_agg(r ORDER BY r.opens_at, r.id) FROM (SELECT {ROUND_COLUMNS} FROM rounds"
            "  WHERE municipality = i.municipality AND opens_at <= %(now)s AND closes_at > %(now)s) r), '[]')"
            " AS open_rounds"
            " FROM ideas i LEFT JOIN thresholds t ON t.municipality = i.municipality WHERE i.id = %(idea_id)s"
            " FOR UPDATE OF i",
            {"default": default_threshold, "voter": voter, "now": now, "idea_id": idea_id},
        )
        idea = self.cur.fetchone()
        if idea is not None:
            idea["open_rounds"] = [_round_from_json(r) for r in idea["open_rounds"]]
        return idea

    def record_cast(self, entry, voter, round_, threshold_reached_at):
        """A cast's writes in one round trip: spend one of the voter's supports in `round_`, add the vote,
        append the ledger `entry` and set the idea's total and head from it.

        Returns (round id of an earlier vote, spent). Nothing is written when the voter's vote on the
        idea exists (a parallel cast committed while this one waited for the idea's lock: this
        statement sees it, the locking read did not) or the budget is used up (spent False).
        """
        self.cur.execute(
            "WITH earlier AS (SELECT round_id FROM votes WHERE idea_id = %(idea_id)s AND voter = %(voter)s),"
            " spent AS (INSERT INTO ballots (round_id, voter, used) SELECT %(round_id)s, %(voter)s, 1"
            "  WHERE NOT EXISTS (SELECT 1 FROM earlier)"
            "  ON CONFLICT (round_id, voter) DO UPDATE SET used = ballots.used + 1 WHERE ballots.used < %(budget)s"
            "  RETURNING used),"
            " vote AS (INSERT INTO votes (idea_id, voter, round_id, cast_at)"
            "  SELECT %(idea_id)s, %(voter)s, %(round_id)s, %(at)s FROM spent),"
            " entry AS (INSERT INTO ledger (idea_id, seq, action, round_id, voter_hash, total, at, prev_hash, hash)"
            "  SELECT %(idea_id)s, %(seq)s, %(action)s, %(round_id)s, %(voter_hash)s, %(total)s, %(at)s,"
            "  %(prev_hash)s, %(hash)s FROM spent),"
            " idea AS (UPDATE ideas SET total = %(total)s, total_since = %(at)s,"
            "  threshold_reached_at = %(reached_at)s, ledger_seq = %(seq)s, ledger_head = %(hash)s"
            "  WHERE id = %(idea_id)s AND EXISTS (SELECT 1 FROM spent))"
            " SELECT (SELECT round_id FROM earlier) AS earlier, EXISTS (SELECT 1 FROM spent) AS spent",
            {**entry, "voter": voter, "budget": round_["budget"], "reached_at": threshold_reached_at},
        )
        row = self.cur.fetchone()
        return row["earlier"], row["spent"]

    def set_total(self, idea_id, total, at, threshold_reached_at, entry):
        self.cur.execute(
            "UPDATE ideas SET total = %s, total_since = %s, threshold_reached_at = %s, ledger_seq = %s,"
            " ledger_head = %s WHERE id = %s",
            (total, at, threshold_reached_at, entry["seq"], entry["hash"], idea_id),
        )

    def ranking(self, municipality, field, statuses, limit):
        """Ideas by support; ties go to the idea published earlier, then the lower id (shared.domain.RANKING)."""
        self.cur.execute(
            f"SELECT {IDEA_COLUMNS} FROM ideas i WHERE i.municipality = %s"
            " AND (%s::text IS NULL OR i.field_of_action = %s) AND i.status = ANY(%s)"
            " ORDER BY i.total DESC, i.published_at ASC NULLS LAST, i.id LIMIT %s",
            (municipality, field, field, list(statuses), limit),
        )
        return self.cur.fetchall()

    def threshold_of(self, municipality, default_threshold):
        self.cur.execute(
            "SELECT COALESCE((SELECT support_threshold FROM thresholds WHERE municipality = %s), %s) AS t",
            (municipality, default_threshold))
        return self.cur.fetchone()["t"]

    def set_threshold(self, municipality, threshold, at):
        self.cur.execute(
            "INSERT INTO thresholds (municipality, support_threshold, updated_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (municipality) DO UPDATE SET support_threshold = EXCLUDED.support_threshold,"
            " updated_at = EXCLUDED.updated_at",
            (municipality, threshold, at),
        )

    # --- rounds and ballots ---------------------------------------------------------------------

    def add_round(self, round_):
        self.cur.execute(
            f"INSERT INTO rounds ({ROUND_COLUMNS}) VALUES (%(id)s, %(municipality)s, %(field_of_action)s, %(title)s,"
            " %(opens_at)s, %(closes_at)s, %(budget)s, %(created_at)s)",
            round_,
        )

    def get_round(self, round_id):
        self.cur.execute(f"SELECT {ROUND_COLUMNS} FROM rounds WHERE id = %s", (round_id,))
        return self.cur.fetchone()

    def rounds_of(self, municipality, open_at=None):
        """The municipality's rounds, or only those open at `open_at`."""
        self.cur.execute(
            f"SELECT {ROUND_COLUMNS} FROM rounds WHERE municipality = %s"
            " AND (%s::timestamptz IS NULL OR (opens_at <= %s AND closes_at > %s)) ORDER BY opens_at, id",
            (municipality, open_at, open_at, open_at),
        )
        return self.cur.fetchall()

    def refund_budget(self, round_id, voter):
        self.cur.execute("UPDATE ballots SET used = used - 1 WHERE round_id = %s AND voter = %s", (round_id, voter))

    def ballot(self, round_id, voter):
        self.cur.execute("SELECT idea_id FROM votes WHERE round_id = %s AND voter = %s ORDER BY cast_at, idea_id",
                         (round_id, voter))
        return [row["idea_id"] for row in self.cur.fetchall()]

    # --- votes and the ledger ------------------------------------------------------------------

    def get_vote(self, idea_id, voter):
        self.cur.execute("SELECT idea_id, voter, round_id, cast_at FROM votes WHERE idea_id = %s AND voter = %s",
                         (idea_id, voter))
        return self.cur.fetchone()

    def remove_vote(self, idea_id, voter):
        self.cur.execute("DELETE FROM votes WHERE idea_id = %s AND voter = %s", (idea_id, voter))

    def append_ledger(self, entry):
        self.cur.execute(
            "INSERT INTO ledger (idea_id, seq, action, round_id, voter_hash, total, at, prev_hash, hash) VALUES"
            " (%(idea_id)s, %(seq)s, %(action)s, %(round_id)s, %(voter_hash)s, %(total)s, %(at)s, %(prev_hash)s,"
            " %(hash)s)",
            entry,
        )

    def ledger_heads(self):
        """Every idea that has a ledger, with its stored head, total and count of active votes."""
        self.cur.execute(
            "SELECT i.id, i.ledger_seq, i.ledger_head, i.total,"
            " (SELECT count(*) FROM votes v WHERE v.idea_id = i.id) AS active_votes"
            " FROM ideas i ORDER BY i.id"
        )
        return self.cur.fetchall()

    def ledger_of(self, idea_id):
        self.cur.execute("SELECT seq, action, round_id, voter_hash, total, at, prev_hash, hash FROM ledger"
                         " WHERE idea_id = %s ORDER BY seq", (idea_id,))
        return self.cur.fetchall()

    # --- board decisions -----------------------------------------------------------------------

    def add_decision(self, decision):
        self.cur.execute(
            "INSERT INTO decisions (id, idea_id, board, quorum, majority_rule, deadline, opened_by, opened_at)"
            " VALUES (%(id)s, %(idea_id)s, %(board)s, %(quorum)s, %(majority_rule)s, %(deadline)s, %(opened_by)s,"
            " %(opened_at)s)",
            decision,
        )

    def open_decision_on(self, idea_id):
        self.cur.execute("SELECT id FROM decisions WHERE idea_id = %s AND status = 'open'", (idea_id,))
        row = self.cur.fetchone()
        return row["id"] if row else None

    def get_decision(self, decision_id, *, lock=False):
        """One decision (see _DECISIONS); `lock` takes its row lock."""
        self.cur.execute(f"{_DECISIONS} WHERE d.id = %s" + (" FOR UPDATE OF d" if lock else ""), (decision_id,))
        return self.cur.fetchone()

    def list_decisions(self, idea_id, status):
        self.cur.execute(
            f"{_DECISIONS} WHERE (%s::uuid IS NULL OR d.idea_id = %s) AND (%s::text IS NULL OR d.status = %s)"
            " ORDER BY d.opened_at DESC, d.id",
            (idea_id, idea_id, status, status),
        )
        return self.cur.fetchall()

    def record_board_vote(self, decision_id, member, choice, at):
        self.cur.execute(
            "INSERT INTO board_votes (decision_id, member, choice, voted_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (decision_id, member) DO UPDATE SET choice = EXCLUDED.choice, voted_at = EXCLUDED.voted_at",
            (decision_id, member, choice, at),
        )

    def close_decision(self, decision_id, status, reason, quorum_met, decided_at, closed_by):
        self.cur.execute(
            "UPDATE decisions SET status = %s, reason = %s, quorum_met = %s, decided_at = %s, closed_by = %s"
            " WHERE id = %s",
            (status, reason, quorum_met, decided_at, closed_by, decision_id),
        )

    def due_decisions(self, now):
        """Open decisions past their deadline, locked; another worker's locked ones are skipped."""
        self.cur.execute("SELECT id FROM decisions WHERE status = 'open' AND deadline <= %s"
                         " ORDER BY deadline FOR UPDATE SKIP LOCKED", (now,))
        return [row["id"] for row in self.cur.fetchall()]


def _round_from_json(row):
    """A round as json_agg gave it, with the types rounds_of returns."""
    return {**row, "id": UUID(row["id"]), "opens_at": datetime.fromisoformat(row["opens_at"]),
            "closes_at": datetime.fromisoformat(row["closes_at"]),
            "created_at": datetime.fromisoformat(row["created_at"])}
