"""Every reporting use case against the in-memory unit of work: no broker, no database.

The write side (recording) logs each event once and folds it into the projections; the read
side (queries) answers from them. The scenario is the API test's, so both levels agree.
"""
import argparse
import copy
import csv
import inspect
import io
import random
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from bench.event_stream import T0, envelope, loaded, mixed_stream
from services.reporting import cli, domain, exports, queries, recording
from services.reporting.commands import Export, IdeaPage, Milestones, Pilots, Place, Rankings, Timeseries
from services.reporting.metrics import ProjectionCollector
from services.reporting.repository import ReportingRepository
from shared.errors import InvalidInput, NotFound
from tests.fakes import Clock, FakeUnitOfWork
from tests.reporting.test_api import MILESTONE_ON_TIME, MILESTONE_OVERDUE, OTHER, PILOT, SUBMITTED, scenario

from .fakes import FakeReportingRepository

NOW = datetime(2026, 3, 20, 11, 0, tzinfo=timezone.utc)  # a Friday; 12:00 in Gera
KEY = "unit-test-pseudonym-key"


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def repo():
    return FakeReportingRepository()


@pytest.fixture
def uow(repo, clock):
    return FakeUnitOfWork("reporting", repo, clock)


def record(uow, events):
    """Events as the subscriber hands them over (validated, data loaded), recorded in one batch."""
    return recording.record_events(uow, [loaded(event) for event in events], KEY)


def state(repo):
    """Everything the repository holds, to compare before and after."""
    return copy.deepcopy((repo.log, repo.tables, repo.counters))


def projections(repo):
    return copy.deepcopy((repo.tables, repo.counters))


@pytest.fixture
def reported(uow):
    """The API test's scenario, recorded: a pilot, an idea in moderation, a Großenhain idea, two milestones."""
    record(uow, scenario())
    return uow


def test_the_fake_repository_has_the_sql_repositorys_methods():
    def public(cls):
        return {name: inspect.signature(f) for name, f in vars(cls).items()
                if callable(f) and not name.startswith("_")}
    assert public(FakeReportingRepository) == public(ReportingRepository)


# --- the write side -------------------------------------------------------------------------

def test_a_batch_is_logged_and_projected(uow, repo):
    events = scenario()
    assert record(uow, events) == [True] * len(events)
    assert [entry[0] for entry in repo.log] == [event["id"] for event in events]
    assert repo.tables["ideas"][(str(PILOT),)]["status"] == "pilot"
    assert repo.tables["pilot_decisions"][(str(PILOT),)]["decision"] == "approved"
    assert sum(c["events"] for c in repo.counters["event_counts"].values()) == len(events)
    assert uow.commits == 1 and uow.events == []  # one transaction; reporting publishes nothing


def test_a_redelivered_event_changes_nothing(uow, repo):
    vote = envelope("VoteCast", uuid.uuid4(), total=3)
    assert record(uow, [vote]) == [True]
    before = state(repo)
    assert record(uow, [vote]) == [False]
    assert state(repo) == before


def test_a_second_copy_in_the_same_batch_counts_once(uow, repo):
    vote, other = envelope("VoteCast", uuid.uuid4(), total=3), envelope("VoteCast", uuid.uuid4(), total=1)
    assert record(uow, [vote, other, vote]) == [True, True, False]
    assert len(repo.log) == 2
    assert repo.counters["event_counts"][("VoteCast", "gera", "energie", "", "")]["events"] == 2


def test_the_log_keeps_a_pseudonym_and_the_time_of_application(uow, repo, clock):
    clock.now = T0 + timedelta(seconds=0.3)
    record(uow, [envelope("IdeaSubmitted", uuid.uuid4(), author_id="keycloak-subject-42")])
    [(_, _, _, _, _, received_at, data)] = repo.log
    assert received_at == clock.now
    assert data["author_id"] == domain.participant_of(KEY, "keycloak-subject-42")
    assert "keycloak-subject-42" not in repr(state(repo))
    assert list(repo.counters["event_lag"]) == [("IdeaSubmitted", 0.5)]


