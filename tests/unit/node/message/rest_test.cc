#include "node/message/rest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"

namespace hansa::message {
namespace {

constexpr std::string_view kTarget = "/r1/HANSA/GOV/2002/registry/listPeople/v1/people?limit=10";

HeaderFields base_headers() {
  return {{"Host", "localhost:8080"},     {"User-Agent", "curl/8.0"},
          {"Accept", "application/json"}, {"X-Road-Client", "HANSA/GOV/1001/caseworker"},
          {"Connection", "keep-alive"},   {"Content-Length", "0"},
          {"X-Powered-By", "tests"}};
}

RestParseOptions no_id_generation() {
  RestParseOptions o;
  o.generate_missing_id = false;
  return o;
}

TEST(RestRequestTest, ParsesPrRestRequest) {
  HeaderFields h = base_headers();
  h.emplace_back("X-Road-Id", "id-123");
  h.emplace_back("X-Road-UserId", "LV01020312345");
  h.emplace_back("X-Road-Issue", "case-9");
  h.emplace_back("X-Road-Security-Server", "HANSA/GOV/2002/node2");
  h.emplace_back("X-Road-Represented-Party", "COM/777");
  auto r = parse_rest_request("GET", kTarget, h, "");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->target, kTarget);
  EXPECT_EQ(r->service.to_string(), "SERVICE:HANSA/GOV/2002/registry/listPeople");
  EXPECT_EQ(r->service_path, "/v1/people");
  EXPECT_EQ(r->query, "limit=10");
  EXPECT_EQ(r->client.to_string(), "SUBSYSTEM:HANSA/GOV/1001/caseworker");
  EXPECT_EQ(r->id, "id-123");
  EXPECT_FALSE(r->id_generated);
  EXPECT_EQ(r->user_id, "LV01020312345");
  EXPECT_EQ(r->issue, "case-9");
  ASSERT_TRUE(r->security_server.has_value());
  EXPECT_EQ(r->security_server->to_string(), "SERVER:HANSA/GOV/2002/node2");
  ASSERT_TRUE(r->represented_party.has_value());
  EXPECT_EQ(r->represented_party->party_class, "COM");
  EXPECT_EQ(r->represented_party->party_code, "777");
  // Hop-by-hop, Host, User-Agent and Content-Length are gone; the rest keeps its order.
  for (const auto& [n, v] : r->headers) {
    EXPECT_FALSE(is_filtered_header(n)) << n;
  }
  ASSERT_GE(r->headers.size(), 3u);
  EXPECT_EQ(r->headers[0].first, "Accept");
  EXPECT_EQ(r->headers[1].first, "X-Road-Client");
  EXPECT_EQ(r->headers[2].first, "X-Powered-By");
}

TEST(RestRequestTest, OnlyClientHeaderNeeded) {
  auto r = parse_rest_request("GET", "/r1/HANSA/GOV/2002/registry/listPeople",
                              {{"X-Road-Client", "HANSA/GOV/1001"}}, "");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->client.is_member());
  EXPECT_TRUE(r->id_generated);
  EXPECT_EQ(r->id.size(), 36u);  // a UUID
  EXPECT_EQ(r->service_path, "");
  EXPECT_FALSE(r->query.has_value());
}

// Generated ids are time-ordered (UUID version 7): the message logs of both nodes index them, and
// an index of ids made one after another grows at one end.
TEST(RestRequestTest, GeneratedIdsAreTimeOrdered) {
  std::string previous;
  for (int i = 0; i < 3; ++i) {
    auto r = parse_rest_request("GET", "/r1/HANSA/GOV/2002/registry/listPeople",
                                {{"X-Road-Client", "HANSA/GOV/1001"}}, "");
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_EQ(r->id.size(), 36u);
    EXPECT_EQ(r->id[14], '7') << r->id;
    // The first 48 bits (12 hex digits) are the time in ms: never earlier than the id before.
    if (!previous.empty()) {
      EXPECT_GE(r->id.substr(0, 13), previous.substr(0, 13)) << previous << " then " << r->id;
    }
    previous = r->id;
  }
}

TEST(RestRequestTest, LastClientHeaderWins) {
  auto r = parse_rest_request(
      "POST", kTarget,
      {{"X-Road-Client", "HANSA/GOV/9999"}, {"x-road-client", "HANSA/GOV/1001/caseworker"}}, "{}");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->client.to_string(), "SUBSYSTEM:HANSA/GOV/1001/caseworker");
  EXPECT_EQ(r->body, "{}");
}

