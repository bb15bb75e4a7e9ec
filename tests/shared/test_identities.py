"""The trust model as data (shared.identities, shared.provision.definitions) and the production
refusals of shared.config. Pure: the broker and database tests are in tests/e2e/test_trust.py."""
import base64
import json
import hashlib
import re

import pytest

from shared import config, identities, provision, registry
from shared.dead_letters import dead_letter_queue, retry_queue
from shared.envelope import make_event
from shared.events import CATALOGUE
from shared.subscriber import EventSubscriber

SERVICES = list(registry.services())


def allowed(pattern, name):
    """RabbitMQ matches permission patterns anywhere in the name; ours are anchored."""
    return re.search(pattern, name) is not None


def queues_of(service):
    """Every queue name a service declares: subscriptions, their retry queues, dead letters, RPC."""
    cls = registry.spec(service).load_class()
    names = [dead_letter_queue(service).name, f"rpc-{service}", f"rpc.reply-{service}-0b5e6a52-31cf-4a5a"]
    for attr in dir(cls):
        for entrypoint in getattr(getattr(cls, attr), "nameko_entrypoints", ()):
            if isinstance(entrypoint, EventSubscriber):
                queue = entrypoint.queue_name(service, attr)
                names += [queue, retry_queue(queue, 0.2).name]
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_may_configure_write_and_read_exactly_its_own_queues(service):
    configure, write, read = identities.vhost_permissions(service)
    for name in queues_of(service):
        assert allowed(configure, name) and allowed(write, name) and allowed(read, name), name
    for other in SERVICES:
        if other != service:
            for name in queues_of(other):
                assert not (allowed(configure, name) or allowed(write, name) or allowed(read, name)), name


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_publishes_only_to_its_own_exchange_and_only_its_own_types(service):
    _, write, read = identities.vhost_permissions(service)
    for exchange, owner in identities.owners().items():
        assert allowed(write, exchange) == (owner == service)
        assert allowed(read, exchange)  # binds to every exchange
    topics = {exchange: (w, r) for exchange, w, r in identities.topic_permissions(service)}
    for event_type, (owner, _) in CATALOGUE.items():
        own_write, _ = topics[f"{owner}.events"]
        assert allowed(own_write, event_type) == (owner == service)
    if f"{service}.events" in topics:
        assert not allowed(topics[f"{service}.events"][0], "PilotApprovedX")


def test_a_service_calls_the_others_rpc_answers_on_reply_keys_and_binds_only_its_own_methods():
    topics = {exchange: (w, r) for exchange, w, r in identities.topic_permissions("voting")}
    write, read = topics[identities.RPC_EXCHANGE]
    assert allowed(write, "ideas.fields_of_action") and allowed(write, "0b5e6a52-31cf-4a5a-9c1d-1e2f3a4b5c6d")
    assert not allowed(write, "voting.open_round")
    assert allowed(read, "voting.*") and not allowed(read, "ideas.*") and not allowed(read, "#")


def test_an_outside_subscriber_reads_every_exchange_and_writes_nothing_but_its_own_queues():
    user = identities.subscriber_user("city-portal")
    assert user == "sub-city-portal" == identities.subscriber_user("sub-city-portal")
    configure, write, read = identities.vhost_permissions(user)
    assert allowed(configure, "sub-city-portal.ideas") and allowed(read, "sub-city-portal.ideas")
    for exchange in identities.owners():
        assert allowed(read, exchange) and not allowed(write, exchange) and not allowed(configure, exchange)
    for name in ("sub-other.ideas", "sub-city-portal", "evt-all--reporting.on_event", "rpc-ideas",
                 identities.RPC_EXCHANGE, identities.DEFAULT_EXCHANGE):
        assert not (allowed(configure, name) or allowed(write, name) or allowed(read, name)), name
    assert all(w == "^$" for _, w, _ in identities.topic_permissions(user))
    with pytest.raises(ValueError):
        identities.vhost_permissions("sub-a|.*")  # a name is never a pattern


