"""In-memory twin of services/ideas/groups/repository.py (a mixin of FakeIdeasRepository, uses `self.ideas`)."""


class FakeGroupRows:
    def __init__(self):
        super().__init__()
        self.groups_by_id = {}  # id -> row
        self.members = {}  # group id -> {member_id: added_at}

    def add_group(self, group):
        if any(g["municipality"] == group["municipality"] and g["name"].lower() == group["name"].lower()
               for g in self.groups_by_id.values()):
            return False
        self.groups_by_id[group["id"]] = dict(group)
        return True

    def _group_counted(self, group, statuses):
        ideas = sum(1 for i in self.ideas.values() if i["working_group_id"] == group["id"] and i["status"] in statuses)
        return {**group, "members": len(self.members.get(group["id"], {})), "ideas": ideas}

    def groups(self, municipality, statuses):
        found = [g for g in self.groups_by_id.values() if municipality is None or g["municipality"] == municipality]
        found.sort(key=lambda g: (g["municipality"], g["name"].lower()))
        return [self._group_counted(g, statuses) for g in found]

    def get_group(self, group_id, statuses):
        group = self.groups_by_id.get(group_id)
        return self._group_counted(group, statuses) if group else None

    def working_group(self, group_id):
        group = self.groups_by_id.get(group_id)
        return dict(group) if group else None

    def group_named(self, municipality, name):
        return next((dict(g) for g in self.groups_by_id.values()
                     if g["municipality"] == municipality and g["name"].lower() == name.lower()), None)

    def member_ids(self, group_id):
        members = self.members.get(group_id, {})
        return sorted(members, key=lambda member: (members[member], member))

    def is_member(self, group_id, subject):
        return subject in self.members.get(group_id, {})

    def add_member(self, group_id, member_id, now):
        members = self.members.setdefault(group_id, {})
        if member_id in members:
            return False
        members[member_id] = now
        return True

    def remove_member(self, group_id, member_id):
        return self.members.get(group_id, {}).pop(member_id, None) is not None
