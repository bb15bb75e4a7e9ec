"""The read side of reporting: the dashboards' questions, answered from the projections.

Each query reads in one transaction of its unit of work and never writes; recording.py is the
only writer. Results are plain dicts and lists, shaped as the HTTP responses (schemas.py).
"""
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta, timezone

from shared.domain import (MILESTONE_STATES, MUNICIPAL_TZ, PUBLIC_STATUSES, REACHED, milestone_state,
                           municipal_today)
from shared.errors import InvalidInput, NotFound

from . import domain, exports, process_queries
from .commands import Meetings, Milestones, Pilots, Place, Timeseries

MAX_BUCKETS = 2000


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
    return {**{state: states.get(state, 0) for state in MILESTONE_STATES},
            "on_time_rate": domain.on_time_rate(on_time, states.get(REACHED, 0))}


def _event_totals(counts, event_type, key=None):
    """Sum of an event type's counts, by `key(row)` when given."""
    rows = [row for row in counts if row["event_type"] == event_type]
    if key is None:
        return sum(row["events"] for row in rows)
    totals = Counter()
    for row in rows:
        totals[key(row)] += row["events"]
    return dict(totals)


def ensure_known(municipality, known, counts):
    """NotFound naming `municipality` unless the ideas service lists it (`known`: slugs, empty while it
    has not answered; None: do not check) or an event of it was applied (`counts`: event_counts rows)."""
    if municipality is None or known is None or municipality in known:
        return
    if any(row["municipality"] == municipality for row in counts):
        return
    raise NotFound(f"municipality {municipality!r}")


def summary(uow, query, known=None):
    """Ideas, votes, pilots, milestones, notifications and participation of one place (`Place`);
    `known`: the municipalities the ideas service lists (see ensure_known)."""
    municipality = query.municipality
    with uow:
        repo = uow.repo
        counts = repo.event_counts()
        ensure_known(municipality, known, counts)
        ideas = repo.idea_counts(municipality)
        support = repo.support(municipality)
        pipeline = repo.pipeline(municipality)
        milestone_rows = repo.milestone_counts(municipality)
        participants = repo.distinct_participants(municipality)
        last = repo.last_event()
    by_status, by_channel, by_field = Counter(), Counter(), Counter()
    for row in ideas:
        by_status[row["status"]] += row["ideas"]
        by_channel[row["channel"]] += row["ideas"]
        by_field[row["field_of_action"]] += row["ideas"]
    # Notifications carry their trigger's municipality (older ones got it from the log when applied);
    # one whose trigger is not known counts only for all places.
    in_scope = [row for row in counts if municipality is None or row["municipality"] == municipality]
    return {
        "municipality": municipality,
        "ideas": {"total": sum(by_status.values()), "by_status": dict(by_status), "by_channel": dict(by_channel),
                  "by_field": dict(by_field)},
        "votes": {"cast": _event_totals(in_scope, "VoteCast"), "withdrawn": _event_totals(in_scope, "VoteWithdrawn"),
                  "support": sum(row["support"] for row in support)},
        "pilots": _stage_counts(pipeline),
        "milestones": _milestone_stats(milestone_rows),
        "notifications": {outcome: _event_totals(in_scope, event_type, lambda r: r["channel"])
                          for event_type, outcome in domain.OUTCOME_OF.items()},
        "participants": participants,
        "events_applied": sum(row["events"] for row in in_scope),
        "last_event_time": last["time"] if last else None,
        "last_applied_at": last["received_at"] if last else None,
    }


def fields(uow, query, known=None):
    """The same per municipality and field of action (`Place`)."""
    municipality = query.municipality
    with uow:
        repo = uow.repo
        counts = repo.event_counts(municipality)
        ensure_known(municipality, known, counts)
        ideas = repo.idea_counts(municipality)
        support = repo.support(municipality)
        pipeline = repo.pipeline(municipality)
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


def pilots(uow, query):
    """The pilot pipeline's counts per stage, and its ideas (of `query.stage` only, when given)."""
    with uow:
        rows = uow.repo.pipeline(query.municipality)
    items = [{**row, "stage": _stage(row)} for row in rows]
    items = [item for item in items if item["stage"] and query.stage in (None, item["stage"])]
    return {"pipeline": _stage_counts(rows), "items": items}


