"""PostgreSQL adapter of the reporting service: every SQL statement lives here.

`ReportingRepository(cursor)` works in the transaction of the unit of work that made it. Status
and state names come from shared.domain as parameters, so SQL holds no copy of them.
"""
from psycopg2 import sql
from psycopg2.extras import Json, execute_values

from shared.domain import OVERDUE, PILOT_OR_LATER, PUBLIC_STATUSES, PUBLISHED, REACHED, SCHEDULED, SHORTLISTED

from .process import HIDDEN, PENDING
from .process import PUBLISHED as VISIBLE
from .projector import INCREMENT_TABLES, PROCESS_TABLES, PROJECTIONS, UPSERT_TABLES, columns_of

KEY_TYPES = {"idea_id": "uuid", "round_id": "uuid", "milestone_id": "uuid", "notification_id": "uuid",
             "municipality": "text", "participant": "text", "working_group_id": "uuid", "member": "text",
             "competition_id": "uuid", "sponsorship_id": "uuid", "sub_concept_id": "uuid", "strategy_id": "uuid",
             "version": "integer", "comment_id": "uuid", "meeting_id": "uuid", "survey_id": "uuid",
             "position": "integer"}
PAGE_SIZE = 1000  # rows per INSERT statement of a bulk write
LOG_COLUMNS = ("event_id", "event_type", "source", "subject", "time", "received_at", "data")
# Ideas the pilot pipeline shows whatever the board decided.
PIPELINE_STATUSES = [SHORTLISTED, *PILOT_OR_LATER]


def _columns(names):
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _where(filters, prefix=""):
    """(' WHERE a = %s AND ...', params) for the filters that are not None."""
    present = [(column, value) for column, value in filters.items() if value is not None]
    if not present:
        return "", []
    return " WHERE " + " AND ".join(f"{prefix}{column} = %s" for column, _ in present), [v for _, v in present]


