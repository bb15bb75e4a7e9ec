"""PostgreSQL adapter of the reporting service: every SQL statement lives here. Takes a cursor."""
from psycopg2 import sql
from psycopg2.extras import Json, execute_values

# projection table -> (key columns, other columns)
UPSERT_TABLES = {
    "ideas": (("idea_id",), ("municipality", "field_of_action", "title", "channel", "working_group", "status",
                             "status_time", "status_event", "submitted_at", "published_at")),
    "votes": (("idea_id", "round_id"), ("municipality", "field_of_action", "total", "total_time", "total_event")),
    "support_thresholds": (("idea_id",), ("municipality", "field_of_action", "threshold", "reached_at")),
    "pilot_decisions": (("idea_id",), ("municipality", "field_of_action", "decision", "reason", "decision_id", "yes",
                                       "no", "abstain", "quorum_met", "decided_at", "decision_event")),
    "milestones": (("milestone_id",), ("municipality", "idea_id", "title", "due_date", "scheduled_at", "reached_at",
                                       "on_time", "overdue_at")),
    "notifications": (("notification_id",), ("channel", "trigger_type", "outcome", "attempts", "outcome_time",
                                             "outcome_event")),
    "participants": (("municipality", "participant"), ("first_seen",)),
}
DIMENSIONS = ("event_type", "municipality", "field_of_action", "channel", "status")
INCREMENT_TABLES = {
    "event_counts": (DIMENSIONS, ("events",)),
    "activity": (("bucket",) + DIMENSIONS, ("events",)),
    "event_lag": (("event_type", "le"), ("events", "lag_us_sum")),
}
PROJECTIONS = tuple(UPSERT_TABLES) + tuple(INCREMENT_TABLES)
KEY_TYPES = {"idea_id": "uuid", "round_id": "uuid", "milestone_id": "uuid", "notification_id": "uuid",
             "municipality": "text", "participant": "text"}
LOG_COLUMNS = ("event_id", "event_type", "source", "subject", "time", "received_at", "data")


def _columns(names):
    return sql.SQL(", ").join(map(sql.Identifier, names))


# --- the event log ----------------------------------------------------------------------

def append(cur, events):
    """Add events to the log; returns the ids that were new (the others are redeliveries)."""
    rows = execute_values(
        cur, "INSERT INTO event_log (event_id, event_type, source, subject, time, received_at, data) VALUES %s"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
        [(e.id, e.type, e.source, e.subject, e.time, e.received_at, Json(e.data)) for e in events], fetch=True)
    return {row["event_id"] for row in rows}


def lock_appliers(cur):
    """One applier at a time across replicas (until the transaction ends): batches never interleave."""
    cur.execute("SELECT pg_advisory_xact_lock(hashtext('reporting.apply'))")


def lock_log(cur):
    """Hold off new events (readers go on) until the transaction ends: the rebuild sees a fixed log."""
    cur.execute("LOCK TABLE event_log IN SHARE MODE")
    cur.execute("SELECT count(*) AS n FROM event_log")
    return cur.fetchone()["n"]


def log_rows(conn, batch_size):
    """Every logged event, in log order, fetched `batch_size` at a time through a server-side cursor."""
    with conn.cursor(name="replay") as cur:
        cur.itersize = batch_size
        cur.execute(f"SELECT {', '.join(LOG_COLUMNS)} FROM event_log ORDER BY seq")
        yield from cur


# --- projections, a batch at a time ------------------------------------------------------

def rows_for(cur, table, keys):
    """The rows of `table` whose key (a tuple of strings) is in `keys`."""
    key_columns, _ = UPSERT_TABLES[table]
    columns = [list(values) for values in zip(*keys)]
    cur.execute(sql.SQL("SELECT {} FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))").format(
        _columns(columns_of(table)), sql.Identifier(table), _columns(key_columns),
        sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(KEY_TYPES[c])) for c in key_columns)), columns)
    return cur.fetchall()


def write_rows(cur, table, rows, page_size=1000):
    """Insert or replace whole rows (tuples in column order)."""
    keys, others = UPSERT_TABLES[table]
    execute_values(cur, sql.SQL("INSERT INTO {} ({}) VALUES %s ON CONFLICT ({}) DO UPDATE SET {}").format(
        sql.Identifier(table), _columns(keys + others), _columns(keys),
        sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in others),
    ).as_string(cur), rows, page_size=page_size)


