"""Prometheus configuration, alert rules (with promtool's unit tests) and the Grafana dashboard."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts import k8s_monitoring
from shared.events import service_of
from tests.deploy.manifests import K8S, named, of_kind, render
from tests.reporting.helpers import wait_applied
from tests.reporting.test_api import scenario

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "smartcity.json"
METRIC_NAME = re.compile(r"\b(smartcity_[a-z_]+)")
SUFFIXES = re.compile(r"_(total|bucket|sum|count|created)$")


def promtool(*args, cwd=PROMETHEUS):
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (scripts/ensure_infra.sh installs Debian's prometheus as root)")
    result = subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def dashboard_expressions():
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_the_scrape_configuration_is_valid():
    promtool("check", "config", "prometheus.yml")
    assert yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())["rule_files"] == ["alerts.yml"]


def test_kubernetes_scrapes_the_same_jobs_with_the_same_labels_as_the_local_configuration():
    """The alert rules and the dashboard use `job`, `service` and `pod`: the ServiceMonitors must give them."""
    local = [job["job_name"] for job in yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())["scrape_configs"]]
    docs = render(K8S)
    jobs = [relabel["replacement"] for monitor in of_kind(docs, "ServiceMonitor")
            for endpoint in monitor["spec"]["endpoints"] for relabel in endpoint["relabelings"]
            if relabel["targetLabel"] == "job"]
    assert sorted(jobs) == sorted(local)
    services = named(docs, "ServiceMonitor", "smartcity-services")["spec"]
    for service in of_kind(docs, "Service"):
        assert services["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert [port["name"] for port in service["spec"]["ports"]] == [services["endpoints"][0]["port"]]
    rabbitmq = named(docs, "ServiceMonitor", "smartcity-rabbitmq")["spec"]["endpoints"][0]
    assert rabbitmq["path"] == "/metrics/per-object"  # queue depths per queue, as the alerts need
    annotated = [d for d in of_kind(docs, "Deployment")
                 if any(k.startswith("prometheus.io/") for k in d["spec"]["template"]["metadata"].get("annotations", {}))]
    assert annotated == [], "kube-prometheus-stack ignores scrape annotations: ServiceMonitors only"


@pytest.mark.parametrize("name", sorted(k8s_monitoring.FILES))
def test_the_kubernetes_alert_rules_and_dashboard_are_generated_from_their_sources(name):
    assert (k8s_monitoring.OUT / name).read_text() == k8s_monitoring.FILES[name](), \
        "out of date: run `make deploy-monitoring` and commit the result"


def test_the_prometheus_rule_carries_every_alert():
    rule = named(render(K8S), "PrometheusRule", "smartcity")
    assert rule["spec"]["groups"] == yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    dashboard = named(render(K8S), "ConfigMap", "smartcity-grafana-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["smartcity.json"]) == json.loads(DASHBOARD.read_text())


def test_the_alert_rules_pass_their_unit_tests():
    promtool("check", "rules", "alerts.yml")
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")
    alerts = {rule["alert"] for group in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
              for rule in group["rules"]}
    tested = {test["alertname"] for case in yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
              for test in case["alert_rule_test"]}
    assert alerts == tested


def test_every_dashboard_query_is_valid_promql(tmp_path):
    """promtool parses each panel query as a recording rule (Grafana's variables filled in)."""
    rules = [{"record": f"dashboard:panel_{i}", "expr": expr.replace("$__rate_interval", "5m")
              .replace("$municipality", ".*")} for i, expr in enumerate(dashboard_expressions())]
    (tmp_path / "dashboard_rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "d", "rules": rules}]}))
    promtool("check", "rules", "dashboard_rules.yml", cwd=tmp_path)
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)


@pytest.mark.integration
def test_every_smartcity_metric_the_dashboard_and_alerts_use_is_exported(reporting_api, reporting_sql,
                                                                          publish_event):
    events = scenario()
    for event in events:
        publish_event(service_of(event["type"]), event["type"], envelope=event)
    wait_applied(reporting_sql, len(events))
    exposition = reporting_api("GET", "/metrics").text
    exported = {SUFFIXES.sub("", line.split()[2]) for line in exposition.splitlines() if line.startswith("# TYPE")}
    used = set(METRIC_NAME.findall(" ".join(dashboard_expressions()) + (PROMETHEUS / "alerts.yml").read_text()))
    assert {SUFFIXES.sub("", name) for name in used} <= exported
