"""Domain metrics read from the projections at every scrape, so a restart (or a second replica)
shows the same values: nothing is kept in process memory.

Every replica reports the same, database-wide values: aggregate them with max(), not sum().
"""
import logging
from collections import Counter

from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from shared.db import unit_of_work_provider
from shared.domain import REACHED

from . import domain, queries

log = logging.getLogger(__name__)
PREFIX = "smartcity_reporting_"

BY_PLACE = (("municipality", "field"), lambda row: (row["municipality"], row["field_of_action"]))
BY_CHANNEL = (("channel",), lambda row: (row["channel"],))
# counter name -> (event type counted, help, (label names, labels of an event_counts row))
EVENT_COUNTERS = {
    "votes_cast": ("VoteCast", "Support votes cast", BY_PLACE),
    "votes_withdrawn": ("VoteWithdrawn", "Support votes withdrawn", BY_PLACE),
    "pilots_approved": ("PilotApproved", "Board decisions approving a pilot project", BY_PLACE),
    "pilots_rejected": ("PilotRejected", "Board decisions rejecting a pilot project", BY_PLACE),
    "notifications_sent": ("NotificationSent", "Notifications delivered", BY_CHANNEL),
    "notifications_failed": ("NotificationFailed", "Notifications that failed for good", BY_CHANNEL),
}


def _le(bound):
    return "+Inf" if bound == float("inf") else repr(bound)


class ProjectionCollector:
    """A prometheus_client collector over the reporting projections (queries.figures).

    `new_unit_of_work()` gives the unit of work each scrape reads in.
    """

    def __init__(self, new_unit_of_work):
        self.new_unit_of_work = new_unit_of_work

    def describe(self):
        return []  # values come from the database at collect time; nothing to check at registration

    def collect(self):
        try:
            families = list(self._families(queries.figures(self.new_unit_of_work())))
        except Exception:  # a scrape must still answer with the process metrics
            log.exception("could not read the projections for /metrics")
            return
        yield from families

    def _families(self, figures):
        ideas = GaugeMetricFamily(PREFIX + "ideas", "Ideas by current status",
                                  labels=("municipality", "field", "status", "channel"))
        for row in figures.ideas:
            ideas.add_metric((row["municipality"], row["field_of_action"], row["status"], row["channel"]), row["ideas"])
        yield ideas

        counts = figures.event_counts
        applied = Counter()
        for row in counts:
            applied[row["event_type"]] += row["events"]
        family = CounterMetricFamily(PREFIX + "events_applied", "Events applied to the projections, by type",
                                     labels=("type",))
        for event_type, events in sorted(applied.items()):
            family.add_metric((event_type,), events)
        yield family
        for name, (event_type, text, (labels, label_values)) in EVENT_COUNTERS.items():
            totals = Counter()
            for row in counts:
                if row["event_type"] == event_type:
                    totals[label_values(row)] += row["events"]
            family = CounterMetricFamily(PREFIX + name, text, labels=labels)
            for values, events in sorted(totals.items()):
                family.add_metric(values, events)
            yield family

        support = GaugeMetricFamily(PREFIX + "support_votes", "Current support: the latest vote totals, summed",
                                    labels=("municipality", "field"))
        for row in figures.support:
            support.add_metric((row["municipality"], row["field_of_action"]), row["support"])
        yield support

        stages = Counter()
        for row in figures.pipeline:
            if row["stage"]:
                stages[row["municipality"], row["stage"]] += 1
        pilots = GaugeMetricFamily(PREFIX + "pilots", "Ideas per pilot pipeline stage", labels=("municipality", "stage"))
        for (municipality, stage), n in sorted(stages.items()):
            pilots.add_metric((municipality, stage), n)
        yield pilots

        milestones = GaugeMetricFamily(PREFIX + "milestones", "Milestones by state (scheduled, reached, overdue)",
                                       labels=("municipality", "state"))
        on_time = GaugeMetricFamily(PREFIX + "milestones_on_time_ratio",
                                    "Share of reached milestones reached by their due date", labels=("municipality",))
        reached = {}  # municipality -> (on time, reached)
        for row in figures.milestones:
            milestones.add_metric((row["municipality"], row["state"]), row["milestones"])
            if row["state"] == REACHED:
                reached[row["municipality"]] = (row["on_time"], row["milestones"])
        for municipality, (in_time, total) in sorted(reached.items()):
            on_time.add_metric((municipality,), domain.on_time_rate(in_time, total))
        yield milestones
        yield on_time

        participants = GaugeMetricFamily(PREFIX + "participants", "Distinct (pseudonymous) idea authors",
                                         labels=("municipality",))
        for row in figures.participants:
            participants.add_metric((row["municipality"],), row["participants"])
        yield participants

        yield self._lag(figures.lag)

    @staticmethod
    def _lag(rows):
        lag = HistogramMetricFamily(PREFIX + "event_lag_seconds", "From an event's time to its application here",
                                    labels=("type",))
        by_type = {}
        for row in rows:
            by_type.setdefault(row["event_type"], {})[row["le"]] = row
        for event_type, buckets in sorted(by_type.items()):
            cumulative, points = 0, []
            for bound in domain.LAG_BUCKETS:
                cumulative += buckets[bound]["events"] if bound in buckets else 0
                points.append((_le(bound), cumulative))
            lag.add_metric((event_type,), points, sum(row["lag_us_sum"] for row in buckets.values()) / 1e6)
        return lag


class ProjectionMetrics(DependencyProvider):
    """Registers the collector while the container runs, so /metrics (shared.ops) includes it."""

    def start(self):
        self.collector = ProjectionCollector(unit_of_work_provider(self.container).new)
        REGISTRY.register(self.collector)

    def stop(self):
        collector = getattr(self, "collector", None)
        if collector is not None:
            REGISTRY.unregister(collector)
            self.collector = None

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return None
