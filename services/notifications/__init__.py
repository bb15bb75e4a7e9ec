"""The notifications service: subscribers, e-mail, signed webhooks, the in-app feed."""
from pathlib import Path

from shared.registry import ServiceSpec

SPEC = ServiceSpec(
    name="notifications",
    port=8003,
    service_class="services.notifications.service:NotificationsService",
    migrations=Path(__file__).resolve().parent / "migrations",
    start_paths=(("/api/v1/announcements?municipality=gera", "announcements (JSON)"),),
    demo="services.notifications.demo",
)
