"""In-memory twin of services/ideas/feedback/repository.py (FeedbackRows): comments, reports, modes."""


class FakeFeedbackRows:
    def __init__(self):
        super().__init__()
        self.comments = {}  # id -> row
        self.reports = {}  # (comment_id, reporter_id) -> {reason, reported_at}
        self.modes = {}  # municipality -> mode

    def comment_mode(self, municipality):
        return self.modes.get(municipality)

    def set_comment_mode(self, municipality, mode, now):
        self.modes[municipality] = mode

    def add_comment(self, comment):
        self.comments[comment["id"]] = dict(comment)

    def get_comment(self, comment_id, lock=False):
        if lock:
            self.locked.append(comment_id)
        row = self.comments.get(comment_id)
        return dict(row) if row else None

    def _listed(self, keep):
        rows = sorted((c for c in self.comments.values() if keep(c)), key=lambda c: (c["created_at"], c["id"]))
        return [{**c, "reports": self.count_reports(c["id"])} for c in rows]

    def comments_on(self, target_kind, target_id):
        return self._listed(lambda c: (c["target_kind"], c["target_id"]) == (target_kind, target_id))

    def comment_queue(self, municipality, status):
        return self._listed(lambda c: c["municipality"] == municipality and c["status"] == status)

    def set_comment_status(self, comment_id, status, reason, now, moderated):
        row = self.comments[comment_id]
        row.update(status=status, hidden_reason=reason if status == "hidden" else None)
        if status == "published" and row["published_at"] is None:
            row["published_at"] = now
        if moderated:
            row["moderated_at"] = now
        return dict(row)

    def add_report(self, comment_id, reporter_id, reason, now):
        if (comment_id, reporter_id) in self.reports:
            return False
        self.reports[(comment_id, reporter_id)] = {"reason": reason, "reported_at": now}
        return True

    def count_reports(self, comment_id):
        return sum(1 for (c, _) in self.reports if c == comment_id)

    def count_version_comments(self, strategy_id, version):
        return sum(1 for c in self.comments.values() if c["target_kind"] == "strategy"
                   and c["target_id"] == strategy_id and c["strategy_version"] == version and c["status"] != "hidden")
