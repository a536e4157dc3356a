#!/usr/bin/env bash
# Generates a small throw-away PKI for the HTTP and hansa-trust unit tests (EC P-256, 2 days):
#   ca            test CA;              ca2: an unrelated CA
#   server        TLS server (SAN 127.0.0.1, localhost), issued by ca
#   client        TLS client, issued by ca;  client2: TLS client issued by ca2
#   ocsp          delegated OCSP responder (id-kp-OCSPSigning), issued by ca
#   tsa           time-stamping unit (critical id-kp-timeStamping), issued by ca
#   leaf1, leaf2  ordinary certificates with serials 1001 and 1002, issued by ca
# Usage: make_test_certs.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

ca() {
  key "$1"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=Hansa Test $1" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
}

# issue NAME CA SERIAL EXTENSIONS...
issue() {
  local name=$1 issuer=$2 serial=$3
  shift 3
  key "$name"
  openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=Hansa Test $name" 2>/dev/null
  printf '%s\n' "$@" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -set_serial "$serial" \
    -days 2 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

ca ca
ca ca2
issue server ca 0x2001 "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth"
issue client ca 0x2002 "extendedKeyUsage=clientAuth"
issue client2 ca2 0x2003 "extendedKeyUsage=clientAuth"
issue ocsp ca 0x2004 "extendedKeyUsage=OCSPSigning" "keyUsage=critical,digitalSignature"
issue tsa ca 0x2005 "extendedKeyUsage=critical,timeStamping" "keyUsage=critical,digitalSignature"
issue leaf1 ca 0x1001 "keyUsage=critical,digitalSignature"
issue leaf2 ca 0x1002 "keyUsage=critical,digitalSignature"