def test_definitions_hold_every_user_with_a_password_rabbitmq_accepts():
    document = provision.definitions("smartcity_test", {"ideas": "s3cret", "sub-city-portal": "pw"})
    [ideas] = [user for user in document["users"] if user["name"] == "ideas"]
    raw = base64.b64decode(ideas["password_hash"])
    assert raw[4:] == hashlib.sha256(raw[:4] + b"s3cret").digest()  # rabbit_password_hashing_sha256
    assert ideas["tags"] == []  # no management, no impersonation
    assert {p["user"] for p in document["permissions"]} == {"ideas", "sub-city-portal"}
    assert {e["name"] for e in document["exchanges"]} == {*identities.owners(), "nameko-rpc"}
    assert document == provision.definitions("smartcity_test", {"ideas": "s3cret", "sub-city-portal": "pw"})


# --- what a consumer accepts --------------------------------------------------------------

def envelope(event_type="PilotApproved", source="voting"):
    from tests.contract.test_event_contract import sample

    service, cls = CATALOGUE[event_type]
    event = make_event(service, event_type, sample(cls()))
    return {**event, "source": f"/smartcity/{source}"}


def test_an_event_is_accepted_only_from_its_owner_with_its_source():
    assert identities.refusal(envelope(), "voting") is None
    assert "published by user 'ideas'" in identities.refusal(envelope(), "ideas")
    assert "published by user 'sub-city-portal'" in identities.refusal(envelope(), "sub-city-portal")
    assert "set no user_id" in identities.refusal(envelope(), None)
    assert "must come from /smartcity/voting" in identities.refusal(envelope(source="ideas"), "voting")


def test_the_recorded_publisher_counts_only_on_the_consumers_own_copies():
    header = {identities.PUBLISHED_BY: "voting"}
    assert identities.publisher_of("voting", None, "ideas") == "voting"
    assert identities.publisher_of("ideas", header, "ideas") == "voting"  # its own retry or replay copy
    assert identities.publisher_of("reporting", header, "ideas") == "reporting"  # a header proves nothing
    assert identities.publisher_of("ideas", {identities.PUBLISHED_BY: ""}, "ideas") is None
    assert identities.publisher_of(None, header, "ideas") is None


# --- configuration --------------------------------------------------------------------------

PRODUCTION = {  # as a Deployment gives them to the voting service (which keys pseudonyms)
    "SMARTCITY_ENV": "production", "SMARTCITY_JWT_SECRET": "a-real-secret", "SMARTCITY_PSEUDONYM_KEY": "a-real-key",
    "SMARTCITY_JWT_ISSUER": "https://login.example.org/realms/city", "SMARTCITY_JWT_AUDIENCE": "smartcity",
    "SMARTCITY_VOTING_AMQP_URI": "amqp://voting:Xk3-broker@rabbitmq:5672/",
    "SMARTCITY_VOTING_DATABASE_URL": "postgresql://smartcity_voting_app:Xk3-app@postgres:5432/smartcity_voting",
}
OWNER_URL = "postgresql://smartcity_voting_owner:Xk3-owner@postgres:5432/smartcity_voting"


