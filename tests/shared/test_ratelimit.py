"""Rate limits: their notation, which routes get which, and whose address a request counts against."""
import pytest

from shared.ratelimit import ANONYMOUS_WRITE, Limits, Rate, client_address, limits_for, trusted_networks


def test_a_rate_is_count_per_unit():
    assert Rate.parse("30/hour") == Rate(30, 3600.0)
    assert Rate.parse(" 5 / second ") == Rate(5, 1.0)
    assert str(Limits.parse("subject=5/minute,address=50/minute")) == "subject=5/minute,address=50/minute"
    for bad in ("0/minute", "5/fortnight", "5", "five/minute"):
        with pytest.raises(ValueError, match="COUNT/UNIT"):
            Rate.parse(bad)
    with pytest.raises(ValueError, match="subject=RATE"):
        Limits.parse("user=5/minute")


def test_a_route_runs_with_its_override_else_its_declaration_else_the_anonymous_write_default():
    declared = Limits(subject="30/hour")
    assert limits_for(declared, "POST", ("citizen",), None) == declared
    assert limits_for(declared, "POST", ("citizen",), "address=1/second") == Limits(address="1/second")
    assert limits_for(declared, "POST", ("citizen",), "off") is None
    assert limits_for(None, "POST", None, None) == ANONYMOUS_WRITE  # anyone may write: limited by address
    assert limits_for(None, "DELETE", None, None) == ANONYMOUS_WRITE
    assert limits_for(None, "GET", None, None) is None
    assert limits_for(None, "POST", ("staff",), None) is None
    assert limits_for(declared, "POST", ("citizen",), None, enabled=False) is None


def test_the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy():
    proxies = trusted_networks(["10.0.0.0/8"])
    assert client_address("203.0.113.7", "198.51.100.1", proxies) == "203.0.113.7"  # a client cannot claim another
    assert client_address("10.1.2.3", "198.51.100.1", proxies) == "198.51.100.1"
    # the nearest untrusted hop: what the client put in front is not believed
    assert client_address("10.1.2.3", "1.2.3.4, 198.51.100.1, 10.9.9.9", proxies) == "198.51.100.1"
    assert client_address("10.1.2.3", "not-an-address", proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", None, proxies) == "10.1.2.3"


def test_ipv6_clients_count_per_64_network():
    assert client_address("2001:db8:1:2:aaaa::1", None, ()) == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:2:bbbb::9", None, ()) == "2001:db8:1:2::/64"