def milestones(uow, query):
    """The milestone timeline with each one's state; stats count every state whatever `query.state` keeps."""
    with uow:
        rows = uow.repo.milestones(query.municipality, query.idea_id)
    items = [{**row, "state": milestone_state(row["reached_at"], row["overdue_at"])} for row in rows]
    reached = [item for item in items if item["state"] == REACHED]
    stats = {**{state: sum(1 for i in items if i["state"] == state) for state in MILESTONE_STATES},
             "on_time_rate": domain.on_time_rate(sum(1 for i in reached if i["on_time"]), len(reached))}
    if query.state:
        items = [item for item in items if item["state"] == query.state]
    return {"stats": stats, "items": items}


def rankings(uow, query):
    """Public ideas by support (shared.domain.RANKING), numbered from 1."""
    with uow:
        rows = uow.repo.rankings(query.municipality, query.field_of_action, query.round_id, query.limit)
    return [{**row, "rank": position} for position, row in enumerate(rows, start=1)]


def timeseries(uow, query):
    """Events of one type per interval, zero-filled, optionally one series per value of `group_by`."""
    last_day = query.last_day or municipal_today(uow.now())
    first_day = query.first_day or last_day - timedelta(days=29)
    if first_day > last_day:
        raise InvalidInput("`from` is after `to`", {"from": ["must not be after `to`"]})
    if domain.bucket_count(first_day, last_day, query.interval) > MAX_BUCKETS:
        raise InvalidInput("too many buckets", {"interval": [
            f"{query.interval} buckets from {first_day} to {last_day} exceed {MAX_BUCKETS}; widen the interval"]})
    starts = domain.bucket_starts(first_day, last_day, query.interval)
    end = domain.day_start(last_day + timedelta(days=1))
    with uow:
        rows = uow.repo.activity_series(
            query.event_type, starts[0], end, query.interval, MUNICIPAL_TZ.key, query.group_by,
            municipality=query.municipality, field_of_action=query.field_of_action, channel=query.channel,
            status=query.status)
    # Matched in UTC: Python never finds a municipal time of the autumn DST change's repeated hour
    # equal to the same instant in another zone, so those two hours would show no events.
    found = defaultdict(dict)
    for row in rows:
        found[row["series"]][row["start"].astimezone(timezone.utc)] = row["events"]
    series = [{"key": key, "points": [{"start": start, "events": values.get(start.astimezone(timezone.utc), 0)}
                                      for start in starts]}
              for key, values in sorted(found.items())]
    return {"type": query.event_type, "interval": query.interval, "from": first_day, "to": last_day,
            "group_by": query.group_by, "series": series or [
                {"key": "", "points": [{"start": start, "events": 0} for start in starts]}]}


def dashboard_data(uow, query):
    """What the council dashboard shows of a place: the summary, 30 days of submissions, the pilot
    projects with their next milestone, the milestones, and the strategy process (working groups,
    competitions, sub-concepts, the strategy, comments, upcoming meetings, survey results)."""
    today = municipal_today(uow.now())
    return {
        "summary": summary(uow, query),
        "submissions": timeseries(uow, Timeseries(event_type="IdeaSubmitted", interval="day",
                                                  first_day=today - timedelta(days=29), last_day=today,
                                                  municipality=query.municipality)),
        "pilots": pilot_projects(uow, Pilots(municipality=query.municipality)),
        "milestones": milestones(uow, Milestones(municipality=query.municipality))["items"],
        "working_groups": process_queries.working_groups(uow, query),
        "competitions": process_queries.competitions(uow, query, uow.now()),
        "sub_concepts": process_queries.sub_concepts(uow, query),
        "strategies": process_queries.strategies(uow, query, uow.now()),
        "comments": process_queries.comments(uow, query)["totals"],
        "meetings": process_queries.meetings(uow, Meetings(municipality=query.municipality, upcoming=True),
                                             uow.now()),
        "surveys": process_queries.surveys(uow, query),
    }


