#!/usr/bin/env bash
# Message exchange end to end (issue 6 "Done when"), through the real daemons and their APIs only
# (tests/integration/federation.sh):
#
#   hansa-trust, hansa-central and two registered nodes on loopback: node A of DEV/GOV/1234 hosting
#     the subsystem SUBA, node B of DEV/COM/4321 hosting SUBB;
#   one hansa-test-provider per node (SOAP echo with WSDL operations `echo` and `secret`, REST echo
#     with an OpenAPI document), added as services of SUBA and SUBB through the node admin API
#     (WSDL description, OpenAPI descriptions `pets` and `hidden`); `echo` and `pets` granted to the
#     other node's subsystem, `secret` and `hidden` granted to nobody;
#   calls in both directions through the client proxies: a SOAP request (curl, text/xml), a REST GET
#     with only X-Road-Client (curl), and the same for the services not granted, which must end
#     with Server.ServerProxy.AccessDenied; REST listMethods; /listClients; python3-zeep as an
#     unmodified SOAP client generated from the WSDL when it is installed;
#   every exchanged message (request and response) is found in both nodes' message logs (admin API,
#     by query id), and each record's ASiC-E container verifies with hansa-verify against the
#     federation's shared parameters once the record is time-stamped.
#
# Runs on SQLite and, when HANSA_TEST_PG_URI is set, once more on fresh PostgreSQL databases. On
# SQLite node B's member signs with an EC P-256 key (ECDSA), so each node verifies and logs both
# kinds of signature; on PostgreSQL both members sign with RSA-2048.
# Everything listens on loopback on free ports; HANSA_IT_KEEP=1 keeps the work directory.
#
#   exchange_test.sh --central BIN --trust BIN --node BIN --ctl BIN --provider BIN --verify BIN
#                    --pki DIR
set -euo pipefail

it_name=exchange-it
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
# shellcheck source=tests/integration/federation.sh
source "$(dirname "$0")/federation.sh"
fed_tag=$it_name

for v in node_bin ctl_bin provider_bin verify_bin; do
  [[ -n "${!v}" ]] || { echo "missing --${v%_bin}" >&2; exit 2; }
done

IFS=/ read -r inst class_a code_a <<<"$MEMBER_1_ID" # DEV/GOV/1234
IFS=/ read -r _ class_b code_b <<<"$MEMBER_2_ID"    # DEV/COM/4321
sub_a="SUBSYSTEM:$inst/$class_a/$code_a/SUBA"
sub_b="SUBSYSTEM:$inst/$class_b/$code_b/SUBB"

# federation.sh writes each node's [proxy] (and message log) configuration.

# start_provider NAME -- a hansa-test-provider; sets provider_url[NAME] ("http://127.0.0.1:PORT").
declare -A provider_url=()
start_provider() {
  local name=$1 dir=$2
  step="provider $name"
  "$provider_bin" --port 0 --port-file "$dir/provider-$name.port" --threads 8 \
    --soap-service echo --soap-service secret >"$dir/provider-$name.out" 2>"$dir/provider-$name.log" &
  pids+=($!)
  for _ in $(seq 1 100); do
    [[ -s "$dir/provider-$name.port" ]] && break
    sleep 0.1
  done
  [[ -s "$dir/provider-$name.port" ]] || fail "hansa-test-provider $name did not start"
  provider_url[$name]="http://127.0.0.1:$(cat "$dir/provider-$name.port")"
}

# soap_envelope CLIENT_ID(INST/CLASS/CODE/SUB) PROVIDER(INST/CLASS/CODE/SUB) SERVICE QUERY_ID
soap_envelope() {
  local c=$1 p=$2 service=$3 id=$4
  IFS=/ read -r ci cc cm cs <<<"$c"
  IFS=/ read -r pi pc pm ps <<<"$p"
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers">
  <SOAP-ENV:Header>
    <xroad:client id:objectType="SUBSYSTEM"><id:xRoadInstance>$ci</id:xRoadInstance><id:memberClass>$cc</id:memberClass><id:memberCode>$cm</id:memberCode><id:subsystemCode>$cs</id:subsystemCode></xroad:client>
    <xroad:service id:objectType="SERVICE"><id:xRoadInstance>$pi</id:xRoadInstance><id:memberClass>$pc</id:memberClass><id:memberCode>$pm</id:memberCode><id:subsystemCode>$ps</id:subsystemCode><id:serviceCode>$service</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xroad:service>
    <xroad:id>$id</xroad:id>
    <xroad:userId>EE00000000000</xroad:userId>
    <xroad:protocolVersion>4.0</xroad:protocolVersion>
  </SOAP-ENV:Header>
  <SOAP-ENV:Body><ns:$service xmlns:ns="http://test.x-road.global/producer"><ns:value>hansa</ns:value></ns:$service></SOAP-ENV:Body>
</SOAP-ENV:Envelope>
EOF
}

