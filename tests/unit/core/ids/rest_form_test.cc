#include "core/ids/rest_form.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace hansa::ids {
namespace {

template <typename T>
void ExpectFails(const Result<T>& result, FaultCode code, const std::string& needle = {}) {
  ASSERT_FALSE(result.ok()) << "expected failure containing " << needle;
  EXPECT_EQ(result.error().code, code) << result.error().to_string();
  if (!needle.empty()) {
    EXPECT_NE(result.error().message.find(needle), std::string::npos)
        << "message: " << result.error().message << "\nwanted: " << needle;
  }
}

TEST(PercentEncodingTest, EncodesOnlyWhatASegmentCannotHold) {
  EXPECT_EQ(percent_encode_segment("getPerson"), "getPerson");
  EXPECT_EQ(percent_encode_segment("a'()+,-.=b"), "a'()+,-.=b");  // pchar sub-delims stay
  EXPECT_EQ(percent_encode_segment("what?"), "what%3F");          // '?' would start the query
  EXPECT_EQ(percent_encode_segment("BAR/SERVICE"), "BAR%2FSERVICE");
  EXPECT_EQ(percent_encode_segment("a b%c#d"), "a%20b%25c%23d");
  EXPECT_EQ(percent_encode_segment("\xc3\xa4"), "%C3%A4");
  EXPECT_EQ(percent_encode_segment(""), "");
}

TEST(PercentEncodingTest, DecodeIsTheInverse) {
  for (const std::string& s :
       std::vector<std::string>{"getPerson", "what?", "BAR/SERVICE", "a b%c#d", "\xc3\xa4", "",
                                std::string("\0\x01\xff", 3)}) {
    auto d = percent_decode_segment(percent_encode_segment(s));
    ASSERT_TRUE(d.ok()) << s;
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(percent_decode_segment("%7e%7E").value(), "~~");  // both hex cases
}

TEST(PercentEncodingTest, RejectsMalformedInput) {
  ExpectFails(percent_decode_segment("%"), FaultCode::kInvalidRequest, "position 0");
  ExpectFails(percent_decode_segment("ab%4"), FaultCode::kInvalidRequest, "position 2");
  ExpectFails(percent_decode_segment("%zz"), FaultCode::kInvalidRequest);
  ExpectFails(percent_decode_segment("%G1"), FaultCode::kInvalidRequest);
  ExpectFails(percent_decode_segment("a/b"), FaultCode::kInvalidRequest, "percent-encoded");
  ExpectFails(percent_decode_segment("a b"), FaultCode::kInvalidRequest);
  ExpectFails(percent_decode_segment("a?b"), FaultCode::kInvalidRequest);
  ExpectFails(percent_decode_segment("\xc3\xa4"), FaultCode::kInvalidRequest);
  // The caller chooses the fault code.
  ExpectFails(percent_decode_segment("%", FaultCode::kInvalidClientIdentifier),
              FaultCode::kInvalidClientIdentifier);
}

TEST(RestClientTest, HeaderRoundTrip) {
  // PR-REST 4.3: X-Road-Client: INSTANCE/CLASS/MEMBER[/SUBSYSTEM]
  auto sub = parse_rest_client("INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1");
  ASSERT_TRUE(sub.ok()) << sub.error().to_string();
  EXPECT_EQ(sub->to_string(), "SUBSYSTEM:INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1");
  EXPECT_EQ(to_rest_client(*sub), "INSTANCE/CLASS1/MEMBER1/SUBSYSTEM1");

  auto member = parse_rest_client("DEV/COM/222");
  ASSERT_TRUE(member.ok());
  EXPECT_TRUE(member->is_member());
  EXPECT_EQ(to_rest_client(*member), "DEV/COM/222");

  // Surrounding optional whitespace of a header value is ignored.
  EXPECT_EQ(parse_rest_client("  DEV/COM/222\t").value(), *member);
}

TEST(RestClientTest, EachPartIsDecodedSeparately) {
  auto id = parse_rest_client("EE/GOV/70000310/what%3F");
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(id->subsystem_code(), "what?");
  EXPECT_EQ(to_rest_client(*id), "EE/GOV/70000310/what%3F");
  EXPECT_EQ(parse_rest_client("E%45/GOV/1").value().instance(), "EE");
  // An encoded separator yields a '/' inside a part, which the character rules refuse.
  ExpectFails(parse_rest_client("EE%2FGOV%2F1"), FaultCode::kInvalidClientIdentifier, "3 or 4");
  ExpectFails(parse_rest_client("EE/GOV/1/SUB%2FX"), FaultCode::kInvalidClientIdentifier,
              "subsystemCode");
}

TEST(RestClientTest, RejectsHostileValues) {
  constexpr auto kCode = FaultCode::kInvalidClientIdentifier;
  ExpectFails(parse_rest_client(""), kCode, "3 or 4");
  ExpectFails(parse_rest_client("EE/GOV"), kCode, "3 or 4");
  ExpectFails(parse_rest_client("EE/GOV/1/a/b"), kCode, "3 or 4");
  ExpectFails(parse_rest_client("EE//1"), kCode, "memberClass is empty");
  ExpectFails(parse_rest_client("EE/GOV/1/"), kCode, "subsystemCode is empty");
  ExpectFails(parse_rest_client("EE/GOV/%zz"), kCode, "memberCode: malformed percent-encoding");
  ExpectFails(parse_rest_client("EE/GOV/1%"), kCode, "memberCode");
  ExpectFails(parse_rest_client("EE/GOV/a%20b"), kCode, "memberCode");
  ExpectFails(parse_rest_client("EE/GOV/a b"), kCode, "memberCode");
  ExpectFails(parse_rest_client("EE/GOV/%00"), kCode, "memberCode");
  ExpectFails(parse_rest_client("EE/GOV/\xc3\xa4"), kCode, "memberCode");
  ExpectFails(parse_rest_client("EE/GOV/" + std::string(256, 'a')), kCode, "longer than 255");
  ExpectFails(parse_rest_client(std::string(1 << 20, 'a')), kCode, "longer than");
  ExpectFails(parse_rest_client(std::string(2000, '/')), kCode, "3 or 4");
}

TEST(RestSecurityServerTest, HeaderRoundTripAndErrors) {
  // PR-REST 4.3: X-Road-Security-Server: INSTANCE/MEMBERCLASS/MEMBERCODE/SERVERCODE
  auto ss = parse_rest_security_server("INSTANCE/MEMBERCLASS/MEMBERCODE/SERVERCODE");
  ASSERT_TRUE(ss.ok());
  EXPECT_EQ(ss->to_string(), "SERVER:INSTANCE/MEMBERCLASS/MEMBERCODE/SERVERCODE");
  EXPECT_EQ(to_rest_security_server(*ss), "INSTANCE/MEMBERCLASS/MEMBERCODE/SERVERCODE");
  constexpr auto kCode = FaultCode::kInvalidSecurityServer;
  ExpectFails(parse_rest_security_server("I/C/M"), kCode, "4");
  ExpectFails(parse_rest_security_server("I/C/M/S/X"), kCode, "4");
  ExpectFails(parse_rest_security_server("I/C/M/"), kCode, "serverCode is empty");
  ExpectFails(parse_rest_security_server("I/C/M/%2"), kCode, "serverCode");
}

TEST(RestServiceTest, HeaderFormsWithAndWithoutSubsystem) {
  // PR-REST 4.3: X-Road-Service: INSTANCE/CLASS/MEMBER/SUBSYSTEM/PETSTORE
  auto s = parse_rest_service("DEV/COM/222/TESTSERVICE/petstore");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->to_string(), "SERVICE:DEV/COM/222/TESTSERVICE/petstore");
  EXPECT_FALSE(s->service_version().has_value());
  EXPECT_EQ(to_rest_service(*s), "DEV/COM/222/TESTSERVICE/petstore");

  auto m = parse_rest_service("DEV/COM/222/petstore");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->provider().is_member());
  EXPECT_EQ(m->service_code(), "petstore");

