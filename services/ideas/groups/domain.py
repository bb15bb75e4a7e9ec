"""Working-group rules. Pure: no I/O."""
from services.ideas.domain import sees_everything


def shown(group, member_ids, principal):
    """A group as `principal` sees it: members are opaque subjects, listed only to moderators and staff;
    everyone sees how many there are."""
    if sees_everything(principal):
        return {**group, "member_ids": member_ids}
    return group
