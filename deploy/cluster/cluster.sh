#!/usr/bin/env bash
# Scale-out example on loopback: ONE Hansa node run as several instances that share one
# PostgreSQL database and one token directory, behind HAProxy (deploy/cluster/haproxy.cfg: TCP
# mode, TLS passthrough for the server proxy, health checks), next to hansa-trust and
# hansa-central. Everything is set up through the real daemons and APIs
# (tests/integration/federation.sh).
#
#   deploy/cluster/cluster.sh [--pg-uri URI] [--instances N] [--state DIR] [--build-dir DIR]
#                             [--exit] [--test]
#
#   --pg-uri     a PostgreSQL URI whose user may CREATE DATABASE (default: HANSA_TEST_PG_URI, else
#                a throw-away cluster started with tests/pg-cluster.sh in the state directory)
#   --instances  instances of the node (default 2)
#   --state      state directory (default ./cluster-state; cleaned at start)
#   --build-dir  where the binaries are (default build/release, else build/debug)
#   --exit       stop everything after the checks instead of waiting for Ctrl-C
#   --test       the CTest mode (cluster_integration): --exit, and exit 77 when no PostgreSQL
#
# Checks made (each printed): every instance answers its admin API; a change made through one
# instance is visible through the others (shared database); HAProxy spreads admin requests over
# the instances; after one instance is killed with SIGKILL, requests through HAProxy keep being
# answered (failover) and HAProxy marks the instance down. When the node's proxies exist
# (node/proxy), a second node calls a service of the clustered node through HAProxy's server
# proxy port under load while an instance is killed, and every answered call is found in the
# shared message log.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
pg_uri="${HANSA_TEST_PG_URI:-}" instances=2 state="" build_dir="" stay=1 test_mode=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pg-uri) pg_uri=$2; shift 2 ;;
    --instances) instances=$2; shift 2 ;;
    --state) state=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --exit) stay=0; shift ;;
    --test) test_mode=1; stay=0; shift ;;
    -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $instances -ge 2 ]] || { echo "cluster: --instances must be at least 2" >&2; exit 2; }
state=${state:-$PWD/cluster-state}
if [[ -z "$build_dir" ]]; then
  build_dir="$repo/build/release"
  [[ -x "$build_dir/node/daemon/hansa-node" ]] || build_dir="$repo/build/debug"
fi
haproxy_bin=$(command -v haproxy || true)
[[ -x /usr/sbin/haproxy ]] && haproxy_bin=/usr/sbin/haproxy
if [[ -z "$haproxy_bin" ]]; then
  echo "cluster: haproxy is not installed (deploy/install-deps.sh installs it)" >&2
  [[ $test_mode == 1 ]] && exit 77
  exit 1
fi

# Stop what an earlier run left in this state directory, then start clean.
if [[ -f "$state/pids" ]]; then
  while read -r pid; do
    [[ -n "$pid" && -r /proc/$pid/cmdline ]] || continue
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$state/" && kill -TERM "$pid" 2>/dev/null || true
  done <"$state/pids"
  sleep 1
fi
if [[ -d "$state/pg" ]]; then
  "$repo/tests/pg-cluster.sh" stop "$state/pg" >/dev/null 2>&1 || true
fi
rm -rf "$state"
mkdir -p "$state"
state=$(cd "$state" && pwd)

# shellcheck source=tests/integration/federation.sh
source "$repo/tests/integration/federation.sh"
fed_tag=cluster
own_pg="" created_dbs=()
checks=()
check_ok() { checks+=("[ok]   $*"); fed_log "ok: $*"; }
check_na() { checks+=("[n/a]  $*"); fed_log "not available: $*"; }

