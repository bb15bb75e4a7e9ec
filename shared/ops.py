"""Operability endpoints every service has: health, readiness, metrics, OpenAPI.

Mix `OpsEndpoints` into a service class. Its two providers inject something narrow, as nameko's
own `Config` does: `readiness` a function answering the readiness check, `api_document` the
service's OpenAPI document.
"""
import logging

from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from shared import amqp, openapi
from shared.config import settings_of
from shared.db import UnitOfWorkProvider
from shared.web import api, json_response

log = logging.getLogger(__name__)


def _check(probe):
    try:
        probe()
        return "ok"
    except Exception as exc:  # report, don't raise: the answer is the 503 body
        log.warning("readiness check failed: %s", exc)
        return f"failed: {type(exc).__name__}"


class Readiness(DependencyProvider):
    """Injects `check()`: the service's own database and broker, as an HTTP response (200 or 503)."""

    def setup(self):
        self.amqp_uri = settings_of(self.container).amqp_uri

    def _database(self):
        for dependency in self.container.dependencies:
            if isinstance(dependency, UnitOfWorkProvider):
                dependency.ping()

    def _broker(self):
        amqp.connect(self.amqp_uri, connect_timeout=2).release()  # each node once: one up is enough

    def check(self):
        checks = {"database": _check(self._database), "broker": _check(self._broker)}
        healthy = all(value == "ok" for value in checks.values())
        return json_response(200 if healthy else 503, {"status": "ready" if healthy else "not_ready", "checks": checks})

    def get_dependency(self, worker_ctx):
        return self.check


class ApiDocument(DependencyProvider):
    """Injects the service's OpenAPI document, built once from its @api entrypoints."""

    def start(self):
        self.document = openapi.build(self.container.service_name, self.container.entrypoints)

    def get_dependency(self, worker_ctx):
        return self.document


class OpsEndpoints:
    readiness = Readiness()
    api_document = ApiDocument()

    @api("GET", "/health/live", summary="The process is up", tags=["ops"])
    def health_live(self, request):
        return {"status": "live"}

    @api("GET", "/health/ready", summary="Database and broker are reachable (503 otherwise)", tags=["ops"])
    def health_ready(self, request):
        return self.readiness()

    @api("GET", "/metrics", summary="Prometheus metrics", tags=["ops"])
    def metrics(self, request):
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    @api("GET", "/openapi.json", summary="This document", tags=["ops"])
    def openapi(self, request):
        return self.api_document
