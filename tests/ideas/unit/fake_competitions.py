"""In-memory twin of services/ideas/competitions/repository.py (a mixin of FakeIdeasRepository)."""


class FakeCompetitionRows:
    def __init__(self):
        super().__init__()
        self.competitions_by_id = {}  # id -> row
        self.shortlist = {}  # (competition id, idea id) -> (judge, shortlisted_at)

    def _competition_counted(self, competition):
        entries = sum(1 for i in self.ideas.values() if i["competition_id"] == competition["id"])
        return {**competition, "jury": list(competition["jury"]), "entry_count": entries}

    def add_competition(self, competition):
        self.competitions_by_id[competition["id"]] = dict(competition)

    def get_competition(self, competition_id, lock=False):
        if lock:
            self.locked.append(competition_id)
        competition = self.competitions_by_id.get(competition_id)
        return self._competition_counted(competition) if competition else None

    def competitions(self, municipality=None):
        found = [c for c in self.competitions_by_id.values()
                 if municipality is None or c["municipality"] == municipality]
        found.sort(key=lambda c: str(c["id"]))
        found.sort(key=lambda c: c["opens_at"], reverse=True)
        return [self._competition_counted(c) for c in found]

    def competition_entries(self, competition_id):
        entries = sorted((i for i in self.ideas.values() if i["competition_id"] == competition_id),
                         key=lambda i: (i["created_at"], str(i["id"])))
        return [{"id": i["id"], "title": i["title"], "field_of_action": i["field_of_action"], "status": i["status"],
                 "shortlisted": (competition_id, i["id"]) in self.shortlist} for i in entries]

    def close_competition(self, competition_id, now):
        competition = self.competitions_by_id[competition_id]
        if competition["closed_at"] is not None:
            return None
        competition["closed_at"] = now
        return self._competition_counted(competition)

    def claim_due_competitions(self, now):
        due = [c for c in self.competitions_by_id.values() if c["closes_at"] <= now and c["closed_at"] is None]
        for competition in due:
            competition["closed_at"] = now
        return [self._competition_counted(c) for c in sorted(due, key=lambda c: (c["closes_at"], str(c["id"])))]

    def add_shortlisted(self, competition_id, idea_id, judge, now):
        if (competition_id, idea_id) in self.shortlist:
            return False
        self.shortlist[competition_id, idea_id] = (judge, now)
        return True
