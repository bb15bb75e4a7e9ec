"""Meetings over HTTP on the real PostgreSQL and RabbitMQ: the cap under parallel registrations, the
whole life of a meeting with its published events, and the iCalendar feeds read back by `icalendar`."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import icalendar
import pytest

pytestmark = pytest.mark.integration

GROUP = "00000000-0000-4000-8000-00000000a601"


@pytest.fixture
def sql(ideas_sql):
    """The ideas test database (emptied) with Gera's AG Wirtschaft."""
    ideas_sql("INSERT INTO working_groups (id, municipality, name, kind, created_at)"
              " VALUES (%s, 'gera', 'AG Wirtschaft', 'working_group', now())", (GROUP,))
    return ideas_sql


def meeting_body(days=3, **changes):
    starts = (datetime.now(timezone.utc) + timedelta(days=days)).replace(microsecond=0)
    return {"municipality": "gera", "working_group_id": GROUP, "kind": "theme_evening",
            "title": "Made in Gera: digitale Produkte", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(), "online_url": "https://unser.gera.de",
            "capacity": 5, **changes}


def schedule(ideas_api, auth, **changes):
    response = ideas_api("POST", "/api/v1/meetings", json=meeting_body(**changes), headers=auth("staff"))
    assert response.status_code == 201, response.text
    return response.json()


def register(ideas_api, auth, meeting_id, subject):
    return ideas_api("POST", f"/api/v1/meetings/{meeting_id}/registrations", headers=auth("citizen", subject=subject))


def test_parallel_registrations_never_exceed_the_cap(ideas_api, auth, sql):
    meeting = schedule(ideas_api, auth, capacity=5)
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(lambda n: register(ideas_api, auth, meeting["id"], f"citizen-{n}").status_code,
                                 range(30)))
    assert sorted(statuses) == [201] * 5 + [409] * 25
    assert sql("SELECT registered FROM meetings WHERE id = %s", (meeting["id"],)) == [(5,)]
    assert sql("SELECT count(*) FROM meeting_registrations") == [(5,)]
    assert sql("SELECT count(*) FROM outbox WHERE routing_key = 'MeetingRegistered'") == [(5,)]
    full = register(ideas_api, auth, meeting["id"], "citizen-late").json()
    assert full["error"]["fields"] == {"capacity": ["all 5 places are taken"]}


def test_a_meeting_from_schedule_to_cancellation_with_its_events(ideas_api, auth, sql, tap):
    events = tap("ideas.events")
    meeting = schedule(ideas_api, auth, capacity=2)
    assert meeting["working_group"] == "AG Wirtschaft" and meeting["status"] == "scheduled"
    first = register(ideas_api, auth, meeting["id"], "anna")
    assert first.status_code == 201 and first.json()["registered"] == 1
    again = register(ideas_api, auth, meeting["id"], "anna")
    assert again.status_code == 200 and again.json()["registered"] == 1
    assert register(ideas_api, auth, meeting["id"], "ben").json()["registered"] == 2
    me = auth("citizen", subject="ben")
    assert ideas_api("DELETE", f"/api/v1/meetings/{meeting['id']}/registrations/me", headers=me).status_code == 204
    assert ideas_api("DELETE", f"/api/v1/meetings/{meeting['id']}/registrations/me", headers=me).status_code == 404
    cancel = ideas_api("POST", f"/api/v1/meetings/{meeting['id']}/cancellation", json={"reason": "Referent erkrankt"},
                       headers=auth("staff"))
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    assert ideas_api("POST", f"/api/v1/meetings/{meeting['id']}/cancellation", json={"reason": "noch einmal"},
                     headers=auth("staff")).json()["cancel_reason"] == "Referent erkrankt"
    refused = register(ideas_api, auth, meeting["id"], "carla")
    assert refused.status_code == 409 and "meeting_id" in refused.json()["error"]["fields"]
    seen = events.wait("MeetingCancelled")
    events.settle()
    mine = events.events(where=lambda e: e["subject"] == meeting["id"])
    assert [e["type"] for e in mine] == ["MeetingScheduled", "MeetingRegistered", "MeetingRegistered",
                                         "MeetingRegistrationWithdrawn", "MeetingCancelled"]
    registered = events.events("MeetingRegistered")
    assert [(e["data"]["attendee_id"], e["data"]["registered"]) for e in registered] == [("anna", 1), ("ben", 2)]
    assert seen[0]["data"]["reason"] == "Referent erkrankt" and seen[0]["subject"] == meeting["id"]
    scheduled = events.events("MeetingScheduled")[0]["data"]
    assert scheduled["starts_at"] == meeting["starts_at"] and scheduled["working_group_id"] == GROUP


