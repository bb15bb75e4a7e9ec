"""Notifications of the strategy process (issue 14) against in-memory fakes: who hears of groups,
competitions, sponsors, sub-concepts, the strategy, comments, meetings and the survey, and what
the mails say; reminders; the refusal of unknown places and ideas."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from services.notifications import demo, domain, use_cases
from services.notifications.commands import Confirm, PostAnnouncement, ShowSubscriber, Subscribe
from services.notifications.domain import Known
from services.notifications.rendering import Renderer
from shared.errors import InvalidInput
from tests.notifications.unit.fakes import SETTINGS
# the fixtures and steps of the use-case tests (pytest finds fixtures imported into a module)
from tests.notifications.unit.test_use_cases import (  # noqa: F401
    IDEA_ID, KNOWN, NAMES, NOW, channels, clock, deliveries_of, events_of, hooks, idea_published, mailer, notify,
    pilot_approved, received, register, repo, subscribed, uow)

GROUP_ID, SUB_CONCEPT_ID, STRATEGY_ID = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MEETING_ID, COMPETITION_ID = uuid.uuid4(), uuid.uuid4()
GERA = {"municipality": "gera"}
LINKS = {"unsubscribe": "https://x/u", "manage": "https://x/m"}


def mails_to(mailer, address):
    return [m for m in mailer.sent if m.to == address]


def send(uow, channels, mailer):
    """Send what is due; returns the mails of this round."""
    before = len(mailer.sent)
    use_cases.send_mail_batch(uow, channels, NAMES)
    return mailer.sent[before:]


def setting_up(uow, channels, mailer):
    use_cases.send_mail_batch(uow, channels, NAMES)  # the confirmations of the subscriptions made
    mailer.sent.clear()


# --- events as the ideas service emits them ---------------------------------------------------

def group_created(name="AG Energie und Umwelt"):
    return {"working_group_id": GROUP_ID, **GERA, "group_name": name, "kind": "working_group",
            "field_of_action": "energie", "created_at": NOW}


def sponsor_accepted(sponsor="sponsor-1", public_name="Stadtwerke Gera AG"):
    return {"idea_id": IDEA_ID, **GERA, "field_of_action": "energie", "sponsorship_id": uuid.uuid4(),
            "sponsor_kind": "company", "sponsor_id": sponsor, "public_name": public_name, "accepted_at": NOW}


def comment_posted(author, comment_id=None, parent_id=None, visible=True):
    return {"comment_id": comment_id or uuid.uuid4(), **GERA, "target_kind": "idea", "target_id": IDEA_ID,
            "parent_id": parent_id, "author_id": author, "visible": visible, "posted_at": NOW}


def meeting_scheduled(starts_at=NOW + timedelta(days=3), title="Themenabend Energie"):
    return {"meeting_id": MEETING_ID, **GERA, "working_group_id": GROUP_ID, "kind": "theme_evening", "title": title,
            "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=2), "place": "Rathaus Gera, Raum 101",
            "online_url": None, "capacity": 30, "scheduled_at": NOW}


def registration(attendee, registered=1, withdrawn=False, at=NOW):
    return {"meeting_id": MEETING_ID, **GERA, "working_group_id": GROUP_ID, "attendee_id": attendee,
            "registered": registered, "capacity": 30, ("withdrawn_at" if withdrawn else "registered_at"): at}


def remind(uow):
    return use_cases.remind_meetings(uow, SETTINGS.meeting_reminder_hours, SETTINGS.digest_hour)


# --- every trigger reads as sentences in both languages ---------------------------------------

SAMPLES = {
    "CompetitionOpened": {"theme": "Ideen für die Innenstadt", "field_of_action": "energie", "field_name": "Energie",
                          "opens_at": "2021-01-11T00:00:00+00:00", "closes_at": "2021-02-25T23:00:00+00:00"},
    "CompetitionClosed": {"entries": 1, "competition_theme": "Ideen für die Innenstadt"},
    "CompetitionEntryShortlisted": {"idea_title": "Solardächer", "competition_theme": "Innenstadt"},
    "SponsorAccepted": {"idea_title": "Solardächer", "public_name": None},
    "SubConceptDrafted": {"title": "Energie 2030", "working_group_name": "AG Energie"},
    "IdeaIntegrated": {"idea_title": "Solardächer", "sub_concept_title": "Energie 2030"},
    "SubConceptSubmitted": {"sub_concept_title": "Energie 2030", "working_group_name": "AG Energie", "ideas": 3},
    "StrategyDraftPublished": {"title": "Smarte Stadt Gera", "version": 2,
                               "feedback_until": "2021-09-30T22:00:00+00:00"},
    "StrategyFeedbackClosed": {"version": 2, "comments": 14, "strategy_title": "Smarte Stadt Gera"},
    "StrategyAdopted": {"version": 3, "council_date": "2021-11-25", "strategy_title": "Smarte Stadt Gera"},
    "StrategyReturned": {"version": 3, "council_date": "2021-11-25", "reason": "Kosten fehlen"},
    "CommentPublished": {"target_kind": "strategy", "target_title": "Smarte Stadt Gera"},
    "CommentHidden": {"target_kind": "idea", "reason": "beleidigend"},
    "CommentReply": {"target_kind": "sub_concept", "target_title": "Energie 2030"},
    "MeetingScheduled": {"kind": "plenary", "title": "4. Vollversammlung", "starts_at": "2021-04-14T15:00:00+00:00",
                         "ends_at": "2021-04-14T17:00:00+00:00", "place": None,
                         "online_url": "https://unser.gera.de/live", "working_group_id": None},
    "MeetingCancelled": {"kind": "theme_evening", "title": "Themenabend", "starts_at": "2021-02-23T16:00:00+00:00",
                         "reason": "Krankheit"},
    "MeetingRegistered": {"kind": "theme_evening", "title": "Themenabend", "starts_at": "2021-02-23T16:00:00+00:00",
                          "place": "Rathaus"},
    "MeetingRegistrationWithdrawn": {"title": None},  # the meeting not known (yet): still a sentence
    "MeetingReminder": {"kind": "theme_evening", "title": "Themenabend", "starts_at": "2021-02-23T16:00:00+00:00",
                        "ends_at": "2021-02-23T18:00:00+00:00", "place": "Rathaus", "online_url": None},
    "SurveyResultsImported": {"title": "Bürgerbefragung", "conducted_by": "DHGE", "period_start": "2021-01-01",
                              "period_end": "2021-03-31", "questions": 12},
}


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("trigger_type", sorted(SAMPLES))
def test_every_new_trigger_reads_as_sentences(trigger_type, language):
    assert domain.AUDIENCE[trigger_type], "only triggers someone hears of are mailed"
    item = {"type": trigger_type, "municipality": "gera", "municipality_name": "Gera", **SAMPLES[trigger_type]}
    rendered = Renderer().notification(language, item, LINKS)
    assert rendered.subject.strip() and not rendered.subject.endswith(" ")
    first = rendered.text.split("\n\n")[1]  # the details under the headline
    for wrong in ("None", "theme_evening", "plenary\n", "sub_concept", "..", " .", "{", "_"):
        assert wrong not in rendered.subject + first, (wrong, rendered.subject, first)


def test_the_words_depend_on_the_event():
    german = Renderer().notification("de", {"type": "MeetingScheduled", **SAMPLES["MeetingScheduled"]}, LINKS)
    assert german.subject == "Vollversammlung: 4. Vollversammlung am 14.04.2021, 17:00 Uhr"
    assert "Ein Termin für alle, bis 14.04.2021, 19:00 Uhr. online: https://unser.gera.de/live." in german.text
    english = Renderer().notification("en", {"type": "StrategyReturned", **SAMPLES["StrategyReturned"]}, LINKS)
    assert "returned version 3 for changes on" in english.text and "Reason: Kosten fehlen" in english.text


# --- sponsors follow their idea ----------------------------------------------------------------

def test_an_accepted_sponsor_hears_of_it_and_of_the_ideas_progress_but_once_per_board_decision(
        uow, repo, channels, mailer):
    subscribed(uow, "sponsor@example.org", subject="sponsor-1")
    subscribed(uow, "fan@example.org", [{"kind": "idea", "idea_id": uuid.UUID(IDEA_ID)}])
    subscribed(uow, "offered@example.org", subject="sponsor-2")
    setting_up(uow, channels, mailer)
    notify(uow, received("ideas", "IdeaPublished", idea_published("author-1")))
    offered = {key: value for key, value in sponsor_accepted("sponsor-2").items()
               if key not in ("public_name", "accepted_at")}
    notify(uow, received("ideas", "SponsorOffered", {**offered, "offered_at": NOW}))
    notify(uow, received("ideas", "SponsorAccepted", sponsor_accepted()))
    accepted = send(uow, channels, mailer)
    assert sorted((m.to, m.rendered.subject) for m in accepted if "patenschaft" in m.rendered.subject) == [
        ("fan@example.org", "Neue Ideenpatenschaft für „Solardächer auf Schulen“"),
        ("sponsor@example.org", "Neue Ideenpatenschaft für „Solardächer auf Schulen“")]
    assert "Stadtwerke Gera AG begleitet die Idee" in accepted[-1].rendered.text
    assert not mails_to(mailer, "offered@example.org")  # an offer is for staff to decide

    notify(uow, received("voting", "PilotApproved", {**pilot_approved(), "field_of_action": "energie"}))
    follows = {"idea_id": IDEA_ID, **GERA, "field_of_action": "energie", "from_status": "shortlisted",
               "to_status": "pilot", "cause": "board", "reason": None, "decision_id": uuid.uuid4(),
               "author_id": "author-1", "changed_at": NOW}
    notify(uow, received("ideas", "IdeaStatusChanged", follows))
    staff_step = {**follows, "from_status": "pilot", "to_status": "in_implementation", "cause": "staff",
                  "decision_id": None}
    notify(uow, received("ideas", "IdeaStatusChanged", staff_step))
    progress = [m.rendered.subject for m in send(uow, channels, mailer) if m.to == "sponsor@example.org"]
    assert progress == ["Pilotprojekt beschlossen: „Solardächer auf Schulen“",
                        "„Solardächer auf Schulen“ ist jetzt in Umsetzung"]


def test_a_board_rejection_is_one_mail_to_the_author_and_none_says_published(uow, repo, channels, mailer):
    subscribed(uow, "author@example.org", subject="author-1")
    notify(uow, received("ideas", "IdeaPublished", idea_published("author-1")))
    setting_up(uow, channels, mailer)
    rejected = {**pilot_approved(), "reason": "majority", "tally": {"yes": 2, "no": 5, "abstain": 0}}
    notify(uow, received("voting", "PilotRejected", rejected))
    back = {"idea_id": IDEA_ID, **GERA, "field_of_action": "energie", "from_status": "shortlisted",
            "to_status": "published", "cause": "board", "reason": "board decision: majority",
            "decision_id": rejected["decision_id"], "author_id": "author-1", "changed_at": NOW}
    notify(uow, received("ideas", "IdeaStatusChanged", back))
    [mail] = send(uow, channels, mailer)
    assert mail.rendered.subject == "Kein Pilotprojekt: „Solardächer auf Schulen“"
    assert "veröffentlicht" not in mail.rendered.text and "published" not in mail.rendered.text


# --- comments ---------------------------------------------------------------------------------

def test_a_reply_reaches_the_parent_comments_author_once_it_is_visible(uow, repo, channels, mailer):
    subscribed(uow, "anna@example.org", subject="anna", language="en")
    subscribed(uow, "ben@example.org", subject="ben")
    setting_up(uow, channels, mailer)
    notify(uow, received("ideas", "IdeaPublished", idea_published("author-1")))
    parent = comment_posted("anna")
    notify(uow, received("ideas", "CommentPosted", parent))
    notify(uow, received("ideas", "CommentPosted", comment_posted("anna", parent_id=parent["comment_id"])))
    assert send(uow, channels, mailer) == []  # her own comment and her own answer: nothing

    # pre-moderated: nothing while it waits; once published, Anna hears of the reply and Ben of his comment
    reply = comment_posted("ben", parent_id=parent["comment_id"], visible=False)
    notify(uow, received("ideas", "CommentPosted", reply))
    assert send(uow, channels, mailer) == []
    published = {key: reply[key] for key in ("comment_id", "municipality", "target_kind", "target_id", "author_id")}
    event = received("ideas", "CommentPublished", {**published, "published_at": NOW})
    notify(uow, event)
    notify(uow, event)  # redelivered
    mails = {m.to: m.rendered for m in send(uow, channels, mailer)}
    assert mails["anna@example.org"].subject == "A reply to your comment on the idea “Solardächer auf Schulen”"
    assert f"/ideas/{IDEA_ID}?lang=en" in mails["anna@example.org"].text
    assert mails["ben@example.org"].subject == "Ihr Kommentar zur Idee „Solardächer auf Schulen“ ist veröffentlicht"
    assert len(mailer.sent) == 2


def test_a_hidden_comment_tells_only_its_author_the_reason(uow, repo, channels, mailer):
    subscribed(uow, "ben@example.org", subject="ben")
    subscribed(uow, "fan@example.org", [{"kind": "idea", "idea_id": uuid.UUID(IDEA_ID)}])
    setting_up(uow, channels, mailer)
    hidden = {"comment_id": uuid.uuid4(), **GERA, "target_kind": "idea", "target_id": IDEA_ID, "author_id": "ben",
              "reason": "Bitte sachlich bleiben.", "hidden_at": NOW}
    notify(uow, received("ideas", "CommentHidden", hidden))
    [mail] = send(uow, channels, mailer)
    assert mail.to == "ben@example.org" and "Begründung der Moderation: Bitte sachlich bleiben." in mail.rendered.text
    [trigger] = [t for t in repo.trigger_rows.values() if t["type"] == "CommentHidden"]
    assert "author_id" not in trigger["content"]  # no subjects in what feed and webhooks show


# --- the strategy -----------------------------------------------------------------------------

def test_sub_concepts_and_the_strategy_reach_strategy_subscribers_with_their_names(uow, repo, channels, mailer):
    subscribed(uow, "strategy@example.org", [{"kind": "strategy", **GERA}])
    subscribed(uow, "news@example.org", [{"kind": "announcements", **GERA}])
    setting_up(uow, channels, mailer)
    notify(uow, received("ideas", "WorkingGroupCreated", group_created()))
    notify(uow, received("ideas", "SubConceptDrafted", {
        "sub_concept_id": SUB_CONCEPT_ID, **GERA, "working_group_id": GROUP_ID, "title": "Energie 2030",
        "field_of_action": "energie", "drafted_at": NOW}))
    notify(uow, received("ideas", "SubConceptSubmitted", {
        "sub_concept_id": SUB_CONCEPT_ID, **GERA, "working_group_id": GROUP_ID, "ideas": 1, "submitted_at": NOW}))
    notify(uow, received("ideas", "StrategyDraftPublished", {
        "strategy_id": STRATEGY_ID, **GERA, "version": 1, "title": "Smarte Stadt Gera", "sub_concept_ids": [
            SUB_CONCEPT_ID], "feedback_until": NOW + timedelta(days=30), "published_at": NOW}))
    notify(uow, received("ideas", "StrategyAdopted", {
        "strategy_id": STRATEGY_ID, **GERA, "version": 1, "council_date": date(2021, 11, 25), "decided_at": NOW}))
    mails = send(uow, channels, mailer)
    assert [m.rendered.subject for m in mails_to(mailer, "strategy@example.org")] == [
        "Neues Teilkonzept: Energie 2030", "Teilkonzept eingereicht: Energie 2030",
        "Strategieentwurf zur Diskussion: Smarte Stadt Gera (Fassung 1)", "Strategie beschlossen: Smarte Stadt Gera"]
    submitted = mails_to(mailer, "strategy@example.org")[1].rendered.text
    assert "Die Arbeitsgruppe „AG Energie und Umwelt“ hat das Teilkonzept mit 1 Idee für die Gesamtstrategie" in submitted
    assert [m.rendered.subject for m in mails_to(mailer, "news@example.org")] == [
        "Strategieentwurf zur Diskussion: Smarte Stadt Gera (Fassung 1)", "Strategie beschlossen: Smarte Stadt Gera"]
    assert len(mails) == 6


def test_an_integrated_idea_tells_its_author_followers_and_sponsors(uow, repo, channels, mailer):
    subscribed(uow, "author@example.org", subject="author-1")
    subscribed(uow, "sponsor@example.org", subject="sponsor-1")
    notify(uow, received("ideas", "IdeaPublished", idea_published("author-1")))
    notify(uow, received("ideas", "SponsorAccepted", sponsor_accepted()))
    notify(uow, received("ideas", "SubConceptDrafted", {
        "sub_concept_id": SUB_CONCEPT_ID, **GERA, "working_group_id": GROUP_ID, "title": "Energie 2030",
        "field_of_action": None, "drafted_at": NOW}))
    setting_up(uow, channels, mailer)
    notify(uow, received("ideas", "IdeaIntegrated", {
        "idea_id": IDEA_ID, **GERA, "field_of_action": "energie", "sub_concept_id": SUB_CONCEPT_ID,
        "working_group_id": GROUP_ID, "integrated_at": NOW}))
    mails = send(uow, channels, mailer)
    assert sorted(m.to for m in mails) == ["author@example.org", "sponsor@example.org"]
    assert "Teil des Teilkonzepts „Energie 2030“ einer Arbeitsgruppe" in mails[0].rendered.text


def test_competitions_reach_field_and_announcement_subscribers_and_the_shortlisted_author(uow, repo, channels, mailer):
    subscribed(uow, "field@example.org", [{"kind": "field", **GERA, "field_of_action": "energie"}])
    subscribed(uow, "author@example.org", subject="author-1")
    setting_up(uow, channels, mailer)
    competition = {"competition_id": COMPETITION_ID, **GERA, "field_of_action": "energie"}
    notify(uow, received("ideas", "CompetitionOpened", {
        **competition, "theme": "Energie in der Innenstadt", "opens_at": NOW, "closes_at": NOW + timedelta(days=30),
        "jury_size": 3, "opened_at": NOW}))
    notify(uow, received("ideas", "IdeaSubmitted", {
        "idea_id": IDEA_ID, **GERA, "field_of_action": "energie", "title": "Solarbank", "channel": "competition",
        "author_id": "author-1", "submitted_at": NOW, "competition_id": COMPETITION_ID}))
    notify(uow, received("ideas", "CompetitionClosed", {**competition, "entries": 4, "closed_at": NOW}))
    notify(uow, received("ideas", "CompetitionEntryShortlisted", {**competition, "idea_id": IDEA_ID,
                                                                  "shortlisted_at": NOW}))
    send(uow, channels, mailer)
    assert [m.rendered.subject for m in mails_to(mailer, "field@example.org")] == [
        "Ideenwettbewerb eröffnet: Energie in der Innenstadt", "Ideenwettbewerb beendet: Energie in der Innenstadt"]
    shortlisted = mails_to(mailer, "author@example.org")[-1].rendered
    assert shortlisted.subject == "Ihre Idee „Solarbank“ ist in der engeren Wahl"
    assert "/ideas/" not in shortlisted.text  # the entry may not be public yet


# --- meetings -----------------------------------------------------------------------------------

def test_meetings_registrations_reminders_once_and_cancellations(uow, repo, channels, mailer, clock):
    subscribed(uow, "dates@example.org", [{"kind": "meetings", **GERA}], digest="daily")
    subscribed(uow, "carla@example.org", subject="carla", digest="weekly")
    subscribed(uow, "dora@example.org", subject="dora")
    setting_up(uow, channels, mailer)
    notify(uow, received("ideas", "WorkingGroupCreated", group_created()))
    notify(uow, received("ideas", "MeetingScheduled", meeting_scheduled()))
    notify(uow, received("ideas", "MeetingRegistered", registration("carla")))
    notify(uow, received("ideas", "MeetingRegistered", registration("dora", 2)))
    notify(uow, received("ideas", "MeetingRegistrationWithdrawn", registration("dora", 1, withdrawn=True)))
    [confirmation, *_] = send(uow, channels, mailer)
    assert confirmation.to == "dora@example.org"  # carla's confirmation waits for her weekly digest
    assert confirmation.rendered.subject == "Sie sind angemeldet: Themenabend Energie"
    assert "Themenabend am 17.04.2021, 10:00 Uhr. Ort: Rathaus Gera, Raum 101." in confirmation.rendered.text

    assert remind(uow) == 0  # 3 days ahead
    clock.advance(days=2, hours=1)
    assert remind(uow) == 1
    assert remind(uow) == 0  # once
    notify(uow, received("ideas", "MeetingRegistered", registration("erik", 2, at=clock.now)))
    assert remind(uow) == 0  # registered within the day before: the confirmation has the time
    # at once, although carla reads a weekly digest (dates@ gets its daily digest meanwhile); not to dora
    [reminder] = [m for m in send(uow, channels, mailer) if "Erinnerung" in m.rendered.subject]
    assert (reminder.to, reminder.rendered.subject) == (
        "carla@example.org", "Erinnerung: Themenabend Energie am 17.04.2021, 10:00 Uhr")

    later = {**meeting_scheduled(NOW + timedelta(days=10), "Vollversammlung"), "meeting_id": uuid.uuid4()}
    notify(uow, received("ideas", "MeetingScheduled", later))
    notify(uow, received("ideas", "MeetingRegistered", {**registration("carla"), "meeting_id": later["meeting_id"]}))
    notify(uow, received("ideas", "MeetingCancelled", {
        key: later[key] for key in ("meeting_id", "municipality", "working_group_id", "kind", "title", "starts_at")}
        | {"reason": "Der Saal ist belegt.", "cancelled_at": clock.now}))
    cancelled = [m for m in send(uow, channels, mailer) if m.rendered.subject.startswith("Abgesagt")]
    assert sorted(m.to for m in cancelled) == ["carla@example.org", "dates@example.org"]  # urgent: no digest wait
    clock.advance(days=7)
    assert remind(uow) == 0  # cancelled


def test_survey_results_reach_announcement_subscribers_without_their_rows(uow, repo, channels, mailer):
    subscribed(uow, "news@example.org", [{"kind": "announcements", **GERA}])
    setting_up(uow, channels, mailer)
    rows = [{"question": q, "answer": a, "count": 3} for q in ("Q1", "Q2") for a in ("ja", "nein")]
    notify(uow, received("ideas", "SurveyResultsImported", {
        "survey_id": uuid.uuid4(), **GERA, "title": "Bürgerbefragung 2021", "conducted_by": "DHGE Gera-Eisenach",
        "period_start": date(2021, 1, 1), "period_end": date(2021, 3, 31), "rows": rows, "imported_at": NOW}))
    [mail] = send(uow, channels, mailer)
    assert mail.rendered.subject == "Umfrageergebnisse: Bürgerbefragung 2021"
    assert "die Antworten auf 2 Fragen" in mail.rendered.text
    [trigger] = [t for t in repo.trigger_rows.values() if t["type"] == "SurveyResultsImported"]
    assert "rows" not in trigger["content"]


def test_events_nobody_is_mailed_are_kept_for_webhooks_that_asked(uow, repo, channels, mailer):
    hook = register(uow, event_types=("WorkingGroupMemberAdded",))
    subscribed(uow, "member@example.org", subject="member-1")
    setting_up(uow, channels, mailer)
    event = received("ideas", "WorkingGroupMemberAdded", {"working_group_id": GROUP_ID, **GERA,
                                                          "member_id": "member-1", "added_at": NOW})
    assert notify(uow, event) is True
    [delivery] = deliveries_of(repo, event.event_id)
    assert (delivery["channel"], delivery["webhook_id"]) == ("webhook", hook["id"])
    assert repo.trigger_rows[event.event_id]["content"] == {"working_group_id": str(GROUP_ID), **GERA,
                                                            "added_at": NOW.isoformat()}


def test_feed_items_carry_the_municipality_in_their_event(uow, repo):
    subscribed(uow, "ben@example.org", subject="ben")
    notify(uow, received("ideas", "CommentHidden", {
        "comment_id": uuid.uuid4(), **GERA, "target_kind": "idea", "target_id": IDEA_ID, "author_id": "ben",
        "reason": "Spam", "hidden_at": NOW}))
    [sent] = events_of(uow, "NotificationSent", channel="feed")
    assert sent["data"]["municipality"] == "gera"


# --- what subscriptions and announcements may name ------------------------------------------

def test_one_working_groups_meetings_can_be_followed_once_the_group_is_known(uow, repo, channels, mailer):
    known = Known(NAMES, KNOWN.idea_public, lambda m, group: use_cases.working_group_known(uow, m, group))
    group_meetings = {"kind": "meetings", **GERA, "working_group_id": GROUP_ID}
    with pytest.raises(InvalidInput) as refused:
        use_cases.subscribe(uow, Subscribe("ag@example.org", "de", "immediate", (group_meetings,)), known)
    assert refused.value.fields == {"subscriptions": {0: {"working_group_id": [
        f"no working group {GROUP_ID} in gera"]}}}
    notify(uow, received("ideas", "WorkingGroupCreated", group_created()))
    use_cases.subscribe(uow, Subscribe("ag@example.org", "de", "immediate", (group_meetings,)), known)
    subscriber = repo.subscriber_by_email("ag@example.org")
    assert repo.topics_of(subscriber["id"]) == [f"meetings:gera/{GROUP_ID}"]
    assert domain.subscription_of(f"meetings:gera/{GROUP_ID}") == {**group_meetings, "working_group_id": str(GROUP_ID)}
    use_cases.confirm(uow, Confirm(repo.issue_link(subscriber["id"], "confirm", NOW, timedelta(hours=1))), SETTINGS)
    setting_up(uow, channels, mailer)

    notify(uow, received("ideas", "MeetingScheduled", meeting_scheduled()))
    plenary = {**meeting_scheduled(title="Vollversammlung"), "meeting_id": uuid.uuid4(), "working_group_id": None,
               "kind": "plenary"}
    notify(uow, received("ideas", "MeetingScheduled", plenary))
    [mail] = send(uow, channels, mailer)  # the group's theme evening, not the plenary meeting
    assert mail.rendered.subject.startswith("Themenabend: Themenabend Energie am ")
    assert "Ein Termin der Arbeitsgruppe „AG Energie und Umwelt“" in mail.rendered.text
    token = repo.issue_link(subscriber["id"], "manage", NOW, timedelta(days=1))
    profile = use_cases.show_subscriber(uow, ShowSubscriber(token, None, municipalities=("gera", "grossenhain")))
    assert profile["working_groups"] == {"gera": {str(GROUP_ID): "AG Energie und Umwelt"}, "grossenhain": {}}


@pytest.mark.parametrize("subscription,field", [
    ({"kind": "announcements", "municipality": "atlantis"}, "municipality"),
    ({"kind": "meetings", "municipality": "atlantis"}, "municipality"),
    ({"kind": "field", "municipality": "gera", "field_of_action": "raumfahrt"}, "field_of_action"),
    ({"kind": "field", "municipality": "atlantis", "field_of_action": "energie"}, "municipality"),
    ({"kind": "idea", "idea_id": uuid.uuid4()}, "idea_id"),
])
def test_subscriptions_to_what_does_not_exist_are_refused_naming_the_field(uow, repo, subscription, field):
    good = {"kind": "strategy", "municipality": "gera"}
    with pytest.raises(InvalidInput) as refused:
        use_cases.subscribe(uow, Subscribe("x@example.org", "de", "immediate", (good, subscription)), KNOWN)
    assert list(refused.value.fields["subscriptions"]) == [1]
    assert list(refused.value.fields["subscriptions"][1]) == [field]
    assert repo.subscriber_rows == {} and repo.trigger_rows == {}


@pytest.mark.parametrize("changes,field", [
    ({"municipality": "atlantis"}, "municipality"),
    ({"starts_at": NOW - timedelta(minutes=1)}, "starts_at"),
    ({"starts_at": NOW}, "starts_at"),
])
def test_announcements_of_unknown_places_or_in_the_past_are_refused(uow, repo, changes, field):
    command = PostAnnouncement(**{"municipality": "gera", "title": "Plenum", "place": "Rathaus", "link": None,
                                  "description": None, "starts_at": NOW + timedelta(days=1), **changes})
    with pytest.raises(InvalidInput) as refused:
        use_cases.post_announcement(uow, command, SETTINGS.digest_hour, KNOWN)
    assert list(refused.value.fields) == [field]
    assert repo.announcement_rows == {} and repo.trigger_rows == {}


def test_a_reminder_comes_from_the_timer_in_municipal_time():
    starts = datetime(2021, 2, 23, 16, 0, tzinfo=timezone.utc)
    rendered = Renderer().notification("en", {"type": "MeetingReminder", **SAMPLES["MeetingReminder"],
                                               "starts_at": starts.isoformat()}, LINKS)
    assert rendered.subject == "Reminder: Themenabend on 23 Feb 2021, 17:00"


@pytest.mark.parametrize("today", [date(2026, 11, 21), date(2026, 11, 23), date(2026, 11, 24)])
def test_the_demo_announces_the_next_tuesday_theme_evening_and_a_plenary_later(today):
    evening, plenary = (datetime.fromisoformat(a["starts_at"]) for a in demo.announcements(today))
    assert evening.date() > today and evening.weekday() == 1 and evening.hour == 17
    assert plenary > evening


def test_the_service_consumes_every_event_type_it_has_an_audience_for_and_no_other():
    from services.notifications.service import NotificationsService
    from shared.events import CATALOGUE
    from shared.subscriber import EventSubscriber

    consumed = [event_type for name in dir(NotificationsService)
                for entrypoint in getattr(getattr(NotificationsService, name), "nameko_entrypoints", ())
                if isinstance(entrypoint, EventSubscriber) for event_type in entrypoint.event_types]
    assert sorted(consumed) == sorted(domain.EVENT_TYPES)  # each once
    assert set(domain.EVENT_TYPES) <= set(CATALOGUE)
    not_followed = {t for t, (owner, _) in CATALOGUE.items() if owner != "notifications"} - set(domain.EVENT_TYPES)
    assert not_followed == {"MilestoneScheduled", "VoteCast", "VoteWithdrawn"}  # nobody is told of these
