"""The strategy process in reporting: its projections in any order, and what its queries read off them."""
import itertools
import random
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from bench.event_stream import GROUP, PROCESS_TYPES, T0, envelope, every_type, loaded
from services.reporting import domain, exports, process_queries, queries, recording
from services.reporting.commands import Export, IdeaPage, Meetings, Place
from services.reporting.projector import MemoryStore
from tests.fakes import Clock, FakeUnitOfWork
from tests.reporting.test_api import PILOT, UPCOMING, scenario

from .fakes import FakeReportingRepository

NOW = datetime(2026, 3, 20, 11, 0, tzinfo=timezone.utc)
KEY = "unit-test-pseudonym-key"


def fold(events):
    store = MemoryStore()
    for event in events:
        domain.apply(store, domain.effects(domain.to_logged(loaded(event), T0, KEY)))
    return {table: sorted(map(repr, rows)) for table, rows in store.tables().items()}


@pytest.fixture
def uow():
    return FakeUnitOfWork("reporting", FakeReportingRepository(), Clock(NOW))


def record(uow, events):
    return recording.record_events(uow, [loaded(event) for event in events], KEY)


@pytest.fixture
def reported(uow):
    record(uow, scenario())
    return uow


def test_every_order_of_the_process_events_gives_the_same_rows():
    events = every_type(types=PROCESS_TYPES)
    expected = fold(events)
    for seed in range(30):
        assert fold(random.Random(seed).sample(events, len(events))) == expected


@pytest.mark.parametrize("lives", [
    [("WorkingGroupMemberAdded", 0), ("WorkingGroupMemberRemoved", 1), ("WorkingGroupMemberAdded", 2)],
    [("CommentPosted", 0), ("CommentReported", 1), ("CommentHidden", 2), ("CommentPublished", 3)],
    [("MeetingScheduled", 0), ("MeetingRegistered", 1), ("MeetingRegistrationWithdrawn", 2),
     ("MeetingCancelled", 3)],
    [("StrategyDraftPublished", 0), ("StrategyFeedbackClosed", 1), ("StrategyReturned", 2),
     ("StrategyAdopted", 3)],
], ids=["member", "comment", "meeting", "strategy"])
def test_the_latest_change_wins_whatever_arrives_last(lives):
    entity = uuid.uuid4()
    events = [envelope(kind, entity, T0 + timedelta(minutes=minute)) for kind, minute in lives]
    expected = fold(events)
    for order in itertools.permutations(events):
        assert fold(order) == expected


def test_what_each_entity_ends_as():
    entity = uuid.uuid4()
    steps = [("WorkingGroupMemberAdded", 0), ("WorkingGroupMemberRemoved", 1), ("WorkingGroupMemberAdded", 2)]
    store = MemoryStore()
    for kind, minute in reversed(steps):
        domain.apply(store, domain.effects(domain.to_logged(loaded(envelope(kind, entity, T0 + timedelta(
            minutes=minute))), T0, KEY)))
    [member] = store.rows["group_members"].values()
    assert member["present"] is True and member["member"] == domain.participant_of(KEY, "bob")
    [group] = store.rows["working_groups"].values()
    assert group["name"] is None  # WorkingGroupCreated has not arrived


def test_working_groups_count_members_ideas_and_sub_concepts(uow):
    group = uuid.uuid4()
    idea, hidden = uuid.uuid4(), uuid.uuid4()
    record(uow, [envelope("WorkingGroupCreated", group),
                 *[envelope("WorkingGroupMemberAdded", group, member_id=m) for m in ("bob", "eve")],
                 envelope("WorkingGroupMemberRemoved", group, T0 + timedelta(minutes=1), member_id="eve"),
                 envelope("IdeaPublished", idea, working_group_id=group),
                 envelope("IdeaSubmitted", hidden, working_group_id=group),
                 envelope("SubConceptDrafted", uuid.uuid4(), working_group_id=group)])
    [row] = process_queries.working_groups(uow, Place("gera"))
    assert (row["name"], row["members"], row["ideas"], row["public_ideas"], row["sub_concepts"]) == (
        "Energie und Umwelt", 1, 2, 1, 1)
    assert process_queries.working_groups(uow, Place("grossenhain")) == []


