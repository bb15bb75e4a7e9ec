"""The ideas service's RPC methods, called as another nameko service would."""
import uuid

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from tests.ideas.test_api import submit

pytestmark = pytest.mark.integration


@pytest.fixture
def rpc(ideas_service, ideas_settings):
    with ClusterRpcProxy({"AMQP_URI": ideas_settings.amqp_uri}, timeout=10) as proxy:
        yield proxy.ideas


def test_get_idea_returns_any_idea_without_its_author(rpc, ideas_api, auth):
    idea = submit(ideas_api, auth)  # still submitted: other services see it as staff do
    found = rpc.get_idea(idea["id"])
    assert found["id"] == idea["id"] and found["status"] == "submitted"
    assert "author_id" not in found


def test_get_idea_validates_its_argument_and_reports_missing_ideas(rpc):
    with pytest.raises(RemoteError) as invalid:
        rpc.get_idea("not-a-uuid")
    assert invalid.value.exc_type == "ValidationError" and "idea_id" in str(invalid.value)
    with pytest.raises(RemoteError) as missing:
        rpc.get_idea(str(uuid.uuid4()))
    assert missing.value.exc_type == "NotFound"


def test_fields_of_action(rpc):
    assert len(rpc.fields_of_action("gera")) == 6
    with pytest.raises(RemoteError) as invalid:
        rpc.fields_of_action("Not A Slug!")
    assert "municipality" in str(invalid.value)


def test_places_name_every_municipality_and_field_in_german_and_english(rpc):
    places = {place["slug"]: place for place in rpc.places()}
    assert set(places) == {"gera", "grossenhain"}
    gera = places["gera"]
    assert (gera["name"], gera["name_en"]) == ("Gera", "Gera")
    mobility = [field for field in gera["fields"] if field["slug"] == "mobilitaet-infrastruktur"]
    assert mobility == [{"slug": "mobilitaet-infrastruktur", "name": "Mobilität und Infrastruktur",
                         "name_en": "Mobility and infrastructure"}]
    assert [field["name_en"] for field in places["grossenhain"]["fields"]] == [
        "Administration", "Education", "Health", "Mobility"]