def test_a_failing_batch_leaves_nothing_and_its_good_events_go_through_alone(uow, repo):
    record(uow, [envelope("VoteCast", uuid.uuid4())])
    before = state(repo)
    good = loaded(envelope("IdeaSubmitted", uuid.uuid4()))
    bad = loaded(envelope("IdeaStatusChanged", uuid.uuid4()))
    del bad["data"]["to_status"]  # a defect the projections trip over once the log has taken the batch
    with pytest.raises(KeyError):
        recording.record_events(uow, [good, bad], KEY)
    assert state(repo) == before and uow.rollbacks == 1
    assert recording.record_events(uow, [good], KEY) == [True]  # what group commit does next: one by one
    assert len(repo.log) == 2


def test_any_order_and_any_batching_give_the_same_projections(clock):
    events = mixed_stream(ideas=8, seed=3)
    rng = random.Random(11)
    shuffled = events + rng.sample(events, 15)
    rng.shuffle(shuffled)

    orderly, jumbled = FakeReportingRepository(), FakeReportingRepository()
    record(FakeUnitOfWork("reporting", orderly, clock), events)
    uow = FakeUnitOfWork("reporting", jumbled, clock)
    applied = []
    while shuffled:
        size = rng.randint(1, 9)
        applied += record(uow, shuffled[:size])
        shuffled = shuffled[size:]
    assert sum(applied) == len(events)
    assert projections(jumbled) == projections(orderly)


def test_rebuild_replays_the_log_into_the_same_projections(uow, repo):
    events = mixed_stream(ideas=5, seed=2)
    record(uow, events)
    live = projections(repo)
    next(iter(repo.tables["ideas"].values()))["status"] = "tampered"
    repo.counters["event_counts"][("VoteCast", "nowhere", "", "", "")] = {"events": 99}

    progress = []
    assert recording.rebuild(uow, batch_size=10, on_progress=lambda done, total: progress.append((done, total))) \
        == len(events)
    assert projections(repo) == live
    n = len(events)
    assert progress == [(0, n), *((done, n) for done in range(10, n + 1, 10)), (n, n)]


def test_rebuild_of_an_empty_log_empties_the_projections(uow, repo):
    record(uow, [envelope("VoteCast", uuid.uuid4())])
    repo.log.clear()
    assert recording.rebuild(uow) == 0
    assert not any(repo.tables.values()) and not any(repo.counters.values())


# --- the read side --------------------------------------------------------------------------

def test_summary_counts_everything(reported):
    summary = queries.summary(reported, Place())
    assert summary["ideas"] == {"total": 3, "by_status": {"pilot": 1, "submitted": 1, "published": 1},
                                "by_channel": {"form": 2, "workshop": 1}, "by_field": {"energie": 2, "bildung": 1}}
    assert summary["votes"] == {"cast": 3, "withdrawn": 0, "support": 3}
    assert summary["pilots"] == {"shortlisted": 0, "approved": 1, "rejected": 0, "in_implementation": 0,
                                 "completed": 0}
    assert summary["milestones"] == {"scheduled": 0, "reached": 1, "overdue": 1, "on_time_rate": 1.0}
    assert summary["notifications"] == {"sent": {"email": 1}, "failed": {"webhook": 1}}
    assert (summary["participants"], summary["events_applied"]) == (3, len(scenario()))
    # the last one logged
    assert (summary["last_event_time"], summary["last_applied_at"]) == (T0 + timedelta(days=7), NOW)


def test_a_places_summary_counts_its_own(reported):
    gera = queries.summary(reported, Place("gera"))
    assert (gera["municipality"], gera["ideas"]["total"], gera["votes"]["cast"], gera["participants"]) == (
        "gera", 2, 2, 2)
    # the scenario's notifications name no municipality and their trigger is not in the log: all places only
    assert gera["notifications"] == {"sent": {}, "failed": {}}
    nowhere = queries.summary(reported, Place("nowhere"))  # the ideas service's list not asked
    assert nowhere["ideas"]["total"] == 0 and nowhere["votes"]["cast"] == 0


