"""The ideas service: ideas, fields of action, moderation, status workflow, milestones."""
from pathlib import Path

from shared.registry import ServiceSpec

SPEC = ServiceSpec(
    name="ideas",
    port=8001,
    service_class="services.ideas.service:IdeasService",
    migrations=Path(__file__).resolve().parent / "migrations",
    start_paths=(("/api/v1/ideas?municipality=gera", "ideas (JSON)"),),
    demo="services.ideas.demo",
)
