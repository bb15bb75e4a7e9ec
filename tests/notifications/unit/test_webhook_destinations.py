"""Where a webhook may POST to: public addresses only, checked after DNS resolution, at
registration and again before each POST (the adapter's name lookup replaced by a stand-in)."""
import ipaddress
from datetime import datetime, timezone

import pytest

from services.notifications import webhook
from services.notifications.domain import address_problem, webhook_url_problem

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.0.1", "224.0.0.1",
    "255.255.255.255", "::1", "::", "fe80::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1", "64:ff9b::a00:1",
])
def test_addresses_that_are_not_public_are_refused(address):
    assert address_problem(ipaddress.ip_address(address), ()) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "64:ff9b::5db8:d822"])
def test_public_addresses_are_allowed(address):
    assert address_problem(ipaddress.ip_address(address), ()) is None


def test_the_allow_list_names_exceptions():
    assert address_problem(ipaddress.ip_address("127.0.0.1"), LOOPBACK) is None
    assert address_problem(ipaddress.ip_address("::ffff:127.0.0.1"), LOOPBACK) is None
    assert address_problem(ipaddress.ip_address("127.0.0.2"), LOOPBACK) is not None


@pytest.mark.parametrize("url, problem", [
    ("ftp://hooks.example.org/x", "http or https"), ("https://user:pw@hooks.example.org/x", "credentials"),
    ("https://:pw@hooks.example.org/x", "credentials"), ("http:///x", "host"),
    ("http://metadata.google.internal./x", "metadata"), ("http://hooks.example.org:99999/x", "port"),
])
def test_urls_refused_before_any_lookup(url, problem):
    assert problem in webhook_url_problem(url)


def test_a_name_that_resolves_inside_the_network_is_refused(monkeypatch):
    monkeypatch.setattr(webhook, "resolve", lambda host, port: [ipaddress.ip_address("93.184.216.34"),
                                                                ipaddress.ip_address("10.0.0.7")])
    assert "non-public" in webhook.destination_problem("https://hooks.example.org/x", ())


def test_a_name_that_does_not_resolve_is_refused(monkeypatch):
    def unknown(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(webhook, "resolve", unknown)
    assert webhook.destination_problem("https://hooks.example.org/x", ()) == "the host name does not resolve"


def test_dns_rebinding_after_registration_is_refused_before_the_post(monkeypatch):
    answers = iter([[ipaddress.ip_address("93.184.216.34")], [ipaddress.ip_address("169.254.169.254")]])
    monkeypatch.setattr(webhook, "resolve", lambda host, port: next(answers))
    connected = []
    monkeypatch.setattr(webhook.socket, "create_connection", lambda *args, **kwargs: connected.append(args))
    url = "http://hooks.example.org/x"
    assert webhook.destination_problem(url, ()) is None  # at registration: public
    delivery = {"id": "d1", "url": url, "secret": "s", "trigger_type": "Announcement", "trigger_event_id": "e1",
                "occurred_at": datetime.now(timezone.utc), "content": {}}
    assert webhook.post(delivery, timeout=1) == "destination refused"  # at send time: the metadata address
    assert connected == []


def test_any_exception_of_one_post_is_that_deliverys_failure(monkeypatch):
    def boom(*args):
        raise RuntimeError("a bug in a receiver's answer we did not foresee")

    monkeypatch.setattr(webhook, "_send", boom)
    delivery = {"id": "d1", "url": "http://hooks.example.org/x", "secret": "s", "trigger_type": "Announcement",
                "trigger_event_id": "e1", "occurred_at": datetime.now(timezone.utc), "content": {}}
    assert webhook.post_all([[delivery]], timeout=1) == [["failed"]]
