"""The unit tests' in-memory repository answers as the SQL one does: the same events recorded
through both, then every method compared (rows, order, NULLs, types)."""
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from itertools import product

import pytest

from bench.event_stream import ROUND, T0, envelope, every_type, loaded, mixed_stream
from services.reporting import recording
from services.reporting.projector import PROCESS_TABLES, PROJECTIONS, columns_of
from services.reporting.repository import ReportingRepository
from shared.db import Pool, SqlUnitOfWork
from shared.domain import MUNICIPAL_TZ
from tests.fakes import Clock, FakeUnitOfWork
from tests.fixtures import sql_runner
from tests.reporting.test_api import PILOT, scenario

from .unit.fakes import FakeReportingRepository

KEY = "test-pseudonym-key"

pytestmark = pytest.mark.integration


def extras():
    """What the API scenario lacks: every event type, an idea known only by a status change, a vote
    for an idea not seen yet, submissions around both DST changes of 2026, a notification applied
    before its trigger."""
    around_dst = [envelope("IdeaSubmitted", uuid.uuid4(), datetime(2026, month, day, hour, 30, tzinfo=timezone.utc),
                           author_id=f"night-owl-{hour}")
                  for month, day in ((3, 29), (10, 25)) for hour in (0, 1, 2, 22, 23)]
    late_trigger = envelope("IdeaSubmitted", uuid.uuid4(), T0 + timedelta(days=5), municipality="grossenhain")
    return [envelope("NotificationSent", uuid.uuid4(), trigger_event_id=late_trigger["id"]),  # before its trigger
            *every_type(municipality="grossenhain", field="umwelt"),
            envelope("IdeaStatusChanged", uuid.uuid4(), T0 + timedelta(days=3)),
            envelope("VoteCast", uuid.uuid4(), T0 + timedelta(days=4), total=4, field="umwelt"), *around_dst,
            late_trigger]


@pytest.fixture(scope="module")
def events():
    stream = scenario() + mixed_stream(ideas=12, seed=5) + extras()
    return stream + stream[::7]  # and some redeliveries


@pytest.fixture(scope="module")
def repositories(reporting_database, events):
    """(SQL unit of work, fake unit of work), both after recording `events` in the same batches.

    Recorded once for the module: every test here only reads."""
    _, close = sql_runner(reporting_database, ["event_log", *PROJECTIONS])  # empties them
    close()
    clock = Clock(datetime(2026, 11, 1, 12, tzinfo=timezone.utc))
    pool = Pool(reporting_database, 1)
    units = (SqlUnitOfWork("reporting", pool, ReportingRepository, clock=clock),
             FakeUnitOfWork("reporting", FakeReportingRepository(), clock))
    for start in range(0, len(events), 9):
        batch = [loaded(event) for event in events[start:start + 9]]
        assert recording.record_events(units[0], batch, KEY) == recording.record_events(units[1], batch, KEY)
    yield units
    pool.close()


def plain(result):
    """RealDictRows as dicts, generators as lists: what the fake returns."""
    if isinstance(result, list):
        return [dict(row) if isinstance(row, dict) else row for row in result]
    return dict(result) if isinstance(result, dict) else result


def both(units, method, *args, **kwargs):
    answers = []
    for uow in units:
        with uow:
            answers.append(plain(list(getattr(uow.repo, method)(*args, **kwargs)) if method == "log_rows"
                                 else getattr(uow.repo, method)(*args, **kwargs)))
    return answers


def test_the_projections_are_the_same(repositories):
    sql, fake = repositories
    for table in PROJECTIONS:
        with sql:
            sql.repo.cur.execute(f"SELECT {', '.join(columns_of(table))} FROM {table}")
            rows = Counter(tuple(row.values()) for row in sql.repo.cur.fetchall())
        repo = fake.fake_repo
        if table in repo.tables:
            expected = Counter(tuple(row[c] for c in columns_of(table)) for row in repo.tables[table].values())
        else:
            expected = Counter(key + tuple(amounts.values()) for key, amounts in repo.counters[table].items())
        assert rows == expected, table
        assert rows, table


@pytest.mark.parametrize("method,kwargs", [
    ("lock_log", {}),
    ("log_rows", {"batch_size": 5}),
    ("idea_counts", {}), ("idea_counts", {"municipality": "gera"}),
    ("idea_counts", {"municipality": "gera", "field_of_action": "energie"}),
    ("event_counts", {}), ("event_counts", {"municipality": "grossenhain"}),
    ("support", {}), ("support", {"municipality": "gera"}),
    ("pipeline", {}), ("pipeline", {"municipality": "grossenhain"}),
    ("milestone_counts", {}), ("milestone_counts", {"municipality": "gera"}),
    ("milestones", {}), ("milestones", {"municipality": "grossenhain"}), ("milestones", {"idea_id": PILOT}),
    ("participant_counts", {}), ("participant_counts", {"municipality": "gera"}),
    ("distinct_participants", {}), ("distinct_participants", {"municipality": "grossenhain"}),
    ("lag_buckets", {}),
    ("last_event", {}),
    ("rankings", {}), ("rankings", {"municipality": "gera", "limit": 3}),
    ("rankings", {"field_of_action": "umwelt"}), ("rankings", {"round_id": ROUND}),
    ("public_ideas", {}), ("public_ideas", {"municipality": "gera"}),
    ("vote_totals", {}), ("vote_totals", {"municipality": "grossenhain"}),
    ("late_trigger_places", {"outcome_types": ["NotificationSent", "NotificationFailed"]}),
    *[("entities", {"table": table}) for table in PROCESS_TABLES],
    ("entities", {"table": "sponsorships", "municipality": "grossenhain"}),
    ("entities", {"table": "meetings", "municipality": "grossenhain", "kind": "theme_evening"}),
    ("ideas_by", {"column": "working_group_id"}), ("ideas_by", {"column": "competition_id",
                                                                "municipality": "grossenhain"}),
    ("comment_counts", {}), ("comment_counts", {"municipality": "grossenhain", "target_kind": "idea"}),
])
def test_every_read_answers_the_same(repositories, method, kwargs):
    sql, fake = both(repositories, method, **kwargs)
    assert sql == fake
    assert sql not in ([], None, 0)  # the events give every question an answer


@pytest.mark.parametrize("interval,group_by", product(("hour", "day", "week", "month"),
                                                      (None, "municipality", "field_of_action", "channel", "status")))
def test_activity_series_answer_the_same(repositories, interval, group_by):
    start, end = datetime(2026, 2, 1, tzinfo=MUNICIPAL_TZ), datetime(2026, 11, 1, tzinfo=MUNICIPAL_TZ)
    for event_type, filters in (("IdeaSubmitted", {}), ("VoteCast", {"municipality": "gera"}),
                                ("IdeaStatusChanged", {"status": "pilot", "field_of_action": "energie"})):
        sql, fake = both(repositories, "activity_series", event_type, start, end, interval, MUNICIPAL_TZ.key,
                         group_by, **filters)
        assert sql == fake and sql, (event_type, filters)
