"""Gera demo data: announcements in the manner of the source documents and a citizen's subscription.

Announcements are of things to come (one in the past is refused), so the demo's are dated from
today: the next theme evening of the working groups (a Tuesday, 17:00, as in Gera's 2021 process)
and a plenary meeting four weeks on. The subscription is left unconfirmed on purpose: its
confirmation mail waits in the local SMTP sink (http://127.0.0.1:8025/), and following its link
shows the double opt-in.
"""
from datetime import datetime, time, timedelta
from functools import partial

from shared.domain import MUNICIPAL_TZ

DEMO_ADDRESS = "buergerin@example.org"
DEMO_TOPICS = ("announcements", "meetings", "strategy", "pilot_decisions", "milestones")


def announcements(today):
    """The demo's announcements, from the next Tuesday after `today` (a date)."""
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    evening = datetime.combine(tuesday, time(17), MUNICIPAL_TZ)
    return [
        {"municipality": "gera", "title": "Themenabend der SMARTCity-Arbeitsgruppen",
         "starts_at": evening.isoformat(), "link": "https://unser.gera.de",
         "description": "Impulsvorträge und Diskussion; jeder kann sich einloggen, auch als stiller Zuhörer."},
        {"municipality": "gera", "title": "Vollversammlung: die Themenspeicher werden vorgestellt",
         "starts_at": (evening + timedelta(days=29)).isoformat(), "place": "Gera", "link": "https://unser.gera.de"},
    ]


def already_loaded(api):
    return api("notifications", "GET", "/api/v1/announcements?municipality=gera&page_size=1")["total"] > 0


def load(api):
    """`api(service, method, path, body=None, role=None)` does one API request and returns its JSON."""
    call = partial(api, "notifications")
    call("POST", "/api/v1/subscribers", {
        "email": DEMO_ADDRESS, "language": "de", "digest": "immediate",
        "subscriptions": [{"kind": kind, "municipality": "gera"} for kind in DEMO_TOPICS]}, role="citizen")
    posted = announcements(datetime.now(MUNICIPAL_TZ).date())
    for announcement in posted:
        call("POST", "/api/v1/announcements", announcement, role="staff")
    return f"{len(posted)} announcements; {DEMO_ADDRESS} subscribed (confirmation mail in the SMTP sink)"
