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
