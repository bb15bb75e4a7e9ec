"""The public entry: TLS, a rate limit, and exactly the public HTTP routes of the code."""
import re

import pytest
from nameko.web.handlers import HttpRequestHandler

from shared import registry
from tests.deploy.manifests import K8S, SERVICES, of_kind, render

PRIVATE = ("/metrics", "/health/live", "/health/ready")


def ingress():
    (only,) = of_kind(render(K8S), "Ingress")
    return only


def routes(service):
    """Every path of the service's HTTP entrypoints, path parameters filled in."""
    service_class = registry.spec(service).load_class()
    urls = {entrypoint.url for name in dir(service_class)
            for entrypoint in getattr(getattr(service_class, name), "nameko_entrypoints", ())
            if isinstance(entrypoint, HttpRequestHandler)}
    return {re.sub(r"<[^>]+>", "x1", url) for url in urls}


def public_path(service, path):
    """Whether https://<host>/<service><path> reaches the service (ingress-nginx regex, rewritten to /$1)."""
    for rule in ingress()["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            match = re.match(entry["path"] + "$", f"/{service}{path}")
            if match and entry["backend"]["service"]["name"] == service:
                assert "/" + match.group(1) == path
                return True
    return False


def test_tls_and_a_rate_limit_at_the_edge():
    spec, annotations = ingress()["spec"], ingress()["metadata"]["annotations"]
    hosts = {rule["host"] for rule in spec["rules"]}
    assert {host for tls in spec["tls"] for host in tls["hosts"]} == hosts
    assert int(annotations["nginx.ingress.kubernetes.io/limit-rps"]) > 0
    assert annotations["nginx.ingress.kubernetes.io/limit-req-status-code"] == "429"
    assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"


@pytest.mark.parametrize("service", SERVICES)
def test_every_public_route_is_routed_and_no_operations_endpoint_is(service):
    paths = routes(service)
    assert set(PRIVATE) <= paths
    for path in paths - set(PRIVATE):
        assert public_path(service, path), f"{service}{path} is not reachable through the Ingress"
    for path in PRIVATE:
        assert not public_path(service, path), f"{service}{path} must not be public"
