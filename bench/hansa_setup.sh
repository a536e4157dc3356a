# shellcheck shell=bash
# The hansa setups of bench/run: IS -> node A (client proxy) -> node B (server proxy, mTLS) -> the
# test provider, with both nodes (and central) on SQLite or on PostgreSQL. Brought up through the
# real daemons and APIs by tests/integration/federation.sh. Sourced by bench/run; uses its
# variables and helpers (ROOT, bin, work, provider_port, started_pids, log, with_children).

# The identities the load uses (the SOAP body is the same for every setup).
hansa_client_path="DEV/GOV/1234/BENCHCLIENT"
hansa_soap_service_path="DEV/COM/4321/BENCHPROVIDER/echo/v1"
declare -gA hansa_state=() hansa_why=() hansa_client_port=() hansa_a_pid=() hansa_b_pid=() \
  hansa_a_admin=() hansa_b_admin=() hansa_a_token=() hansa_b_token=() hansa_stamper0=()
hansa_reason=""
hansa_pg_dir=""
hansa_pg_uri=""
hansa_pg_postmaster=""

# hansa_available BACKEND: 0 when that federation is up; the reason in hansa_reason otherwise.
hansa_available() {
  if [[ ${hansa_state[$1]:-} == up ]]; then
    hansa_reason=""
    return 0
  fi
  hansa_reason=${hansa_why[$1]:-"not brought up"}
  return 1
}

# A PostgreSQL 15 cluster with the durability settings a production node has (fsync and
# synchronous_commit on, unlike tests/pg-cluster.sh), on a Unix socket in the work directory.
# min_wal_size = max_wal_size (1 GB), as docs/operations.md advises for a message-log database:
# a checkpoint keeps the WAL segments it no longer needs for reuse instead of deleting them, so a
# loaded server writes into recycled segments rather than creating and zero-filling new ones.
hansa_pg_start() {
  local pg_bin=${HANSA_PG_BIN:-/usr/lib/postgresql/15/bin}
  [[ -x $pg_bin/initdb ]] || { hansa_why[pg]="PostgreSQL 15 server not installed ($pg_bin)"; return 1; }
  hansa_pg_dir="$work/pg"
  mkdir -p "$hansa_pg_dir"
  local as=()
  if [[ $EUID -eq 0 ]]; then
    chown postgres: "$hansa_pg_dir"
    as=(runuser -u postgres --)
  fi
  chmod 0700 "$hansa_pg_dir"
  "${as[@]}" mkdir -p "$hansa_pg_dir/socket"
  "${as[@]}" "$pg_bin/initdb" --pgdata="$hansa_pg_dir/data" --username=hansa --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$work/pg-initdb.log" 2>&1 ||
    { hansa_why[pg]="initdb failed (see $work/pg-initdb.log)"; return 1; }
  "${as[@]}" "$pg_bin/pg_ctl" --pgdata="$hansa_pg_dir/data" --log="$hansa_pg_dir/server.log" \
    --wait --timeout=60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$hansa_pg_dir/socket' -c port=5432" \
    -o "-c fsync=on -c synchronous_commit=on -c max_connections=300 -c shared_buffers=128MB" \
    -o "-c min_wal_size=1GB -c max_wal_size=1GB" \
    start >/dev/null 2>&1 || { hansa_why[pg]="PostgreSQL did not start"; return 1; }
  hansa_pg_postmaster=$(head -1 "$hansa_pg_dir/data/postmaster.pid")
  hansa_pg_stop_cmd=("${as[@]}" "$pg_bin/pg_ctl" --pgdata="$hansa_pg_dir/data" stop -m fast)
  local db
  for db in bench_central bench_a bench_b bench_micro; do
    "${as[@]}" "$pg_bin/createdb" --host="$hansa_pg_dir/socket" --port=5432 --username=hansa "$db" ||
      { hansa_why[pg]="createdb $db failed"; return 1; }
  done
  hansa_pg_uri="postgresql:///bench_a?host=$hansa_pg_dir/socket&port=5432&user=hansa"
  hansa_pg_micro_uri="postgresql:///bench_micro?host=$hansa_pg_dir/socket&port=5432&user=hansa"
  hansa_pg_psql=("${as[@]}" "$pg_bin/psql" --host="$hansa_pg_dir/socket" --port=5432 --username=hansa)
}

# The WAL segment files of the cluster as "inode name" lines: a segment recycled by a checkpoint
# is renamed and keeps its inode, a segment created anew gets a new one.
hansa_pg_wal_inodes() {
  find "$hansa_pg_dir/data/pg_wal" -maxdepth 1 -type f -regextype posix-extended \
    -regex '.*/[0-9A-F]{24}' -printf '%i %f\n' 2>/dev/null | sort
}

