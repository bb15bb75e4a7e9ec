"""RabbitMQ identities as the Messaging Topology Operator creates them: one user per service that
publishes only its own events, KEDA that can only look, outside subscribers that can only read."""
import re

import pytest

from shared.events import CATALOGUE
from tests.deploy.manifests import K8S, SERVICES, named, of_kind, render

SUBSCRIBER = K8S / "examples" / "subscriber"


def permissions(name, directory=K8S):
    spec = named(render(directory), "Permission", name)["spec"]
    assert spec["userReference"]["name"] == name and spec["vhost"] == "/"
    return {kind: re.compile(pattern) for kind, pattern in spec["permissions"].items()}


def owned(service):
    return sorted(event_type for event_type, (owner, *_) in CATALOGUE.items() if owner == service)


def test_one_user_per_service_named_as_the_service():
    docs = render(K8S)
    users = {user["metadata"]["name"]: user["spec"] for user in of_kind(docs, "User")}
    assert set(users) == set(SERVICES) | {"keda"}
    for service in SERVICES:
        assert users[service]["importCredentialsSecret"]["name"] == f"smartcity-{service}-rabbitmq"
        assert "tags" not in users[service], "a service needs no management access"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_publishes_only_its_own_events_on_its_own_exchange(service):
    allowed = permissions(service)
    others = [s for s in SERVICES if s != service]
    for other in others:
        assert not allowed["write"].match(f"{other}.events")
        assert not allowed["configure"].match(f"{other}.events")
        assert not allowed["read"].match(f"evt-ideas-IdeaPublished--{other}.on_idea_published")
        assert not allowed["read"].match(f"{other}.dead-letter")
    for exchange in ("ideas.events", "voting.events", "notifications.events"):
        assert allowed["read"].match(exchange), "it binds its queues to every events exchange"
    assert allowed["read"].match(f"evt-voting-PilotApproved--{service}.on_pilot_approved")
    topic = [t["spec"] for t in of_kind(render(K8S), "TopicPermission") if t["spec"]["userReference"]["name"] == service]
    if owned(service):
        assert allowed["write"].match(f"{service}.events")
        (spec,) = topic
        assert spec["permissions"]["exchange"] == f"{service}.events"
        routing = re.compile(spec["permissions"]["write"])
        assert all(routing.match(t) for t in owned(service))
        assert not any(routing.match(t) for t in CATALOGUE if t not in owned(service))
    else:
        assert topic == [] and not allowed["write"].match(f"{service}.events")


def test_keda_may_look_but_neither_publish_nor_consume():
    allowed = permissions("keda")
    for kind in ("configure", "write", "read"):
        assert not allowed[kind].match("ideas.events") and not allowed[kind].match("evt-x--reporting.on_event")
    assert named(render(K8S), "User", "keda")["spec"]["tags"] == ["management"]


def test_an_outside_subscriber_reads_its_own_queues_only():
    allowed = permissions("sub-city-portal", SUBSCRIBER)
    assert allowed["configure"].match("sub-city-portal.ideas") and allowed["read"].match("sub-city-portal.ideas")
    assert allowed["read"].match("ideas.events")
    for kind in ("configure", "write", "read"):
        assert not allowed[kind].match("sub-other.ideas")
        assert not allowed[kind].match("rpc-ideas") and not allowed[kind].match("nameko-rpc")
    assert not allowed["write"].match("ideas.events") and not allowed["write"].match("amq.default")
