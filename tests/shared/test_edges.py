"""Domain errors carry no HTTP: the web edge and the RPC edge each map them in one place."""
import pytest
from nameko.exceptions import RemoteError

from shared import errors, registry, rpc
from shared.web import ERROR_STATUS, status_of


@pytest.mark.parametrize("error, status, code", [
    (errors.InvalidInput("x", {"f": ["bad"]}), 422, "validation_failed"),
    (errors.Unauthorized("x"), 401, "unauthorized"),
    (errors.Forbidden("x"), 403, "forbidden"),
    (errors.NotFound("idea"), 404, "not_found"),
    (errors.Conflict("x"), 409, "conflict"),
    (errors.Gone("x"), 410, "gone"),
    (errors.Unavailable("x"), 503, "unavailable"),
])
def test_each_domain_error_has_one_http_status(error, status, code):
    assert status_of(error) == (status, code)


def test_a_service_specific_subclass_maps_like_its_parent():
    class InvalidTransition(errors.Conflict):
        pass

    assert status_of(InvalidTransition("from a to b")) == (409, "conflict")


def test_every_domain_error_travels_over_rpc_and_has_a_status():
    assert set(errors.BY_NAME.values()) == set(ERROR_STATUS)


def test_rpc_raises_the_callees_domain_error_again_with_its_message():
    def remote(exc_type, value):
        def method(*args):
            raise RemoteError(exc_type, value)
        return method

    with pytest.raises(errors.NotFound) as found:
        rpc.call(remote("NotFound", "municipality 'atlantis' not found"))
    assert found.value.message == "municipality 'atlantis' not found"
    with pytest.raises(errors.InvalidInput):
        rpc.call(remote("ValidationError", "{'municipality': ['must be a lowercase slug']}"))
    with pytest.raises(RemoteError):
        rpc.call(remote("KeyError", "boom"))  # a fault stays a fault


def test_rpc_that_does_not_answer_is_unavailable():
    import eventlet

    with pytest.raises(errors.Unavailable):
        rpc.call(lambda: eventlet.sleep(1), timeout=0.05)


def test_every_service_declares_itself_with_a_port_and_its_migrations():
    specs = registry.services()
    assert list(specs) == ["ideas", "voting", "notifications", "reporting"]
    assert len({spec.port for spec in specs.values()}) == 4
    for spec in specs.values():
        assert (spec.migrations / "0001_{}.sql".format(spec.name)).is_file()
    with pytest.raises(ValueError, match="unknown service 'atlantis'"):
        registry.spec("atlantis")