hansa_pg_stop() {
  if [[ -n $hansa_pg_postmaster ]]; then
    "${hansa_pg_stop_cmd[@]}" >/dev/null 2>&1 || true
  fi
}

# hansa_bring_up BACKEND (sqlite | pg | nolog = SQLite with the message log off, to measure the
# proxies alone): hansa-trust, hansa-central and nodes a (client side,
# member DEV/GOV/1234, subsystem BENCHCLIENT) and b (provider side, DEV/COM/4321/BENCHPROVIDER
# with the provider's WSDL service `echo` and OpenAPI service `rest`), access granted, one SOAP
# and one REST smoke call. Returns 1 with the reason in hansa_why[BACKEND] when anything fails.
hansa_bring_up() {
  hansa_bring_up_start "$1" && hansa_bring_up_finish "$1"
}

declare -gA hansa_bring_up_pid=()

# The bring-up in the background (several federations come up in parallel); then
# hansa_bring_up_finish BACKEND waits for it.
hansa_bring_up_start() {
  local backend=$1
  local dir="$work/fed-$backend"
  local b
  for b in node/daemon/hansa-node central/daemon/hansa-central certs/hansa-trust/hansa-trust \
    tools/hansactl/hansactl; do
    [[ -x $bin/$b ]] || { hansa_why[$backend]="$b not built"; return 1; }
  done
  [[ -f $ROOT/tests/integration/federation.sh ]] ||
    { hansa_why[$backend]="tests/integration/federation.sh not there yet"; return 1; }
  grep -q '"proxy"' "$ROOT/node/daemon/node_conf.cc" 2>/dev/null ||
    { hansa_why[$backend]="hansa-node has no [proxy] configuration yet"; return 1; }
  local cdb="" adb="" bdb=""
  if [[ $backend == pg ]]; then
    if [[ -z $hansa_pg_uri ]]; then hansa_pg_start || return 1; fi
    cdb="postgresql:///bench_central?host=$hansa_pg_dir/socket&port=5432&user=hansa"
    adb="postgresql:///bench_a?host=$hansa_pg_dir/socket&port=5432&user=hansa"
    bdb="postgresql:///bench_b?host=$hansa_pg_dir/socket&port=5432&user=hansa"
  fi
  log "bringing up the $backend federation (log: $dir.log)"
  (
    set -euo pipefail
    # shellcheck source=tests/integration/federation.sh
    source "$ROOT/tests/integration/federation.sh"
    fed_tag="bench-$backend"
    trap 'rc=$?; if [[ $rc -ne 0 ]]; then fed_stop_all >/dev/null 2>&1; fi; exit $rc' EXIT
    # federation.sh registers each node at 127.0.0.1:<its server-proxy port>.
    fed_node_extra_toml() {
      cat <<EOF
[proxy]
enabled = true
client_http_host = "127.0.0.1"
client_http_port = ${fed_node_client_port[$1]}
client_https_host = ""
server_host = "127.0.0.1"
server_port = ${fed_node_server_port[$1]}
peer_port = ${fed_node_server_port[$1]}
client_worker_threads = 300
server_worker_threads = 300
provider_timeout = 30
EOF
      if [[ $backend == nolog ]]; then
        # The message log is on unless disabled: both keys are needed to run without it.
        printf 'require_message_log = false\n[messagelog]\nenabled = false\n'
      else
        printf '[messagelog]\nenabled = true\n'
      fi
    }
    fed_setup --pki "$work/pki" --dir "$dir" --build-dir "$bin"
    fed_start_trust
    fed_start_central ${cdb:+--db "$cdb"}
    fed_central_setup
    fed_add_member GOV 1234 "Bench agency"
    fed_add_member COM 4321 "Bench provider"
    fed_add_node a DEV/GOV/1234 SS1 ${adb:+--db "$adb"}
    fed_add_node b DEV/COM/4321 SS2 ${bdb:+--db "$bdb"}
    fed_add_client a GOV:1234:BENCHCLIENT
    fed_add_client b COM:4321:BENCHPROVIDER
    fed_nodectl a client connection-type GOV:1234:BENCHCLIENT http >/dev/null
    fed_nodectl b client connection-type COM:4321:BENCHPROVIDER http >/dev/null
    fed_add_wsdl_service b COM:4321:BENCHPROVIDER "http://127.0.0.1:$provider_port/wsdl" >/dev/null
    fed_add_openapi_service b COM:4321:BENCHPROVIDER rest \
      "http://127.0.0.1:$provider_port/openapi.json" >/dev/null
    fed_grant b COM:4321:BENCHPROVIDER echo SUBSYSTEM:DEV/GOV/1234/BENCHCLIENT
    fed_grant b COM:4321:BENCHPROVIDER rest SUBSYSTEM:DEV/GOV/1234/BENCHCLIENT
    fed_sync_nodes
    fed_step="smoke calls through the proxies"
    local port=${fed_node_client_port[a]} deadline=$((SECONDS + 60)) code=""
    until [[ $code == 200 ]]; do
      code=$(curl -s -o "$dir/smoke-rest.out" -w '%{http_code}' --max-time 30 -X POST \
        -H 'X-Road-Client: DEV/GOV/1234/BENCHCLIENT' -H 'Content-Type: application/json' \
        --data '{"smoke":1}' \
        "http://127.0.0.1:$port/r1/DEV/COM/4321/BENCHPROVIDER/rest/echo" || true)
      [[ $code == 200 || $SECONDS -lt $deadline ]] ||
        fed_fail "REST smoke call: HTTP $code: $(head -c 400 "$dir/smoke-rest.out")"
      [[ $code == 200 ]] || sleep 1
    done
    make_soap_body 1024 "$dir/smoke.xml" "$hansa_client_path" "$hansa_soap_service_path"
    code=$(curl -s -o "$dir/smoke-soap.out" -w '%{http_code}' --max-time 30 \
      -H 'Content-Type: text/xml; charset=UTF-8' --data-binary @"$dir/smoke.xml" \
      "http://127.0.0.1:$port/" || true)
    [[ $code == 200 ]] && grep -q echoResponse "$dir/smoke-soap.out" ||
      fed_fail "SOAP smoke call: HTTP $code: $(head -c 400 "$dir/smoke-soap.out")"
    if [[ $backend == nolog ]]; then
      # The setup measures the proxies alone: a node that logged the smoke calls is not that.
      fed_step="checking that the message log is off"
      local commits
      commits=$(curl -s --max-time 10 -H "Authorization: Bearer ${fed_node_token[a]}" \
        "${fed_node_admin_url[a]}/metrics" |
        awk '/^hansa_node_messagelog_commit_records_count/ {print $2}')
      [[ -z $commits || $commits == 0 ]] ||
        fed_fail "node a logged the smoke calls ($commits commits): the message log is not off"
    fi
    {
      echo "pids='${fed_pids[*]}'"
      echo "client_port=${fed_node_client_port[a]}"
      echo "a_pid=${fed_node_pid[a]}"
      echo "b_pid=${fed_node_pid[b]}"
      echo "a_admin=${fed_node_admin_url[a]}"
      echo "b_admin=${fed_node_admin_url[b]}"
      echo "a_token=${fed_node_token[a]}"
      echo "b_token=${fed_node_token[b]}"
    } >"$dir/state.env"
    trap - EXIT
  ) >"$dir.log" 2>&1 &
  hansa_bring_up_pid[$backend]=$!
}

