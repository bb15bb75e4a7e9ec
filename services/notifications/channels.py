"""What the sending use cases send through: `Channels`, one frozen bundle per container.

A use case decides what goes to whom and records the outcome; it reaches SMTP and webhook
receivers only through `send_mails` and `post_webhooks`, so unit tests hand it fakes.
dispatch.py builds the real one (mail.Mailer, webhook.post_all) from the service's settings.
"""
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Mail:
    """One mail to send: a notification, a digest or a confirmation, already rendered."""
    to: str
    rendered: Any  # rendering.Rendered: subject, text, html
    links: dict  # the subscriber's own links; "unsubscribe" goes into List-Unsubscribe
    delivery_id: Any  # names the mail (Message-ID), so one sent again after a crash can be told


@dataclass(frozen=True)
class Channels:
    settings: Any  # settings.NotificationSettings
    renderer: Any  # rendering.Renderer
    send_mails: Callable  # [Mail] -> [(outcome, error)], one per mail, in order
    post_webhooks: Callable  # [[delivery row]] one list per webhook -> per webhook, [None or error] per POST tried

    def links(self, access_token, confirm_token=None):
        """The URLs in a mail: one-click unsubscribe, data export/deletion, and the confirmation."""
        base = f"{self.settings.public_url}/api/v1"
        links = {"unsubscribe": f"{base}/unsubscribe?token={access_token}",
                 "manage": f"{base}/subscriber?token={access_token}"}
        if confirm_token:
            links["confirm"] = f"{base}/subscribers/confirm?token={confirm_token}"
        return links
