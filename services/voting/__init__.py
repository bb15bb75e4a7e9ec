"""The voting service: support votes in rounds with budgets, rankings, strategy-board decisions."""
from pathlib import Path

from shared.registry import ServiceSpec

SPEC = ServiceSpec(
    name="voting",
    port=8002,
    service_class="services.voting.service:VotingService",
    migrations=Path(__file__).resolve().parent / "migrations",
    start_paths=(("/api/v1/rankings?municipality=gera", "rankings (JSON)"),),
    cli="services.voting.cli",
    demo="services.voting.demo",
    pseudonyms=True,  # voters in the vote ledger
)
