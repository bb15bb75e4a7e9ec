"""`@api(...)`: nameko HTTP entrypoints that speak JSON and validate before any worker runs.

An endpoint declares what it accepts and who may call it:

    @api("POST", "/api/v1/ideas", body=NewIdea, roles=AUTHENTICATED, status=201, response=IdeaOut)
    def submit(self, request):  # request.data, request.query_data, request.principal
        ...

Errors are JSON: {"error": {"code", "message", "fields"?}} with 400 (malformed JSON),
401 (no or invalid token), 403 (role), 404, 405, 409, 413 (body too large), 415, 422
(a field failed validation; `fields` names each one). Everything declared here also feeds
the generated OpenAPI document.
"""
import datetime
import decimal
import json
import logging
import time
import uuid
from functools import partial

from eventlet.event import Event
from marshmallow import RAISE, ValidationError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from shared import metrics
from shared.auth import ROLES, AuthError, TokenVerifier
from shared.config import settings_of
from shared.errors import (Conflict, DomainError, Forbidden, Gone, InvalidInput, NotFound, Unauthorized,
                           Unavailable)

log = logging.getLogger(__name__)

AUTHENTICATED = ROLES  # any valid token

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


class ApiError(Exception):
    """A request rejected by the HTTP layer itself (before any use case ran)."""

    def __init__(self, status, code, message, fields=None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def _default(value):
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
    return Response(json.dumps(payload, default=_default), status=status,
                    mimetype="application/json", headers=headers)


def error_response(status, code, message, fields=None, headers=None):
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return json_response(status, {"error": error}, headers)


class JsonWebServer(WebServer):
    """nameko's WebServer with JSON 404/405 bodies and one token verifier per service."""

    def setup(self):
        self.verifier = TokenVerifier(settings_of(self.container))
        self.max_body_bytes = settings_of(self.container).max_body_bytes

    def get_wsgi_app(self):
        return JsonWsgiApp(self)


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
                 status=200, summary=None, tags=None, **kwargs):
        self.body_schema = body() if isinstance(body, type) else body
        self.query_schema = query() if isinstance(query, type) else query
        self.response_schema = response() if isinstance(response, type) else response
        self.roles = frozenset(roles) if roles is not None else None
        self.status = status
        self.summary = summary
        self.tags = tags
        # Refusals are answers, not faults: nameko logs them briefly instead of with a traceback.
        kwargs.setdefault("expected_exceptions", (DomainError, ApiError, AuthError, ValidationError))
        super().__init__(method, url, **kwargs)

    def handle_request(self, request):
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
        except Exception as exc:  # every failure becomes a JSON error response
            response = self.response_from_exception(exc)
        service = self.container.service_name
        metrics.HTTP_LATENCY.labels(service, self.method_name).observe(time.perf_counter() - started)
        metrics.HTTP_REQUESTS.labels(service, self.method_name, request.method, response.status_code).inc()
        return response

    def _prepare(self, request):
        request.principal = self.server.verifier.from_header(request.headers.get("Authorization"))
        if self.roles is not None:
            if request.principal is None:
                raise AuthError(401, "a bearer token is required")
            if not request.principal.has_any(self.roles):
                raise AuthError(403, f"needs one of the roles: {', '.join(sorted(self.roles))}")
        request.query_data = self._load(self.query_schema, request.args.to_dict(), "query") if self.query_schema else {}
        request.data = self._load(self.body_schema, self._json_body(request), "body") if self.body_schema else None

    def _json_body(self, request):
        if (request.content_length or 0) > self.server.max_body_bytes:
            raise ApiError(413, "payload_too_large", f"request body exceeds {self.server.max_body_bytes} bytes")
        if request.mimetype != "application/json":
            raise ApiError(415, "unsupported_media_type", "send the body as application/json")
        raw = request.get_data(cache=False)
        if len(raw) > self.server.max_body_bytes:
            raise ApiError(413, "payload_too_large", f"request body exceeds {self.server.max_body_bytes} bytes")
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, "malformed_json", f"request body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ApiError(400, "malformed_json", "request body must be a JSON object")
        return payload

    @staticmethod
    def _load(schema, payload, where):
        try:
            return schema.load(payload, unknown=RAISE)
        except ValidationError as exc:
            raise ApiError(422, "validation_failed", f"invalid {where}", exc.messages) from None

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (self.status, result)
        if self.response_schema is not None and payload is not None:
            payload = self.response_schema.dump(payload)
        if payload is None:
            return Response(status=204 if status == 200 else status)
        return json_response(status, payload)

    def response_from_exception(self, exc):
        service = self.container.service_name
        if isinstance(exc, ApiError):
            response = error_response(exc.status, exc.code, exc.message, exc.fields)
            code = exc.code
        elif isinstance(exc, DomainError):
            status, code = status_of(exc)
            headers = {"Retry-After": "5"} if status == 503 else None
            response = error_response(status, code, exc.message, exc.fields, headers)
        elif isinstance(exc, AuthError):
            code = "unauthorized" if exc.status == 401 else "forbidden"
            headers = {"WWW-Authenticate": 'Bearer realm="smartcity"'} if exc.status == 401 else None
            response = error_response(exc.status, code, str(exc), headers=headers)
        elif isinstance(exc, ValidationError):
            code = "validation_failed"
            response = error_response(422, code, "validation failed", exc.messages)
        else:
            log.error("unhandled error in %s.%s", service, self.method_name, exc_info=exc)
            code = "internal_error"
            response = error_response(500, code, "internal error")
        metrics.HTTP_ERRORS.labels(service, self.method_name, code).inc()
        return response


api = ApiEndpoint.decorator
