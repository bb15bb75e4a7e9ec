"""NetworkPolicies as rendered: default deny both ways, then only named peers."""
import ipaddress

import pytest

from tests.deploy.manifests import K8S, SERVICES, named, of_kind, render

METADATA = ipaddress.ip_address("169.254.169.254")
PRIVATE = ["10.1.2.3", "172.20.0.1", "192.168.1.1", "127.0.0.1", "100.64.0.1", "0.0.0.1", "fd00:ec2::254",
           "fe80::1", "::1", "::ffff:10.0.0.1"]


def policies():
    return of_kind(render(K8S), "NetworkPolicy")


def selects(policy, labels):
    return policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()


def pod_labels(service):
    return named(render(K8S), "Deployment", service)["spec"]["template"]["metadata"]["labels"]


def reachable(policies_of_pod, address, port):
    """Whether some egress rule lets the pod reach address:port through an ipBlock."""
    address = ipaddress.ip_address(address)
    for policy in policies_of_pod:
        for rule in policy["spec"].get("egress", []):
            if rule.get("ports") and not any(p.get("port") == port for p in rule["ports"]):
                continue
            for peer in rule.get("to", []):
                block = peer.get("ipBlock")
                if block and address.version == ipaddress.ip_network(block["cidr"]).version \
                        and address in ipaddress.ip_network(block["cidr"]) \
                        and not any(address in ipaddress.ip_network(e) for e in block.get("except", [])
                                    if ipaddress.ip_network(e).version == address.version):
                    return True
    return False


def test_everything_is_denied_unless_a_policy_allows_it():
    deny = named(render(K8S), "NetworkPolicy", "default-deny")["spec"]
    assert deny["podSelector"] == {} and sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny and "egress" not in deny


def test_every_rule_names_its_peers():
    for policy in policies():
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), f"{policy['metadata']['name']}: an ingress rule without `from` admits everyone"
        for rule in policy["spec"].get("egress", []):
            assert rule.get("to"), f"{policy['metadata']['name']}: an egress rule without `to` allows everywhere"
            assert rule.get("ports"), f"{policy['metadata']['name']}: an egress rule without ports"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_reaches_dns_its_pooler_rabbitmq_and_the_identity_provider(service):
    mine = [p for p in policies() if selects(p, pod_labels(service))]
    peers = [(peer, {port["port"] for port in rule["ports"]}) for p in mine
             for rule in p["spec"].get("egress", []) for peer in rule["to"]]
    assert any(peer.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"} and 53 in ports
               for peer, ports in peers)
    assert any(peer.get("podSelector", {}).get("matchLabels") == {"cnpg.io/poolerName": "smartcity-db-pooler"}
               and ports == {5432} for peer, ports in peers)
    assert any(peer.get("podSelector", {}).get("matchLabels") == {"app.kubernetes.io/name": "smartcity-rabbitmq"}
               and ports == {5672} for peer, ports in peers)
    assert reachable(mine, "203.0.113.10", 443), "JWKS of the identity provider (shared/auth.py)"
    assert not reachable(mine, METADATA, 80) and not reachable(mine, METADATA, 443)
    ingress = [rule for p in mine for rule in p["spec"].get("ingress", [])]
    namespaces = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                  for rule in ingress for peer in rule["from"]}
    assert namespaces == {"ingress-nginx", "monitoring"}


def test_notifications_reaches_smtp_and_public_webhooks_but_no_private_or_metadata_address():
    mine = [p for p in policies() if selects(p, pod_labels("notifications"))]
    assert reachable(mine, "198.51.100.25", 587)
    assert reachable(mine, "93.184.216.34", 443) and reachable(mine, "2606:2800:220:1::1", 443)
    for address in [METADATA] + PRIVATE:
        for port in (80, 443):
            assert not reachable(mine, address, port), f"notifications may reach {address}:{port}"
    for service in ("ideas", "voting", "reporting"):
        theirs = [p for p in policies() if selects(p, pod_labels(service))]
        assert not reachable(theirs, "93.184.216.34", 443), f"{service} may reach the internet"


def test_the_database_and_broker_accept_clients_only_from_the_services():
    docs = render(K8S)
    own = {"postgres-pooler": {}, "rabbitmq": {"app.kubernetes.io/name": "smartcity-rabbitmq"}}
    for name, port in (("postgres-pooler", 5432), ("rabbitmq", 5672)):
        rules = [r for r in named(docs, "NetworkPolicy", name)["spec"]["ingress"]
                 if any(p["port"] == port for p in r["ports"])]
        peers = [peer["podSelector"]["matchLabels"] for rule in rules for peer in rule["from"]]
        assert {"app.kubernetes.io/component": "service"} in peers
        assert all(labels in ({"app.kubernetes.io/component": "service"}, own[name]) for labels in peers), peers
        assert not any("namespaceSelector" in peer for rule in rules for peer in rule["from"])