def idea_page(uow, query):
    """An idea's public page: the idea, its story, its milestones and the board's decision, its
    accepted sponsors, the sub-concept it was integrated into and its public comments.

    Only public ideas (published or further) have a page; others are NotFound, like missing ones.
    """
    with uow:
        repo = uow.repo
        idea = repo.idea(query.idea_id)
        if idea is None or idea["status"] not in PUBLIC_STATUSES:
            raise NotFound("idea")
        events = repo.idea_story(query.idea_id, domain.NOT_IN_STORY)
        rows = repo.milestones(idea_id=query.idea_id)
    items = [{**row, "state": milestone_state(row["reached_at"], row["overdue_at"])} for row in rows]
    return {"idea": idea, "story": domain.story(events), "milestones": items,
            **process_queries.idea_extras(uow, query.idea_id)}


def pilot_projects(uow, query):
    """The pilot projects of a municipality with their stage, milestones and the next one due."""
    items = pilots(uow, query)["items"]
    with uow:
        rows = uow.repo.milestones(query.municipality)
    by_idea = defaultdict(list)
    for row in rows:
        if row["idea_id"] is not None:
            by_idea[row["idea_id"]].append({**row, "state": milestone_state(row["reached_at"], row["overdue_at"])})
    return [{**item, "milestone_list": by_idea.get(item["idea_id"], []),
             "next_milestone": domain.next_milestone(by_idea.get(item["idea_id"], []))} for item in items]


def export_rows(uow, query):
    """The rows of an open-data dataset (exports.render turns them into CSV or JSON)."""
    if query.dataset not in exports.DATASETS:
        raise NotFound(f"dataset {query.dataset!r} (there are: {', '.join(exports.DATASETS)})")
    place = Place(municipality=query.municipality)
    if query.dataset in PROCESS_DATASETS:
        return PROCESS_DATASETS[query.dataset](uow, place)
    if query.dataset == "pilots":
        return pilots(uow, Pilots(municipality=query.municipality))["items"]
    if query.dataset == "milestones":
        return milestones(uow, Milestones(municipality=query.municipality))["items"]
    with uow:
        read = uow.repo.public_ideas if query.dataset == "ideas" else uow.repo.vote_totals
        return read(query.municipality)


def _survey_results(uow, place):
    return [{**result, "title": survey["title"], "conducted_by": survey["conducted_by"],
             "period_start": survey["period_start"], "period_end": survey["period_end"]}
            for survey in process_queries.surveys(uow, place) for result in survey["results"]]


def _strategy_versions(uow, place):
    return [{**version, "sub_concepts": len(version["sub_concept_ids"])}
            for strategy in process_queries.strategies(uow, place, uow.now()) for version in strategy["versions"]]


# dataset -> rows of a place, for the strategy process's open data
PROCESS_DATASETS = {
    "working_groups": process_queries.working_groups,
    "competitions": lambda uow, place: process_queries.competitions(uow, place, uow.now()),
    "sponsors": process_queries.sponsors,
    "sub_concepts": process_queries.sub_concepts,
    "strategy_versions": _strategy_versions,
    "comments": lambda uow, place: process_queries.comments(uow, place)["targets"],
    "meetings": lambda uow, place: process_queries.meetings(uow, Meetings(municipality=place.municipality),
                                                            uow.now()),
    "survey_results": _survey_results,
}


def datasets():
    return [{"name": name, "description": d.description, "columns": d.columns, "formats": list(exports.FORMATS)}
            for name, d in exports.DATASETS.items()]


@dataclass(frozen=True)
class Figures:
    """Every projection figure /metrics shows, read in one transaction (rows as the repository gives them)."""

    ideas: list
    event_counts: list
    support: list
    pipeline: list  # with each idea's "stage"
    milestones: list
    participants: list
    lag: list


def figures(uow):
    with uow:
        repo = uow.repo
        return Figures(ideas=repo.idea_counts(), event_counts=repo.event_counts(), support=repo.support(),
                       pipeline=[{**row, "stage": _stage(row)} for row in repo.pipeline()],
                       milestones=repo.milestone_counts(), participants=repo.participant_counts(),
                       lag=repo.lag_buckets())
