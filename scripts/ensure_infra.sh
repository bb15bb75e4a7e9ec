#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ answer on their configured host/port.
# Starts them when installed but stopped; installs them with apt when running as root
# on Debian/Ubuntu and they are missing; otherwise stops with a message saying what to do.
# Also installs the test tools promtool (Debian's prometheus), headless Chromium, kubectl and Node.js
# (for the official AsyncAPI parser).
set -euo pipefail

PG_HOST=${SMARTCITY_PG_HOST:-127.0.0.1}
PG_PORT=${SMARTCITY_PG_PORT:-5432}
AMQP_HOST=${SMARTCITY_AMQP_HOST:-127.0.0.1}
AMQP_PORT=${SMARTCITY_AMQP_PORT:-5672}

say() { printf '[infra] %s\n' "$*" >&2; }

reachable() {  # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_for() {  # name host port seconds
  local i
  for ((i = 0; i < $4; i++)); do
    reachable "$2" "$3" && return 0
    sleep 1
  done
  say "$1 did not answer on $2:$3 within $4 s"
  return 1
}

classic_durable_queues() {  # vhost: names of its durable classic queues, except nameko's RPC reply queues
  rabbitmqctl -q list_queues -p "$1" --no-table-headers name type durable 2>/dev/null |
    awk -F '\t' '$2 == "classic" && $3 == "true" && $1 !~ /^rpc\.reply-/ { print $1 }'
}

# The names of the queues the services declare (shared/queues.py): subscriptions and their retry
# queues, dead-letter queues, RPC request queues.
SERVICE_QUEUES='^(evt-.+--.+|[a-z0-9_-]+\.dead-letter|rpc-[a-z0-9_-]+)$'

