"""`@api(...)`: nameko HTTP entrypoints that speak JSON and validate before any worker runs.

An endpoint declares what it accepts and who may call it:

    @api("POST", "/api/v1/ideas", body=NewIdea, roles=AUTHENTICATED, status=201, response=IdeaOut)
    def submit(self, request):  # request.data, request.query_data, request.principal
        ...

Errors are JSON: {"error": {"code", "message", "fields"?}} with 400 (malformed JSON, nested
too deep, or a header that is not text), 401 (no or invalid token), 403 (role), 404, 405,
408 (body too slow), 409, 413 (body too large), 415, 422 (a field failed validation, NUL and lone
surrogates included: `fields` names each one), 429 (over the route's rate limit, with
Retry-After), 503 with Retry-After (shared.outages: the database or the broker is unreachable, the
body's `dependency` says which; or the service is stopping). Everything declared here also feeds the
generated OpenAPI document.

Stopping: once the container stops, every new request is answered 503 with Retry-After and
`Connection: close` (no worker starts), and the endpoints' stop waits for the requests in flight, so
the database pool closes only after the last of them answered.
"""
import datetime
import decimal
import itertools
import json
import logging
import time
import uuid
from functools import partial

import eventlet
from eventlet.event import Event
from marshmallow import RAISE, ValidationError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from shared import http_guard, input_guard, metrics, outages, ratelimit
from shared.auth import ROLES, AuthError, TokenVerifier
from shared.config import service_env, settings_of
from shared.db import unit_of_work_provider
from shared.errors import (Conflict, DomainError, Forbidden, Gone, InvalidInput, NotFound, Unauthorized,
                           Unavailable)

access = logging.getLogger("smartcity.http")
log = logging.getLogger(__name__)

AUTHENTICATED = ROLES  # any valid token
DRAIN_SECONDS = 4.0  # a stopping service waits this long at most for its requests in flight (runner: 5 s in all)

# The one place a domain refusal becomes an HTTP status: class -> (status, error code).
ERROR_STATUS = {
    InvalidInput: (422, "validation_failed"),
    Unauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    Gone: (410, "gone"),
    Unavailable: (503, "unavailable"),
}


def status_of(error):
    """(status, code) of a DomainError, by its nearest class in ERROR_STATUS."""
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 400, "bad_request"


def access_log(request, status, duration, endpoint):
    """One line per request: method, path (never the query: mail links carry tokens), status, duration."""
    access.log(logging.WARNING if status >= 500 else logging.INFO, "%s %s %s", request.method, request.path, status,
               extra={"fields": {"method": request.method, "path": request.path, "status": status,
                                 "duration_ms": round(duration * 1000, 1), "endpoint": endpoint}})


class ApiError(Exception):
    """A request rejected by the HTTP layer itself (before any use case ran)."""

    def __init__(self, status, code, message, fields=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields, self.headers = status, code, message, fields, headers


def _refuse(status, code, message, problems):
    """Raise ApiError naming each place of `problems` ({place: [message]}), if there are any."""
    if problems:
        raise ApiError(status, code, message, problems)


def json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_response(status, payload, headers=None):
    return Response(json.dumps(payload, default=json_default), status=status,
                    mimetype="application/json", headers=headers)


def error_response(status, code, message, fields=None, headers=None):
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return json_response(status, {"error": error}, headers)


class JsonWebServer(http_guard.GuardedWebServer):
    """nameko's WebServer (with timeouts for slow clients) with JSON 404/405 bodies and one token
    verifier per service."""

    def setup(self):
        self.verifier = TokenVerifier(settings_of(self.container))
        self.retry_after = settings_of(self.container).retry_after_seconds
        self.stopping = False
        self._in_flight = set()
        self.max_body_bytes = settings_of(self.container).max_body_bytes
        self.trusted_proxies = ratelimit.trusted_networks(settings_of(self.container).trusted_proxies)
        self._limiter = None

    def limit(self, operation, limits, request):
        """Count the request against the route's limits; 429 with Retry-After when one is used up."""
        if self._limiter is None:
            self._limiter = ratelimit.RateLimiter(unit_of_work_provider(self.container).pool)
        address = ratelimit.client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                                           self.trusted_proxies)
        subject = request.principal.subject if request.principal else None
        try:
            self._limiter.check(operation, limits, subject, address)
        except ratelimit.Limited as exc:
            raise ApiError(429, "too_many_requests", str(exc), headers={"Retry-After": str(exc.retry_after)}) from None

    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def admit(self):
        """A token for one request being served (None once the service stops: refuse it)."""
        if self.stopping:
            return None
        token = next(_tokens)
        self._in_flight.add(token)
        return token

    def done(self, token):
        self._in_flight.discard(token)

    def drain(self, seconds=DRAIN_SECONDS):
        """Refuse new requests from now on and wait (at most `seconds`) for those in flight."""
        self.stopping = True
        deadline = time.monotonic() + seconds
        while self._in_flight and time.monotonic() < deadline:
            eventlet.sleep(0.02)
        return not self._in_flight

    def stopping_response(self):
        return json_response(503, outages.stopping_body(self.container.service_name, self.retry_after),
                             {"Retry-After": str(self.retry_after), "Connection": "close"})


