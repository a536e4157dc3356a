#!/usr/bin/env bash
# Generates Hansa's development PKI (see certs/README.md for the layout and what each identity is
# for). Development and tests only: every private key is written unencrypted next to its
# certificate.
#
#   certs/make-dev-pki.sh [--force] [--member INSTANCE/CLASS/CODE [--server CODE]...]...
#                         [--ocsp-url URL] [--days N] OUTDIR
#
# --member may be repeated; each --server belongs to the --member before it. Without --member the
# PKI holds DEV/GOV/1234 (node SS1) and DEV/COM/4321 (node SS2).
set -euo pipefail

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

force=0
outdir=""
ocsp_url="http://127.0.0.1:8899/ocsp"
days=730
members=()        # INSTANCE/CLASS/CODE
member_servers=() # per member: space-separated server codes
p12_password="hansa-dev"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) force=1 ;;
    --member)
      [[ $# -ge 2 ]] || usage
      if [[ ! "$2" =~ ^[^/[:space:]]+/[^/[:space:]]+/[^/[:space:]]+$ ]]; then
        echo "bad --member '$2' (want INSTANCE/CLASS/CODE)" >&2
        exit 2
      fi
      members+=("$2")
      member_servers+=("")
      shift
      ;;
    --server)
      [[ $# -ge 2 && ${#members[@]} -gt 0 ]] || { echo "--server needs a preceding --member" >&2; exit 2; }
      if [[ ! "$2" =~ ^[A-Za-z0-9._-]+$ ]]; then
        echo "bad --server '$2' (letters, digits, . _ -)" >&2
        exit 2
      fi
      last=$((${#members[@]} - 1))
      member_servers[last]="${member_servers[last]:+${member_servers[last]} }$2"
      shift
      ;;
    --ocsp-url) [[ $# -ge 2 ]] || usage; ocsp_url="$2"; shift ;;
    --days) [[ $# -ge 2 ]] || usage; days="$2"; shift ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) [[ -z "$outdir" ]] || usage; outdir="$1" ;;
  esac
  shift
done
[[ -n "$outdir" ]] || usage

if [[ ${#members[@]} -eq 0 ]]; then
  members=("DEV/GOV/1234" "DEV/COM/4321")
  member_servers=("SS1" "SS2")
fi

# Node codes name directories, so they must be unique across members.
declare -A seen_server=()
for s in ${member_servers[@]+"${member_servers[@]}"}; do
  for code in $s; do
    [[ -z "${seen_server[$code]:-}" ]] || { echo "duplicate --server $code" >&2; exit 2; }
    seen_server[$code]=1
  done
done

if [[ -e "$outdir/pki.env" && $force -eq 0 ]]; then
  echo "$outdir already holds a PKI (use --force to regenerate)" >&2
  exit 1
fi
mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
# Regenerate from scratch: only the directories this script owns are removed.
rm -rf "$outdir/ca" "$outdir/ocsp" "$outdir/tsa" "$outdir/central" "$outdir/members" \
  "$outdir/nodes" "$outdir/variants" "$outdir/untrusted" "$outdir/tmp" "$outdir/pki.env"
umask 077
mkdir -p "$outdir"/{ca/root,ca/intermediate,ocsp,tsa,central,members,nodes,variants,untrusted,tmp}
tmp="$outdir/tmp"

# Default subjectAltName for the auth extension sections (the config reads it from the environment).
export HANSA_SAN="DNS:localhost"

ossl() { openssl "$@" 2>"$tmp/openssl.err" || { cat "$tmp/openssl.err" >&2; exit 1; }; }
stamp() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

now_minus_1d="$(stamp '-1 day')"
ca_start="$(stamp '-400 days')"
ca_end="$(stamp '+3650 days')"
leaf_end="$(stamp "+${days} days")"

newkey() { ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"; }
# Negative variants and the untrusted PKI use EC P-256 keys: faster, and nothing signs with them
# except tests.
newkey_ec() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# An `openssl ca` database per CA, so `openssl ocsp -index` can answer for what it issued.
write_ca_config() { # dir cert key
  local dir="$1"
  : >"$dir/index.txt"
  echo "unique_subject = no" >"$dir/index.txt.attr"
  mkdir -p "$dir/newcerts"
  cat >"$dir/ca.cnf" <<EOF
[ ca ]
default_ca = this_ca

[ this_ca ]
dir = $dir
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
certificate = $2
private_key = $3
rand_serial = yes
default_md = sha256
policy = policy_any
preserve = yes
email_in_dn = no
copy_extensions = none
unique_subject = no

# Every attribute Hansa's profiles use is listed (openssl ca drops unlisted ones).
[ policy_any ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
serialNumber = optional
businessCategory = optional

[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_intermediate ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:$ocsp_url

[ v3_ocsp ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ v3_tsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ v3_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:$ocsp_url

[ v3_auth ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectAltName = \${ENV::HANSA_SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:$ocsp_url

[ v3_wrong_usage_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:$ocsp_url

[ v3_wrong_usage_auth ]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
extendedKeyUsage = emailProtection
subjectAltName = \${ENV::HANSA_SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:$ocsp_url
EOF
}

# issue CA_DIR EXT KEY SUBJ OUT START END
issue() {
  local cadir="$1" ext="$2" key="$3" subj="$4" out="$5" start="$6" end="$7"
  ossl req -new -key "$key" -subj "$subj" -utf8 -out "$tmp/req.csr"
  ossl ca -batch -notext -config "$cadir/ca.cnf" \
    -extensions "$ext" -startdate "$start" -enddate "$end" -in "$tmp/req.csr" -out "$out"
}

# Escapes '/' for `-subj` values.
esc() { printf '%s' "${1//\//\\/}"; }

# ---- root and intermediate CA ----
# CAs start well in the past so that certificates in the past (the expired variants) chain.
newkey "$outdir/ca/root.key"
write_ca_config "$outdir/ca/root" "$outdir/ca/root.pem" "$outdir/ca/root.key"
ossl req -new -key "$outdir/ca/root.key" -subj "/C=EE/O=Hansa Development/CN=Hansa Dev Root CA" \
  -out "$tmp/root.csr"
ossl ca -batch -notext -selfsign -config "$outdir/ca/root/ca.cnf" -extensions v3_root \
  -startdate "$ca_start" -enddate "$ca_end" -in "$tmp/root.csr" -out "$outdir/ca/root.pem"
cat >"$tmp/root.cnf" <<EOF
[ req ]
distinguished_name = dn
[ dn ]
[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF

newkey "$outdir/ca/intermediate.key"
issue "$outdir/ca/root" v3_intermediate "$outdir/ca/intermediate.key" \
  "/C=EE/O=Hansa Development/CN=Hansa Dev Intermediate CA" "$outdir/ca/intermediate.pem" \
  "$ca_start" "$ca_end"
write_ca_config "$outdir/ca/intermediate" "$outdir/ca/intermediate.pem" "$outdir/ca/intermediate.key"
cat "$outdir/ca/intermediate.pem" "$outdir/ca/root.pem" >"$outdir/ca/chain.pem"
inter="$outdir/ca/intermediate"

# ---- trust services ----
newkey "$outdir/ocsp/ocsp.key"
issue "$inter" v3_ocsp "$outdir/ocsp/ocsp.key" "/C=EE/O=Hansa Development/CN=Hansa Dev OCSP Responder" \
  "$outdir/ocsp/ocsp.pem" "$now_minus_1d" "$leaf_end"

newkey "$outdir/tsa/tsa.key"
issue "$inter" v3_tsa "$outdir/tsa/tsa.key" "/C=EE/O=Hansa Development/CN=Hansa Dev TSA" \
  "$outdir/tsa/tsa.pem" "$now_minus_1d" "$leaf_end"
cat "$outdir/tsa/tsa.pem" "$outdir/ca/chain.pem" >"$outdir/tsa/chain.pem"
echo 01 >"$outdir/tsa/serial"
cat >"$outdir/tsa/tsa.cnf" <<EOF
# For: openssl ts -reply -config tsa.cnf -queryfile q.tsq -out r.tsr
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = $outdir/tsa
serial = \$dir/serial
signer_cert = \$dir/tsa.pem
signer_key = \$dir/tsa.key
certs = \$dir/chain.pem
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1.1
other_policies = 1.3.6.1.4.1.99999.1.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
EOF

# Central's configuration-signing certificate is self-signed: global configuration anchors carry
# it directly (PR-GCONF), no CA is involved.
newkey "$outdir/central/conf-signing.key"
cat >"$tmp/conf.cnf" <<EOF
[ req ]
distinguished_name = dn
[ dn ]
[ v3_conf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
EOF
ossl req -new -x509 -key "$outdir/central/conf-signing.key" \
  -subj "/C=EE/O=Hansa Development/CN=Hansa Dev Central Configuration Signing" \
  -config "$tmp/conf.cnf" -extensions v3_conf -days "$days" -sha256 \
  -out "$outdir/central/conf-signing.pem"

# ---- members and nodes (Hansa default certificate profile, see README) ----
p12() { # key cert out name
  ossl pkcs12 -export -inkey "$1" -in "$2" -certfile "$outdir/ca/chain.pem" -name "$4" \
    -passout "pass:$p12_password" -out "$3"
}

env_lines=()
add_env() { env_lines+=("$1=$2"); }

node_index=0
for i in "${!members[@]}"; do
  id="${members[$i]}"
  IFS=/ read -r instance mclass mcode <<<"$id"
  n=$((i + 1))
  mdir="$outdir/members/${instance}_${mclass}_${mcode}"
  mkdir -p "$mdir"
  name="Member $mcode"
  subj="/O=$(esc "$name")/CN=$(esc "$mcode")/serialNumber=$(esc "$instance/$mclass/$mcode")"
  newkey "$mdir/sign.key"
  issue "$inter" v3_sign "$mdir/sign.key" "$subj" "$mdir/sign.pem" "$now_minus_1d" "$leaf_end"
  cat "$mdir/sign.pem" "$outdir/ca/chain.pem" >"$mdir/sign-chain.pem"
  p12 "$mdir/sign.key" "$mdir/sign.pem" "$mdir/sign.p12" "sign $id"
  add_env "MEMBER_${n}_ID" "$id"
  add_env "MEMBER_${n}_DIR" "$mdir"
  add_env "MEMBER_${n}_SIGN_KEY" "$mdir/sign.key"
  add_env "MEMBER_${n}_SIGN_CERT" "$mdir/sign.pem"
  add_env "MEMBER_${n}_SIGN_CHAIN" "$mdir/sign-chain.pem"
  add_env "MEMBER_${n}_SIGN_P12" "$mdir/sign.p12"
  for server in ${member_servers[$i]}; do
    node_index=$((node_index + 1))
    ndir="$outdir/nodes/$server"
    mkdir -p "$ndir"
    lower="$(printf '%s' "$server" | tr 'A-Z' 'a-z')"
    newkey "$ndir/auth.key"
    HANSA_SAN="DNS:localhost,DNS:$lower,IP:127.0.0.1,IP:::1"
    issue "$inter" v3_auth "$ndir/auth.key" \
      "/O=$(esc "$name")/CN=$(esc "$server")/serialNumber=$(esc "$instance/$mclass/$mcode/$server")" \
      "$ndir/auth.pem" "$now_minus_1d" "$leaf_end"
    cat "$ndir/auth.pem" "$outdir/ca/chain.pem" >"$ndir/auth-chain.pem"
    p12 "$ndir/auth.key" "$ndir/auth.pem" "$ndir/auth.p12" "auth $id/$server"
    add_env "NODE_${node_index}_ID" "$id/$server"
    add_env "NODE_${node_index}_DIR" "$ndir"
    add_env "NODE_${node_index}_AUTH_KEY" "$ndir/auth.key"
    add_env "NODE_${node_index}_AUTH_CERT" "$ndir/auth.pem"
    add_env "NODE_${node_index}_AUTH_CHAIN" "$ndir/auth-chain.pem"
    add_env "NODE_${node_index}_AUTH_P12" "$ndir/auth.p12"
  done
done

# ---- negative variants, all for the first member (and its first node, or "SS0") ----
IFS=/ read -r instance mclass mcode <<<"${members[0]}"
first_server="$(echo ${member_servers[0]} | awk '{print $1}')"
first_server="${first_server:-SS0}"
sign_subj="/O=$(esc "Member $mcode")/CN=$(esc "$mcode")/serialNumber=$(esc "$instance/$mclass/$mcode")"
auth_subj="/O=$(esc "Member $mcode")/CN=$(esc "$first_server")/serialNumber=$(esc "$instance/$mclass/$mcode/$first_server")"
v="$outdir/variants"
variant() { # name ext subj start end
  newkey_ec "$v/$1.key"
  HANSA_SAN="DNS:localhost,IP:127.0.0.1"
  issue "$inter" "$2" "$v/$1.key" "$3" "$v/$1.pem" "$4" "$5"
}
variant sign-revoked v3_sign "$sign_subj" "$now_minus_1d" "$leaf_end"
variant sign-expired v3_sign "$sign_subj" "$(stamp '-60 days')" "$(stamp '-30 days')"
variant sign-not-yet-valid v3_sign "$sign_subj" "$(stamp '+30 days')" "$(stamp '+400 days')"
variant sign-wrong-usage v3_wrong_usage_sign "$sign_subj" "$now_minus_1d" "$leaf_end"
variant auth-revoked v3_auth "$auth_subj" "$now_minus_1d" "$leaf_end"
variant auth-expired v3_auth "$auth_subj" "$(stamp '-60 days')" "$(stamp '-30 days')"
variant auth-wrong-usage v3_wrong_usage_auth "$auth_subj" "$now_minus_1d" "$leaf_end"
for r in sign-revoked auth-revoked; do
  ossl ca -batch -config "$inter/ca.cnf" -revoke "$v/$r.pem" -crl_reason keyCompromise
done

# An unrelated root and a sign certificate it issued for the first member: must not verify.
u="$outdir/untrusted"
newkey_ec "$u/root.key"
ossl req -new -x509 -key "$u/root.key" -subj "/C=EE/O=Rogue/CN=Untrusted Root CA" \
  -config "$tmp/root.cnf" -extensions v3_root -days 3650 -sha256 -out "$u/root.pem"
newkey_ec "$u/sign.key"
ossl req -new -key "$u/sign.key" -subj "$sign_subj" -out "$tmp/u.csr"
cat >"$tmp/u.ext" <<EOF
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
EOF
ossl x509 -req -in "$tmp/u.csr" -CA "$u/root.pem" -CAkey "$u/root.key" -CAcreateserial \
  -CAserial "$tmp/u.srl" -days "$days" -sha256 -extfile "$tmp/u.ext" -out "$u/sign.pem"

# ---- summary ----
{
  echo "# Generated by certs/make-dev-pki.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). KEY=VALUE, no quoting."
  echo "HANSA_PKI_DIR=$outdir"
  echo "P12_PASSWORD=$p12_password"
  echo "OCSP_URL=$ocsp_url"
  echo "ROOT_CA_CERT=$outdir/ca/root.pem"
  echo "ROOT_CA_KEY=$outdir/ca/root.key"
  echo "ROOT_CA_INDEX=$outdir/ca/root/index.txt"
  echo "INTERMEDIATE_CA_CERT=$outdir/ca/intermediate.pem"
  echo "INTERMEDIATE_CA_KEY=$outdir/ca/intermediate.key"
  echo "INTERMEDIATE_CA_INDEX=$outdir/ca/intermediate/index.txt"
  echo "CA_CHAIN=$outdir/ca/chain.pem"
  echo "OCSP_CERT=$outdir/ocsp/ocsp.pem"
  echo "OCSP_KEY=$outdir/ocsp/ocsp.key"
  echo "TSA_CERT=$outdir/tsa/tsa.pem"
  echo "TSA_KEY=$outdir/tsa/tsa.key"
  echo "TSA_CHAIN=$outdir/tsa/chain.pem"
  echo "TSA_CONFIG=$outdir/tsa/tsa.cnf"
  echo "CONF_SIGNING_CERT=$outdir/central/conf-signing.pem"
  echo "CONF_SIGNING_KEY=$outdir/central/conf-signing.key"
  echo "MEMBER_COUNT=${#members[@]}"
  echo "NODE_COUNT=$node_index"
  printf '%s\n' "${env_lines[@]}"
  for name in sign-revoked sign-expired sign-not-yet-valid sign-wrong-usage auth-revoked \
    auth-expired auth-wrong-usage; do
    var="$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
    echo "${var}_CERT=$v/$name.pem"
    echo "${var}_KEY=$v/$name.key"
  done
  echo "UNTRUSTED_ROOT_CERT=$u/root.pem"
  echo "UNTRUSTED_SIGN_CERT=$u/sign.pem"
  echo "UNTRUSTED_SIGN_KEY=$u/sign.key"
} >"$outdir/pki.env.tmp"
rm -rf "$tmp"
mv "$outdir/pki.env.tmp" "$outdir/pki.env"
echo "development PKI written to $outdir"