hansa_bring_up_finish() {
  local backend=$1
  local dir="$work/fed-$backend"
  [[ -n ${hansa_bring_up_pid[$backend]:-} ]] || return 1
  local rc=0
  wait "${hansa_bring_up_pid[$backend]}" || rc=$?
  if [[ -f "$dir/state.env" ]]; then
    local pids client_port a_pid b_pid a_admin b_admin a_token b_token
    # shellcheck disable=SC1091
    source "$dir/state.env"
    # shellcheck disable=SC2206
    started_pids+=($pids)
  fi
  if [[ $rc -ne 0 || ! -f "$dir/state.env" ]]; then
    local why
    why="$(grep -h 'FAILED at' "$dir.log" | tail -1 | sed 's/^\[[^]]*\] //') $(grep -A4 'last lines of' "$dir.log" | tail -n +2 | tr -s ' \n' ' ' | cut -c1-300)"
    hansa_why[$backend]="federation bring-up failed: ${why:-see $dir.log}"
    return 1
  fi
  hansa_client_port[$backend]=$client_port
  hansa_a_pid[$backend]=$a_pid
  hansa_b_pid[$backend]=$b_pid
  hansa_a_admin[$backend]=$a_admin
  hansa_b_admin[$backend]=$b_admin
  hansa_a_token[$backend]=$a_token
  hansa_b_token[$backend]=$b_token
  hansa_state[$backend]=up
  log "$backend federation up: client proxy :$client_port (node a pid $a_pid, node b pid $b_pid)"
}

