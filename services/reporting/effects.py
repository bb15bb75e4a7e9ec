"""The vocabulary of the projection rules: a logged event, and the two kinds of change it makes.

- `Upsert(table, key, merge)`: `merge(old row or None)` returns the new row. Merges do not depend
  on arrival order: a mutable column keeps the (time, event id) of the event that set it and only
  a later event replaces it; first-time facts (reached_at, first_seen) keep the earliest.
- `Increment(table, key, amounts)`: counters. Addition commutes, and the event log's unique id
  makes every event count once.

Keys are tuples of strings (the JSON form of the event's data): the projector finds stored rows
by their key columns as text. domain.py (ideas, votes, decisions, milestones, notifications) and
process.py (the strategy process) write their rules with these.
"""
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Event:
    """An event as the log keeps it: `data` in its JSON form, people's ids pseudonymised."""

    id: str
    type: str
    source: str
    subject: str | None
    time: datetime
    received_at: datetime
    data: dict


@dataclass(frozen=True)
class Upsert:
    table: str
    key: tuple
    merge: object = field(compare=False)  # old row (dict) or None -> new row


@dataclass(frozen=True)
class Increment:
    table: str
    key: tuple
    amounts: dict = field(compare=False)


def when(text):
    """A time from the event's JSON data (None stays None)."""
    return None if text is None else datetime.fromisoformat(text)


def newer(event_time, event_id, old_time, old_id):
    """Whether an event is later than the one that set a column (its id breaks a tie in time)."""
    return (event_time, event_id) > (old_time, old_id)


def earliest(*values):
    present = [value for value in values if value is not None]
    return min(present) if present else None
