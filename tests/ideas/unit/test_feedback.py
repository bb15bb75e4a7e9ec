"""Comments against the in-memory unit of work: targets, moderation modes, replies, moderation,
reports and the auto-hide threshold; the comment's text never goes into an event."""
import uuid
from datetime import timedelta

import pytest

from services.ideas.feedback import domain, use_cases
from services.ideas.feedback.commands import (GetCommentModeration, ListComments, ModerateComment, PostComment,
                                              ReportComment, SetCommentModeration)
from services.ideas.strategy import use_cases as strategy
from services.ideas.strategy.commands import CloseFeedback, CreateStrategy, PublishDraft, SubmitSubConcept
from shared.errors import Conflict, InvalidInput, NotFound
from tests.ideas.unit.test_strategy import draft, group
from tests.ideas.unit.test_use_cases import MODERATOR, STAFF, idea_in, who

TEXT = "Gute Idee, aber bitte auch für die Ortsteile."


def post(uow, target_id, kind="idea", author="carla", **changes):
    uow.clock.advance(minutes=1)
    return use_cases.post_comment(uow, PostComment(author, kind, target_id, changes.pop("text", TEXT), **changes))


def comments(uow, target_id, kind="idea", viewer=None):
    return use_cases.list_comments(uow, ListComments(kind, target_id, viewer=viewer))


def mode(uow, value, municipality="gera"):
    use_cases.set_comment_moderation(uow, SetCommentModeration(municipality, value))


def test_pre_moderation_is_the_default_and_a_moderator_publishes(uow):
    idea = idea_in(uow, "published")
    assert use_cases.get_comment_moderation(uow, GetCommentModeration("gera"))["mode"] == "pre"
    comment = post(uow, idea["id"])
    assert comment["status"] == "pending"
    event = uow.events[-1]
    assert event["type"] == "CommentPosted" and event["data"]["visible"] is False
    assert event["data"]["author_id"] == "carla" and TEXT not in str(event)  # never the text
    assert comments(uow, idea["id"]) == []
    assert [c["id"] for c in comments(uow, idea["id"], viewer=who("citizen", subject="carla"))] == [comment["id"]]
    published = use_cases.moderate_comment(uow, ModerateComment(comment["id"], publish=True))
    assert published["status"] == "published" and uow.types()[-1] == "CommentPublished"
    assert [c["text"] for c in comments(uow, idea["id"])] == [TEXT]
    events = len(uow.events)
    use_cases.moderate_comment(uow, ModerateComment(comment["id"], publish=True))  # again: nothing
    assert len(uow.events) == events


def test_post_moderation_shows_at_once_and_moderators_hide(uow):
    mode(uow, "post")
    idea = idea_in(uow, "published")
    comment = post(uow, idea["id"])
    assert comment["status"] == "published" and uow.events[-1]["data"]["visible"] is True
    use_cases.moderate_comment(uow, ModerateComment(comment["id"], publish=False, reason="Beleidigung"))
    assert uow.types()[-1] == "CommentHidden" and uow.events[-1]["data"]["reason"] == "Beleidigung"
    assert comments(uow, idea["id"]) == []
    [seen] = comments(uow, idea["id"], viewer=MODERATOR)
    assert seen["status"] == "hidden" and seen["hidden_reason"] == "Beleidigung" and seen["reports"] == 0
    with pytest.raises(NotFound):
        use_cases.moderate_comment(uow, ModerateComment(uuid.uuid4(), publish=True))
    with pytest.raises(NotFound):
        use_cases.set_comment_moderation(uow, SetCommentModeration("atlantis", "post"))


def test_targets_must_exist_and_be_public(uow, repo):
    for target_id, kind in ((idea_in(uow, "submitted")["id"], "idea"), (uuid.uuid4(), "idea"),
                            (uuid.uuid4(), "sub_concept"), (uuid.uuid4(), "strategy")):
        with pytest.raises(InvalidInput) as refused:
            post(uow, target_id, kind)
        assert list(refused.value.fields) == ["target_id"]
    assert repo.comments == {}
    sub_concept = draft(uow, group(repo))
    assert post(uow, sub_concept["id"], "sub_concept")["municipality"] == "gera"