# Sets url, headers, chain_pids and node_groups for a cell (see cell_target in bench/run).
hansa_cell_target() {  # BACKEND PROTO SIZE
  local backend=$1 proto=$2 size=$3 port=${hansa_client_port[$1]}
  local a=${hansa_a_pid[$backend]} b=${hansa_b_pid[$backend]}
  local extra=()
  if [[ $backend == pg && -n $hansa_pg_postmaster ]]; then
    # PostgreSQL's backends do the nodes' database work: their CPU counts.
    mapfile -t extra < <(with_children "$hansa_pg_postmaster")
  fi
  chain_pids="$a $b $(with_children "$provider_pid" | tr '\n' ' ') ${extra[*]}"
  node_groups="node-a:$a node-b:$b"
  if [[ $proto == rest ]]; then
    url="http://127.0.0.1:$port/r1/DEV/COM/4321/BENCHPROVIDER/rest/echo?responseBytes=$size"
    headers=("X-Road-Client=$hansa_client_path")
  else
    url="http://127.0.0.1:$port/"
    headers=()
  fi
}

# A node's time-stamper status from the admin API: "backlog batches stamped_records" (records
# waiting for a time-stamp; tokens stored and records linked to them since the node started), or
# "? ? ?".
hansa_stamper() {  # ADMIN_URL TOKEN
  curl -s --max-time 5 -H "Authorization: Bearer $2" "$1/api/v1/messagelog/timestamper" |
    python3 -c 'import json,sys; s=json.load(sys.stdin)
print(*(s.get(k, "?") for k in ("backlog", "batches", "stamped_records")))' 2>/dev/null ||
    echo "? ? ?"
}

hansa_stampers() {  # BACKEND: node a's status, then node b's
  echo "$(hansa_stamper "${hansa_a_admin[$1]}" "${hansa_a_token[$1]}") $(hansa_stamper "${hansa_b_admin[$1]}" "${hansa_b_token[$1]}")"
}

hansa_log_snapshot_before() {  # SETUP
  [[ $1 == hansa-* ]] || return 0
  local backend=${1#hansa-}
  hansa_stamper0[$backend]=$(hansa_stampers "$backend")
}

# Prints the message-log figures of the cell: durable records/s per node (each call writes a
# request and a response record on each node before it completes, so 2 x completed calls), the
# time-stamp batches (tokens) and records stamped per second on nodes a/b during the cell, and
# their time-stamp backlog before and after it.
hansa_log_snapshot_after() {  # SETUP DURATION_US  (reads requests from run_cell)
  [[ $1 == hansa-* && $1 != hansa-nolog ]] || return 0
  local backend=${1#hansa-}
  python3 - "${requests:-0}" "${2:-1}" "${hansa_stamper0[$backend]:-}" "$(hansa_stampers "$backend")" <<'PY'
import sys
requests, duration_us = int(sys.argv[1]), int(sys.argv[2])
secs = duration_us / 1e6
before, after = sys.argv[3].split(), sys.argv[4].split()

def rate(i):
    try:
        return f"{(int(after[i]) - int(before[i])) / secs:.2f}".rstrip("0").rstrip(".")
    except (ValueError, IndexError):
        return "?"

def field(values, i):
    return values[i] if i < len(values) else "?"

print(f"durable records/s per node {round(2 * requests / secs)}; "
      f"time-stamp batches/s a/b {rate(1)}/{rate(4)}; records stamped/s a/b {rate(2)}/{rate(5)}; "
      f"time-stamp backlog a/b {field(before, 0)}/{field(before, 3)} -> "
      f"{field(after, 0)}/{field(after, 3)}")
PY
}

hansa_notes() {
  cat <<'EOF'
Message-log figures: each call is logged (request and response records) on both nodes and
completes only once its records are durable, so durable records/s per node = 2 x completed
calls/s. The time-stamp backlog is the records not yet time-stamped (admin API
/api/v1/messagelog/timestamper) before and after each cell. Time-stamp batches/s and records
stamped/s are the tokens stored and records linked to them during the cell (the same status
counts both since the node started). The nodes time-stamp every 60 s (the node default, as X-Road's
global configuration), each pass in batches of up to 10,000 records until the backlog is empty, so
a cell of a few seconds holds either no pass (0/0 and a growing backlog) or one that drains the
minute's backlog. PostgreSQL runs with fsync and synchronous_commit on.
EOF
  echo "The members' signing keys: $FED_SIGN_KEY_ALGORITHM."
}
