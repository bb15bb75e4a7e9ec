"""Survey rows of the ideas repository (composed into services/ideas/repository.IdeasRepository)."""
import psycopg2.extras

SURVEY_COLUMNS = "s.id, s.municipality, s.title, s.conducted_by, s.period_start, s.period_end, s.imported_at"


class SurveyRows:
    def add_survey(self, survey, rows):
        self.cur.execute(
            "INSERT INTO surveys (id, municipality, title, conducted_by, period_start, period_end, imported_at)"
            " VALUES (%(id)s, %(municipality)s, %(title)s, %(conducted_by)s, %(period_start)s, %(period_end)s,"
            " %(imported_at)s)", survey)
        psycopg2.extras.execute_values(
            self.cur, "INSERT INTO survey_results (survey_id, position, question, answer, count) VALUES %s",
            [(survey["id"], position, row["question"], row["answer"], row["count"])
             for position, row in enumerate(rows)], page_size=1000)

    def get_survey(self, survey_id):
        """The survey with its `rows` in file order, or None."""
        self.cur.execute(f"SELECT {SURVEY_COLUMNS} FROM surveys s WHERE s.id = %s", (survey_id,))
        survey = self.cur.fetchone()
        if survey is None:
            return None
        self.cur.execute("SELECT question, answer, count FROM survey_results WHERE survey_id = %s ORDER BY position",
                         (survey_id,))
        return {**survey, "rows": self.cur.fetchall()}

    def list_surveys(self, municipality=None):
        """Surveys, latest period first, each with its number of result rows (`row_count`)."""
        condition, params = ("WHERE s.municipality = %s", [municipality]) if municipality else ("", [])
        self.cur.execute(
            f"SELECT {SURVEY_COLUMNS}, (SELECT count(*) FROM survey_results r WHERE r.survey_id = s.id) AS row_count"
            f" FROM surveys s {condition} ORDER BY s.period_end DESC, s.imported_at DESC", params)
        return self.cur.fetchall()