def test_the_strategy_takes_comments_only_in_its_feedback_window(uow, repo):
    plan = strategy.create_strategy(uow, CreateStrategy("gera", "Strategie"))
    with pytest.raises(Conflict) as before:
        post(uow, plan["id"], "strategy")  # nothing published yet
    assert list(before.value.fields) == ["target_id"]
    sub_concept = strategy.submit_sub_concept(uow, SubmitSubConcept(STAFF, draft(uow, group(repo))["id"]))
    strategy.publish_draft(uow, PublishDraft(plan["id"], (sub_concept["id"],), "Entwurf",
                                             uow.now() + timedelta(days=2)))
    comment = post(uow, plan["id"], "strategy")
    assert comment["strategy_version"] == 1
    strategy.close_feedback(uow, CloseFeedback(plan["id"]))
    assert uow.events[-1]["data"]["comments"] == 1
    with pytest.raises(Conflict):
        post(uow, plan["id"], "strategy")


def test_replies_go_one_level_under_a_published_comment_of_the_same_target(uow):
    mode(uow, "post")
    idea, other = idea_in(uow, "published"), idea_in(uow, "published")
    top = post(uow, idea["id"])
    reply = post(uow, idea["id"], parent_id=top["id"], author="dora", text="Sehe ich auch so.")
    assert uow.events[-1]["data"]["parent_id"] == str(top["id"])
    for target, parent in ((idea["id"], reply["id"]), (other["id"], top["id"]), (idea["id"], uuid.uuid4())):
        with pytest.raises(InvalidInput) as refused:
            post(uow, target, parent_id=parent)
        assert list(refused.value.fields) == ["parent_id"]
    [thread] = comments(uow, idea["id"])
    assert thread["id"] == top["id"] and [r["id"] for r in thread["replies"]] == [reply["id"]]
    assert thread["reports"] is None  # counts only for moderators


def test_reports_count_once_per_reporter_and_hide_an_unreviewed_comment_at_the_threshold(uow):
    mode(uow, "post")
    idea = idea_in(uow, "published")
    comment = post(uow, idea["id"])
    first = use_cases.report_comment(uow, ReportComment(comment["id"], "r1", "Spam"))
    assert first == (True, {"comment_id": comment["id"], "reports": 1})
    assert uow.types()[-1] == "CommentReported" and uow.events[-1]["data"]["reports"] == 1
    events = len(uow.events)
    assert use_cases.report_comment(uow, ReportComment(comment["id"], "r1", "Spam"))[0] is False
    assert len(uow.events) == events
    use_cases.report_comment(uow, ReportComment(comment["id"], "r2", "Spam"))
    assert comments(uow, idea["id"]) != []
    use_cases.report_comment(uow, ReportComment(comment["id"], "r3", "Spam"))
    assert uow.types()[-2:] == ["CommentReported", "CommentHidden"]
    assert uow.events[-1]["data"]["reason"] == domain.AUTO_HIDE_REASON.format(reports=domain.AUTO_HIDE_REPORTS)
    assert comments(uow, idea["id"]) == []
    with pytest.raises(NotFound):  # hidden: nothing to report
        use_cases.report_comment(uow, ReportComment(comment["id"], "r4", "Spam"))
    use_cases.moderate_comment(uow, ModerateComment(comment["id"], publish=True))  # reviewed: stays up
    use_cases.report_comment(uow, ReportComment(comment["id"], "r4", "Spam"))
    assert uow.types()[-1] == "CommentReported" and comments(uow, idea["id"])[0]["status"] == "published"


def test_a_pre_moderated_comment_a_moderator_published_is_not_hidden_by_reports(uow):
    idea = idea_in(uow, "published")
    comment = post(uow, idea["id"])
    with pytest.raises(NotFound):  # pending: not reportable
        use_cases.report_comment(uow, ReportComment(comment["id"], "r1", "Spam"))
    use_cases.moderate_comment(uow, ModerateComment(comment["id"], publish=True))
    for reporter in ("r1", "r2", "r3", "r4"):
        use_cases.report_comment(uow, ReportComment(comment["id"], reporter, "Spam"))
    assert uow.types()[-1] == "CommentReported" and uow.events[-1]["data"]["reports"] == 4
    assert comments(uow, idea["id"])[0]["status"] == "published"


def test_the_moderation_queue_shows_others_only_what_they_may_see(uow):
    idea = idea_in(uow, "published")
    comment = post(uow, idea["id"], author="carla")
    queue = lambda viewer: [c["id"] for c in use_cases.list_comments(  # noqa: E731
        uow, ListComments(municipality="gera", status="pending", viewer=viewer))]
    assert queue(MODERATOR) == [comment["id"]]
    assert queue(who("citizen", subject="carla")) == [comment["id"]]  # her own
    assert queue(who("citizen", subject="dora")) == [] and queue(None) == []
