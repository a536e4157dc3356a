#!/usr/bin/env bash
# Node registration end to end (issue 5 "Done when"): a fresh node goes from nothing to
# registered with a running central, once with the software token and once with a SoftHSM2
# token, on SQLite and, when HANSA_TEST_PG_URI is set, on fresh PostgreSQL databases (one for
# central, one for the node):
#
#   hansa-trust (OCSP + TSA for the dev PKI); hansa-central init + serve with the dev CA (and its
#     OCSP responder) and the TSA approved, the owner member and a subsystem;
#   the node (hansa-node-it-tool over node/serverconf, node/signer, node/globalconf and
#     node/registration): init, anchor import + download, auth and sign keys on the token, CSRs,
#     certificates issued by the dev intermediate CA with `openssl x509 -req`, import;
#   authCertReg and clientReg sent by node/registration, approved through central's admin API;
#   the node downloads the new configuration and both the auth certificate and the subsystem are
#   listed there and marked registered on the node.
#
# Everything listens on loopback on free ports; processes are stopped in a trap; logs are printed
# on failure. HANSA_IT_KEEP=1 keeps the work directory.
#
#   node_test.sh --central BIN --trust BIN --tool BIN --pki DIR
set -euo pipefail

it_name=node-it
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"

# --- hansa-trust: OCSP and TSA for the dev PKI; the node's new certificates are marked good in
# its state file as they are issued ---
trust_state="$work/trust-state.json"
start_trust --state "$trust_state"

owner=$MEMBER_1_ID                 # DEV/GOV/1234
IFS=/ read -r inst mclass mcode <<<"$owner"
server_code=NODE1
subsystem="SUBSYSTEM:$inst/$mclass/$mcode/SUB1"