def add_counts(cur, table, rows, page_size=1000):
    """Add counter rows (key columns, then amounts) to what the table holds."""
    keys, values = INCREMENT_TABLES[table]
    execute_values(cur, sql.SQL("INSERT INTO {} ({}) VALUES %s ON CONFLICT ({}) DO UPDATE SET {}").format(
        sql.Identifier(table), _columns(keys + values), _columns(keys),
        sql.SQL(", ").join(sql.SQL("{0} = {1}.{0} + excluded.{0}").format(sql.Identifier(v), sql.Identifier(table))
                           for v in values),
    ).as_string(cur), rows, page_size=page_size)


def truncate_projections(cur):
    cur.execute(sql.SQL("TRUNCATE {}").format(_columns(PROJECTIONS)))


def columns_of(table):
    keys, others = {**UPSERT_TABLES, **INCREMENT_TABLES}[table]
    return keys + others


# --- reading the projections ------------------------------------------------------------

PUBLIC_STATUSES = ("published", "shortlisted", "pilot", "in_implementation", "completed")


def _where(filters, prefix=""):
    """(' WHERE a = %s AND ...', params) for the filters that are not None."""
    present = [(column, value) for column, value in filters.items() if value is not None]
    if not present:
        return "", []
    return " WHERE " + " AND ".join(f"{prefix}{column} = %s" for column, _ in present), [v for _, v in present]


def idea_counts(cur, municipality=None, field_of_action=None):
    """Ideas per municipality, field of action, status and channel ('unknown' until known)."""
    where, params = _where({"municipality": municipality, "field_of_action": field_of_action})
    cur.execute("SELECT municipality, field_of_action, status, coalesce(channel, 'unknown') AS channel,"
                f" count(*) AS ideas FROM ideas{where} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", params)
    return cur.fetchall()


def event_counts(cur, municipality=None):
    where, params = _where({"municipality": municipality})
    cur.execute("SELECT event_type, municipality, field_of_action, channel, status, events"
                f" FROM event_counts{where} ORDER BY 1, 2, 3, 4, 5", params)
    return cur.fetchall()


def support(cur, municipality=None):
    """Current support (sum over rounds of each idea's latest total) per municipality and field."""
    where, params = _where({"municipality": municipality})
    cur.execute("SELECT municipality, field_of_action, sum(total)::bigint AS support"
                f" FROM votes{where} GROUP BY 1, 2 ORDER BY 1, 2", params)
    return cur.fetchall()


def pipeline(cur, municipality=None):
    """Ideas that are or were candidates for a pilot, with the board's latest decision and milestones."""
    where, params = _where({"coalesce(i.municipality, d.municipality)": municipality})
    cur.execute(
        "SELECT coalesce(i.idea_id, d.idea_id) AS idea_id, coalesce(i.municipality, d.municipality) AS municipality,"
        " coalesce(i.field_of_action, d.field_of_action) AS field_of_action, i.title, i.status, i.status_time,"
        " d.decision, d.reason, d.decided_at, d.yes, d.no, d.abstain, d.quorum_met,"
        " coalesce(m.milestones, 0) AS milestones, coalesce(m.reached, 0) AS milestones_reached"
        " FROM (SELECT * FROM ideas WHERE status IN ('shortlisted', 'pilot', 'in_implementation', 'completed')"
        "       OR idea_id IN (SELECT idea_id FROM pilot_decisions)) i"
        " FULL JOIN pilot_decisions d ON d.idea_id = i.idea_id"
        " LEFT JOIN (SELECT idea_id, count(*) AS milestones, count(reached_at) AS reached FROM milestones"
        "            GROUP BY idea_id) m ON m.idea_id = coalesce(i.idea_id, d.idea_id)"
        f"{where} ORDER BY d.decided_at DESC NULLS LAST, i.status_time DESC, 1", params)
    return cur.fetchall()


def milestone_counts(cur, municipality=None):
    where, params = _where({"municipality": municipality})
    cur.execute(
        "SELECT municipality, CASE WHEN reached_at IS NOT NULL THEN 'reached'"
        " WHEN overdue_at IS NOT NULL THEN 'overdue' ELSE 'scheduled' END AS state,"
        f" count(*) AS milestones, count(*) FILTER (WHERE on_time) AS on_time FROM milestones{where}"
        " GROUP BY 1, 2 ORDER BY 1, 2", params)
    return cur.fetchall()


