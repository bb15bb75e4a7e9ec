"""Operability endpoints every service has: health, readiness, metrics, OpenAPI.

Mix `OpsEndpoints` into a service class; it needs the service's `db` (shared.db.Database).
"""
import logging

from kombu import Connection
from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from shared import openapi
from shared.config import settings_of
from shared.db import Database
from shared.web import api, json_response

log = logging.getLogger(__name__)


class Ops(DependencyProvider):
    """Checks a service's own database and broker and describes its HTTP API."""

    def setup(self):
        self.settings = settings_of(self.container)

    def get_dependency(self, worker_ctx):
        return self

    def ready(self):
        checks = {"database": self._check(self._database), "broker": self._check(self._broker)}
        healthy = all(value == "ok" for value in checks.values())
        return json_response(200 if healthy else 503, {"status": "ready" if healthy else "not_ready", "checks": checks})

    @staticmethod
    def _check(probe):
        try:
            probe()
            return "ok"
        except Exception as exc:  # report, don't raise: the answer is the 503 body
            log.warning("readiness check failed: %s", exc)
            return f"failed: {type(exc).__name__}"

    def _database(self):
        for dependency in self.container.dependencies:
            if isinstance(dependency, Database):
                dependency.pool.ping()

    def _broker(self):
        with Connection(self.settings.amqp_uri, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)

    def openapi(self):
        return openapi.build(self.container.service_name, self.container.entrypoints)


class OpsEndpoints:
    ops = Ops()

    @api("GET", "/health/live", summary="The process is up", tags=["ops"])
    def health_live(self, request):
        return {"status": "live"}

    @api("GET", "/health/ready", summary="Database and broker are reachable (503 otherwise)", tags=["ops"])
    def health_ready(self, request):
        return self.ops.ready()

    @api("GET", "/metrics", summary="Prometheus metrics", tags=["ops"])
    def metrics(self, request):
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    @api("GET", "/openapi.json", summary="This document", tags=["ops"])
    def openapi(self, request):
        return self.ops.openapi()