run_vhost_of() {  # amqp URI: its vhost ("/" when it names none), percent-decoded
  local path=${1#*://}
  path=${path#*/}
  path=${path%%\?*}
  [[ $1 == *://*/* && -n $path ]] || { echo /; return; }
  printf '%b\n' "${path//%/\\x}"
}

is_local() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }

can_apt() { [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; }

apt_install() {
  say "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "$@" >/dev/null
}

trust_loopback() {
  # A fresh Debian cluster asks for passwords on TCP; the development defaults connect as
  # "postgres" without one, so a cluster installed here trusts loopback only.
  local hba
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  done
}

start_postgres() {
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    if can_apt; then
      apt_install postgresql
      trust_loopback
    else
      say "PostgreSQL is not installed. Install it (apt-get install postgresql) or point SMARTCITY_PG_HOST/PORT at a running server."
      exit 1
    fi
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "starting PostgreSQL $version"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
}

start_rabbitmq() {
  if ! command -v rabbitmq-server >/dev/null; then
    if can_apt; then apt_install rabbitmq-server; else
      say "RabbitMQ is not installed. Install it (apt-get install rabbitmq-server) or point SMARTCITY_AMQP_HOST/PORT at a running broker."
      exit 1
    fi
  fi
  say "starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
}

without_service_start() {  # command...: run it with Debian's service starts suppressed
  # Installing Debian's prometheus would start a Prometheus server on :9090; the tests only need
  # promtool. A policy-rc.d answering 101 tells the package scripts not to start anything.
  local policy=/usr/sbin/policy-rc.d
  if [[ -e $policy ]]; then "$@"; return; fi
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  local status=0
  "$@" || status=$?
  rm -f "$policy"
  return $status
}

ensure_test_tools() {
  local missing=()
  command -v promtool >/dev/null || missing+=(prometheus)
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v npm >/dev/null || missing+=(nodejs npm)
  ((${#missing[@]})) || return 0
  if can_apt; then
    without_service_start apt_install --no-install-recommends "${missing[@]}"
  else
    say "missing ${missing[*]} (promtool, headless Chromium and Node.js for the tests): apt-get install ${missing[*]}"
  fi
}

ensure_kubectl() {
  # tests/deploy renders the manifests with `kubectl kustomize` (kubectl 1.32 / kustomize 5.5);
  # installed where the machine's apt sources carry it, else the tests say it is missing.
  command -v kubectl >/dev/null && return 0
  if can_apt && apt-cache show kubectl >/dev/null 2>&1; then
    apt_install kubectl
  else
    say "kubectl is missing: the deploy tests need it (install the Debian package kubectl)"
  fi
}

ensure_test_tools
ensure_kubectl

if ! reachable "$PG_HOST" "$PG_PORT"; then
  is_local "$PG_HOST" || { say "PostgreSQL at $PG_HOST:$PG_PORT is not reachable"; exit 1; }
  start_postgres
  wait_for PostgreSQL "$PG_HOST" "$PG_PORT" 60
fi

if ! reachable "$AMQP_HOST" "$AMQP_PORT"; then
  is_local "$AMQP_HOST" || { say "RabbitMQ at $AMQP_HOST:$AMQP_PORT is not reachable"; exit 1; }
  start_rabbitmq
  wait_for RabbitMQ "$AMQP_HOST" "$AMQP_PORT" 120
fi
say "PostgreSQL $PG_HOST:$PG_PORT and RabbitMQ $AMQP_HOST:$AMQP_PORT are reachable"

# Tests and benchmarks get virtual hosts of their own, so a running `make run` (or anything else
# on the default vhost) never consumes their messages; SMARTCITY_TEST_SLOT=N (N > 0) gives a second
# checkout smartcity_test_N and smartcity_bench_N. Only possible on a local broker.
if is_local "$AMQP_HOST" && command -v rabbitmqctl >/dev/null; then
  slot=${SMARTCITY_TEST_SLOT:-0}
  suffix=
  [[ $slot == 0 ]] || suffix=_$slot
  existing=$(rabbitmqctl -q list_vhosts 2>/dev/null || true)
  for vhost in "smartcity_test$suffix" "smartcity_bench$suffix"; do
    if ! grep -qx "$vhost" <<<"$existing"; then
      rabbitmqctl -q add_vhost "$vhost" >/dev/null 2>&1 &&
        rabbitmqctl -q set_permissions -p "$vhost" guest ".*" ".*" ".*" >/dev/null 2>&1 &&
        say "created RabbitMQ vhost $vhost"
    fi
  done

  # The services declare quorum queues (shared/queues.py); an older checkout left classic ones under the
  # same names, which the broker refuses to redeclare (PRECONDITION_FAILED). In this slot's test and
  # benchmark vhosts they only hold leftovers of earlier runs: deleted. nameko's RPC reply queues
  # (rpc.reply-…) stay classic by design and expire on their own.
  for vhost in "smartcity_test$suffix" "smartcity_pod_test$suffix" "smartcity_bench$suffix"; do
    grep -qx "$vhost" <<<"$existing" || continue
    stale=$(classic_durable_queues "$vhost")
    [[ -n $stale ]] || continue
    say "deleting $(wc -l <<<"$stale") classic queue(s) an older checkout left in vhost $vhost"
    while IFS= read -r queue; do
      # </dev/null: rabbitmqctl would read the rest of the list from stdin
      rabbitmqctl -q delete_queue -p "$vhost" "$queue" </dev/null >/dev/null 2>&1 ||
        say "could not delete $queue in $vhost"
    done <<<"$stale"
  done

  # `make run`'s vhost holds real messages: never deleted, the upgrade moves them.
  run_vhost=$(run_vhost_of "${SMARTCITY_AMQP_URI:-amqp://guest:guest@127.0.0.1:5672/}")
  if grep -qx -- "$run_vhost" <<<"$existing" &&
    [[ -n $(classic_durable_queues "$run_vhost" | grep -E "$SERVICE_QUEUES") ]]; then
    say "vhost $run_vhost has classic queues of an older release; the services now declare quorum queues."
    say "With the services stopped, run: .venv/bin/smartcity queues upgrade   (README: Upgrading to quorum queues)"
  fi
fi
