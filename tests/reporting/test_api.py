"""The reporting HTTP API: dashboards' questions, open data, and clear errors for bad queries."""
import csv
import io
import uuid
from datetime import timedelta

import pytest

from bench.event_stream import PROCESS_TYPES, T0, envelope, every_type, idea_life
from services.reporting import domain
from services.reporting.exports import DATASETS
from shared import config
from shared.events import service_of
from tests.reporting.helpers import wait_applied

pytestmark = pytest.mark.integration

PILOT, SUBMITTED, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MILESTONE_ON_TIME, MILESTONE_OVERDUE = uuid.uuid4(), uuid.uuid4()
UPCOMING = uuid.uuid4()  # a meeting


def scenario():
    """A pilot with votes and a decision, an idea awaiting moderation, a Großenhain idea, two milestones,
    and the strategy process around the pilot."""
    return [
        *idea_life(PILOT, author="alice"),
        envelope("IdeaSubmitted", SUBMITTED, T0 + timedelta(days=1), title="Geheimer Entwurf", author_id="bob"),
        envelope("IdeaSubmitted", OTHER, T0 + timedelta(days=2), municipality="grossenhain", field="bildung",
                 author_id="carol", channel="workshop"),
        envelope("IdeaPublished", OTHER, T0 + timedelta(days=2, hours=1), municipality="grossenhain",
                 field="bildung", author_id="carol", channel="workshop"),
        envelope("VoteCast", PILOT, T0 + timedelta(minutes=2), total=1),
        envelope("VoteCast", PILOT, T0 + timedelta(minutes=3), total=2),
        envelope("VoteCast", OTHER, T0 + timedelta(days=3), municipality="grossenhain", field="bildung", total=1),
        envelope("PilotApproved", PILOT, T0 + timedelta(minutes=3, seconds=30)),
        envelope("MilestoneScheduled", MILESTONE_ON_TIME, idea_id=PILOT),
        envelope("MilestoneReached", MILESTONE_ON_TIME, T0 + timedelta(days=5), idea_id=PILOT),
        envelope("MilestoneScheduled", MILESTONE_OVERDUE),
        envelope("MilestoneOverdue", MILESTONE_OVERDUE, T0 + timedelta(days=40)),
        envelope("NotificationSent", uuid.uuid4()),
        envelope("NotificationFailed", uuid.uuid4(), channel="webhook"),
        # the strategy process around the pilot: its group, competition, sponsor, sub-concept, strategy,
        # comments, a meeting and a survey; and a theme evening still to come
        *every_type(T0 + timedelta(days=6), idea_id=PILOT, types=PROCESS_TYPES),
        envelope("MeetingScheduled", UPCOMING, T0 + timedelta(days=7), title="Plenum 2030", kind="plenary",
                 working_group_id=None, starts_at=T0.replace(year=2030), ends_at=T0.replace(year=2030, hour=11)),
    ]


@pytest.fixture
def loaded(reporting_api, reporting_sql, publish_event):
    events = scenario()
    for event in events:
        publish_event(service_of(event["type"]), event["type"], envelope=event)
    wait_applied(reporting_sql, len(events))
    return reporting_api


def test_summary_counts_everything(loaded):
    summary = loaded("GET", "/api/v1/summary").json()
    assert summary["ideas"]["total"] == 3
    assert summary["ideas"]["by_status"] == {"pilot": 1, "submitted": 1, "published": 1}
    assert summary["votes"] == {"cast": 3, "withdrawn": 0, "support": 3}
    assert summary["pilots"]["approved"] == 1
    assert summary["milestones"] == {"scheduled": 0, "reached": 1, "overdue": 1, "on_time_rate": 1.0}
    assert summary["notifications"] == {"sent": {"email": 1}, "failed": {"webhook": 1}}
    assert summary["participants"] == 3
    assert summary["events_applied"] == len(scenario())

    gera = loaded("GET", "/api/v1/summary?municipality=gera").json()
    assert gera["ideas"]["total"] == 2 and gera["votes"]["cast"] == 2 and gera["participants"] == 2


