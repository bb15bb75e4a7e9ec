"""In-memory twins of services/ideas/meetings/repository.MeetingRows and surveys/repository.SurveyRows,
composed into FakeIdeasRepository (tests/ideas/unit/fakes.py): same methods, same row shapes. The working
groups are FakeGroupRows' (tests/ideas/unit/fake_groups.py)."""
import copy


class FakeMeetingRows:
    def __init__(self):
        super().__init__()
        self.meetings = {}  # id -> row (without the group's name)
        self.registrations = {}  # (meeting id, attendee) -> registered_at

    def municipality_name(self, slug):
        return next((row["name"] for row in self.municipality_rows if row["slug"] == slug), None)

    def _shown(self, meeting):
        group = self.groups_by_id.get(meeting["working_group_id"])
        return {**meeting, "working_group": group["name"] if group else None}

    def add_meeting(self, meeting):
        self.meetings[meeting["id"]] = dict(meeting)

    def get_meeting(self, meeting_id, lock=False):
        if lock:
            self.locked.append(meeting_id)
        meeting = self.meetings.get(meeting_id)
        return self._shown(meeting) if meeting is not None else None

    def list_meetings(self, *, municipality=None, working_group_id=None, ending_after=None, limit=None):
        found = [m for m in self.meetings.values()
                 if (municipality is None or m["municipality"] == municipality)
                 and (working_group_id is None or m["working_group_id"] == working_group_id)
                 and (ending_after is None or (m["cancelled_at"] is None and m["ends_at"] > ending_after))]
        found.sort(key=lambda m: (m["starts_at"], str(m["id"])))
        return [self._shown(m) for m in found[:limit]]

    def get_registration(self, meeting_id, attendee_id):
        registered_at = self.registrations.get((meeting_id, attendee_id))
        if registered_at is None:
            return None
        return {"meeting_id": meeting_id, "attendee_id": attendee_id, "registered_at": registered_at}

    def add_registration(self, meeting_id, attendee_id, now):
        assert (meeting_id, attendee_id) not in self.registrations, "primary key violated"
        meeting = self.meetings[meeting_id]
        assert meeting["capacity"] is None or meeting["registered"] < meeting["capacity"], "CHECK violated"
        self.registrations[meeting_id, attendee_id] = now
        meeting["registered"] += 1
        return meeting["registered"]

    def remove_registration(self, meeting_id, attendee_id):
        del self.registrations[meeting_id, attendee_id]
        self.meetings[meeting_id]["registered"] -= 1
        return self.meetings[meeting_id]["registered"]

    def cancel_meeting(self, meeting_id, reason, now):
        meeting = self.meetings[meeting_id]
        meeting.update(cancelled_at=now, cancel_reason=reason, updated_at=now, sequence=meeting["sequence"] + 1)
        return self._shown(meeting)


class FakeSurveyRows:
    def __init__(self):
        super().__init__()
        self.surveys = {}  # id -> row with its "rows"

    def add_survey(self, survey, rows):
        self.surveys[survey["id"]] = {**survey, "rows": copy.deepcopy(rows)}

    def get_survey(self, survey_id):
        return copy.deepcopy(self.surveys.get(survey_id))

    def list_surveys(self, municipality=None):
        found = [s for s in self.surveys.values() if municipality is None or s["municipality"] == municipality]
        found.sort(key=lambda s: (s["period_end"], s["imported_at"]), reverse=True)
        return [{**{k: v for k, v in s.items() if k != "rows"}, "row_count": len(s["rows"])} for s in found]
