"""HTTP entrypoints of comments and comment moderation: a mixin of IdeasService, using `self.uow`."""
from shared.ratelimit import Limits
from shared.web import AUTHENTICATED, api

from ..roles import MODERATORS, STAFF
from . import use_cases
from .commands import (GetCommentModeration, ListComments, ModerateComment, PostComment, ReportComment,
                       SetCommentModeration)
from .schemas import (CommentModeration, CommentOut, CommentQuery, ModerationMode, ModerationModeOut, NewComment,
                      NewReport, ReportOut)

COMMENTS = ["comments"]


class FeedbackEndpoints:
    @api("POST", "/api/v1/comments", body=NewComment, roles=AUTHENTICATED, status=201, response=CommentOut,
         tags=COMMENTS, limits=Limits(subject="60/hour", address="600/hour"),
         summary="Comment on a public idea, a sub-concept or the strategy draft in its feedback window")
    def post_comment(self, request):
        return use_cases.post_comment(self.uow, PostComment(author_id=request.principal.subject, **request.data))

    @api("GET", "/api/v1/comments", query=CommentQuery, response=CommentOut(many=True), tags=COMMENTS,
         summary="A target's comments with their replies, or (moderators) a municipality's queue by status")
    def list_comments(self, request):
        query = request.query_data
        target = {"target_kind": query.get("target_kind"), "target_id": query.get("target_id")} \
            if "target_kind" in query else {"municipality": query["municipality"], "status": query["status"]}
        return use_cases.list_comments(self.uow, ListComments(**target, viewer=request.principal))

    @api("POST", "/api/v1/comments/<uuid:comment_id>/moderation", body=CommentModeration, roles=MODERATORS,
         response=CommentOut, tags=COMMENTS, summary="Publish or hide a comment (the status it has: no change)")
    def moderate_comment(self, request, comment_id):
        data = request.data
        return use_cases.moderate_comment(self.uow, ModerateComment(comment_id, data["decision"] == "publish",
                                                                    data.get("reason")))

    @api("POST", "/api/v1/comments/<uuid:comment_id>/reports", body=NewReport, roles=AUTHENTICATED, status=201,
         response=ReportOut, tags=COMMENTS, limits=Limits(subject="60/hour", address="600/hour"),
         summary="Report a published comment as abusive: 201 the first time, 200 again (counted once)")
    def report_comment(self, request, comment_id):
        created, report = use_cases.report_comment(self.uow, ReportComment(
            comment_id, request.principal.subject, request.data["reason"]))
        return (201 if created else 200), report

    @api("GET", "/api/v1/municipalities/<slug>/comment-moderation", response=ModerationModeOut, tags=COMMENTS)
    def get_comment_moderation(self, request, slug):
        return use_cases.get_comment_moderation(self.uow, GetCommentModeration(slug))

    @api("PUT", "/api/v1/municipalities/<slug>/comment-moderation", body=ModerationMode, roles=STAFF,
         response=ModerationModeOut, tags=COMMENTS, summary="Pre- or post-moderation of the municipality's comments")
    def set_comment_moderation(self, request, slug):
        return use_cases.set_comment_moderation(self.uow, SetCommentModeration(slug, request.data["mode"]))