  // REST has no service version: printing leaves it out.
  auto versioned = ServiceId::parse("SERVICE:DEV/COM/222/TESTSERVICE/petstore/v1").value();
  EXPECT_EQ(to_rest_service(versioned), "DEV/COM/222/TESTSERVICE/petstore");

  constexpr auto kCode = FaultCode::kInvalidServiceIdentifier;
  ExpectFails(parse_rest_service("DEV/COM/222"), kCode, "4 or 5");
  ExpectFails(parse_rest_service("DEV/COM/222/S/petstore/v1"), kCode, "4 or 5");
  ExpectFails(parse_rest_service("DEV/COM/222/S/"), kCode, "serviceCode is empty");
  ExpectFails(parse_rest_service("DEV/COM/222/S%/x"), kCode, "subsystemCode");
}

TEST(RestTargetTest, ParsesThePr_RestExample) {
  // PR-REST 4.1 example.
  auto t = parse_rest_request_target(
      "/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE/v1/bar/zyggy?quu=1");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(t->service.to_string(), "SERVICE:INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE");
  EXPECT_EQ(t->service_path, "/v1/bar/zyggy");
  ASSERT_TRUE(t->query.has_value());
  EXPECT_EQ(*t->query, "quu=1");
}

TEST(RestTargetTest, PathAndQueryShapes) {
  auto bare = parse_rest_request_target("/r1/I/C/M/S/svc");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->service_path, "");
  EXPECT_FALSE(bare->query.has_value());

  auto slash = parse_rest_request_target("/r1/I/C/M/S/svc/");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->service_path, "/");

  auto empty_query = parse_rest_request_target("/r1/I/C/M/S/svc?");
  ASSERT_TRUE(empty_query.ok());
  ASSERT_TRUE(empty_query->query.has_value());
  EXPECT_EQ(*empty_query->query, "");

  // The service path stays encoded as received; the identifier parts are decoded.
  auto enc = parse_rest_request_target("/r1/I/C/M/S%3F/svc/a%20b/%C3%A4?x=%26&y=/?z");
  ASSERT_TRUE(enc.ok()) << enc.error().to_string();
  EXPECT_EQ(enc->service.subsystem_code(), "S?");
  EXPECT_EQ(enc->service_path, "/a%20b/%C3%A4");
  EXPECT_EQ(*enc->query, "x=%26&y=/?z");
}

