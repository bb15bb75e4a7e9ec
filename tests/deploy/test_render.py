"""Every entry point renders; every object lands in namespace smartcity; core objects pass the
Kubernetes API schemas (strict) of every supported version; custom resources pass their operators'
CRD schemas with unknown fields rejected."""
import kubernetes_validate
import pytest

from tests.deploy.manifests import (K8S, NAMESPACE, crd_schemas, custom_resource_errors, entry_points, render)

SUPPORTED_KUBERNETES = ("1.29.0", "1.30.0", "1.31.0")
CLUSTER_SCOPED = {"Namespace"}
# Each operator's kinds that the deploy uses; all of them must be there and validated.
CUSTOM_KINDS = {"Cluster", "Database", "Pooler", "ScheduledBackup", "ObjectStore", "RabbitmqCluster", "User",
                "Permission", "TopicPermission", "Policy", "ScaledObject", "TriggerAuthentication",
                "ServiceMonitor", "PodMonitor", "PrometheusRule"}


def all_objects():
    return [(entry.relative_to(K8S.parent).as_posix(), doc) for entry in entry_points() for doc in render(entry)]


def object_id(param):
    return f"{param[0]}:{param[1]['kind']}/{param[1]['metadata']['name']}" if isinstance(param, tuple) else None


def test_the_entry_points_are_production_and_its_parts():
    assert {entry.relative_to(K8S).as_posix() for entry in entry_points()} >= {".", "base"}
    kinds = {doc["kind"] for doc in render(K8S)}
    assert CUSTOM_KINDS <= kinds, f"production lacks {CUSTOM_KINDS - kinds}"


@pytest.mark.parametrize("entry", entry_points(), ids=lambda p: p.relative_to(K8S.parent).as_posix())
def test_every_object_is_in_the_smartcity_namespace(entry):
    for doc in render(entry):
        metadata = doc["metadata"]
        if doc["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in metadata
        else:
            assert metadata.get("namespace") == NAMESPACE, f"{doc['kind']}/{metadata['name']} lands in " \
                                                           f"{metadata.get('namespace', 'default')}"
        assert metadata["labels"]["app.kubernetes.io/part-of"] == "smartcity"


@pytest.mark.parametrize("version", SUPPORTED_KUBERNETES)
def test_core_objects_pass_the_kubernetes_schema_strictly(version):
    checked = 0
    for entry, doc in all_objects():
        if (doc["apiVersion"], doc["kind"]) not in crd_schemas():
            kubernetes_validate.validate(doc, version, strict=True)
            checked += 1
    assert checked > 30


def test_custom_resources_pass_their_operators_crd_schemas():
    problems, seen = [], set()
    for entry, doc in all_objects():
        if (doc["apiVersion"], doc["kind"]) in crd_schemas():
            seen.add(doc["kind"])
            problems += [f"{entry}:{doc['kind']}/{doc['metadata']['name']}: {error}"
                         for error in custom_resource_errors(doc)]
    assert problems == []
    assert CUSTOM_KINDS <= seen


def test_the_crd_check_rejects_unknown_fields_and_wrong_types():
    """The check above could pass vacuously; here it must fail."""
    cluster = next(doc for doc in render(K8S) if doc["kind"] == "Cluster")
    cluster["spec"]["instancez"] = 3
    cluster["spec"]["postgresql"]["parameterz"] = {}
    assert any("instancez" in error for error in custom_resource_errors(cluster))
    assert any("parameterz" in error for error in custom_resource_errors(cluster))
    scaled = next(doc for doc in render(K8S) if doc["kind"] == "ScaledObject")
    scaled["spec"]["maxReplicaCount"] = "six"
    assert any("maxReplicaCount" in error for error in custom_resource_errors(scaled))
    assert custom_resource_errors(next(doc for doc in render(K8S) if doc["kind"] == "Cluster")) == []


def test_the_runbooks_examples_pass_their_schemas_too():
    """The restore drill's Cluster (and any other YAML example) in deploy/k8s/README.md."""
    import re

    import yaml

    blocks = re.findall(r"```yaml\n(.*?)```", (K8S / "README.md").read_text(), re.DOTALL)
    assert blocks
    for block in blocks:
        doc = yaml.safe_load(block)
        assert custom_resource_errors(doc) == [], block


def test_no_secret_value_is_in_the_repository():
    """Secrets are made from files by deploy/k8s/secrets.sh, never rendered from the repository."""
    for entry, doc in all_objects():
        assert doc["kind"] != "Secret", f"{entry}: Secret/{doc['metadata']['name']}"
