#!/usr/bin/env bash
# Operations end to end (issue 10 "Done when"), through the real daemons and their APIs only
# (tests/integration/federation.sh):
#
#   hansa-trust, hansa-central and two registered nodes on loopback: node A of DEV/GOV/1234 hosting
#     the client subsystem SUBA, node B of DEV/COM/4321 hosting SUBB with a REST service `pets`
#     (hansa-test-provider) granted to SUBA;
#   calls SUBA -> SUBB (granted) and one to a service SUBB does not have (refused with a fault);
#   the real Prometheus server (Debian's `prometheus`) scrapes both nodes' and the central's
#     GET /metrics every second; its HTTP API must return hansa_node_calls_total for SUBA's calls
#     and the central's hansa_central_last_publish_age_seconds;
#   GET /health of the central and both nodes: JSON with every check, no token needed;
#   operational records on node A (admin API) filtered per client: SUBA sees its calls, SUBB's
#     filter finds none on A; getSecurityServerOperationalData semantics per caller (own records
#     only for a member, everything for the owner) once the records are older than the
#     availability offset (60 s);
#   maintenance mode: node A drains (503 "draining") and comes back;
#   hansa-trust stopped: node A's health turns degraded (tsa check).
#
# Exit code 77 (skipped) when the prometheus binary is not installed (deploy/install-deps.sh
# installs it). Everything listens on loopback on free ports; HANSA_IT_KEEP=1 keeps the work
# directory.
#
#   ops_test.sh --central BIN --trust BIN --node BIN --ctl BIN --provider BIN --pki DIR
set -euo pipefail

it_name=ops-it
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
# shellcheck source=tests/integration/federation.sh
source "$(dirname "$0")/federation.sh"
fed_tag=$it_name

for v in node_bin ctl_bin provider_bin; do
  [[ -n "${!v}" ]] || { echo "missing --${v%_bin}" >&2; exit 2; }
done
prometheus_bin=$(command -v prometheus || true)
if [[ -z "$prometheus_bin" ]]; then
  log "prometheus is not installed (deploy/install-deps.sh): skipped"
  exit 77
fi

IFS=/ read -r inst class_a code_a <<<"$MEMBER_1_ID" # DEV/GOV/1234
IFS=/ read -r _ class_b code_b <<<"$MEMBER_2_ID"    # DEV/COM/4321
sub_a="SUBSYSTEM:$inst/$class_a/$code_a/SUBA"
sub_b="SUBSYSTEM:$inst/$class_b/$code_b/SUBB"
owner_a="MEMBER:$inst/$class_a/$code_a"

jq_() { python3 -c 'import json,sys; d=json.load(sys.stdin); v='"$1"'; print(v if not isinstance(v,(dict,list)) else json.dumps(v))'; }

# api NODE PATH -- GET on the node's admin API with its operator token.
api() {
  curl -sS --max-time 30 -H "Authorization: Bearer ${fed_node_token[$1]}" \
    "${fed_node_admin_url[$1]}/api/v1$2"
}

# health URL -- prints "<http status> <status field>"
health() {
  local code
  code=$(curl -sS -o "$work/health.json" -w '%{http_code}' --max-time 30 "$1/health")
  echo "$code $(jq_ "d['status']" <"$work/health.json")"
}

dir="$work/fed"
step="federation"
fed_setup --pki "$pki_dir" --dir "$dir"
fed_start_trust
fed_start_central
fed_central_setup
fed_add_member "$class_a" "$code_a" "Member $code_a"
fed_add_member "$class_b" "$code_b" "Member $code_b"
fed_add_node a "$MEMBER_1_ID" SS1
fed_add_node b "$MEMBER_2_ID" SS2
fed_add_client a "$class_a:$code_a:SUBA"
fed_add_client b "$class_b:$code_b:SUBB"
fed_nodectl a client connection-type "$class_a:$code_a:SUBA" http >/dev/null
fed_nodectl b client connection-type "$class_b:$code_b:SUBB" http >/dev/null

step="provider"
"$provider_bin" --port 0 --port-file "$dir/provider.port" --threads 4 \
  >"$dir/provider.out" 2>"$dir/provider.log" &
pids+=($!)
for _ in $(seq 1 100); do
  [[ -s "$dir/provider.port" ]] && break
  sleep 0.1
