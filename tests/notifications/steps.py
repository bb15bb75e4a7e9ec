"""Steps the notifications tests share: subscribing through the real mails, events as producers send them."""
import re
import uuid
from datetime import datetime, timedelta, timezone

from tests.notifications.conftest import text_of

LINK = re.compile(r"https?://\S+/(confirm|unsubscribe|my-data)\?token=([\w-]+)(?:&lang=\w+)?")
ANNOUNCEMENT = {"municipality": "gera", "title": "4. Vollversammlung der SMARTCity-Strategie",
                "starts_at": "2031-04-14T17:00:00+02:00", "place": "Rathaus Gera, Festsaal"}  # to come: past is 422


def links_in(message):
    """{"confirm": token, "unsubscribe": token, "my-data": token} from a mail's text."""
    return {kind: token for kind, token in LINK.findall(text_of(message))}


def subscribe(api, email, subscriptions=(), headers=None, **preferences):
    body = {"email": email, "subscriptions": list(subscriptions), **preferences}
    response = api("POST", "/api/v1/subscribers", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return response


def subscribed(api, mailbox, email, subscriptions=(), headers=None, **preferences):
    """Subscribe and confirm through the link in the real confirmation mail; returns the mail-link token."""
    subscribe(api, email, subscriptions, headers, **preferences)
    [confirmation] = mailbox.wait(1, to=email)
    tokens = links_in(confirmation)
    response = api("POST", f"/api/v1/subscribers/confirm?token={tokens['confirm']}")
    assert response.status_code == 200, response.text
    mailbox.clear()
    return tokens["unsubscribe"]


def announce(api, auth, **changes):
    response = api("POST", "/api/v1/announcements", json={**ANNOUNCEMENT, **changes}, headers=auth("staff"))
    assert response.status_code == 201, response.text
    return response.json()


def public_idea(ideas_sql, idea_id, title="Solardächer auf Schulen", field="energie"):
    """An idea the ideas service holds as published, written straight into its database: no events, so
    nobody is notified, but a subscription to it is accepted (the service asks the ideas service)."""
    ideas_sql("INSERT INTO ideas (id, municipality, field_of_action, title, description, channel, author_id, status,"
              " created_at, updated_at, published_at) VALUES (%s, 'gera', %s, %s, 'Beschreibung', 'form',"
              " 'author-1', 'published', now(), now(), now())", (str(idea_id), field, title))


def idea_ref(idea_id=None, field="energie"):
    return {"idea_id": idea_id or uuid.uuid4(), "municipality": "gera", "field_of_action": field}


def idea_submitted(author_id, title="Solardächer auf Schulen", **ref):
    return {**idea_ref(**ref), "title": title, "channel": "form", "author_id": author_id,
            "submitted_at": datetime.now(timezone.utc)}


def idea_published(author_id, title="Solardächer auf Schulen", **ref):
    return {**idea_ref(**ref), "title": title, "channel": "form", "author_id": author_id,
            "published_at": datetime.now(timezone.utc)}


def pilot_approved(**ref):
    return {**idea_ref(**ref), "decision_id": uuid.uuid4(), "tally": {"yes": 7, "no": 2, "abstain": 1},
            "board_size": 11, "quorum": 6, "quorum_met": True, "majority_rule": "simple",
            "decided_at": datetime.now(timezone.utc)}


def milestone_reached(title="Gesamtstrategie verknüpft", idea_id=None):
    return {"milestone_id": uuid.uuid4(), "municipality": "gera", "title": title,
            "due_date": (datetime.now(timezone.utc) - timedelta(days=1)).date(), "idea_id": idea_id,
            "reached_at": datetime.now(timezone.utc), "on_time": False}
