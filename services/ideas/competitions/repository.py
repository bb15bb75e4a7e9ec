"""SQL of competitions and their shortlists: a rows mixin of IdeasRepository (uses `self.cur`)."""

_COMPETITION = ("SELECT c.id, c.municipality, c.field_of_action, c.theme, c.opens_at, c.closes_at, c.jury,"
                " c.created_at, c.closed_at,"
                " (SELECT count(*) FROM ideas i WHERE i.competition_id = c.id) AS entry_count FROM competitions c")


class CompetitionRows:
    def add_competition(self, competition):
        self.cur.execute(
            "INSERT INTO competitions (id, municipality, field_of_action, theme, opens_at, closes_at, jury,"
            " created_at, closed_at) VALUES (%(id)s, %(municipality)s, %(field_of_action)s, %(theme)s,"
            " %(opens_at)s, %(closes_at)s, %(jury)s, %(created_at)s, %(closed_at)s)", competition)

    def get_competition(self, competition_id, lock=False):
        """The competition with its number of entries, or None; `lock`: FOR UPDATE of the competition."""
        self.cur.execute(_COMPETITION + " WHERE c.id = %s" + (" FOR UPDATE OF c" if lock else ""), (competition_id,))
        return self.cur.fetchone()

    def competitions(self, municipality=None):
        """Newest window first."""
        self.cur.execute(_COMPETITION + " WHERE %(m)s::text IS NULL OR c.municipality = %(m)s"
                         " ORDER BY c.opens_at DESC, c.id", {"m": municipality})
        return self.cur.fetchall()

    def competition_entries(self, competition_id):
        """[{id, title, field_of_action, status, shortlisted}] in the order they were entered."""
        self.cur.execute(
            "SELECT i.id, i.title, i.field_of_action, i.status, (s.idea_id IS NOT NULL) AS shortlisted FROM ideas i"
            " LEFT JOIN competition_shortlist s ON s.competition_id = i.competition_id AND s.idea_id = i.id"
            " WHERE i.competition_id = %s ORDER BY i.created_at, i.id", (competition_id,))
        return self.cur.fetchall()

    def close_competition(self, competition_id, now):
        """Close it, if still open: the row with its entries, or None when it was closed already."""
        self.cur.execute("UPDATE competitions SET closed_at = %s WHERE id = %s AND closed_at IS NULL RETURNING id",
                         (now, competition_id))
        return self.get_competition(competition_id) if self.cur.fetchone() else None

    def claim_due_competitions(self, now):
        """Close every competition whose window ended, once; the rows closed (with their entries).

        The UPDATE's row locks make concurrent checkers (replicas) close each one only once.
        """
        self.cur.execute("UPDATE competitions SET closed_at = %s WHERE closes_at <= %s AND closed_at IS NULL"
                         " RETURNING id", (now, now))
        ids = [row["id"] for row in self.cur.fetchall()]
        if not ids:
            return []
        self.cur.execute(_COMPETITION + " WHERE c.id = ANY(%s) ORDER BY c.closes_at, c.id", (ids,))
        return self.cur.fetchall()

    def add_shortlisted(self, competition_id, idea_id, judge, now):
        """False when the entry is on the shortlist already."""
        self.cur.execute("INSERT INTO competition_shortlist (competition_id, idea_id, shortlisted_by, shortlisted_at)"
                         " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING idea_id",
                         (competition_id, idea_id, judge, now))
        return self.cur.fetchone() is not None
