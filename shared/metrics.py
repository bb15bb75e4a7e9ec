"""Prometheus metrics every service exposes at /metrics (one process = one service)."""
from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "smartcity_http_requests_total", "HTTP requests handled, by entrypoint and status code",
    ["service", "entrypoint", "method", "status"],
)
HTTP_ERRORS = Counter(
    "smartcity_http_errors_total", "HTTP requests answered with a 4xx or 5xx, by entrypoint and error code",
    ["service", "entrypoint", "code"],
)
HTTP_LATENCY = Histogram(
    "smartcity_http_request_duration_seconds", "HTTP request latency by entrypoint",
    ["service", "entrypoint"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_PUBLISHED = Counter(
    "smartcity_events_published_total", "Events published from the outbox (broker confirmed)",
    ["service", "type"],
)
EVENTS_CONSUMED = Counter(
    "smartcity_events_consumed_total",
    "Events received by a consumer, by outcome (applied, duplicate, retried, dead_lettered;"
    " refused: not published by its owner, dead-lettered too)",
    ["service", "type", "outcome"],
)
