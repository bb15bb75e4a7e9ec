"""Gera demo data: announcements from the source documents and a citizen's subscription.

The subscription is left unconfirmed on purpose: its confirmation mail waits in the local SMTP
sink (http://127.0.0.1:8025/), and following its link shows the double opt-in.
"""
from functools import partial

DEMO_ADDRESS = "buergerin@example.org"
ANNOUNCEMENTS = [
    {"municipality": "gera", "title": "Themenabend der SMARTCity-Arbeitsgruppen",
     "starts_at": "2021-02-23T17:00:00+01:00", "link": "https://unser.gera.de",
     "description": "Impulsvorträge und Diskussion; jeder kann sich einloggen, auch als stiller Zuhörer."},
    {"municipality": "gera", "title": "4. Vollversammlung: die Themenspeicher werden vorgestellt",
     "starts_at": "2021-04-14T17:00:00+02:00", "place": "Gera", "link": "https://unser.gera.de"},
]


def already_loaded(api):
    return api("notifications", "GET", "/api/v1/announcements?municipality=gera&page_size=1")["total"] > 0


def load(api):
    """`api(service, method, path, body=None, role=None)` does one API request and returns its JSON."""
    call = partial(api, "notifications")
    call("POST", "/api/v1/subscribers", {
        "email": DEMO_ADDRESS, "language": "de", "digest": "immediate",
        "subscriptions": [{"kind": "announcements", "municipality": "gera"},
                          {"kind": "pilot_decisions", "municipality": "gera"},
                          {"kind": "milestones", "municipality": "gera"}]}, role="citizen")
    for announcement in ANNOUNCEMENTS:
        call("POST", "/api/v1/announcements", announcement, role="staff")
    return f"{len(ANNOUNCEMENTS)} announcements; {DEMO_ADDRESS} subscribed (confirmation mail in the SMTP sink)"
