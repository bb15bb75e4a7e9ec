"""Pages people read: server-rendered HTML in German and English, one layout and style for every service.

    pages = Pages(Path(__file__).parent / "pages", MESSAGES)   # the service's templates and words

    @page("GET", "/confirm", query=TokenQuery)
    def confirm_page(self, request):          # request.view: language, path, links that keep ?lang=
        return pages.render(request.view, "confirm.html.j2", title_key="confirm.title", ...)

A page's templates extend `layout.html.j2` (shared/templates): skip link, header, language switch,
main landmark, footer, the shared style inline. No script and no external resource, so pages
work behind a strict Content-Security-Policy. `@page` is `@api` for browsers: query and form
input validated by marshmallow, and every refusal answered as a page in the reader's language.
"""
import posixpath
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from marshmallow import RAISE, ValidationError, fields
from werkzeug.wrappers import Response

from shared import http_guard, input_guard, metrics, outages
from shared.auth import AuthError
from shared.config import settings_of
from shared.domain import MUNICIPAL_TZ
from shared.errors import DomainError
from shared.i18n import COMMON, LANGUAGE_NAMES, LANGUAGES, Catalog, negotiate
from shared.web import ApiEndpoint, ApiError, status_of

SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates"
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none';"
       " frame-ancestors 'none'")
DATE_FORMATS = {"de": "%d.%m.%Y", "en": "%d %b %Y"}
TIME_FORMATS = {"de": "%d.%m.%Y, %H:%M Uhr", "en": "%d %b %Y, %H:%M"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def format_date(value, lang):
    """A calendar date (or the municipal date of a moment), as people of the language write it."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(MUNICIPAL_TZ)
    return value.strftime(DATE_FORMATS[lang])


def format_time(value, lang):
    """A moment in municipal time (Europe/Berlin)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(MUNICIPAL_TZ).strftime(TIME_FORMATS[lang])


def format_number(value, lang):
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:,.1f}"
    else:
        text = f"{value:,}"
    return text.replace(",", "\u202f") if lang == "de" else text


@dataclass(frozen=True)
class View:
    """Who reads a page and where: its language, its path and query (without `lang`)."""

    lang: str
    path: str
    args: tuple = ()  # ((name, value), ...)

    def url(self, path=None, lang=None, **params):
        """A link that keeps the reader's language: `path` (default: this page) with `params`.

        Relative to this page, so links work however the service is mounted (behind the Ingress,
        https://host/reporting/dashboard is the service's /dashboard).
        """
        query = dict(self.args) if path is None else {}
        query.update({name: value for name, value in params.items() if value is not None})
        query["lang"] = lang or self.lang
        target = self.path if path is None else path
        here = posixpath.dirname(self.path) or "/"
        if target == "/":
            relative = posixpath.relpath("/", here) + "/"
        else:
            relative = posixpath.relpath(target, here)
            if relative == ".":  # the folder this page is in, as a page of its own
                relative = "../" + posixpath.basename(target)
        return f"{relative}?{urlencode(query)}"

    def languages(self):
        """[(code, name, url of this page in it, current?)] for the language switch."""
        return [(code, LANGUAGE_NAMES[code], self.url(lang=code), code == self.lang) for code in LANGUAGES]


