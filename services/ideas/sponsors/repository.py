"""SQL of idea sponsorships: a rows mixin of IdeasRepository (uses `self.cur`)."""

_COLUMNS = "id, idea_id, sponsor_id, kind, display_name, show_name, status, offered_at, accepted_at"


class SponsorRows:
    def add_sponsorship(self, sponsorship):
        """False when this sponsor has offered to sponsor this idea already."""
        self.cur.execute(
            f"INSERT INTO sponsorships ({_COLUMNS}) VALUES (%(id)s, %(idea_id)s, %(sponsor_id)s, %(kind)s,"
            " %(display_name)s, %(show_name)s, %(status)s, %(offered_at)s, %(accepted_at)s)"
            " ON CONFLICT (idea_id, sponsor_id) DO NOTHING RETURNING id", sponsorship)
        return self.cur.fetchone() is not None

    def get_sponsorship(self, sponsorship_id, lock=False):
        self.cur.execute(f"SELECT {_COLUMNS} FROM sponsorships WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                         (sponsorship_id,))
        return self.cur.fetchone()

    def accept_sponsorship(self, sponsorship_id, now):
        self.cur.execute(f"UPDATE sponsorships SET status = 'accepted', accepted_at = %s WHERE id = %s"
                         f" RETURNING {_COLUMNS}", (now, sponsorship_id))
        return self.cur.fetchone()

    def sponsorships(self, idea_id, accepted_only):
        """An idea's sponsorships in the order they were offered."""
        self.cur.execute(f"SELECT {_COLUMNS} FROM sponsorships WHERE idea_id = %s"
                         " AND (NOT %s OR status = 'accepted') ORDER BY offered_at, id", (idea_id, accepted_only))
        return self.cur.fetchall()
