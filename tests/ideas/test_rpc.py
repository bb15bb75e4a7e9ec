"""The ideas service's RPC methods, called as another nameko service would, and as strangers would.

A call names its caller by the AMQP user_id the broker checked: another service of this
installation sees ideas as staff do, anyone else (an unknown user, no user_id, a header that
only claims an identity) as the public.
"""
import uuid

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from shared import config
from shared.rpc import ServiceClusterRpc
from tests.fixtures import RpcFailed, broker_uri, rpc_call
from tests.ideas.test_api import moderate, submit

pytestmark = pytest.mark.integration


@pytest.fixture
def as_voting(ideas_service):
    """Call an ideas RPC method as the voting service does (its user, its user_id)."""
    uri = broker_uri("voting")
    return lambda method, *args: rpc_call(uri, "ideas", method, *args)


def test_another_service_gets_any_idea_without_its_author(as_voting, ideas_api, auth):
    idea = submit(ideas_api, auth)  # still submitted: other services see it as staff do
    found = as_voting("get_idea", idea["id"])
    assert found["id"] == idea["id"] and found["status"] == "submitted"
    assert "author_id" not in found


@pytest.mark.parametrize("user_id, headers", [
    ("guest", None),  # a broker user that is no service of ours
    (None, None),  # no user_id at all
    (None, {"nameko.smartcity_rpc_caller": "voting"}),  # only claims to be a service, in a header
], ids=["unknown-user", "no-user-id", "claimed-in-a-header"])
def test_an_unknown_caller_gets_no_hidden_idea_only_public_ones(ideas_service, ideas_api, auth, amqp_uri,
                                                                user_id, headers):
    hidden = submit(ideas_api, auth)
    public = submit(ideas_api, auth, title="Offene Daten für alle")
    moderate(ideas_api, auth, public["id"])
    with pytest.raises(RpcFailed) as refused:
        rpc_call(amqp_uri, "ideas", "get_idea", hidden["id"], user_id=user_id, headers=headers)
    assert refused.value.exc_type == "NotFound"
    assert rpc_call(amqp_uri, "ideas", "get_idea", public["id"], user_id=user_id, headers=headers)["id"] == public["id"]


def test_namekos_own_standalone_proxy_is_an_unknown_caller(ideas_service, ideas_api, auth, amqp_uri):
    hidden = submit(ideas_api, auth)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as proxy:
        with pytest.raises(RemoteError) as refused:
            proxy.ideas.get_idea(hidden["id"])
    assert refused.value.exc_type == "NotFound"


def test_get_idea_validates_its_argument_and_reports_missing_ideas(as_voting):
    with pytest.raises(RpcFailed) as invalid:
        as_voting("get_idea", "not-a-uuid")
    assert invalid.value.exc_type == "ValidationError" and "idea_id" in str(invalid.value)
    with pytest.raises(RpcFailed) as missing:
        as_voting("get_idea", str(uuid.uuid4()))
    assert missing.value.exc_type == "NotFound"


def test_fields_of_action(as_voting):
    assert len(as_voting("fields_of_action", "gera")) == 6
    with pytest.raises(RpcFailed) as invalid:
        as_voting("fields_of_action", "Not A Slug!")
    assert "municipality" in str(invalid.value)


def test_places_name_every_municipality_and_field_in_german_and_english(ideas_service):
    """Asked as notifications and reporting ask it (shared.places): outside a worker, as their own user."""
    with ServiceClusterRpc({"AMQP_URI": config.load("notifications").amqp_uri}, "notifications", timeout=10) as rpc:
        places = {place["slug"]: place for place in rpc.ideas.places()}
    assert set(places) == {"gera", "grossenhain"}
    gera = places["gera"]
    assert (gera["name"], gera["name_en"]) == ("Gera", "Gera")
    mobility = [field for field in gera["fields"] if field["slug"] == "mobilitaet-infrastruktur"]
    assert mobility == [{"slug": "mobilitaet-infrastruktur", "name": "Mobilität und Infrastruktur",
                         "name_en": "Mobility and infrastructure"}]
    assert [field["name_en"] for field in places["grossenhain"]["fields"]] == [
        "Administration", "Education", "Health", "Mobility"]


def test_a_service_asking_outside_a_worker_is_known_by_its_user(ideas_service, ideas_api, auth):
    hidden = submit(ideas_api, auth)  # only a service of ours sees it: the request carried reporting's user_id
    with ServiceClusterRpc({"AMQP_URI": config.load("reporting").amqp_uri}, "reporting", timeout=10) as rpc:
        assert rpc.ideas.get_idea(hidden["id"])["status"] == "submitted"
