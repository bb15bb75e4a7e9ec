"""The read side of the strategy process: working groups, competitions, sub-concepts, the strategy,
comments, meetings, sponsors and survey results, answered from process.py's projections.

Like queries.py: each reads in one transaction of its unit of work, never writes, and returns
plain dicts shaped as the HTTP responses (schemas.py) and the open-data exports (exports.py).
`place` is a commands.Place; `now` is the unit of work's clock (open windows, upcoming meetings).
"""
from collections import Counter, defaultdict

from .process import ADOPTED, RETURNED


def _counts(rows, key):
    return Counter(row[key] for row in rows)


def _comments_on(repo, municipality, target_kind):
    """{target id: published comments} of one kind of target."""
    return {row["target_id"]: row["published"] for row in repo.comment_counts(municipality, target_kind)}


def working_groups(uow, place):
    """Each group with its members, its topic store (ideas, public ones) and its sub-concepts."""
    with uow:
        repo = uow.repo
        groups = repo.entities("working_groups", municipality=place.municipality)
        members = _counts([m for m in repo.entities("group_members", municipality=place.municipality)
                           if m["present"]], "working_group_id")
        ideas = {row["key"]: row for row in repo.ideas_by("working_group_id", place.municipality)}
        sub_concepts = _counts(repo.entities("sub_concepts", municipality=place.municipality), "working_group_id")
    return [{**group, "members": members[group["working_group_id"]],
             "ideas": ideas.get(group["working_group_id"], {}).get("ideas", 0),
             "public_ideas": ideas.get(group["working_group_id"], {}).get("public_ideas", 0),
             "sub_concepts": sub_concepts[group["working_group_id"]]}
            for group in sorted(groups, key=lambda g: (g["name"] or "", str(g["working_group_id"])))]


def competition_state(row, now):
    """upcoming, open or closed: closed once closed (the timer or staff), open within the window."""
    if row["closed_at"] is not None:
        return "closed"
    if row["opens_at"] is not None and now < row["opens_at"]:
        return "upcoming"
    return "open"


def competitions(uow, place, now):
    with uow:
        repo = uow.repo
        rows = repo.entities("competitions", municipality=place.municipality)
        entries = {row["key"]: row["ideas"] for row in repo.ideas_by("competition_id", place.municipality)}
        shortlisted = _counts(repo.entities("competition_shortlist", municipality=place.municipality),
                              "competition_id")
    return [{**row, "state": competition_state(row, now), "entries": entries.get(row["competition_id"], 0),
             "shortlisted": shortlisted[row["competition_id"]]}
            for row in sorted(rows, key=lambda r: (r["closes_at"] is None, r["closes_at"] or now,
                                                   str(r["competition_id"])))]


def sub_concepts(uow, place):
    """Each sub-concept with its group's name, the ideas integrated and the public comments on it."""
    with uow:
        repo = uow.repo
        rows = repo.entities("sub_concepts", municipality=place.municipality)
        groups = {g["working_group_id"]: g["name"] for g in repo.entities("working_groups",
                                                                          municipality=place.municipality)}
        integrated = defaultdict(list)
        for row in repo.entities("idea_integrations", municipality=place.municipality):
            integrated[row["sub_concept_id"]].append(row["idea_id"])
        comments = _comments_on(repo, place.municipality, "sub_concept")
    return [{**row, "working_group": groups.get(row["working_group_id"]),
             "ideas": len(integrated[row["sub_concept_id"]]), "idea_ids": integrated[row["sub_concept_id"]],
             "comments": comments.get(row["sub_concept_id"], 0)}
            for row in sorted(rows, key=lambda r: (r["title"] or "", str(r["sub_concept_id"])))]


def strategy_status(version, now):
    """Where a version stands: adopted, returned, feedback (its window open) or draft."""
    if version["outcome"] in (ADOPTED, RETURNED):
        return version["outcome"]
    if version["feedback_until"] is not None and version["feedback_closed_at"] is None \
            and now < version["feedback_until"]:
        return "feedback"
    return "draft"


