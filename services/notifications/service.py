"""The notifications service's nameko entrypoints: translate HTTP, events and timers into use cases."""
from shared.db import Database
from shared.ops import OpsEndpoints
from shared.outbox import Outbox
from shared.subscriber import subscribe
from shared.timer import every
from shared.web import AUTHENTICATED, api

from . import dispatch, handlers
from .channels import Channels
from .schemas import (AnnouncementOut, AnnouncementPage, AnnouncementQuery, DeliveryPage, DeliveryQuery, FeedPage,
                      FeedQuery, ManageQuery, NewAnnouncement, NewSubscriber, NewWebhook, SubscriberChanges,
                      SubscriberExport, SubscriberOut, TokenQuery, WebhookCreated, WebhookOut)

STAFF = ("staff",)
SUBSCRIBERS, FEED, ANNOUNCEMENTS, WEBHOOKS = ["subscribers"], ["feed"], ["announcements"], ["webhooks"]


def notify_on(source, event_type):
    """An entrypoint fanning out one event type (queue evt-<source>-<type>--notifications.<attribute>)."""
    @subscribe(source, event_type)
    def handle(self, event):
        return handlers.notify(self.db, self.outbox, self.channels, event)

    return handle


class NotificationsService(OpsEndpoints):
    name = "notifications"

    db = Database()
    outbox = Outbox()
    channels = Channels()

    # --- subscribers (double opt-in; the links in mails carry a token, no login needed) ---
    @api("POST", "/api/v1/subscribers", body=NewSubscriber, status=202, tags=SUBSCRIBERS,
         summary="Subscribe an e-mail address: sends the confirmation mail (a bearer token links the account)")
    def new_subscriber(self, request):
        principal = request.principal
        handlers.subscribe(self.db, self.channels, principal.subject if principal else None, request.data)
        return {"status": "confirmation_sent"}

    @api("GET", "/api/v1/subscribers/confirm", query=TokenQuery, tags=SUBSCRIBERS,
         summary="The one-time link of the confirmation mail: records consent")
    def confirm(self, request):
        return handlers.confirm(self.db, request.query_data["token"])

    @api("GET", "/api/v1/unsubscribe", query=TokenQuery, tags=SUBSCRIBERS,
         summary="One-click unsubscribe: the link in every mail")
    def unsubscribe_link(self, request):
        return handlers.unsubscribe(self.db, request.query_data["token"])

    @api("POST", "/api/v1/unsubscribe", query=TokenQuery, tags=SUBSCRIBERS,
         summary="One-click unsubscribe by mail clients (List-Unsubscribe-Post, RFC 8058)")
    def unsubscribe_post(self, request):
        return handlers.unsubscribe(self.db, request.query_data["token"])

    @api("GET", "/api/v1/subscriber", query=ManageQuery, response=SubscriberExport, tags=SUBSCRIBERS,
         summary="Export everything stored about a subscriber (mail-link token or bearer token)")
    def export_subscriber(self, request):
        return handlers.export_subscriber(self.db, request.query_data.get("token"), request.principal)

    @api("PATCH", "/api/v1/subscriber", query=ManageQuery, body=SubscriberChanges, response=SubscriberOut,
         tags=SUBSCRIBERS, summary="Change language, digest or subscriptions")
    def change_subscriber(self, request):
        return handlers.change_subscriber(self.db, request.query_data.get("token"), request.principal, request.data)

    @api("DELETE", "/api/v1/subscriber", query=ManageQuery, tags=SUBSCRIBERS,
         summary="Delete the subscriber with subscriptions, delivery log and feed")
    def erase_subscriber(self, request):
        handlers.erase_subscriber(self.db, request.query_data.get("token"), request.principal)

    # --- the in-app feed of the token's subject ---
    @api("GET", "/api/v1/notifications", query=FeedQuery, roles=AUTHENTICATED, response=FeedPage, tags=FEED,
         summary="Your notifications, newest first, with read markers")
    def feed(self, request):
        return handlers.feed(self.db, request.principal.subject, request.query_data)

    @api("POST", "/api/v1/notifications/<uuid:item_id>/read", roles=AUTHENTICATED, tags=FEED)
    def mark_read(self, request, item_id):
        handlers.mark_read(self.db, request.principal.subject, item_id)

    @api("POST", "/api/v1/notifications/read-all", roles=AUTHENTICATED, tags=FEED)
    def mark_all_read(self, request):
        return handlers.mark_all_read(self.db, request.principal.subject)

    # --- announcements ---
    @api("POST", "/api/v1/announcements", body=NewAnnouncement, roles=STAFF, status=201, response=AnnouncementOut,
         tags=ANNOUNCEMENTS, summary="Announce a plenary meeting, a theme evening, …: title, time, place or link")
    def post_announcement(self, request):
        return handlers.post_announcement(self.db, self.outbox, self.channels, request.data)

    @api("GET", "/api/v1/announcements", query=AnnouncementQuery, response=AnnouncementPage, tags=ANNOUNCEMENTS)
    def list_announcements(self, request):
        return handlers.list_announcements(self.db, request.query_data)

    # --- webhooks for other city systems ---
    @api("POST", "/api/v1/webhooks", body=NewWebhook, roles=STAFF, status=201, response=WebhookCreated,
         tags=WEBHOOKS, summary="Register a webhook; the answer holds its signing secret, shown only once")
    def register_webhook(self, request):
        return handlers.register_webhook(self.db, request.data)

    @api("GET", "/api/v1/webhooks", roles=STAFF, response=WebhookOut(many=True), tags=WEBHOOKS)
    def list_webhooks(self, request):
        return handlers.list_webhooks(self.db)

    @api("POST", "/api/v1/webhooks/<uuid:webhook_id>/enable", roles=STAFF, response=WebhookOut, tags=WEBHOOKS,
         summary="Enable a webhook that was disabled after repeated failures")
    def enable_webhook(self, request, webhook_id):
        return handlers.enable_webhook(self.db, webhook_id)

    @api("DELETE", "/api/v1/webhooks/<uuid:webhook_id>", roles=STAFF, tags=WEBHOOKS)
    def delete_webhook(self, request, webhook_id):
        handlers.delete_webhook(self.db, webhook_id)

    @api("GET", "/api/v1/deliveries", query=DeliveryQuery, roles=STAFF, response=DeliveryPage, tags=WEBHOOKS,
         summary="The delivery log: every mail and webhook POST with its status and attempts")
    def list_deliveries(self, request):
        return handlers.list_deliveries(self.db, request.query_data)

    # --- sending: mails and webhook POSTs that are due ---
    @every("DISPATCH_SECONDS", 1, eager=True)
    def send_due(self):
        dispatch.run(self.db, self.outbox, self.channels)

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


SERVICE = NotificationsService
