"""An in-memory IdeasRepository: the same methods and row shapes as the SQL one, kept in dicts.

Rows are handed out as copies, as a database would; FakeUnitOfWork (tests/fakes.py) restores
the whole repository when a transaction raises. Seeded with a small slice of the migrations'
reference data: Gera and Großenhain with a few of their fields of action.
"""
import copy

from shared.domain import PUBLISHED
from tests.ideas.unit.fake_competitions import FakeCompetitionRows
from tests.ideas.unit.fake_feedback import FakeFeedbackRows
from tests.ideas.unit.fake_groups import FakeGroupRows
from tests.ideas.unit.fake_meetings import FakeMeetingRows, FakeSurveyRows
from tests.ideas.unit.fake_sponsors import FakeSponsorRows
from tests.ideas.unit.fake_strategy import FakeStrategyRows

MUNICIPALITIES = [
    {"slug": "grossenhain", "name": "Großenhain", "name_en": "Großenhain", "state": "Sachsen"},
    {"slug": "gera", "name": "Gera", "name_en": "Gera", "state": "Thüringen"},
]
BOUNDS = {"gera": {"min_lat": 50.80, "max_lat": 50.95, "min_lon": 12.00, "max_lon": 12.20},
          "grossenhain": {"min_lat": 51.25, "max_lat": 51.35, "min_lon": 13.45, "max_lon": 13.65}}
FIELDS_OF_ACTION = {
    "gera": [{"slug": "energie", "name": "Energie", "name_en": "Energy"},
             {"slug": "mobilitaet-infrastruktur", "name": "Mobilität und Infrastruktur",
              "name_en": "Mobility and infrastructure"},
             {"slug": "umwelt", "name": "Umwelt", "name_en": "Environment"}],
    "grossenhain": [{"slug": "verwaltung", "name": "Verwaltung", "name_en": "Administration"},
                    {"slug": "bildung", "name": "Bildung", "name_en": "Education"}],
}


class FakeIdeasRepository(FakeGroupRows, FakeCompetitionRows, FakeSponsorRows, FakeMeetingRows, FakeSurveyRows,
                          FakeStrategyRows, FakeFeedbackRows):
    def __init__(self):
        self.ideas = {}  # id -> row (the mixins count in it)
        self.locked = []  # ids read with lock=True, in order: which use cases lock what
        super().__init__()
        self.municipality_rows = copy.deepcopy(MUNICIPALITIES)
        self.fields = copy.deepcopy(FIELDS_OF_ACTION)  # municipality -> [{slug, name}] in position order
        self.milestones = {}  # id -> row

    # --- reference data ---

    def municipalities(self):
        return sorted(copy.deepcopy(self.municipality_rows), key=lambda row: row["slug"])

    def municipality_exists(self, slug):
        return any(row["slug"] == slug for row in self.municipality_rows)

    def fields_of_action(self, municipality):
        return copy.deepcopy(self.fields.get(municipality, []))

    def all_fields_of_action(self):
        return copy.deepcopy(self.fields)

    def reference_check(self, municipality, field):
        return (self.municipality_exists(municipality),
                any(f["slug"] == field for f in self.fields.get(municipality, [])))

    def municipality_bounds(self, slug):
        return dict(BOUNDS[slug]) if slug in BOUNDS else None

    # --- ideas ---

    def add_idea(self, idea):
        self.ideas[idea["id"]] = {"sub_concept_id": None, **idea}

    def get_idea(self, idea_id, lock=False):
        if lock:
            self.locked.append(idea_id)
        idea = self.ideas.get(idea_id)
        return dict(idea) if idea is not None else None

    def set_status(self, idea_id, status, reason, now):
        idea = self.ideas.get(idea_id)
        if idea is None:
            return None
        idea.update(status=status, status_reason=reason, updated_at=now)
        if status == PUBLISHED and idea["published_at"] is None:
            idea["published_at"] = now
        return dict(idea)

    def search_ideas(self, *, statuses=None, author_id=None, municipality=None, field_of_action=None,
                     status=None, working_group=None, working_group_id=None, text=None, limit=20, offset=0):
        """As the SQL one; `text` matches case-insensitively as a substring of title or description
        (PostgreSQL's German stemming is left to the integration tests)."""
        def matches(idea):
            if statuses is not None and idea["status"] not in statuses and idea["author_id"] != author_id:
                return False
            for column, value in (("municipality", municipality), ("field_of_action", field_of_action),
                                  ("status", status), ("working_group", working_group),
                                  ("working_group_id", working_group_id)):
                if value is not None and idea[column] != value:
                    return False
            return not text or text.lower() in f"{idea['title']} {idea['description']}".lower()

        found = sorted((idea for idea in self.ideas.values() if matches(idea)), key=lambda idea: idea["id"])
        found.sort(key=lambda idea: idea["created_at"], reverse=True)  # newest first, then by id
        return [{**idea, "total": len(found)} for idea in found[offset:offset + limit]], len(found)

    # --- milestones ---

    def add_milestone(self, milestone):
        self.milestones[milestone["id"]] = dict(milestone)

    def get_milestone(self, milestone_id, lock=False):
        if lock:
            self.locked.append(milestone_id)
        milestone = self.milestones.get(milestone_id)
        return dict(milestone) if milestone is not None else None

    def mark_reached(self, milestone_id, reached_at):
        milestone = self.milestones.get(milestone_id)
        if milestone is None:
            return None
        milestone["reached_at"] = reached_at
        return dict(milestone)

    def reach_step_milestones(self, municipality, step, reached_at):
        reached = []
        for milestone in self.milestones.values():
            if milestone["municipality"] == municipality and milestone["step"] == step \
                    and milestone["reached_at"] is None:
                milestone["reached_at"] = reached_at
                reached.append(dict(milestone))
        return sorted(reached, key=lambda m: (m["due_date"], m["title"]))

    def list_milestones(self, municipality=None, idea_id=None):
        found = [m for m in self.milestones.values()
                 if (municipality is None or m["municipality"] == municipality)
                 and (idea_id is None or m["idea_id"] == idea_id)]
        return [dict(m) for m in sorted(found, key=lambda m: (m["due_date"], m["title"]))]

    def claim_overdue(self, today, now):
        claimed = []
        for milestone in self.milestones.values():
            if milestone["due_date"] < today and milestone["reached_at"] is None and milestone["overdue_at"] is None:
                milestone["overdue_at"] = now
                claimed.append(dict(milestone))
        return claimed
