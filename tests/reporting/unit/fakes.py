"""An in-memory ReportingRepository: the same methods and return shapes as the SQL one, in dicts.

It answers each read the way its SQL does (same grouping, filters, NULL handling and order),
and stores what PostgreSQL would give back: UUID columns as UUIDs, the log's `data` through a
JSON round trip. tests/reporting/test_repository.py checks both against each other.
"""
import json
import uuid
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from services.reporting.projector import INCREMENT_TABLES, PROCESS_TABLES, UPSERT_TABLES, columns_of
from services.reporting.repository import PIPELINE_STATUSES
from shared.domain import PUBLIC_STATUSES, PUBLISHED, milestone_state

UUID_COLUMNS = {"idea_id", "round_id", "decision_id", "milestone_id", "notification_id", "working_group_id",
                "competition_id", "sponsorship_id", "sub_concept_id", "strategy_id", "comment_id", "target_id",
                "parent_id", "meeting_id", "survey_id"}
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


def _stored(column, value):
    if column in UUID_COLUMNS and value is not None and not isinstance(value, uuid.UUID):
        return uuid.UUID(str(value))
    return value


def _matches(row, filters):
    return all(value is None or row[column] == value for column, value in filters.items())


def _sorted(rows, *columns):
    return sorted(rows, key=lambda row: tuple(row[c] for c in columns))


