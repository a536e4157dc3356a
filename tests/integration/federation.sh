# Brings up a Hansa federation on loopback through the real daemons and their APIs only (never by
# writing a database): hansa-trust (OCSP + TSA of the dev PKI), hansa-central (init, serve, admin
# API via hansactl/curl), and any number of hansa-node instances (init, serve, anchor import, token
# login, keys, CSRs, certificates issued by the dev CA with openssl, import, authCertReg and
# clientReg through the node admin API, approval at central, wait until registered), then service
# descriptions and access rights. Used by the quickstart (deploy/quickstart.sh), the integration
# tests, the ops test and the benchmark.
#
# Usage (bash, `set -euo pipefail` recommended):
#
#   source tests/integration/federation.sh
#   fed_setup --build-dir build/debug --pki "$pki" --dir "$work/fed"   # or --bin-dir / FED_*_BIN
#   fed_start_trust
#   fed_start_central                      # [--db URI] (default SQLite in the central's directory)
#   fed_central_setup                      # dev CA (+ OCSP), TSA; waits for the configuration
#   fed_add_member GOV 1234 "Agency A"     # member class is added when missing
#   fed_add_node a DEV/GOV/1234 SS1        # [--db URI] [--pin-in-config] [--address HOST]
#   fed_add_client a GOV:1234:SUB1         # add + register + approve + wait (subsystem created)
#   fed_add_rest_service a GOV:1234:SUB1 weather http://127.0.0.1:9000/api
#   fed_add_openapi_service a GOV:1234:SUB1 pets URL_OR_FILE [PROVIDER_URL]
#   fed_add_wsdl_service a GOV:1234:SUB1 URL_OR_FILE [PROVIDER_URL]
#   fed_grant a GOV:1234:SUB1 weather SUBSYSTEM:DEV/COM/4321/CLIENT
#   fed_sync_nodes                          # every node downloads the latest configuration now
#   fed_add_node_instance a                 # another `serve` of node a (shared PostgreSQL + token)
#   fed_nodectl a client list ; fed_centralctl members list        # hansactl, already logged in
#   fed_stop_all                            # also called by fed_cleanup / your EXIT trap
#
# After fed_add_node NAME: fed_node_admin_url[NAME], fed_node_token[NAME] (operator admin token),
# fed_node_dir[NAME], fed_node_conf[NAME], fed_node_log[NAME], fed_node_pid[NAME],
# fed_node_server[NAME] (SERVER:INST/CLASS/CODE/CODE), fed_node_token_id[NAME] (signer token id),
# fed_node_auth_cert[NAME], fed_node_sign_cert[NAME] (certificate ids) and the proxy ports the
# federation reserved for it: fed_node_client_port[NAME] (client proxy, HTTP),
# fed_node_server_port[NAME] (server proxy, mTLS). Central: fed_central_admin_url,
# fed_central_token, fed_central_dir, fed_anchor (anchor file), fed_instance.
# Trust: fed_ocsp_url, fed_tsa_url.
#
# The registered address of a node is 127.0.0.1:<its server-proxy port> when the build has the
# proxies (fed_node_address[NAME]; --address overrides it), else 127.0.0.1.
#
# Node configuration sections beyond what this library writes (proxies, message log, ...): define
# a function `fed_node_extra_toml NAME` that prints TOML; it is appended to each node.toml and may
# use the fed_node_* variables of NAME (ports are reserved before it is called). Without it, the
# library writes the [proxy] section itself when the node's configuration knows it (detected from
# deploy/examples/node.toml; fed_node_has_proxies=1).
#
# Every function fails loudly: it prints "[federation] FAILED at '<step>': <why>" with the log
# file to read and exits 1 (the caller's EXIT trap then runs). Processes started here are in
# fed_pids (and in lib.sh's `pids` when that array exists); fed_stop_all stops them.
# shellcheck shell=bash

set -o pipefail
fed_tag=${fed_tag:-federation}
fed_step="setup"
fed_pids=()
declare -gA fed_node_admin_url=() fed_node_token=() fed_node_dir=() fed_node_conf=() \
  fed_node_log=() fed_node_pid=() fed_node_server=() fed_node_token_id=() fed_node_auth_cert=() \
  fed_node_sign_cert=() fed_node_client_port=() fed_node_server_port=() fed_node_pin=() \
  fed_node_owner=() fed_node_db=() fed_node_instances=() fed_member_signcert=()
fed_nodes=()

fed_log() { echo "[$fed_tag] $*"; }
fed_fail() {  # MESSAGE [LOG_FILE]
  local msg=$1 logf=${2:-}
  echo "[$fed_tag] FAILED at '$fed_step': $msg" >&2
  if [[ -n "$logf" && -f "$logf" ]]; then
    echo "[$fed_tag] last lines of $logf:" >&2
    tail -n 25 "$logf" | sed 's/^/    /' >&2
  fi
  exit 1
}

fed_track() {  # PID -- remembered for fed_stop_all (and lib.sh's trap)
  fed_pids+=("$1")
  if declare -p pids >/dev/null 2>&1; then
    pids+=("$1")
  fi
}

