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
                             "status_time", "status_event", "submitted_at", "published_at", "working_group_id",
                             "competition_id")),
    "votes": (("idea_id", "round_id"), ("municipality", "field_of_action", "total", "total_time", "total_event")),
    "support_thresholds": (("idea_id",), ("municipality", "field_of_action", "threshold", "reached_at")),
    "pilot_decisions": (("idea_id",), ("municipality", "field_of_action", "decision", "reason", "decision_id", "yes",
                                       "no", "abstain", "quorum_met", "decided_at", "decision_event")),
    "milestones": (("milestone_id",), ("municipality", "idea_id", "title", "due_date", "scheduled_at", "reached_at",
                                       "on_time", "overdue_at")),
    "notifications": (("notification_id",), ("channel", "trigger_type", "outcome", "attempts", "outcome_time",
                                             "outcome_event")),
    "participants": (("municipality", "participant"), ("first_seen",)),
    # the strategy process (process.py)
    "working_groups": (("working_group_id",), ("municipality", "name", "kind", "field_of_action", "created_at")),
    "group_members": (("working_group_id", "member"), ("municipality", "present", "member_time", "member_event")),
    "competitions": (("competition_id",), ("municipality", "field_of_action", "theme", "opens_at", "closes_at",
                                           "jury_size", "opened_at", "closed_at")),
    "competition_shortlist": (("competition_id", "idea_id"), ("municipality", "shortlisted_at")),
    "sponsorships": (("sponsorship_id",), ("idea_id", "municipality", "field_of_action", "sponsor_kind",
                                           "public_name", "offered_at", "accepted_at")),
    "sub_concepts": (("sub_concept_id",), ("municipality", "working_group_id", "title", "field_of_action",
                                           "drafted_at", "submitted_at", "ideas_submitted")),
    "idea_integrations": (("idea_id",), ("sub_concept_id", "working_group_id", "municipality", "field_of_action",
                                         "integrated_at")),
    "strategy_versions": (("strategy_id", "version"), ("municipality", "title", "feedback_until", "published_at",
                                                       "feedback_closed_at", "comments_at_close", "outcome",
                                                       "council_date", "reason", "decided_at", "decision_event")),
    "strategy_sub_concepts": (("strategy_id", "version", "sub_concept_id"), ("municipality",)),
    "comments": (("comment_id",), ("municipality", "target_kind", "target_id", "parent_id", "state", "state_time",
                                   "state_event", "reports", "posted_at")),
    "meetings": (("meeting_id",), ("municipality", "working_group_id", "kind", "title", "starts_at", "ends_at",
                                   "place", "online_url", "capacity", "scheduled_at", "cancelled_at",
                                   "cancel_reason", "registered", "registered_time", "registered_event")),
    "surveys": (("survey_id",), ("municipality", "title", "conducted_by", "period_start", "period_end",
                                 "imported_at")),
    "survey_results": (("survey_id", "position"), ("municipality", "question", "answer", "count")),
}
# the strategy process's tables (process.py), read by ReportingRepository.entities
PROCESS_TABLES = ("working_groups", "group_members", "competitions", "competition_shortlist", "sponsorships",
                  "sub_concepts", "idea_integrations", "strategy_versions", "strategy_sub_concepts", "comments",
                  "meetings", "surveys", "survey_results")
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
