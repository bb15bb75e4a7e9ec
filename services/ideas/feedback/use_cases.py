"""Use cases of comments: `use_case(uow, command) -> result`, each one transaction with its events.

The comment's text is stored and shown, never put in an event: CommentPosted and the others carry
the comment's id, its target and its author's opaque subject only.
"""
import uuid

from shared.domain import PUBLIC_STATUSES
from shared.errors import InvalidInput, NotFound, found

from ..strategy import domain as strategy_domain
from . import domain
from .commands import (GetCommentModeration, ListComments, ModerateComment, PostComment, ReportComment,
                       SetCommentModeration)


def _ref(comment):
    return {"comment_id": comment["id"], "municipality": comment["municipality"],
            "target_kind": comment["target_kind"], "target_id": comment["target_id"]}


def _unknown_target(kind):
    return InvalidInput(f"no such {kind.replace('_', '-')}", {"target_id": [f"no public {kind} of this id"]})


def _target(repo, kind, target_id, now):
    """(municipality, strategy version) of what a comment goes on, if it may be commented on now.

    Ideas: public ones. Sub-concepts: any (they are public from their drafting). The strategy: only
    while its latest version's feedback window is open (409 otherwise); the version's row is held
    (FOR SHARE) so the window cannot close before this comment is counted.
    """
    if kind == "idea":
        idea = repo.get_idea(target_id)
        if idea is None or idea["status"] not in PUBLIC_STATUSES:
            raise _unknown_target(kind)
        return idea["municipality"], None
    if kind == "sub_concept":
        sub_concept = repo.get_sub_concept(target_id)
        if sub_concept is None:
            raise _unknown_target(kind)
        return sub_concept["municipality"], None
    strategy = repo.get_strategy(target_id)
    if strategy is None:
        raise _unknown_target(kind)
    latest = repo.latest_version(target_id, share=True)
    if not strategy_domain.feedback_open(latest, now):
        raise domain.closed_strategy("the strategy draft is not open for feedback")
    return strategy["municipality"], latest["version"]


def post_comment(uow, command: PostComment):
    now = uow.now()
    with uow:
        municipality, version = _target(uow.repo, command.target_kind, command.target_id, now)
        if command.parent_id is not None:
            domain.check_parent(uow.repo.get_comment(command.parent_id), command.target_kind, command.target_id)
        status = domain.status_when_posted(uow.repo.comment_mode(municipality) or domain.DEFAULT_MODE)
        comment = {"id": uuid.uuid4(), "municipality": municipality, "target_kind": command.target_kind,
                   "target_id": command.target_id, "parent_id": command.parent_id, "strategy_version": version,
                   "author_id": command.author_id, "text": command.text, "status": status, "hidden_reason": None,
                   "created_at": now, "published_at": now if status == domain.PUBLISHED else None,
                   "moderated_at": None}
        uow.repo.add_comment(comment)
        uow.emit("CommentPosted", {**_ref(comment), "parent_id": comment["parent_id"], "author_id": command.author_id,
                                   "visible": status == domain.PUBLISHED, "posted_at": now},
                 subject=str(comment["id"]))
    return {**comment, "reports": None, "replies": []}


def list_comments(uow, query: ListComments):
    """A target's threads as the viewer may see them; or a municipality's comments in one status, oldest
    first, of those the viewer may see (for moderators, `pending` is the moderation queue). Report
    counts only for moderators."""
    moderator = domain.sees_all(query.viewer)
    with uow:
        if query.target_kind is not None:
            rows = uow.repo.comments_on(query.target_kind, query.target_id)
        else:
            rows = uow.repo.comment_queue(query.municipality, query.status)
    if not moderator:
        rows = [{**row, "reports": None} for row in rows]
    if query.target_kind is not None:
        return domain.threads(rows, query.viewer)
    return [{**row, "replies": []} for row in rows if domain.visible(row, query.viewer)]


def moderate_comment(uow, command: ModerateComment):
    """Publish (CommentPublished) or hide (CommentHidden) a comment; the status it has already: no event."""
    now = uow.now()
    with uow:
        comment = found(uow.repo.get_comment(command.comment_id, lock=True), "comment")
        status = domain.moderated(comment["status"], command.publish)
        if status is None:
            return {**comment, "replies": []}
        comment = uow.repo.set_comment_status(comment["id"], status, command.reason, now, moderated=True)
        if command.publish:
            uow.emit("CommentPublished", {**_ref(comment), "author_id": comment["author_id"], "published_at": now},
                     subject=str(comment["id"]))
        else:
            uow.emit("CommentHidden", {**_ref(comment), "author_id": comment["author_id"], "reason": command.reason,
                                       "hidden_at": now}, subject=str(comment["id"]))
    return {**comment, "replies": []}


def report_comment(uow, command: ReportComment):
    """(created, {comment_id, reports}): a reporter's first report of a published comment emits
    CommentReported with the number of distinct reporters; a second report by the same person changes
    nothing. At AUTO_HIDE_REPORTS an unreviewed comment is hidden (CommentHidden)."""
    now = uow.now()
    with uow:
        comment = uow.repo.get_comment(command.comment_id, lock=True)  # serialises the count
        if comment is None or comment["status"] != domain.PUBLISHED:
            raise NotFound("comment")
        created = uow.repo.add_report(comment["id"], command.reporter_id, command.reason, now)
        reports = uow.repo.count_reports(comment["id"])
        if created:
            uow.emit("CommentReported", {**_ref(comment), "reports": reports, "reported_at": now},
                     subject=str(comment["id"]))
            if domain.auto_hides(comment, reports):
                reason = domain.AUTO_HIDE_REASON.format(reports=reports)
                uow.repo.set_comment_status(comment["id"], domain.HIDDEN, reason, now, moderated=False)
                uow.emit("CommentHidden", {**_ref(comment), "author_id": comment["author_id"], "reason": reason,
                                           "hidden_at": now}, subject=str(comment["id"]))
    return created, {"comment_id": comment["id"], "reports": reports}


def set_comment_moderation(uow, command: SetCommentModeration):
    """The municipality's mode for comments posted from now on (pending ones stay pending)."""
    with uow:
        if not uow.repo.municipality_exists(command.municipality):
            raise NotFound(f"municipality {command.municipality!r}")
        uow.repo.set_comment_mode(command.municipality, command.mode, uow.now())
    return {"municipality": command.municipality, "mode": command.mode}


def get_comment_moderation(uow, query: GetCommentModeration):
    with uow:
        if not uow.repo.municipality_exists(query.municipality):
            raise NotFound(f"municipality {query.municipality!r}")
        mode = uow.repo.comment_mode(query.municipality) or domain.DEFAULT_MODE
    return {"municipality": query.municipality, "mode": mode}