def test_the_process_read_off_the_scenario(reported):
    gera = Place("gera")
    [competition] = process_queries.competitions(reported, gera, NOW)
    assert (competition["state"], competition["entries"], competition["shortlisted"]) == ("closed", 0, 1)
    [sub_concept] = process_queries.sub_concepts(reported, gera)
    assert (sub_concept["title"], sub_concept["working_group"], sub_concept["ideas"], sub_concept["idea_ids"]) == (
        "Energie im Quartier", "Energie und Umwelt", 1, [PILOT])
    [strategy] = process_queries.strategies(reported, gera, NOW)
    assert strategy["status"] == "returned" and strategy["title"] == "Smart-City-Strategie"
    [version] = strategy["versions"]
    assert version["sub_concept_ids"] == [sub_concept["sub_concept_id"]] and version["comments_at_close"] == 1
    comments = process_queries.comments(reported, gera)
    assert comments["totals"] == {"published": 0, "pending": 0, "hidden": 1, "reported": 1}
    assert [(c["target_kind"], c["target_id"]) for c in comments["targets"]] == [("idea", PILOT)]
    upcoming = process_queries.meetings(reported, Meetings("gera", upcoming=True), NOW)
    assert [(m["meeting_id"], m["state"], m["kind"]) for m in upcoming] == [(UPCOMING, "scheduled", "plenary")]
    every = process_queries.meetings(reported, Meetings("gera"), NOW)
    assert [(m["state"], m["registered"]) for m in every] == [("cancelled", 0), ("scheduled", 0)]
    assert process_queries.meetings(reported, Meetings("gera", working_group_id=uuid.uuid4()), NOW) == []
    [survey] = process_queries.surveys(reported, gera)
    assert [(r["answer"], r["count"]) for r in survey["results"]] == [("ja", 412), ("nein", 88)]
    assert (survey["period_start"], survey["period_end"]) == (date(2021, 1, 4), date(2021, 3, 31))
    [sponsor] = process_queries.sponsors(reported, gera)
    assert (sponsor["idea_id"], sponsor["public_name"], sponsor["sponsor_kind"]) == (PILOT, "Stadtwerke Gera",
                                                                                      "company")


def test_a_strategy_version_is_open_for_feedback_in_its_window(uow):
    strategy = uuid.uuid4()
    record(uow, [envelope("StrategyDraftPublished", strategy, NOW - timedelta(days=1))])
    [row] = process_queries.strategies(uow, Place("gera"), NOW)
    assert row["status"] == "feedback"
    assert process_queries.strategies(uow, Place("gera"), NOW + timedelta(days=30))[0]["status"] == "draft"
    record(uow, [envelope("StrategyDraftPublished", strategy, NOW, version=2),
                 envelope("StrategyAdopted", strategy, NOW + timedelta(days=40), version=2)])
    [row] = process_queries.strategies(uow, Place("gera"), NOW + timedelta(days=41))
    assert row["status"] == "adopted" and [v["status"] for v in row["versions"]] == ["draft", "adopted"]


def test_a_competition_is_upcoming_open_then_closed(uow):
    competition = uuid.uuid4()
    record(uow, [envelope("CompetitionOpened", competition, NOW, opens_at=NOW + timedelta(days=1)),
                 envelope("IdeaSubmitted", uuid.uuid4(), NOW, competition_id=competition, channel="competition")])
    state = lambda now: process_queries.competitions(uow, Place(), now)[0]["state"]  # noqa: E731
    assert (state(NOW), state(NOW + timedelta(days=2))) == ("upcoming", "open")
    record(uow, [envelope("CompetitionClosed", competition, NOW + timedelta(days=3))])
    [row] = process_queries.competitions(uow, Place(), NOW + timedelta(days=3))
    assert (row["state"], row["entries"]) == ("closed", 1)


def test_an_ideas_page_shows_its_sponsors_sub_concept_and_comments(reported):
    record(reported, [envelope("SubConceptDrafted", uuid.uuid4(), T0 + timedelta(days=9)),  # another one
                      envelope("CommentPosted", uuid.uuid4(), target_id=PILOT),
                      envelope("SponsorOffered", PILOT, sponsorship_id=uuid.uuid4())])  # not accepted: not shown
    page = queries.idea_page(reported, IdeaPage(PILOT))
    assert [s["public_name"] for s in page["sponsors"]] == ["Stadtwerke Gera"]
    assert page["sub_concept"]["title"] == "Energie im Quartier" and page["comments"] == 1


def test_the_process_exports_hold_no_personal_data(reported):
    for dataset in ("working_groups", "sponsors", "comments", "meetings", "survey_results", "strategy_versions"):
        rows = exports.records(dataset, queries.export_rows(reported, Export(dataset, "gera")))
        assert rows, dataset
        text = repr(rows)
        for secret in ("bob", "carol", "dave", domain.participant_of(KEY, "bob"), domain.participant_of(KEY, "dave")):
            assert secret not in text, dataset
    assert queries.export_rows(reported, Export("meetings", "grossenhain")) == []


def test_the_dashboard_has_the_process(reported):
    data = queries.dashboard_data(reported, Place("gera"))
    assert [m["meeting_id"] for m in data["meetings"]] == [UPCOMING]
    assert data["surveys"] and data["strategies"] and data["sub_concepts"] and data["competitions"]
    assert data["working_groups"][0]["working_group_id"] != GROUP  # every_type's own group
    assert data["comments"]["hidden"] == 1
