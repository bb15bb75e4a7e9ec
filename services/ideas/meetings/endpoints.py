"""HTTP entrypoints of the meetings (a mixin of services/ideas/service.IdeasService; they use `self.uow`)."""
from werkzeug.wrappers import Response

from shared.web import AUTHENTICATED, api

from . import use_cases
from .commands import (CancelMeeting, GetMeeting, ListMeetings, MunicipalityCalendar, Register, ScheduleMeeting,
                       Withdraw, WorkingGroupCalendar)
from .schemas import Cancellation, MeetingOut, MeetingQuery, NewMeeting, RegistrationOut

STAFF = ("staff",)
MEETINGS = ["meetings"]
CALENDAR_TYPE = "text/calendar; charset=utf-8"


def _calendar(text, filename):
    return Response(text, content_type=CALENDAR_TYPE,
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


class MeetingEndpoints:
    @api("POST", "/api/v1/meetings", body=NewMeeting, roles=STAFF, status=201, response=MeetingOut, tags=MEETINGS,
         summary="Schedule a theme evening or plenary meeting (in the future; a place or an https link)")
    def schedule_meeting(self, request):
        return use_cases.schedule_meeting(self.uow, ScheduleMeeting(**request.data))

    @api("GET", "/api/v1/meetings", query=MeetingQuery, response=MeetingOut(many=True), tags=MEETINGS,
         summary="Meetings by start time; filter municipality, working_group_id, upcoming")
    def list_meetings(self, request):
        return use_cases.list_meetings(self.uow, ListMeetings(**request.query_data))

    @api("GET", "/api/v1/meetings/<uuid:meeting_id>", response=MeetingOut, tags=MEETINGS)
    def get_meeting(self, request, meeting_id):
        return use_cases.get_meeting(self.uow, GetMeeting(meeting_id))

    @api("POST", "/api/v1/meetings/<uuid:meeting_id>/registrations", roles=AUTHENTICATED, status=201,
         response=RegistrationOut, tags=MEETINGS,
         summary="Register the token's subject (again: 200, unchanged); 409 when full, cancelled or begun")
    def register_for_meeting(self, request, meeting_id):
        created, registration = use_cases.register(self.uow, Register(meeting_id, request.principal.subject))
        return (201 if created else 200), registration

    @api("DELETE", "/api/v1/meetings/<uuid:meeting_id>/registrations/me", roles=AUTHENTICATED, status=204,
         tags=MEETINGS, summary="Withdraw the token subject's registration")
    def withdraw_from_meeting(self, request, meeting_id):
        use_cases.withdraw(self.uow, Withdraw(meeting_id, request.principal.subject))
        return 204, None

    @api("POST", "/api/v1/meetings/<uuid:meeting_id>/cancellation", body=Cancellation, roles=STAFF,
         response=MeetingOut, tags=MEETINGS, summary="Cancel the meeting (again: no change, no event)")
    def cancel_meeting(self, request, meeting_id):
        return use_cases.cancel_meeting(self.uow, CancelMeeting(meeting_id, **request.data))

    @api("GET", "/api/v1/municipalities/<slug>/meetings.ics", tags=MEETINGS,
         summary="The municipality's meetings as an iCalendar feed (text/calendar)")
    def municipality_calendar(self, request, slug):
        return _calendar(use_cases.municipality_calendar(self.uow, MunicipalityCalendar(slug)), f"{slug}-meetings.ics")

    @api("GET", "/api/v1/working-groups/<uuid:group_id>/meetings.ics", tags=MEETINGS,
         summary="A working group's meetings as an iCalendar feed (text/calendar)")
    def working_group_calendar(self, request, group_id):
        return _calendar(use_cases.working_group_calendar(self.uow, WorkingGroupCalendar(group_id)),
                         f"working-group-{group_id}-meetings.ics")