class FakeReportingRepository:
    def __init__(self):
        self.log = []  # (event_id, event_type, source, subject, time, received_at, data), in log order
        self.tables = {table: {} for table in UPSERT_TABLES}  # table -> key (strings) -> row
        self.counters = {table: {} for table in INCREMENT_TABLES}  # table -> key -> amounts

    # --- the event log ----------------------------------------------------------------------

    def append(self, events):
        new, known = set(), {entry[0] for entry in self.log}
        for e in events:
            if e.id not in known:
                known.add(e.id)
                new.add(e.id)
                self.log.append((e.id, e.type, e.source, e.subject, e.time, e.received_at,
                                 json.loads(json.dumps(e.data))))
        return new

    def municipalities_of(self, event_ids):
        return {event_id: data["municipality"] for event_id, _, _, _, _, _, data in self.log
                if event_id in event_ids and data.get("municipality")}

    def late_trigger_places(self, outcome_types):
        triggers = {data.get("trigger_event_id") for _, kind, _, _, _, _, data in self.log
                    if kind in outcome_types and not data.get("municipality")}
        return self.municipalities_of(triggers)

    def lock_appliers(self):
        pass  # one process, one transaction at a time

    def lock_log(self):
        return len(self.log)

    def log_rows(self, batch_size):
        yield from self.log

    # --- projections, a batch at a time ------------------------------------------------------

    def rows_for(self, table, keys):
        return [dict(row) for key, row in self.tables[table].items() if key in keys]

    def write_rows(self, table, rows):
        key_columns = UPSERT_TABLES[table][0]
        for values in rows:
            row = {column: _stored(column, value) for column, value in zip(columns_of(table), values)}
            self.tables[table][tuple(str(row[c]) for c in key_columns)] = row

    def add_counts(self, table, rows):
        keys, amounts = INCREMENT_TABLES[table]
        for values in rows:
            counter = self.counters[table].setdefault(tuple(values[:len(keys)]), Counter())
            counter.update(dict(zip(amounts, values[len(keys):])))

    def empty_projections(self):
        for rows in (*self.tables.values(), *self.counters.values()):
            rows.clear()

    # --- reading the projections ------------------------------------------------------------

    def _rows(self, table):
        return [dict(row) for row in self.tables[table].values()]

    def _counts(self, table):
        keys, amounts = INCREMENT_TABLES[table]
        return [{**dict(zip(keys, key)), **{a: counter[a] for a in amounts}}
                for key, counter in self.counters[table].items()]

    @staticmethod
    def _grouped(rows, columns, **aggregates):
        """GROUP BY `columns`, ORDER BY them; aggregates: name -> function of the group's rows."""
        groups = defaultdict(list)
        for row in rows:
            groups[tuple(row[c] for c in columns)].append(row)
        return [{**dict(zip(columns, key)), **{name: f(group) for name, f in aggregates.items()}}
                for key, group in sorted(groups.items())]

    def idea_counts(self, municipality=None, field_of_action=None):
        rows = [{**row, "channel": row["channel"] or "unknown"} for row in self._rows("ideas")
                if _matches(row, {"municipality": municipality, "field_of_action": field_of_action})]
        return self._grouped(rows, ("municipality", "field_of_action", "status", "channel"), ideas=len)

    def event_counts(self, municipality=None):
        rows = [row for row in self._counts("event_counts") if _matches(row, {"municipality": municipality})]
        return _sorted(rows, "event_type", "municipality", "field_of_action", "channel", "status")

    def support(self, municipality=None):
        rows = [row for row in self._rows("votes") if _matches(row, {"municipality": municipality})]
        return self._grouped(rows, ("municipality", "field_of_action"),
                             support=lambda group: sum(row["total"] for row in group))

    def pipeline(self, municipality=None):
        decisions = {row["idea_id"]: row for row in self._rows("pilot_decisions")}
        ideas = {row["idea_id"]: row for row in self._rows("ideas")
                 if row["status"] in PIPELINE_STATUSES or row["idea_id"] in decisions}
        milestones, reached = Counter(), Counter()
        for row in self._rows("milestones"):
            milestones[row["idea_id"]] += 1
            reached[row["idea_id"]] += row["reached_at"] is not None
        rows = []
        for idea_id in {*ideas, *decisions}:
            idea, decision = ideas.get(idea_id, {}), decisions.get(idea_id, {})
            place = idea or decision
            rows.append({
                "idea_id": idea_id, "municipality": place["municipality"], "field_of_action": place["field_of_action"],
                **{c: idea.get(c) for c in ("title", "status", "status_time")},
                **{c: decision.get(c) for c in ("decision", "reason", "decided_at", "yes", "no", "abstain",
                                                "quorum_met")},
                "milestones": milestones[idea_id], "milestones_reached": reached[idea_id]})
        rows = [row for row in rows if _matches(row, {"municipality": municipality})]
        # ORDER BY decided_at DESC NULLS LAST, status_time DESC (NULLS FIRST), idea_id: stable sorts, last key first
        rows.sort(key=lambda row: row["idea_id"])
        rows.sort(key=lambda row: (row["status_time"] is None, row["status_time"] or EARLIEST), reverse=True)
        rows.sort(key=lambda row: (row["decided_at"] is not None, row["decided_at"] or EARLIEST), reverse=True)
        return rows

    def milestone_counts(self, municipality=None):
        rows = [{**row, "state": milestone_state(row["reached_at"], row["overdue_at"])}
                for row in self._rows("milestones") if _matches(row, {"municipality": municipality})]
        return self._grouped(rows, ("municipality", "state"), milestones=len,
                             on_time=lambda group: sum(1 for row in group if row["on_time"]))

    def milestones(self, municipality=None, idea_id=None):
        rows = [row for row in self._rows("milestones")
                if _matches(row, {"municipality": municipality, "idea_id": idea_id})]
        return _sorted(rows, "due_date", "title", "milestone_id")

    def participant_counts(self, municipality=None):
        rows = [row for row in self._rows("participants") if _matches(row, {"municipality": municipality})]
        return self._grouped(rows, ("municipality",), participants=len)

    def distinct_participants(self, municipality=None):
        return len({row["participant"] for row in self._rows("participants")
                    if _matches(row, {"municipality": municipality})})

    def lag_buckets(self):
        return _sorted(self._counts("event_lag"), "event_type", "le")

    def last_event(self):
        if not self.log:
            return None
        _, _, _, _, when, received_at, _ = self.log[-1]
        return {"time": when, "received_at": received_at}

    def rankings(self, municipality=None, field_of_action=None, round_id=None, limit=20):
        ideas = {row["idea_id"]: row for row in self._rows("ideas")}
        thresholds = {row["idea_id"]: row["reached_at"] for row in self._rows("support_thresholds")}
        support, place = Counter(), {}
        for vote in self._rows("votes"):
            if _matches(vote, {"round_id": round_id}):
                support[vote["idea_id"]] += vote["total"]
                old = place.get(vote["idea_id"], (vote["municipality"], vote["field_of_action"]))
                place[vote["idea_id"]] = min(old[0], vote["municipality"]), min(old[1], vote["field_of_action"])
        rows = []
        for idea_id in {*(i for i, row in ideas.items() if row["status"] in PUBLIC_STATUSES), *place}:
            idea = ideas.get(idea_id)
            if idea is not None and idea["status"] not in PUBLIC_STATUSES:
                continue  # known, and not public
            m, f = (idea["municipality"], idea["field_of_action"]) if idea else place[idea_id]
            if _matches({"municipality": m, "field_of_action": f},
                        {"municipality": municipality, "field_of_action": field_of_action}):
                rows.append({"idea_id": idea_id, "municipality": m, "field_of_action": f,
                             "title": idea and idea["title"], "status": idea and idea["status"],
                             "support": support[idea_id], "threshold_reached_at": thresholds.get(idea_id),
                             "published_at": idea and idea["published_at"]})
        # support DESC, published_at ASC NULLS LAST, idea_id
        rows.sort(key=lambda r: (-r["support"], r["published_at"] is None, r["published_at"] or EARLIEST,
                                 r["idea_id"]))
        return [{k: v for k, v in row.items() if k != "published_at"} for row in rows[:limit]]

    def activity_series(self, event_type, start, end, interval, tz, group_by=None, **filters):
        zone, events = ZoneInfo(tz), Counter()
        for row in self._counts("activity"):
            if _matches(row, {"event_type": event_type, **filters}) and start <= row["bucket"] < end:
                events[_truncated(row["bucket"], interval, zone), row[group_by] if group_by else ""] += row["events"]
        return [{"start": bucket, "series": series, "events": n} for (bucket, series), n in sorted(events.items())]

    def idea(self, idea_id):
        support = sum(vote["total"] for vote in self._rows("votes") if vote["idea_id"] == idea_id)
        for row in self._rows("ideas"):
            if row["idea_id"] == idea_id:
                return {c: row[c] for c in ("idea_id", "municipality", "field_of_action", "title", "channel",
                                            "working_group", "status", "submitted_at", "published_at")} | {
                    "support": support}
        return None

    def idea_story(self, idea_id, leave_out):
        rows = [{"event_type": kind, "time": when, "data": data, "seq": seq}
                for seq, (_, kind, _, _, when, _, data) in enumerate(self.log)
                if data.get("idea_id") == str(idea_id) and kind not in leave_out]
        return [{k: row[k] for k in ("event_type", "time", "data")} for row in _sorted(rows, "time", "seq")]

    def public_ideas(self, municipality=None):
        support = Counter()
        for vote in self._rows("votes"):
            support[vote["idea_id"]] += vote["total"]
        rows = [{c: row[c] for c in ("idea_id", "municipality", "field_of_action", "title", "channel",
                                     "working_group", "status", "submitted_at", "published_at")}
                | {"support": support[row["idea_id"]]}
                for row in self._rows("ideas")
                if _matches(row, {"municipality": municipality}) and row["status"] in PUBLIC_STATUSES]
        # ORDER BY submitted_at (NULLS LAST), idea_id
        return sorted(rows, key=lambda row: (row["submitted_at"] is None, row["submitted_at"] or EARLIEST,
                                             row["idea_id"]))

    def vote_totals(self, municipality=None):
        ideas = {row["idea_id"]: row for row in self._rows("ideas")}
        rows = [{c: vote[c] for c in ("idea_id", "round_id", "municipality", "field_of_action", "total")}
                | {"updated_at": vote["total_time"]}
                for vote in self._rows("votes")
                if _matches(vote, {"municipality": municipality})
                and (ideas.get(vote["idea_id"], {}).get("status") or PUBLISHED) in PUBLIC_STATUSES]
        return _sorted(rows, "idea_id", "round_id")

    # --- the strategy process ---------------------------------------------------------------

    def entities(self, table, **filters):
        if table not in PROCESS_TABLES:
            raise ValueError(f"{table} is not a strategy-process projection")
        rows = [row for row in self._rows(table) if _matches(row, filters)]
        return _sorted(rows, *UPSERT_TABLES[table][0])

    def ideas_by(self, column, municipality=None):
        if column not in ("working_group_id", "competition_id"):
            raise ValueError(f"ideas are not grouped by {column}")
        rows = [row for row in self._rows("ideas")
                if _matches(row, {"municipality": municipality}) and row[column] is not None]
        return [{"key": group[column], "ideas": group["ideas"], "public_ideas": group["public_ideas"]}
                for group in self._grouped(rows, (column,), ideas=len, public_ideas=lambda g: sum(
                    1 for row in g if row["status"] in PUBLIC_STATUSES))]

    def comment_counts(self, municipality=None, target_kind=None, target_id=None):
        rows = [row for row in self._rows("comments")
                if _matches(row, {"municipality": municipality, "target_kind": target_kind, "target_id": target_id})]
        return self._grouped(rows, ("target_kind", "target_id"),
                             **{state: (lambda s: lambda g: sum(1 for row in g if row["state"] == s))(state)
                                for state in ("published", "pending", "hidden")},
                             reported=lambda g: sum(1 for row in g if row["reports"] > 0))


def _truncated(moment, interval, zone):
    """PostgreSQL's date_trunc(interval, moment, zone), in UTC: local times in one zone compare by
    wall clock, so the two 02:00 hours of the autumn DST change would be one."""
    local = moment.astimezone(zone)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(timezone.utc)
    day = local.date()
    if interval == "week":
        day -= timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    return datetime.combine(day, time(), zone).astimezone(timezone.utc)
