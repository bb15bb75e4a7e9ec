"""checkov (static security analysis) on the rendered manifests and the Dockerfile: no failure, and
every finding we accept is skipped in the manifests with its reason written next to it."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.manifests import K8S, ROOT, rendered_text

# Installed by `make venv` into a virtual environment of its own (its pins clash with ours).
CHECKOV = Path(sys.prefix) / "tools" / "checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory):
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make venv`")
    folder = tmp_path_factory.mktemp("checkov")
    (folder / "smartcity.yaml").write_text(rendered_text(K8S))
    (folder / "Dockerfile").write_text((ROOT / "Dockerfile").read_text())
    result = subprocess.run([str(CHECKOV), "--directory", str(folder), "--framework", "kubernetes", "dockerfile",
                             "--skip-download", "--output", "json"], capture_output=True, text=True, timeout=300)
    reports = json.loads(result.stdout)
    return {report["check_type"]: report for report in (reports if isinstance(reports, list) else [reports])}


@pytest.mark.parametrize("framework", ["kubernetes", "dockerfile"])
def test_checkov_finds_nothing_that_is_not_skipped_with_a_reason(checkov_report, framework):
    report = checkov_report[framework]
    assert report["summary"]["parsing_errors"] == 0
    failed = [(c["check_id"], c["resource"], c["check_name"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > (300 if framework == "kubernetes" else 50)
    for check in report["results"]["skipped_checks"]:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} on {check['resource']} is skipped without a reason"


def test_the_accepted_findings_are_the_documented_ones(checkov_report):
    skipped = {(r, c["check_id"]) for r, report in checkov_report.items() for c in report["results"]["skipped_checks"]}
    assert {check for _, check in skipped} == {"CKV_K8S_11", "CKV_K8S_15", "CKV_K8S_35", "CKV_K8S_43", "CKV_DOCKER_2"}
