"""Comments, moderation modes, replies and abuse reports over HTTP on the real PostgreSQL and RabbitMQ."""
import pytest

from tests.ideas.strategy_steps import events, public_idea, working_group

pytestmark = pytest.mark.integration

TEXT = "Gute Idee, aber bitte auch für die Ortsteile."


def comment(ideas_api, auth, target_id, kind="idea", subject="carla", **changes):
    return ideas_api("POST", "/api/v1/comments", headers=auth("citizen", subject=subject),
                     json={"target_kind": kind, "target_id": target_id, "text": TEXT, **changes})


def listed(ideas_api, target_id, kind="idea", headers=None):
    response = ideas_api("GET", f"/api/v1/comments?target_kind={kind}&target_id={target_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def set_mode(ideas_api, auth, mode):
    response = ideas_api("PUT", "/api/v1/municipalities/gera/comment-moderation", json={"mode": mode},
                         headers=auth("staff"))
    assert response.status_code == 200 and response.json() == {"municipality": "gera", "mode": mode}


def test_pre_moderated_comments_wait_for_a_moderator(ideas_api, auth, ideas_sql):
    assert ideas_api("GET", "/api/v1/municipalities/gera/comment-moderation").json()["mode"] == "pre"
    idea_id = public_idea(ideas_api, auth)
    posted = comment(ideas_api, auth, idea_id)
    assert posted.status_code == 201, posted.text
    assert posted.json()["status"] == "pending" and "author_id" not in posted.json()
    assert listed(ideas_api, idea_id) == []
    queue = ideas_api("GET", "/api/v1/comments?municipality=gera&status=pending", headers=auth("moderator")).json()
    assert [c["id"] for c in queue] == [posted.json()["id"]]
    assert ideas_api("GET", "/api/v1/comments?municipality=gera", headers=auth("citizen")).json() == []
    decision = ideas_api("POST", f"/api/v1/comments/{posted.json()['id']}/moderation", json={"decision": "publish"},
                         headers=auth("moderator"))
    assert decision.status_code == 200 and decision.json()["status"] == "published"
    [shown] = listed(ideas_api, idea_id)
    assert shown["text"] == TEXT and shown["reports"] is None
    posted_events = events(ideas_sql, "CommentPosted", "CommentPublished")
    assert [kind for kind, _ in posted_events] == ["CommentPosted", "CommentPublished"]
    assert posted_events[0][1]["visible"] is False and posted_events[0][1]["author_id"] == "carla"
    assert ideas_sql("SELECT count(*) FROM outbox WHERE body LIKE %s", (f"%{TEXT}%",)) == [(0,)]  # no text


def test_post_moderation_replies_reports_and_the_auto_hide(ideas_api, auth, ideas_sql):
    set_mode(ideas_api, auth, "post")
    idea_id = public_idea(ideas_api, auth)
    top = comment(ideas_api, auth, idea_id).json()
    assert top["status"] == "published"
    reply = comment(ideas_api, auth, idea_id, subject="dora", text="Sehe ich auch so.", parent_id=top["id"])
    assert reply.status_code == 201, reply.text
    nested = comment(ideas_api, auth, idea_id, parent_id=reply.json()["id"])
    assert nested.status_code == 422 and "parent_id" in nested.json()["error"]["fields"]
    [thread] = listed(ideas_api, idea_id)
    assert [r["id"] for r in thread["replies"]] == [reply.json()["id"]]

    path = f"/api/v1/comments/{top['id']}/reports"
    first = ideas_api("POST", path, json={"reason": "Spam"}, headers=auth("citizen", subject="r1"))
    assert first.status_code == 201 and first.json() == {"comment_id": top["id"], "reports": 1}
    again = ideas_api("POST", path, json={"reason": "Spam"}, headers=auth("citizen", subject="r1"))
    assert again.status_code == 200 and again.json()["reports"] == 1
    for reporter in ("r2", "r3"):
        assert ideas_api("POST", path, json={"reason": "Spam"}, headers=auth("citizen", subject=reporter)) \
            .status_code == 201
    assert listed(ideas_api, idea_id) == []  # hidden at three reporters, with its reply
    [seen] = listed(ideas_api, idea_id, headers=auth("moderator"))
    assert seen["status"] == "hidden" and seen["reports"] == 3
    kinds = [(kind, data.get("reports")) for kind, data in events(ideas_sql, "CommentReported", "CommentHidden")]
    assert kinds == [("CommentReported", 1), ("CommentReported", 2), ("CommentReported", 3), ("CommentHidden", None)]
    hide = ideas_api("POST", f"/api/v1/comments/{reply.json()['id']}/moderation", json={"decision": "hide"},
                     headers=auth("moderator"))
    assert hide.status_code == 422 and "reason" in hide.json()["error"]["fields"]


def test_comments_on_sub_concepts_and_the_strategy_window(ideas_api, auth, ideas_sql):
    sub_concept = ideas_api("POST", "/api/v1/sub-concepts", headers=auth("staff"), json={
        "working_group_id": working_group(ideas_api, auth), "title": "Teilkonzept Mobilität"}).json()
    assert comment(ideas_api, auth, sub_concept["id"], "sub_concept").status_code == 201
    strategy = ideas_api("POST", "/api/v1/strategies", headers=auth("staff"),
                         json={"municipality": "gera", "title": "Strategie"}).json()
    closed = comment(ideas_api, auth, strategy["id"], "strategy")
    assert closed.status_code == 409 and "target_id" in closed.json()["error"]["fields"]


@pytest.mark.parametrize("body,field", [
    ({"target_kind": "meeting"}, "target_kind"),
    ({"target_id": "00000000-0000-4000-8000-000000000000"}, "target_id"),  # no such idea
    ({"text": "x"}, "text"),
    ({"text": "x" * 2001}, "text"),
    ({"parent_id": "00000000-0000-4000-8000-000000000000"}, "parent_id"),
    ({"author_id": "someone-else"}, "author_id"),
])
def test_bad_comments_are_refused_naming_the_field(ideas_api, auth, ideas_sql, body, field):
    idea_id = public_idea(ideas_api, auth)
    outbox = ideas_sql("SELECT count(*) FROM outbox")
    response = ideas_api("POST", "/api/v1/comments", headers=auth("citizen"),
                         json={"target_kind": "idea", "target_id": idea_id, "text": TEXT, **body})
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    assert ideas_sql("SELECT count(*) FROM comments") == [(0,)]
    assert ideas_sql("SELECT count(*) FROM outbox") == outbox


@pytest.mark.parametrize("query,field", [
    ("target_kind=idea", "target_id"),
    ("", "target_kind"),
    ("municipality=gera&status=gone", "status"),
])
def test_bad_comment_queries_name_the_field(ideas_api, auth, ideas_sql, query, field):
    response = ideas_api("GET", f"/api/v1/comments?{query}", headers=auth("moderator"))
    assert response.status_code == 422 and field in response.json()["error"]["fields"]