# soap_call NODE CLIENT PROVIDER SERVICE QUERY_ID -- prints the HTTP status, body in $work/last.xml
soap_call() {
  local node=$1
  soap_envelope "$2" "$3" "$4" "$5" >"$work/req.xml"
  curl -sS -o "$work/last.xml" -w '%{http_code}' --max-time 30 \
    -H 'Content-Type: text/xml; charset=UTF-8' -H 'SOAPAction: ""' \
    --data-binary @"$work/req.xml" "http://127.0.0.1:${fed_node_client_port[$node]}/"
}

# rest_call NODE CLIENT(INST/CLASS/CODE/SUB) PATH QUERY_ID -- prints the status; body in last.json,
# headers in last.headers. Only X-Road-Client (and X-Road-Id to find the records) are sent.
rest_call() {
  local node=$1 client=$2 path=$3 id=$4
  curl -sS -o "$work/last.json" -D "$work/last.headers" -w '%{http_code}' --max-time 30 \
    -H "X-Road-Client: $client" -H "X-Road-Id: $id" \
    "http://127.0.0.1:${fed_node_client_port[$node]}/r1/$path"
}

# expect_records NODE QUERY_ID -- both the request and the response are in the node's log.
expect_records() {
  local node=$1 id=$2 deadline=$((SECONDS + 20)) got=""
  step="message log of $node: $id"
  while :; do
    got=$(curl -sS -H "Authorization: Bearer ${fed_node_token[$node]}" \
      "${fed_node_admin_url[$node]}/api/v1/messagelog/records?queryId=$id" |
      fed_jq "' '.join(sorted(('response' if r['response'] else 'request') for r in d['items']))" 2>/dev/null || true)
    [[ $got == "request response" ]] && break
    [[ $SECONDS -lt $deadline ]] || fail "records for $id on $node: '$got'"
    sleep 0.5
  done
  logged_ids[$node]+=" $id"
}

# shared_params NODE -- a copy of the shared parameters the node downloaded (verification conf;
# the node replaces its stored copy on every refresh, so it is copied first).
shared_params() {
  local node=$1 f out="$work/shared-params-$1.xml"
  for _ in $(seq 1 20); do
    f=$(grep -l "approvedCA" -r "${fed_node_dir[$node]}/var" 2>/dev/null | grep -v '\.mime$' | head -1 || true)
    if [[ -n "$f" ]] && cp "$f" "$out" 2>/dev/null; then
      echo "$out"
      return 0
    fi
    sleep 0.2
  done
}

# verify_records NODE -- each logged record's ASiC-E container verifies with hansa-verify.
verify_records() {
  local node=$1 sp id
  sp=$(shared_params "$node")
  [[ -n "$sp" ]] || fail "no shared parameters in ${fed_node_dir[$node]}/var"
  local auth=(-H "Authorization: Bearer ${fed_node_token[$node]}")
  for id in ${logged_ids[$node]}; do
    step="verify $node: $id"
    local deadline=$((SECONDS + 90)) items=""
    while :; do
      items=$(curl -sS "${auth[@]}" "${fed_node_admin_url[$node]}/api/v1/messagelog/records?queryId=$id")
      [[ $(fed_jq "all(r['timestamped'] for r in d['items'])" <<<"$items") == True ]] && break
      [[ $SECONDS -lt $deadline ]] || fail "records of $id on $node not time-stamped: $items"
      sleep 1
    done
    local rid
    for rid in $(fed_jq "' '.join(str(r['id']) for r in d['items'])" <<<"$items"); do
      curl -sSf "${auth[@]}" -o "$work/rec.asice" \
        "${fed_node_admin_url[$node]}/api/v1/messagelog/records/$rid/asic" ||
        fail "download of record $rid"
      "$verify_bin" "$work/rec.asice" --shared-params "$sp" >"$work/verify.out" 2>&1 ||
        fail "hansa-verify record $rid ($id): $(cat "$work/verify.out")"
      local method
      method=$(unzip -p "$work/rec.asice" 'META-INF/signatures*.xml' |
        grep -o -m 1 'SignatureMethod Algorithm="[^"]*"' | cut -d'"' -f2) ||
        fail "no SignatureMethod in the container of record $rid ($id)"
      seen_methods[$node]+=" ${method##*#}"
    done
  done
}