done
[[ -s "$dir/provider.port" ]] || fail "hansa-test-provider did not start"
provider="http://127.0.0.1:$(cat "$dir/provider.port")"
fed_add_openapi_service b "$class_b:$code_b:SUBB" pets "$provider/openapi.json" >/dev/null
fed_grant b "$class_b:$code_b:SUBB" pets "$sub_a"
fed_sync_nodes
wait_http "http://127.0.0.1:${fed_node_client_port[a]}/" 30

# --- calls ---
step="calls"
calls_from=$(date +%s)
a_id="$inst/$class_a/$code_a/SUBA"
b_id="$inst/$class_b/$code_b/SUBB"
for i in 1 2 3 4 5; do
  status=$(curl -sS -o "$work/last.json" -w '%{http_code}' --max-time 30 \
    -H "X-Road-Client: $a_id" -H "X-Road-Id: ops-$i-$RANDOM" \
    "http://127.0.0.1:${fed_node_client_port[a]}/r1/$b_id/pets/items/$i")
  [[ $status == 200 ]] || fail "REST call $i: HTTP $status: $(cat "$work/last.json")"
done
status=$(curl -sS -o "$work/last.json" -w '%{http_code}' --max-time 30 \
  -H "X-Road-Client: $a_id" "http://127.0.0.1:${fed_node_client_port[a]}/r1/$b_id/nosuch/items/1")
[[ $status != 200 ]] || fail "the call to a service that does not exist succeeded"
log "6 calls made (5 granted, 1 refused)"

# --- metrics, scraped by the real Prometheus ---
step="metrics text"
curl -sS --max-time 10 "${fed_node_admin_url[a]}/metrics" >"$work/metrics-a.txt"
grep -q '^# TYPE hansa_node_calls_total counter' "$work/metrics-a.txt" ||
  fail "no hansa_node_calls_total on node A: $(head -c 2000 "$work/metrics-a.txt")"
grep -q "hansa_node_calls_total{side=\"client\",client=\"$a_id\",service=\"$b_id/pets\",outcome=\"ok\"} 5" \
  "$work/metrics-a.txt" || fail "node A counts: $(grep hansa_node_calls_total "$work/metrics-a.txt")"
grep 'hansa_node_calls_total{' "$work/metrics-a.txt" | grep -v 'outcome="ok"' | grep -q "client=\"$a_id\"" ||
  fail "the refused call is not counted with its fault: $(grep hansa_node_calls_total "$work/metrics-a.txt")"
grep -q "hansa_node_call_duration_seconds_bucket{side=\"client\",client=\"$a_id\"" "$work/metrics-a.txt" ||
  fail "no latency histogram on node A"
# Into a file first: `curl | grep -q` fails under pipefail whenever grep exits before curl has
# written the whole answer (curl: (23) Failed writing body).
curl -sS --max-time 10 "${fed_node_admin_url[b]}/metrics" >"$work/metrics-b.txt"
grep -q "side=\"producer\",client=\"$a_id\"" "$work/metrics-b.txt" ||
  fail "node B does not count the calls it served"
# The message log's group commits: node A stored a request and a response record for each of
# the 5 granted calls.
logged=$(awk '$1 == "hansa_node_messagelog_commit_records_sum" {print $2}' "$work/metrics-a.txt")
[[ -n $logged ]] && awk -v n="$logged" 'BEGIN { exit !(n >= 10) }' ||
  fail "message log commit records on node A: '$logged' (want >= 10)"
grep -q '^hansa_node_messagelog_commit_seconds_count{outcome="ok"} [1-9]' "$work/metrics-a.txt" ||
  fail "no message log commit latency on node A: $(grep messagelog_commit "$work/metrics-a.txt")"
# Time-stamping (a pass every 2 s): the 10 records get a token; the counters and the admin API's
# time-stamper status agree.
stamped=""
for _ in $(seq 1 60); do
  curl -sS --max-time 10 "${fed_node_admin_url[a]}/metrics" >"$work/metrics-a2.txt"
  stamped=$(awk '$1 == "hansa_node_messagelog_timestamped_records_total" {print $2}' "$work/metrics-a2.txt")
  [[ -n $stamped ]] && awk -v n="$stamped" 'BEGIN { exit !(n >= 10) }' && break
  sleep 0.5