def test_fields_pilots_milestones_and_rankings(loaded):
    fields = {(f["municipality"], f["field_of_action"]): f for f in loaded("GET", "/api/v1/fields").json()}
    assert fields["gera", "energie"]["ideas"] == 2 and fields["gera", "energie"]["votes_cast"] == 2
    assert fields["grossenhain", "bildung"]["by_status"] == {"published": 1}

    pilots = loaded("GET", "/api/v1/pilots").json()
    assert pilots["pipeline"]["approved"] == 1
    [pilot] = pilots["items"]
    assert (pilot["idea_id"], pilot["stage"], pilot["yes"], pilot["milestones"], pilot["milestones_reached"]) == (
        str(PILOT), "approved", 7, 1, 1)

    milestones = loaded("GET", "/api/v1/milestones?state=overdue").json()
    assert [m["milestone_id"] for m in milestones["items"]] == [str(MILESTONE_OVERDUE)]
    assert milestones["stats"]["on_time_rate"] == 1.0

    ranking = loaded("GET", "/api/v1/rankings").json()
    assert [(r["idea_id"], r["support"]) for r in ranking] == [(str(PILOT), 2), (str(OTHER), 1)]


def test_timeseries_is_zero_filled_and_grouped(loaded):
    series = loaded("GET", "/api/v1/timeseries?type=IdeaSubmitted&from=2026-03-01&to=2026-03-05"
                           "&group_by=municipality").json()
    by_key = {s["key"]: [p["events"] for p in s["points"]] for s in series["series"]}
    assert by_key == {"gera": [0, 1, 1, 0, 0], "grossenhain": [0, 0, 0, 1, 0]}
    weekly = loaded("GET", "/api/v1/timeseries?type=VoteCast&from=2026-03-01&to=2026-03-15&interval=week").json()
    assert [p["events"] for p in weekly["series"][0]["points"]] == [0, 3, 0]
    empty = loaded("GET", "/api/v1/timeseries?type=PilotRejected&from=2026-03-01&to=2026-03-02").json()
    assert [p["events"] for p in empty["series"][0]["points"]] == [0, 0]


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_exports_have_the_documented_columns_and_no_personal_data(loaded, dataset):
    text = loaded("GET", f"/api/v1/exports/{dataset}").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(DATASETS[dataset].columns)
    as_json = loaded("GET", f"/api/v1/exports/{dataset}?format=json").json()
    assert len(as_json) == len(rows) and list(as_json[0]) == list(DATASETS[dataset].columns)
    pseudonym = domain.participant_of(config.load("reporting").pseudonym_key, "alice")
    for secret in ("alice", "bob", "carol", pseudonym, "Geheimer Entwurf", str(SUBMITTED)):
        assert secret not in text


def test_the_ideas_export_holds_only_public_ideas(loaded):
    ideas = loaded("GET", "/api/v1/exports/ideas?format=json&municipality=gera").json()
    assert [(i["idea_id"], i["status"], i["support"]) for i in ideas] == [(str(PILOT), "pilot", 2)]
    datasets = loaded("GET", "/api/v1/exports").json()
    assert [d["name"] for d in datasets] == list(DATASETS)


@pytest.mark.parametrize("path,field", [
    ("/api/v1/summary?municipality=Gera!", "municipality"),
    ("/api/v1/summary?colour=blue", "colour"),
    ("/api/v1/pilots?stage=dreaming", "stage"),
    ("/api/v1/milestones?idea_id=42", "idea_id"),
    ("/api/v1/rankings?limit=0", "limit"),
    ("/api/v1/timeseries?type=IdeaInvented", "type"),
    ("/api/v1/timeseries?interval=year", "interval"),
    ("/api/v1/timeseries?from=2026-13-01", "from"),
    ("/api/v1/timeseries?from=2026-03-05&to=2026-03-01", "from"),
    ("/api/v1/timeseries?from=2020-01-01&to=2026-01-01&interval=hour", "interval"),
    ("/api/v1/exports/ideas?format=xml", "format"),
    ("/api/v1/working-groups?municipality=Not%20a%20slug", "municipality"),
    ("/api/v1/meetings?upcoming=perhaps", "upcoming"),
    ("/api/v1/meetings?working_group_id=7", "working_group_id"),
    ("/api/v1/surveys?year=2021", "year"),
])
def test_bad_query_input_is_a_422_naming_the_field(reporting_api, path, field):
    response = reporting_api("GET", path)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["fields"]