# expect_methods NODE "M1 M2..." -- the node's verified containers were signed with each of them
# (the node logs the signatures of both sides, its own and its peer's).
expect_methods() {
  local node=$1 m
  for m in $2; do
    [[ " ${seen_methods[$node]} " == *" $m "* ]] ||
      fail "no container on $node signed with $m (seen:${seen_methods[$node]})"
  done
}

declare -A logged_ids=() seen_methods=()

# run_case NAME CENTRAL_DB A_DB B_DB B_SIGN_KEY -- node A's member signs with RSA-2048, node B's
# with B_SIGN_KEY (ECDSA signatures are X-Road's since 7.6).
# oversized_request NODE -- announces a 1 GB SOAP body to NODE's client proxy, sends none of it,
# and prints the answer (read until the proxy closes the connection, 10 s at most).
oversized_request() {
  local port=${fed_node_client_port[$1]} fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$port"
  printf 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Length: 1073741824\r\n\r\n' >&"$fd"
  timeout 10 cat <&"$fd" | tr -d '\r'
  exec {fd}>&-
}

run_case() {
  local name=$1 central_db=$2 db_a=$3 db_b=$4 sign_key_b=$5
  local dir="$work/$name"
  logged_ids=()
  seen_methods=()
  step="$name: federation"
  fed_setup --pki "$pki_dir" --dir "$dir"
  fed_start_trust
  fed_start_central ${central_db:+--db "$central_db"}
  fed_central_setup
  fed_add_member "$class_a" "$code_a" "Member $code_a"
  fed_add_member "$class_b" "$code_b" "Member $code_b"
  fed_add_node a "$MEMBER_1_ID" SS1 ${db_a:+--db "$db_a"}
  FED_SIGN_KEY_ALGORITHM=$sign_key_b fed_add_node b "$MEMBER_2_ID" SS2 ${db_b:+--db "$db_b"}
  fed_add_client a "$class_a:$code_a:SUBA"
  fed_add_client b "$class_b:$code_b:SUBB"
  fed_nodectl a client connection-type "$class_a:$code_a:SUBA" http >/dev/null
  fed_nodectl b client connection-type "$class_b:$code_b:SUBB" http >/dev/null

  start_provider a "$dir"
  start_provider b "$dir"
  local node cl other
  for node in a b; do
    if [[ $node == a ]]; then cl="$class_a:$code_a:SUBA" other=$sub_b; else cl="$class_b:$code_b:SUBB" other=$sub_a; fi
    fed_add_wsdl_service "$node" "$cl" "${provider_url[$node]}/wsdl" >/dev/null
    fed_add_openapi_service "$node" "$cl" pets "${provider_url[$node]}/openapi.json" >/dev/null
    fed_add_openapi_service "$node" "$cl" hidden "${provider_url[$node]}/openapi.json?copy=hidden" >/dev/null
    fed_grant "$node" "$cl" echo "$other"
    fed_grant "$node" "$cl" pets "$other"
  done
  fed_sync_nodes
  step="$name: client proxies listen"
  wait_http "http://127.0.0.1:${fed_node_client_port[a]}/" 30
  wait_http "http://127.0.0.1:${fed_node_client_port[b]}/" 30

  local a_id="$inst/$class_a/$code_a/SUBA" b_id="$inst/$class_b/$code_b/SUBB"
  local from to cid pid status qid
  for from in a b; do
    if [[ $from == a ]]; then to=b cid=$a_id pid=$b_id; else to=a cid=$b_id pid=$a_id; fi

    step="$name: SOAP $from -> $to"
    qid="soap-$name-$from-$RANDOM$RANDOM"
    status=$(soap_call "$from" "$cid" "$pid" echo "$qid")
    [[ $status == 200 ]] || fail "SOAP echo $from -> $to: HTTP $status: $(cat "$work/last.xml")"
    grep -q "echoResponse" "$work/last.xml" || fail "no echoResponse: $(cat "$work/last.xml")"
    grep -q "requestHash" "$work/last.xml" || fail "no requestHash: $(cat "$work/last.xml")"
    grep -q "$qid" "$work/last.xml" || fail "query id not echoed"
    expect_records "$from" "$qid"
    expect_records "$to" "$qid"

    step="$name: SOAP $from -> $to denied"
    status=$(soap_call "$from" "$cid" "$pid" secret "denied-$qid")
    grep -q "Server.ServerProxy.AccessDenied" "$work/last.xml" ||
      fail "secret $from -> $to: HTTP $status: $(cat "$work/last.xml")"

    step="$name: REST $from -> $to"
    qid="rest-$name-$from-$RANDOM$RANDOM"
    status=$(rest_call "$from" "$cid" "$pid/pets/items/7?x=1" "$qid")
    [[ $status == 200 ]] || fail "REST pets $from -> $to: HTTP $status: $(cat "$work/last.json")"
    grep -qi "^x-road-request-hash:" "$work/last.headers" || fail "no X-Road-Request-Hash"
    grep -q "items/7" "$work/last.json" || fail "provider did not see the path: $(cat "$work/last.json")"
    expect_records "$from" "$qid"
    expect_records "$to" "$qid"

    step="$name: REST $from -> $to denied"
    status=$(rest_call "$from" "$cid" "$pid/hidden/items/7" "denied-$qid")
    grep -qi "^x-road-error: Server.ServerProxy.AccessDenied" "$work/last.headers" ||
      fail "hidden $from -> $to: HTTP $status: $(cat "$work/last.headers" "$work/last.json")"

    step="$name: REST listMethods $from -> $to"
    status=$(rest_call "$from" "$cid" "$pid/listMethods" "meta-$qid")
    [[ $status == 200 ]] && grep -q "pets" "$work/last.json" ||
      fail "listMethods: HTTP $status: $(cat "$work/last.json")"
  done

  # A request over the client proxy's body limit (64 MB by default) is refused before its body is
  # read, with a SOAP fault the IS can parse, and the connection is closed.
  step="$name: oversized SOAP request"
  local answer
  answer=$(oversized_request a)
  grep -q "^HTTP/1.1 500" <<<"$answer" && grep -qi "^Content-Type: text/xml" <<<"$answer" &&
    grep -q "<faultcode>Server.ClientProxy.LimitExceeded</faultcode>" <<<"$answer" ||
    fail "oversized request: $answer"
  # ... and /metrics counts it by proxy and status.
  local metrics
  metrics=$(curl -sS --max-time 10 "${fed_node_admin_url[a]}/metrics")
  grep -qx 'hansa_node_refused_requests{proxy="client",status="413"} 1' <<<"$metrics" ||
    fail "refusal metric: $(grep hansa_node_refused <<<"$metrics")"

  step="$name: listClients"
  status=$(curl -sS -o "$work/clients.xml" -w '%{http_code}' \
    "http://127.0.0.1:${fed_node_client_port[a]}/listClients")
  [[ $status == 200 ]] && grep -q "SUBB" "$work/clients.xml" ||
    fail "listClients: HTTP $status: $(cat "$work/clients.xml")"

  # Debian's python3-zeep belongs to the system interpreter (another python3 may come first).
  local zeep_py=""
  for py in python3 /usr/bin/python3; do
    if "$py" -c 'import zeep' 2>/dev/null; then
      zeep_py=$py
      break
    fi
  done
  if [[ -n "$zeep_py" ]]; then
    step="$name: python3-zeep client from the WSDL"
    "$zeep_py" - "http://127.0.0.1:${fed_node_client_port[a]}/" "$work" \
      "$a_id" "$b_id" >"$work/zeep.log" 2>&1 <<'EOF' || fail "zeep: $(cat "$work/zeep.log")"
import sys, uuid, os
import zeep
from lxml import etree
endpoint, workdir, client_id, provider_id = sys.argv[1:5]
ci, cc, cm, cs = client_id.split("/")
pi, pc, pm, ps = provider_id.split("/")
# A document/literal WSDL of the echo operation, as an IS developer would write or download it.
wsdl = os.path.join(workdir, "echo.wsdl")
with open(wsdl, "w") as f:
    f.write("""<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="http://test.x-road.global/producer" targetNamespace="http://test.x-road.global/producer">
  <wsdl:types><xs:schema targetNamespace="http://test.x-road.global/producer" elementFormDefault="qualified">
    <xs:element name="echo"><xs:complexType><xs:sequence><xs:element name="value" type="xs:string"/></xs:sequence></xs:complexType></xs:element>
    <xs:element name="echoResponse"><xs:complexType><xs:sequence><xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>
  </xs:schema></wsdl:types>
  <wsdl:message name="echo"><wsdl:part name="body" element="tns:echo"/></wsdl:message>
  <wsdl:message name="echoResponse"><wsdl:part name="body" element="tns:echoResponse"/></wsdl:message>
  <wsdl:portType name="Echo"><wsdl:operation name="echo"><wsdl:input message="tns:echo"/><wsdl:output message="tns:echoResponse"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="EchoBinding" type="tns:Echo"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="echo"><soap:operation soapAction=""/><wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="EchoService"><wsdl:port name="EchoPort" binding="tns:EchoBinding"><soap:address location="%s"/></wsdl:port></wsdl:service>
</wsdl:definitions>""" % endpoint)
X = "http://x-road.eu/xsd/xroad.xsd"
I = "http://x-road.eu/xsd/identifiers"
def ident(tag, objtype, parts):
    e = etree.Element("{%s}%s" % (X, tag), nsmap={"xroad": X, "id": I})
    e.set("{%s}objectType" % I, objtype)
    for name, value in parts:
        etree.SubElement(e, "{%s}%s" % (I, name)).text = value
    return e
def text(tag, value):
    e = etree.Element("{%s}%s" % (X, tag), nsmap={"xroad": X})
    e.text = value
    return e
headers = [
    ident("client", "SUBSYSTEM", [("xRoadInstance", ci), ("memberClass", cc), ("memberCode", cm),
                                  ("subsystemCode", cs)]),
    ident("service", "SERVICE", [("xRoadInstance", pi), ("memberClass", pc), ("memberCode", pm),
                                 ("subsystemCode", ps), ("serviceCode", "echo"),
                                 ("serviceVersion", "v1")]),
    text("id", "zeep-" + uuid.uuid4().hex),
    text("protocolVersion", "4.0"),
]
client = zeep.Client(wsdl)
with client.settings(raw_response=True):
    response = client.service.echo(value="hansa", _soapheaders=headers)
assert response.status_code == 200, response.text
assert "echoResponse" in response.text, response.text
print("zeep OK")
EOF
  else
    log "python3-zeep not installed: unmodified SOAP client step skipped"
  fi

  step="$name: signatures verify"
  verify_records a
  verify_records b
  step="$name: signature methods"
  local methods="rsa-sha512"
  [[ $sign_key_b == EC-* ]] && methods+=" ecdsa-sha512"
  expect_methods a "$methods"
  expect_methods b "$methods"
  fed_stop_all
  log "$name: OK"
}

run_case sqlite "" "" "" EC-P256
if [[ -n "$pg_admin_uri" ]]; then
  suffix="$$_$RANDOM"
  step="postgresql: create databases"
  pg_database "hansa_exch_c_$suffix"; c_uri=$pg_uri
  pg_database "hansa_exch_a_$suffix"; a_uri=$pg_uri
  pg_database "hansa_exch_b_$suffix"; b_uri=$pg_uri
  run_case postgresql "$c_uri" "$a_uri" "$b_uri" RSA-2048
else
  log "HANSA_TEST_PG_URI not set: PostgreSQL run skipped"
fi
log "all OK"