def test_an_unknown_municipality_is_not_found_naming_it(reported):
    with pytest.raises(NotFound) as refused:
        queries.summary(reported, Place("nowhere"), known={"gera", "grossenhain"})
    assert "'nowhere'" in refused.value.message
    with pytest.raises(NotFound):
        queries.fields(reported, Place("nowhere"), known={"gera"})
    # known from the ideas service, or from its events while the ideas service has not answered
    assert queries.summary(reported, Place("jena"), known={"jena"})["ideas"]["total"] == 0
    assert queries.summary(reported, Place("grossenhain"), known=set())["ideas"]["total"] == 1


def test_notifications_count_for_their_triggers_municipality(uow):
    trigger = envelope("IdeaPublished", uuid.uuid4(), municipality="grossenhain")
    record(uow, [trigger])
    in_batch = envelope("IdeaPublished", uuid.uuid4())  # gera, in the same batch as its notification
    record(uow, [
        envelope("NotificationSent", uuid.uuid4(), trigger_event_id=trigger["id"]),  # older: no municipality
        envelope("NotificationFailed", uuid.uuid4(), trigger_event_id=in_batch["id"]), in_batch,
        envelope("NotificationSent", uuid.uuid4(), channel="webhook", municipality="gera"),  # newer: its own
        envelope("NotificationSent", uuid.uuid4(), trigger_event_id="unknown"),  # trigger not logged
    ])
    notifications = {place: queries.summary(uow, Place(place))["notifications"]
                     for place in ("gera", "grossenhain", None)}
    assert notifications == {
        "gera": {"sent": {"webhook": 1}, "failed": {"email": 1}},
        "grossenhain": {"sent": {"email": 1}, "failed": {}},
        None: {"sent": {"email": 2, "webhook": 1}, "failed": {"email": 1}}}
    before = projections(uow.fake_repo)
    recording.rebuild(uow)  # the log kept the municipality it was applied with
    assert projections(uow.fake_repo) == before


def test_a_rebuild_places_a_notification_whose_trigger_came_after_it(uow):
    trigger = envelope("IdeaPublished", uuid.uuid4(), municipality="grossenhain")
    record(uow, [envelope("NotificationSent", uuid.uuid4(), trigger_event_id=trigger["id"])])
    record(uow, [trigger])
    assert queries.summary(uow, Place("grossenhain"))["notifications"]["sent"] == {}  # applied before its trigger
    recording.rebuild(uow)
    assert queries.summary(uow, Place("grossenhain"))["notifications"]["sent"] == {"email": 1}
    assert queries.summary(uow, Place())["notifications"]["sent"] == {"email": 1}


def test_the_summary_of_nothing(uow):
    summary = queries.summary(uow, Place())
    assert summary["ideas"]["total"] == 0 and summary["milestones"]["on_time_rate"] is None
    assert summary["last_event_time"] is None and summary["last_applied_at"] is None


def test_fields(reported):
    fields = {(f["municipality"], f["field_of_action"]): f for f in queries.fields(reported, Place())}
    assert fields["gera", "energie"] == {"municipality": "gera", "field_of_action": "energie", "ideas": 2,
                                         "by_status": {"pilot": 1, "submitted": 1}, "votes_cast": 2, "support": 2,
                                         "pilots": {"approved": 1}}
    assert fields["grossenhain", "bildung"]["by_status"] == {"published": 1}
    assert [f["municipality"] for f in queries.fields(reported, Place("grossenhain"))] == ["grossenhain"]


def test_pilots_by_stage(reported):
    record(reported, [envelope("IdeaStatusChanged", OTHER, T0 + timedelta(days=4), municipality="grossenhain",
                               field="bildung")])  # published -> shortlisted
    pilots = queries.pilots(reported, Pilots())
    assert pilots["pipeline"]["approved"] == 1 and pilots["pipeline"]["shortlisted"] == 1
    assert {(item["idea_id"], item["stage"]) for item in pilots["items"]} == {(PILOT, "approved"),
                                                                               (OTHER, "shortlisted")}
    [pilot] = queries.pilots(reported, Pilots(stage="approved"))["items"]
    assert (pilot["yes"], pilot["milestones"], pilot["milestones_reached"]) == (7, 1, 1)
    completed = queries.pilots(reported, Pilots(stage="completed"))
    assert completed["items"] == [] and completed["pipeline"]["approved"] == 1  # the filter keeps the counts
    assert queries.pilots(reported, Pilots(municipality="gera"))["pipeline"]["shortlisted"] == 0


