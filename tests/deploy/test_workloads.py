"""The services' workloads as rendered: hardened, probed, autoscaled without fighting the
autoscaler, stopped gracefully, migrated as the owner role before they start, connected within the
database's connection budget, and given only Secrets that the runbook's script creates."""
import re
import subprocess

import pytest
import yaml

from shared import registry
from shared.db import UnitOfWorkProvider
from shared.runner import STOP_TIMEOUT
from tests.deploy.manifests import (CONSUMERS, HTTP_SERVICES, K8S, SERVICES, containers, env_of, named, of_kind,
                                    render)

RELAY_CONNECTIONS = 2   # shared/db.py: the outbox relay's own Pool(..., 2) in every emitting service
CNPG_INTERNAL = 10      # deploy/k8s/components/platform/postgres.yaml: operator, exporter, pooler auth
OPERATOR_HEADROOM = 10  # the same file: room for an operator's psql


def deployment(name):
    return named(render(K8S), "Deployment", name)


def max_replicas(docs, service):
    hpas = [h for h in of_kind(docs, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == service]
    scaled = [s for s in of_kind(docs, "ScaledObject") if s["spec"]["scaleTargetRef"]["name"] == service]
    assert len(hpas) + len(scaled) == 1, f"{service} needs exactly one autoscaler"
    return hpas[0]["spec"]["maxReplicas"] if hpas else scaled[0]["spec"]["maxReplicaCount"]


def settings_of(docs, container):
    """The container's environment from its ConfigMaps and literal values (Secrets left out)."""
    settings = {}
    for source in container.get("envFrom", []):
        settings.update(named(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    settings.update({name: var["value"] for name, var in env_of(container).items() if "value" in var})
    return settings


def connections_per_pod(docs, service):
    """PostgreSQL connections a pod keeps open: each unit-of-work pool, plus the relay's if it emits."""
    settings = settings_of(docs, containers(named(docs, "Deployment", service))[0])
    pool = int(settings.get(f"SMARTCITY_{service.upper()}_DB_POOL_SIZE", settings.get("SMARTCITY_DB_POOL_SIZE", 10)))
    service_class = registry.spec(service).load_class()
    providers = [getattr(service_class, name) for name in dir(service_class)
                 if isinstance(getattr(service_class, name), UnitOfWorkProvider)]
    assert providers, f"{service} has no database pool"
    return sum(pool + (RELAY_CONNECTIONS if provider.emits else 0) for provider in providers)


@pytest.mark.parametrize("service", SERVICES)
def test_the_service_pods_are_hardened_and_probed(service):
    pod = deployment(service)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["volumeMounts"] == [{"mountPath": "/tmp", "name": "tmp"}]
    for container in pod["containers"] + pod["initContainers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        assert container["image"].startswith("registry.example.org/smartcity/smartcity:")
        for name, variable in env_of(container).items():
            if re.search(r"URL|URI|SECRET|PASSWORD|KEY", name) and "ADDRESS" not in name:
                assert "secretKeyRef" in variable.get("valueFrom", {}), f"{name} must come from a Secret"
    service_container = pod["containers"][0]
    assert service_container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert service_container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert service_container["startupProbe"]["httpGet"]["path"] == "/health/live"


@pytest.mark.parametrize("service", SERVICES)
def test_a_stopping_pod_finishes_its_work_before_it_is_killed(service):
    pod = deployment(service)["spec"]["template"]["spec"]
    pause = int(pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pause >= 3, "the pause lets endpoints and ingress drop the pod before it stops taking requests"
    assert pod["terminationGracePeriodSeconds"] > pause + STOP_TIMEOUT


@pytest.mark.parametrize("service", SERVICES)
def test_replicas_belong_to_the_autoscaler_and_pods_spread_over_zones(service):
    docs = render(K8S)
    spec = named(docs, "Deployment", service)["spec"]
    assert "replicas" not in spec, "a `replicas:` would reset the autoscaler's choice on every apply"
    assert max_replicas(docs, service) >= 2
    keys = {c["topologyKey"] for c in spec["template"]["spec"]["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    budget = named(docs, "PodDisruptionBudget", service)["spec"]
    assert budget["selector"]["matchLabels"] == spec["selector"]["matchLabels"]
    if service in HTTP_SERVICES:
        assert named(docs, "HorizontalPodAutoscaler", service)["spec"]["minReplicas"] >= 2
    else:
        assert service in CONSUMERS
        scaled = named(docs, "ScaledObject", service)["spec"]
        assert scaled["minReplicaCount"] >= 2
        assert [t["type"] for t in scaled["triggers"]] == ["rabbitmq"]


@pytest.mark.parametrize("service", CONSUMERS)
def test_keda_counts_the_consumers_queues_and_not_their_retry_queues(service):
    trigger = named(render(K8S), "ScaledObject", service)["spec"]["triggers"][0]["metadata"]
    assert trigger["useRegex"] == "true" and trigger["operation"] == "sum"
    pattern = re.compile(trigger["queueName"])
    service_class = registry.spec(service).load_class()
    from shared.subscriber import EventSubscriber

    queues = [entrypoint.queue_name(service, name) for name in dir(service_class)
              for entrypoint in getattr(getattr(service_class, name), "nameko_entrypoints", ())
              if isinstance(entrypoint, EventSubscriber)]
    assert queues
    for queue in queues:
        assert pattern.match(queue), queue
        assert not pattern.match(f"{queue}.retry.1000ms")
    assert not pattern.match(f"{service}.dead-letter")
    other = next(s for s in CONSUMERS if s != service)
    assert not any(pattern.match(q.replace(f"--{service}.", f"--{other}.")) for q in queues)


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_run_as_the_owner_before_the_service_which_runs_as_the_runtime_role(service):
    pod = deployment(service)["spec"]["template"]["spec"]
    (migrate,) = pod["initContainers"]
    assert migrate["args"] == ["smartcity", "migrate", service]
    prefix = f"SMARTCITY_{service.upper()}_"
    assert env_of(migrate)[f"{prefix}MIGRATION_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": f"smartcity-{service}", "key": "MIGRATION_DATABASE_URL"}
    assert not any("DATABASE_URL" in name and "MIGRATION" not in name for name in env_of(migrate))
    (container,) = pod["containers"]
    assert container["args"] == ["python", "-m", "shared.runner", service]
    env = env_of(container)
    assert env[f"{prefix}DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": f"smartcity-{service}", "key": "DATABASE_URL"}
    assert env[f"{prefix}AMQP_URI"]["valueFrom"]["secretKeyRef"] == {"name": f"smartcity-{service}", "key": "AMQP_URI"}
    assert not any("MIGRATION" in name for name in env), "the service container never gets the owner role"


def test_the_database_connection_budget_holds_at_the_autoscalers_maximum():
    docs = render(K8S)
    parameters = of_kind(docs, "Cluster")[0]["spec"]["postgresql"]["parameters"]
    pooler = of_kind(docs, "Pooler")[0]["spec"]
    bouncer = pooler["pgbouncer"]["parameters"]
    assert pooler["pgbouncer"]["poolMode"] == "transaction"
    databases = len(of_kind(docs, "Database"))
    server = pooler["instances"] * databases * (int(bouncer["default_pool_size"]) + int(bouncer["reserve_pool_size"]))
    starting = sum(max_replicas(docs, s) for s in SERVICES)  # worst case: every pod's migrate at once
    available = int(parameters["max_connections"]) - int(parameters["superuser_reserved_connections"])
    assert server + starting + CNPG_INTERNAL + OPERATOR_HEADROOM <= available
    clients = sum(max_replicas(docs, s) * connections_per_pod(docs, s) for s in SERVICES)
    assert clients <= int(bouncer["max_client_conn"]), "one pooler instance alone must take every pod"
    assert clients > available, "without the pooler the services would not fit: the budget is the reason for it"


def test_databases_and_roles_follow_the_naming_convention():
    docs = render(K8S)
    cluster = of_kind(docs, "Cluster")[0]["spec"]
    roles = {role["name"]: role for role in cluster["managed"]["roles"]}
    for service in SERVICES:
        database = named(docs, "Database", f"smartcity-{service}")["spec"]
        assert database["name"] == f"smartcity_{service}"
        assert database["owner"] == f"smartcity_{service}_owner"
        for kind in ("owner", "app"):
            role = roles[f"smartcity_{service}_{kind}"]
            assert role["login"] is True and role["ensure"] == "present"
            assert role["passwordSecret"]["name"] == f"smartcity-{service}-db-{kind}"
            assert not role.get("superuser") and not role.get("createdb") and not role.get("createrole")


def rendered_secrets(tmp_path, generate=True):
    for name, content in {"smtp-password": "relay", "backup/ACCESS_KEY_ID": "AKIA", "backup/ACCESS_SECRET_KEY": "s"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content + "\n")
    result = subprocess.run(["bash", str(K8S / "secrets.sh"), *(["--generate"] if generate else []), str(tmp_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def decoded(secret):
    import base64

    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_the_secrets_script_makes_every_secret_the_manifests_use(tmp_path):
    import kubernetes_validate

    secrets = {s["metadata"]["name"]: s for s in rendered_secrets(tmp_path)}
    for secret in secrets.values():
        kubernetes_validate.validate(secret, "1.31.0", strict=True)
        assert secret["metadata"]["namespace"] == "smartcity"
    used = set()
    for doc in render(K8S):
        text = yaml.safe_dump(doc)
        for match in re.finditer(r"secretKeyRef:\n\s+key: (\S+)\n\s+name: (\S+)", text):
            used.add((match.group(2), match.group(1)))
        if doc["kind"] == "User":
            used |= {(doc["spec"]["importCredentialsSecret"]["name"], "username"),
                     (doc["spec"]["importCredentialsSecret"]["name"], "password")}
        if doc["kind"] == "Cluster":
            used |= {(role["passwordSecret"]["name"], key) for role in doc["spec"]["managed"]["roles"]
                     for key in ("username", "password")}
        if doc["kind"] == "TriggerAuthentication":
            used |= {(ref["name"], ref["key"]) for ref in doc["spec"]["secretTargetRef"]}
        if doc["kind"] == "ObjectStore":
            used |= {(ref["name"], ref["key"]) for ref in doc["spec"]["configuration"]["s3Credentials"].values()}
    missing = {(name, key) for name, key in used if name not in secrets or key not in secrets[name]["data"]}
    assert used and not missing
    for doc in render(K8S):
        if doc["kind"] == "User":
            labels = secrets[doc["spec"]["importCredentialsSecret"]["name"]]["metadata"]["labels"]
            assert labels["rabbitmq.com/topology-operator"] == "true"


@pytest.mark.parametrize("service", SERVICES)
def test_each_services_secret_holds_its_own_identities(tmp_path, service):
    from urllib.parse import urlsplit

    secrets = {s["metadata"]["name"]: decoded(s) for s in rendered_secrets(tmp_path)}
    own = secrets[f"smartcity-{service}"]
    assert set(own) == {"AMQP_URI", "DATABASE_URL", "MIGRATION_DATABASE_URL"}
    amqp, runtime, owner = (urlsplit(own[key]) for key in ("AMQP_URI", "DATABASE_URL", "MIGRATION_DATABASE_URL"))
    assert (amqp.username, amqp.password) == (service, secrets[f"smartcity-{service}-rabbitmq"]["password"])
    assert secrets[f"smartcity-{service}-rabbitmq"]["username"] == service
    for url, kind, host in ((runtime, "app", "smartcity-db-pooler"), (owner, "owner", "smartcity-db-rw")):
        credentials = secrets[f"smartcity-{service}-db-{kind}"]
        assert (url.username, url.password) == (credentials["username"], credentials["password"])
        assert url.username == f"smartcity_{service}_{kind}"
        assert url.path == f"/smartcity_{service}" and url.hostname.startswith(f"{host}.")
    others = [s for s in SERVICES if s != service]
    assert all(secrets[f"smartcity-{o}-rabbitmq"]["password"] != amqp.password for o in others)


def test_the_secrets_script_refuses_missing_values_and_unsafe_passwords(tmp_path):
    rendered_secrets(tmp_path)
    (tmp_path / "voting" / "db-app-password").write_text("p@ss/word\n")
    result = subprocess.run(["bash", str(K8S / "secrets.sh"), str(tmp_path)], capture_output=True, text=True)
    assert result.returncode != 0 and "db-app-password" in result.stderr
    (tmp_path / "voting" / "db-app-password").unlink()
    result = subprocess.run(["bash", str(K8S / "secrets.sh"), str(tmp_path)], capture_output=True, text=True)
    assert result.returncode != 0 and "missing" in result.stderr
