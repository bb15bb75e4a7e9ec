"""Rules of comments: moderation modes, who sees what, replies, reports. Pure: no I/O.

- A municipality moderates comments before (`pre`, the default, as ideas are) or after (`post`)
  they are shown. Pre: a comment is `pending` until a moderator publishes it. Post: `published` at
  once; moderators can hide it.
- Replies go one level deep: a reply answers a published top-level comment on the same target.
- Each person reports a comment once. A comment shown without a moderator's review (post-moderation)
  is hidden by itself once AUTO_HIDE_REPORTS people reported it, until a moderator publishes it
  again; a comment a moderator published stays up whatever the reports (they decided already).
"""
from shared.errors import Conflict, InvalidInput

PRE, POST = "pre", "post"
MODES = (PRE, POST)
DEFAULT_MODE = PRE
PENDING, PUBLISHED, HIDDEN = "pending", "published", "hidden"
AUTO_HIDE_REPORTS = 3
AUTO_HIDE_REASON = "reported by {reports} people; hidden until a moderator reviews it"
MODERATOR_ROLES = frozenset({"moderator", "staff", "admin"})


def status_when_posted(mode):
    return PUBLISHED if mode == POST else PENDING


def moderated(current, publish):
    """The status after a moderator's decision, or None when the comment already has it (no event)."""
    target = PUBLISHED if publish else HIDDEN
    return None if current == target else target


def auto_hides(comment, reports):
    return comment["status"] == PUBLISHED and comment["moderated_at"] is None and reports >= AUTO_HIDE_REPORTS


def sees_all(principal):
    return principal is not None and principal.has_any(MODERATOR_ROLES)


def visible(comment, principal):
    """The public sees published comments; an author their own; moderators and staff every one."""
    if comment["status"] == PUBLISHED or sees_all(principal):
        return True
    return principal is not None and principal.subject == comment["author_id"]


def check_parent(parent, target_kind, target_id):
    """A reply's parent: a published top-level comment on the same target (else 422 naming parent_id)."""
    if parent is None or parent["status"] != PUBLISHED:
        raise InvalidInput("no such comment to reply to", {"parent_id": ["no published comment of this id"]})
    if (parent["target_kind"], parent["target_id"]) != (target_kind, target_id):
        raise InvalidInput("the reply's parent is on another target", {"parent_id": ["comment on another target"]})
    if parent["parent_id"] is not None:
        raise InvalidInput("replies go one level deep", {"parent_id": ["is itself a reply; answer its parent"]})


def closed_strategy(message):
    return Conflict(message, {"target_id": ["the strategy draft takes comments only while its feedback is open"]})


def threads(comments, principal):
    """Top-level comments the viewer may see, oldest first, each with its visible replies (oldest first);
    a reply to a comment the viewer may not see is not shown either."""
    shown = [c for c in comments if visible(c, principal)]
    tops = {c["id"]: {**c, "replies": []} for c in shown if c["parent_id"] is None}
    for reply in shown:
        if reply["parent_id"] in tops:
            tops[reply["parent_id"]]["replies"].append(reply)
    return list(tops.values())
