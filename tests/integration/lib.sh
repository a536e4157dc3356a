# Shared helpers for the integration scripts in this folder. Source it after setting `it_name`
# (the log tag and work-directory prefix); it parses the common arguments
#   --central BIN --trust BIN --pki DIR [--tool BIN] [--node BIN] [--ctl BIN] [--verify BIN]
#   [--provider BIN]
# (the optional binaries are also exported as FED_*_BIN for federation.sh), loads the dev PKI's pki.env, creates $work, and installs a trap that stops every process in
# `pids`, prints logs on failure, drops the PostgreSQL databases in `pg_dbs` and removes $work
# (HANSA_IT_KEEP=1 keeps it).
# shellcheck shell=bash

central_bin="" trust_bin="" tool_bin="" pki_dir="" node_bin="" ctl_bin="" verify_bin="" provider_bin=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --central) central_bin="$2"; shift 2 ;;
    --trust) trust_bin="$2"; shift 2 ;;
    --tool) tool_bin="$2"; shift 2 ;;
    --pki) pki_dir="$2"; shift 2 ;;
    --node) node_bin="$2"; shift 2 ;;
    --ctl) ctl_bin="$2"; shift 2 ;;
    --verify) verify_bin="$2"; shift 2 ;;
    --provider) provider_bin="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
for v in central_bin trust_bin pki_dir; do
  [[ -n "${!v}" ]] || { echo "missing --${v%_*}" >&2; exit 2; }
done
export FED_CENTRAL_BIN="$central_bin" FED_TRUST_BIN="$trust_bin"
[[ -n "$node_bin" ]] && export FED_NODE_BIN="$node_bin"
[[ -n "$ctl_bin" ]] && export FED_CTL_BIN="$ctl_bin"
[[ -n "$verify_bin" ]] && export FED_VERIFY_BIN="$verify_bin"
[[ -n "$provider_bin" ]] && export FED_PROVIDER_BIN="$provider_bin"
[[ -f "$pki_dir/pki.env" ]] || { echo "no dev PKI in $pki_dir (run certs/make-dev-pki.sh)" >&2; exit 2; }
# shellcheck disable=SC1091
source "$pki_dir/pki.env"

work=$(mktemp -d "/tmp/hansa-$it_name.XXXXXX")
pids=()
pg_admin_uri="${HANSA_TEST_PG_URI:-}"
pg_dbs=()
step="setup"

log() { echo "[$it_name] $*"; }
fail() { echo "[$it_name] FAILED at '$step': $*" >&2; exit 1; }

it_cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ $rc -ne 0 ]]; then
    echo "----- logs (work dir $work) -----" >&2
    while IFS= read -r f; do
      echo "===== $f" >&2
      tail -n 60 "$f" >&2
    done < <(find "$work" -name '*.log' -size +0 2>/dev/null | sort)
  fi
  for db in "${pg_dbs[@]}"; do
    psql "$pg_admin_uri" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [[ "${HANSA_IT_KEEP:-0}" != 1 ]]; then
    rm -rf "$work"
  fi
  exit $rc
}
trap it_cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {  # URL [seconds] -- waits until something answers on URL
  local url=$1 deadline=$((SECONDS + ${2:-30}))
  until curl -sk -o /dev/null "$url"; do
    [[ $SECONDS -lt $deadline ]] || fail "nothing answers on $url"
    sleep 0.2
  done
}

json_cert() { python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$1"; }
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d'"$1"')'; }

pg_database() {  # NAME -> sets pg_uri to a freshly created database (dropped at exit)
  local db=$1
  psql "$pg_admin_uri" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db" >"$work/createdb.log" 2>&1 ||
    fail "CREATE DATABASE $db: $(cat "$work/createdb.log")"
  pg_dbs+=("$db")
  pg_uri=$(python3 -c '
import re, sys
uri, db = sys.argv[1], sys.argv[2]
if "://" in uri:
    print(re.sub(r"^(postgres(?:ql)?://[^/?]*)(/[^?]*)?", lambda m: m.group(1) + "/" + db, uri))
else:
    print(uri + " dbname=" + db)
' "$pg_admin_uri" "$db")
}

start_trust() {  # [extra hansa-trust options] -- starts hansa-trust; sets ocsp_url and tsa_url
  step="start hansa-trust"
  "$trust_bin" --pki-dir "$pki_dir" "$@" serve --ocsp-port 0 --tsa-port 0 \
    >"$work/trust.out" 2>"$work/trust.log" &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q "TSA http" "$work/trust.out" 2>/dev/null && break
    sleep 0.1
  done
  ocsp_url=$(grep -o 'OCSP http://[^ ]*' "$work/trust.out" | cut -d' ' -f2)
  tsa_url=$(grep -o 'TSA http://[^ ]*' "$work/trust.out" | cut -d' ' -f2)
  [[ -n "$ocsp_url" && -n "$tsa_url" ]] || fail "hansa-trust did not report its URLs"
  log "OCSP $ocsp_url TSA $tsa_url"
}
