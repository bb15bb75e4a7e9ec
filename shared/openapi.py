"""OpenAPI 3.1 document of a service, generated from its @api endpoints' marshmallow schemas."""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared.pages import PageEndpoint
from shared.web import ApiEndpoint

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")

ERROR_RESPONSES = {
    "400": "Malformed JSON body, or a header that is not text",
    "408": "The body did not arrive in time",
    "401": "An invalid token (on any operation), or none where one is needed",
    "403": "The token lacks a needed role",
    "404": "Not found",
    "409": "Conflicts with the current state",
    "413": "Body too large",
    "415": "Body is not application/json",
    "422": "A field failed validation; error.fields names each one",
}


def _path(url):
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", url)


def _path_params(url):
    params = []
    for converter, name in _CONVERTER.findall(url):
        schema = {"type": "string", "format": "uuid"} if converter == "uuid" else {"type": "string"}
        params.append({"in": "path", "name": name, "required": True, "schema": schema})
    return params


def build(service, endpoints, version="1.0.0"):
    plugin = MarshmallowPlugin()
    spec = APISpec(title=f"SmartCity {service} service", version=version, openapi_version="3.1.0",
                   plugins=[plugin])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "object", "description": "field name -> list of messages"}}}},
    })
    paths = {}
    for endpoint in sorted((e for e in endpoints if isinstance(e, ApiEndpoint)), key=lambda e: (e.url, e.method)):
        operation = {"operationId": endpoint.method_name, "summary": endpoint.summary or endpoint.method_name,
                     "parameters": _path_params(endpoint.url), "responses": {}}
        if endpoint.tags:
            operation["tags"] = list(endpoint.tags)
        if endpoint.query_schema is not None:
            operation["parameters"].append({"in": "query", "schema": endpoint.query_schema})
        if endpoint.body_schema is not None:
            operation["requestBody"] = {"required": not endpoint.body_optional,
                                        "content": {"application/json": {"schema": endpoint.body_schema}}}
        if isinstance(endpoint, PageEndpoint):
            _page_operation(operation, endpoint)
        else:
            _json_responses(operation, endpoint)
        for method in endpoint.method.split(","):
            paths.setdefault(_path(endpoint.url), {})[method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _page_operation(operation, endpoint):
    """A page for people: HTML in, HTML out (refusals too), in the language of `lang` or Accept-Language.

    Its answer is the page, a redirect (a page declared with status=302/303) or a file to save (one
    declared with a response schema); a rate-limited page (an anonymous write) may answer 429.
    """
    if endpoint.path_schema is not None:
        operation["parameters"] = [param for param in operation["parameters"] if param["in"] != "path"]
        operation["parameters"].append({"in": "path", "schema": endpoint.path_schema})
    operation["parameters"].append({"in": "query", "name": "lang", "required": False,
                                    "schema": {"type": "string", "enum": ["de", "en"]}})
    if endpoint.form_schema is not None:
        operation["requestBody"] = {"required": False, "content": {
            "application/x-www-form-urlencoded": {"schema": endpoint.form_schema}}}
    html = {"text/html": {"schema": {"type": "string"}}}
    if 300 <= endpoint.status < 400:
        answer = {"description": "on to the page that follows", "headers": {"Location": {"schema": {"type": "string"}}}}
    elif endpoint.response_schema is not None:
        answer = {"description": "a file to save",
                  "content": {"application/json": {"schema": endpoint.response_schema}}}
    else:
        answer = {"description": "the page", "content": html}
    operation["responses"] = {str(endpoint.status): answer,
                              "4XX": {"description": "a page saying what was wrong", "content": html}}
    if endpoint.rate_limits is not None:
        operation["responses"]["429"] = _too_many(endpoint, html)


def _json_responses(operation, endpoint):
    """The answers of a JSON endpoint: its own, and the JSON errors that can come instead."""
    ok = {"description": "OK"}
    if endpoint.response_schema is not None:
        ok["content"] = {"application/json": {"schema": endpoint.response_schema}}
    operation["responses"][str(endpoint.status)] = ok
    if endpoint.roles is not None:
        operation["security"] = [{"bearer": []}]
    for status, text in ERROR_RESPONSES.items():
        if status == "403" and endpoint.roles is None:
            continue
        if status in ("408", "413", "415") and endpoint.body_schema is None:
            continue
        operation["responses"][status] = {
            "description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if endpoint.rate_limits is not None:
        operation["responses"]["429"] = _too_many(endpoint, {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}})


def _too_many(endpoint, content):
    return {"description": f"Over the rate limit ({endpoint.rate_limits}); try again after Retry-After seconds",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": content}
