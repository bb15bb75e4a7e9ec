"""Meeting use cases: `use_case(uow, command) -> result`, each in one transaction with its events.

Registrations lock the meeting's row, so parallel requests are counted one after another and the
cap holds; registering again or cancelling again changes nothing and emits nothing.
"""
import uuid

from shared.errors import InvalidInput, NotFound, found

from . import calendar, domain
from .commands import (CancelMeeting, GetMeeting, ListMeetings, MunicipalityCalendar, Register, ScheduleMeeting,
                       Withdraw, WorkingGroupCalendar)


def _ref(meeting):
    return {"meeting_id": meeting["id"], "municipality": meeting["municipality"],
            "working_group_id": meeting["working_group_id"]}


def schedule_meeting(uow, command: ScheduleMeeting):
    now = uow.now()
    domain.check_times(command.starts_at, command.ends_at, now)
    meeting = {"id": uuid.uuid4(), "municipality": command.municipality, "working_group_id": command.working_group_id,
               "kind": command.kind, "title": command.title, "starts_at": command.starts_at,
               "ends_at": command.ends_at, "place": command.place, "online_url": command.online_url,
               "capacity": command.capacity, "registered": 0, "sequence": 0, "created_at": now, "updated_at": now,
               "cancelled_at": None, "cancel_reason": None}
    with uow:
        if not uow.repo.municipality_exists(command.municipality):
            raise InvalidInput("unknown municipality", {"municipality": ["unknown municipality"]})
        if command.working_group_id is not None:
            group = uow.repo.working_group(command.working_group_id)
            if group is None or group["municipality"] != command.municipality:
                raise InvalidInput("unknown working group",
                                   {"working_group_id": [f"no such working group in {command.municipality}"]})
        uow.repo.add_meeting(meeting)
        uow.emit("MeetingScheduled", {
            **_ref(meeting), "kind": meeting["kind"], "title": meeting["title"], "starts_at": meeting["starts_at"],
            "ends_at": meeting["ends_at"], "place": meeting["place"], "online_url": meeting["online_url"],
            "capacity": meeting["capacity"], "scheduled_at": now,
        }, subject=str(meeting["id"]))
        return uow.repo.get_meeting(meeting["id"])


def get_meeting(uow, query: GetMeeting):
    with uow:
        return found(uow.repo.get_meeting(query.meeting_id), "meeting")


def list_meetings(uow, query: ListMeetings):
    now = uow.now()
    with uow:
        return uow.repo.list_meetings(municipality=query.municipality, working_group_id=query.working_group_id,
                                      ending_after=now if query.upcoming else None, limit=query.limit)


def register(uow, command: Register):
    """(created, registration): created is False when the attendee was registered already."""
    now = uow.now()
    with uow:
        meeting = found(uow.repo.get_meeting(command.meeting_id, lock=True), "meeting")
        existing = uow.repo.get_registration(command.meeting_id, command.attendee_id)
        if existing is not None:
            return False, _registration(meeting, existing["registered_at"], meeting["registered"])
        domain.check_registration(meeting, now)
        registered = uow.repo.add_registration(command.meeting_id, command.attendee_id, now)
        uow.emit("MeetingRegistered", {
            **_ref(meeting), "attendee_id": command.attendee_id, "registered": registered,
            "capacity": meeting["capacity"], "registered_at": now,
        }, subject=str(meeting["id"]))
    return True, _registration(meeting, now, registered)


def _registration(meeting, registered_at, registered):
    return {"meeting_id": meeting["id"], "registered_at": registered_at, "registered": registered,
            "capacity": meeting["capacity"], "starts_at": meeting["starts_at"]}


def withdraw(uow, command: Withdraw):
    now = uow.now()
    with uow:
        meeting = found(uow.repo.get_meeting(command.meeting_id, lock=True), "meeting")
        if uow.repo.get_registration(command.meeting_id, command.attendee_id) is None:
            raise NotFound("registration")
        domain.check_withdrawal(meeting, now)
        registered = uow.repo.remove_registration(command.meeting_id, command.attendee_id)
        uow.emit("MeetingRegistrationWithdrawn", {
            **_ref(meeting), "attendee_id": command.attendee_id, "registered": registered,
            "capacity": meeting["capacity"], "withdrawn_at": now,
        }, subject=str(meeting["id"]))


def cancel_meeting(uow, command: CancelMeeting):
    """Cancel once: MeetingCancelled the first time; again, the meeting as it is and no event."""
    now = uow.now()
    with uow:
        meeting = found(uow.repo.get_meeting(command.meeting_id, lock=True), "meeting")
        if meeting["cancelled_at"] is not None:
            return meeting
        domain.check_cancellation(meeting, now)
        meeting = uow.repo.cancel_meeting(command.meeting_id, command.reason, now)
        uow.emit("MeetingCancelled", {
            **_ref(meeting), "kind": meeting["kind"], "title": meeting["title"], "starts_at": meeting["starts_at"],
            "reason": command.reason, "cancelled_at": now,
        }, subject=str(meeting["id"]))
    return meeting


def municipality_calendar(uow, query: MunicipalityCalendar):
    """The municipality's meetings, every one of them, as an iCalendar document (str)."""
    with uow:
        name = uow.repo.municipality_name(query.municipality)
        if name is None:
            raise NotFound(f"municipality {query.municipality!r}")
        meetings = uow.repo.list_meetings(municipality=query.municipality)
    return calendar.render(f"SmartCity {name}", meetings)


def working_group_calendar(uow, query: WorkingGroupCalendar):
    """A working group's meetings as an iCalendar document (str)."""
    with uow:
        group = found(uow.repo.working_group(query.working_group_id), "working group")
        meetings = uow.repo.list_meetings(working_group_id=query.working_group_id)
    return calendar.render(f"SmartCity {group['name']}", meetings)