cat >"$work/ext.cnf" <<EOF
[ v3_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:$ocsp_url
[ v3_auth ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectAltName = IP:127.0.0.1
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:$ocsp_url
EOF

# run_case NAME TOKEN(software|softhsm) CENTRAL_DB_URI NODE_DB_URI
run_case() {
  local name=$1 token_kind=$2 central_db=$3 node_db=$4
  local dir="$work/$name"
  mkdir -p "$dir"
  local admin_port mgmt_port pub_port
  admin_port=$(free_port); mgmt_port=$(free_port); pub_port=$(free_port)
  local provider="SUBSYSTEM:$inst/$mclass/CENTRAL/MANAGEMENT"
  cat >"$dir/central.toml" <<EOF
[instance]
identifier = "$inst"
management_service_provider = "$provider"
[database]
uri = "$central_db"
[admin_api]
listen_port = $admin_port
[management]
listen_host = "127.0.0.1"
listen_port = $mgmt_port
public_url = "https://127.0.0.1:$mgmt_port/managementservice/"
[publisher]
listen_host = "127.0.0.1"
listen_port = $pub_port
public_url = "http://127.0.0.1:$pub_port"
regeneration_interval = 2
[logging]
level = "info"
file = "$dir/central.log"
EOF

  step="$name: central init + serve"
  "$central_bin" init --config "$dir/central.toml" >"$dir/init.out" 2>"$dir/init.log" || fail "init"
  local token
  token=$(tail -n 1 "$dir/init.out")
  "$central_bin" serve --config "$dir/central.toml" >"$dir/serve.out" 2>"$dir/serve.log" &
  local serve_pid=$!
  pids+=($serve_pid)
  local admin="http://127.0.0.1:$admin_port/api/v1"
  wait_http "$admin/instance"
  wait_http "https://127.0.0.1:$mgmt_port/managementservice/"
  wait_http "http://127.0.0.1:$pub_port/internalconf"

  api() {  # METHOD PATH [JSON]
    local method=$1 path=$2 body=${3:-} out status
    out=$(mktemp "$dir/api.XXXXXX")
    if [[ -n "$body" ]]; then
      status=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' --data-binary "$body" "$admin$path")
    else
      status=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $token" "$admin$path")
    fi
    [[ $status == 2* ]] || fail "$method $path -> $status: $(cat "$out")"
    cat "$out"
  }

  step="$name: central: dev CA with OCSP, TSA, member, subsystem"
  api POST /cas "{\"name\": \"Hansa dev CA\", \"certificate_profile_info\": \"hansa.DefaultCertificateProfile\",
    \"top_ca\": {\"cert\": $(json_cert "$ROOT_CA_CERT")},
    \"intermediate_cas\": [{\"cert\": $(json_cert "$INTERMEDIATE_CA_CERT"),
      \"ocsp\": [{\"url\": \"$ocsp_url\", \"cert\": $(json_cert "$OCSP_CERT")}]}]}" >/dev/null
  api POST /tsas "{\"name\": \"Hansa dev TSA\", \"url\": \"$tsa_url\", \"cert\": $(json_cert "$TSA_CERT")}" >/dev/null
  api POST /members "{\"member_class\": \"$mclass\", \"member_code\": \"$mcode\", \"name\": \"Member $mcode\"}" >/dev/null
  api POST "/members/$mclass:$mcode/subsystems" '{"subsystem_code": "SUB1", "name": "First subsystem"}' >/dev/null
  "$central_bin" anchor --config "$dir/central.toml" >"$dir/anchor.xml" 2>"$dir/anchor.log" || fail "anchor"
  local deadline=$((SECONDS + 60))
  until [[ $(api GET /status | json_field '.get("up_to_date", False)') == True ]]; do
    [[ $SECONDS -lt $deadline ]] || fail "configuration not generated: $(api GET /status)"
    sleep 0.5
  done

  # The node's tool invocation for this case.
  local node_state="$dir/node" pin="node-pin-1234"
  local tool_args=(--db "$node_db" --state "$node_state" --pin "$pin"
                   --ca-cert "$INTERMEDIATE_CA_CERT" --ca-cert "$ROOT_CA_CERT")
  if [[ $token_kind == softhsm ]]; then
    step="$name: SoftHSM2 token"
    mkdir -p "$dir/softhsm"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
      "$dir/softhsm" >"$dir/softhsm2.conf"
    export SOFTHSM2_CONF="$dir/softhsm2.conf"
    softhsm2-util --init-token --free --label "hansa-$name" --pin "$pin" --so-pin 0987654321 \
      >"$dir/softhsm.log" 2>&1 || fail "softhsm2-util: $(cat "$dir/softhsm.log")"
    tool_args+=(--pkcs11-label "hansa-$name")
  fi
  node() { "$tool_bin" "${tool_args[@]}" "$@"; }

  step="$name: node init"
  node init --owner "$owner" --server-code "$server_code" --client "$subsystem" \
    >"$dir/node-init.out" 2>"$dir/node-init.log" || fail "node init: $(cat "$dir/node-init.log")"
  step="$name: node anchor import + download"
  node anchor --file "$dir/anchor.xml" >"$dir/node-anchor.out" 2>"$dir/node-anchor.log" ||
    fail "node anchor: $(cat "$dir/node-anchor.log")"

  step="$name: keys and CSRs on the token"
  node csrs --out-dir "$dir" >"$dir/node-csrs.out" 2>"$dir/node-csrs.log" ||
    fail "node csrs: $(cat "$dir/node-csrs.log")"
  grep -q "serialNumber=$inst/$mclass/$mcode/$server_code" "$dir/node-csrs.out" ||
    grep -qi "$server_code" "$dir/node-csrs.out" || fail "auth CSR subject: $(cat "$dir/node-csrs.out")"

  step="$name: certificates from the dev CA"
  local usage serial
  for usage in auth sign; do
    serial="1$(openssl rand -hex 8 | cut -c2-)"
    openssl x509 -req -in "$dir/$usage.csr" -CA "$INTERMEDIATE_CA_CERT" -CAkey "$INTERMEDIATE_CA_KEY" \
      -set_serial "0x$serial" -days 30 -sha256 -extfile "$work/ext.cnf" -extensions "v3_$usage" \
      -out "$dir/$usage.pem" 2>"$dir/issue-$usage.log" || fail "openssl x509 -req: $(cat "$dir/issue-$usage.log")"
    "$trust_bin" --pki-dir "$pki_dir" --state "$trust_state" unrevoke "$serial" >/dev/null 2>&1 ||
      fail "hansa-trust unrevoke $serial"
    node import --cert "$dir/$usage.pem" >"$dir/node-import-$usage.out" 2>"$dir/node-import-$usage.log" ||
      fail "import $usage: $(cat "$dir/node-import-$usage.log")"
  done

  step="$name: authCertReg"
  local req_auth req_client
  req_auth=$(node register-auth --address 127.0.0.1 2>"$dir/node-reg-auth.log") ||
    fail "register-auth: $(cat "$dir/node-reg-auth.log")"
  [[ $(api GET "/management-requests/$req_auth" | json_field '["state"]') == pending ]] || fail "authCertReg not pending"
  api POST "/management-requests/$req_auth/approve" '{}' >/dev/null

  step="$name: clientReg"
  req_client=$(node register-client --client "$subsystem" 2>"$dir/node-reg-client.log") ||
    fail "register-client: $(cat "$dir/node-reg-client.log")"
  api POST "/management-requests/$req_client/approve" '{}' >/dev/null
  log "$name: authCertReg $req_auth and clientReg $req_client approved"

  step="$name: node downloads the new configuration"
  deadline=$((SECONDS + 90))
  while true; do
    node refresh >"$dir/node-refresh.out" 2>"$dir/node-refresh.log" || true
    if grep -q "^cert AUTHENTICATION [0-9a-f]* REGISTERED in-conf$" "$dir/node-refresh.out" &&
       grep -qx "client $subsystem registered in-conf" "$dir/node-refresh.out" &&
       grep -qx "client MEMBER:$owner registered in-conf" "$dir/node-refresh.out"; then
      break
    fi
    [[ $SECONDS -lt $deadline ]] || fail "not registered: $(cat "$dir/node-refresh.out" "$dir/node-refresh.log")"
    sleep 1
  done
  grep -q "^cert SIGNING [0-9a-f]* REGISTERED$" "$dir/node-refresh.out" || fail "signing cert: $(cat "$dir/node-refresh.out")"
  log "$name: registered"
  sed 's/^/[node-it]   /' "$dir/node-refresh.out"

  step="$name: stop central"
  kill -TERM "$serve_pid"
  wait "$serve_pid" || true
  local remaining=()
  for pid in "${pids[@]}"; do
    [[ $pid == "$serve_pid" ]] || remaining+=("$pid")
  done
  pids=("${remaining[@]}")
  unset SOFTHSM2_CONF
  log "$name: OK"
}

have_softhsm=0
if [[ -f /usr/lib/softhsm/libsofthsm2.so ]] && command -v softhsm2-util >/dev/null; then
  have_softhsm=1
else
  log "SoftHSM2 not installed: SoftHSM2 runs skipped"
fi

run_case sqlite-software software "var/central.db" "sqlite://$work/sqlite-software/node.db"
if [[ $have_softhsm == 1 ]]; then
  run_case sqlite-softhsm softhsm "var/central.db" "sqlite://$work/sqlite-softhsm/node.db"
fi
if [[ -n "$pg_admin_uri" ]]; then
  suffix="$$_$RANDOM"
  step="postgresql: create databases"
  pg_database "hansa_node_it_c1_$suffix"; central_uri=$pg_uri
  pg_database "hansa_node_it_n1_$suffix"; node_uri=$pg_uri
  run_case pg-software software "$central_uri" "$node_uri"
  if [[ $have_softhsm == 1 ]]; then
    pg_database "hansa_node_it_c2_$suffix"; central_uri=$pg_uri
    pg_database "hansa_node_it_n2_$suffix"; node_uri=$pg_uri
    run_case pg-softhsm softhsm "$central_uri" "$node_uri"
  fi
else
  log "HANSA_TEST_PG_URI not set: PostgreSQL runs skipped"
fi
log "all OK"
