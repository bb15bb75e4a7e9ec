"""PostgreSQL rows of sub-concepts and the strategy draft: a mixin of IdeasRepository (`self.cur` is
its cursor, in the unit of work's transaction). tests/ideas/unit/fake_strategy.py is its twin."""

SUB_CONCEPT_COLUMNS = "id, municipality, working_group_id, title, summary, field_of_action, created_at, submitted_at"
STRATEGY_COLUMNS = "id, municipality, title, created_at, adopted_at"
VERSION_COLUMNS = ("strategy_id, version, summary, sub_concept_ids, published_at, feedback_until, feedback_closed_at,"
                   " comments, council_outcome, council_date, council_reason, decided_at")
# A closed window as StrategyFeedbackClosed needs it: the version and its strategy's municipality.
CLOSED_COLUMNS = "v.strategy_id, v.version, v.feedback_closed_at, s.municipality"


class StrategyRows:
    """Working groups and their members are GroupRows' (services/ideas/groups/repository.py)."""

    # --- sub-concepts ---

    def add_sub_concept(self, sub_concept):
        self.cur.execute(
            f"INSERT INTO sub_concepts ({SUB_CONCEPT_COLUMNS}) VALUES (%(id)s, %(municipality)s, %(working_group_id)s,"
            " %(title)s, %(summary)s, %(field_of_action)s, %(created_at)s, %(submitted_at)s)", sub_concept)

    def get_sub_concept(self, sub_concept_id, lock=False):
        self.cur.execute(f"SELECT {SUB_CONCEPT_COLUMNS} FROM sub_concepts WHERE id = %s"
                         + (" FOR UPDATE" if lock else ""), (sub_concept_id,))
        return self.cur.fetchone()

    def list_sub_concepts(self, municipality):
        """The municipality's sub-concepts, oldest first, each with its number of integrated ideas."""
        self.cur.execute(
            f"SELECT {SUB_CONCEPT_COLUMNS}, (SELECT count(*) FROM ideas i WHERE i.sub_concept_id = s.id) AS idea_count"
            " FROM sub_concepts s WHERE municipality = %s ORDER BY created_at, id", (municipality,))
        return self.cur.fetchall()

    def sub_concepts_by_ids(self, ids):
        """{id: sub-concept} of those of `ids` that exist."""
        if not ids:
            return {}
        self.cur.execute(f"SELECT {SUB_CONCEPT_COLUMNS} FROM sub_concepts WHERE id = ANY(%s)", (list(ids),))
        return {row["id"]: row for row in self.cur.fetchall()}

    def sub_concept_ideas(self, sub_concept_id):
        """The ideas integrated into a sub-concept, in the order they came: {id, title, field_of_action,
        status, integrated_at}."""
        self.cur.execute("SELECT id, title, field_of_action, status, integrated_at FROM ideas"
                         " WHERE sub_concept_id = %s ORDER BY integrated_at, id", (sub_concept_id,))
        return self.cur.fetchall()

    def integrate_idea(self, idea_id, sub_concept_id, now):
        self.cur.execute("UPDATE ideas SET sub_concept_id = %s, integrated_at = %s WHERE id = %s",
                         (sub_concept_id, now, idea_id))

    def lock_sub_concepts_of(self, municipality):
        """Until the transaction ends, no other submission in the municipality proceeds past this point."""
        self.cur.execute("SELECT pg_advisory_xact_lock(hashtext('sub_concepts:' || %s))", (municipality,))

    def mark_sub_concept_submitted(self, sub_concept_id, now):
        self.cur.execute(f"UPDATE sub_concepts SET submitted_at = %s WHERE id = %s RETURNING {SUB_CONCEPT_COLUMNS}",
                         (now, sub_concept_id))
        return self.cur.fetchone()

    # --- strategies and their versions ---

    def add_strategy(self, strategy):
        self.cur.execute(f"INSERT INTO strategies ({STRATEGY_COLUMNS}) VALUES (%(id)s, %(municipality)s, %(title)s,"
                         " %(created_at)s, %(adopted_at)s)", strategy)

    def get_strategy(self, strategy_id, lock=False):
        self.cur.execute(f"SELECT {STRATEGY_COLUMNS} FROM strategies WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                         (strategy_id,))
        return self.cur.fetchone()

    def list_strategies(self, municipality):
        self.cur.execute(f"SELECT {STRATEGY_COLUMNS} FROM strategies WHERE municipality = %s ORDER BY created_at, id",
                         (municipality,))
        return self.cur.fetchall()

    def mark_adopted(self, strategy_id, now):
        self.cur.execute(f"UPDATE strategies SET adopted_at = %s WHERE id = %s RETURNING {STRATEGY_COLUMNS}",
                         (now, strategy_id))
        return self.cur.fetchone()

    def add_version(self, version):
        self.cur.execute(
            f"INSERT INTO strategy_versions ({VERSION_COLUMNS}) VALUES (%(strategy_id)s, %(version)s, %(summary)s,"
            " %(sub_concept_ids)s::uuid[], %(published_at)s, %(feedback_until)s, %(feedback_closed_at)s, %(comments)s,"
            " %(council_outcome)s, %(council_date)s, %(council_reason)s, %(decided_at)s)", version)

    def strategy_versions(self, strategy_id):
        self.cur.execute(f"SELECT {VERSION_COLUMNS} FROM strategy_versions WHERE strategy_id = %s ORDER BY version",
                         (strategy_id,))
        return self.cur.fetchall()

    def latest_version(self, strategy_id, share=False):
        """The newest version or None; `share`: FOR SHARE, so its window cannot close under a comment."""
        self.cur.execute(f"SELECT {VERSION_COLUMNS} FROM strategy_versions WHERE strategy_id = %s"
                         " ORDER BY version DESC LIMIT 1" + (" FOR SHARE" if share else ""), (strategy_id,))
        return self.cur.fetchone()

    def close_feedback(self, strategy_id, version, now):
        """Close one version's window now, once: the closed version (CLOSED_COLUMNS), or None if it was."""
        self.cur.execute(
            "UPDATE strategy_versions v SET feedback_closed_at = %s FROM strategies s WHERE s.id = v.strategy_id"
            f" AND v.strategy_id = %s AND v.version = %s AND v.feedback_closed_at IS NULL RETURNING {CLOSED_COLUMNS}",
            (now, strategy_id, version))
        return self.cur.fetchone()

    def claim_due_feedback(self, now):
        """Close every window whose end passed, once (the UPDATE's row locks keep replicas apart)."""
        self.cur.execute(
            "UPDATE strategy_versions v SET feedback_closed_at = %s FROM strategies s WHERE s.id = v.strategy_id"
            f" AND v.feedback_until <= %s AND v.feedback_closed_at IS NULL RETURNING {CLOSED_COLUMNS}", (now, now))
        return self.cur.fetchall()

    def set_version_comments(self, strategy_id, version, comments):
        self.cur.execute("UPDATE strategy_versions SET comments = %s WHERE strategy_id = %s AND version = %s",
                         (comments, strategy_id, version))

    def record_council_decision(self, strategy_id, version, outcome, council_date, reason, now):
        self.cur.execute(
            "UPDATE strategy_versions SET council_outcome = %s, council_date = %s, council_reason = %s, decided_at = %s"
            " WHERE strategy_id = %s AND version = %s", (outcome, council_date, reason, now, strategy_id, version))