class Pages:
    """A service's page templates (its folder, then shared/templates) and its words."""

    def __init__(self, folder=None, *messages):
        folders = [FileSystemLoader(folder)] if folder else []
        self.env = Environment(loader=ChoiceLoader([*folders, FileSystemLoader(SHARED_TEMPLATES)]),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
        self.catalog = Catalog(COMMON, *messages)

    def html(self, view, template, **context):
        """The page's HTML: `template` rendered with `t` (the words), the formats and `view`."""
        t = self.catalog.translator(view.lang)
        lang = view.lang
        return self.env.get_template(template).render(
            view=view, lang=lang, t=t,
            date=lambda value: format_date(value, lang) if value else "–",
            time=lambda value: format_time(value, lang) if value else "–",
            number=lambda value: format_number(value, lang), **context)

    def render(self, view, template, status=200, headers=None, **context):
        return page_response(self.html(view, template, **context), view.lang, status, headers)


def page_response(html, lang, status=200, headers=None):
    """An HTML answer: strict CSP, no referrer (links carry tokens), not cached, in `lang`."""
    return Response(html, status=status, content_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": CSP, "Content-Language": lang, "Vary": "Accept-Language",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        **(headers or {})})


ERROR_PAGES = Pages()


def _values(schema, multi):
    """A MultiDict's values as `schema` expects them: lists for List fields, one value otherwise."""
    values = {}
    for name in multi.keys():
        if name == "lang":
            continue
        field = schema.fields.get(name)
        values[name] = multi.getlist(name) if isinstance(field, fields.List) else multi.get(name)
    return values


class PageEndpoint(ApiEndpoint):
    """An HTML page: query and form validated by marshmallow, refusals answered as a page.

    No bearer token is read: pages are opened from links (a mail's token is in the URL).
    The handler gets `request.view`, `request.query_data` and `request.form_data`, and its path
    values loaded by the `path` schema. A POST is an anonymous write: it has the rate limit of one.
    """

    def __init__(self, method, url, *, form=None, path=None, **kwargs):
        self.form_schema = form() if isinstance(form, type) else form
        # Path values checked here, not by a URL converter: a wrong one gets a page, not the router's JSON 404.
        self.path_schema = path() if isinstance(path, type) else path
        super().__init__(method, url, **kwargs)

    def _prepare(self, request):
        self._admit(request)  # as for @api: text headers, path and query; the rate limit of anonymous writes
        request.view = _view(request, tuple((k, v) for k, v in request.args.items() if k != "lang"))
        if self.path_schema:
            request.path_values = self._load_values(self.path_schema, request.path_values, "path")
        request.query_data = self._load_values(self.query_schema, request.args, "query") \
            if self.query_schema else {}
        request.form_data = self._load_values(self.form_schema, self._form(request), "form") \
            if self.form_schema else {}
        request.data = None

    def _principal(self, request):
        return None  # no bearer token is read: pages are opened from links

    def _form(self, request):
        if (request.content_length or 0) > self.server.max_body_bytes:
            raise ApiError(413, "payload_too_large", f"request body exceeds {self.server.max_body_bytes} bytes")
        if request.method == "POST" and request.mimetype not in FORM_TYPES:
            raise ApiError(415, "unsupported_media_type", "send the form as application/x-www-form-urlencoded")
        # a body without Content-Length (chunked) is not read at all: werkzeug's safe fallback
        form = http_guard.form_within(request, settings_of(self.container).http_read_timeout)
        if form is None:
            raise ApiError(408, "request_timeout", "the request body did not arrive in time")
        problems = input_guard.mapping_problems(form.items(multi=True))
        if problems:
            raise ApiError(422, "validation_failed", "invalid form", problems)
        return form

    @staticmethod
    def _load_values(schema, multi, where):
        try:
            return schema.load(_values(schema, multi), unknown=RAISE)
        except ValidationError as exc:
            raise ApiError(422, "validation_failed", f"invalid {where}", exc.messages) from None

    def response_from_result(self, result):
        return result  # a page handler answers with a Response (Pages.render)

    def response_from_exception(self, exc, request=None):
        service = self.container.service_name
        fields_ = None
        headers = None
        if isinstance(exc, ApiError):
            status, code, fields_, headers = exc.status, exc.code, exc.fields, exc.headers
        elif isinstance(exc, DomainError):
            (status, code), fields_ = status_of(exc), exc.fields
        elif isinstance(exc, AuthError):
            status, code = exc.status, "unauthorized" if exc.status == 401 else "forbidden"
        elif outages.dependency_of(exc) is not None:  # the database or the broker away: come back later
            status, code, headers = 503, "unavailable", {"Retry-After": str(self.server.retry_after)}
        else:
            status, code = 500, "internal_error"
        metrics.HTTP_ERRORS.labels(service, self.method_name, code).inc()
        # refused before its query was checked: the page's links keep none of it
        view = getattr(request, "view", None) or (_view(request) if request else View(negotiate(), "/"))
        return error_page(view, status, fields_, headers)


def _view(request, args=()):
    return View(negotiate(request.args.get("lang"), request.headers.get("Accept-Language")), request.path, args)


def error_page(view, status, fields_=None, headers=None):
    """A refusal as a page in the reader's language (the status decides the words)."""
    t = ERROR_PAGES.catalog.translator(view.lang)
    key = f"error.{status}" if t.has(f"error.{status}") else "error.400"
    message = t(key, fields=", ".join(sorted(fields_ or {}))) if status == 422 else t(key)
    return ERROR_PAGES.render(view, "error.html.j2", status=status, headers=headers, message=message)


page = PageEndpoint.decorator