TEST(RestRequestTest, PercentDecodedSegments) {
  auto r = parse_rest_request("GET", "/r1/HANSA/GOV/20%2B02/reg%3Distry/get%28x%29/a%20b",
                              {{"X-Road-Client", "HANSA/GOV/10%2B01"}}, "");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->service.member_code(), "20+02");
  EXPECT_EQ(r->service.subsystem_code(), "reg=istry");
  EXPECT_EQ(r->service.service_code(), "get(x)");
  EXPECT_EQ(r->service_path, "/a%20b");
  EXPECT_EQ(r->client.member_code(), "10+01");
}

TEST(RestRequestTest, Failures) {
  auto code = [](std::string_view method, std::string_view target, HeaderFields h,
                 const RestParseOptions& o = {}) {
    auto r = parse_rest_request(method, target, h, "", o);
    EXPECT_FALSE(r.ok()) << target;
    return r.ok() ? FaultCode::kInternalError : r.error().code;
  };
  const HeaderFields client = {{"X-Road-Client", "HANSA/GOV/1001"}};
  EXPECT_EQ(code("GET", kTarget, {}), FaultCode::kMissingHeaderField);
  EXPECT_EQ(code("GET", kTarget, {{"X-Road-Client", "  "}}), FaultCode::kMissingHeaderField);
  EXPECT_EQ(code("GET", kTarget, {{"X-Road-Client", "HANSA/GOV"}}),
            FaultCode::kInvalidClientIdentifier);
  EXPECT_EQ(code("GET", kTarget, {{"X-Road-Client", "HANSA/GOV/a b"}}),
            FaultCode::kInvalidClientIdentifier);
  EXPECT_EQ(code("GET", "/r2/HANSA/GOV/2002/registry/x", client),
            FaultCode::kInvalidProtocolVersion);
  EXPECT_EQ(code("GET", "/r1/HANSA/GOV/2002", client), FaultCode::kInvalidServiceIdentifier);
  EXPECT_EQ(code("GET", "http://evil/r1/HANSA/GOV/2002/registry/x", client),
            FaultCode::kInvalidRequest);
  EXPECT_EQ(code("GE T", kTarget, client), FaultCode::kInvalidRequest);
  EXPECT_EQ(code("", kTarget, client), FaultCode::kInvalidRequest);
  HeaderFields bad_server = client;
  bad_server.emplace_back("X-Road-Security-Server", "HANSA/GOV/2002");
  EXPECT_EQ(code("GET", kTarget, bad_server), FaultCode::kInvalidSecurityServer);
  HeaderFields bad_party = client;
  bad_party.emplace_back("X-Road-Represented-Party", "a/b/c");
  EXPECT_EQ(code("GET", kTarget, bad_party), FaultCode::kInvalidRequest);
  EXPECT_EQ(code("GET", kTarget, client, no_id_generation()), FaultCode::kMissingHeaderField);
  HeaderFields injected = client;
  injected.emplace_back("X-Evil", "a\r\nX-Road-Client: HANSA/GOV/666");
  EXPECT_EQ(code("GET", kTarget, injected), FaultCode::kInvalidRequest);
}

TEST(RestRequestTest, Limits) {
  RestParseOptions small;
  small.limits.max_body_bytes = 4;
  auto r =
      parse_rest_request("POST", kTarget, {{"X-Road-Client", "HANSA/GOV/1001"}}, "12345", small);
  EXPECT_EQ(r.error().code, FaultCode::kLimitExceeded);
  RestParseOptions few;
  few.limits.max_headers = 3;
  auto r2 = parse_rest_request("GET", kTarget, base_headers(), "", few);
  EXPECT_EQ(r2.error().code, FaultCode::kLimitExceeded);
  RestParseOptions tiny;
  tiny.limits.max_header_bytes = 20;
  auto r3 = parse_rest_request("GET", kTarget, base_headers(), "", tiny);
  EXPECT_EQ(r3.error().code, FaultCode::kLimitExceeded);
  RestParseOptions short_target;
  short_target.limits.target.max_target_length = 10;
  auto r4 =
      parse_rest_request("GET", kTarget, {{"X-Road-Client", "HANSA/GOV/1001"}}, "", short_target);
  EXPECT_EQ(r4.error().code, FaultCode::kLimitExceeded);
}