@pytest.fixture
def production(monkeypatch):
    for name in ("SMARTCITY_AMQP_URI", "SMARTCITY_PG_URL", "SMARTCITY_VOTING_MIGRATION_DATABASE_URL",
                 "SMARTCITY_JWT_JWKS_URL", "SMARTCITY_VOTING_PSEUDONYM_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_production_starts_on_its_own_credentials_and_leaves_migrations_to_the_owner_role(production):
    settings = config.load("voting")
    assert settings.amqp_uri == PRODUCTION["SMARTCITY_VOTING_AMQP_URI"]
    assert settings.migration_database_url is None  # not this process's job without the owner's URL
    production.setenv("SMARTCITY_VOTING_MIGRATION_DATABASE_URL", OWNER_URL)
    assert config.load("voting").migration_database_url == OWNER_URL


def test_a_migration_job_needs_nothing_but_the_owners_url(production):
    for name in PRODUCTION:
        if name.startswith("SMARTCITY_VOTING_") or name == "SMARTCITY_PSEUDONYM_KEY":
            production.delenv(name)
    with pytest.raises(RuntimeError, match="set SMARTCITY_VOTING_MIGRATION_DATABASE_URL"):
        config.migration_target("voting")
    production.setenv("SMARTCITY_VOTING_MIGRATION_DATABASE_URL", OWNER_URL)
    assert config.migration_target("voting") == (OWNER_URL, None)  # runtime role: smartcity_voting_app


def test_a_service_that_keys_no_pseudonyms_needs_no_key(production):
    production.delenv("SMARTCITY_PSEUDONYM_KEY")
    production.delenv("SMARTCITY_IDEAS_MIGRATION_DATABASE_URL", raising=False)  # the tests' own (conftest)
    production.setenv("SMARTCITY_IDEAS_AMQP_URI", "amqp://ideas:Xk3-broker@rabbitmq:5672/")
    production.setenv("SMARTCITY_IDEAS_DATABASE_URL", "postgresql://smartcity_ideas_app:Xk3@postgres/smartcity_ideas")
    assert config.load("ideas").service == "ideas"
    with pytest.raises(RuntimeError, match="PSEUDONYM_KEY"):
        config.load("voting")


@pytest.mark.parametrize("name, value", [  # the development JWT secret: tests/shared/test_auth.py
    ("SMARTCITY_PSEUDONYM_KEY", config.DEV_PSEUDONYM_KEY),
    ("SMARTCITY_VOTING_AMQP_URI", None),  # the default: its development password
    ("SMARTCITY_VOTING_AMQP_URI", "amqp://voting:voting-local-password@rabbitmq:5672/"),
    ("SMARTCITY_VOTING_DATABASE_URL", None),
    ("SMARTCITY_VOTING_MIGRATION_DATABASE_URL",
     "postgresql://smartcity_voting_owner:smartcity_voting_owner-local-password@postgres:5432/smartcity_voting"),
])
def test_production_refuses_every_development_default(production, name, value):
    if value is None:
        production.delenv(name)
    else:
        production.setenv(name, value)
    with pytest.raises(RuntimeError, match=f"production refuses development defaults.*{name.split('_', 2)[-1]}"):
        config.load("voting")
    if "MIGRATION" in name:
        with pytest.raises(RuntimeError, match="production refuses development defaults"):
            config.migration_target("voting")


@pytest.mark.parametrize("uri", ["amqp://guest:guest@127.0.0.1:5672/", "amqp://voting:x@127.0.0.1:5672/"])
def test_a_service_must_log_in_as_its_own_broker_user(monkeypatch, uri):
    monkeypatch.setenv("SMARTCITY_IDEAS_AMQP_URI", uri)
    with pytest.raises(RuntimeError, match="as the user 'ideas'"):
        config.load("ideas")


def test_by_default_each_service_has_its_own_user_and_roles_on_the_configured_servers(monkeypatch):
    for name in ("AMQP_URI", "DATABASE_URL", "MIGRATION_DATABASE_URL"):
        monkeypatch.delenv(f"SMARTCITY_VOTING_{name}", raising=False)
    monkeypatch.setenv("SMARTCITY_AMQP_URI", "amqp://guest:guest@broker:5673/city")
    monkeypatch.setenv("SMARTCITY_PG_URL", "postgresql://postgres@db:5433")
    settings = config.load("voting")
    assert settings.amqp_uri == "amqp://voting:voting-local-password@broker:5673/city"
    assert settings.database_url == (
        "postgresql://smartcity_voting_app:smartcity_voting_app-local-password@db:5433/smartcity_voting")
    assert settings.migration_database_url == (
        "postgresql://smartcity_voting_owner:smartcity_voting_owner-local-password@db:5433/smartcity_voting")


def test_provision_shows_the_permissions_and_prints_definitions_to_import_elsewhere(capsys):
    from shared.cli import main

    assert main(["provision", "--show", "--subscriber", "city-portal"]) == 0
    shown = capsys.readouterr().out
    assert "sub-city-portal\n  configure ^(sub-city-portal\\..+)$" in shown
    assert "topic voting.events: write ^(VoteCast|VoteWithdrawn|SupportThresholdReached|PilotApproved|PilotRejected)$" \
           in shown
    assert main(["provision", "--definitions", "--subscriber", "city-portal:s3cret"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {user["name"] for user in document["users"]} == {*SERVICES, "sub-city-portal"}