def test_the_list_of_upcoming_meetings(ideas_api, auth, sql):
    later = schedule(ideas_api, auth, days=9)
    sooner = schedule(ideas_api, auth, days=2, kind="plenary", working_group_id=None, place="Rathaus Gera",
                      online_url=None)
    dropped = schedule(ideas_api, auth, days=4)
    ideas_api("POST", f"/api/v1/meetings/{dropped['id']}/cancellation", json={"reason": "Raum belegt"},
              headers=auth("staff"))
    upcoming = ideas_api("GET", "/api/v1/meetings?municipality=gera&upcoming=true").json()
    assert [m["id"] for m in upcoming] == [sooner["id"], later["id"]]
    of_group = ideas_api("GET", f"/api/v1/meetings?working_group_id={GROUP}").json()
    assert [m["id"] for m in of_group] == [dropped["id"], later["id"]]
    assert ideas_api("GET", "/api/v1/meetings?municipality=grossenhain").json() == []
    assert ideas_api("GET", f"/api/v1/meetings/{sooner['id']}").json()["place"] == "Rathaus Gera"
    assert ideas_api("GET", f"/api/v1/meetings/{uuid.uuid4()}").status_code == 404


def test_no_registration_for_a_meeting_that_has_begun(ideas_api, auth, sql):
    begun = uuid.uuid4()
    sql("INSERT INTO meetings (id, municipality, kind, title, starts_at, ends_at, place, created_at, updated_at)"
        " VALUES (%s, 'gera', 'plenary', 'Vollversammlung', now() - interval '1 hour', now() + interval '1 hour',"
        " 'Rathaus', now(), now())", (begun,))
    response = register(ideas_api, auth, begun, "anna")
    assert response.status_code == 409 and response.json()["error"]["fields"] == {"meeting_id": ["meeting has begun"]}
    assert sql("SELECT count(*) FROM meeting_registrations") == [(0,)]


IN_THE_PAST = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
BAD_BODIES = [
    ({"starts_at": IN_THE_PAST}, "starts_at"),
    ({"ends_at": IN_THE_PAST}, "ends_at"),
    ({"online_url": "http://unser.gera.de"}, "online_url"),  # https only
    ({"online_url": None}, "place"),  # neither place nor link
    ({"kind": "party"}, "kind"),
    ({"capacity": 0}, "capacity"),
    ({"title": "  "}, "title"),
    ({"municipality": "atlantis"}, "municipality"),
    ({"municipality": "grossenhain"}, "working_group_id"),  # Gera's group
    ({"working_group_id": str(uuid.uuid4())}, "working_group_id"),
    ({"starts_at": "2021-02-04T17:00:00"}, "starts_at"),  # no UTC offset
]


@pytest.mark.parametrize("changes,field", BAD_BODIES)
def test_bad_meetings_get_a_422_naming_the_field_and_store_nothing(ideas_api, auth, sql, changes, field):
    response = ideas_api("POST", "/api/v1/meetings", json=meeting_body(**changes), headers=auth("staff"))
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    assert sql("SELECT (SELECT count(*) FROM meetings), (SELECT count(*) FROM outbox)") == [(0, 0)]


def _feed(ideas_api, path):
    response = ideas_api("GET", path)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    assert raw.count(b"\r\n") == raw.count(b"\n")  # every line ends with CRLF
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded at 75 octets
    return raw, icalendar.Calendar.from_ical(raw)


