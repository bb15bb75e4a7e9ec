# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# checkov (tests/deploy) in a virtual environment of its own: its pinned dependencies clash with ours.
CHECKOV       := checkov==3.3.30
CHECKOV_STAMP := $(VENV)/tools/checkov/.installed

.PHONY: run test unit venv node infra provision migrate contract deploy-monitoring screenshots drill bench bench-smoke bench-ideas bench-voting bench-notifications bench-reporting clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=23" "setuptools>=68,<81" wheel
	$(BIN)/pip install -q -e ".[test,bench]"
	@touch $(STAMP)

$(CHECKOV_STAMP): Makefile
	@test -x $(VENV)/tools/checkov/bin/python || $(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/pip install -q --upgrade "pip>=23"
	$(VENV)/tools/checkov/bin/pip install -q "$(CHECKOV)"
	@touch $(CHECKOV_STAMP)

venv: $(STAMP) $(CHECKOV_STAMP)

# The tests' npm packages (the official AsyncAPI parser; axe-core and playwright-core for the browser
# tests), exactly as package-lock.json pins them, no install scripts. No browser download: the tests
# drive Debian's Chromium (scripts/ensure_infra.sh installs it).
$(NODE_STAMP): package.json package-lock.json
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $(NODE_STAMP)

node: $(NODE_STAMP)

infra:
	@bash scripts/ensure_infra.sh

## Broker users, permissions and database roles of every service (idempotent; `make run` does it too).
provision: venv infra
	$(BIN)/smartcity provision --subscriber city-portal

migrate: provision
	$(BIN)/smartcity migrate

## Start every service with demo data; Ctrl-C stops them all.
run: venv infra
	$(BIN)/python -m scripts.run_all

## The whole test suite: unit, contract, integration, end-to-end and browser on the real broker and database,
## then a smoke run of every benchmark (its checks, no speed targets) so none of them rots.
test: venv node infra
	$(BIN)/nameko test --suppress-nameko-eventlet-notification -q -rs tests
	$(BIN)/python -m bench.smoke

## Pictures of the pages for the README (docs/screenshots/): the browser tests, saving what they see.
screenshots: venv node infra
	mkdir -p docs/screenshots
	SMARTCITY_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/nameko test --suppress-nameko-eventlet-notification -q \
		tests/reporting/test_dashboard.py tests/notifications/test_pages.py -k "axe or opt_in_mail"

## Pure unit tests only: domain rules and every use case against in-memory fakes (no broker, no database).
unit: venv node
	$(BIN)/nameko test --suppress-nameko-eventlet-notification -q tests -m "not integration"

## Fault drills (docs/reliability.md): a three-node RabbitMQ cluster and a PostgreSQL of their own, every
## scenario under load at full length; prints the table and writes it into docs/reliability.md.
drill: venv infra
	$(BIN)/python -m scripts.drills --write-doc --json bench/results/drills.json

## Regenerate docs/events from the marshmallow schemas.
contract: venv
	$(BIN)/smartcity contract --write

## Regenerate the Kubernetes PrometheusRule and Grafana ConfigMap from deploy/prometheus/alerts.yml and deploy/grafana/.
deploy-monitoring: venv
	$(BIN)/python -m scripts.k8s_monitoring

## Every benchmark in bench/, one after another (each prints its figures and ratio to a raw baseline);
## all four run even when one misses a target, and the exit status says whether any did.
bench: venv infra
	$(BIN)/python -m bench.all

## Each benchmark for about a second with all its correctness checks and no speed targets (part of `make test`).
bench-smoke: venv infra
	$(BIN)/python -m bench.smoke

bench-ideas: venv infra
	$(BIN)/python -m bench.ideas_throughput

bench-voting: venv infra
	$(BIN)/python -m bench.voting_throughput

bench-notifications: venv infra
	$(BIN)/python -m bench.notifications_fanout

bench-reporting: venv infra
	$(BIN)/python -m bench.reporting_throughput

clean:
	rm -rf $(VENV) node_modules
