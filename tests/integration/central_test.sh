#!/usr/bin/env bash
# Central server end to end (issue 4 "Done when"), on SQLite and, when HANSA_TEST_PG_URI is set,
# on a fresh PostgreSQL database in that cluster:
#
#   hansa-central init + serve, hansa-trust (OCSP for the dev PKI);
#   admin API (curl): approved CA, member, subsystem;
#   management endpoint: authCertReg and clientReg signed with the dev PKI's keys
#     (hansa-central-it-tool mgmt-send, built with core/management), approved via the admin API;
#   global configuration downloaded over HTTP and verified with the exported anchor by Hansa's
#     verifier (hansa-central-it-tool gconf-verify) AND independently with openssl over the
#     signed range; the member and the node (with its auth cert hash) found in shared-params.
#
# Everything listens on loopback on free ports; every process is stopped in a trap; logs are
# printed on failure. Set HANSA_IT_KEEP=1 to keep the work directory.
#
#   central_test.sh --central BIN --trust BIN --tool BIN --pki DIR
set -euo pipefail

it_name=central-it
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"

# --- hansa-trust: OCSP for the dev PKI ---
start_trust

# The owner's signing certificate's OCSP response, as a node would attach it.
member_id=$MEMBER_1_ID                       # DEV/GOV/1234
node_id=$NODE_1_ID                           # DEV/GOV/1234/SS1
IFS=/ read -r inst mclass mcode server_code <<<"$node_id"
openssl ocsp -issuer "$INTERMEDIATE_CA_CERT" -cert "$MEMBER_1_SIGN_CERT" -url "$ocsp_url" \
  -respout "$work/owner.ocsp" -noverify >"$work/ocsp-fetch.log" 2>&1 || fail "OCSP fetch"
grep -q ": good" "$work/ocsp-fetch.log" || fail "owner certificate is not good: $(cat "$work/ocsp-fetch.log")"

