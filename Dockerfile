# One image for every service; the Deployment picks the service (python -m shared.runner <name>)
# and its init container runs `smartcity migrate <name>`.
#
# Base image pinned by digest, so a rebuild gets the same bytes. To move to a newer base (security
# updates: monthly, or when a Debian or Python advisory says so):
#   docker buildx imagetools inspect python:3.11-slim-bookworm   # prints the current index digest
# put that digest into both FROM lines below, rebuild, run the tests, and commit (deploy/k8s/README.md,
# "Image"). tests/deploy checks that both stages use the same pinned base.

# --- build: the project and its pinned dependencies into a virtual environment -------------------
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/smartcity
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
# not editable: the code, its SQL migrations and mail templates land in site-packages, compiled
RUN /opt/smartcity/bin/pip install "setuptools>=68,<81" . \
 && /opt/smartcity/bin/python -m compileall -q /opt/smartcity

# --- run: the environment only, no build tools, no sources, not root ----------------------------
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
# checkov:skip=CKV_DOCKER_2: no HEALTHCHECK; Kubernetes probes /health/live and /health/ready on the service's own port
COPY --from=build /opt/smartcity /opt/smartcity
ENV PATH=/opt/smartcity/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
RUN groupadd --gid 10001 smartcity \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin smartcity
# runs with a read-only root filesystem: only /tmp (an emptyDir in the pod) is written
WORKDIR /tmp
USER 10001:10001
CMD ["python", "-m", "shared.runner", "ideas"]