def strategies(uow, place, now):
    """Each strategy with its versions (oldest first), their sub-concepts and where they stand."""
    with uow:
        repo = uow.repo
        versions = repo.entities("strategy_versions", municipality=place.municipality)
        linked = defaultdict(list)
        for row in repo.entities("strategy_sub_concepts", municipality=place.municipality):
            linked[row["strategy_id"], row["version"]].append(row["sub_concept_id"])
        comments = _comments_on(repo, place.municipality, "strategy")
    by_strategy = defaultdict(list)
    for version in versions:
        by_strategy[version["strategy_id"]].append({
            **version, "status": strategy_status(version, now),
            "sub_concept_ids": linked[version["strategy_id"], version["version"]]})
    result = []
    for strategy_id, rows in by_strategy.items():
        latest = rows[-1]  # entities() orders by (strategy_id, version)
        result.append({"strategy_id": strategy_id, "municipality": latest["municipality"],
                       "title": next((r["title"] for r in reversed(rows) if r["title"]), None),
                       "status": latest["status"], "comments": comments.get(strategy_id, 0), "versions": rows})
    return result


def comments(uow, place):
    """Comments per target (published, pending, hidden, reported) and their totals."""
    with uow:
        rows = uow.repo.comment_counts(place.municipality)
    totals = {state: sum(row[state] for row in rows) for state in ("published", "pending", "hidden", "reported")}
    return {"totals": totals, "targets": rows}


def meeting_state(row):
    return "cancelled" if row["cancelled_at"] is not None else "scheduled"


def meetings(uow, query, now):
    """Meetings by start (those with no start known yet last); `query.upcoming`: only those not over."""
    with uow:
        rows = uow.repo.entities("meetings", municipality=query.municipality,
                                 working_group_id=query.working_group_id)
    items = [{**row, "state": meeting_state(row)} for row in rows
             if not query.upcoming or (row["ends_at"] or row["starts_at"] or now) >= now]
    return sorted(items, key=lambda r: (r["starts_at"] is None, r["starts_at"] or now, str(r["meeting_id"])))


def surveys(uow, place):
    """Each imported survey with its results in the order of its CSV, newest period first."""
    with uow:
        rows = uow.repo.entities("surveys", municipality=place.municipality)
        results = defaultdict(list)
        for row in uow.repo.entities("survey_results", municipality=place.municipality):
            results[row["survey_id"]].append(row)
    return [{**row, "results": results[row["survey_id"]]}
            for row in sorted(rows, key=lambda r: (r["period_end"], str(r["survey_id"])), reverse=True)]


def sponsors(uow, place):
    """Accepted sponsors: a name only where the sponsor consented (otherwise their kind only)."""
    with uow:
        rows = uow.repo.entities("sponsorships", municipality=place.municipality)
    return [row for row in rows if row["accepted_at"] is not None]


def idea_extras(uow, idea_id):
    """What an idea's page shows of the process: accepted sponsors, its sub-concept, comment counts."""
    with uow:
        repo = uow.repo
        accepted = [row for row in repo.entities("sponsorships", idea_id=idea_id) if row["accepted_at"] is not None]
        integration = next(iter(repo.entities("idea_integrations", idea_id=idea_id)), None)
        sub_concept = None
        if integration is not None:
            sub_concept = next(iter(repo.entities("sub_concepts", sub_concept_id=integration["sub_concept_id"])),
                               {"sub_concept_id": integration["sub_concept_id"], "title": None})
        counts = next(iter(repo.comment_counts(target_kind="idea", target_id=idea_id)), None)
    return {"sponsors": sorted(accepted, key=lambda r: (r["accepted_at"], str(r["sponsorship_id"]))),
            "sub_concept": sub_concept, "comments": counts["published"] if counts else 0}