run_backend() {
  local backend=$1 db_uri=$2
  local dir="$work/$backend"
  mkdir -p "$dir"
  local admin_port mgmt_port pub_port
  admin_port=$(free_port); mgmt_port=$(free_port); pub_port=$(free_port)
  local provider="SUBSYSTEM:$inst/$mclass/CENTRAL/MANAGEMENT"
  cat >"$dir/central.toml" <<EOF
[instance]
identifier = "$inst"
management_service_provider = "$provider"
[database]
uri = "$db_uri"
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

  step="$backend: init"
  "$central_bin" init --config "$dir/central.toml" >"$dir/init.out" 2>"$dir/init.log" || fail "init"
  local token
  token=$(tail -n 1 "$dir/init.out")
  [[ "$token" == hansa_* ]] || fail "init printed no admin token"
  step="$backend: init again"
  local rc=0
  "$central_bin" init --config "$dir/central.toml" >/dev/null 2>"$dir/init2.log" || rc=$?
  [[ $rc -eq 3 ]] || fail "second init should refuse with exit 3, got $rc"
  grep -q "already initialised" "$dir/init2.log" || fail "second init message"

  step="$backend: anchor"
  "$central_bin" anchor --config "$dir/central.toml" >"$dir/anchor.xml" 2>"$dir/anchor.log" || fail "anchor"
  grep -q "<instanceIdentifier>$inst</instanceIdentifier>" "$dir/anchor.xml" || fail "anchor instance"

  step="$backend: serve"
  "$central_bin" serve --config "$dir/central.toml" >"$dir/serve.out" 2>"$dir/serve.log" &
  local serve_pid=$!
  pids+=($serve_pid)
  local admin="http://127.0.0.1:$admin_port/api/v1"
  wait_http "$admin/instance"
  wait_http "https://127.0.0.1:$mgmt_port/managementservice/"
  wait_http "http://127.0.0.1:$pub_port/internalconf"

  api() {  # METHOD PATH [JSON] -- prints the body; fails on a non-2xx answer
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

  step="$backend: admin API refuses without a token"
  local anon
  anon=$(curl -sS -o /dev/null -w '%{http_code}' "$admin/members")
  [[ $anon == 401 ]] || fail "GET /members without token -> $anon"

  step="$backend: approve the dev CA"
  api POST /cas "{\"name\": \"Hansa dev CA\", \"certificate_profile_info\": \"hansa.DefaultCertificateProfile\",
    \"top_ca\": {\"cert\": $(json_cert "$ROOT_CA_CERT")},
    \"intermediate_cas\": [{\"cert\": $(json_cert "$INTERMEDIATE_CA_CERT"),
      \"ocsp\": [{\"url\": \"$ocsp_url\", \"cert\": $(json_cert "$OCSP_CERT")}]}]}" >/dev/null

  step="$backend: register member and subsystem"
  api POST /members "{\"member_class\": \"$mclass\", \"member_code\": \"$mcode\", \"name\": \"Member $mcode\"}" >/dev/null
  api POST "/members/$mclass:$mcode/subsystems" '{"subsystem_code": "SUB1", "name": "First subsystem"}' >/dev/null

  step="$backend: authCertReg over the management endpoint"
  local req_auth req_client
  req_auth=$("$tool_bin" mgmt-send --type authCertReg \
    --url "https://127.0.0.1:$mgmt_port/managementservice/" \
    --pin-cert "$dir/var/tls/management.cert.pem" \
    --server "$node_id" --provider "$provider" \
    --owner-key "$MEMBER_1_SIGN_KEY" --owner-cert "$MEMBER_1_SIGN_CERT" --owner-ocsp "$work/owner.ocsp" \
    --auth-key "$NODE_1_AUTH_KEY" --auth-cert "$NODE_1_AUTH_CERT" --address 127.0.0.1 \
    2>"$dir/send-auth.log") || fail "authCertReg: $(cat "$dir/send-auth.log")"
  log "$backend: authCertReg request $req_auth"
  [[ $(api GET "/management-requests/$req_auth" | json_field '["state"]') == pending ]] || fail "authCertReg not pending"
  api POST "/management-requests/$req_auth/approve" '{}' >/dev/null

  step="$backend: clientReg over the management endpoint"
  req_client=$("$tool_bin" mgmt-send --type clientReg \
    --url "https://127.0.0.1:$mgmt_port/managementservice/" \
    --pin-cert "$dir/var/tls/management.cert.pem" \
    --server "$node_id" --client "SUBSYSTEM:$inst/$mclass/$mcode/SUB1" --provider "$provider" \
    --owner-key "$MEMBER_1_SIGN_KEY" --owner-cert "$MEMBER_1_SIGN_CERT" --owner-ocsp "$work/owner.ocsp" \
    2>"$dir/send-client.log") || fail "clientReg: $(cat "$dir/send-client.log")"
  log "$backend: clientReg request $req_client"
  api POST "/management-requests/$req_client/approve" '{}' >/dev/null
  [[ $(api GET "/management-requests/$req_client" | json_field '["state"]') == approved ]] || fail "clientReg not approved"

  step="$backend: wait for the published configuration"
  local deadline=$((SECONDS + 60))
  until [[ $(api GET /status | json_field '.get("up_to_date", False)') == True ]]; do
    [[ $SECONDS -lt $deadline ]] || fail "configuration not regenerated: $(api GET /status)"
    sleep 0.5
  done

  step="$backend: verify with Hansa's verifier"
  "$tool_bin" gconf-verify --anchor "$dir/anchor.xml" \
    --url "http://127.0.0.1:$pub_port/internalconf?version=6" --out-dir "$dir/gconf" \
    >"$dir/verify.out" 2>"$dir/verify.log" || fail "gconf-verify: $(cat "$dir/verify.log")"
  local auth_hash
  auth_hash=$(openssl x509 -in "$NODE_1_AUTH_CERT" -outform DER | openssl dgst -sha256 -binary | base64 -w0)
  grep -qx "member MEMBER:$inst/$mclass/$mcode \"Member $mcode\"" "$dir/verify.out" || fail "member missing: $(cat "$dir/verify.out")"
  grep -qx "server SERVER:$node_id address 127.0.0.1" "$dir/verify.out" || fail "node missing: $(cat "$dir/verify.out")"
  grep -qx "authcerthash SERVER:$node_id $auth_hash" "$dir/verify.out" || fail "auth cert hash missing: $(cat "$dir/verify.out")"
  grep -qx "client SERVER:$node_id SUBSYSTEM:$inst/$mclass/$mcode/SUB1" "$dir/verify.out" || fail "client missing: $(cat "$dir/verify.out")"
  grep -qx "management https://127.0.0.1:$mgmt_port/managementservice/" "$dir/verify.out" || fail "management address missing"

  step="$backend: ?version handling"
  local v
  v=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pub_port/internalconf?version=2")
  [[ $v == 404 ]] || fail "?version=2 -> $v (want 404)"

  step="$backend: independent check with openssl"
  curl -sS -D "$dir/dir.headers" -o "$dir/dir.body" "http://127.0.0.1:$pub_port/internalconf?version=6"
  python3 - "$dir" <<'PY' || fail "could not extract the signed range"
import base64, re, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
headers = open(d + "/dir.headers", "rb").read().decode()
ct = [l for l in headers.split("\r\n") if l.lower().startswith("content-type:")][0]
outer = re.search(r'boundary="?([^";\r\n]+)"?', ct).group(1).encode()
body = open(d + "/dir.body", "rb").read()
# Part 1 (the directory): its headers, a blank line, then the inner multipart.
first = body.index(b"--" + outer + b"\r\n") + len(outer) + 4
head_end = body.index(b"\r\n\r\n", first)
inner_ct = body[first:head_end].decode()
inner = re.search(r'boundary="?([^";\r\n]+)"?', inner_ct).group(1).encode()
start = body.index(b"--" + inner + b"\r\n", head_end)
close = b"--" + inner + b"--\r\n"
end = body.index(close, start) + len(close)
open(d + "/signed.bin", "wb").write(body[start:end])
# Part 2 (the signature): headers, blank line, base64 value up to the closing boundary.
sig_part = body.index(b"--" + outer + b"\r\n", end) + len(outer) + 4
sig_head_end = body.index(b"\r\n\r\n", sig_part)
sig_headers = body[sig_part:sig_head_end].decode()
assert "rsa-sha512" in sig_headers.lower() or "sha512withrsa" in sig_headers.lower(), sig_headers
sig_end = body.index(b"\r\n--" + outer, sig_head_end)
open(d + "/signature.bin", "wb").write(base64.b64decode(body[sig_head_end + 4:sig_end]))
# The anchor's verification certificate.
ns = {"a": "http://x-road.eu/xsd/xroad.xsd"}
root = ET.parse(d + "/anchor.xml").getroot()
cert = [e.text for e in root.iter() if e.tag.endswith("verificationCert")][0].strip()
pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(cert[i:i+64] for i in range(0, len(cert), 64)) + "\n-----END CERTIFICATE-----\n"
open(d + "/anchor-cert.pem", "w").write(pem)
PY
  openssl x509 -in "$dir/anchor-cert.pem" -pubkey -noout >"$dir/anchor-key.pem"
  openssl dgst -sha512 -verify "$dir/anchor-key.pem" -signature "$dir/signature.bin" "$dir/signed.bin" \
    >"$dir/openssl-verify.log" 2>&1 || fail "openssl does not verify the directory signature: $(cat "$dir/openssl-verify.log")"
  # And the file hashes listed in the directory match the downloaded files.
  local shared_hash
  shared_hash=$(openssl dgst -sha512 -binary "$dir/gconf/shared-params.xml" | base64 -w0)
  grep -q "$shared_hash" "$dir/signed.bin" || fail "shared-params hash not in the directory"
  # A tampered signed range must not verify.
  sed 's/Expire-date: 2/Expire-date: 3/' "$dir/signed.bin" >"$dir/tampered.bin"
  if openssl dgst -sha512 -verify "$dir/anchor-key.pem" -signature "$dir/signature.bin" "$dir/tampered.bin" >/dev/null 2>&1; then
    fail "a tampered directory verified"
  fi

  step="$backend: signing key rotation"
  "$central_bin" signing-key add --config "$dir/central.toml" >"$dir/key-add.out" 2>"$dir/key-add.log" ||
    fail "signing-key add: $(cat "$dir/key-add.log")"
  local new_key
  new_key=$(sed -n 's/^added signing key \([0-9]*\) .*/\1/p' "$dir/key-add.out")
  [[ -n "$new_key" ]] || fail "no key id in: $(cat "$dir/key-add.out")"
  "$central_bin" anchor --config "$dir/central.toml" >"$dir/anchor2.xml" 2>>"$dir/anchor.log" || fail "anchor 2"
  [[ $(grep -c "<verificationCert>" "$dir/anchor2.xml") -eq 2 ]] || fail "new anchor lacks two certificates"
  "$central_bin" signing-key activate --config "$dir/central.toml" --id "$new_key" >/dev/null \
    2>"$dir/key-activate.log" || fail "signing-key activate: $(cat "$dir/key-activate.log")"
  deadline=$((SECONDS + 60))
  until [[ $(api GET /status | json_field '["signing_key_id"]') == "$new_key" ]]; do
    [[ $SECONDS -lt $deadline ]] || fail "directory not signed by the new key: $(api GET /status)"
    sleep 0.5
  done
  "$tool_bin" gconf-verify --anchor "$dir/anchor2.xml" \
    --url "http://127.0.0.1:$pub_port/internalconf?version=6" >"$dir/verify2.out" 2>"$dir/verify2.log" ||
    fail "rotated directory does not verify with the new anchor: $(cat "$dir/verify2.log")"
  if "$tool_bin" gconf-verify --anchor "$dir/anchor.xml" \
    --url "http://127.0.0.1:$pub_port/internalconf?version=6" >/dev/null 2>&1; then
    fail "rotated directory verified with the old anchor (old key only)"
  fi

  step="$backend: clean stop"
  kill -TERM "$serve_pid"
  rc=0
  wait "$serve_pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "serve exited with $rc after SIGTERM"
  local remaining=()
  for pid in "${pids[@]}"; do
    [[ $pid == "$serve_pid" ]] || remaining+=("$pid")
  done
  pids=("${remaining[@]}")
  log "$backend: OK"
}

run_backend sqlite "var/central.db"

if [[ -n "${HANSA_TEST_PG_URI:-}" ]]; then
  step="postgresql: create database"
  pg_database "hansa_central_it_$$_$RANDOM"
  run_backend postgresql "$pg_uri"
else
  log "HANSA_TEST_PG_URI not set: PostgreSQL run skipped"
fi
log "all OK"
