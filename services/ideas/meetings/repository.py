"""Meeting rows of the ideas repository (composed into services/ideas/repository.IdeasRepository).

Rows come back with their working group's name (`working_group`, None for municipality-wide ones);
the groups themselves are GroupRows' (services/ideas/groups/repository.py).
The registration count lives on the meeting row, changed only while that row is locked, together
with the registration itself: the cap holds for parallel requests (and the table's CHECK holds too).
"""
MEETING_COLUMNS = ("m.id, m.municipality, m.working_group_id, g.name AS working_group, m.kind, m.title,"
                   " m.starts_at, m.ends_at, m.place, m.online_url, m.capacity, m.registered, m.sequence,"
                   " m.created_at, m.updated_at, m.cancelled_at, m.cancel_reason")
_FROM = " FROM meetings m LEFT JOIN working_groups g ON g.id = m.working_group_id"


class MeetingRows:
    def municipality_name(self, slug):
        self.cur.execute("SELECT name FROM municipalities WHERE slug = %s", (slug,))
        row = self.cur.fetchone()
        return row["name"] if row else None

    def add_meeting(self, meeting):
        self.cur.execute(
            "INSERT INTO meetings (id, municipality, working_group_id, kind, title, starts_at, ends_at, place,"
            " online_url, capacity, registered, sequence, created_at, updated_at, cancelled_at, cancel_reason)"
            " VALUES (%(id)s, %(municipality)s, %(working_group_id)s, %(kind)s, %(title)s, %(starts_at)s,"
            " %(ends_at)s, %(place)s, %(online_url)s, %(capacity)s, %(registered)s, %(sequence)s, %(created_at)s,"
            " %(updated_at)s, %(cancelled_at)s, %(cancel_reason)s)",
            meeting,
        )

    def get_meeting(self, meeting_id, lock=False):
        """The meeting or None; `lock`: its row FOR UPDATE until the transaction ends."""
        self.cur.execute(f"SELECT {MEETING_COLUMNS}{_FROM} WHERE m.id = %s"
                         + (" FOR UPDATE OF m" if lock else ""), (meeting_id,))
        return self.cur.fetchone()

    def list_meetings(self, *, municipality=None, working_group_id=None, ending_after=None, limit=None):
        """Meetings by start time; `ending_after`: only those not cancelled that end after that time."""
        where, params = [], []
        for column, value in (("m.municipality", municipality), ("m.working_group_id", working_group_id)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        if ending_after is not None:
            where.append("m.cancelled_at IS NULL AND m.ends_at > %s")
            params.append(ending_after)
        condition = " WHERE " + " AND ".join(where) if where else ""
        self.cur.execute(f"SELECT {MEETING_COLUMNS}{_FROM}{condition} ORDER BY m.starts_at, m.id"
                         + (" LIMIT %s" if limit is not None else ""), params + ([limit] if limit is not None else []))
        return self.cur.fetchall()

    def get_registration(self, meeting_id, attendee_id):
        self.cur.execute("SELECT meeting_id, attendee_id, registered_at FROM meeting_registrations"
                         " WHERE meeting_id = %s AND attendee_id = %s", (meeting_id, attendee_id))
        return self.cur.fetchone()

    def add_registration(self, meeting_id, attendee_id, now):
        """Register and count it; the meeting's new `registered`. The caller holds the meeting's lock."""
        self.cur.execute("INSERT INTO meeting_registrations (meeting_id, attendee_id, registered_at)"
                         " VALUES (%s, %s, %s)", (meeting_id, attendee_id, now))
        self.cur.execute("UPDATE meetings SET registered = registered + 1 WHERE id = %s RETURNING registered",
                         (meeting_id,))
        return self.cur.fetchone()["registered"]

    def remove_registration(self, meeting_id, attendee_id):
        """Withdraw and count it; the meeting's new `registered`. The caller holds the meeting's lock."""
        self.cur.execute("DELETE FROM meeting_registrations WHERE meeting_id = %s AND attendee_id = %s",
                         (meeting_id, attendee_id))
        self.cur.execute("UPDATE meetings SET registered = registered - 1 WHERE id = %s RETURNING registered",
                         (meeting_id,))
        return self.cur.fetchone()["registered"]

    def cancel_meeting(self, meeting_id, reason, now):
        """Mark it cancelled, bump its calendar SEQUENCE; the meeting as it is now."""
        self.cur.execute("UPDATE meetings SET cancelled_at = %s, cancel_reason = %s, updated_at = %s,"
                         " sequence = sequence + 1 WHERE id = %s", (now, reason, now, meeting_id))
        return self.get_meeting(meeting_id)
