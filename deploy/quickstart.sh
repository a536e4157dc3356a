#!/usr/bin/env bash
# Hansa quickstart: a whole federation on this machine, on loopback, in a few minutes.
#
#   deploy/quickstart.sh [--state DIR] [--no-install] [--no-build] [--build-dir DIR] [--exit]
#   deploy/quickstart.sh --test --build-dir build/debug [--state DIR] [--pki DIR]   # CTest
#
# What it does, in order (each step says what it is doing and, on failure, which log to read):
#   1. installs missing Debian packages (deploy/install-deps.sh) and builds the release preset;
#   2. creates the development PKI (certs/make-dev-pki.sh) under the state directory;
#   3. starts hansa-trust (dev OCSP responder + TSA), hansa-central and two nodes, for the agencies
#      DEV/GOV/1234 (node SS1) and DEV/COM/4321 (node SS2), each with a subsystem, through the
#      real APIs only (tests/integration/federation.sh): registrations are sent by the nodes and
#      approved at central, nothing is written into a database directly;
#   4. starts a sample SOAP + REST provider for each agency (hansa-test-provider), publishes them
#      as services on the agency's node (WSDL and REST base URL) and grants the other agency access;
#   5. sends one SOAP and one REST call each way through the nodes' client proxies;
#   6. takes the nodes' message-log archives and verifies them with hansa-verify;
#   7. prints what happened and commands to try more, then keeps everything running until Ctrl-C
#      (--exit: stop at once; --test: stop and exit with the result).
#
# State lives in --state DIR (default $XDG_STATE_HOME/hansa-quickstart when XDG_STATE_HOME is set,
# else ./quickstart-state). Running again stops what an earlier run left running (only processes
# started from that state directory), keeps the development PKI and builds a fresh federation.
# Everything listens on 127.0.0.1 only.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
state="" pki="" install=1 build=1 build_dir="" test_mode=0 stay=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --state) state=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    --no-build) build=0; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --pki) pki=$2; shift 2 ;;
    --exit) stay=0; shift ;;
    --test) test_mode=1; install=0; build=0; stay=0; shift ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "quickstart: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "$state" ]]; then
  if [[ -n "${XDG_STATE_HOME:-}" ]]; then
    state="$XDG_STATE_HOME/hansa-quickstart"
  else
    state="$PWD/quickstart-state"
  fi
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
[[ -n "$build_dir" ]] || build_dir="$repo/build/release"
if [[ $test_mode == 1 && ! -d "$build_dir" ]]; then
  echo "quickstart --test: no build directory $build_dir" >&2
  exit 2
fi

# --- output helpers ---
results=() # "ok|skip|fail<TAB>what"
note() { results+=("$1"$'\t'"$2"); }
say() { printf '\n== %s\n' "$*"; }
current="starting"
failed_report() {
  local rc=$1
  if [[ $rc -ne 0 && $rc -ne 130 ]]; then
    printf '\nquickstart: FAILED while: %s (exit %s)\n' "$current" "$rc" >&2
    printf 'quickstart: logs are under %s (each daemon writes <name>.log there)\n' "$state/fed" >&2
  fi
}
trap 'failed_report $?' EXIT

# --- 1. packages and build ---
if [[ $install == 1 ]]; then
  current="installing missing Debian packages (deploy/install-deps.sh)"
  say "Installing missing Debian packages"
  "$repo/deploy/install-deps.sh" all
fi
if [[ $build == 1 ]]; then
  current="building the release preset (cmake --preset release; see the compiler output above)"
  say "Building Hansa (release preset, build/release)"
  (cd "$repo" && cmake --preset release >/dev/null && cmake --build --preset release -j "$(nproc)")
  build_dir="$repo/build/release"
fi

# --- 2. development PKI ---
[[ -n "$pki" ]] || pki="$state/pki"
if [[ -f "$pki/pki.env" ]]; then
  say "Development PKI: reusing $pki"
else
  current="creating the development PKI (certs/make-dev-pki.sh)"
  say "Creating the development PKI in $pki"
  "$repo/certs/make-dev-pki.sh" --force "$pki" >"$state/make-dev-pki.log" 2>&1 ||
    { echo "see $state/make-dev-pki.log" >&2; false; }
