"""What the sending use cases send through: `Channels`, one frozen bundle per container.

A use case decides what goes to whom and records the outcome; it reaches SMTP and webhook
receivers only through `send_mails` and `post_webhooks`, so unit tests hand it fakes.
dispatch.py builds the real one (mail.Mailer, webhook.post_all) from the service's settings.
"""
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode


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

    def links(self, language, manage_token, confirm_token=None):
        """The pages a mail links to, in the subscriber's language: one-click unsubscribe, "my data",
        and the confirmation. Each opens a page with a button; only the button's POST acts."""
        def page(path, token):
            return f"{self.settings.public_url}/{path}?{urlencode({'token': token, 'lang': language})}"

        links = {"unsubscribe": page("unsubscribe", manage_token), "manage": page("my-data", manage_token)}
        if confirm_token:
            links["confirm"] = page("confirm", confirm_token)
        return links

    def idea_page(self, idea_id, language):
        """The public page of an idea (reporting's), where its whole story is told."""
        return f"{self.settings.idea_pages_url}/ideas/{idea_id}?lang={language}"
