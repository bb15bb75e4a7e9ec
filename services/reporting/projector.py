"""Where the domain's effects land: the projection tables' layout, and their rows in memory.

The live consumer loads the rows a batch of events touches, applies the batch and saves what
changed, in one transaction; the rebuild starts from empty tables and saves everything at the end.
Both go through the repository (`rows_for`, `write_rows`, `add_counts`), never SQL of their own.
"""
from collections import defaultdict

from . import domain

# projection table -> (key columns, other columns): the rows domain.Upsert merges
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
# counter table -> (key columns, amounts): what domain.Increment adds to
INCREMENT_TABLES = {
    "event_counts": (DIMENSIONS, ("events",)),
    "activity": (("bucket",) + DIMENSIONS, ("events",)),
    "event_lag": (("event_type", "le"), ("events", "lag_us_sum")),
}
PROJECTIONS = tuple(UPSERT_TABLES) + tuple(INCREMENT_TABLES)


def columns_of(table):
    keys, others = {**UPSERT_TABLES, **INCREMENT_TABLES}[table]
    return keys + others


class MemoryStore:
    """Projection rows and counters as Python dicts: what domain.apply works on."""

    def __init__(self):
        self.rows = defaultdict(dict)      # table -> key -> row
        self.counters = defaultdict(dict)  # table -> key -> amounts

    def get(self, table, key):
        return self.rows[table].get(key)

    def put(self, table, key, row):
        self.rows[table][key] = row

    def add(self, table, key, amounts):
        counter = self.counters[table].get(key)
        if counter is None:
            self.counters[table][key] = dict(amounts)
        else:
            for name, value in amounts.items():
                counter[name] += value

    def load(self, repo, changes):
        """Read the stored rows that `changes` will merge into."""
        keys = defaultdict(set)
        for change in changes:
            if isinstance(change, domain.Upsert):
                keys[change.table].add(change.key)
        for table, wanted in keys.items():
            key_columns = UPSERT_TABLES[table][0]
            for row in repo.rows_for(table, wanted):
                self.rows[table][tuple(str(row[c]) for c in key_columns)] = row

    def tables(self):
        """{table: [row tuples in column order]} for every projection."""
        result = {}
        for table in UPSERT_TABLES:
            columns = columns_of(table)
            result[table] = [tuple(row[c] for c in columns) for row in self.rows[table].values()]
        for table, (_, values) in INCREMENT_TABLES.items():
            result[table] = [key + tuple(amounts[v] for v in values) for key, amounts in self.counters[table].items()]
        return result

    def save(self, repo):
        """Write every row held (replacing the stored one) and add every counter."""
        for table, rows in self.tables().items():
            if rows:
                (repo.write_rows if table in UPSERT_TABLES else repo.add_counts)(table, rows)
