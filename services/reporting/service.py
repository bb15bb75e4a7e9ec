"""The reporting service's nameko entrypoints: every event in; dashboards' HTTP questions out.

Thin on purpose: an event goes to the write side (recording.py) through group commit; an HTTP
query becomes a command (commands.py) for the read side (queries.py), whose result is returned
as JSON, or rendered as CSV (exports.py) or as a page (views.py).
"""
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from shared.db import UnitOfWorkProvider
from shared.events import CATALOGUE, service_of
from shared.group_commit import GroupCommit
from shared.ops import OpsEndpoints
from shared.pages import page
from shared.places import PlaceNamesProvider
from shared.subscriber import subscribe_many
from shared.web import api

from shared.domain import RANKING

from . import exports, process_queries, queries, recording, views
from .commands import Export, IdeaPage, Meetings, Milestones, Pilots, Place, Rankings, Timeseries
from .metrics import ProjectionMetrics
from .repository import ReportingRepository
from .schemas import (CommentsOut, CompetitionOut, DatasetOut, ExportQuery, FieldOut, IdeaPath, MeetingOut,
                      MeetingQuery, MilestoneQuery, MilestonesOut, PilotQuery, PilotsOut, PlaceQuery, RankingOut,
                      RankingQuery, SeriesOut, SeriesQuery, SponsorOut, StrategyOut, SubConceptOut, SummaryOut,
                      SurveyOut, WorkingGroupOut)

EVERY_EVENT = [(service_of(event_type), event_type) for event_type in CATALOGUE]
REPORTS, PROCESS, OPEN_DATA, PAGES = ["reports"], ["strategy process"], ["open data"], ["pages"]


def _place(query):
    return Place(municipality=query.get("municipality"))


class ReportingService(OpsEndpoints):
    name = "reporting"

    uow = UnitOfWorkProvider(ReportingRepository, emits=False)  # reads events, publishes none
    record = GroupCommit(recording.record_events, settings=("pseudonym_key",))
    projection_metrics = ProjectionMetrics()
    place_names = PlaceNamesProvider()

    @subscribe_many(EVERY_EVENT, "all")
    def on_event(self, event):
        return self.record(event)  # False for a redelivery

    @api("GET", "/api/v1/summary", query=PlaceQuery, response=SummaryOut, tags=REPORTS,
         summary="Ideas, votes, pilots, milestones, notifications and participation at a glance")
    def summary(self, request):
        return queries.summary(self.uow, _place(request.query_data), self._known())

    @api("GET", "/api/v1/fields", query=PlaceQuery, response=FieldOut(many=True), tags=REPORTS,
         summary="The same per municipality and field of action")
    def fields(self, request):
        return queries.fields(self.uow, _place(request.query_data), self._known())

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
         summary=f"Public ideas by {RANKING}")
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

    # --- the strategy process ---
    @api("GET", "/api/v1/working-groups", query=PlaceQuery, response=WorkingGroupOut(many=True), tags=PROCESS,
         summary="Working groups with their members, topic stores and sub-concepts")
    def working_groups(self, request):
        return process_queries.working_groups(self.uow, _place(request.query_data))

    @api("GET", "/api/v1/competitions", query=PlaceQuery, response=CompetitionOut(many=True), tags=PROCESS,
         summary="Idea competitions with their window, entries and shortlist")
    def competitions(self, request):
        return process_queries.competitions(self.uow, _place(request.query_data), self.uow.now())

    @api("GET", "/api/v1/sponsors", query=PlaceQuery, response=SponsorOut(many=True), tags=PROCESS,
         summary="Accepted idea sponsors, by name only with their consent")
    def sponsors(self, request):
        return process_queries.sponsors(self.uow, _place(request.query_data))

    @api("GET", "/api/v1/sub-concepts", query=PlaceQuery, response=SubConceptOut(many=True), tags=PROCESS,
         summary="Sub-concepts with the ideas integrated and their comments")
    def sub_concepts(self, request):
        return process_queries.sub_concepts(self.uow, _place(request.query_data))

    @api("GET", "/api/v1/strategies", query=PlaceQuery, response=StrategyOut(many=True), tags=PROCESS,
         summary="The strategy: versions, feedback window, council decision")
    def strategies(self, request):
        return process_queries.strategies(self.uow, _place(request.query_data), self.uow.now())

    @api("GET", "/api/v1/comment-counts", query=PlaceQuery, response=CommentsOut, tags=PROCESS,
         summary="Comments per idea, sub-concept and strategy: published, pending, hidden, reported")
    def comment_counts(self, request):
        return process_queries.comments(self.uow, _place(request.query_data))

    @api("GET", "/api/v1/meetings", query=MeetingQuery, response=MeetingOut(many=True), tags=PROCESS,
         summary="Theme evenings and plenary meetings with their registrations")
    def meetings(self, request):
        query = request.query_data
        return process_queries.meetings(self.uow, Meetings(municipality=query.get("municipality"),
                                                           working_group_id=query.get("working_group_id"),
                                                           upcoming=query["upcoming"]), self.uow.now())

    @api("GET", "/api/v1/surveys", query=PlaceQuery, response=SurveyOut(many=True), tags=PROCESS,
         summary="Imported survey results (question, answer, count)")
    def surveys(self, request):
        return process_queries.surveys(self.uow, _place(request.query_data))

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

    def _known(self):
        """The municipalities the ideas service lists (empty while it has not answered)."""
        return {slug for slug, _ in self.place_names().municipalities("de")}

    # --- public pages: German and English, names instead of slugs ---
    def _place(self, request, names):
        """The municipality a page shows: the one asked for, else the first one."""
        asked = request.query_data.get("municipality")
        first = next(iter(names.municipalities(request.view.lang)), (None, None))[0]
        return asked or first

    @page("GET", "/", status=302, tags=PAGES, summary="The start page: the dashboard")
    def start_page(self, request):
        return redirect(request.view.url("/dashboard"), code=302)

    @page("GET", "/dashboard", query=PlaceQuery, tags=PAGES,
          summary="The dashboard for the council: ideas, pilot projects, milestones of a municipality")
    def dashboard(self, request):
        names = self.place_names()
        place = self._place(request, names)
        data = queries.dashboard_data(self.uow, Place(municipality=place))
        return views.dashboard(request.view, data, names, place, self.uow.now())

    @page("GET", "/ideas/<idea_id>", path=IdeaPath, tags=PAGES, summary="An idea's public page with its story")
    def idea_page(self, request, idea_id):
        return views.idea(request.view, queries.idea_page(self.uow, IdeaPage(idea_id)), self.place_names())

    @page("GET", "/pilots", query=PlaceQuery, tags=PAGES, summary="The pilot projects of a municipality")
    def pilots_page(self, request):
        names = self.place_names()
        place = self._place(request, names)
        items = queries.pilot_projects(self.uow, Pilots(municipality=place))
        return views.pilots(request.view, items, names, place)

    @page("GET", "/milestones", query=PlaceQuery, tags=PAGES, summary="The milestones of a municipality")
    def milestones_page(self, request):
        names = self.place_names()
        place = self._place(request, names)
        items = queries.milestones(self.uow, Milestones(municipality=place))["items"]
        pilot_items = queries.pilots(self.uow, Pilots(municipality=place))["items"]
        return views.milestones(request.view, items, pilot_items, names, place)