def test_the_strategy_process_as_reporting_follows_it(loaded):
    [group] = loaded("GET", "/api/v1/working-groups?municipality=gera").json()
    assert (group["name"], group["kind"], group["members"], group["sub_concepts"]) == (
        "Energie und Umwelt", "working_group", 0, 1)  # its one member left again
    [competition] = loaded("GET", "/api/v1/competitions?municipality=gera").json()
    assert (competition["state"], competition["shortlisted"]) == ("closed", 1)
    [sponsor] = loaded("GET", "/api/v1/sponsors?municipality=gera").json()
    assert (sponsor["idea_id"], sponsor["public_name"]) == (str(PILOT), "Stadtwerke Gera")
    assert "sponsor_id" not in sponsor
    [sub_concept] = loaded("GET", "/api/v1/sub-concepts?municipality=gera").json()
    assert (sub_concept["ideas"], sub_concept["idea_ids"]) == (1, [str(PILOT)])
    [strategy] = loaded("GET", "/api/v1/strategies?municipality=gera").json()
    assert strategy["status"] == "returned" and strategy["versions"][0]["reason"] == "more on mobility"
    comments = loaded("GET", "/api/v1/comment-counts?municipality=gera").json()
    assert comments["totals"] == {"published": 0, "pending": 0, "hidden": 1, "reported": 1}
    upcoming = loaded("GET", "/api/v1/meetings?municipality=gera&upcoming=true").json()
    assert [m["title"] for m in upcoming] == ["Plenum 2030"]
    assert len(loaded("GET", "/api/v1/meetings?municipality=gera").json()) == 2
    [survey] = loaded("GET", "/api/v1/surveys?municipality=gera").json()
    assert [(r["answer"], r["count"]) for r in survey["results"]] == [("ja", 412), ("nein", 88)]
    assert loaded("GET", "/api/v1/surveys?municipality=grossenhain").json() == []


def test_an_unknown_municipality_is_a_404_naming_it(loaded):
    for path in ("/api/v1/summary", "/api/v1/fields"):
        response = loaded("GET", f"{path}?municipality=nowhere")
        assert response.status_code == 404 and "'nowhere'" in response.json()["error"]["message"]
    assert loaded("GET", "/api/v1/summary?municipality=grossenhain").status_code == 200


def test_rankings_list_ideas_without_votes_with_0(loaded):
    ranking = loaded("GET", "/api/v1/rankings?municipality=grossenhain&round_id=" + str(uuid.uuid4())).json()
    assert [(r["rank"], r["idea_id"], r["support"]) for r in ranking] == [(1, str(OTHER), 0)]


def test_an_unknown_dataset_is_a_404(reporting_api):
    response = reporting_api("GET", "/api/v1/exports/voters")
    assert response.status_code == 404 and "voters" in response.json()["error"]["message"]


def test_openapi_describes_the_reporting_api(reporting_api):
    paths = reporting_api("GET", "/openapi.json").json()["paths"]
    for path in ("/api/v1/summary", "/api/v1/fields", "/api/v1/pilots", "/api/v1/milestones", "/api/v1/rankings",
                 "/api/v1/timeseries", "/api/v1/exports", "/api/v1/exports/{dataset}", "/dashboard", "/metrics",
                 "/api/v1/working-groups", "/api/v1/competitions", "/api/v1/sponsors", "/api/v1/sub-concepts",
                 "/api/v1/strategies", "/api/v1/comment-counts", "/api/v1/meetings", "/api/v1/surveys"):
        assert path in paths
    parameters = paths["/api/v1/timeseries"]["get"]["parameters"]
    assert {"from", "to", "interval"} <= {p["name"] for p in parameters}


@pytest.mark.parametrize("title", ["=HYPERLINK(\"https://evil.example\",\"Mehr\")", "@SUM(1+1)*cmd|' /C calc'!A0",
                                   "+49 365 838", "-1+1", "\tTabulator", "\rWagenrücklauf"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_json_is_unchanged(reporting_api, reporting_sql,
                                                                                      publish_event, title):
    idea = uuid.uuid4()
    events = [envelope(kind, idea, T0 + timedelta(minutes=n), title=title, author_id="alice")
              for n, kind in enumerate(("IdeaSubmitted", "IdeaPublished"))]
    for event in events:
        publish_event(service_of(event["type"]), event["type"], envelope=event)
    wait_applied(reporting_sql, len(events))
    [row] = csv.DictReader(io.StringIO(reporting_api("GET", "/api/v1/exports/ideas").text, newline=""))
    assert row["title"] == "'" + title
    [item] = reporting_api("GET", "/api/v1/exports/ideas?format=json").json()
    assert item["title"] == title
