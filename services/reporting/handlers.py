"""Use cases of the reporting service: apply an event once; answer the dashboards' questions."""
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from shared.errors import InvalidInput, NotFound

from . import domain, exports, repository as repo
from .projector import MemoryStore

MAX_BUCKETS = 2000


def record_events(pool, envelopes):
    """Log a batch of events and update every projection, in one transaction; returns the ids applied now.

    Ids already in the log (redeliveries) are left out, so each event counts once.
    """
    received_at = datetime.now(timezone.utc)
    events = [domain.to_logged(envelope, received_at) for envelope in envelopes]
    with pool.transaction() as cur:
        repo.lock_appliers(cur)
        new = repo.append(cur, events)
        fresh = list({event.id: event for event in events if event.id in new}.values())
        changes = [change for event in fresh for change in domain.effects(event)]
        store = MemoryStore()
        store.load(cur, changes)
        domain.apply(store, changes)
        store.save(cur)
    return new


# --- read side --------------------------------------------------------------------------

def _stage_counts(rows):
    counts = Counter(_stage(row) for row in rows)
    return {stage: counts.get(stage, 0) for stage in domain.PIPELINE_STAGES}


def _stage(row):
    return domain.pipeline_stage(row["status"], row["status_time"], row["decision"], row["decided_at"])


def _milestone_stats(rows):
    states = Counter()
    on_time = 0
    for row in rows:
        states[row["state"]] += row["milestones"]
        on_time += row["on_time"]
    return {**{state: states.get(state, 0) for state in domain.MILESTONE_STATES},
            "on_time_rate": domain.on_time_rate(on_time, states.get("reached", 0))}


def _event_totals(counts, event_type, key=None):
    """Sum of an event type's counts, by `key(row)` when given."""
    rows = [row for row in counts if row["event_type"] == event_type]
    if key is None:
        return sum(row["events"] for row in rows)
    totals = Counter()
    for row in rows:
        totals[key(row)] += row["events"]
    return dict(totals)


def summary(pool, query):
    municipality = query.get("municipality")
    with pool.transaction() as cur:
        ideas = repo.idea_counts(cur, municipality)
        counts = repo.event_counts(cur)
        support = repo.support(cur, municipality)
        pipeline = repo.pipeline(cur, municipality)
        milestones = repo.milestone_counts(cur, municipality)
        participants = repo.distinct_participants(cur, municipality)
        last = repo.last_event(cur)
    by_status, by_channel, by_field = Counter(), Counter(), Counter()
    for row in ideas:
        by_status[row["status"]] += row["ideas"]
        by_channel[row["channel"]] += row["ideas"]
        by_field[row["field_of_action"]] += row["ideas"]
    in_scope = [row for row in counts if municipality is None or row["municipality"] in (municipality, "")]
    return {
        "municipality": municipality,
        "ideas": {"total": sum(by_status.values()), "by_status": dict(by_status), "by_channel": dict(by_channel),
                  "by_field": dict(by_field)},
        "votes": {"cast": _event_totals(in_scope, "VoteCast"), "withdrawn": _event_totals(in_scope, "VoteWithdrawn"),
                  "support": sum(row["support"] for row in support)},
        "pilots": _stage_counts(pipeline),
        "milestones": _milestone_stats(milestones),
        "notifications": {outcome: _event_totals(in_scope, event_type, lambda r: r["channel"])
                          for event_type, outcome in domain.OUTCOME_OF.items()},
        "participants": participants,
        "events_applied": sum(row["events"] for row in in_scope),
        "last_event_time": last["time"] if last else None,
        "last_applied_at": last["received_at"] if last else None,
    }


def fields(pool, query):
    municipality = query.get("municipality")
    with pool.transaction() as cur:
        ideas = repo.idea_counts(cur, municipality)
        counts = repo.event_counts(cur, municipality)
        support = repo.support(cur, municipality)
        pipeline = repo.pipeline(cur, municipality)
    per_field = defaultdict(lambda: {"ideas": 0, "by_status": Counter(), "votes_cast": 0, "support": 0,
                                     "pilots": Counter()})
    for row in ideas:
        entry = per_field[row["municipality"], row["field_of_action"]]
        entry["ideas"] += row["ideas"]
        entry["by_status"][row["status"]] += row["ideas"]
    for row in counts:
        if row["event_type"] == "VoteCast":
            per_field[row["municipality"], row["field_of_action"]]["votes_cast"] += row["events"]
    for row in support:
        per_field[row["municipality"], row["field_of_action"]]["support"] += row["support"]
    for row in pipeline:
        stage = _stage(row)
        if stage:
            per_field[row["municipality"], row["field_of_action"]]["pilots"][stage] += 1
    return [{"municipality": m, "field_of_action": f, **entry, "by_status": dict(entry["by_status"]),
             "pilots": dict(entry["pilots"])} for (m, f), entry in sorted(per_field.items())]


