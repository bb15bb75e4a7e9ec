"""SQL of working groups and their members: a rows mixin of IdeasRepository (uses `self.cur`)."""

_GROUP = ("SELECT g.id, g.municipality, g.name, g.kind, g.field_of_action, g.created_at,"
          " (SELECT count(*) FROM working_group_members m WHERE m.working_group_id = g.id) AS members,"
          " (SELECT count(*) FROM ideas i WHERE i.working_group_id = g.id AND i.status = ANY(%(statuses)s)) AS ideas"
          " FROM working_groups g")


class GroupRows:
    def add_group(self, group):
        """Insert the group; False when the municipality has one of that name (any case) already."""
        self.cur.execute(
            "INSERT INTO working_groups (id, municipality, name, kind, field_of_action, created_at)"
            " VALUES (%(id)s, %(municipality)s, %(name)s, %(kind)s, %(field_of_action)s, %(created_at)s)"
            " ON CONFLICT (municipality, lower(name)) DO NOTHING RETURNING id", group)
        return self.cur.fetchone() is not None

    def groups(self, municipality, statuses):
        """The groups (of one municipality, or all) by name, each with its number of members and of ideas
        in `statuses`."""
        self.cur.execute(_GROUP + " WHERE %(municipality)s::text IS NULL OR g.municipality = %(municipality)s"
                         " ORDER BY g.municipality, lower(g.name)",
                         {"municipality": municipality, "statuses": list(statuses)})
        return self.cur.fetchall()

    def get_group(self, group_id, statuses):
        self.cur.execute(_GROUP + " WHERE g.id = %(id)s", {"id": group_id, "statuses": list(statuses)})
        return self.cur.fetchone()

    def working_group(self, group_id):
        """The working group row (without counts) or None: what an idea needs to belong to it."""
        self.cur.execute("SELECT id, municipality, name, kind, field_of_action, created_at FROM working_groups"
                         " WHERE id = %s", (group_id,))
        return self.cur.fetchone()

    def group_named(self, municipality, name):
        """The group of that name (case-insensitive) in the municipality, or None."""
        self.cur.execute("SELECT id, municipality, name, kind, field_of_action, created_at FROM working_groups"
                         " WHERE municipality = %s AND lower(name) = lower(%s)", (municipality, name))
        return self.cur.fetchone()

    def member_ids(self, group_id):
        self.cur.execute("SELECT member_id FROM working_group_members WHERE working_group_id = %s"
                         " ORDER BY added_at, member_id", (group_id,))
        return [row["member_id"] for row in self.cur.fetchall()]

    def is_member(self, group_id, subject):
        self.cur.execute("SELECT 1 FROM working_group_members WHERE working_group_id = %s AND member_id = %s",
                         (group_id, subject))
        return self.cur.fetchone() is not None

    def add_member(self, group_id, member_id, now):
        """False when already a member."""
        self.cur.execute("INSERT INTO working_group_members (working_group_id, member_id, added_at)"
                         " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING member_id", (group_id, member_id, now))
        return self.cur.fetchone() is not None

    def remove_member(self, group_id, member_id):
        """False when not a member."""
        self.cur.execute("DELETE FROM working_group_members WHERE working_group_id = %s AND member_id = %s"
                         " RETURNING member_id", (group_id, member_id))
        return self.cur.fetchone() is not None
