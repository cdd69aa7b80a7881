#!/usr/bin/env bash
# Starts the services the tests need, when they are not running already, and waits until they answer:
#
#   PostgreSQL  the Debian cluster <newest installed version>/main (127.0.0.1:5432 on a fresh install), with the
#               superuser role quantstudio / quantstudio that the PostgreSQL store's tests connect as
#               (QUANTSTUDIO_TEST_POSTGRES points the tests elsewhere). The cluster is created if apt-get did not.
#   RabbitMQ    the local node (127.0.0.1:5672, guest/guest from localhost) that the worker queue's tests use.
#
# Idempotent: a running service is left as it is, an existing role too; nothing is stopped or restarted.
# Needs no systemd: run as root in a container it calls pg_ctlcluster and `rabbitmq-server -detached` directly, not
# service/invoke-rc.d, which a policy-rc.d may deny. Uses sudo when not root.
# QS_PG_VERSION and QS_PG_CLUSTER choose another cluster than the newest version's "main".
set -euo pipefail

SUDO=""
if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi

# Runs a command as the postgres system user (peer authentication on the local socket), from a folder it may read.
as_postgres() {
  if [[ -z "$SUDO" ]]; then (cd / && runuser -u postgres -- "$@"); else (cd / && sudo -u postgres "$@"); fi
}

start_postgres() {
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "services: PostgreSQL is not installed (scripts/install-deps.sh with QS_WITH_SERVICES=1 installs it)" >&2
    return 1
  fi
  local version="${QS_PG_VERSION:-$(ls /usr/lib/postgresql | sort -V | tail -n 1)}"
  local cluster="${QS_PG_CLUSTER:-main}"
  if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    echo "services: creating PostgreSQL cluster $version/$cluster"
    $SUDO pg_createcluster "$version" "$cluster" >/dev/null
  fi
  local port
  port="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')"
  if pg_ctlcluster "$version" "$cluster" status >/dev/null 2>&1; then
    echo "services: PostgreSQL $version/$cluster is running (port $port)"
  else
    echo "services: starting PostgreSQL $version/$cluster (port $port)"
    $SUDO pg_ctlcluster "$version" "$cluster" start
  fi
  if ! pg_isready -q -h 127.0.0.1 -p "$port" -t 60; then
    echo "services: PostgreSQL $version/$cluster does not answer on 127.0.0.1:$port" >&2
    return 1
  fi
  if [[ "$(as_postgres psql -p "$port" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'quantstudio'")" != "1" ]]; then
    echo "services: creating the PostgreSQL role quantstudio"
    as_postgres psql -p "$port" -q -c "CREATE ROLE quantstudio LOGIN SUPERUSER PASSWORD 'quantstudio'"
  fi
}

start_rabbitmq() {
  if ! command -v rabbitmq-server >/dev/null && [[ ! -x /usr/sbin/rabbitmq-server ]]; then
    echo "services: RabbitMQ is not installed (scripts/install-deps.sh with QS_WITH_SERVICES=1 installs it)" >&2
    return 1
  fi
  export PATH="$PATH:/usr/sbin"
  if $SUDO rabbitmqctl -q ping >/dev/null 2>&1; then
    echo "services: RabbitMQ is running"
  else
    echo "services: starting RabbitMQ"
    # As root, Debian's wrapper runs the node as the rabbitmq user.
    $SUDO rabbitmq-server -detached
  fi
  # A node just launched may not answer yet (await_startup then fails at once): ask again until it has started.
  local waited=0
  until $SUDO rabbitmqctl -q await_startup >/dev/null 2>&1; do
    if (( waited >= 180 )); then
      echo "services: RabbitMQ did not finish starting within 180 s (see /var/log/rabbitmq)" >&2
      return 1
    fi
    sleep 3
    waited=$((waited + 3))
  done
}

start_postgres
start_rabbitmq
echo "services: ready"