fed_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

fed_wait_http() {  # URL SECONDS PID LOG -- until something answers on URL (fails if PID dies)
  local url=$1 deadline=$((SECONDS + $2)) pid=${3:-} logf=${4:-}
  until curl -sk -o /dev/null --max-time 2 "$url"; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      fed_fail "the process exited before answering on $url" "$logf"
    fi
    [[ $SECONDS -lt $deadline ]] || fed_fail "nothing answers on $url after $2 s" "$logf"
    sleep 0.2
  done
}

fed_json_str() { python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$1"; }
# fed_jq EXPR -- evaluates a Python expression on the JSON read from stdin (bound to d).
fed_jq() { python3 -c 'import json,sys; d=json.load(sys.stdin); v='"$1"'; print(v if not isinstance(v,(dict,list)) else json.dumps(v))'; }

# --- setup ---

# fed_setup --pki DIR --dir DIR [--build-dir DIR | --bin-dir DIR] -- where binaries, PKI and state
# are. Binaries may also be given as FED_CENTRAL_BIN, FED_NODE_BIN, FED_TRUST_BIN, FED_CTL_BIN,
# FED_VERIFY_BIN, FED_PROVIDER_BIN.
fed_setup() {
  fed_step="setup"
  local build_dir="" bin_dir=""
  fed_pki="" fed_dir=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --pki) fed_pki=$2; shift 2 ;;
      --dir) fed_dir=$2; shift 2 ;;
      --build-dir) build_dir=$2; shift 2 ;;
      --bin-dir) bin_dir=$2; shift 2 ;;
      *) fed_fail "fed_setup: unknown argument $1" ;;
    esac
  done
  [[ -n "$fed_pki" && -n "$fed_dir" ]] || fed_fail "fed_setup needs --pki and --dir"
  [[ -f "$fed_pki/pki.env" ]] || fed_fail "no dev PKI in $fed_pki (run certs/make-dev-pki.sh)"
  # shellcheck disable=SC1091
  source "$fed_pki/pki.env"
  mkdir -p "$fed_dir"
  fed_dir=$(cd "$fed_dir" && pwd)
  fed_pki=$(cd "$fed_pki" && pwd)
  fed_find() {  # VAR NAME SUBDIR...
    local var=$1 name=$2 sub
    shift 2
    [[ -n "${!var:-}" ]] && return 0
    if [[ -n "$bin_dir" && -x "$bin_dir/$name" ]]; then
      printf -v "$var" '%s' "$bin_dir/$name"
      return 0
    fi
    for sub in "$@"; do
      if [[ -n "$build_dir" && -x "$build_dir/$sub/$name" ]]; then
        printf -v "$var" '%s' "$(cd "$build_dir/$sub" && pwd)/$name"
        return 0
      fi
    done
    if command -v "$name" >/dev/null; then
      printf -v "$var" '%s' "$(command -v "$name")"
    else
      printf -v "$var" '%s' ""
    fi
  }
  fed_find FED_CENTRAL_BIN hansa-central central/daemon
  fed_find FED_NODE_BIN hansa-node node/daemon
  fed_find FED_TRUST_BIN hansa-trust certs/hansa-trust
  fed_find FED_CTL_BIN hansactl tools/hansactl
  fed_find FED_VERIFY_BIN hansa-verify tools/hansa-verify
  fed_find FED_PROVIDER_BIN hansa-test-provider bench bench/provider
  local v
  for v in FED_CENTRAL_BIN FED_NODE_BIN FED_TRUST_BIN FED_CTL_BIN; do
    [[ -n "${!v}" ]] || fed_fail "binary for $v not found (build it, or set $v)"
  done
  fed_trust_state="$fed_dir/trust/state.json"
  cat >"$fed_dir/cert-ext.cnf" <<'EOF'
