"""The Kubernetes manifests, validated offline: schemas of the Kubernetes API and our own rules."""
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"
CUSTOM_KINDS = {"RabbitmqCluster", "Cluster", "Kustomization", "Component"}


def documents():
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path.relative_to(K8S), doc


def of_kind(kind):
    return [doc for _, doc in documents() if doc["kind"] == kind]


@pytest.mark.parametrize("path,doc", [(str(p), d) for p, d in documents() if d["kind"] not in CUSTOM_KINDS])
def test_every_manifest_validates_against_the_kubernetes_schema(path, doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomizations_list_only_files_that_exist():
    for path, doc in documents():
        if doc["kind"] in ("Kustomization", "Component"):
            for entry in doc.get("resources", []) + doc.get("components", []):
                assert (K8S / path.parent / entry).exists(), f"{path}: {entry} missing"


@pytest.mark.parametrize("deployment", of_kind("Deployment"), ids=lambda d: d["metadata"]["name"])
def test_deployments_are_hardened_and_probed(deployment):
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert deployment["spec"]["replicas"] >= 2
    for container in pod["containers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        for variable in container.get("env", []):
            name = variable["name"]
            if any(word in name for word in ("URL", "URI", "SECRET", "PASSWORD")) and "ADDRESS" not in name:
                assert "valueFrom" in variable, f"{name} must come from a Secret, not a literal"


@pytest.mark.parametrize("deployment", of_kind("Deployment"), ids=lambda d: d["metadata"]["name"])
def test_each_deployment_has_a_disruption_budget_and_its_own_autoscaler(deployment):
    name = deployment["metadata"]["name"]
    assert any(p["metadata"]["name"] == name for p in of_kind("PodDisruptionBudget"))
    assert any(h["spec"]["scaleTargetRef"]["name"] == name for h in of_kind("HorizontalPodAutoscaler"))


def test_no_secret_values_in_the_repository():
    assert of_kind("Secret") == []
