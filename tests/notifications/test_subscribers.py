"""Subscribers over HTTP and real mail: double opt-in, unsubscribe, export, deletion, bad input."""
import pytest

from tests.fixtures import wait_for
from tests.notifications.conftest import html_of, text_of
from tests.notifications.steps import announce, links_in, public_idea, subscribe, subscribed

pytestmark = pytest.mark.integration

GERA_NEWS = [{"kind": "announcements", "municipality": "gera"}, {"kind": "pilot_decisions", "municipality": "gera"}]


def sent_to(notifications_sql, email):
    return notifications_sql(
        "SELECT t.type, d.status FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
        " JOIN triggers t ON t.event_id = d.trigger_event_id WHERE s.email = %s ORDER BY d.created_at", (email,))


def test_double_opt_in_sends_nothing_before_the_one_time_link_is_followed(
        notifications_api, notifications_sql, mailbox, auth):
    subscribe(notifications_api, "anna@example.org", GERA_NEWS, language="de")
    [confirmation] = mailbox.wait(1, to="anna@example.org")
    assert "bestätigen" in confirmation["Subject"]
    assert notifications_sql("SELECT confirmed_at FROM subscribers") == [(None,)]

    announce(notifications_api, auth)  # not confirmed yet: no mail
    wait_for(lambda: notifications_sql("SELECT count(*) FROM triggers WHERE type = 'Announcement'")[0][0] == 1)
    assert len(mailbox.wait(1)) == 1

    token = links_in(confirmation)["confirm"]
    page = notifications_api("GET", f"/confirm?token={token}")  # what a mail scanner's prefetch does
    assert page.status_code == 200 and "<form" in page.text
    assert notifications_sql("SELECT confirmed_at FROM subscribers") == [(None,)]  # GET changed nothing
    response = notifications_api("POST", f"/api/v1/subscribers/confirm?token={token}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"
    [(confirmed_at,)] = notifications_sql("SELECT confirmed_at FROM subscribers")
    assert confirmed_at is not None  # the consent and its time
    again = notifications_api("POST", f"/api/v1/subscribers/confirm?token={token}")
    assert again.json() == {"status": "already_confirmed", "confirmed_at": response.json()["confirmed_at"]}
    assert notifications_sql("SELECT confirmed_at FROM subscribers") == [(confirmed_at,)]

    announce(notifications_api, auth, title="Themenabend Mobilität")
    mails = mailbox.wait(2, to="anna@example.org")
    assert "Themenabend Mobilität" in mails[-1]["Subject"]
    assert [row[0] for row in sent_to(notifications_sql, "anna@example.org")] == ["SubscriptionConfirmation",
                                                                                 "Announcement"]


def test_every_mail_carries_a_one_click_unsubscribe_that_stops_all_mail(
        notifications_api, notifications_sql, mailbox, auth):
    subscribed(notifications_api, mailbox, "ben@example.org", GERA_NEWS, language="en")
    announce(notifications_api, auth)
    [mail] = mailbox.wait(1, to="ben@example.org")
    assert "Plenary" not in mail["Subject"] and "Vollversammlung" in mail["Subject"]
    token = links_in(mail)["unsubscribe"]  # each mail brings fresh links
    assert "Unsubscribe (one click)" in text_of(mail) and links_in(mail)["my-data"] == token
    assert f"unsubscribe?token={token}&amp;lang=en" in html_of(mail)
    assert mail["List-Unsubscribe"].endswith(f"/unsubscribe?token={token}&lang=en>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page = notifications_api("GET", f"/unsubscribe?token={token}&lang=en")  # a look changes nothing
    assert page.status_code == 200 and "Yes, no more news" in page.text
    assert notifications_sql("SELECT unsubscribed_at FROM subscribers") == [(None,)]
    # the mail client's one-click POST (RFC 8058) to the List-Unsubscribe address
    response = notifications_api("POST", f"/unsubscribe?token={token}&lang=en", data="List-Unsubscribe=One-Click",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    mailbox.clear()
    announce(notifications_api, auth, title="Themenabend Energie")
    wait_for(lambda: notifications_sql("SELECT count(*) FROM triggers WHERE type = 'Announcement'")[0][0] == 2)
    wait_for(lambda: [status for _, status in sent_to(notifications_sql, "ben@example.org")] == ["sent", "sent"],
             message="two mails, none after unsubscribing")
    assert mailbox.messages() == []


def test_a_subscriber_exports_and_deletes_their_data_with_the_mail_link(notifications_api, notifications_sql,
                                                                        ideas_sql, mailbox, auth):
    public_idea(ideas_sql, "5b0c7f0e-0000-4000-8000-000000000001")
    token = subscribed(notifications_api, mailbox, "carla@example.org", GERA_NEWS, digest="weekly",
                       headers=auth("citizen", subject="carla-42"))
    exported = notifications_api("GET", f"/api/v1/subscriber?token={token}").json()
    subscriber = exported["subscriber"]
    assert subscriber["email"] == "carla@example.org" and subscriber["subject"] == "carla-42"
    assert subscriber["digest"] == "weekly" and subscriber["confirmed_at"]
    assert sorted(s["kind"] for s in subscriber["subscriptions"]) == ["announcements", "pilot_decisions"]
    assert [d["trigger_type"] for d in exported["deliveries"]] == ["SubscriptionConfirmation"]
    assert "access_token" not in subscriber and "confirm_token" not in subscriber
    # signed in, the same data without the mail link
    mine = notifications_api("GET", "/api/v1/subscriber", headers=auth("citizen", subject="carla-42"))
    assert mine.json()["subscriber"]["email"] == "carla@example.org"

    changed = notifications_api("PATCH", f"/api/v1/subscriber?token={token}",
                                json={"language": "en", "subscriptions": [{"kind": "idea",
                                      "idea_id": "5b0c7f0e-0000-4000-8000-000000000001"}]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["subscriptions"] == [{"kind": "idea", "idea_id": "5b0c7f0e-0000-4000-8000-000000000001"}]

    assert notifications_api("DELETE", f"/api/v1/subscriber?token={token}").status_code == 204
    for table in ("subscribers", "subscriptions", "deliveries"):
        assert notifications_sql(f"SELECT count(*) FROM {table}") == [(0,)]
    assert notifications_api("GET", f"/api/v1/subscriber?token={token}").status_code == 404


def test_subscribing_again_reveals_nothing_and_changes_nothing_for_a_confirmed_address(
        notifications_api, notifications_sql, mailbox):
    subscribed(notifications_api, mailbox, "dora@example.org", GERA_NEWS)
    before = notifications_sql("SELECT * FROM subscribers")
    response = subscribe(notifications_api, "Dora@Example.org", [], language="en")
    assert response.json() == {"status": "confirmation_sent"}
    assert notifications_sql("SELECT * FROM subscribers") == before
    assert notifications_sql("SELECT count(*) FROM subscriptions") == [(2,)]


def test_a_pending_address_gets_a_fresh_link_and_the_old_one_stops_working(notifications_api, mailbox):
    subscribe(notifications_api, "emil@example.org", GERA_NEWS)
    [first] = mailbox.wait(1, to="emil@example.org")
    subscribe(notifications_api, "emil@example.org", GERA_NEWS)
    second = mailbox.wait(2, to="emil@example.org")[-1]
    old, new = links_in(first)["confirm"], links_in(second)["confirm"]
    assert old != new
    assert notifications_api("POST", f"/api/v1/subscribers/confirm?token={old}").status_code == 404
    assert notifications_api("POST", f"/api/v1/subscribers/confirm?token={new}").status_code == 200


BAD_SUBSCRIPTIONS = [
    ({"email": "not-an-address", "subscriptions": []}, "email"),
    ({"subscriptions": []}, "email"),
    ({"email": "x@example.org", "language": "fr"}, "language"),
    ({"email": "x@example.org", "digest": "hourly"}, "digest"),
    ({"email": "x@example.org", "subscriptions": [{"kind": "field", "municipality": "gera"}]}, "subscriptions"),
    ({"email": "x@example.org", "subscriptions": [{"kind": "idea"}]}, "subscriptions"),
    ({"email": "x@example.org", "subscriptions": [{"kind": "everything"}]}, "subscriptions"),
    ({"email": "x@example.org", "subscriptions": [{"kind": "milestones", "municipality": "Gera!"}]},
     "subscriptions"),
    ({"email": "x@example.org", "confirmed": True}, "confirmed"),
    # well-formed, but naming what the ideas service does not know (it is asked)
    ({"email": "x@example.org", "subscriptions": [{"kind": "announcements", "municipality": "atlantis"}]},
     "subscriptions"),
    ({"email": "x@example.org", "subscriptions": [{"kind": "field", "municipality": "gera",
                                                   "field_of_action": "raumfahrt"}]}, "subscriptions"),
    ({"email": "x@example.org", "subscriptions": [{"kind": "idea", "idea_id": "5b0c7f0e-0000-4000-8000-00000000dead"}]},
     "subscriptions"),
]


@pytest.mark.parametrize("body,field", BAD_SUBSCRIPTIONS)
def test_bad_input_gets_a_422_naming_the_field_and_stores_nothing(notifications_api, notifications_sql, body, field):
    response = notifications_api("POST", "/api/v1/subscribers", json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]
    assert notifications_sql("SELECT (SELECT count(*) FROM subscribers), (SELECT count(*) FROM deliveries)") == [
        (0, 0)]


def test_the_nested_error_names_the_unknown_place_or_idea_of_a_subscription(notifications_api, ideas_sql):
    ideas_sql("INSERT INTO ideas (id, municipality, field_of_action, title, description, channel, author_id, status,"
              " created_at, updated_at) VALUES ('5b0c7f0e-0000-4000-8000-0000000000aa', 'gera', 'energie', 'Neu',"
              " 'Beschreibung', 'form', 'a', 'submitted', now(), now())")
    response = notifications_api("POST", "/api/v1/subscribers", json={"email": "x@example.org", "subscriptions": [
        {"kind": "strategy", "municipality": "gera"}, {"kind": "meetings", "municipality": "atlantis"},
        {"kind": "idea", "idea_id": "5b0c7f0e-0000-4000-8000-0000000000aa"}]})  # not public yet: as if unknown
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["subscriptions"] == {
        "1": {"municipality": ["unknown municipality 'atlantis'"]},
        "2": {"idea_id": ["no public idea 5b0c7f0e-0000-4000-8000-0000000000aa"]}}


def test_the_nested_error_names_the_missing_field_of_a_subscription(notifications_api):
    response = notifications_api("POST", "/api/v1/subscribers", json={
        "email": "x@example.org", "subscriptions": [{"kind": "field", "municipality": "gera"}]})
    assert response.json()["error"]["fields"]["subscriptions"]["0"] == {
        "field_of_action": ["required for kind field"]}


@pytest.mark.parametrize("method,path", [("POST", "/api/v1/subscribers/confirm"), ("POST", "/api/v1/unsubscribe"),
                                         ("GET", "/api/v1/subscriber"), ("GET", "/confirm"), ("GET", "/unsubscribe"),
                                         ("GET", "/my-data"), ("POST", "/my-data/delete")])
def test_unknown_tokens_are_404(notifications_api, method, path):
    assert notifications_api(method, f"{path}?token={'x' * 43}").status_code == 404


def test_managing_without_any_token_is_401_and_a_short_token_422(notifications_api):
    assert notifications_api("GET", "/api/v1/subscriber").status_code == 401
    response = notifications_api("POST", "/api/v1/unsubscribe?token=abc")
    assert response.status_code == 422 and "token" in response.json()["error"]["fields"]
    page = notifications_api("GET", "/unsubscribe?token=abc&lang=en")
    assert page.status_code == 422 and "Please check your input: token" in page.text


def test_an_expired_link_answers_410_gone_and_managing_without_a_token_401_unauthorized(
        notifications_api, notifications_sql, mailbox):
    subscribe(notifications_api, "greta@example.org", GERA_NEWS)
    [confirmation] = mailbox.wait(1, to="greta@example.org")
    notifications_sql("UPDATE link_tokens SET expires_at = now() - interval '1 minute'")
    token = links_in(confirmation)["confirm"]
    page = notifications_api("GET", f"/confirm?token={token}")
    assert page.status_code == 410 and "abgelaufen" in page.text
    expired = notifications_api("POST", f"/api/v1/subscribers/confirm?token={token}")
    assert expired.status_code == 410
    assert expired.json() == {"error": {"code": "gone", "message": "the confirmation link has expired; subscribe again",
                                        "fields": {"token": ["expired"]}}}
    anonymous = notifications_api("GET", "/api/v1/subscriber")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": {
        "code": "unauthorized", "message": "send the token of a mail link (?token=…) or a bearer token",
        "fields": {"token": ["required without a bearer token"]}}}


def test_an_account_links_one_address_only(notifications_api, auth, mailbox):
    subscribed(notifications_api, mailbox, "fritz@example.org", headers=auth("citizen", subject="fritz"))
    subscribed(notifications_api, mailbox, "fritz@work.example.org", headers=auth("citizen", subject="fritz"))
    mine = notifications_api("GET", "/api/v1/subscriber", headers=auth("citizen", subject="fritz"))
    assert mine.json()["subscriber"]["email"] == "fritz@example.org"


# --- issue 11: nobody takes over an address, and subscribing reveals nothing about one ----------------

@pytest.mark.parametrize("victim_state", ["pending", "unsubscribed"])
def test_subscribing_someone_elses_address_with_my_token_gives_me_nothing_of_theirs(
        notifications_api, notifications_sql, auth, mailbox, victim_state):
    vera, mallory = auth("citizen", subject="vera"), auth("citizen", subject="mallory")
    if victim_state == "pending":
        subscribe(notifications_api, "vera@example.org", GERA_NEWS, headers=vera)
        token = links_in(mailbox.wait(1, to="vera@example.org")[0])["unsubscribe"]
    else:
        token = subscribed(notifications_api, mailbox, "vera@example.org", GERA_NEWS, headers=vera)
        assert notifications_api("POST", f"/api/v1/unsubscribe?token={token}").status_code == 200
    before = notifications_sql("SELECT subject FROM subscribers")
    subscribe(notifications_api, "vera@example.org", [], headers=mallory)
    assert notifications_sql("SELECT subject FROM subscribers") == before
    for method in ("GET", "PATCH", "DELETE"):  # mallory's token names no subscriber at all
        body = {"language": "en"} if method == "PATCH" else None
        assert notifications_api(method, "/api/v1/subscriber", json=body, headers=mallory).status_code == 404
    assert notifications_api("GET", f"/api/v1/subscriber?token={token}").status_code == 200  # vera's link works


def test_the_answer_to_subscribing_is_the_same_for_every_address(notifications_api, auth, mailbox):
    subscribed(notifications_api, mailbox, "active@example.org", headers=auth("citizen", subject="owner"))
    subscribe(notifications_api, "pending@example.org")
    token = subscribed(notifications_api, mailbox, "gone@example.org")
    notifications_api("POST", f"/api/v1/unsubscribe?token={token}")
    answers = set()
    for email in ("new@example.org", "pending@example.org", "active@example.org", "gone@example.org"):
        for headers in ({}, auth("citizen", subject="owner"), auth("citizen", subject="stranger")):
            response = notifications_api("POST", "/api/v1/subscribers", json={"email": email}, headers=headers)
            answers.add((response.status_code, response.text))
    assert answers == {(202, '{"status": "confirmation_sent"}')}


def test_the_demo_data_loads_once_through_the_api(notifications_api, notifications_settings, mailbox):
    from services.notifications import demo
    from shared.auth import mint

    def api(service, method, path, body=None, role=None):
        headers = {"Authorization": "Bearer " + mint(notifications_settings.jwt_secret, f"demo-{role}", [role])} \
            if role else {}
        response = notifications_api(method, path, json=body, headers=headers)
        assert response.status_code < 300, response.text
        return response.json()

    assert not demo.already_loaded(api)
    assert "announcements" in demo.load(api)
    assert demo.already_loaded(api)
    [confirmation] = mailbox.wait(1, to=demo.DEMO_ADDRESS)
    assert "confirm" in links_in(confirmation)
