"""The reporting service's nameko entrypoints: every event in; dashboards' HTTP questions out."""
from werkzeug.wrappers import Response

from shared.db import Database
from shared.events import CATALOGUE, service_of
from shared.ops import OpsEndpoints
from shared.subscriber import subscribe_many
from shared.web import api

from . import dashboard, handlers
from .batcher import Batcher
from .metrics import ProjectionMetrics
from .schemas import (DatasetOut, ExportQuery, FieldOut, MilestoneQuery, MilestonesOut, PilotQuery, PilotsOut,
                      PlaceQuery, RankingOut, RankingQuery, SeriesOut, SeriesQuery, SummaryOut)

EVERY_EVENT = [(service_of(event_type), event_type) for event_type in CATALOGUE]
REPORTS, OPEN_DATA = ["reports"], ["open data"]


class ReportingService(OpsEndpoints):
    name = "reporting"

    db = Database()
    apply_event = Batcher()
    projection_metrics = ProjectionMetrics()

    @subscribe_many(EVERY_EVENT, "all")
    def on_event(self, event):
        return self.apply_event(event)  # False for a redelivery

    @api("GET", "/api/v1/summary", query=PlaceQuery, response=SummaryOut, tags=REPORTS,
         summary="Ideas, votes, pilots, milestones, notifications and participation at a glance")
    def summary(self, request):
        return handlers.summary(self.db, request.query_data)

    @api("GET", "/api/v1/fields", query=PlaceQuery, response=FieldOut(many=True), tags=REPORTS,
         summary="The same per municipality and field of action")
    def fields(self, request):
        return handlers.fields(self.db, request.query_data)

    @api("GET", "/api/v1/pilots", query=PilotQuery, response=PilotsOut, tags=REPORTS,
         summary="The pilot pipeline: shortlisted, approved, rejected, in implementation, completed")
    def pilots(self, request):
        return handlers.pilots(self.db, request.query_data)

    @api("GET", "/api/v1/milestones", query=MilestoneQuery, response=MilestonesOut, tags=REPORTS,
         summary="The milestone timeline with due, reached, overdue and the on-time rate")
    def milestones(self, request):
        return handlers.milestones(self.db, request.query_data)

    @api("GET", "/api/v1/rankings", query=RankingQuery, response=RankingOut(many=True), tags=REPORTS,
         summary="Public ideas by current support")
    def rankings(self, request):
        return handlers.rankings(self.db, request.query_data)

    @api("GET", "/api/v1/timeseries", query=SeriesQuery, response=SeriesOut, tags=REPORTS,
         summary="Events of a type per hour, day, week or month (municipal calendar), zero-filled")
    def timeseries(self, request):
        return handlers.timeseries(self.db, request.query_data)

    @api("GET", "/api/v1/exports", response=DatasetOut(many=True), tags=OPEN_DATA,
         summary="The open-data datasets and their columns")
    def datasets(self, request):
        return handlers.datasets()

    @api("GET", "/api/v1/exports/<dataset>", query=ExportQuery, tags=OPEN_DATA,
         summary="An open-data dataset as CSV (default) or JSON; no personal data")
    def export(self, request, dataset):
        body, content_type = handlers.export(self.db, dataset, request.query_data)
        return Response(body, content_type=content_type)

    @api("GET", "/dashboard", query=PlaceQuery, tags=REPORTS, summary="The built-in dashboard (HTML, no scripts)")
    def dashboard(self, request):
        page = dashboard.render(handlers.dashboard_data(self.db, request.query_data))
        return Response(page, content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": dashboard.CSP})


SERVICE = ReportingService