TEST(RestTargetTest, BuildsTargets) {
  auto s = ServiceId::parse("SERVICE:INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE").value();
  EXPECT_EQ(to_rest_request_target(s, "/v1/bar/zyggy", "quu=1").value(),
            "/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE/v1/bar/zyggy?quu=1");
  EXPECT_EQ(to_rest_request_target(s).value(), "/r1/INSTANCE/CLASS2/MEMBER2/SUBSYSTEM2/BARSERVICE");
  auto odd = ServiceId::parse("SERVICE:I/C/M/what?/x").value();
  auto target = to_rest_request_target(odd, "/p");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, "/r1/I/C/M/what%3F/x/p");
  auto back = parse_rest_request_target(*target);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->service, odd);
  EXPECT_EQ(back->service_path, "/p");

  ExpectFails(to_rest_request_target(ServiceId::parse("SERVICE:I/C/M/x").value()),
              FaultCode::kInvalidServiceIdentifier, "subsystem");
  ExpectFails(to_rest_request_target(s, "no-slash"), FaultCode::kInvalidRequest);
  ExpectFails(to_rest_request_target(s, "/a b"), FaultCode::kInvalidRequest);
  ExpectFails(to_rest_request_target(s, "/../admin"), FaultCode::kInvalidRequest, "dot segment");
  ExpectFails(to_rest_request_target(s, "/p", "a b"), FaultCode::kInvalidRequest);
}

TEST(RestTargetTest, ProtocolVersion) {
  ExpectFails(parse_rest_request_target("/r2/I/C/M/S/svc"), FaultCode::kInvalidProtocolVersion,
              "\"r2\"");
  ExpectFails(parse_rest_request_target("/v1/I/C/M/S/svc"), FaultCode::kInvalidProtocolVersion);
  ExpectFails(parse_rest_request_target("/R1/I/C/M/S/svc"), FaultCode::kInvalidProtocolVersion);
  ExpectFails(parse_rest_request_target("/"), FaultCode::kInvalidProtocolVersion);
  ExpectFails(parse_rest_request_target("/rest/r1/I/C/M/S/svc"),
              FaultCode::kInvalidProtocolVersion);
}

TEST(RestTargetTest, WrongNumberOfSegments) {
  constexpr auto kCode = FaultCode::kInvalidServiceIdentifier;
  ExpectFails(parse_rest_request_target("/r1"), kCode, "got 0");
  ExpectFails(parse_rest_request_target("/r1/"), kCode);
  ExpectFails(parse_rest_request_target("/r1/I/C/M/svc"), kCode, "got 4");
  ExpectFails(parse_rest_request_target("/r1/I/C/M/svc?x=1"), kCode, "got 4");
  ExpectFails(parse_rest_request_target("/r1/I/C//S/svc"), kCode, "memberCode is empty");
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/"), kCode, "serviceCode is empty");
  // An encoded separator does not split a segment: "BAR%2FSERVICE" is one (illegal) code.
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/BAR%2FSERVICE"), kCode, "serviceCode");
  ExpectFails(parse_rest_request_target("/r1/I%2FC%2FM%2FS%2Fsvc"), kCode, "got 1");
}

