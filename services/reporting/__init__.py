"""The reporting service: read models of every event, the dashboard and open-data exports."""
from pathlib import Path

from shared.registry import ServiceSpec

SPEC = ServiceSpec(
    name="reporting",
    port=8004,
    service_class="services.reporting.service:ReportingService",
    migrations=Path(__file__).resolve().parent / "migrations",
    start_paths=(("/dashboard?municipality=gera", "dashboard for the council"),
                 ("/pilots?municipality=gera&lang=en", "pilot projects, in English"),
                 ("/milestones?municipality=gera", "milestones")),
    # Its consumer workers mostly wait for their batch to commit (group commit): more of them in
    # flight (= the prefetch count) make bigger batches.
    max_workers=100,
    cli="services.reporting.cli",
    pseudonyms=True,  # authors in the event log
)
