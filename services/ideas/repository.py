"""PostgreSQL adapter of the ideas service: every SQL statement lives here. Takes a cursor."""
IDEA_COLUMNS = ("id, municipality, field_of_action, title, description, channel, working_group, lat, lon,"
                " author_id, status, status_reason, created_at, updated_at, published_at")
MILESTONE_COLUMNS = "id, municipality, idea_id, title, description, due_date, created_at, reached_at, overdue_at"


def municipalities(cur):
    cur.execute("SELECT slug, name, state FROM municipalities ORDER BY slug")
    return cur.fetchall()


def municipality_exists(cur, slug):
    cur.execute("SELECT 1 FROM municipalities WHERE slug = %s", (slug,))
    return cur.fetchone() is not None


def fields_of_action(cur, municipality):
    cur.execute("SELECT slug, name FROM fields_of_action WHERE municipality = %s ORDER BY position", (municipality,))
    return cur.fetchall()


def reference_check(cur, municipality, field):
    """(municipality exists, field of action exists in it), in one round trip."""
    cur.execute(
        "SELECT EXISTS (SELECT 1 FROM municipalities WHERE slug = %s) AS municipality,"
        " EXISTS (SELECT 1 FROM fields_of_action WHERE municipality = %s AND slug = %s) AS field",
        (municipality, municipality, field),
    )
    row = cur.fetchone()
    return row["municipality"], row["field"]


def working_groups(cur, municipality, statuses):
    cur.execute(
        "SELECT working_group AS name, count(*) AS ideas FROM ideas"
        " WHERE municipality = %s AND working_group IS NOT NULL AND status = ANY(%s)"
        " GROUP BY working_group ORDER BY working_group",
        (municipality, list(statuses)),
    )
    return cur.fetchall()


def add_idea(cur, idea):
    cur.execute(
        f"INSERT INTO ideas ({IDEA_COLUMNS}) VALUES (%(id)s, %(municipality)s, %(field_of_action)s, %(title)s,"
        " %(description)s, %(channel)s, %(working_group)s, %(lat)s, %(lon)s, %(author_id)s, %(status)s,"
        " %(status_reason)s, %(created_at)s, %(updated_at)s, %(published_at)s)",
        idea,
    )


def get_idea(cur, idea_id, for_update=False):
    cur.execute(f"SELECT {IDEA_COLUMNS} FROM ideas WHERE id = %s" + (" FOR UPDATE" if for_update else ""),
                (idea_id,))
    return cur.fetchone()


def set_status(cur, idea_id, status, reason, now):
    cur.execute(
        f"UPDATE ideas SET status = %s, status_reason = %s, updated_at = %s,"
        " published_at = CASE WHEN %s = 'published' THEN coalesce(published_at, %s) ELSE published_at END"
        f" WHERE id = %s RETURNING {IDEA_COLUMNS}",
        (status, reason, now, status, now, idea_id),
    )
    return cur.fetchone()


def search_ideas(cur, *, statuses=None, author_id=None, municipality=None, field_of_action=None,
                 status=None, working_group=None, text=None, limit=20, offset=0):
    """A page of ideas, newest first, and the total count.

    Visible means: status in `statuses`, or written by `author_id` (None: no restriction).
    """
    where, params = [], []
    if statuses is not None:
        where.append("(status = ANY(%s) OR author_id = %s)")
        params += [list(statuses), author_id]
    for column, value in (("municipality", municipality), ("field_of_action", field_of_action),
                          ("status", status), ("working_group", working_group)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if text:
        where.append("search @@ websearch_to_tsquery('german', %s)")
        params.append(text)
    condition = " WHERE " + " AND ".join(where) if where else ""
    cur.execute(
        f"SELECT {IDEA_COLUMNS}, count(*) OVER () AS total FROM ideas{condition}"
        " ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
        params + [limit, offset],
    )
    rows = cur.fetchall()
    if rows:
        return rows, rows[0]["total"]
    cur.execute(f"SELECT count(*) AS total FROM ideas{condition}", params)
    return [], cur.fetchone()["total"]


def add_milestone(cur, milestone):
    cur.execute(
        f"INSERT INTO milestones ({MILESTONE_COLUMNS}) VALUES (%(id)s, %(municipality)s, %(idea_id)s, %(title)s,"
        " %(description)s, %(due_date)s, %(created_at)s, %(reached_at)s, %(overdue_at)s)",
        milestone,
    )


def get_milestone(cur, milestone_id, for_update=False):
    cur.execute(f"SELECT {MILESTONE_COLUMNS} FROM milestones WHERE id = %s" + (" FOR UPDATE" if for_update else ""),
                (milestone_id,))
    return cur.fetchone()


def mark_reached(cur, milestone_id, reached_at):
    cur.execute(f"UPDATE milestones SET reached_at = %s WHERE id = %s RETURNING {MILESTONE_COLUMNS}",
                (reached_at, milestone_id))
    return cur.fetchone()


def list_milestones(cur, municipality=None, idea_id=None):
    where, params = [], []
    for column, value in (("municipality", municipality), ("idea_id", idea_id)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    condition = " WHERE " + " AND ".join(where) if where else ""
    cur.execute(f"SELECT {MILESTONE_COLUMNS} FROM milestones{condition} ORDER BY due_date, title", params)
    return cur.fetchall()


def claim_overdue(cur, today, now):
    """Mark every unreached milestone due before `today` as overdue, once; return those rows.

    The UPDATE's row locks make concurrent checkers (replicas) claim each milestone only once.
    """
    cur.execute(
        f"UPDATE milestones SET overdue_at = %s WHERE due_date < %s AND reached_at IS NULL AND overdue_at IS NULL"
        f" RETURNING {MILESTONE_COLUMNS}",
        (now, today),
    )
    return cur.fetchall()