_tokens = itertools.count()


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            headers = [("Allow", ", ".join(exc.valid_methods))] if getattr(exc, "valid_methods", None) else None
            response = error_response(exc.code, exc.name.lower().replace(" ", "_"), exc.description, headers=headers)
        return response(environ, start_response)


class ApiEndpoint(HttpRequestHandler):
    server = JsonWebServer()

    def __init__(self, method, url, *, body=None, query=None, response=None, roles=None,
                 status=200, summary=None, tags=None, limits=None, **kwargs):
        self.body_schema = body() if isinstance(body, type) else body
        # A body whose every field is optional may be left out altogether (no body, no content type).
        self.body_optional = self.body_schema is not None and not any(
            field.required for field in self.body_schema.fields.values())
        self.query_schema = query() if isinstance(query, type) else query
        self.response_schema = response() if isinstance(response, type) else response
        self.roles = frozenset(roles) if roles is not None else None
        self.status = status
        self.summary = summary
        self.tags = tags
        self.declared_limits = limits
        self.rate_limits = None  # resolved in setup: declared, configured or the default for anonymous writes
        # Refusals are answers, not faults: nameko logs them briefly instead of with a traceback. So are
        # outages (a 503 naming the dependency, logged on the request's own line): no traceback per request.
        kwargs.setdefault("expected_exceptions", (DomainError, ApiError, AuthError, ValidationError,
                                                  *outages.ERRORS))
        super().__init__(method, url, **kwargs)

    def setup(self):
        super().setup()
        settings = settings_of(self.container)
        override = service_env(self.container.service_name, f"RATE_LIMIT_{self.method_name.upper()}")
        self.rate_limits = ratelimit.limits_for(self.declared_limits, self.method, self.roles, override,
                                                settings.rate_limits)

    def stop(self):
        # Before the container stops its dependencies (the database pool): no new request gets in,
        # the ones in flight finish.
        if not self.server.drain():
            log.warning("%s: requests still in flight after %ss; stopping anyway", self.container.service_name,
                        DRAIN_SECONDS)
        super().stop()

    def handle_request(self, request):
        token = self.server.admit()
        if token is None:
            return self._answer(request, time.perf_counter(), self.server.stopping_response())
        try:
            return self._handle(request)
        finally:
            self.server.done(token)

    def _handle(self, request):
        started = time.perf_counter()
        request.shallow = False
        try:
            self._prepare(request)
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            done = Event()
            self.container.spawn_worker(self, args, kwargs, context_data={},
                                        handle_result=partial(self.handle_result, done))
            response = self.response_from_result(done.wait())
        except Exception as exc:  # every failure becomes an error response
            response = self.response_from_exception(exc, request)
        return self._answer(request, started, response)

    def _answer(self, request, started, response):
        service = self.container.service_name
        duration = time.perf_counter() - started
        metrics.HTTP_LATENCY.labels(service, self.method_name).observe(duration)
        metrics.HTTP_REQUESTS.labels(service, self.method_name, request.method, response.status_code).inc()
        access_log(request, response.status_code, duration, self.method_name)
        return response

    def _prepare(self, request):
        self._admit(request)
        request.query_data = self._load(self.query_schema, request.args.to_dict(), "query") if self.query_schema else {}
        request.data = self._load(self.body_schema, self._json_body(request), "body") if self.body_schema else None

    def _admit(self, request):
        """What a request passes before its body is read: headers that are text, the token and its
        roles, the route's rate limit, path and query values that are text."""
        _refuse(400, "bad_header", "a request header is not valid text", input_guard.mapping_problems(
            request.headers.items()))
        request.principal = self._principal(request)
        if self.rate_limits is not None:
            self.server.limit(self.method_name, self.rate_limits, request)
        _refuse(422, "validation_failed", "invalid path", input_guard.mapping_problems(request.path_values.items()))
        _refuse(422, "validation_failed", "invalid query", input_guard.mapping_problems(request.args.items(multi=True)))

    def _principal(self, request):
        """The bearer token's principal (or None); 401/403 when the route's roles are not met."""
        principal = self.server.verifier.from_header(request.headers.get("Authorization"))
        if self.roles is not None:
            if principal is None:
                raise AuthError(401, "a bearer token is required")
            if not principal.has_any(self.roles):
                raise AuthError(403, f"needs one of the roles: {', '.join(sorted(self.roles))}")
        return principal

    def _json_body(self, request):
        if self.body_optional and not request.content_length and "Transfer-Encoding" not in request.headers:
            return {}  # no body at all: every field takes its default
        if (request.content_length or 0) > self.server.max_body_bytes:
            raise ApiError(413, "payload_too_large", f"request body exceeds {self.server.max_body_bytes} bytes")
        if request.mimetype != "application/json":
            raise ApiError(415, "unsupported_media_type", "send the body as application/json")
        raw = http_guard.read_within(request, settings_of(self.container).http_read_timeout)
        if raw is None:
            raise ApiError(408, "request_timeout", "the request body did not arrive in time")
        if len(raw) > self.server.max_body_bytes:
            raise ApiError(413, "payload_too_large", f"request body exceeds {self.server.max_body_bytes} bytes")
        if input_guard.json_depth_exceeds(raw):
            raise ApiError(400, "malformed_json", f"request body nests deeper than {input_guard.MAX_JSON_DEPTH} levels")
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, "malformed_json", f"request body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ApiError(400, "malformed_json", "request body must be a JSON object")
        _refuse(422, "validation_failed", "invalid body", input_guard.payload_problems(payload))
        return payload

    @staticmethod
    def _load(schema, payload, where):
        try:
            loaded = schema.load(payload, unknown=RAISE)
        except ValidationError as exc:
            raise ApiError(422, "validation_failed", f"invalid {where}", exc.messages) from None
        _refuse(422, "validation_failed", f"invalid {where}", input_guard.time_problems(loaded))
        return loaded

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (self.status, result)
        if self.response_schema is not None and payload is not None:
            payload = self.response_schema.dump(payload)
        if payload is None:
            return Response(status=204 if status == 200 else status)
        return json_response(status, payload)

    def response_from_exception(self, exc, request=None):
        service = self.container.service_name
        if isinstance(exc, ApiError):
            response = error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)
            code = exc.code
        elif isinstance(exc, DomainError):
            status, code = status_of(exc)
            headers = {"Retry-After": str(self.server.retry_after)} if status == 503 else None
            response = error_response(status, code, exc.message, exc.fields, headers)
        elif isinstance(exc, AuthError):
            code = "unauthorized" if exc.status == 401 else "forbidden"
            headers = {"WWW-Authenticate": 'Bearer realm="smartcity"'} if exc.status == 401 else None
            response = error_response(exc.status, code, str(exc), headers=headers)
        elif isinstance(exc, ValidationError):
            code = "validation_failed"
            response = error_response(422, code, "validation failed", exc.messages)
        elif outages.dependency_of(exc) is not None:
            code, retry_after = "unavailable", self.server.retry_after
            response = json_response(503, outages.body(outages.dependency_of(exc), retry_after),
                                     {"Retry-After": str(retry_after)})
        else:  # nameko logged it with its traceback (shared.logs keeps that one)
            code = "internal_error"
            response = error_response(500, code, "internal error")
        metrics.HTTP_ERRORS.labels(service, self.method_name, code).inc()
        return response


api = ApiEndpoint.decorator
