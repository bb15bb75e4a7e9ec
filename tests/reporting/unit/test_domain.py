"""Pure projection rules: any order, any redelivery, the same rows."""
import hashlib
import itertools
import random
import uuid
from datetime import date, datetime, timedelta, timezone

from bench.event_stream import T0, envelope, idea_life, loaded
from services.reporting import domain
from services.reporting.projector import MemoryStore
from shared.domain import milestone_state

RECEIVED = T0 + timedelta(hours=1)
KEY = "unit-test-pseudonym-key"


def logged(event, received_at=RECEIVED):
    return domain.to_logged(loaded(event), received_at, KEY)


def fold(events):
    """Apply each distinct event once (as the event log does), in the order given."""
    store, seen = MemoryStore(), set()
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            domain.apply(store, domain.effects(logged(event)))
    return store


def snapshot(store):
    return {table: sorted(map(repr, rows)) for table, rows in store.tables().items()}


def test_every_order_of_an_idea_life_gives_the_same_rows():
    events = idea_life(uuid.uuid4())
    expected = snapshot(fold(events))
    for order in itertools.permutations(events):
        assert snapshot(fold(order)) == expected
    [idea] = fold(events).rows["ideas"].values()
    assert (idea["status"], idea["channel"], idea["title"]) == ("pilot", "form", "Solardächer")


def test_a_shuffled_stream_with_duplicates_gives_the_same_rows_as_the_orderly_one():
    rng = random.Random(5)
    events = [e for _ in range(20) for e in idea_life(uuid.uuid4(), T0 + timedelta(hours=rng.randint(0, 100)),
                                                      author=f"user-{rng.randint(1, 5)}")]
    milestone = uuid.uuid4()
    events += [envelope("MilestoneScheduled", milestone), envelope("MilestoneOverdue", milestone, T0 + timedelta(days=30)),
               envelope("MilestoneReached", milestone, T0 + timedelta(days=31), on_time=False)]
    shuffled = events + rng.sample(events, 30)
    rng.shuffle(shuffled)
    assert snapshot(fold(shuffled)) == snapshot(fold(events))


def test_an_idea_whose_status_change_arrives_first_gets_its_channel_later():
    idea_id = uuid.uuid4()
    changed, submitted = idea_life(idea_id)[2], idea_life(idea_id)[0]
    store = fold([changed])
    assert store.rows["ideas"][(str(idea_id),)]["channel"] is None
    store = fold([changed, submitted])
    row = store.rows["ideas"][(str(idea_id),)]
    assert (row["status"], row["channel"]) == ("shortlisted", "form")


def test_a_milestone_reached_late_stays_reached_whatever_arrives_last():
    milestone = uuid.uuid4()
    overdue = envelope("MilestoneOverdue", milestone, T0 + timedelta(days=30))
    reached = envelope("MilestoneReached", milestone, T0 + timedelta(days=31), on_time=False)
    for order in ([overdue, reached], [reached, overdue]):
        row = fold(order).rows["milestones"][(str(milestone),)]
        assert milestone_state(row["reached_at"], row["overdue_at"]) == "reached"
        assert row["on_time"] is False


def test_the_latest_vote_total_and_the_latest_board_decision_win():
    idea_id = uuid.uuid4()
    votes = [envelope("VoteCast", idea_id, T0 + timedelta(seconds=i), total=i + 1) for i in range(5)]
    approved = envelope("PilotApproved", idea_id, T0 + timedelta(days=2))
    rejected = envelope("PilotRejected", idea_id, T0 + timedelta(days=1))
    store = fold(list(reversed(votes)) + [approved, rejected])
    assert store.rows["votes"][(str(idea_id), "00000000-0000-4000-8000-00000000000a")]["total"] == 5
    assert store.rows["pilot_decisions"][(str(idea_id),)]["decision"] == "approved"
    assert store.counters["event_counts"][("VoteCast", "gera", "energie", "", "")]["events"] == 5


def test_participant_pseudonyms_are_keyed_not_a_plain_hash_anyone_could_recompute():
    pseudonym = domain.participant_of(KEY, "keycloak-subject-42")
    assert pseudonym == domain.participant_of(KEY, "keycloak-subject-42")
    assert pseudonym != hashlib.sha256(b"smartcity-participant:keycloak-subject-42").hexdigest()[:32]
    assert pseudonym != domain.participant_of("another-key", "keycloak-subject-42")


def test_author_ids_are_pseudonymised_before_anything_is_stored():
    event = logged(envelope("IdeaSubmitted", uuid.uuid4(), author_id="keycloak-subject-42"))
    assert event.data["author_id"] == domain.participant_of(KEY, "keycloak-subject-42")
    assert "keycloak-subject-42" not in repr(event)
    store = fold([envelope("IdeaSubmitted", uuid.uuid4(), author_id="a"),
                  envelope("IdeaSubmitted", uuid.uuid4(), author_id="a"),
                  envelope("IdeaSubmitted", uuid.uuid4(), author_id="b")])
    assert len(store.rows["participants"]) == 2


def test_lag_lands_in_its_histogram_bucket():
    event = logged(envelope("VoteCast", uuid.uuid4()), received_at=T0 + timedelta(seconds=0.3))
    [lag] = [e for e in domain.effects(event) if e.table == "event_lag"]
    assert lag.key == ("VoteCast", 0.5)
    assert lag.amounts == {"events": 1, "lag_us_sum": 300_000}
    assert domain.lag_bucket(10_000) == float("inf")


def test_pipeline_stage():
    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later = t + timedelta(days=1)
    assert domain.pipeline_stage("shortlisted", t) == "shortlisted"
    assert domain.pipeline_stage("shortlisted", t, "approved", later) == "approved"
    assert domain.pipeline_stage("pilot", later, "approved", t) == "approved"
    assert domain.pipeline_stage("published", later, "rejected", t) == "rejected"
    assert domain.pipeline_stage("in_implementation", later, "approved", t) == "in_implementation"
    assert domain.pipeline_stage(None, None, "rejected", t) == "rejected"
    assert domain.pipeline_stage("published", t) is None


def test_only_the_boards_approval_makes_a_pilot():
    """A staff status change to pilot (or beyond) without the board's approval is not an approved pilot."""
    t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for status in ("pilot", "in_implementation", "completed"):
        assert domain.pipeline_stage(status, t) is None
        assert domain.pipeline_stage(status, t + timedelta(days=1), "rejected", t) is None
    assert domain.pipeline_stage("pilot", t + timedelta(days=1), "approved", t) == "approved"


def test_buckets_follow_the_municipal_calendar():
    days = domain.bucket_starts(date(2026, 3, 28), date(2026, 3, 30), "day")
    assert [d.isoformat() for d in days] == ["2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00",
                                             "2026-03-30T00:00:00+02:00"]
    assert len(domain.bucket_starts(date(2026, 3, 29), date(2026, 3, 29), "hour")) == 23  # DST: a short day
    weeks = domain.bucket_starts(date(2026, 3, 4), date(2026, 3, 17), "week")
    assert [w.date() for w in weeks] == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    months = domain.bucket_starts(date(2026, 1, 31), date(2026, 3, 1), "month")
    assert [m.date() for m in months] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert domain.bucket_count(date(2026, 1, 1), date(2026, 12, 31), "hour") == 365 * 24


def test_on_time_rate():
    assert domain.on_time_rate(0, 0) is None
    assert domain.on_time_rate(2, 3) == 0.6667