[ v3_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:${ENV::FED_OCSP_URL}
[ v3_auth ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:${ENV::FED_OCSP_URL}
EOF
  # Whether the node's configuration knows the proxy sections (written by the proxy work).
  fed_node_has_proxies=0 fed_node_has_messagelog=0
  local example
  example="$(dirname "${BASH_SOURCE[0]}")/../../deploy/examples/node.toml"
  if [[ -f "$example" ]] && grep -q '^\[proxy\]' "$example"; then
    fed_node_has_proxies=1
  fi
  if [[ -f "$example" ]] && grep -q '^\[messagelog\]' "$example"; then
    fed_node_has_messagelog=1
  fi
}

# Stops every process this library started (TERM, then KILL after 10 s), newest first.
fed_stop_all() {
  local i pid
  for ((i = ${#fed_pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${fed_pids[i]}" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 10))
  for pid in "${fed_pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  fed_pids=()
}

# Prints the last lines of every log under the federation directory (for failure reports).
fed_dump_logs() {
  local f
  while IFS= read -r f; do
    echo "===== $f" >&2
    tail -n "${1:-40}" "$f" >&2
  done < <(find "$fed_dir" -name '*.log' -size +0 2>/dev/null | sort)
}

# --- hansactl wrappers ---

fed_centralctl() { "$FED_CTL_BIN" central --url "$fed_central_admin_url" --token "$fed_central_token" "$@"; }
fed_nodectl() {
  local name=$1
  shift
  "$FED_CTL_BIN" node --url "${fed_node_admin_url[$name]}" --token "${fed_node_token[$name]}" "$@"
}

# fed_ctl_ok LOGNAME CMD... -- runs a hansactl command, prints stdout, fails with its message.
fed_ctl_ok() {
  local logf="$fed_dir/ctl/$1.log"
  shift
  mkdir -p "$fed_dir/ctl"
  local out
  if ! out=$("$@" 2>"$logf"); then
    fed_fail "hansactl ${*:2}: $(cat "$logf")"
  fi
  printf '%s\n' "$out"
}

# fed_central_api METHOD PATH [JSON] -- the central admin API over curl (for what hansactl has no
# verb for); prints the body, fails on a non-2xx answer.
fed_central_api() {
  local method=$1 path=$2 body=${3:-} out status
  out=$(mktemp "$fed_dir/central/api.XXXXXX")
  local args=(-sS -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $fed_central_token")
  if [[ -n "$body" ]]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  status=$(curl "${args[@]}" "$fed_central_admin_url/api/v1$path") || fed_fail "$method $path: no answer"
  [[ $status == 2* ]] || fed_fail "central $method $path -> HTTP $status: $(cat "$out")"
  cat "$out"
  rm -f "$out"
}

# --- trust services ---

# Starts hansa-trust (dev OCSP responder and TSA) on free ports; sets fed_ocsp_url, fed_tsa_url.
fed_start_trust() {
  fed_step="start hansa-trust"
  mkdir -p "$fed_dir/trust"
  local out="$fed_dir/trust/trust.out" logf="$fed_dir/trust/trust.log"
  "$FED_TRUST_BIN" --pki-dir "$fed_pki" --state "$fed_trust_state" serve --ocsp-port 0 --tsa-port 0 \
    >"$out" 2>"$logf" &
  local pid=$!
  fed_track "$pid"
  fed_trust_pid=$pid
  local deadline=$((SECONDS + 20))
  until grep -q "TSA http" "$out" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fed_fail "hansa-trust exited" "$logf"
    [[ $SECONDS -lt $deadline ]] || fed_fail "hansa-trust did not report its URLs" "$logf"
    sleep 0.1
  done
  fed_ocsp_url=$(grep -o 'OCSP http://[^ ]*' "$out" | cut -d' ' -f2)
  fed_tsa_url=$(grep -o 'TSA http://[^ ]*' "$out" | cut -d' ' -f2)
  export FED_OCSP_URL=$fed_ocsp_url
  fed_log "hansa-trust: OCSP $fed_ocsp_url, TSA $fed_tsa_url (log $logf)"
}

# --- central ---

# fed_start_central [--db URI] [--instance ID] -- writes central.toml, runs init and serve, exports
# the anchor. Sets fed_central_admin_url, fed_central_token, fed_anchor, fed_instance.
fed_start_central() {
  local db="" inst="${DEV_INSTANCE:-}"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --db) db=$2; shift 2 ;;
      --instance) inst=$2; shift 2 ;;
      *) fed_fail "fed_start_central: unknown argument $1" ;;
    esac
  done
  if [[ -z "$inst" ]]; then
    inst=${MEMBER_1_ID%%/*}
  fi
  fed_instance=$inst
  fed_step="central: configuration"
  fed_central_dir="$fed_dir/central"
  mkdir -p "$fed_central_dir"
  local admin_port mgmt_port pub_port
  admin_port=$(fed_free_port); mgmt_port=$(fed_free_port); pub_port=$(fed_free_port)
  fed_central_admin_url="http://127.0.0.1:$admin_port"
  fed_central_publisher_url="http://127.0.0.1:$pub_port"
  fed_central_mgmt_url="https://127.0.0.1:$mgmt_port/managementservice/"
  fed_central_log="$fed_central_dir/central.log"
  cat >"$fed_central_dir/central.toml" <<EOF
# Written by tests/integration/federation.sh (see deploy/examples/central.toml for every key).
[instance]
identifier = "$inst"
management_service_provider = "SUBSYSTEM:$inst/GOV/CENTRAL/MANAGEMENT"
management_service_provider_name = "Federation operator"
[database]
uri = "${db:-var/central.db}"
[admin_api]
listen_host = "127.0.0.1"
listen_port = $admin_port
[management]
listen_host = "127.0.0.1"
listen_port = $mgmt_port
public_url = "$fed_central_mgmt_url"
[publisher]
listen_host = "127.0.0.1"
listen_port = $pub_port
public_url = "$fed_central_publisher_url"
regeneration_interval = 2
[logging]
level = "info"
file = "$fed_central_log"
EOF
  fed_step="central: hansa-central init"
  "$FED_CENTRAL_BIN" init --config "$fed_central_dir/central.toml" \
    >"$fed_central_dir/init.out" 2>"$fed_central_dir/init.log" ||
    fed_fail "hansa-central init" "$fed_central_dir/init.log"
  fed_central_token=$(tail -n 1 "$fed_central_dir/init.out")
  [[ "$fed_central_token" == hansa_* ]] || fed_fail "hansa-central init printed no admin token" "$fed_central_dir/init.out"
  printf '%s\n' "$fed_central_token" >"$fed_central_dir/admin-token"
  chmod 600 "$fed_central_dir/admin-token"

  fed_step="central: hansa-central serve"
  "$FED_CENTRAL_BIN" serve --config "$fed_central_dir/central.toml" \
    >"$fed_central_dir/serve.out" 2>"$fed_central_dir/serve.log" &
  fed_central_pid=$!
  fed_track "$fed_central_pid"
  fed_wait_http "$fed_central_admin_url/api/v1/instance" 30 "$fed_central_pid" "$fed_central_dir/serve.log"
  fed_wait_http "$fed_central_mgmt_url" 30 "$fed_central_pid" "$fed_central_log"
  fed_wait_http "$fed_central_publisher_url/internalconf" 30 "$fed_central_pid" "$fed_central_log"

  fed_step="central: hansa-central anchor"
  fed_anchor="$fed_central_dir/anchor.xml"
  "$FED_CENTRAL_BIN" anchor --config "$fed_central_dir/central.toml" >"$fed_anchor" \
    2>"$fed_central_dir/anchor.log" || fed_fail "hansa-central anchor" "$fed_central_dir/anchor.log"
  fed_log "hansa-central: admin API $fed_central_admin_url, publisher $fed_central_publisher_url (log $fed_central_log)"
}

# Waits until central has published a configuration with every registry change so far.
fed_central_wait_published() {
  local deadline=$((SECONDS + ${1:-60})) st
  while true; do
    st=$(fed_centralctl --json status 2>/dev/null || true)
    if [[ -n "$st" && $(fed_jq 'd.get("up_to_date", False)' <<<"$st") == True ]]; then
      return 0
    fi
    [[ $SECONDS -lt $deadline ]] || fed_fail "central did not publish the configuration: $st" "$fed_central_log"
    sleep 0.5
  done
}

# Approves the dev CA (intermediate with the hansa-trust OCSP responder) and the dev TSA.
fed_central_setup() {
  fed_step="central: approve the dev CA and its OCSP responder"
  fed_central_api POST /cas "{\"name\": \"Hansa dev CA\", \"certificate_profile_info\": \"hansa.DefaultCertificateProfile\",
    \"top_ca\": {\"cert\": $(fed_json_str "$ROOT_CA_CERT")},
    \"intermediate_cas\": [{\"cert\": $(fed_json_str "$INTERMEDIATE_CA_CERT"),
      \"ocsp\": [{\"url\": \"$fed_ocsp_url\", \"cert\": $(fed_json_str "$OCSP_CERT")}]}]}" >/dev/null
  fed_step="central: approve the dev TSA"
  fed_ctl_ok central-tsa fed_centralctl tsas add "Hansa dev TSA" "$fed_tsa_url" "$TSA_CERT" >/dev/null
  fed_step="central: first configuration"
  fed_central_wait_published
  fed_log "central: dev CA (OCSP $fed_ocsp_url) and TSA approved"
}

# fed_add_member CLASS CODE NAME -- the member class is created when missing.
fed_add_member() {
  local cls=$1 code=$2 name=$3
  fed_step="central: member $cls:$code"
  if ! fed_centralctl --json member-classes list 2>/dev/null |
    fed_jq '[c["code"] for c in (d["items"] if isinstance(d, dict) else d)]' | grep -q "\"$cls\""; then
    fed_ctl_ok "class-$cls" fed_centralctl member-classes add "$cls" "$cls members" >/dev/null
  fi
  fed_ctl_ok "member-$cls-$code" fed_centralctl members add "$cls" "$code" "$name" >/dev/null
}

# Ensures the subsystem exists at central (CLASS:CODE:SUB).
fed_central_subsystem() {
  local cls code sub
  IFS=: read -r cls code sub <<<"$1"
  if fed_centralctl --json members get "$cls:$code" 2>/dev/null | grep -q "\"$sub\""; then
    return 0
  fi
  fed_ctl_ok "subsystem-$cls-$code-$sub" fed_centralctl subsystems add "$cls:$code" "$sub" --name "$sub" >/dev/null
}

# --- nodes ---

# fed_issue_cert CSR_FILE USAGE(auth|sign) OUT_PEM -- the dev intermediate CA signs the CSR; the
# certificate is marked good in hansa-trust's state so OCSP answers "good".
fed_issue_cert() {
  local csr=$1 usage=$2 out=$3 serial
  serial="1$(openssl rand -hex 8 | cut -c2-)"
  FED_OCSP_URL=$fed_ocsp_url openssl x509 -req -in "$csr" -CA "$INTERMEDIATE_CA_CERT" \
    -CAkey "$INTERMEDIATE_CA_KEY" -set_serial "0x$serial" -days 365 -sha256 \
    -extfile "$fed_dir/cert-ext.cnf" -extensions "v3_$usage" -out "$out" 2>"$out.log" ||
    fed_fail "openssl x509 -req ($usage)" "$out.log"
  "$FED_TRUST_BIN" --pki-dir "$fed_pki" --state "$fed_trust_state" unrevoke "$serial" \
    >"$out.trust.log" 2>&1 || fed_fail "hansa-trust unrevoke $serial" "$out.trust.log"
}

# fed_write_node_conf NAME ADMIN_PORT FILE -- one instance's configuration.
fed_write_node_conf() {
  local name=$1 admin_port=$2 file=$3 dir=${fed_node_dir[$1]}
  local logname
  logname=$(basename "$file" .toml)
  cat >"$file" <<EOF
# Written by tests/integration/federation.sh (see deploy/examples/node.toml for every key).
[database]
uri = "${fed_node_db[$name]}"
[node]
state_dir = "$dir/var"
reload_interval = 1
EOF
  if [[ -n "${fed_node_pkcs11[$name]:-}" ]]; then
    cat >>"$file" <<EOF
[token]
type = "pkcs11"
pkcs11_module = "${FED_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}"
pkcs11_token_label = "${fed_node_pkcs11[$name]}"
EOF
  else
    cat >>"$file" <<EOF
[token]
type = "software"
software_dir = "$dir/var/token"
EOF
  fi
  if [[ "${fed_node_pin_in_conf[$name]:-0}" == 1 ]]; then
    echo "pin_file = \"$dir/token.pin\"" >>"$file"
  fi
  cat >>"$file" <<EOF
[admin_api]
listen_host = "127.0.0.1"
listen_port = $admin_port
[globalconf]
refresh_interval = 2
[ocsp]
refresh_interval = 60
[logging]
level = "info"
file = "$dir/$logname.log"
EOF
  if declare -F fed_node_extra_toml >/dev/null; then
    fed_node_extra_toml "$name" >>"$file"
  elif [[ $fed_node_has_proxies == 1 ]]; then
    # The message exchange: client proxy over plain HTTP on loopback, server proxy on its own
    # port (the node's registered address names it: 127.0.0.1:PORT). Without the message log in
    # this build the proxies are allowed to run without it (the quickstart says so).
    cat >>"$file" <<EOF
[proxy]
enabled = true
require_message_log = $([[ $fed_node_has_messagelog == 1 ]] && echo true || echo false)
client_http_host = "127.0.0.1"
client_http_port = ${fed_node_client_port[$name]}
client_https_host = ""
server_host = "127.0.0.1"
server_port = ${fed_node_server_port[$name]}
peer_port = ${fed_node_server_port[$name]}
client_worker_threads = 32
server_worker_threads = 32
EOF
    if [[ $fed_node_has_messagelog == 1 ]]; then
      # Time-stamp quickly so archives (and hansa-verify) are possible within seconds.
      cat >>"$file" <<EOF
[messagelog]
enabled = true
timestamp_interval = 2
EOF
    fi
  fi
}

# fed_start_node_instance NAME CONF ADMIN_URL -- runs `hansa-node serve` and waits for the admin API.
fed_start_node_instance() {
  local name=$1 conf=$2 url=$3 dir=${fed_node_dir[$1]}
  local base
  base=$(basename "$conf" .toml)
  "$FED_NODE_BIN" serve --config "$conf" >"$dir/$base.serve.out" 2>"$dir/$base.serve.log" &
  local pid=$!
  fed_track "$pid"
  fed_last_pid=$pid
  fed_wait_http "$url/api/v1/status" 30 "$pid" "$dir/$base.log"
}

declare -gA fed_node_pin_in_conf=() fed_node_pkcs11=() fed_node_address=()

# fed_add_node NAME OWNER(INST/CLASS/CODE) SERVER_CODE [--db URI] [--pin-in-config]
#              [--address HOST] [--pin PIN] [--pkcs11 TOKEN_LABEL]
# (--pkcs11: an initialised PKCS#11 token with that label and PIN, module FED_PKCS11_MODULE,
# default SoftHSM2; export SOFTHSM2_CONF first.)
# A fresh node registered at central: init + serve, anchor, token login, auth and sign keys, CSRs,
# dev-CA certificates, import, authCertReg (approved), the owner registered with the server.
# The owner member must exist at central (fed_add_member).
fed_add_node() {
  local name=$1 owner=$2 code=$3
  shift 3
  local db="" address="" pin="hansa-dev-pin-${name}-0000"
  fed_node_pin_in_conf[$name]=0
  fed_node_pkcs11[$name]=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --db) db=$2; shift 2 ;;
      --pin-in-config) fed_node_pin_in_conf[$name]=1; shift ;;
      --address) address=$2; shift 2 ;;
      --pin) pin=$2; shift 2 ;;
      --pkcs11) fed_node_pkcs11[$name]=$2; shift 2 ;;
      *) fed_fail "fed_add_node: unknown argument $1" ;;
    esac
  done
  local dir="$fed_dir/nodes/$name"
  mkdir -p "$dir"
  fed_nodes+=("$name")
  fed_node_dir[$name]=$dir
  fed_node_db[$name]=${db:-sqlite://$dir/var/node.db}
  fed_node_owner[$name]=$owner
  fed_node_pin[$name]=$pin
  fed_node_server[$name]="SERVER:$owner/$code"
  fed_node_client_port[$name]=$(fed_free_port)
  fed_node_server_port[$name]=$(fed_free_port)
  if [[ -z "$address" ]]; then
    address=127.0.0.1
    [[ $fed_node_has_proxies == 1 ]] && address="127.0.0.1:${fed_node_server_port[$name]}"
  fi
  fed_node_address[$name]=$address
  printf '%s\n' "$pin" >"$dir/token.pin"
  chmod 600 "$dir/token.pin"
  local admin_port
  admin_port=$(fed_free_port)
  fed_node_admin_url[$name]="http://127.0.0.1:$admin_port"
  fed_node_conf[$name]="$dir/node.toml"
  fed_node_log[$name]="$dir/node.log"
  fed_node_instances[$name]=1
  fed_write_node_conf "$name" "$admin_port" "$dir/node.toml"

  fed_step="node $name: hansa-node init"
  "$FED_NODE_BIN" init --config "$dir/node.toml" --owner "$owner" --server-code "$code" \
    --pin-file "$dir/token.pin" >"$dir/init.out" 2>"$dir/init.log" || fed_fail "hansa-node init" "$dir/init.log"
  fed_node_token[$name]=$(tail -n 1 "$dir/init.out")
  [[ -n "${fed_node_token[$name]}" ]] || fed_fail "hansa-node init printed no admin token" "$dir/init.out"
  printf '%s\n' "${fed_node_token[$name]}" >"$dir/admin-token"
  chmod 600 "$dir/admin-token"

  fed_step="node $name: hansa-node serve"
  fed_start_node_instance "$name" "$dir/node.toml" "${fed_node_admin_url[$name]}"
  fed_node_pid[$name]=$fed_last_pid

  fed_step="node $name: import the configuration anchor"
  fed_ctl_ok "$name-anchor" fed_nodectl "$name" globalconf import-anchor "$fed_anchor" >/dev/null
  fed_node_refresh "$name"

  fed_step="node $name: token login"
  local tokens
  tokens=$(fed_ctl_ok "$name-tokens" fed_nodectl "$name" --json token list) || exit 1
  fed_node_token_id[$name]=$(fed_jq 'd["items"][0]["id"]' <<<"$tokens")
  if [[ $(fed_jq 'd["items"][0].get("logged_in", False)' <<<"$tokens") != True ]]; then
    fed_ctl_ok "$name-login" fed_nodectl "$name" token login "${fed_node_token_id[$name]}" \
      --pin-file "$dir/token.pin" >/dev/null
  fi

  local cls mcode
  IFS=/ read -r _ cls mcode <<<"$owner"
  fed_step="node $name: authentication key, CSR and certificate"
  fed_node_auth_cert[$name]=$(fed_node_key_and_cert "$name" auth AUTHENTICATION "") || exit 1
  fed_step="node $name: signing key, CSR and certificate of $cls:$mcode"
  fed_node_sign_cert[$name]=$(fed_node_key_and_cert "$name" sign SIGNING "$cls:$mcode") || exit 1
  fed_member_signcert["$name/$cls:$mcode"]=${fed_node_sign_cert[$name]}

  fed_step="node $name: signing certificate OCSP status"
  fed_node_wait_ocsp "$name" "${fed_node_sign_cert[$name]}"

  fed_step="node $name: authCertReg"
  local sent req
  sent=$(fed_ctl_ok "$name-authcertreg" fed_nodectl "$name" --json cert register \
    "${fed_node_auth_cert[$name]}" --address "$address") || exit 1
  req=$(fed_jq 'd["central_request_id"]' <<<"$sent")
  fed_step="node $name: approve authCertReg $req at central"
  fed_ctl_ok "$name-approve-$req" fed_centralctl requests approve "$req" >/dev/null

  fed_step="node $name: wait until the auth certificate and owner are registered"
  fed_node_wait_registered "$name" "MEMBER:$owner" "${fed_node_auth_cert[$name]}"
  fed_log "node $name (${fed_node_server[$name]}): registered; admin API ${fed_node_admin_url[$name]} (log ${fed_node_log[$name]})"
}

# fed_node_key_and_cert NAME FILE_PREFIX USAGE MEMBER(CLASS:CODE or "") -- prints the cert id.
# Signing keys use FED_SIGN_KEY_ALGORITHM (RSA-2048 unless set; RSA-3072 or EC-P256), auth keys
# RSA-2048.
fed_node_key_and_cert() {
  local name=$1 prefix=$2 usage=$3 member=$4 dir=${fed_node_dir[$1]}
  local key csr_args=() tag="$prefix${member:+-${member//:/-}}" algorithm=RSA-2048
  [[ $usage == SIGNING ]] && algorithm=${FED_SIGN_KEY_ALGORITHM:-RSA-2048}
  key=$(fed_ctl_ok "$name-key-$tag" fed_nodectl "$name" --json key generate \
    "${fed_node_token_id[$name]}" --label "$tag" --algorithm "$algorithm" | fed_jq 'd["id"]')
  [[ -n "$member" ]] && csr_args=(--member "$member")
  fed_ctl_ok "$name-csr-$tag" fed_nodectl "$name" key csr "$key" --usage "$usage" \
    "${csr_args[@]}" --out "$dir/$tag.csr" >/dev/null || exit 1
  fed_issue_cert "$dir/$tag.csr" "$prefix" "$dir/$tag.pem" || exit 1
  local cert
  cert=$(fed_ctl_ok "$name-import-$tag" fed_nodectl "$name" --json cert import "$dir/$tag.pem" |
    fed_jq 'd["id"]') || exit 1
  # Imported certificates start inactive; the node signs and authenticates with active ones.
  fed_ctl_ok "$name-activate-$tag" fed_nodectl "$name" cert activate "$cert" >/dev/null || exit 1
  echo "$cert"
}

# Asks the node to download the global configuration now (the periodic refresh continues).
fed_node_refresh() {
  fed_ctl_ok "$1-refresh" fed_nodectl "$1" globalconf refresh >/dev/null
}

# fed_node_wait_ocsp NAME CERT_ID -- until the node holds a good OCSP response for the certificate.
fed_node_wait_ocsp() {
  local name=$1 cert=$2 deadline=$((SECONDS + 60)) st=""
  while true; do
    st=$(fed_nodectl "$name" --json cert ocsp "$cert" 2>/dev/null || true)
    if [[ -n "$st" && $(fed_jq 'd.get("status")' <<<"$st") == good ]]; then
      return 0
    fi
    [[ $SECONDS -lt $deadline ]] || fed_fail "no good OCSP response for $cert: $st" "${fed_node_log[$name]}"
    sleep 0.5
  done
}

# fed_node_wait_registered NAME CLIENT_ID [CERT_ID] -- until the node's downloaded configuration
# shows the client (and the auth certificate) registered.
fed_node_wait_registered() {
  local name=$1 client=$2 cert=${3:-} deadline=$((SECONDS + 90)) path
  path=${client#*:}
  path=${path#*/}
  path=${path//\//:}
  fed_central_wait_published
  while true; do
    fed_nodectl "$name" globalconf refresh >/dev/null 2>&1 || true
    local ok=1 st
    if [[ -n "$cert" ]]; then
      st=$(fed_nodectl "$name" --json cert list 2>/dev/null || true)
      [[ -n "$st" && $(fed_jq "[c['status'] for c in d['items'] if c['id'] == '$cert'] == ['REGISTERED']" <<<"$st") == True ]] || ok=0
    fi
    st=$(fed_nodectl "$name" --json client show "$path" 2>/dev/null || true)
    [[ -n "$st" && $(fed_jq 'd.get("registration_state")' <<<"$st") == registered ]] || ok=0
    [[ $ok == 1 ]] && return 0
    [[ $SECONDS -lt $deadline ]] ||
      fed_fail "$client not registered on node $name after 90 s (client: $st)" "${fed_node_log[$name]}"
    sleep 1
  done
}

# fed_add_client NAME CLASS:CODE[:SUBSYSTEM] -- adds the client on the node (a signing certificate
# for its member when that is not the owner), creates the subsystem at central when missing,
# sends clientReg, approves it and waits until the node shows it registered.
fed_add_client() {
  local name=$1 client=$2 cls code sub
  IFS=: read -r cls code sub <<<"$client"
  local inst=${fed_node_owner[$name]%%/*}
  local id="MEMBER:$inst/$cls/$code"
  [[ -n "$sub" ]] && id="SUBSYSTEM:$inst/$cls/$code/$sub"
  fed_step="node $name: client $client at central"
  if [[ -n "$sub" ]]; then
    fed_central_subsystem "$client"
  fi
  fed_step="node $name: add client $client"
  fed_ctl_ok "$name-client-$client" fed_nodectl "$name" client add "$client" >/dev/null
  if [[ "$inst/$cls/$code" != "${fed_node_owner[$name]}" && -z "${fed_member_signcert["$name/$cls:$code"]:-}" ]]; then
    fed_step="node $name: signing certificate of $cls:$code"
    local cert
    cert=$(fed_node_key_and_cert "$name" sign SIGNING "$cls:$code") || exit 1
    fed_member_signcert["$name/$cls:$code"]=$cert
    fed_node_wait_ocsp "$name" "$cert"
  fi
  fed_step="node $name: clientReg $client"
  local sent req
  sent=$(fed_ctl_ok "$name-clientreg-$client" fed_nodectl "$name" --json client register "$client") || exit 1
  req=$(fed_jq 'd["central_request_id"]' <<<"$sent")
  fed_step="node $name: approve clientReg $req at central"
  fed_ctl_ok "$name-approve-$req" fed_centralctl requests approve "$req" >/dev/null
  fed_step="node $name: wait until $client is registered"
  fed_node_wait_registered "$name" "$id"
  fed_log "node $name: client $id registered"
}

# fed_add_node_instance NAME -- another `hansa-node serve` of the same node (same configuration,
# database and token directory; its own admin port and proxy ports). The node should use a shared
# database (PostgreSQL) and --pin-in-config so the instance logs in at start. Prints the admin URL;
# sets fed_last_pid and fed_last_instance_conf.
fed_add_node_instance() {
  local name=$1 dir=${fed_node_dir[$1]}
  local n=$((fed_node_instances[$name] + 1))
  fed_node_instances[$name]=$n
  local admin_port saved_c=${fed_node_client_port[$name]} saved_s=${fed_node_server_port[$name]}
  admin_port=$(fed_free_port)
  fed_node_client_port[$name]=$(fed_free_port)
  fed_node_server_port[$name]=$(fed_free_port)
  fed_last_instance_client_port=${fed_node_client_port[$name]}
  fed_last_instance_server_port=${fed_node_server_port[$name]}
  fed_last_instance_conf="$dir/node-$n.toml"
  fed_write_node_conf "$name" "$admin_port" "$fed_last_instance_conf"
  fed_node_client_port[$name]=$saved_c
  fed_node_server_port[$name]=$saved_s
  fed_step="node $name: instance $n serve"
  fed_start_node_instance "$name" "$fed_last_instance_conf" "http://127.0.0.1:$admin_port"
  fed_last_instance_url="http://127.0.0.1:$admin_port"
}

# --- services and access rights ---

# fed_add_rest_service NAME CLIENT SERVICE_CODE BASE_URL -- a REST service (base URL only).
fed_add_rest_service() {
  local name=$1 client=$2 code=$3 url=$4
  fed_step="node $name: REST service $code of $client"
  fed_ctl_ok "$name-rest-$code" fed_nodectl "$name" --json description add "$client" --type rest \
    --url "$url" --service-code "$code" | fed_jq 'd["id"]'
}

# fed_add_openapi_service NAME CLIENT SERVICE_CODE URL_OR_FILE [PROVIDER_URL] -- prints the id.
fed_add_openapi_service() {
  local name=$1 client=$2 code=$3 src=$4 provider=${5:-}
  fed_step="node $name: OpenAPI service $code of $client"
  local args=(--type openapi3 --service-code "$code")
  if [[ -f "$src" ]]; then
    args+=(--url "$(basename "$src")" --file "$src")
  else
    args+=(--url "$src")
  fi
  [[ -n "$provider" ]] && args+=(--provider-url "$provider")
  fed_ctl_ok "$name-openapi-$code" fed_nodectl "$name" --json description add "$client" "${args[@]}" |
    fed_jq 'd["id"]'
}

# fed_add_wsdl_service NAME CLIENT URL_OR_FILE [PROVIDER_URL] -- prints the description id.
fed_add_wsdl_service() {
  local name=$1 client=$2 src=$3 provider=${4:-}
  fed_step="node $name: WSDL services of $client"
  local args=(--type wsdl)
  if [[ -f "$src" ]]; then
    args+=(--url "$(basename "$src")" --file "$src")
  else
    args+=(--url "$src")
  fi
  [[ -n "$provider" ]] && args+=(--provider-url "$provider")
  fed_ctl_ok "$name-wsdl-$(basename "$src")" fed_nodectl "$name" --json description add "$client" \
    "${args[@]}" | fed_jq 'd["id"]'
}

# fed_grant NAME PROVIDER_CLIENT SERVICE_CODE SUBJECT -- SUBJECT: SUBSYSTEM:INST/CLASS/CODE/SUB,
# MEMBER:INST/CLASS/CODE, GLOBALGROUP:INST/CODE or LOCALGROUP:CODE.
fed_grant() {
  local name=$1 client=$2 code=$3 subject=$4
  fed_step="node $name: grant $subject access to $client $code"
  fed_ctl_ok "$name-grant-$code" fed_nodectl "$name" access grant "$client" "$code" "$subject" >/dev/null
}

# fed_sync_nodes [NAME...] -- once central has published every change so far, each node (default:
# all) downloads the configuration now, so the nodes know each other's registrations (routing).
fed_sync_nodes() {
  local names=("$@") name
  [[ ${#names[@]} -gt 0 ]] || names=("${fed_nodes[@]}")
  fed_step="sync: central publishes"
  fed_central_wait_published
  for name in "${names[@]}"; do
    fed_step="sync: node $name downloads the configuration"
    local deadline=$((SECONDS + 30))
    until fed_nodectl "$name" globalconf refresh >"$fed_dir/ctl/$name-sync.log" 2>&1; do
      [[ $SECONDS -lt $deadline ]] || fed_fail "refresh failed" "$fed_dir/ctl/$name-sync.log"
      sleep 0.5
    done
  done
}
