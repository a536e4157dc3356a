#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for the database tests.
#
#   tests/pg-cluster.sh start [DIR]   create and start a cluster in DIR (default: a new temporary
#                                     directory); prints the connection URI on stdout
#   tests/pg-cluster.sh uri DIR       prints the connection URI of the cluster in DIR
#   tests/pg-cluster.sh stop DIR      stops the cluster and removes DIR
#
# The cluster listens only on a Unix socket inside DIR (no TCP port, so parallel runs never clash)
# and trusts every local connection: DIR is private to the cluster's owner (mode 0700), which is
# what keeps other users out. initdb refuses to run as root, so as root the cluster runs as the
# `postgres` system user of the Debian package (root can still reach the socket).
# Durability settings are off (fsync, synchronous_commit): the data is thrown away anyway.
set -euo pipefail

pg_version=15
pg_bin="${HANSA_PG_BIN:-/usr/lib/postgresql/$pg_version/bin}"
db_name=hansa_test
db_user=hansa
port=5432

usage() {
  sed -n '2,8p' "$0" >&2
  exit 2
}

# Runs a command as the cluster owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

uri_for() {
  local dir="$1"
  echo "postgresql:///$db_name?host=$dir/socket&port=$port&user=$db_user"
}

start() {
  local dir="${1:-}"
  if [[ -z "$dir" ]]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/hansa-pg.XXXXXX")
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -e "$dir/data" ]]; then
    echo "pg-cluster: $dir already holds a cluster" >&2
    exit 1
  fi
  if [[ ! -x "$pg_bin/initdb" ]]; then
    echo "pg-cluster: $pg_bin/initdb not found (install postgresql-$pg_version:" \
      "deploy/install-deps.sh test)" >&2
    exit 1
  fi
  if [[ $(id -u) -eq 0 ]]; then
    getent passwd postgres >/dev/null || {
      echo "pg-cluster: running as root needs the postgres system user" >&2
      exit 1
    }
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" || {
      echo "pg-cluster: the postgres user cannot reach $dir (choose a directory under /tmp)" >&2
      exit 1
    }
  fi
  chmod 0700 "$dir"
  as_owner mkdir -p "$dir/socket"

  as_owner "$pg_bin/initdb" --pgdata="$dir/data" --username="$db_user" --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  as_owner "$pg_bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir/socket' -c port=$port" \
    -o "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    -o "-c max_connections=300" \
    start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
  }
  as_owner "$pg_bin/createdb" --host="$dir/socket" --port=$port --username="$db_user" "$db_name"
  uri_for "$dir"
}

stop() {
  local dir="${1:?stop needs the cluster directory}"
  [[ -d "$dir" ]] || return 0
  # Remove only what `start` made (a guard against a wrong argument).
  if [[ ! -e "$dir/initdb.log" && -n "$(ls -A "$dir")" ]]; then
    echo "pg-cluster: $dir does not look like a test cluster; not removing it" >&2
    exit 1
  fi
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_owner "$pg_bin/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait stop >/dev/null || true
  fi
  rm -rf -- "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  uri) uri_for "$(cd "${2:?uri needs the cluster directory}" && pwd)" ;;
  stop) stop "${2:-}" ;;
  *) usage ;;
esac