cleanup() {
  local rc=$?
  [[ ${#fed_pids[@]} -gt 0 ]] && fed_stop_all
  if [[ $rc -ne 0 && $rc -ne 77 && $rc -ne 130 ]]; then
    echo "cluster: FAILED (exit $rc); logs under $state" >&2
    [[ $test_mode == 1 ]] && fed_dump_logs 30
  fi
  local db
  for db in "${created_dbs[@]}"; do
    psql "$pg_uri" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [[ -n "$own_pg" ]]; then
    "$repo/tests/pg-cluster.sh" stop "$own_pg" >/dev/null 2>&1 || true
  fi
  rm -f "$state/pids"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
remember_pids() { printf '%s\n' "${fed_pids[@]}" >"$state/pids"; }

# --- PostgreSQL ---
fed_step="PostgreSQL"
if [[ -z "$pg_uri" ]]; then
  if pg_uri=$("$repo/tests/pg-cluster.sh" start "$state/pg" 2>"$state/pg-start.log"); then
    own_pg="$state/pg"
  else
    echo "cluster: no PostgreSQL (no --pg-uri, HANSA_TEST_PG_URI unset, and tests/pg-cluster.sh failed: $(tail -n 1 "$state/pg-start.log"))" >&2
    [[ $test_mode == 1 ]] && exit 77
    exit 1
  fi
fi
psql "$pg_uri" -q -c 'SELECT 1' >/dev/null 2>"$state/psql.log" ||
  { echo "cluster: cannot connect to $pg_uri: $(cat "$state/psql.log")" >&2; [[ $test_mode == 1 ]] && exit 77; exit 1; }
new_database() {  # NAME -> db_uri
  local db="$1_$$_$RANDOM"
  psql "$pg_uri" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >"$state/createdb.log" 2>&1 ||
    fed_fail "CREATE DATABASE $db" "$state/createdb.log"
  created_dbs+=("$db")
  db_uri=$(python3 -c '
import re, sys
uri, db = sys.argv[1], sys.argv[2]
if "://" in uri:
    print(re.sub(r"^(postgres(?:ql)?://[^/?]*)(/[^?]*)?", lambda m: m.group(1) + "/" + db, uri))
else:
    print(uri + " dbname=" + db)
' "$pg_uri" "$db")
}
new_database hansa_cluster_central
central_db=$db_uri
new_database hansa_cluster_node
node_db=$db_uri

# --- trust, central, the clustered node ---
pki="$state/pki"
if [[ -n "${HANSA_TEST_PKI_DIR:-}" && -f "$HANSA_TEST_PKI_DIR/pki.env" ]]; then
  pki=$HANSA_TEST_PKI_DIR
else
  fed_step="dev PKI"
  "$repo/certs/make-dev-pki.sh" --force "$pki" >"$state/make-dev-pki.log" 2>&1 ||
    fed_fail "certs/make-dev-pki.sh" "$state/make-dev-pki.log"
fi
fed_setup --build-dir "$build_dir" --pki "$pki" --dir "$state/fed"
fed_start_trust
fed_start_central --db "$central_db"
remember_pids
fed_central_setup
IFS=/ read -r inst cls code <<<"$MEMBER_1_ID"
fed_add_member "$cls" "$code" "Clustered agency"
# The node's registered address is HAProxy's server-proxy frontend.
lb_server=$(fed_free_port)
fed_add_node cl "$MEMBER_1_ID" SS1 --db "$node_db" --pin-in-config --address "127.0.0.1:$lb_server"
fed_add_client cl "$cls:$code:SERVICES"
remember_pids

declare -a inst_admin inst_client inst_server inst_pid
inst_admin[1]=${fed_node_admin_url[cl]##*:}
inst_client[1]=${fed_node_client_port[cl]}
inst_server[1]=${fed_node_server_port[cl]}
inst_pid[1]=${fed_node_pid[cl]}
for ((i = 2; i <= instances; i++)); do
  fed_add_node_instance cl
  inst_admin[i]=${fed_last_instance_url##*:}
  inst_client[i]=$fed_last_instance_client_port
  inst_server[i]=$fed_last_instance_server_port
  inst_pid[i]=$fed_last_pid
done
remember_pids

# --- HAProxy ---
fed_step="HAProxy configuration"
lb_client=$(fed_free_port) lb_admin=$(fed_free_port) lb_stats=$(fed_free_port)
health_check=tcp
health_path=/health
# The node's health endpoint (ops work): answered on the admin port without a token.
hc=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${inst_admin[1]}$health_path" || true)
[[ $hc == 200 ]] && health_check=http
inst_spec=""
for ((i = 1; i <= instances; i++)); do
  inst_spec+="$i,127.0.0.1,${inst_server[i]},${inst_client[i]},${inst_admin[i]};"
done
python3 - "$repo/deploy/cluster/haproxy.cfg" "$state/haproxy.cfg" "$inst_spec" "$health_check" \
  "$health_path" "$lb_server" "$lb_client" "$lb_admin" "$lb_stats" <<'PY'
import sys
src, dst, spec, check, path, s_port, c_port, a_port, st_port = sys.argv[1:]
insts = [x.split(",") for x in spec.strip(";").split(";")]
out, block, in_block = [], [], False
def inst_lines(lines):
    res = []
    for i, host, sp, cp, ap in insts:
        for line in lines:
            chk = "check port @ADMIN_PORT@" if check == "http" else "check"
            line = line.replace("@CHECK@", chk)
            for k, v in {"@I@": i, "@HOST@": host, "@SERVER_PORT@": sp, "@CLIENT_PORT@": cp,
                         "@ADMIN_PORT@": ap}.items():
                line = line.replace(k, v)
            res.append(line)
    return res
for line in open(src).read().splitlines():
    if line.strip() == "#@each-instance":
        in_block, block = True, []
        continue
    if line.strip() == "#@end":
        in_block = False
        out += inst_lines(block)
        continue
    if in_block:
        block.append(line)
        continue
    opt = "option httpchk GET " + path if check == "http" else "# TCP connect check"
    for k, v in {"@CHECK_OPTION@": opt, "@BIND@": "127.0.0.1", "@SERVER_PORT@": s_port,
                 "@CLIENT_PORT@": c_port, "@ADMIN_PORT@": a_port, "@STATS_PORT@": st_port,
                 "@HEALTH_PATH@": path, "@HEALTH_CHECK@": check}.items():
        line = line.replace(k, v)
    out.append(line)
open(dst, "w").write("\n".join(out) + "\n")
PY
"$haproxy_bin" -c -f "$state/haproxy.cfg" >"$state/haproxy-check.log" 2>&1 ||
  fed_fail "haproxy -c rejected the configuration" "$state/haproxy-check.log"
fed_step="HAProxy start"
"$haproxy_bin" -db -f "$state/haproxy.cfg" >"$state/haproxy.log" 2>&1 &
haproxy_pid=$!
fed_track "$haproxy_pid"
remember_pids
lb_admin_url="http://127.0.0.1:$lb_admin"
fed_wait_http "$lb_admin_url/api/v1/status" 20 "$haproxy_pid" "$state/haproxy.log"
fed_log "HAProxy: server proxy 127.0.0.1:$lb_server (TLS passthrough), client proxy 127.0.0.1:$lb_client, admin $lb_admin_url, stats http://127.0.0.1:$lb_stats/ (health check: $health_check)"

token=${fed_node_token[cl]}
ctl() {  # ADMIN_URL ARGS...
  local url=$1
  shift
  "$FED_CTL_BIN" node --url "$url" --token "$token" "$@"
}

# --- checks ---
fed_step="check: every instance answers"
for ((i = 1; i <= instances; i++)); do
  st=$(ctl "http://127.0.0.1:${inst_admin[i]}" --json status) || fed_fail "instance $i: status"
  [[ $(fed_jq 'd.get("server")' <<<"$st") == "${fed_node_server[cl]}" ]] || fed_fail "instance $i serves $st"
done
check_ok "all $instances instances of ${fed_node_server[cl]} answer their admin API"

fed_step="check: a change through instance 1 is visible on every instance"
ctl "http://127.0.0.1:${inst_admin[1]}" client add "$cls:$code:SHARED" >/dev/null || fed_fail "client add on instance 1"
for ((i = 2; i <= instances; i++)); do
  deadline=$((SECONDS + 20))
  until ctl "http://127.0.0.1:${inst_admin[i]}" --json client list 2>/dev/null | grep -q "/SHARED\""; do
    [[ $SECONDS -lt $deadline ]] || fed_fail "instance $i does not list the client added through instance 1"
    sleep 0.5
  done
done
check_ok "a client added through instance 1 is listed by every instance (shared PostgreSQL)"

fed_step="check: HAProxy spreads requests"
for _ in $(seq 1 $((instances * 3))); do
  ctl "$lb_admin_url" --json status >/dev/null || fed_fail "status through HAProxy"
done
spread=$(curl -s "http://127.0.0.1:$lb_stats/;csv" | awk -F, '$1 == "hansa_admin_api" && $2 ~ /^node/ && $8 > 0 {n++} END {print n + 0}')
[[ $spread -ge 2 ]] || fed_fail "HAProxy sent admin requests to $spread instance(s) only"
check_ok "HAProxy sent admin requests to $spread instances"

proxies=0
if [[ $fed_node_has_proxies == 1 ]] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:${inst_client[1]}/"; then
  proxies=1
fi
load_pid=""
if [[ $proxies == 0 ]]; then
  check_na "messages through HAProxy under load with SIGKILL: the node's proxies are not in this build yet (node/proxy)"
elif [[ -z "${FED_PROVIDER_BIN:-}" ]]; then
  check_na "messages through HAProxy under load with SIGKILL: hansa-test-provider is not built"
else
  # A provider behind the clustered node, and a second node (another member) whose client calls
  # it through HAProxy's server-proxy frontend (the clustered node's registered address).
  fed_step="provider, service and a calling node"
  "$FED_PROVIDER_BIN" --port 0 --port-file "$state/provider.port" >"$state/provider.out" 2>"$state/provider.log" &
  fed_track $!
  deadline=$((SECONDS + 20))
  until [[ -s "$state/provider.port" ]]; do
    [[ $SECONDS -lt $deadline ]] || fed_fail "the provider did not start" "$state/provider.log"
    sleep 0.1
  done
  provider=$(cat "$state/provider.port")
  fed_add_rest_service cl "$cls:$code:SERVICES" records "http://127.0.0.1:$provider/rest" >/dev/null
  IFS=/ read -r _ c2 m2 <<<"$MEMBER_2_ID"
  fed_add_member "$c2" "$m2" "Calling agency"
  fed_add_node caller "$MEMBER_2_ID" SS2
  fed_add_client caller "$c2:$m2:CLIENT"
  fed_ctl_ok caller-conn fed_nodectl caller client connection-type "$c2:$m2:CLIENT" http >/dev/null
  remember_pids
  fed_grant cl "$cls:$code:SERVICES" records "SUBSYSTEM:$inst/$c2/$m2/CLIENT"
  fed_sync_nodes
  # Every instance downloads the global configuration on its own schedule: make each one load
  # the configuration that registers the caller's client, as an operator would after a change.
  for ((i = 2; i <= instances; i++)); do
    deadline=$((SECONDS + 30))
    until ctl "http://127.0.0.1:${inst_admin[i]}" globalconf refresh >"$state/refresh-$i.log" 2>&1; do
      [[ $SECONDS -lt $deadline ]] || fed_fail "instance $i: globalconf refresh" "$state/refresh-$i.log"
      sleep 0.5
    done
  done
  for ((i = 2; i <= instances; i++)); do   # every instance has reloaded the grant
    deadline=$((SECONDS + 20))
    until ctl "http://127.0.0.1:${inst_admin[i]}" --json access list "$cls:$code:SERVICES" records 2>/dev/null | grep -q CLIENT; do
      [[ $SECONDS -lt $deadline ]] || fed_fail "instance $i does not see the access right"
      sleep 0.5
    done
  done
  caller_proxy="http://127.0.0.1:${fed_node_client_port[caller]}"
  url="$caller_proxy/r1/$inst/$cls/$code/SERVICES/records/item"
  fed_step="calls through HAProxy before the kill"
  curl -sS -o "$state/first.out" -w '%{http_code}' --max-time 30 -H "X-Road-Client: $inst/$c2/$m2/CLIENT" \
    -H "X-Road-Id: cluster-first" "$url" >"$state/first.code" 2>&1 || true
  [[ $(cat "$state/first.code") == 200 ]] ||
    fed_fail "a call through HAProxy failed before any kill: HTTP $(cat "$state/first.code"): $(head -c 300 "$state/first.out")" "${fed_node_log[caller]}"
  # Load: 4 workers x 30 calls, each with its own X-Road-Id and at least 0.2 s apart (the load
  # lasts 6 s or more, however fast the calls are); instance 1 is killed 2 s in, so each
  # worker's last 5 calls come after the failover.
  mkdir -p "$state/load"
  workers=()
  for w in 1 2 3 4; do
    (
      for n in $(seq 1 30); do
        id="cluster-$w-$n"
        c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -H "X-Road-Client: $inst/$c2/$m2/CLIENT" \
          -H "X-Road-Id: $id" "$url" || true)
        echo "$id $c"
        sleep 0.2
      done >"$state/load/worker-$w"
    ) &
    workers+=($!)
  done
  load_pid=1
fi

fed_step="check: SIGKILL of instance 1, failover through HAProxy"
[[ -n "$load_pid" ]] && sleep 2
kill -KILL "${inst_pid[1]}"
wait "${inst_pid[1]}" 2>/dev/null || true
if [[ -n "$load_pid" ]]; then
  fed_step="check: load through HAProxy while instance 1 was killed"
  wait "${workers[@]}" 2>/dev/null || true
  total=$(cat "$state"/load/worker-* | wc -l)
  ok_ids=$(awk '$2 == 200 {print $1}' "$state"/load/worker-*)
  answered_n=$(wc -w <<<"$ok_ids")
  late_fail=$(for w in 1 2 3 4; do tail -n 5 "$state/load/worker-$w"; done | awk '$2 != 200' | wc -l)
  [[ $answered_n -ge $((total * 9 / 10)) ]] || fed_fail "only $answered_n of $total calls answered under load with the kill"
  [[ $late_fail == 0 ]] || fed_fail "calls still failed after the failover (last 5 of each worker: $late_fail failures)"
  missing=0
  for id in $ok_ids; do
    n=$(curl -s -H "Authorization: Bearer $token" \
      "http://127.0.0.1:${inst_admin[2]}/api/v1/messagelog/records?queryId=$id" |
      fed_jq 'len(d.get("items", []))' 2>/dev/null || echo 0)
    [[ -n "$n" && "$n" != 0 ]] || { missing=$((missing + 1)); echo "not in the message log: $id" >>"$state/load/missing"; }
  done
  [[ $missing == 0 ]] || fed_fail "$missing answered calls are not in the shared message log ($state/load/missing)"
  check_ok "load through HAProxy (4 x 30 REST calls) with instance 1 killed: $answered_n of $total answered, the last calls all answered, every answered call is in the shared message log"
fi
answered=0
for _ in $(seq 1 20); do
  if ctl "$lb_admin_url" --json status >/dev/null 2>&1; then
    answered=$((answered + 1))
  fi
done
[[ $answered == 20 ]] || fed_fail "only $answered of 20 requests through HAProxy were answered after the kill"
deadline=$((SECONDS + 10))
until curl -s "http://127.0.0.1:$lb_stats/;csv" | grep -q '^hansa_admin_api,node1,.*,DOWN'; do
  [[ $SECONDS -lt $deadline ]] || fed_fail "HAProxy did not mark instance 1 down" "$state/haproxy.log"
  sleep 0.5
done
check_ok "instance 1 killed (SIGKILL): 20 of 20 requests through HAProxy answered, HAProxy marks it DOWN"

echo
echo "Cluster checks:"
printf '  %s\n' "${checks[@]}"
cat <<EOF

Running: ${fed_node_server[cl]} as $instances instances on PostgreSQL, behind HAProxy.
  HAProxy stats      http://127.0.0.1:$lb_stats/
  admin via HAProxy  $lb_admin_url   (token in ${fed_node_dir[cl]}/admin-token)
  server proxy       127.0.0.1:$lb_server (TLS passthrough)   client proxy 127.0.0.1:$lb_client
  configuration      $state/haproxy.cfg, ${fed_node_conf[cl]} and ${fed_node_dir[cl]}/node-*.toml
EOF
if [[ $stay == 1 ]]; then
  echo "Press Ctrl-C to stop everything."
  while true; do
    sleep 3600 &
    wait $! || true
  done
fi
