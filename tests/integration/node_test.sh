#!/usr/bin/env bash
# Node registration end to end (issue 5 "Done when"), through the real daemons and their admin
# APIs only (tests/integration/federation.sh): a fresh node goes from nothing to registered with a
# running central, once with the software token and once with a SoftHSM2 token, on SQLite and,
# when HANSA_TEST_PG_URI is set, on fresh PostgreSQL databases (one for central, one for the node):
#
#   hansa-trust (OCSP + TSA for the dev PKI); hansa-central init + serve; the dev CA (with its
#     OCSP responder) and the TSA approved, the owner member, through central's admin API;
#   hansa-node init + serve; through its admin API (hansactl): anchor import and download, token
#     login, auth and sign keys, CSRs, certificates issued by the dev intermediate CA with
#     `openssl x509 -req`, import; authCertReg and clientReg sent by the node, approved at central;
#   the node downloads the new configuration: its auth certificate is REGISTERED, the owner and
#     the subsystem are registered; a second node of another member sees the first one's
#     subsystem as a registered client of the first node (SQLite software run);
#   the admin API answers 401 without a token.
#
# Everything listens on loopback on free ports; processes are stopped in a trap; logs are printed
# on failure. HANSA_IT_KEEP=1 keeps the work directory.
#
#   node_test.sh --central BIN --trust BIN --node BIN --ctl BIN --pki DIR
set -euo pipefail

it_name=node-it
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
# shellcheck source=tests/integration/federation.sh
source "$(dirname "$0")/federation.sh"
fed_tag=$it_name

owner=$MEMBER_1_ID # DEV/GOV/1234
IFS=/ read -r inst mclass mcode <<<"$owner"

# run_case NAME TOKEN(software|softhsm) CENTRAL_DB_URI NODE_DB_URI
run_case() {
  local name=$1 token_kind=$2 central_db=$3 node_db=$4
  step="$name"
  fed_setup --pki "$pki_dir" --dir "$work/$name"
  fed_start_trust
  fed_start_central ${central_db:+--db "$central_db"}
  fed_central_setup
  fed_add_member "$mclass" "$mcode" "Member $mcode"

  local node_args=()
  [[ -n "$node_db" ]] && node_args+=(--db "$node_db")
  if [[ $token_kind == softhsm ]]; then
    step="$name: SoftHSM2 token"
    local hsm="$work/$name/softhsm" pin="hsm-pin-1234567"
    mkdir -p "$hsm/tokens"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
      "$hsm/tokens" >"$hsm/softhsm2.conf"
    export SOFTHSM2_CONF="$hsm/softhsm2.conf"
    softhsm2-util --init-token --free --label "hansa-$name" --pin "$pin" --so-pin 0987654321 \
      >"$hsm/init.log" 2>&1 || fail "softhsm2-util: $(cat "$hsm/init.log")"
    node_args+=(--pkcs11 "hansa-$name" --pin "$pin")
  fi
  local node="n-$name"
  fed_add_node "$node" "$owner" NODE1 "${node_args[@]}"
  fed_add_client "$node" "$mclass:$mcode:SUB1"

  step="$name: states on the node"
  local certs
  certs=$(fed_nodectl "$node" --json cert list)
  local got
  got=$(fed_jq "' '.join(sorted(c['usage'] + '=' + c['status'] for c in d['items']))" <<<"$certs")
  [[ $got == "AUTHENTICATION=REGISTERED SIGNING=REGISTERED" ]] || fail "certificates: $got"
  local clients
  clients=$(fed_nodectl "$node" --json client list)
  got=$(fed_jq "' '.join(sorted(c['id'] + '=' + c['registration_state'] for c in d['items']))" <<<"$clients")
  [[ $got == "MEMBER:$owner=registered SUBSYSTEM:$owner/SUB1=registered" ]] || fail "clients: $got"

  step="$name: central lists the node with its client"
  local server
  server=$(fed_centralctl --json servers get "$mclass:$mcode:NODE1")
  grep -q "SUB1" <<<"$server" || fail "central's server entry lacks SUB1: $server"

  step="$name: the admin API refuses without a token"
  local anon
  anon=$(curl -sS -o /dev/null -w '%{http_code}' "${fed_node_admin_url[$node]}/api/v1/clients")
  [[ $anon == 401 ]] || fail "GET /clients without a token -> $anon"

  if [[ $name == sqlite-software ]]; then
    step="$name: a second node of another member"
    IFS=/ read -r _ c2 m2 <<<"$MEMBER_2_ID"
    fed_add_member "$c2" "$m2" "Member $m2"
    fed_add_node "n2-$name" "$MEMBER_2_ID" NODE2
    fed_add_client "n2-$name" "$c2:$m2:CLIENT"
    fed_sync_nodes
  fi
  fed_stop_all
  unset SOFTHSM2_CONF
  log "$name: OK"
}

have_softhsm=0
if [[ -f /usr/lib/softhsm/libsofthsm2.so ]] && command -v softhsm2-util >/dev/null; then
  have_softhsm=1
else
  log "SoftHSM2 not installed: SoftHSM2 runs skipped"
fi

run_case sqlite-software software "" ""
if [[ $have_softhsm == 1 ]]; then
  run_case sqlite-softhsm softhsm "" ""
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