done
[[ -n $stamped ]] && awk -v n="$stamped" 'BEGIN { exit !(n >= 10) }' ||
  fail "time-stamped records on node A: '$stamped' (want >= 10): $(grep timestamp "$work/metrics-a2.txt")"
grep -q '^# TYPE hansa_node_messagelog_timestamp_batches_total counter' "$work/metrics-a2.txt" &&
  grep -q '^hansa_node_messagelog_timestamp_batches_total [1-9]' "$work/metrics-a2.txt" ||
  fail "no time-stamp batches counted on node A: $(grep timestamp "$work/metrics-a2.txt")"
curl -sS --max-time 10 -H "Authorization: Bearer ${fed_node_token[a]}" \
  "${fed_node_admin_url[a]}/api/v1/messagelog/timestamper" >"$work/timestamper-a.json"
python3 - "$work/timestamper-a.json" <<'PY' || fail "time-stamper status on node A: $(cat "$work/timestamper-a.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["batches"] >= 1 and s["stamped_records"] >= 10, s
PY

step="prometheus"
prom_port=$(free_port)
node_a_target=${fed_node_admin_url[a]#http://}
node_b_target=${fed_node_admin_url[b]#http://}
central_target=${fed_central_admin_url#http://}
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hansa-node
    static_configs:
      - targets: ["$node_a_target", "$node_b_target"]
  - job_name: hansa-central
    static_configs:
      - targets: ["$central_target"]
YML
"$prometheus_bin" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom-data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
prom="http://127.0.0.1:$prom_port"
query() {  # PROMQL -> number of result series
  curl -sS --max-time 10 --get "$prom/api/v1/query" --data-urlencode "query=$1" |
    jq_ "len(d['data']['result']) if d.get('status') == 'success' else -1"
}
deadline=$((SECONDS + 60))
until [[ $(query "hansa_node_calls_total{client=\"$a_id\",outcome=\"ok\"}" 2>/dev/null || echo 0) -ge 2 ]]; do
  [[ $SECONDS -lt $deadline ]] || fail "Prometheus has no hansa_node_calls_total (targets: $(curl -sS "$prom/api/v1/targets" | head -c 3000))"
  sleep 1
done
value=$(curl -sS --get "$prom/api/v1/query" \
  --data-urlencode "query=sum(hansa_node_calls_total{side=\"client\",client=\"$a_id\",outcome=\"ok\"})" |
  jq_ "d['data']['result'][0]['value'][1]")
[[ $value == 5 ]] || fail "Prometheus sums $value client-side calls of SUBA, expected 5"
deadline=$((SECONDS + 30))
until [[ $(query 'hansa_central_last_publish_age_seconds' 2>/dev/null || echo 0) -ge 1 ]]; do
  [[ $SECONDS -lt $deadline ]] || fail "Prometheus has no hansa_central_last_publish_age_seconds"
  sleep 1
done
[[ $(query 'up{job="hansa-node"} == 1') == 2 ]] || fail "Prometheus does not see both nodes up"
log "Prometheus scraped the nodes and the central"

# --- health ---
step="health"
read -r code st < <(health "$fed_central_admin_url")
[[ $code == 200 && $st == ok ]] || fail "central health: $code $st: $(cat "$work/health.json")"
for node in a b; do
  read -r code st < <(health "${fed_node_admin_url[$node]}")
  [[ $code == 200 && ($st == ok || $st == degraded) ]] ||
    fail "node $node health: $code $st: $(cat "$work/health.json")"
done
jq_ "' '.join(c['name'] for c in d['checks'])" <"$work/health.json" >"$work/checks.txt"
for c in database globalconf token certificates tsa disk; do
  grep -qw "$c" "$work/checks.txt" || fail "health check $c missing: $(cat "$work/checks.txt")"
done
read -r code st < <(health "${fed_node_admin_url[a]}")
[[ $(jq_ "[c['status'] for c in d['checks'] if c['name']=='tsa'][0]" <"$work/health.json") == ok ]] ||
  fail "the TSA is up but the tsa check says otherwise: $(cat "$work/health.json")"

# --- operational records, per client ---
step="operational records"
now=$(date +%s)
deadline=$((SECONDS + 20))
while :; do
  n=$(api a "/opmonitor/records?from=$((calls_from - 5))&to=$((now + 60))&client=$sub_a" | jq_ "len(d['items'])")
  [[ $n -ge 6 ]] && break
  [[ $SECONDS -lt $deadline ]] || fail "node A has $n operational records of SUBA"
  sleep 1
done
n=$(api a "/opmonitor/records?from=$((calls_from - 5))&to=$((now + 60))&client=$sub_b" | jq_ "len(d['items'])")
[[ $n == 0 ]] || fail "node A has $n records with SUBB as client"
n=$(api b "/opmonitor/records?from=$((calls_from - 5))&to=$((now + 60))&provider=$sub_b&succeeded=true" | jq_ "len(d['items'])")
[[ $n -ge 5 ]] || fail "node B has $n successful records for its provider SUBB"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${fed_node_token[a]}" \
  "${fed_node_admin_url[a]}/api/v1/opmonitor/records?from=0")
[[ $status == 400 ]] || fail "an unbounded range was not refused: HTTP $status"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${fed_node_token[a]}" \
  "${fed_node_admin_url[a]}/api/v1/opmonitor/records?limit=1000000")
[[ $status == 400 ]] || fail "a huge page was not refused: HTTP $status"

# --- maintenance mode ---
step="maintenance"
curl -sS -o /dev/null --max-time 10 -H "Authorization: Bearer ${fed_node_token[a]}" \
  -H 'Content-Type: application/json' -d '{"draining":true}' "${fed_node_admin_url[a]}/api/v1/maintenance"
read -r code st < <(health "${fed_node_admin_url[a]}")
[[ $code == 503 && $st == draining ]] || fail "draining node: $code $st"
curl -sS -o /dev/null --max-time 10 -H "Authorization: Bearer ${fed_node_token[a]}" \
  -H 'Content-Type: application/json' -d '{"draining":false}' "${fed_node_admin_url[a]}/api/v1/maintenance"
read -r code st < <(health "${fed_node_admin_url[a]}")
[[ $code == 200 ]] || fail "node after maintenance: $code $st"

# --- hansactl status ---
step="hansactl status"
fed_nodectl a status >"$work/status-a.txt" 2>&1 || fail "hansactl node status: $(cat "$work/status-a.txt")"
grep -qi "health" "$work/status-a.txt" || fail "hansactl node status has no health line: $(cat "$work/status-a.txt")"
fed_centralctl status >"$work/status-c.txt" 2>&1 || fail "hansactl central status: $(cat "$work/status-c.txt")"
grep -qi "health" "$work/status-c.txt" || fail "hansactl central status has no health line: $(cat "$work/status-c.txt")"
log "hansactl node status:"; sed 's/^/    /' "$work/status-a.txt"

# --- TSA stopped: degraded ---
step="TSA stopped"
kill -TERM "$fed_trust_pid"
wait "$fed_trust_pid" 2>/dev/null || true
read -r code st < <(health "${fed_node_admin_url[a]}")
[[ $code == 200 && $st == degraded ]] || fail "health with hansa-trust stopped: $code $st: $(cat "$work/health.json")"
[[ $(jq_ "[c['status'] for c in d['checks'] if c['name']=='tsa'][0]" <"$work/health.json") == degraded ]] ||
  fail "the tsa check did not turn degraded: $(cat "$work/health.json")"
log "hansa-trust stopped: node health degraded"

# --- getSecurityServerOperationalData semantics (records older than the 60 s offset) ---
step="operational data per caller"
while [[ $(date +%s) -le $((now + 62)) ]]; do sleep 1; done
od() {  # CALLER -> recordsCount
  api a "/opmonitor/operational-data?caller=$1&records_from=$((calls_from - 5))&records_to=$((now + 1))" |
    jq_ "d['recordsCount']"
}
[[ $(od "$sub_a") -ge 6 ]] || fail "SUBA sees $(od "$sub_a") records on node A"
[[ $(od "SUBSYSTEM:$inst/$class_a/$code_a/NOBODY") == 0 ]] || fail "a stranger sees records"
[[ $(od "$owner_a") -ge 6 ]] || fail "the owner sees $(od "$owner_a") records"
n_b=$(od "$sub_b")
[[ $n_b -ge 5 && $n_b -le 6 ]] || fail "SUBB (provider of pets) sees $n_b records on node A"
log "operational data limited per caller"

fed_stop_all
log "all OK"
