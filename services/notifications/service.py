"""The notifications service's nameko entrypoints: translate HTTP, events and timers into use cases."""
from werkzeug.utils import redirect

from shared import rpc
from shared.db import UnitOfWorkProvider
from shared.domain import PUBLIC_STATUSES
from shared.errors import Gone, NotFound
from shared.events import schema_for
from shared.ops import OpsEndpoints
from shared.pages import page
from shared.places import PlaceNames, PlaceNamesProvider
from shared.ratelimit import Limits
from shared.subscriber import subscribe, subscribe_many
from shared.timer import every
from shared.web import AUTHENTICATED, api

from . import domain, use_cases, views, webhook
from .commands import (ChangeSubscriber, Confirm, DeleteWebhook, EnableWebhook, EraseSubscriber, ExportSubscriber,
                       ListAnnouncements, ListDeliveries, MarkAllRead, MarkRead, Notify, PostAnnouncement,
                       RegisterWebhook, ShowFeed, ShowSubscriber, Subscribe, Unsubscribe)
from .dispatch import ChannelsProvider, Dispatcher
from .repository import NotificationsRepository
from .schemas import (AnnouncementOut, AnnouncementPage, AnnouncementQuery, ConfirmOut, DeliveryPage, DeliveryQuery,
                      FeedPage, FeedQuery, LinkPage, ManageQuery, NewAnnouncement, NewSubscriber, NewWebhook,
                      PreferencesForm, SubscriberChanges, SubscriberExport, SubscriberOut, TokenQuery,
                      UnsubscribeForm, WebhookCreated, WebhookOut)

STAFF = ("staff",)
SUBSCRIBERS, FEED, ANNOUNCEMENTS, WEBHOOKS = ["subscribers"], ["feed"], ["announcements"], ["webhooks"]
PAGES = ["pages (mail links)"]
# Event types with a queue each (on_… below), as before issue 14: renaming their queues would strand
# messages in running brokers.
OWN_QUEUES = ("IdeaSubmitted", "IdeaPublished", "IdeaRejected", "IdeaStatusChanged", "MilestoneReached",
              "MilestoneOverdue", "SupportThresholdReached", "PilotApproved", "PilotRejected")
# The strategy process's events (issue 14) share one queue: a meeting's scheduling comes before its
# registrations, a comment before its replies, mostly as the ideas service emitted them.
STRATEGY_EVENTS = tuple(t for t in domain.EVENT_TYPES if t not in OWN_QUEUES)


def notify_command(event):
    """A consumed event as the command to fan it out: its data JSON-ready, as on the bus."""
    return Notify(event_id=event["id"], event_type=event["type"], occurred_at=event["time"],
                  data=schema_for(event["type"]).dump(event["data"]))


def notify_on(source, event_type):
    """An entrypoint fanning out one event type (queue evt-<source>-<type>--notifications.<attribute>)."""
    @subscribe(source, event_type)
    def handle(self, event):
        return use_cases.notify(self.uow, notify_command(event), self.channels.settings.digest_hour)

    return handle


def _subject(request):
    """The signed-in caller's token subject, None for an anonymous one."""
    return request.principal.subject if request.principal else None


