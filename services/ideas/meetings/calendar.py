"""Meetings as an iCalendar feed (RFC 5545), written by hand: the format is small, the rules are few.

- lines end with CRLF and are folded at 75 octets (a continuation line starts with a space), never
  inside a UTF-8 character (RFC 5545 3.1);
- TEXT values escape backslash, semicolon, comma and line breaks (3.3.11);
- times are in UTC (the "Z" form, 3.3.5), so no VTIMEZONE is needed;
- UID is the meeting's id, stable for its life; SEQUENCE counts the changes calendars must apply
  (cancellation), STATUS:CANCELLED marks a cancelled meeting, which stays in the feed so that
  subscribed calendars learn of it; DTSTAMP and LAST-MODIFIED are the meeting's last change, so the
  same state always renders the same bytes.
Pure: no I/O.
"""
from datetime import timezone

from .domain import CANCELLED, status

PRODID = "-//SmartCity participation//meetings//EN"
UID_DOMAIN = "meetings.smartcity-participation"
KIND_NAMES = {"theme_evening": "Themenabend / theme evening", "plenary": "Vollversammlung / plenary meeting"}
LINE_OCTETS = 75


def escape_text(value):
    """A TEXT value: backslash, semicolon and comma escaped, every line break as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line):
    """One content line folded into CRLF-terminated physical lines of at most 75 octets."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > LINE_OCTETS:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "".join(part + "\r\n" for part in out)


def utc(moment):
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _event(meeting):
    description = [KIND_NAMES[meeting["kind"]]]
    if meeting.get("working_group"):
        description.append(meeting["working_group"])
    if meeting["online_url"]:
        description.append(meeting["online_url"])
    if status(meeting) == CANCELLED:
        description.append(f"Abgesagt / cancelled: {meeting['cancel_reason']}")
    lines = [
        "BEGIN:VEVENT",
        f"UID:{meeting['id']}@{UID_DOMAIN}",
        f"DTSTAMP:{utc(meeting['updated_at'])}",
        f"LAST-MODIFIED:{utc(meeting['updated_at'])}",
        f"CREATED:{utc(meeting['created_at'])}",
        f"SEQUENCE:{meeting['sequence']}",
        f"DTSTART:{utc(meeting['starts_at'])}",
        f"DTEND:{utc(meeting['ends_at'])}",
        f"SUMMARY:{escape_text(meeting['title'])}",
        f"DESCRIPTION:{escape_text(chr(10).join(description))}",
        f"LOCATION:{escape_text(meeting['place'] or meeting['online_url'])}",
    ]
    if meeting["online_url"]:
        lines.append(f"URL:{meeting['online_url']}")  # a URI value: not escaped (the schema allows no spaces)
    lines += [f"STATUS:{'CANCELLED' if status(meeting) == CANCELLED else 'CONFIRMED'}", "END:VEVENT"]
    return lines


def render(name, meetings):
    """The whole calendar (str) named `name` with one VEVENT per meeting."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{escape_text(name)}", "X-WR-TIMEZONE:Europe/Berlin"]
    for meeting in meetings:
        lines += _event(meeting)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)