def test_milestones_with_their_state(reported):
    everything = queries.milestones(reported, Milestones())
    assert {(m["milestone_id"], m["state"]) for m in everything["items"]} == {
        (MILESTONE_ON_TIME, "reached"), (MILESTONE_OVERDUE, "overdue")}
    overdue = queries.milestones(reported, Milestones(state="overdue"))
    assert [m["milestone_id"] for m in overdue["items"]] == [MILESTONE_OVERDUE]
    assert overdue["stats"] == {"scheduled": 0, "reached": 1, "overdue": 1, "on_time_rate": 1.0}
    assert [m["milestone_id"] for m in queries.milestones(reported, Milestones(idea_id=PILOT))["items"]] == [
        MILESTONE_ON_TIME]


def test_rankings_list_public_ideas_by_support(reported):
    unseen = uuid.uuid4()  # its idea events have not arrived yet: counted as published
    record(reported, [envelope("VoteCast", SUBMITTED, total=5),  # not public: left out
                      envelope("VoteCast", unseen, total=1, field="umwelt")])
    ranking = queries.rankings(reported, Rankings())
    assert [(r["rank"], r["idea_id"], r["support"]) for r in ranking][:1] == [(1, PILOT, 2)]
    assert {r["idea_id"] for r in ranking} == {PILOT, OTHER, unseen}
    assert [r["idea_id"] for r in queries.rankings(reported, Rankings(limit=1))] == [PILOT]
    assert [r["idea_id"] for r in queries.rankings(reported, Rankings(field_of_action="umwelt"))] == [unseen]
    # public ideas without votes (in this round) are listed with 0
    assert {(r["idea_id"], r["support"]) for r in queries.rankings(reported, Rankings(round_id=uuid.uuid4()))} == {
        (PILOT, 0), (OTHER, 0)}


def test_ranking_ties_go_to_the_earlier_publication_then_the_lower_id(uow):
    """shared.domain.RANKING, as voting ranks."""
    first, second, unseen = uuid.uuid4(), uuid.uuid4(), uuid.UUID(int=0)  # unseen: the lowest id of all
    low, high = sorted([uuid.uuid4(), uuid.uuid4()])
    record(uow, [envelope("IdeaPublished", second, T0 + timedelta(hours=2)),
                 envelope("IdeaPublished", first, T0 + timedelta(hours=1)),
                 envelope("IdeaPublished", high, T0 + timedelta(hours=3)),
                 envelope("IdeaPublished", low, T0 + timedelta(hours=3)),
                 envelope("VoteCast", first, total=1), envelope("VoteCast", second, total=1),
                 envelope("VoteCast", unseen, total=1)])
    ranking = queries.rankings(uow, Rankings())
    assert [(r["rank"], r["idea_id"], r["support"]) for r in ranking] == [
        (1, first, 1), (2, second, 1), (3, unseen, 1), (4, low, 0), (5, high, 0)]


def test_a_timeseries_is_zero_filled_and_grouped(reported):
    series = queries.timeseries(reported, Timeseries(first_day=date(2026, 3, 1), last_day=date(2026, 3, 5),
                                                     group_by="municipality"))
    assert {s["key"]: [p["events"] for p in s["points"]] for s in series["series"]} == {
        "gera": [0, 1, 1, 0, 0], "grossenhain": [0, 0, 0, 1, 0]}
    assert (series["type"], series["interval"], series["from"], series["to"]) == (
        "IdeaSubmitted", "day", date(2026, 3, 1), date(2026, 3, 5))
    weekly = queries.timeseries(reported, Timeseries("VoteCast", "week", date(2026, 3, 1), date(2026, 3, 15)))
    assert [p["events"] for p in weekly["series"][0]["points"]] == [0, 3, 0]
    empty = queries.timeseries(reported, Timeseries("PilotRejected", "day", date(2026, 3, 1), date(2026, 3, 2)))
    assert empty["series"] == [{"key": "", "points": [{"start": p["start"], "events": 0}
                                                      for p in empty["series"][0]["points"]]}]
    pilots = queries.timeseries(reported, Timeseries("IdeaStatusChanged", "month", date(2026, 3, 1),
                                                     date(2026, 3, 31), status="pilot"))
    assert [p["events"] for p in pilots["series"][0]["points"]] == [1]