class ReportingRepository:
    def __init__(self, cursor):
        self.cur = cursor

    # --- the event log ----------------------------------------------------------------------

    def append(self, events):
        """Add events to the log; returns the ids that were new (the others are redeliveries)."""
        rows = execute_values(
            self.cur,
            "INSERT INTO event_log (event_id, event_type, source, subject, time, received_at, data) VALUES %s"
            " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            [(e.id, e.type, e.source, e.subject, e.time, e.received_at, Json(e.data)) for e in events], fetch=True)
        return {row["event_id"] for row in rows}

    def municipalities_of(self, event_ids):
        """{event id: municipality} of the logged events among `event_ids` that carry one."""
        self.cur.execute("SELECT event_id, data ->> 'municipality' AS municipality FROM event_log"
                         " WHERE event_id = ANY(%s) AND data ->> 'municipality' <> ''", [list(event_ids)])
        return {row["event_id"]: row["municipality"] for row in self.cur.fetchall()}

    def late_trigger_places(self, outcome_types):
        """{trigger event id: municipality} of the logged triggers of logged events of `outcome_types`
        (notification outcomes) that carry no municipality themselves."""
        self.cur.execute(
            "SELECT DISTINCT t.event_id, t.data ->> 'municipality' AS municipality FROM event_log n"
            " JOIN event_log t ON t.event_id = n.data ->> 'trigger_event_id'"
            " WHERE n.event_type = ANY(%s) AND coalesce(n.data ->> 'municipality', '') = ''"
            " AND t.data ->> 'municipality' <> ''", [list(outcome_types)])
        return {row["event_id"]: row["municipality"] for row in self.cur.fetchall()}

    def lock_appliers(self):
        """One applier at a time across replicas (until the transaction ends): batches never interleave."""
        self.cur.execute("SELECT pg_advisory_xact_lock(hashtext('reporting.apply'))")

    def lock_log(self):
        """Hold off new events (readers go on) until the transaction ends: the rebuild sees a fixed log."""
        self.cur.execute("LOCK TABLE event_log IN SHARE MODE")
        self.cur.execute("SELECT count(*) AS n FROM event_log")
        return self.cur.fetchone()["n"]

    def log_rows(self, batch_size):
        """Every logged event, in log order, fetched `batch_size` at a time through a server-side cursor."""
        with self.cur.connection.cursor(name="replay") as cur:
            cur.itersize = batch_size
            cur.execute(f"SELECT {', '.join(LOG_COLUMNS)} FROM event_log ORDER BY seq")
            yield from cur

    # --- projections, a batch at a time ------------------------------------------------------

    def rows_for(self, table, keys):
        """The rows of `table` whose key (a tuple of strings) is in `keys`."""
        key_columns, _ = UPSERT_TABLES[table]
        columns = [list(values) for values in zip(*keys)]
        self.cur.execute(sql.SQL("SELECT {} FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))").format(
            _columns(columns_of(table)), sql.Identifier(table), _columns(key_columns),
            sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(KEY_TYPES[c])) for c in key_columns)), columns)
        return self.cur.fetchall()

    def write_rows(self, table, rows):
        """Insert or replace whole rows (tuples in column order)."""
        keys, others = UPSERT_TABLES[table]
        execute_values(self.cur, sql.SQL("INSERT INTO {} ({}) VALUES %s ON CONFLICT ({}) DO UPDATE SET {}").format(
            sql.Identifier(table), _columns(keys + others), _columns(keys),
            sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in others),
        ).as_string(self.cur), rows, page_size=PAGE_SIZE)

    def add_counts(self, table, rows):
        """Add counter rows (key columns, then amounts) to what the table holds."""
        keys, values = INCREMENT_TABLES[table]
        execute_values(self.cur, sql.SQL("INSERT INTO {} ({}) VALUES %s ON CONFLICT ({}) DO UPDATE SET {}").format(
            sql.Identifier(table), _columns(keys + values), _columns(keys),
            sql.SQL(", ").join(sql.SQL("{0} = {1}.{0} + excluded.{0}").format(sql.Identifier(v), sql.Identifier(table))
                               for v in values),
        ).as_string(self.cur), rows, page_size=PAGE_SIZE)

    def empty_projections(self):
        """DELETE, not TRUNCATE: the service's runtime role reads and writes rows, nothing more."""
        for table in PROJECTIONS:
            self.cur.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))

    # --- reading the projections ------------------------------------------------------------

    def _rows(self, query, params=()):
        self.cur.execute(query, params)
        return self.cur.fetchall()

    def idea_counts(self, municipality=None, field_of_action=None):
        """Ideas per municipality, field of action, status and channel ('unknown' until known)."""
        where, params = _where({"municipality": municipality, "field_of_action": field_of_action})
        return self._rows("SELECT municipality, field_of_action, status, coalesce(channel, 'unknown') AS channel,"
                          f" count(*) AS ideas FROM ideas{where} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", params)

    def event_counts(self, municipality=None):
        where, params = _where({"municipality": municipality})
        return self._rows("SELECT event_type, municipality, field_of_action, channel, status, events"
                          f" FROM event_counts{where} ORDER BY 1, 2, 3, 4, 5", params)

    def support(self, municipality=None):
        """Current support (sum over rounds of each idea's latest total) per municipality and field."""
        where, params = _where({"municipality": municipality})
        return self._rows("SELECT municipality, field_of_action, sum(total)::bigint AS support"
                          f" FROM votes{where} GROUP BY 1, 2 ORDER BY 1, 2", params)

    def pipeline(self, municipality=None):
        """Ideas that are or were candidates for a pilot, with the board's latest decision and milestones."""
        where, params = _where({"coalesce(i.municipality, d.municipality)": municipality})
        return self._rows(
            "SELECT coalesce(i.idea_id, d.idea_id) AS idea_id,"
            " coalesce(i.municipality, d.municipality) AS municipality,"
            " coalesce(i.field_of_action, d.field_of_action) AS field_of_action, i.title, i.status, i.status_time,"
            " d.decision, d.reason, d.decided_at, d.yes, d.no, d.abstain, d.quorum_met,"
            " coalesce(m.milestones, 0) AS milestones, coalesce(m.reached, 0) AS milestones_reached"
            " FROM (SELECT * FROM ideas WHERE status = ANY(%s) OR idea_id IN (SELECT idea_id FROM pilot_decisions)) i"
            " FULL JOIN pilot_decisions d ON d.idea_id = i.idea_id"
            " LEFT JOIN (SELECT idea_id, count(*) AS milestones, count(reached_at) AS reached FROM milestones"
            "            GROUP BY idea_id) m ON m.idea_id = coalesce(i.idea_id, d.idea_id)"
            f"{where} ORDER BY d.decided_at DESC NULLS LAST, i.status_time DESC, 1", [PIPELINE_STATUSES, *params])

    def milestone_counts(self, municipality=None):
        """Milestones per municipality and state (shared.domain.milestone_state, in SQL)."""
        where, params = _where({"municipality": municipality})
        return self._rows(
            "SELECT municipality, CASE WHEN reached_at IS NOT NULL THEN %s WHEN overdue_at IS NOT NULL THEN %s"
            " ELSE %s END AS state,"
            f" count(*) AS milestones, count(*) FILTER (WHERE on_time) AS on_time FROM milestones{where}"
            " GROUP BY 1, 2 ORDER BY 1, 2", [REACHED, OVERDUE, SCHEDULED, *params])

    def milestones(self, municipality=None, idea_id=None):
        where, params = _where({"municipality": municipality, "idea_id": idea_id})
        return self._rows("SELECT milestone_id, municipality, idea_id, title, due_date, scheduled_at, reached_at,"
                          f" on_time, overdue_at FROM milestones{where} ORDER BY due_date, title, milestone_id",
                          params)

    def participant_counts(self, municipality=None):
        where, params = _where({"municipality": municipality})
        return self._rows(f"SELECT municipality, count(*) AS participants FROM participants{where}"
                          " GROUP BY 1 ORDER BY 1", params)

    def distinct_participants(self, municipality=None):
        where, params = _where({"municipality": municipality})
        return self._rows(f"SELECT count(DISTINCT participant) AS n FROM participants{where}", params)[0]["n"]

    def lag_buckets(self):
        return self._rows("SELECT event_type, le, events, lag_us_sum FROM event_lag ORDER BY event_type, le")

    def last_event(self):
        rows = self._rows("SELECT time, received_at FROM event_log ORDER BY seq DESC LIMIT 1")
        return rows[0] if rows else None

    def rankings(self, municipality=None, field_of_action=None, round_id=None, limit=20):
        """Public ideas by current support (0 without votes), highest first; ties go to the earlier
        publication (unknown last), then the lower idea id: shared.domain.RANKING, as voting ranks.
        An idea with votes but not seen yet counts as published."""
        vote_where, vote_params = _where({"round_id": round_id})
        where, params = _where({"coalesce(i.municipality, v.municipality)": municipality,
                                "coalesce(i.field_of_action, v.field_of_action)": field_of_action})
        return self._rows(
            "SELECT coalesce(i.idea_id, v.idea_id) AS idea_id,"
            " coalesce(i.municipality, v.municipality) AS municipality,"
            " coalesce(i.field_of_action, v.field_of_action) AS field_of_action, i.title, i.status,"
            " coalesce(v.support, 0)::bigint AS support, t.reached_at AS threshold_reached_at"
            " FROM (SELECT * FROM ideas WHERE status = ANY(%s)) i FULL JOIN"
            " (SELECT idea_id, min(municipality) AS municipality, min(field_of_action) AS field_of_action,"
            f"  sum(total) AS support FROM votes{vote_where} GROUP BY idea_id) v ON v.idea_id = i.idea_id"
            " LEFT JOIN support_thresholds t ON t.idea_id = coalesce(i.idea_id, v.idea_id)"
            f"{where}{' AND' if where else ' WHERE'}"
            " (i.idea_id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM ideas x WHERE x.idea_id = v.idea_id))"
            " ORDER BY support DESC, i.published_at ASC NULLS LAST, 1 LIMIT %s",
            [list(PUBLIC_STATUSES), *vote_params, *params, limit])

    def activity_series(self, event_type, start, end, interval, tz, group_by=None, **filters):
        """Events of a type per bucket of `interval` (municipal time) in [start, end), per `group_by` value."""
        where, params = _where({"event_type": event_type, **filters})
        series = sql.Identifier(group_by) if group_by else sql.Literal("")
        return self._rows(sql.SQL(
            "SELECT date_trunc(%s, bucket, %s) AS start, {} AS series, sum(events)::bigint AS events FROM activity"
            f"{where} AND bucket >= %s AND bucket < %s GROUP BY 1, 2 ORDER BY 1, 2").format(series),
            [interval, tz, *params, start, end])

    def idea(self, idea_id):
        """One idea's row with its current support (sum over rounds), or None."""
        rows = self._rows(
            "SELECT i.idea_id, i.municipality, i.field_of_action, i.title, i.channel, i.working_group, i.status,"
            " i.submitted_at, i.published_at, coalesce(sum(v.total), 0)::bigint AS support"
            " FROM ideas i LEFT JOIN votes v ON v.idea_id = i.idea_id WHERE i.idea_id = %s GROUP BY i.idea_id",
            [idea_id])
        return rows[0] if rows else None

    def idea_story(self, idea_id, leave_out):
        """The logged events about an idea, oldest first, without the types in `leave_out` (single votes)."""
        return self._rows("SELECT event_type, time, data FROM event_log WHERE data ? 'idea_id'"
                          " AND data ->> 'idea_id' = %s AND event_type <> ALL(%s) ORDER BY time, seq",
                          [str(idea_id), list(leave_out)])

    def public_ideas(self, municipality=None):
        """The ideas the public may see, with their support: the open-data ideas export."""
        where, params = _where({"municipality": municipality}, prefix="i.")
        return self._rows(
            "SELECT i.idea_id, i.municipality, i.field_of_action, i.title, i.channel, i.working_group, i.status,"
            " i.submitted_at, i.published_at, coalesce(sum(v.total), 0)::bigint AS support"
            f" FROM ideas i LEFT JOIN votes v ON v.idea_id = i.idea_id{where}{' AND' if where else ' WHERE'}"
            " i.status = ANY(%s) GROUP BY i.idea_id ORDER BY i.submitted_at NULLS LAST, i.idea_id",
            params + [list(PUBLIC_STATUSES)])

    def vote_totals(self, municipality=None):
        """Each public idea's latest support total per voting round: the votes export."""
        where, params = _where({"municipality": municipality}, prefix="v.")
        return self._rows(
            "SELECT v.idea_id, v.round_id, v.municipality, v.field_of_action, v.total, v.total_time AS updated_at"
            f" FROM votes v LEFT JOIN ideas i ON i.idea_id = v.idea_id{where}{' AND' if where else ' WHERE'}"
            " coalesce(i.status, %s) = ANY(%s) ORDER BY v.idea_id, v.round_id",
            params + [PUBLISHED, list(PUBLIC_STATUSES)])

    # --- the strategy process ---------------------------------------------------------------

    def entities(self, table, **filters):
        """The rows of a strategy-process table (projector.PROCESS_TABLES) matching `filters`
        (column=value; None: any), in key order."""
        if table not in PROCESS_TABLES:
            raise ValueError(f"{table} is not a strategy-process projection")
        present = [(column, value) for column, value in filters.items() if value is not None]
        where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c, _ in present)
        return self._rows(sql.SQL("SELECT {} FROM {}{} ORDER BY {}").format(
            _columns(columns_of(table)), sql.Identifier(table), sql.SQL(" WHERE ") + where if present else sql.SQL(""),
            _columns(UPSERT_TABLES[table][0])), [value for _, value in present])

    def ideas_by(self, column, municipality=None):
        """Ideas per working group or competition (`column`: working_group_id or competition_id), and how
        many of them are public."""
        if column not in ("working_group_id", "competition_id"):
            raise ValueError(f"ideas are not grouped by {column}")
        where, params = _where({"municipality": municipality})
        return self._rows(sql.SQL(
            "SELECT {0} AS key, count(*) AS ideas, count(*) FILTER (WHERE status = ANY(%s)) AS public_ideas"
            f" FROM ideas{where}{' AND' if where else ' WHERE'} {{0}} IS NOT NULL GROUP BY 1 ORDER BY 1").format(
            sql.Identifier(column)), [list(PUBLIC_STATUSES), *params])

    def comment_counts(self, municipality=None, target_kind=None, target_id=None):
        """Comments per target by state (published, pending, hidden), and how many were reported."""
        where, params = _where({"municipality": municipality, "target_kind": target_kind, "target_id": target_id})
        return self._rows(
            "SELECT target_kind, target_id, count(*) FILTER (WHERE state = %s) AS published,"
            " count(*) FILTER (WHERE state = %s) AS pending, count(*) FILTER (WHERE state = %s) AS hidden,"
            f" count(*) FILTER (WHERE reports > 0) AS reported FROM comments{where}"
            " GROUP BY 1, 2 ORDER BY 1, 2", [VISIBLE, PENDING, HIDDEN, *params])