TEST(RestHeadTest, RequestHeadByteFormat) {
  RestRequestHead head{
      "POST",
      "/r1/HANSA/GOV/2002/registry/listPeople/v1?x=1",
      {{"X-Road-Client", "HANSA/GOV/1001/caseworker"}, {"Content-Type", "application/json"}}};
  const std::string bytes = serialize_rest_request_head(head);
  EXPECT_EQ(bytes,
            "POST\r\n/r1/HANSA/GOV/2002/registry/listPeople/v1?x=1\r\n"
            "X-Road-Client:HANSA/GOV/1001/caseworker\r\nContent-Type:application/json\r\n");
  auto parsed = parse_rest_request_head(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->method, head.method);
  EXPECT_EQ(parsed->target, head.target);
  EXPECT_EQ(parsed->headers, head.headers);
}

TEST(RestHeadTest, ResponseHeadByteFormat) {
  RestResponseHead head{404, "Not Found", {{"Content-Type", "application/json"}, {"X-A", ""}}};
  const std::string bytes = serialize_rest_response_head(head);
  EXPECT_EQ(bytes, "404\r\nNot Found\r\nContent-Type:application/json\r\nX-A:\r\n");
  auto parsed = parse_rest_response_head(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->status, 404);
  EXPECT_EQ(parsed->reason, "Not Found");
  EXPECT_EQ(parsed->headers, head.headers);
  // An empty reason phrase is allowed.
  auto empty_reason = parse_rest_response_head("200\r\n\r\nA:b\r\n");
  ASSERT_TRUE(empty_reason.ok());
  EXPECT_EQ(empty_reason->reason, "");
  EXPECT_EQ(empty_reason->headers.size(), 1u);
}

TEST(RestHeadTest, ValuesKeepTheirBytes) {
  // X-Road keeps everything after the first ':' (a space included).
  auto parsed = parse_rest_request_head("GET\r\n/r1/a/b/c/d/e\r\nA: b:c\r\nB:x");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->headers[0].second, " b:c");
  EXPECT_EQ(parsed->headers[1].second, "x");
}