def pilots(pool, query):
    with pool.transaction() as cur:
        rows = repo.pipeline(cur, query.get("municipality"))
    items = [{**row, "stage": _stage(row)} for row in rows]
    items = [item for item in items if item["stage"] and query.get("stage") in (None, item["stage"])]
    return {"pipeline": _stage_counts(rows), "items": items}


def milestones(pool, query):
    with pool.transaction() as cur:
        rows = repo.milestones(cur, query.get("municipality"), query.get("idea_id"))
    items = [{**row, "state": domain.milestone_state(row["reached_at"], row["overdue_at"])} for row in rows]
    reached = [item for item in items if item["state"] == "reached"]
    stats = {**{state: sum(1 for i in items if i["state"] == state) for state in domain.MILESTONE_STATES},
             "on_time_rate": domain.on_time_rate(sum(1 for i in reached if i["on_time"]), len(reached))}
    if query.get("state"):
        items = [item for item in items if item["state"] == query["state"]]
    return {"stats": stats, "items": items}


def rankings(pool, query):
    with pool.transaction() as cur:
        return repo.rankings(cur, query.get("municipality"), query.get("field"), query.get("round_id"),
                             query["limit"])


def timeseries(pool, query):
    """Events of one type per interval, zero-filled, optionally one series per value of `group_by`."""
    last_day = query.get("to") or domain.municipal_today()
    first_day = query.get("from") or last_day - timedelta(days=29)
    if first_day > last_day:
        raise InvalidInput("`from` is after `to`", {"from": ["must not be after `to`"]})
    if domain.bucket_count(first_day, last_day, query["interval"]) > MAX_BUCKETS:
        raise InvalidInput("too many buckets", {"interval": [
            f"{query['interval']} buckets from {first_day} to {last_day} exceed {MAX_BUCKETS}; widen the interval"]})
    starts = domain.bucket_starts(first_day, last_day, query["interval"])
    end = domain.day_start(last_day + timedelta(days=1))
    filters = {column: query.get(name) for name, column in (("municipality", "municipality"),
               ("field", "field_of_action"), ("channel", "channel"), ("status", "status"))}
    with pool.transaction() as cur:
        rows = repo.activity_series(cur, query["type"], starts[0], end, query["interval"],
                                    domain.MUNICIPAL_TZ.key, query.get("group_by"), **filters)
    found = defaultdict(dict)
    for row in rows:
        found[row["series"]][row["start"]] = row["events"]
    series = [{"key": key, "points": [{"start": start, "events": values.get(start, 0)} for start in starts]}
              for key, values in sorted(found.items())]
    return {"type": query["type"], "interval": query["interval"], "from": first_day, "to": last_day,
            "group_by": query.get("group_by"), "series": series or [
                {"key": "", "points": [{"start": start, "events": 0} for start in starts]}]}


def dashboard_data(pool, query):
    """What the built-in dashboard shows: the summary and the last 30 days of submissions."""
    today = domain.municipal_today()
    return {
        "summary": summary(pool, query),
        "submissions": timeseries(pool, {**query, "type": "IdeaSubmitted", "interval": "day",
                                         "from": today - timedelta(days=29), "to": today}),
        "milestones": milestones(pool, query)["items"],
    }


def _export_rows(pool, dataset, municipality):
    if dataset == "pilots":
        return pilots(pool, {"municipality": municipality})["items"]
    if dataset == "milestones":
        return milestones(pool, {"municipality": municipality})["items"]
    with pool.transaction() as cur:
        return (repo.public_ideas if dataset == "ideas" else repo.vote_totals)(cur, municipality)


def export(pool, dataset, query):
    """(body, content type) of an open-data export."""
    if dataset not in exports.DATASETS:
        raise NotFound(f"dataset {dataset!r} (there are: {', '.join(exports.DATASETS)})")
    return exports.render(dataset, _export_rows(pool, dataset, query.get("municipality")), query["format"])


def datasets():
    return [{"name": name, "description": d.description, "columns": d.columns, "formats": list(exports.FORMATS)}
            for name, d in exports.DATASETS.items()]
