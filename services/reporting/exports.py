"""Open data: the public read models as CSV or JSON, each with a documented column list.

No personal data: no author, no voter, no address; ideas appear only once they are public
(published or further along), as on the ideas service's public pages.

CSV cells are neutralised against formula injection (OWASP): a text cell that begins with =, +,
-, @, a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it as text
instead of running it ("=HYPERLINK(…)" in an idea title). JSON exports carry the values unchanged.
"""
import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime

FORMATS = ("csv", "json")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@dataclass(frozen=True)
class Dataset:
    description: str
    columns: dict  # column -> what it holds, in export order


PLACE = {"municipality": "municipality slug (gera, grossenhain, ...)", "field_of_action": "field of action slug"}

DATASETS = {
    "ideas": Dataset("Public ideas (published or further along) with their current support", {
        "idea_id": "UUID of the idea", **PLACE, "title": "title as published",
        "channel": "form, profile, competition or workshop", "working_group": "the working group's topic store, if any",
        "status": "published, shortlisted, pilot, in_implementation or completed",
        "submitted_at": "ISO 8601 time of submission", "published_at": "ISO 8601 time of publication",
        "support": "current support votes, summed over voting rounds"}),
    "votes": Dataset("Support per public idea and voting round (totals only, never the voters)", {
        "idea_id": "UUID of the idea", "round_id": "UUID of the voting round", **PLACE,
        "total": "support votes in the round", "updated_at": "ISO 8601 time of the latest change"}),
    "pilots": Dataset("The pilot project pipeline with the strategy board's latest decision", {
        "idea_id": "UUID of the idea", **PLACE, "title": "title of the idea",
        "stage": "shortlisted, approved, rejected, in_implementation or completed",
        "decision": "approved, rejected or empty", "decided_at": "ISO 8601 time of the decision",
        "yes": "board votes for", "no": "board votes against", "abstain": "abstentions",
        "quorum_met": "true or false", "milestones": "milestones scheduled", "milestones_reached": "of them reached"}),
    "milestones": Dataset("Strategy and pilot milestones with their state", {
        "milestone_id": "UUID of the milestone", "municipality": PLACE["municipality"],
        "idea_id": "UUID of the pilot, empty for strategy-wide milestones", "title": "title",
        "due_date": "ISO 8601 date", "state": "scheduled, reached or overdue",
        "reached_at": "ISO 8601 time it was reached", "on_time": "reached by the due date (true/false)",
        "overdue_at": "ISO 8601 time it was found overdue"}),
    # the strategy process
    "working_groups": Dataset("Working groups and the expert group with their members and topic stores", {
        "working_group_id": "UUID of the group", "municipality": PLACE["municipality"], "name": "name",
        "kind": "working_group or expert_group", "field_of_action": "field of action slug, if any",
        "members": "members now", "ideas": "ideas in its topic store", "public_ideas": "of them public",
        "sub_concepts": "sub-concepts it drafted"}),
    "competitions": Dataset("Idea competitions with their window, entries and shortlist", {
        "competition_id": "UUID of the competition", **PLACE, "theme": "theme",
        "opens_at": "ISO 8601 time entries open", "closes_at": "ISO 8601 time entries close",
        "closed_at": "ISO 8601 time it was closed", "state": "upcoming, open or closed",
        "jury_size": "members of the jury", "entries": "ideas entered", "shortlisted": "entries the jury shortlisted"}),
    "sponsors": Dataset("Accepted idea sponsors (a name only where the sponsor consented to be shown)", {
        "sponsorship_id": "UUID of the sponsorship", "idea_id": "UUID of the idea", **PLACE,
        "sponsor_kind": "citizen, company or institution", "public_name": "the sponsor's name, empty without consent",
        "accepted_at": "ISO 8601 time staff accepted the sponsor"}),
    "sub_concepts": Dataset("Sub-concepts of the working groups with the ideas integrated", {
        "sub_concept_id": "UUID of the sub-concept", "municipality": PLACE["municipality"],
        "working_group_id": "UUID of its working group", "working_group": "the group's name", "title": "title",
        "field_of_action": "field of action slug, if any", "drafted_at": "ISO 8601 time it was started",
        "submitted_at": "ISO 8601 time it was handed in", "ideas": "ideas integrated",
        "comments": "public comments on it"}),
    "strategy_versions": Dataset("Versions of the strategy draft, their feedback window and the council decision", {
        "strategy_id": "UUID of the strategy", "version": "version number", "municipality": PLACE["municipality"],
        "title": "title", "status": "draft, feedback, adopted or returned", "sub_concepts": "sub-concepts linked",
        "published_at": "ISO 8601 time it was published", "feedback_until": "ISO 8601 end of the feedback window",
        "feedback_closed_at": "ISO 8601 time feedback closed", "comments_at_close": "comments when feedback closed",
        "outcome": "adopted, returned or empty", "council_date": "ISO 8601 date of the council's decision",
        "reason": "why the council returned it"}),
    "comments": Dataset("Comments per idea, sub-concept and strategy (counts only, no text, no authors)", {
        "target_kind": "idea, sub_concept or strategy", "target_id": "UUID of the target",
        "published": "visible comments", "pending": "awaiting moderation", "hidden": "hidden by a moderator",
        "reported": "comments reported as abusive"}),
    "meetings": Dataset("Theme evenings and plenary meetings with their registrations", {
        "meeting_id": "UUID of the meeting", "municipality": PLACE["municipality"],
        "working_group_id": "UUID of the working group, empty for a plenary meeting",
        "kind": "theme_evening or plenary", "title": "title", "starts_at": "ISO 8601 start", "ends_at": "ISO 8601 end",
        "place": "where", "online_url": "link to join online", "capacity": "places, empty: unlimited",
        "registered": "registrations", "state": "scheduled or cancelled"}),
    "survey_results": Dataset("Aggregate results of imported citizens' surveys (question, answer, count)", {
        "survey_id": "UUID of the survey", "municipality": PLACE["municipality"], "title": "the survey's title",
        "conducted_by": "who ran it", "period_start": "ISO 8601 first day", "period_end": "ISO 8601 last day",
        "position": "row of the imported results", "question": "question", "answer": "answer",
        "count": "answers given"}),
}


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # UUIDs


def records(dataset, rows):
    """Rows reduced to the dataset's documented columns, as JSON-ready values."""
    columns = DATASETS[dataset].columns
    return [{column: _plain(row.get(column)) for column in columns} for row in rows]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value as a CSV cell: empty for None, true/false, and text that no spreadsheet runs."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render(dataset, rows, fmt):
    """(body, content type) of a dataset export."""
    items = records(dataset, rows)
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False), CONTENT_TYPES["json"]
    out = io.StringIO()
    # CRLF as RFC 4180 says: the csv module then also quotes a cell holding a lone CR
    writer = csv.DictWriter(out, fieldnames=list(DATASETS[dataset].columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in item.items()} for item in items)
    return out.getvalue(), CONTENT_TYPES["csv"]
