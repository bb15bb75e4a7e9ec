"""In-memory twin of services/ideas/sponsors/repository.py (a mixin of FakeIdeasRepository)."""


class FakeSponsorRows:
    def __init__(self):
        super().__init__()
        self.sponsorships_by_id = {}  # id -> row

    def add_sponsorship(self, sponsorship):
        if any(s["idea_id"] == sponsorship["idea_id"] and s["sponsor_id"] == sponsorship["sponsor_id"]
               for s in self.sponsorships_by_id.values()):
            return False
        self.sponsorships_by_id[sponsorship["id"]] = dict(sponsorship)
        return True

    def get_sponsorship(self, sponsorship_id, lock=False):
        if lock:
            self.locked.append(sponsorship_id)
        sponsorship = self.sponsorships_by_id.get(sponsorship_id)
        return dict(sponsorship) if sponsorship else None

    def accept_sponsorship(self, sponsorship_id, now):
        sponsorship = self.sponsorships_by_id[sponsorship_id]
        sponsorship.update(status="accepted", accepted_at=now)
        return dict(sponsorship)

    def sponsorships(self, idea_id, accepted_only):
        found = [s for s in self.sponsorships_by_id.values()
                 if s["idea_id"] == idea_id and (not accepted_only or s["status"] == "accepted")]
        return [dict(s) for s in sorted(found, key=lambda s: (s["offered_at"], str(s["id"])))]