TEST(RestTargetTest, HostileTargets) {
  ExpectFails(parse_rest_request_target(""), FaultCode::kInvalidRequest);
  ExpectFails(parse_rest_request_target("r1/I/C/M/S/svc"), FaultCode::kInvalidRequest);
  ExpectFails(parse_rest_request_target("http://evil/r1/I/C/M/S/svc"), FaultCode::kInvalidRequest);
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc#frag"), FaultCode::kInvalidRequest,
              "fragment");
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc/a b"), FaultCode::kInvalidRequest);
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc/%zz"), FaultCode::kInvalidRequest);
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc/a%"), FaultCode::kInvalidRequest);
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc?a=%"), FaultCode::kInvalidRequest);
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc?a=b c"), FaultCode::kInvalidRequest);
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc/\r\nX-Injected: 1"),
              FaultCode::kInvalidRequest);
  // Dot segments (raw or encoded) could climb above the service's base URL at the provider.
  for (const std::string& p :
       std::vector<std::string>{"/..", "/../etc", "/a/./b", "/%2e%2E", "/%2E/x", "/a/.."}) {
    ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc" + p), FaultCode::kInvalidRequest,
                "dot segment");
  }
  // Dots inside names are fine.
  EXPECT_TRUE(parse_rest_request_target("/r1/I/C/M/S/svc/.well-known/a..b").ok());
  // Bad percent-encoding in an identifier segment names the part.
  ExpectFails(parse_rest_request_target("/r1/I/C/%G0/S/svc"), FaultCode::kInvalidServiceIdentifier,
              "memberCode: malformed percent-encoding");
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc%00"), FaultCode::kInvalidServiceIdentifier,
              "serviceCode");
}

TEST(RestTargetTest, LengthLimit) {
  std::string long_path = "/r1/I/C/M/S/svc/" + std::string(9000, 'a');
  ExpectFails(parse_rest_request_target(long_path), FaultCode::kLimitExceeded, "8192");
  RestTargetLimits roomy;
  roomy.max_target_length = 10000;
  EXPECT_TRUE(parse_rest_request_target(long_path, roomy).ok());
  RestTargetLimits tight;
  tight.max_target_length = 10;
  ExpectFails(parse_rest_request_target("/r1/I/C/M/S/svc", tight), FaultCode::kLimitExceeded);
  // Huge input is refused before any work proportional to its content.
  ExpectFails(parse_rest_request_target(std::string(16 << 20, '/')), FaultCode::kLimitExceeded);
}

}  // namespace
}  // namespace hansa::ids

namespace hansa::ids {
namespace {

// Deterministic random inputs built from the characters that matter to the parsers. Nothing may
// crash; whatever parses must print back to a form that parses to the same identifier.
TEST(RandomInputTest, ParsersNeverCrashAndRoundTrip) {
  std::mt19937 rng(20261122);
  static constexpr char kChars[] =
      "ABab09'()+,-.=?/:%2F%3f% \t\r\n#&;\\\"<>\x00\x7f\xc3\xa4MEMBERSUBSYSTEMSERVICE";
  const std::string alphabet(kChars, sizeof kChars - 1);  // keeps the NUL
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> len(0, 40);
  const std::vector<std::string> prefixes{
      "MEMBER:", "SUBSYSTEM:", "SERVICE:", "SERVER:", "GLOBALGROUP:", "LOCALGROUP:", "/r1/", ""};
  std::uniform_int_distribution<std::size_t> pick_prefix(0, prefixes.size() - 1);
  int parsed = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string s = prefixes[pick_prefix(rng)];
    int n = len(rng);
    for (int j = 0; j < n; ++j) {
      s += alphabet[pick(rng)];
    }
    if (auto any = parse_any(s); any.ok()) {
      ++parsed;
      auto again = parse_any(to_string(*any));
      ASSERT_TRUE(again.ok()) << s;
      EXPECT_EQ(to_string(*again), to_string(*any));
    }
    if (auto c = parse_rest_client(s); c.ok()) {
      ++parsed;
      EXPECT_EQ(parse_rest_client(to_rest_client(*c)).value(), *c) << s;
    }
    if (auto svc = parse_rest_service(s); svc.ok()) {
      ++parsed;
      EXPECT_EQ(parse_rest_service(to_rest_service(*svc)).value(), *svc) << s;
    }
    if (auto t = parse_rest_request_target(s); t.ok()) {
      ++parsed;
      auto built = to_rest_request_target(
          t->service, t->service_path,
          t->query ? std::optional<std::string_view>(*t->query) : std::nullopt);
      ASSERT_TRUE(built.ok()) << s;
      EXPECT_EQ(*built, s);
    }
    (void)percent_decode_segment(s);
  }
  // The generator does reach the success paths, so the round-trip checks ran.
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace hansa::ids
