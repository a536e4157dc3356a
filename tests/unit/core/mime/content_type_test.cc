#include "core/mime/content_type.h"

#include <gtest/gtest.h>

#include "core/mime/headers.h"

namespace hansa::mime {
namespace {

TEST(ContentTypeTest, ParsesXRoadTransportContentType) {
  auto ct = ContentType::parse("multipart/mixed; charset=UTF-8; boundary=xtop1357783211hcn1yiro");
  ASSERT_TRUE(ct.ok()) << ct.error().to_string();
  EXPECT_EQ(ct->type(), "multipart");
  EXPECT_EQ(ct->subtype(), "mixed");
  EXPECT_TRUE(ct->is_multipart());
  EXPECT_TRUE(ct->is("Multipart/Mixed"));
  EXPECT_EQ(ct->boundary(), "xtop1357783211hcn1yiro");
  EXPECT_EQ(ct->charset(), "UTF-8");
}

TEST(ContentTypeTest, CaseInsensitiveNamesKeepValueCase) {
  auto ct = ContentType::parse("MultiPart/RELATED; BOUNDARY=AbC; Type=\"application/xop+xml\"");
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(ct->mime_type(), "multipart/related");
  EXPECT_EQ(ct->param("boundary"), "AbC");
  EXPECT_EQ(ct->param("TYPE"), "application/xop+xml");
  EXPECT_EQ(ct->params()[0].first, "boundary");
}

TEST(ContentTypeTest, QuotedStringsWithEscapesAndSeparators) {
  auto ct = ContentType::parse(
      R"(multipart/related; type="application/xop+xml"; start="<root.message@cxf.apache.org>"; )"
      R"(start-info="text/xml; x=\"y\""; boundary="uuid:0ca0e16e-feb1-426c-97d8-c4508ada5e82")");
  ASSERT_TRUE(ct.ok()) << ct.error().to_string();
  EXPECT_EQ(ct->param("type"), "application/xop+xml");
  EXPECT_EQ(ct->start(), "<root.message@cxf.apache.org>");
  EXPECT_EQ(ct->root_type(), "application/xop+xml");
  EXPECT_EQ(ct->param("start-info"), "text/xml; x=\"y\"");
  EXPECT_EQ(ct->boundary(), "uuid:0ca0e16e-feb1-426c-97d8-c4508ada5e82");
}

TEST(ContentTypeTest, ToleratesWhitespaceAndTrailingSemicolon) {
  // PR-MESSTRANSP 4 shows "text/xml ; charset=UTF-8".
  auto ct = ContentType::parse("  text/xml ; charset = UTF-8 ;");
  ASSERT_TRUE(ct.ok()) << ct.error().to_string();
  EXPECT_EQ(ct->mime_type(), "text/xml");
  EXPECT_EQ(ct->charset(), "UTF-8");
  EXPECT_FALSE(ct->is_multipart());
}

TEST(ContentTypeTest, AcceptsXRoadSignaturePartType) {
  auto ct = ContentType::parse("signature/bdoc-1.0/ts");
  ASSERT_TRUE(ct.ok()) << ct.error().to_string();
  EXPECT_EQ(ct->subtype(), "bdoc-1.0/ts");
  EXPECT_TRUE(ct->is("signature/bdoc-1.0/ts"));
  EXPECT_EQ(ct->to_string(), "signature/bdoc-1.0/ts");
}

TEST(ContentTypeTest, UnquotedValuesWithSpecialsAreAccepted) {
  auto ct = ContentType::parse("multipart/mixed; boundary=----=_Part_0_12.34");
  ASSERT_TRUE(ct.ok());
  EXPECT_EQ(ct->boundary(), "----=_Part_0_12.34");
}

TEST(ContentTypeTest, RejectsMalformedValues) {
  for (const char* bad : {"", "text", "text/", "/xml", "text/xml; charset", "text/xml; =x",
                          "text/xml; charset=", "text/xml; charset=\"UTF-8", "text/xml x",
                          "multipart/mixed; boundary=a; boundary=b", "text/xml; a=\"\""}) {
    auto ct = ContentType::parse(bad);
    ASSERT_FALSE(ct.ok()) << bad;
    EXPECT_EQ(ct.error().code, FaultCode::kInvalidContentType) << bad;
  }
}

TEST(ContentTypeTest, BuildsAndRoundTrips) {
  ContentType ct = ContentType::multipart("related", "b1");
  ct.set_param("type", "application/xop+xml").set_param("start", "<rootpart@x>");
  ct.set_param("charset", "UTF-8");
  std::string s = ct.to_string();
  EXPECT_EQ(s,
            "multipart/related; boundary=b1; type=\"application/xop+xml\"; start=\"<rootpart@x>\"; "
            "charset=UTF-8");
  auto back = ContentType::parse(s);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->params(), ct.params());
  // Quotes and backslashes are escaped.
  ContentType t("text", "plain");
  t.set_param("x", "a\"b\\c");
  auto t2 = ContentType::parse(t.to_string());
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(t2->param("x"), "a\"b\\c");
}

TEST(ContentTypeTest, ValidatesBoundaries) {
  EXPECT_TRUE(validate_boundary("xtop1357783211hcn1yiro").ok());
  EXPECT_TRUE(validate_boundary("----=_Part_0 x'()+,-./:=?").ok());
  EXPECT_FALSE(validate_boundary("").ok());
  EXPECT_FALSE(validate_boundary("ends with space ").ok());
  EXPECT_FALSE(validate_boundary("semi;colon").ok());
  EXPECT_FALSE(validate_boundary("new\nline").ok());
  EXPECT_FALSE(validate_boundary(std::string(kMaxBoundaryLength + 1, 'a')).ok());
  EXPECT_EQ(validate_boundary("a\"b").error().code, FaultCode::kInvalidContentType);
}

TEST(HeaderListTest, OrderedCaseInsensitiveMultimap) {
  HeaderList h;
  h.add("Content-Type", "text/xml");
  h.add("X-A", "1");
  h.add("x-a", "2");
  EXPECT_EQ(h.get("content-type"), "text/xml");
  EXPECT_EQ(h.get("X-A"), "1");
  EXPECT_EQ(h.count("X-a"), 2u);
  EXPECT_EQ(h.get_all("x-A"), (std::vector<std::string_view>{"1", "2"}));
  EXPECT_FALSE(h.get("missing").has_value());
  h.set("X-A", "3");
  EXPECT_EQ(h.count("x-a"), 1u);
  EXPECT_EQ(h.fields()[1].value, "3");
  EXPECT_EQ(h.remove("CONTENT-TYPE"), 1u);
  EXPECT_EQ(h.size(), 1u);
}

TEST(HeaderListTest, ParsesHeaderBlockWithFoldingAndBareLf) {
  auto h = parse_header_block("A: 1\r\nB:2  \nLong: x\r\n  y\r\n\tz\r\n\r\nIgnored: yes\r\n");
  ASSERT_TRUE(h.ok()) << h.error().to_string();
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ(h->get("a"), "1");
  EXPECT_EQ(h->get("b"), "2");
  EXPECT_EQ(h->get("long"), "x y z");
}

TEST(HeaderListTest, RejectsMalformedHeaderLines) {
  EXPECT_EQ(parse_header_block("no colon\r\n").error().code, FaultCode::kMimeParsingFailed);
  EXPECT_EQ(parse_header_block(" folded first\r\n").error().code, FaultCode::kMimeParsingFailed);
  EXPECT_EQ(parse_header_block(": empty name\r\n").error().code, FaultCode::kMimeParsingFailed);
  EXPECT_EQ(parse_header_block("Bad Name: x\r\n").error().code, FaultCode::kMimeParsingFailed);
  EXPECT_EQ(parse_header_block(std::string("A: x\0y\r\n", 8)).error().code,
            FaultCode::kMimeParsingFailed);
  MimeLimits limits;
  limits.max_headers_per_part = 2;
  EXPECT_EQ(parse_header_block("A: 1\r\nB: 2\r\nC: 3\r\n", limits).error().code,
            FaultCode::kLimitExceeded);
}

TEST(HeaderListTest, ParsesEntity) {
  auto e =
      parse_entity("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->headers.get("content-type"), "multipart/mixed; boundary=b");
  EXPECT_EQ(e->body, "--b\r\n\r\nx\r\n--b--\r\n");
  EXPECT_EQ(parse_entity("Content-Type: x/y\r\n").error().code, FaultCode::kMimeParsingFailed);
}

}  // namespace
}  // namespace hansa::mime