fi

# --- stop what an earlier run left running ---
if [[ -f "$state/pids" ]]; then
  while read -r pid; do
    [[ -n "$pid" && -r /proc/$pid/cmdline ]] || continue
    if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$state/"; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done <"$state/pids"
  sleep 1
  rm -f "$state/pids"
fi
rm -rf "$state/fed" "$state/providers" "$state/calls" "$state/archives"
mkdir -p "$state/providers" "$state/calls" "$state/archives"

# --- 3. the federation ---
# shellcheck source=tests/integration/federation.sh
source "$repo/tests/integration/federation.sh"
fed_tag=quickstart
cleanup() {
  local rc=$?
  failed_report "$rc"
  if [[ ${#fed_pids[@]} -gt 0 ]]; then
    echo "quickstart: stopping the federation"
    fed_stop_all
  fi
  rm -f "$state/pids"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
remember_pids() { printf '%s\n' "${fed_pids[@]}" >"$state/pids"; }

current="finding the binaries in $build_dir"
fed_setup --build-dir "$build_dir" --pki "$pki" --dir "$state/fed"

say "Starting hansa-trust (development OCSP responder and TSA)"
current="starting hansa-trust"
fed_start_trust
remember_pids

say "Starting hansa-central and approving the dev CA and TSA"
current="starting hansa-central"
fed_start_central
remember_pids
fed_central_setup

IFS=/ read -r inst a_class a_code <<<"$MEMBER_1_ID"
IFS=/ read -r _ b_class b_code <<<"$MEMBER_2_ID"
a_sub=TAX
b_sub=REGISTRY
a_client="$a_class:$a_code:$a_sub"
b_client="$b_class:$b_code:$b_sub"
a_id="SUBSYSTEM:$inst/$a_class/$a_code/$a_sub"
b_id="SUBSYSTEM:$inst/$b_class/$b_code/$b_sub"

say "Members: $inst/$a_class/$a_code (Tax Agency) and $inst/$b_class/$b_code (Business Registry)"
current="adding the members at central"
fed_add_member "$a_class" "$a_code" "Tax Agency"
fed_add_member "$b_class" "$b_code" "Business Registry"

say "Node SS1 of the Tax Agency: keys, certificates, registration"
current="bringing up node SS1"
fed_add_node a "$MEMBER_1_ID" SS1
remember_pids
fed_add_client a "$a_client"
# The information systems call the client proxy over plain HTTP on loopback (the default
# connection type requires HTTPS with an IS certificate).
fed_ctl_ok a-conn fed_nodectl a client connection-type "$a_client" http >/dev/null

say "Node SS2 of the Business Registry: keys, certificates, registration"
current="bringing up node SS2"
fed_add_node b "$MEMBER_2_ID" SS2
remember_pids
fed_add_client b "$b_client"
fed_ctl_ok b-conn fed_nodectl b client connection-type "$b_client" http >/dev/null
note ok "central, hansa-trust and two nodes registered through the admin APIs"

# --- 4. providers, services, access rights ---
start_provider() {  # NAME -> sets provider_port
  local name=$1 pf="$state/providers/$1.port"
  current="starting the sample provider $name (log $state/providers/$name.log)"
  "$FED_PROVIDER_BIN" --port 0 --port-file "$pf" >"$state/providers/$name.out" \
    2>"$state/providers/$name.log" &
  fed_track $!
  local deadline=$((SECONDS + 20))
  until [[ -s "$pf" ]]; do
    [[ $SECONDS -lt $deadline ]] || fed_fail "the provider $name did not start" "$state/providers/$name.log"
    sleep 0.1
  done
  provider_port=$(cat "$pf")
}

services_ready=0
if [[ -n "${FED_PROVIDER_BIN:-}" ]]; then
  say "Sample providers (hansa-test-provider) and their services"
  start_provider a
  a_provider=$provider_port
  start_provider b
  b_provider=$provider_port
  remember_pids
  current="publishing the services on the nodes"
  fed_add_wsdl_service a "$a_client" "http://127.0.0.1:$a_provider/wsdl" "http://127.0.0.1:$a_provider/soap" >/dev/null
  fed_add_rest_service a "$a_client" records "http://127.0.0.1:$a_provider/rest" >/dev/null
  fed_add_wsdl_service b "$b_client" "http://127.0.0.1:$b_provider/wsdl" "http://127.0.0.1:$b_provider/soap" >/dev/null
  fed_add_rest_service b "$b_client" records "http://127.0.0.1:$b_provider/rest" >/dev/null
  current="granting access"
  for svc in echo records; do
    fed_grant a "$a_client" "$svc" "$b_id"
    fed_grant b "$b_client" "$svc" "$a_id"
  done
  fed_sync_nodes
  services_ready=1
  note ok "services: SOAP 'echo' (WSDL) and REST 'records' on each node, each agency allowed to call the other"
else
  note skip "sample providers: hansa-test-provider is not in $build_dir (bench/provider not built yet)"
fi

# --- 5. calls through the client proxies ---
soap_request() {  # CLIENT_ID SERVICE_OWNER_ID SERVICE_CODE
  local c1 c2 c3 s1 s2 s3
  IFS=/ read -r _ c1 c2 c3 <<<"${1#*:}"
  IFS=/ read -r _ s1 s2 s3 <<<"${2#*:}"
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"
    xmlns:ex="http://hansa.example/producer">
  <soapenv:Header>
    <xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>$inst</id:xRoadInstance><id:memberClass>$c1</id:memberClass><id:memberCode>$c2</id:memberCode><id:subsystemCode>$c3</id:subsystemCode></xrd:client>
    <xrd:service id:objectType="SERVICE"><id:xRoadInstance>$inst</id:xRoadInstance><id:memberClass>$s1</id:memberClass><id:memberCode>$s2</id:memberCode><id:subsystemCode>$s3</id:subsystemCode><id:serviceCode>$3</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>
    <xrd:id>quickstart-$(date +%s%N)</xrd:id>
    <xrd:userId>quickstart</xrd:userId>
    <xrd:protocolVersion>4.0</xrd:protocolVersion>
  </soapenv:Header>
  <soapenv:Body><ex:echo><ex:message>Hello from $1</ex:message></ex:echo></soapenv:Body>
</soapenv:Envelope>
EOF
}

proxy_up() {  # NODE -> whether its client proxy accepts connections (waits up to 20 s)
  [[ $fed_node_has_proxies == 1 ]] || return 1
  local deadline=$((SECONDS + 20))
  until curl -s -o /dev/null --max-time 3 "http://127.0.0.1:${fed_node_client_port[$1]}/" 2>/dev/null; do
    [[ $SECONDS -lt $deadline ]] || return 1
    sleep 0.5
  done
}

calls_ok=0
call_failures=0
one_call() {  # KIND(SOAP|REST) FROM_NODE FROM_ID TO_ID
  local kind=$1 node=$2 from=$3 to=$4 out code
  local port=${fed_node_client_port[$node]}
  out="$state/calls/$kind-$node.out"
  if [[ $kind == SOAP ]]; then
    soap_request "$from" "$to" echo >"$state/calls/$kind-$node.request.xml"
    code=$(curl -sS -o "$out" -w '%{http_code}' --max-time 30 -H 'Content-Type: text/xml; charset=utf-8' \
      --data-binary "@$state/calls/$kind-$node.request.xml" "http://127.0.0.1:$port/" 2>"$out.err" || true)
  else
    local path=${to#SUBSYSTEM:}
    code=$(curl -sS -o "$out" -w '%{http_code}' --max-time 30 -H "X-Road-Client: ${from#SUBSYSTEM:}" \
      "http://127.0.0.1:$port/r1/$path/records/hello?from=quickstart" 2>"$out.err" || true)
  fi
  if [[ $code == 200 ]] && { [[ $kind == REST ]] || ! grep -q 'Fault>' "$out"; }; then
    note ok "$kind call $from -> $to through node $node's client proxy: HTTP 200 ($out)"
    calls_ok=$((calls_ok + 1))
  else
    note fail "$kind call $from -> $to through node $node: HTTP ${code:-none} ($out, node log ${fed_node_log[$node]})"
    call_failures=$((call_failures + 1))
  fi
}

if [[ $services_ready == 1 ]]; then
  say "Calls through the client proxies"
  if proxy_up a && proxy_up b; then
    current="calling services through the client proxies"
    one_call SOAP a "$a_id" "$b_id"
    one_call REST a "$a_id" "$b_id"
    one_call SOAP b "$b_id" "$a_id"
    one_call REST b "$b_id" "$a_id"
  else
    note skip "SOAP and REST calls: the nodes' client proxies are not available yet in this build (node/proxy)"
  fi
else
  note skip "SOAP and REST calls: no sample providers"
fi

# --- 6. message-log archives and hansa-verify ---
archive_files() {  # NODE -> the node's message-log archives, oldest first
  # File names carry times in seconds, so archives written within one second do not sort by name:
  # follow each archive's linkinginfo header ("<prev digest> <prev file> <alg>") instead, starting
  # from the archive that names no predecessor among these files (modification time breaks ties).
  find "${fed_node_dir[$1]}" -name 'mlog*.zip' -printf '%T@ %p\n' 2>/dev/null | sort -n |
    cut -d' ' -f2- | python3 -c '
import os, sys, zipfile
files = [l.rstrip("\n") for l in sys.stdin if l.strip()]
prev = {}
for f in files:
    try:
        with zipfile.ZipFile(f) as z:
            prev[f] = z.read("linkinginfo").decode().split("\n", 1)[0].split()[1]
    except Exception:
        prev[f] = "-"
by_name = {os.path.basename(f): f for f in files}
nxt = {prev[f]: f for f in files if prev[f] in by_name}
ordered = [f for f in files if prev[f] not in by_name]
for start in list(ordered):
    f = start
    while os.path.basename(f) in nxt and nxt[os.path.basename(f)] not in ordered:
        f = nxt[os.path.basename(f)]
        ordered.append(f)
ordered += [f for f in files if f not in ordered]
print("\n".join(ordered))'
}
archive_pass() {  # NODE -- asks the node for one archiving pass (admin API); prints the HTTP code
  curl -s -o "$state/archives/pass-$1.out" -w "%{http_code}" -X POST \
    -H "Content-Type: application/json" --data "{}" \
    -H "Authorization: Bearer ${fed_node_token[$1]}" \
    "${fed_node_admin_url[$1]}/api/v1/messagelog/archive" || true
}
verify_archives() {  # NODE -- hansa-verify over all of the node's archives as one chain
  local node=$1 files=() f
  mapfile -t files < <(archive_files "$node")
  if [[ ${#files[@]} -eq 0 ]]; then
    note skip "node $node: no message-log archive (the message log is not wired into this build's node yet, or archiving wrote nothing)"
    return 0
  fi
  mkdir -p "$state/archives/$node"
  cp "${files[@]}" "$state/archives/$node/"
  local shared report="$state/archives/$node/verify.txt"
  # The verification configuration: the shared parameters the node downloaded (the stored
  # entry that lists the approved CAs), copied next to the archives for the auditor.
  shared=$(grep -l -s '<approvedCA>' "${fed_node_dir[$node]}"/var/globalconf/conf/*/entry-* | sort -V | tail -n 1)
  if [[ -n "$shared" ]]; then
    cp "$shared" "$state/archives/$node/shared-params.xml"
    shared="$state/archives/$node/shared-params.xml"
  fi
  if "$FED_VERIFY_BIN" "${files[@]}" ${shared:+--shared-params "$shared"} >"$report" 2>&1; then
    note ok "node $node: ${#files[@]} message-log archive(s) exported to $state/archives/$node and verified by hansa-verify ($report)"
  else
    note fail "node $node: hansa-verify rejected the message-log archives ($report)"
  fi
}

if [[ $calls_ok -eq 0 ]]; then
  note skip "message-log archives: no call was answered, nothing to archive"
elif [[ -z "${FED_VERIFY_BIN:-}" ]]; then
  note skip "message-log archives: hansa-verify is not built"
else
  say "Message-log archives and hansa-verify"
  current="archiving the message logs"
  # Records are time-stamped in the background, then archived; ask for archiving passes until
  # both nodes have written an archive (or a minute has passed).
  deadline=$((SECONDS + 60))
  available=1
  while true; do
    code_a=$(archive_pass a)
    code_b=$(archive_pass b)
    if [[ $code_a != 2* || $code_b != 2* ]]; then
      available=0
      break
    fi
    if [[ -n "$(archive_files a)" && -n "$(archive_files b)" ]] || [[ $SECONDS -ge $deadline ]]; then
      break
    fi
    sleep 2
  done
  if [[ $available == 0 ]]; then
    note skip "message-log archives: the nodes' message log is not available in this build (POST /api/v1/messagelog/archive answered HTTP $code_a: $(head -c 200 "$state/archives/pass-a.out"))"
  else
    current="verifying the archives with hansa-verify"
    verify_archives a
    verify_archives b
  fi
fi

# --- 7. report ---
cat >"$state/env.sh" <<EOF
# source $state/env.sh  -- hansactl and curl settings for the quickstart federation
export PATH="$(dirname "$FED_CTL_BIN"):$(dirname "$FED_NODE_BIN"):$(dirname "$FED_CENTRAL_BIN"):\$PATH"
export HANSA_CENTRAL_URL="$fed_central_admin_url"
export HANSA_CENTRAL_TOKEN="$fed_central_token"
export HANSA_NODE_A_URL="${fed_node_admin_url[a]}" HANSA_NODE_A_TOKEN="${fed_node_token[a]}"
export HANSA_NODE_B_URL="${fed_node_admin_url[b]}" HANSA_NODE_B_TOKEN="${fed_node_token[b]}"
export HANSA_CLIENT_PROXY_A="http://127.0.0.1:${fed_node_client_port[a]}"
export HANSA_CLIENT_PROXY_B="http://127.0.0.1:${fed_node_client_port[b]}"
EOF

say "Summary"
failures=0
for r in "${results[@]}"; do
  kind=${r%%$'\t'*}
  text=${r#*$'\t'}
  case $kind in
    ok) printf '  [ok]   %s\n' "$text" ;;
    skip) printf '  [n/a]  %s\n' "$text" ;;
    fail) printf '  [FAIL] %s\n' "$text"; failures=$((failures + 1)) ;;
  esac
done

cat <<EOF

Running on 127.0.0.1 (state and logs in $state):
  central admin API  $fed_central_admin_url      log $fed_central_log
  node SS1 (Tax Agency, $a_id)
    admin API ${fed_node_admin_url[a]}   client proxy http://127.0.0.1:${fed_node_client_port[a]}   log ${fed_node_log[a]}
  node SS2 (Business Registry, $b_id)
    admin API ${fed_node_admin_url[b]}   client proxy http://127.0.0.1:${fed_node_client_port[b]}   log ${fed_node_log[b]}
  OCSP $fed_ocsp_url   TSA $fed_tsa_url

Try more (in another terminal):
  source $state/env.sh
  hansactl central --url \$HANSA_CENTRAL_URL --token \$HANSA_CENTRAL_TOKEN members list
  hansactl central --url \$HANSA_CENTRAL_URL --token \$HANSA_CENTRAL_TOKEN requests list
  hansactl node --url \$HANSA_NODE_A_URL --token \$HANSA_NODE_A_TOKEN status
  hansactl node --url \$HANSA_NODE_A_URL --token \$HANSA_NODE_A_TOKEN service list $a_client
  hansactl node --url \$HANSA_NODE_B_URL --token \$HANSA_NODE_B_TOKEN access list $b_client records
  curl -H 'X-Road-Client: ${a_id#SUBSYSTEM:}' \$HANSA_CLIENT_PROXY_A/r1/${b_id#SUBSYSTEM:}/records/anything
  curl -H 'Content-Type: text/xml' --data-binary @$state/calls/SOAP-a.request.xml \$HANSA_CLIENT_PROXY_A/
EOF

if [[ $failures -gt 0 ]]; then
  echo
  echo "quickstart: $failures step(s) failed (see [FAIL] above and the named files)" >&2
  exit 1
fi
if [[ $stay == 1 ]]; then
  echo
  echo "The federation keeps running. Press Ctrl-C to stop everything."
  while true; do
    sleep 3600 &
    wait $! || true
  done
fi
echo
echo "quickstart: done"