TEST(RestHeadTest, MalformedHeads) {
  auto req = [](std::string_view b) { return parse_rest_request_head(b).error().code; };
  auto resp = [](std::string_view b) { return parse_rest_response_head(b).error().code; };
  EXPECT_EQ(req(""), FaultCode::kInvalidRest);
  EXPECT_EQ(req("GET"), FaultCode::kInvalidRest);
  EXPECT_EQ(req("G T\r\n/x\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(req("GET\r\nhttp://x/\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(req("GET\r\n/x y\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(req("GET\r\n/x\r\nno colon\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(req("GET\r\n/x\r\n:v\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(req("GET\r\n/x\r\nHost:evil\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(req("GET\r\n/x\r\nA:b\nC:d\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(resp("2000\r\nOK\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(resp("99\r\nOK\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(resp("abc\r\nOK\r\n"), FaultCode::kInvalidRest);
  EXPECT_EQ(resp("+20\r\nOK\r\n"), FaultCode::kInvalidRest);
  RestLimits small;
  small.max_head_part_bytes = 8;
  EXPECT_EQ(parse_rest_request_head("GET\r\n/abcdefgh\r\n", small).error().code,
            FaultCode::kLimitExceeded);
  std::string many = "GET\r\n/x\r\n";
  for (int i = 0; i < 200; ++i) many += "A:b\r\n";
  EXPECT_EQ(req(many), FaultCode::kLimitExceeded);
}

TEST(RestExchangeTest, ClientAndProviderHeadsAgree) {
  HeaderFields h = base_headers();
  auto request = parse_rest_request("POST", kTarget, h, "{\"a\":1}");
  ASSERT_TRUE(request.ok());
  const RestRequestHead head = make_request_head(*request, "req-1");
  // x-road-request-id and the generated X-Road-Id travel in the head.
  EXPECT_EQ(head.headers[head.headers.size() - 2].first, "x-road-request-id");
  EXPECT_EQ(head.headers.back().first, "x-road-id");
  EXPECT_EQ(head.headers.back().second, request->id);
  const std::string head_bytes = serialize_rest_request_head(head);

  // The provider's node decodes the head part.
  auto decoded_head = parse_rest_request_head(head_bytes);
  ASSERT_TRUE(decoded_head.ok()) << decoded_head.error().to_string();
  auto provider_view = parse_rest_request(decoded_head->method, decoded_head->target,
                                          decoded_head->headers, request->body, no_id_generation());
  ASSERT_TRUE(provider_view.ok()) << provider_view.error().to_string();
  EXPECT_EQ(provider_view->id, request->id);
  EXPECT_EQ(provider_view->client, request->client);
  EXPECT_EQ(provider_view->service, request->service);

  const std::string hash = compute_rest_request_hash(head_bytes, provider_view->body);
  const RestResponseHead response = make_response_head(200, "OK",
                                                       {{"Content-Type", "application/json"},
                                                        {"Transfer-Encoding", "chunked"},
                                                        {"X-Road-Id", "forged"},
                                                        {"X-Road-Request-Hash", "forged"}},
                                                       *provider_view, "req-1", hash);
  EXPECT_EQ(response.headers.size(), 6u);
  EXPECT_EQ(response.headers[0].first, "Content-Type");
  EXPECT_EQ(response.headers[1], (std::pair<std::string, std::string>{"x-road-id", request->id}));
  EXPECT_EQ(response.headers[3].second, "HANSA/GOV/2002/registry/listPeople");

  auto wire = parse_rest_response_head(serialize_rest_response_head(response));
  ASSERT_TRUE(wire.ok());
  EXPECT_TRUE(check_rest_response(*request, "req-1", *wire,
                                  compute_rest_request_hash(head_bytes, request->body))
                  .ok());
  // Any mismatch is InconsistentResponse.
  EXPECT_EQ(check_rest_response(*request, "req-2", *wire, hash).error().code,
            FaultCode::kInconsistentResponse);
  EXPECT_EQ(check_rest_response(*request, "req-1", *wire, "other").error().code,
            FaultCode::kInconsistentResponse);
  RestRequest other_id = *request;
  other_id.id = "x";
  EXPECT_EQ(check_rest_response(other_id, "req-1", *wire, hash).error().code,
            FaultCode::kInconsistentResponse);
  RestResponseHead no_service = *wire;
  std::erase_if(no_service.headers, [](const auto& f) { return f.first == "x-road-service"; });
  EXPECT_EQ(check_rest_response(*request, "req-1", no_service, hash).error().code,
            FaultCode::kInconsistentResponse);

  const HeaderFields to_client = response_headers_for_client(*wire);
  for (const auto& [n, v] : to_client) {
    EXPECT_FALSE(is_filtered_header(n));
  }
}

TEST(RestExchangeTest, RequestHashDefinition) {
  using crypto::DigestAlgorithm;
  const std::string head = "GET\r\n/r1/a/b/c/d/e\r\n";
  EXPECT_EQ(compute_rest_request_hash(head, std::nullopt),
            crypto::base64_encode(crypto::digest(DigestAlgorithm::kSha512, head)));
  EXPECT_EQ(compute_rest_request_hash(head, ""), compute_rest_request_hash(head, std::nullopt));
  const std::string body = "{\"x\":1}";
  EXPECT_EQ(compute_rest_request_hash(head, body),
            crypto::base64_encode(crypto::digest(
                DigestAlgorithm::kSha512, crypto::digest(DigestAlgorithm::kSha512, head) +
                                              crypto::digest(DigestAlgorithm::kSha512, body))));
}

TEST(RestErrorTest, JsonBodyAndHeader) {
  const Error e(FaultCode::kUnknownService, "Unknown service \"x\"");
  const std::string json = rest_error_json(e, Origin::kClientProxy, "detail-uuid");
  auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["type"], "Server.ClientProxy.UnknownService");
  EXPECT_EQ(j["message"], "Unknown service \"x\"");
  EXPECT_EQ(j["detail"], "detail-uuid");
  EXPECT_EQ(rest_error_header(e, Origin::kServerProxy), "Server.ServerProxy.UnknownService");
  EXPECT_EQ(rest_error_status(Origin::kClient), 400);
  EXPECT_EQ(rest_error_status(Origin::kClientProxy), 500);
  // Invalid UTF-8 from a peer does not break the JSON.
  const std::string bad =
      rest_error_json(Error(FaultCode::kServiceFailed, "\xff\xfe"), Origin::kServerProxy, "d");
  EXPECT_TRUE(nlohmann::json::accept(bad));
}

}  // namespace
}  // namespace hansa::message
