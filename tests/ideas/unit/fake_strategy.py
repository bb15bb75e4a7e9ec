"""In-memory twin of services/ideas/strategy/repository.py (StrategyRows): sub-concepts, strategies
and their versions (a mixin of FakeIdeasRepository; groups and members are FakeGroupRows')."""
import copy


class FakeStrategyRows:
    def __init__(self):
        super().__init__()
        self.sub_concepts = {}  # id -> row
        self.strategies = {}  # id -> row
        self.versions = {}  # (strategy_id, version) -> row
        self.advisory_locks = []  # municipalities whose sub-concept submissions were serialised

    # --- sub-concepts ---

    def add_sub_concept(self, sub_concept):
        self.sub_concepts[sub_concept["id"]] = dict(sub_concept)

    def get_sub_concept(self, sub_concept_id, lock=False):
        if lock:
            self.locked.append(sub_concept_id)
        row = self.sub_concepts.get(sub_concept_id)
        return dict(row) if row else None

    def list_sub_concepts(self, municipality):
        rows = sorted((s for s in self.sub_concepts.values() if s["municipality"] == municipality),
                      key=lambda s: (s["created_at"], s["id"]))
        return [{**s, "idea_count": len(self.sub_concept_ideas(s["id"]))} for s in rows]

    def sub_concepts_by_ids(self, ids):
        return {i: dict(self.sub_concepts[i]) for i in ids if i in self.sub_concepts}

    def sub_concept_ideas(self, sub_concept_id):
        rows = [i for i in self.ideas.values() if i["sub_concept_id"] == sub_concept_id]
        rows.sort(key=lambda i: (i["integrated_at"], i["id"]))
        return [{k: i[k] for k in ("id", "title", "field_of_action", "status", "integrated_at")} for i in rows]

    def integrate_idea(self, idea_id, sub_concept_id, now):
        self.ideas[idea_id].update(sub_concept_id=sub_concept_id, integrated_at=now)

    def lock_sub_concepts_of(self, municipality):
        self.advisory_locks.append(municipality)

    def mark_sub_concept_submitted(self, sub_concept_id, now):
        self.sub_concepts[sub_concept_id]["submitted_at"] = now
        return dict(self.sub_concepts[sub_concept_id])

    # --- strategies and versions ---

    def add_strategy(self, strategy):
        self.strategies[strategy["id"]] = dict(strategy)

    def get_strategy(self, strategy_id, lock=False):
        if lock:
            self.locked.append(strategy_id)
        row = self.strategies.get(strategy_id)
        return dict(row) if row else None

    def list_strategies(self, municipality):
        rows = [s for s in self.strategies.values() if s["municipality"] == municipality]
        return [dict(s) for s in sorted(rows, key=lambda s: (s["created_at"], s["id"]))]

    def mark_adopted(self, strategy_id, now):
        self.strategies[strategy_id]["adopted_at"] = now
        return dict(self.strategies[strategy_id])

    def add_version(self, version):
        self.versions[(version["strategy_id"], version["version"])] = copy.deepcopy(version)

    def strategy_versions(self, strategy_id):
        return [copy.deepcopy(v) for (s, _), v in sorted(self.versions.items(), key=lambda item: item[0][1])
                if s == strategy_id]

    def latest_version(self, strategy_id, share=False):
        versions = self.strategy_versions(strategy_id)
        return versions[-1] if versions else None

    def _closed(self, version):
        return {"strategy_id": version["strategy_id"], "version": version["version"],
                "feedback_closed_at": version["feedback_closed_at"],
                "municipality": self.strategies[version["strategy_id"]]["municipality"]}

    def close_feedback(self, strategy_id, version, now):
        row = self.versions.get((strategy_id, version))
        if row is None or row["feedback_closed_at"] is not None:
            return None
        row["feedback_closed_at"] = now
        return self._closed(row)

    def claim_due_feedback(self, now):
        claimed = []
        for row in self.versions.values():
            if row["feedback_until"] <= now and row["feedback_closed_at"] is None:
                row["feedback_closed_at"] = now
                claimed.append(self._closed(row))
        return claimed

    def set_version_comments(self, strategy_id, version, comments):
        self.versions[(strategy_id, version)]["comments"] = comments

    def record_council_decision(self, strategy_id, version, outcome, council_date, reason, now):
        self.versions[(strategy_id, version)].update(council_outcome=outcome, council_date=council_date,
                                                     council_reason=reason, decided_at=now)