def test_a_timeseries_ends_today_on_the_municipal_calendar_by_default(uow, clock):
    clock.now = datetime(2026, 3, 20, 23, 30, tzinfo=timezone.utc)  # already the 21st in Gera
    series = queries.timeseries(uow, Timeseries())
    assert (series["from"], series["to"]) == (date(2026, 2, 20), date(2026, 3, 21))
    assert len(series["series"][0]["points"]) == 30


def test_an_hourly_series_has_both_hours_of_the_autumn_dst_change(uow):
    record(uow, [envelope("IdeaSubmitted", uuid.uuid4(), datetime(2026, 10, 25, hour, 30, tzinfo=timezone.utc))
                 for hour in (0, 1, 1)])  # 02:30 summer time, then 02:30 winter time twice
    day = date(2026, 10, 25)
    points = queries.timeseries(uow, Timeseries(interval="hour", first_day=day, last_day=day))["series"][0]["points"]
    assert len(points) == 25
    assert [(p["start"].isoformat(), p["events"]) for p in points[2:4]] == [
        ("2026-10-25T02:00:00+02:00", 1), ("2026-10-25T02:00:00+01:00", 2)]


@pytest.mark.parametrize("query,field", [
    (Timeseries(first_day=date(2026, 3, 5), last_day=date(2026, 3, 1)), "from"),
    (Timeseries(interval="hour", first_day=date(2020, 1, 1), last_day=date(2026, 1, 1)), "interval"),
])
def test_a_timeseries_refuses_a_range_it_cannot_draw(uow, query, field):
    with pytest.raises(InvalidInput) as refused:
        queries.timeseries(uow, query)
    assert list(refused.value.fields) == [field]


def test_the_dashboard_data(reported, clock):
    record(reported, [envelope("IdeaSubmitted", uuid.uuid4(), NOW - timedelta(days=d)) for d in (0, 6, 6)])
    data = queries.dashboard_data(reported, Place())
    assert data["summary"] == queries.summary(reported, Place())
    points = data["submissions"]["series"][0]["points"]
    assert len(points) == 30 and points[-1]["start"].date() == date(2026, 3, 20)
    assert [p["events"] for p in points][-7:] == [2, 0, 0, 0, 0, 0, 1]
    assert {m["milestone_id"] for m in data["milestones"]} == {MILESTONE_ON_TIME, MILESTONE_OVERDUE}
    assert queries.dashboard_data(reported, Place("grossenhain"))["milestones"] == []


def test_the_ideas_export_holds_only_public_ideas(reported):
    ideas = queries.export_rows(reported, Export("ideas", "gera"))
    assert [(i["idea_id"], i["status"], i["support"]) for i in ideas] == [(PILOT, "pilot", 2)]
    votes = queries.export_rows(reported, Export("votes"))
    assert {(v["idea_id"], v["total"]) for v in votes} == {(PILOT, 2), (OTHER, 1)}


@pytest.mark.parametrize("dataset", sorted(exports.DATASETS))
def test_every_export_has_its_columns_and_no_personal_data(reported, dataset):
    rows = queries.export_rows(reported, Export(dataset))
    body, _ = exports.render(dataset, rows, "csv")
    parsed = list(csv.DictReader(io.StringIO(body)))
    assert parsed and list(parsed[0]) == list(exports.DATASETS[dataset].columns)
    for secret in ("alice", "bob", "carol", domain.participant_of(KEY, "alice"), "Geheimer Entwurf", str(SUBMITTED)):
        assert secret not in body


def test_an_unknown_dataset_is_not_found(uow):
    with pytest.raises(NotFound) as refused:
        queries.export_rows(uow, Export("voters"))
    assert "voters" in refused.value.message and "ideas" in refused.value.message