def milestones(cur, municipality=None, idea_id=None):
    where, params = _where({"municipality": municipality, "idea_id": idea_id})
    cur.execute("SELECT milestone_id, municipality, idea_id, title, due_date, scheduled_at, reached_at, on_time,"
                f" overdue_at FROM milestones{where} ORDER BY due_date, title, milestone_id", params)
    return cur.fetchall()


def participant_counts(cur, municipality=None):
    where, params = _where({"municipality": municipality})
    cur.execute(f"SELECT municipality, count(*) AS participants FROM participants{where} GROUP BY 1 ORDER BY 1",
                params)
    return cur.fetchall()


def distinct_participants(cur, municipality=None):
    where, params = _where({"municipality": municipality})
    cur.execute(f"SELECT count(DISTINCT participant) AS n FROM participants{where}", params)
    return cur.fetchone()["n"]


def lag_buckets(cur):
    cur.execute("SELECT event_type, le, events, lag_us_sum FROM event_lag ORDER BY event_type, le")
    return cur.fetchall()


def last_event(cur):
    cur.execute("SELECT time, received_at FROM event_log ORDER BY seq DESC LIMIT 1")
    return cur.fetchone()


def rankings(cur, municipality=None, field_of_action=None, round_id=None, limit=20):
    """Public ideas by current support, highest first."""
    where, params = _where({"municipality": municipality, "field_of_action": field_of_action,
                            "round_id": round_id}, prefix="v.")
    cur.execute(
        "SELECT v.idea_id, v.municipality, v.field_of_action, i.title, i.status, sum(v.total)::bigint AS support,"
        " t.reached_at AS threshold_reached_at FROM votes v"
        " LEFT JOIN ideas i ON i.idea_id = v.idea_id LEFT JOIN support_thresholds t ON t.idea_id = v.idea_id"
        f"{where}{' AND' if where else ' WHERE'} coalesce(i.status, 'published') = ANY(%s)"
        " GROUP BY 1, 2, 3, 4, 5, 7 ORDER BY support DESC, v.idea_id LIMIT %s",
        params + [list(PUBLIC_STATUSES), limit])
    return cur.fetchall()


def activity_series(cur, event_type, start, end, interval, tz, group_by=None, **filters):
    """Events of a type per bucket of `interval` (municipal time) in [start, end), per `group_by` value."""
    where, params = _where({"event_type": event_type, **filters})
    series = sql.Identifier(group_by) if group_by else sql.Literal("")
    cur.execute(sql.SQL(
        "SELECT date_trunc(%s, bucket, %s) AS start, {} AS series, sum(events)::bigint AS events FROM activity"
        f"{where} AND bucket >= %s AND bucket < %s GROUP BY 1, 2 ORDER BY 1, 2").format(series),
        [interval, tz, *params, start, end])
    return cur.fetchall()


def public_ideas(cur, municipality=None):
    """The ideas the public may see, with their support: the open-data ideas export."""
    where, params = _where({"municipality": municipality}, prefix="i.")
    cur.execute(
        "SELECT i.idea_id, i.municipality, i.field_of_action, i.title, i.channel, i.working_group, i.status,"
        " i.submitted_at, i.published_at, coalesce(sum(v.total), 0)::bigint AS support"
        f" FROM ideas i LEFT JOIN votes v ON v.idea_id = i.idea_id{where}{' AND' if where else ' WHERE'}"
        " i.status = ANY(%s) GROUP BY i.idea_id ORDER BY i.submitted_at NULLS LAST, i.idea_id",
        params + [list(PUBLIC_STATUSES)])
    return cur.fetchall()


def vote_totals(cur, municipality=None):
    """Each public idea's latest support total per voting round: the votes export."""
    where, params = _where({"municipality": municipality}, prefix="v.")
    cur.execute(
        "SELECT v.idea_id, v.round_id, v.municipality, v.field_of_action, v.total, v.total_time AS updated_at"
        f" FROM votes v LEFT JOIN ideas i ON i.idea_id = v.idea_id{where}{' AND' if where else ' WHERE'}"
        " coalesce(i.status, 'published') = ANY(%s) ORDER BY v.idea_id, v.round_id",
        params + [list(PUBLIC_STATUSES)])
    return cur.fetchall()
