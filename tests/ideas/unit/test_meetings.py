"""Meeting use cases, rules and the iCalendar writer against the in-memory unit of work."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.ideas.meetings import calendar, use_cases
from services.ideas.meetings.commands import (CancelMeeting, GetMeeting, ListMeetings, MunicipalityCalendar,
                                              Register, ScheduleMeeting, Withdraw, WorkingGroupCalendar)
from shared.errors import Conflict, InvalidInput, NotFound
from tests.fakes import FakeUnitOfWork
from tests.ideas.unit.fakes import FakeIdeasRepository

GROUP = uuid.UUID("00000000-0000-4000-8000-00000000a601")
NOW = datetime(2021, 2, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def repo():
    repo = FakeIdeasRepository()
    repo.add_group({"id": GROUP, "municipality": "gera", "name": "AG Wirtschaft", "kind": "working_group",
                    "field_of_action": None, "created_at": NOW})
    return repo


@pytest.fixture
def uow(repo):
    uow = FakeUnitOfWork("ideas", repo)
    uow.clock.now = NOW
    return uow


def schedule(uow, days=3, **changes):
    starts = NOW + timedelta(days=days, hours=7)  # 17:00 in Gera
    fields = dict(municipality="gera", kind="theme_evening", title="Made in Gera", starts_at=starts,
                  ends_at=starts + timedelta(hours=2), working_group_id=GROUP, online_url="https://unser.gera.de",
                  capacity=2)
    return use_cases.schedule_meeting(uow, ScheduleMeeting(**{**fields, **changes}))


def test_scheduling_stores_the_meeting_and_emits_meeting_scheduled(uow, repo):
    meeting = schedule(uow)
    assert meeting["working_group"] == "AG Wirtschaft" and meeting["registered"] == 0
    assert meeting["sequence"] == 0 and meeting["cancelled_at"] is None
    assert uow.types() == ["MeetingScheduled"]
    data = uow.events[0]["data"]
    assert data["meeting_id"] == str(meeting["id"]) and data["working_group_id"] == str(GROUP)
    assert data["starts_at"] == (NOW + timedelta(days=3, hours=7)).isoformat()
    assert data["capacity"] == 2 and data["online_url"] == "https://unser.gera.de"


@pytest.mark.parametrize("changes,field", [
    ({"days": 0, "starts_at": NOW - timedelta(minutes=1), "ends_at": NOW + timedelta(hours=1)}, "starts_at"),
    ({"starts_at": NOW + timedelta(days=1), "ends_at": NOW + timedelta(days=1)}, "ends_at"),
    ({"starts_at": NOW + timedelta(days=1), "ends_at": NOW + timedelta(days=2, minutes=1)}, "ends_at"),
    ({"municipality": "atlantis"}, "municipality"),
    ({"municipality": "grossenhain"}, "working_group_id"),  # Gera's group
    ({"working_group_id": uuid.uuid4()}, "working_group_id"),
])
def test_scheduling_refuses_what_does_not_fit_and_stores_nothing(uow, repo, changes, field):
    with pytest.raises(InvalidInput) as refused:
        schedule(uow, **{k: v for k, v in changes.items() if k != "days"})
    assert field in refused.value.fields
    assert repo.meetings == {} and uow.events == []


def test_a_plenary_meeting_may_be_municipality_wide(uow):
    meeting = schedule(uow, kind="plenary", working_group_id=None, title="4. Vollversammlung", place="Rathaus Gera",
                       online_url=None, capacity=None)
    assert meeting["working_group"] is None and meeting["capacity"] is None


def test_registration_counts_up_to_the_cap_then_refuses(uow, repo):
    meeting = schedule(uow, capacity=2)
    created, first = use_cases.register(uow, Register(meeting["id"], "anna"))
    assert created and first["registered"] == 1
    assert use_cases.register(uow, Register(meeting["id"], "ben"))[1]["registered"] == 2
    assert repo.locked == [meeting["id"]] * 2  # each registration read the meeting under its lock
    with pytest.raises(Conflict) as full:
        use_cases.register(uow, Register(meeting["id"], "carla"))
    assert "capacity" in full.value.fields
    assert uow.types() == ["MeetingScheduled", "MeetingRegistered", "MeetingRegistered"]
    assert [e["data"]["registered"] for e in uow.events[1:]] == [1, 2]
    assert uow.events[1]["data"]["attendee_id"] == "anna" and uow.events[1]["data"]["capacity"] == 2


def test_registering_again_changes_nothing_and_emits_nothing(uow):
    meeting = schedule(uow)
    use_cases.register(uow, Register(meeting["id"], "anna"))
    uow.clock.advance(minutes=5)
    created, again = use_cases.register(uow, Register(meeting["id"], "anna"))
    assert not created and again["registered"] == 1 and again["registered_at"] == NOW
    assert uow.types().count("MeetingRegistered") == 1


def test_no_registration_for_a_meeting_begun_cancelled_or_unknown(uow):
    meeting = schedule(uow)
    use_cases.cancel_meeting(uow, CancelMeeting(meeting["id"], "Referent erkrankt"))
    with pytest.raises(Conflict) as cancelled:
        use_cases.register(uow, Register(meeting["id"], "anna"))
    assert cancelled.value.fields == {"meeting_id": ["meeting is cancelled"]}
    other = schedule(uow, days=1)
    uow.clock.now = other["starts_at"]
    with pytest.raises(Conflict) as begun:
        use_cases.register(uow, Register(other["id"], "anna"))
    assert begun.value.fields == {"meeting_id": ["meeting has begun"]}
    with pytest.raises(NotFound):
        use_cases.register(uow, Register(uuid.uuid4(), "anna"))


def test_withdrawing_frees_the_place_and_says_how_many_are_left(uow):
    meeting = schedule(uow, capacity=1)
    use_cases.register(uow, Register(meeting["id"], "anna"))
    use_cases.withdraw(uow, Withdraw(meeting["id"], "anna"))
    assert uow.events[-1]["type"] == "MeetingRegistrationWithdrawn"
    assert uow.events[-1]["data"]["registered"] == 0 and uow.events[-1]["data"]["attendee_id"] == "anna"
    assert use_cases.register(uow, Register(meeting["id"], "ben"))[1]["registered"] == 1  # the place is free
    with pytest.raises(NotFound) as twice:
        use_cases.withdraw(uow, Withdraw(meeting["id"], "anna"))
    assert twice.value.message == "registration not found"


def test_cancelling_once_emits_once_and_bumps_the_sequence(uow):
    meeting = schedule(uow)
    uow.clock.advance(hours=1)
    cancelled = use_cases.cancel_meeting(uow, CancelMeeting(meeting["id"], "Referent erkrankt"))
    assert cancelled["sequence"] == 1 and cancelled["cancelled_at"] == uow.now()
    assert cancelled["updated_at"] == uow.now() and cancelled["cancel_reason"] == "Referent erkrankt"
    again = use_cases.cancel_meeting(uow, CancelMeeting(meeting["id"], "noch einmal"))
    assert again["sequence"] == 1 and again["cancel_reason"] == "Referent erkrankt"
    assert uow.types() == ["MeetingScheduled", "MeetingCancelled"]
    assert uow.events[1]["data"]["reason"] == "Referent erkrankt"


def test_a_meeting_that_is_over_cannot_be_cancelled(uow):
    meeting = schedule(uow)
    uow.clock.now = meeting["ends_at"]
    with pytest.raises(Conflict):
        use_cases.cancel_meeting(uow, CancelMeeting(meeting["id"], "zu spät"))


def test_upcoming_leaves_out_cancelled_and_finished_meetings(uow):
    later, sooner, dropped = schedule(uow, days=5), schedule(uow, days=2), schedule(uow, days=3)
    use_cases.cancel_meeting(uow, CancelMeeting(dropped["id"], "Raum nicht verfügbar"))
    upcoming = use_cases.list_meetings(uow, ListMeetings(municipality="gera", upcoming=True))
    assert [m["id"] for m in upcoming] == [sooner["id"], later["id"]]
    everything = use_cases.list_meetings(uow, ListMeetings(working_group_id=GROUP))
    assert [m["id"] for m in everything] == [sooner["id"], dropped["id"], later["id"]]
    uow.clock.now = sooner["ends_at"]
    assert [m["id"] for m in use_cases.list_meetings(uow, ListMeetings(upcoming=True))] == [later["id"]]
    assert use_cases.list_meetings(uow, ListMeetings(municipality="grossenhain")) == []
    assert use_cases.get_meeting(uow, GetMeeting(later["id"]))["title"] == "Made in Gera"


def test_calendars_of_a_municipality_and_a_group(uow):
    schedule(uow, title="Smartes Wohnen")
    schedule(uow, kind="plenary", working_group_id=None, title="Vollversammlung")
    whole = use_cases.municipality_calendar(uow, MunicipalityCalendar("gera"))
    assert whole.count("BEGIN:VEVENT") == 2 and "X-WR-CALNAME:SmartCity Gera\r\n" in whole
    group = use_cases.working_group_calendar(uow, WorkingGroupCalendar(GROUP))
    assert group.count("BEGIN:VEVENT") == 1 and "SUMMARY:Smartes Wohnen" in group
    with pytest.raises(NotFound):
        use_cases.municipality_calendar(uow, MunicipalityCalendar("atlantis"))
    with pytest.raises(NotFound):
        use_cases.working_group_calendar(uow, WorkingGroupCalendar(uuid.uuid4()))


# --- the iCalendar writer ---------------------------------------------------------------

def test_text_values_escape_backslash_semicolon_comma_and_line_breaks():
    assert calendar.escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


def test_lines_fold_at_75_octets_without_splitting_a_character():
    line = "SUMMARY:" + "ä" * 100  # two octets each
    folded = calendar.fold(line)
    physical = folded.split("\r\n")[:-1]
    assert folded.endswith("\r\n") and len(physical) > 1
    assert all(len(part.encode("utf-8")) <= 75 for part in physical)
    assert all(part.startswith(" ") for part in physical[1:])
    assert "".join([physical[0]] + [part[1:] for part in physical[1:]]) == line  # unfolds to the same
    assert calendar.fold("SHORT:x") == "SHORT:x\r\n"


def test_a_cancelled_meeting_keeps_its_uid_with_status_cancelled_and_a_higher_sequence(uow):
    meeting = schedule(uow, title="Daten, Netze; und mehr")
    before = use_cases.municipality_calendar(uow, MunicipalityCalendar("gera"))
    use_cases.cancel_meeting(uow, CancelMeeting(meeting["id"], "Referent erkrankt"))
    after = use_cases.municipality_calendar(uow, MunicipalityCalendar("gera"))
    uid = f"UID:{meeting['id']}@{calendar.UID_DOMAIN}\r\n"
    assert uid in before and uid in after
    assert "STATUS:CONFIRMED" in before and "SEQUENCE:0" in before
    assert "STATUS:CANCELLED" in after and "SEQUENCE:1" in after
    assert "SUMMARY:Daten\\, Netze\\; und mehr" in after
    assert "DTSTART:20210204T160000Z" in after
