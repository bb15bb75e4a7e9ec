"""Prometheus configuration, alert rules (with promtool's unit tests) and the Grafana dashboard."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from shared.events import service_of
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
    local, kubernetes = (yaml.safe_load((PROMETHEUS / name).read_text())
                         for name in ("prometheus.yml", "prometheus-kubernetes.yml"))
    assert [job["job_name"] for job in local["scrape_configs"]] == [
        job["job_name"] for job in kubernetes["scrape_configs"]]
    assert local["rule_files"] == kubernetes["rule_files"] == ["alerts.yml"]


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