class NotificationsService(OpsEndpoints):
    name = "notifications"

    uow = UnitOfWorkProvider(NotificationsRepository)
    channels = ChannelsProvider()
    dispatcher = Dispatcher()
    place_names = PlaceNamesProvider()
    ideas = rpc.ServiceRpc("ideas")

    def _known(self):
        """What subscriptions and announcements may name, from the ideas service (domain.Known).

        Its places come from the cached copy (shared.places); while there is none (the ideas service
        was away when this one started) they are asked for now: Unavailable (503) if it does not
        answer, rather than refusing every municipality.
        """
        places = self.place_names()
        if not places.places:
            places = PlaceNames(rpc.call(self.ideas.places))
        return domain.Known(places, self._idea_public,
                            lambda municipality, group: use_cases.working_group_known(self.uow, municipality, group))

    def _idea_public(self, idea_id):
        try:
            idea = rpc.call(self.ideas.get_idea, str(idea_id))
        except NotFound:
            return False
        return idea["status"] in PUBLIC_STATUSES

    # --- subscribers (double opt-in; the links in mails carry a token, no login needed) ---
    @api("POST", "/api/v1/subscribers", body=NewSubscriber, status=202, tags=SUBSCRIBERS,
         limits=Limits(subject="10/hour", address="30/hour"),
         summary="Subscribe an e-mail address: sends the confirmation mail (202 for every address); a bearer"
                 " token's account is linked once the address's owner confirms")
    def new_subscriber(self, request):
        body = request.data
        command = Subscribe(email=body["email"], language=body["language"], digest=body["digest"],
                            subscriptions=tuple(body["subscriptions"]), subject=_subject(request))
        use_cases.subscribe(self.uow, command, self._known())
        return {"status": "confirmation_sent"}

    @api("POST", "/api/v1/subscribers/confirm", query=TokenQuery, response=ConfirmOut, tags=SUBSCRIBERS,
         summary="Confirm with the token of the confirmation mail: records consent (again: already_confirmed)")
    def confirm(self, request):
        return use_cases.confirm(self.uow, Confirm(request.query_data["token"]), self.channels.settings)

    @api("POST", "/api/v1/unsubscribe", query=TokenQuery, tags=SUBSCRIBERS,
         summary="Unsubscribe with the token of a mail link")
    def unsubscribe(self, request):
        return use_cases.unsubscribe(self.uow, Unsubscribe(request.query_data["token"]))

    @api("GET", "/api/v1/subscriber", query=ManageQuery, response=SubscriberExport, tags=SUBSCRIBERS,
         summary="Export everything stored about a subscriber (mail-link token or bearer token)")
    def export_subscriber(self, request):
        command = ExportSubscriber(token=request.query_data.get("token"), subject=_subject(request))
        return use_cases.export_subscriber(self.uow, command)

    @api("PATCH", "/api/v1/subscriber", query=ManageQuery, body=SubscriberChanges, response=SubscriberOut,
         tags=SUBSCRIBERS, summary="Change language, digest or subscriptions")
    def change_subscriber(self, request):
        changes = request.data
        subscriptions = changes.get("subscriptions")
        command = ChangeSubscriber(token=request.query_data.get("token"), subject=_subject(request),
                                   language=changes.get("language"), digest=changes.get("digest"),
                                   subscriptions=None if subscriptions is None else tuple(subscriptions))
        return use_cases.change_subscriber(self.uow, command, self._known())

    @api("DELETE", "/api/v1/subscriber", query=ManageQuery, status=204, tags=SUBSCRIBERS,
         summary="Delete the subscriber with subscriptions, delivery log and feed")
    def erase_subscriber(self, request):
        command = EraseSubscriber(token=request.query_data.get("token"), subject=_subject(request))
        use_cases.erase_subscriber(self.uow, command)

    # --- the pages behind the links in every mail: a GET shows, only a button's POST acts ---
    @page("GET", "/confirm", query=TokenQuery, tags=PAGES, summary="The confirmation mail's link: a page with a button")
    def confirm_page(self, request):
        try:
            state = use_cases.confirmation_state(self.uow, Confirm(request.query_data["token"]))
        except Gone:
            return views.link_expired(request.view)
        return views.confirmation(request.view, {**state, "manage_token": None})

    @page("POST", "/confirm", query=TokenQuery, tags=PAGES, summary="The confirm button: records consent")
    def confirm_button(self, request):
        try:
            state = use_cases.confirm(self.uow, Confirm(request.query_data["token"]), self.channels.settings)
        except Gone:
            return views.link_expired(request.view)
        return views.confirmation(request.view, state)

    @page("GET", "/unsubscribe", query=TokenQuery, tags=PAGES, summary="The unsubscribe link of every mail")
    def unsubscribe_page(self, request):
        token = request.query_data["token"]
        return views.unsubscribe(request.view, token, self._profile(token))

    @page("POST", "/unsubscribe", query=TokenQuery, form=UnsubscribeForm, tags=PAGES,
          summary="The unsubscribe button, and mail clients' one-click unsubscribe (RFC 8058)")
    def unsubscribe_button(self, request):
        token = request.query_data["token"]
        profile = self._profile(token)
        use_cases.unsubscribe(self.uow, Unsubscribe(token))
        return views.unsubscribe(request.view, token, profile, done=True)

    @page("GET", "/my-data", query=LinkPage, tags=PAGES, summary="See and change one's data, from a mail's link")
    def my_data_page(self, request):
        query, names = request.query_data, self.place_names()
        profile = use_cases.show_subscriber(self.uow, ShowSubscriber(
            token=query["token"], subject=None, municipalities=tuple(slug for slug, _ in names.municipalities("de"))))
        return views.my_data(request.view, query["token"], profile, names, saved=query["saved"])

    @page("POST", "/my-data", query=TokenQuery, form=PreferencesForm, status=303, tags=PAGES,
          summary="Save language, rhythm and subscriptions; then back to the page, in the chosen language")
    def my_data_save(self, request):
        token, form = request.query_data["token"], request.form_data
        use_cases.change_subscriber(self.uow, ChangeSubscriber(
            token=token, subject=None, language=form["language"], digest=form["digest"],
            subscriptions=tuple(form["subscriptions"])), self._known())
        return redirect(request.view.url(lang=form["language"], saved="true"), code=303)

    @page("GET", "/my-data/export", query=TokenQuery, response=SubscriberExport, tags=PAGES,
          summary="Download everything stored (JSON file)")
    def my_data_export(self, request):
        export = use_cases.export_subscriber(self.uow, ExportSubscriber(request.query_data["token"], None))
        return views.export_file(request.view, SubscriberExport().dump(export))

    @page("GET", "/my-data/delete", query=TokenQuery, tags=PAGES, summary="Delete one's data: the confirmation step")
    def delete_page(self, request):
        token = request.query_data["token"]
        return views.delete(request.view, token, self._profile(token))

    @page("POST", "/my-data/delete", query=TokenQuery, tags=PAGES, summary="Delete the subscriber and all their data")
    def delete_button(self, request):
        token = request.query_data["token"]
        use_cases.erase_subscriber(self.uow, EraseSubscriber(token=token, subject=None))
        return views.delete(request.view, token, done=True)

    def _profile(self, token):
        """The subscriber a mail link names (an expired link: Gone, answered as a 410 page)."""
        return use_cases.show_subscriber(self.uow, ShowSubscriber(token=token, subject=None))

    # --- the in-app feed of the token's subject ---
    @api("GET", "/api/v1/notifications", query=FeedQuery, roles=AUTHENTICATED, response=FeedPage, tags=FEED,
         summary="Your notifications, newest first, with read markers")
    def feed(self, request):
        query = request.query_data
        command = ShowFeed(subject=request.principal.subject, unread_only=query["unread"], page=query["page"],
                           page_size=query["page_size"])
        return use_cases.show_feed(self.uow, command)

    @api("POST", "/api/v1/notifications/<uuid:item_id>/read", roles=AUTHENTICATED, status=204, tags=FEED)
    def mark_read(self, request, item_id):
        use_cases.mark_read(self.uow, MarkRead(subject=request.principal.subject, item_id=item_id))

    @api("POST", "/api/v1/notifications/read-all", roles=AUTHENTICATED, tags=FEED)
    def mark_all_read(self, request):
        return use_cases.mark_all_read(self.uow, MarkAllRead(subject=request.principal.subject))

    # --- announcements ---
    @api("POST", "/api/v1/announcements", body=NewAnnouncement, roles=STAFF, status=201, response=AnnouncementOut,
         tags=ANNOUNCEMENTS, summary="Announce a plenary meeting, a theme evening, …: title, time, place or link")
    def post_announcement(self, request):
        return use_cases.post_announcement(self.uow, PostAnnouncement(**request.data),
                                           self.channels.settings.digest_hour, self._known())

    @api("GET", "/api/v1/announcements", query=AnnouncementQuery, response=AnnouncementPage, tags=ANNOUNCEMENTS)
    def list_announcements(self, request):
        query = request.query_data
        command = ListAnnouncements(municipality=query.get("municipality"), page=query["page"],
                                    page_size=query["page_size"])
        return use_cases.list_announcements(self.uow, command)

    # --- webhooks for other city systems ---
    @api("POST", "/api/v1/webhooks", body=NewWebhook, roles=STAFF, status=201, response=WebhookCreated,
         tags=WEBHOOKS, summary="Register a webhook (public destinations only, checked after DNS resolution); the answer"
                 " holds its signing secret, shown only once")
    def register_webhook(self, request):
        body = request.data
        command = RegisterWebhook(url=body["url"], event_types=tuple(body["event_types"]),
                                  municipality=body["municipality"], description=body["description"])
        allowed = self.channels.settings.webhook_allow
        return use_cases.register_webhook(self.uow, command, lambda url: webhook.destination_problem(url, allowed))

    @api("GET", "/api/v1/webhooks", roles=STAFF, response=WebhookOut(many=True), tags=WEBHOOKS)
    def list_webhooks(self, request):
        return use_cases.list_webhooks(self.uow)

    @api("POST", "/api/v1/webhooks/<uuid:webhook_id>/enable", roles=STAFF, response=WebhookOut, tags=WEBHOOKS,
         summary="Enable a webhook that was disabled after repeated failures")
    def enable_webhook(self, request, webhook_id):
        return use_cases.enable_webhook(self.uow, EnableWebhook(webhook_id))

    @api("DELETE", "/api/v1/webhooks/<uuid:webhook_id>", roles=STAFF, status=204, tags=WEBHOOKS)
    def delete_webhook(self, request, webhook_id):
        use_cases.delete_webhook(self.uow, DeleteWebhook(webhook_id))

    @api("GET", "/api/v1/deliveries", query=DeliveryQuery, roles=STAFF, response=DeliveryPage, tags=WEBHOOKS,
         summary="The delivery log: every mail and webhook POST with its status and attempts")
    def list_deliveries(self, request):
        return use_cases.list_deliveries(self.uow, ListDeliveries(**request.query_data))

    # --- sending: mails and webhook POSTs that are due ---
    @every("DISPATCH_SECONDS", 1, eager=True)
    def send_due(self):
        self.dispatcher(self.channels, self.place_names())

    @every("MEETING_REMINDER_CHECK_SECONDS", 60)
    def remind_meetings(self):
        settings = self.channels.settings
        use_cases.remind_meetings(self.uow, settings.meeting_reminder_hours, settings.digest_hour)

    @every("LINK_CLEANUP_SECONDS", 3600)
    def forget_expired_links(self):
        use_cases.forget_expired_links(self.uow)

    # --- the events that trigger notifications ---
    on_idea_submitted = notify_on("ideas", "IdeaSubmitted")
    on_idea_published = notify_on("ideas", "IdeaPublished")
    on_idea_rejected = notify_on("ideas", "IdeaRejected")
    on_idea_status_changed = notify_on("ideas", "IdeaStatusChanged")
    on_milestone_reached = notify_on("ideas", "MilestoneReached")
    on_milestone_overdue = notify_on("ideas", "MilestoneOverdue")
    on_support_threshold_reached = notify_on("voting", "SupportThresholdReached")
    on_pilot_approved = notify_on("voting", "PilotApproved")
    on_pilot_rejected = notify_on("voting", "PilotRejected")

    @subscribe_many([("ideas", event_type) for event_type in STRATEGY_EVENTS], "ideas-strategy")
    def on_strategy_process(self, event):
        return use_cases.notify(self.uow, notify_command(event), self.channels.settings.digest_hour)
