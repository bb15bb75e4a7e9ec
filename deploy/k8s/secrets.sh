#!/usr/bin/env bash
# Writes every Secret the deploy needs, as YAML on stdout, from files in DIR (never from the
# command line: values are read from files into bash builtins, so they appear in no process list).
#
#   deploy/k8s/secrets.sh [--generate] DIR | kubectl apply -f -
#
# DIR holds one file per secret value (the file's content, a trailing newline ignored):
#   DIR/<service>/rabbitmq-password   the service's RabbitMQ user <service>     (ideas, voting,
#   DIR/<service>/db-owner-password   PostgreSQL smartcity_<service>_owner      notifications,
#   DIR/<service>/db-app-password     PostgreSQL smartcity_<service>_app        reporting)
#   DIR/keda/rabbitmq-password        RabbitMQ user keda (queue lengths for the autoscaler)
#   DIR/pseudonym-key                 HMAC key of the voters' and participants' pseudonyms
#   DIR/smtp-password                 the SMTP relay's password (user: base/config/notifications.env)
#   DIR/backup/ACCESS_KEY_ID, DIR/backup/ACCESS_SECRET_KEY   object storage for the database backups
# --generate creates the missing passwords and the pseudonym key with 32 random characters
# (files mode 600); the SMTP password and the storage credentials must come from their owners.
# Passwords that go into a URI may contain only A-Z a-z 0-9 . _ ~ - (no escaping needed).
set -euo pipefail
umask 077

NAMESPACE=smartcity
SERVICES=(ideas voting notifications reporting)
RABBITMQ=smartcity-rabbitmq.$NAMESPACE.svc
POOLER=smartcity-db-pooler.$NAMESPACE.svc   # the services: through PgBouncer
PRIMARY=smartcity-db-rw.$NAMESPACE.svc      # migrations: straight to the primary

generate=false
if [[ ${1:-} == --generate ]]; then generate=true; shift; fi
DIR=${1:?usage: secrets.sh [--generate] DIR}

fail() { echo "secrets.sh: $*" >&2; exit 1; }

value() {  # file [uri]: the file's content; "uri" also checks it is safe inside a URI
  local file=$DIR/$1 content
  if [[ ! -s $file ]]; then
    [[ $generate == true && $1 != smtp-password && $1 != backup/* ]] || fail "missing $file"
    mkdir -p "$(dirname "$file")"
    content=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 || true)
    printf '%s\n' "$content" >"$file"
  fi
  content=$(<"$file")
  if [[ ${2:-} == uri && ! $content =~ ^[A-Za-z0-9._~-]+$ ]]; then
    fail "$file: use only A-Z a-z 0-9 . _ ~ - (it goes into a URI)"
  fi
  printf '%s' "$content"
}

b64() { printf '%s' "$1" | base64 | tr -d '\n'; }

secret() {  # name type labels(yaml or "") key=value...
  local name=$1 type=$2 labels=$3 pair
  shift 3
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n' "$name" "$NAMESPACE"
  printf '  labels:\n    app.kubernetes.io/part-of: smartcity\n'
  [[ -z $labels ]] || printf '%s\n' "$labels"
  printf 'type: %s\ndata:\n' "$type"
  for pair in "$@"; do
    printf '  %s: %s\n' "${pair%%=*}" "$(b64 "${pair#*=}")"
  done
}

TOPOLOGY='    rabbitmq.com/topology-operator: "true"'   # the topology operator reads only these
CNPG='    cnpg.io/reload: "true"'                     # CloudNativePG picks up a changed password

for service in "${SERVICES[@]}"; do
  amqp=$(value "$service/rabbitmq-password" uri)
  owner=$(value "$service/db-owner-password" uri)
  app=$(value "$service/db-app-password" uri)
  database=smartcity_$service
  secret "smartcity-$service" Opaque "" \
    "AMQP_URI=amqp://$service:$amqp@$RABBITMQ:5672/" \
    "DATABASE_URL=postgresql://${database}_app:$app@$POOLER:5432/$database?sslmode=require" \
    "MIGRATION_DATABASE_URL=postgresql://${database}_owner:$owner@$PRIMARY:5432/$database?sslmode=require"
  secret "smartcity-$service-rabbitmq" Opaque "$TOPOLOGY" "username=$service" "password=$amqp"
  secret "smartcity-$service-db-owner" kubernetes.io/basic-auth "$CNPG" "username=${database}_owner" "password=$owner"
  secret "smartcity-$service-db-app" kubernetes.io/basic-auth "$CNPG" "username=${database}_app" "password=$app"
done

keda=$(value keda/rabbitmq-password uri)
pseudonym=$(value pseudonym-key)
smtp=$(value smtp-password)
access_key=$(value backup/ACCESS_KEY_ID)
secret_key=$(value backup/ACCESS_SECRET_KEY)
secret smartcity-keda Opaque "$TOPOLOGY" "username=keda" "password=$keda" \
  "RABBITMQ_HTTP_URI=http://keda:$keda@$RABBITMQ:15672/"
secret smartcity-pseudonym Opaque "" "PSEUDONYM_KEY=$pseudonym"
secret smartcity-smtp Opaque "" "password=$smtp"
secret smartcity-backup-storage Opaque "" "ACCESS_KEY_ID=$access_key" "ACCESS_SECRET_KEY=$secret_key"
