"""What the reporting tests read back: the log, projections and /metrics."""
from prometheus_client.parser import text_string_to_metric_families

from services.reporting import projector
from tests.fixtures import wait_for


def wait_applied(reporting_sql, count, timeout=20.0):
    """Wait until the event log holds `count` events (and, a moment later, still exactly that many)."""
    wait_for(lambda: reporting_sql("SELECT count(*) FROM event_log")[0][0] >= count, timeout=timeout,
             message=f"{count} events in the log")
    assert reporting_sql("SELECT count(*) FROM event_log")[0][0] == count


def projections(reporting_sql):
    """Every projection table's rows, sorted: two calls compare equal when the read models are the same."""
    return {table: reporting_sql(f"SELECT {', '.join(projector.columns_of(table))} FROM {table}"
                                 f" ORDER BY {', '.join(projector.columns_of(table))}")
            for table in projector.PROJECTIONS}


def domain_metrics(api):
    """{(sample name, sorted labels): value} of the smartcity_reporting_* samples at /metrics."""
    text = api("GET", "/metrics").text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) if family.name.startswith("smartcity_reporting_")
            for sample in family.samples}


def metric(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