def test_calendar_feeds_read_back_by_an_rfc_5545_parser(ideas_api, auth, sql):
    long_title = "Smartes Wohnen in den eigenen vier Wänden; Sensorik, Energie und Pflege – ein Themenabend"
    evening = schedule(ideas_api, auth, title=long_title)
    plenary = schedule(ideas_api, auth, days=5, kind="plenary", working_group_id=None, online_url=None,
                       place="Kultur- und Kongresszentrum Gera, Schloßstraße 1")
    ideas_api("POST", f"/api/v1/meetings/{plenary['id']}/cancellation", json={"reason": "Verlegt, siehe Presse"},
              headers=auth("staff"))
    raw, feed = _feed(ideas_api, "/api/v1/municipalities/gera/meetings.ics")
    assert str(feed["X-WR-CALNAME"]) == "SmartCity Gera"
    events = {str(e["UID"]).split("@")[0]: e for e in feed.walk("VEVENT")}
    assert set(events) == {evening["id"], plenary["id"]}
    first = events[evening["id"]]
    assert str(first["SUMMARY"]) == long_title  # unfolded and unescaped as written
    assert first.decoded("DTSTART") == datetime.fromisoformat(evening["starts_at"])
    assert first.decoded("DTEND") == datetime.fromisoformat(evening["ends_at"])
    assert str(first["STATUS"]) == "CONFIRMED" and int(first["SEQUENCE"]) == 0
    assert str(first["URL"]) == "https://unser.gera.de"
    assert first.decoded("DTSTAMP").tzinfo is not None
    second = events[plenary["id"]]
    assert str(second["STATUS"]) == "CANCELLED" and int(second["SEQUENCE"]) == 1
    assert str(second["LOCATION"]) == "Kultur- und Kongresszentrum Gera, Schloßstraße 1"
    assert "Verlegt, siehe Presse" in str(second["DESCRIPTION"])
    assert b"LOCATION:Kultur- und Kongresszentrum Gera\\, Schlo" in raw  # the comma escaped on the wire

    _, group_feed = _feed(ideas_api, f"/api/v1/working-groups/{GROUP}/meetings.ics")
    assert [str(e["UID"]).split("@")[0] for e in group_feed.walk("VEVENT")] == [evening["id"]]
    assert str(group_feed["X-WR-CALNAME"]) == "SmartCity AG Wirtschaft"
    assert ideas_api("GET", "/api/v1/municipalities/atlantis/meetings.ics").status_code == 404
    assert ideas_api("GET", f"/api/v1/working-groups/{uuid.uuid4()}/meetings.ics").status_code == 404


def test_the_demo_replays_geras_meetings_of_2021_with_their_events(ideas_api, auth, ideas_sql, tap):
    from services.ideas.meetings import demo

    for name in sorted({group for _, group, _ in demo.THEME_EVENINGS}):  # the groups' demo makes them
        kind = "expert_group" if name.startswith("Fachgruppe") else "working_group"
        response = ideas_api("POST", "/api/v1/working-groups", json={"municipality": "gera", "name": name,
                                                                      "kind": kind}, headers=auth("staff"))
        assert response.status_code == 201, response.text
    events = tap("ideas.events")
    assert demo.load() == "8 theme evenings and a plenary meeting of 2021"
    meetings = ideas_api("GET", "/api/v1/meetings?municipality=gera").json()
    assert len(meetings) == 9 and ideas_api("GET", "/api/v1/meetings?upcoming=true").json() == []
    evenings = [m for m in meetings if m["kind"] == "theme_evening"]
    starts = [datetime.fromisoformat(m["starts_at"]).astimezone(demo.MUNICIPAL_TZ) for m in evenings]
    assert {(s.strftime("%A"), s.hour, s.minute) for s in starts} == {("Tuesday", 17, 0), ("Thursday", 17, 0)}
    assert max(starts).date().isoformat() == "2021-02-25"
    assert {m["registered"] for m in evenings} == {demo.ATTENDEES}
    assert all(m["working_group"] for m in evenings)  # each evening belongs to its working group
    assert [m["title"] for m in meetings if m["working_group"] == "AG Wirtschaft und Innovationskraft"] == [
        "Innovative Produkte und Dienstleistungen „Made in Gera“",
        "Abschluss der Themenabende: Was nehmen wir in die Strategie mit?"]
    [plenary] = [m for m in meetings if m["kind"] == "plenary"]
    assert plenary["starts_at"].startswith("2021-04-14T15:00")  # 17:00 in Gera (summer time)
    scheduled = events.wait("MeetingScheduled", count=9)
    assert {e["data"]["scheduled_at"] for e in scheduled} == {"2021-01-25T09:00:00+00:00"}
    events.wait("MeetingRegistered", count=8 * demo.ATTENDEES)
    _, feed = _feed(ideas_api, "/api/v1/municipalities/gera/meetings.ics")
    assert len(list(feed.walk("VEVENT"))) == 9
