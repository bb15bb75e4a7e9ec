"""`Channels`: the service's settings, SMTP mailer and mail templates, for every worker."""
from nameko.extensions import DependencyProvider

from . import settings
from .mail import Mailer
from .rendering import Renderer


class Channels(DependencyProvider):
    def setup(self):
        self.settings = settings.load(self.container.service_name)
        self.mailer = Mailer(self.settings)
        self.renderer = Renderer()

    def get_dependency(self, worker_ctx):
        return self

    def links(self, access_token, confirm_token=None):
        """The URLs in a mail: one-click unsubscribe, data export/deletion, and the confirmation."""
        base = f"{self.settings.public_url}/api/v1"
        links = {"unsubscribe": f"{base}/unsubscribe?token={access_token}",
                 "manage": f"{base}/subscriber?token={access_token}"}
        if confirm_token:
            links["confirm"] = f"{base}/subscribers/confirm?token={confirm_token}"
        return links