def test_the_datasets_are_listed_with_their_columns():
    listed = queries.datasets()
    assert [d["name"] for d in listed] == list(exports.DATASETS)
    assert listed[0]["columns"] == exports.DATASETS["ideas"].columns and listed[0]["formats"] == ["csv", "json"]


def test_reading_changes_nothing(reported, repo):
    before = state(repo)
    queries.dashboard_data(reported, Place())
    queries.fields(reported, Place())
    queries.rankings(reported, Rankings())
    for dataset in exports.DATASETS:
        queries.export_rows(reported, Export(dataset))
    queries.figures(reported)
    assert state(repo) == before and reported.events == []


# --- the adapters around them ---------------------------------------------------------------

def samples(collector):
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in collector.collect()
            for s in family.samples}


def test_the_metrics_collector_reads_the_projection_figures(reported, repo, clock):
    found = samples(ProjectionCollector(lambda: FakeUnitOfWork("reporting", repo, clock)))
    assert found["smartcity_reporting_ideas", (("channel", "form"), ("field", "energie"), ("municipality", "gera"),
                                               ("status", "pilot"))] == 1
    assert found["smartcity_reporting_votes_cast_total", (("field", "energie"), ("municipality", "gera"))] == 2
    assert found["smartcity_reporting_pilots", (("municipality", "gera"), ("stage", "approved"))] == 1
    assert found["smartcity_reporting_milestones_on_time_ratio", (("municipality", "gera"),)] == 1.0
    assert found["smartcity_reporting_event_lag_seconds_count", (("type", "VoteCast"),)] == 3


def test_a_scrape_without_the_database_still_answers(caplog):
    def broken():
        raise ConnectionError("database down")
    assert samples(ProjectionCollector(broken)) == {}
    assert "could not read the projections" in caplog.text


def test_the_rebuild_command_and_its_progress_bar():
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["reporting", "rebuild", "--batch-size", "500"])
    assert (args.action, args.batch_size, args.func) == ("rebuild", 500, cli._rebuild)
    out = io.StringIO()
    bar = cli.ProgressBar(out, width=10)
    bar.update(0, 40)
    bar.update(40, 40)
    first, last = out.getvalue().split("\r")[1:]
    assert first.startswith("[..........] 0/40 events   0%") and last.startswith("[##########] 40/40 events 100%")


def test_an_ideas_page_tells_its_story_without_single_votes(reported):
    page = queries.idea_page(reported, IdeaPage(PILOT))
    assert page["idea"]["status"] == "pilot" and page["idea"]["support"] == 2
    assert [step["step"] for step in page["story"]] == ["submitted", "published", "status", "decision",
                                                        "competition_shortlist", "sponsor", "integrated"]
    decision = page["story"][3]
    assert (decision["decision"], decision["yes"], decision["no"], decision["abstain"]) == ("approved", 7, 2, 1)
    assert [m["state"] for m in page["milestones"]] == ["reached"]


def test_an_idea_not_public_has_no_page(reported):
    for hidden in (SUBMITTED, uuid.uuid4()):
        with pytest.raises(NotFound):
            queries.idea_page(reported, IdeaPage(hidden if isinstance(hidden, uuid.UUID) else uuid.UUID(hidden)))


def test_pilot_projects_name_their_next_milestone(reported):
    [pilot] = queries.pilot_projects(reported, Pilots(municipality="gera"))
    assert pilot["idea_id"] == PILOT and pilot["stage"] == "approved"
    assert pilot["next_milestone"] is None  # its one milestone is reached
    assert [m["state"] for m in pilot["milestone_list"]] == ["reached"]


def test_the_next_milestone_is_the_earliest_unreached():
    due = [{"title": "b", "due_date": date(2021, 6, 30), "reached_at": None},
           {"title": "a", "due_date": date(2021, 3, 31), "reached_at": T0},
           {"title": "c", "due_date": date(2021, 9, 30), "reached_at": None}]
    assert domain.next_milestone(due)["title"] == "b" and domain.next_milestone([]) is None
