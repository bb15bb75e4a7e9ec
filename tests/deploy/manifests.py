"""The Kubernetes manifests as an ops team applies them: rendered by `kubectl kustomize`, never
read from the raw files alone (a component's objects, namespaces, generated names and patches
exist only in the rendered output)."""
import copy
import functools
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
CRDS = Path(__file__).resolve().parent / "crds"
NAMESPACE = "smartcity"
SERVICES = ("ideas", "voting", "notifications", "reporting")
HTTP_SERVICES = ("ideas", "voting")          # scaled on CPU by an HPA
CONSUMERS = ("notifications", "reporting")  # scaled on queue length by KEDA


def entry_points():
    """Every directory `kubectl kustomize` can render (Kustomizations, not Components)."""
    return sorted(path.parent for path in K8S.rglob("kustomization.yaml")
                  if yaml.safe_load(path.read_text())["kind"] == "Kustomization")


def kubectl():
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail("kubectl is not installed: the deploy tests render the manifests with `kubectl kustomize` "
                    "(kubectl 1.32 with kustomize 5.5; Debian package `kubectl`, see scripts/ensure_infra.sh)")
    return path


@functools.cache
def _render(directory):
    result = subprocess.run([kubectl(), "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize {directory}: {result.stderr}"
    return result.stdout


@functools.cache
def _parsed(directory):
    return [doc for doc in yaml.load_all(_render(directory), Loader=yaml.CSafeLoader) if doc]


def render(directory=K8S):
    """The objects of one entry point (a fresh copy: tests may change them)."""
    return copy.deepcopy(_parsed(Path(directory)))


def rendered_text(directory=K8S):
    return _render(Path(directory))


def of_kind(docs, kind):
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs, kind, name):
    matches = [doc for doc in docs if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} objects"
    return matches[0]


def containers(deployment, init=False):
    spec = deployment["spec"]["template"]["spec"]
    return spec.get("initContainers", []) if init else spec["containers"]


def env_of(container):
    return {variable["name"]: variable for variable in container.get("env", [])}


# --- custom resources against their operators' CRD schemas ----------------------------------------

def _reject_unknown_fields(schema):
    """As the API server prunes or (with fieldValidation=Strict) refuses unknown fields: every object
    with declared properties admits only those, unless it says it keeps unknown fields."""
    if isinstance(schema, dict):
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        for value in schema.values():
            _reject_unknown_fields(value)
    elif isinstance(schema, list):
        for value in schema:
            _reject_unknown_fields(value)
    return schema


@functools.cache
def crd_schemas():
    """{(apiVersion, kind): strict JSON schema} of every vendored CRD (tests/deploy/crds/SOURCES.md)."""
    schemas = {}
    for path in sorted(CRDS.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd:
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                schema = _reject_unknown_fields(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = schema
    return schemas


def custom_resource_errors(doc):
    """Messages of every schema violation of a custom resource (OpenAPI 3.0 is JSON Schema draft 4)."""
    schema = crd_schemas()[(doc["apiVersion"], doc["kind"])]
    validator = jsonschema.Draft4Validator(schema)
    return [f"{'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator.iter_errors(doc)]
