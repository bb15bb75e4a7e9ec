"""The reporting service's nameko entrypoints: every event in; dashboards' HTTP questions out.

Thin on purpose: an event goes to the write side (recording.py) through group commit; an HTTP
query becomes a command (commands.py) for the read side (queries.py), whose result is returned
as JSON, or rendered as CSV (exports.py) or HTML (dashboard.py).
"""
from werkzeug.wrappers import Response

from shared.db import UnitOfWorkProvider
from shared.events import CATALOGUE, service_of
from shared.group_commit import GroupCommit
from shared.ops import OpsEndpoints
from shared.subscriber import subscribe_many
from shared.web import api

from . import dashboard, exports, queries, recording
from .commands import Export, Milestones, Pilots, Place, Rankings, Timeseries
from .metrics import ProjectionMetrics
from .repository import ReportingRepository
from .schemas import (DatasetOut, ExportQuery, FieldOut, MilestoneQuery, MilestonesOut, PilotQuery, PilotsOut,
                      PlaceQuery, RankingOut, RankingQuery, SeriesOut, SeriesQuery, SummaryOut)

EVERY_EVENT = [(service_of(event_type), event_type) for event_type in CATALOGUE]
REPORTS, OPEN_DATA = ["reports"], ["open data"]


def _place(query):
    return Place(municipality=query.get("municipality"))


class ReportingService(OpsEndpoints):
    name = "reporting"

    uow = UnitOfWorkProvider(ReportingRepository, emits=False)  # reads events, publishes none
    record = GroupCommit(recording.record_events)
    projection_metrics = ProjectionMetrics()

    @subscribe_many(EVERY_EVENT, "all")
    def on_event(self, event):
        return self.record(event)  # False for a redelivery

    @api("GET", "/api/v1/summary", query=PlaceQuery, response=SummaryOut, tags=REPORTS,
         summary="Ideas, votes, pilots, milestones, notifications and participation at a glance")
    def summary(self, request):
        return queries.summary(self.uow, _place(request.query_data))

    @api("GET", "/api/v1/fields", query=PlaceQuery, response=FieldOut(many=True), tags=REPORTS,
         summary="The same per municipality and field of action")
    def fields(self, request):
        return queries.fields(self.uow, _place(request.query_data))

    @api("GET", "/api/v1/pilots", query=PilotQuery, response=PilotsOut, tags=REPORTS,
         summary="The pilot pipeline: shortlisted, approved, rejected, in implementation, completed")
    def pilots(self, request):
        query = request.query_data
        return queries.pilots(self.uow, Pilots(municipality=query.get("municipality"), stage=query.get("stage")))

    @api("GET", "/api/v1/milestones", query=MilestoneQuery, response=MilestonesOut, tags=REPORTS,
         summary="The milestone timeline with due, reached, overdue and the on-time rate")
    def milestones(self, request):
        query = request.query_data
        return queries.milestones(self.uow, Milestones(municipality=query.get("municipality"),
                                                       state=query.get("state"), idea_id=query.get("idea_id")))

    @api("GET", "/api/v1/rankings", query=RankingQuery, response=RankingOut(many=True), tags=REPORTS,
         summary="Public ideas by current support")
    def rankings(self, request):
        query = request.query_data
        return queries.rankings(self.uow, Rankings(municipality=query.get("municipality"),
                                                   field_of_action=query.get("field"),
                                                   round_id=query.get("round_id"), limit=query["limit"]))

    @api("GET", "/api/v1/timeseries", query=SeriesQuery, response=SeriesOut, tags=REPORTS,
         summary="Events of a type per hour, day, week or month (municipal calendar), zero-filled")
    def timeseries(self, request):
        query = request.query_data
        return queries.timeseries(self.uow, Timeseries(
            event_type=query["type"], interval=query["interval"], first_day=query.get("from"),
            last_day=query.get("to"), municipality=query.get("municipality"), field_of_action=query.get("field"),
            channel=query.get("channel"), status=query.get("status"), group_by=query.get("group_by")))

    @api("GET", "/api/v1/exports", response=DatasetOut(many=True), tags=OPEN_DATA,
         summary="The open-data datasets and their columns")
    def datasets(self, request):
        return queries.datasets()

    @api("GET", "/api/v1/exports/<dataset>", query=ExportQuery, tags=OPEN_DATA,
         summary="An open-data dataset as CSV (default) or JSON; no personal data")
    def export(self, request, dataset):
        query = request.query_data
        rows = queries.export_rows(self.uow, Export(dataset=dataset, municipality=query.get("municipality")))
        body, content_type = exports.render(dataset, rows, query["format"])
        return Response(body, content_type=content_type)

    @api("GET", "/dashboard", query=PlaceQuery, tags=REPORTS, summary="The built-in dashboard (HTML, no scripts)")
    def dashboard(self, request):
        page = dashboard.render(queries.dashboard_data(self.uow, _place(request.query_data)))
        return Response(page, content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": dashboard.CSP})
