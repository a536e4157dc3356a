#include "core/mime/writer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/mime/reader.h"

namespace hansa::mime {
namespace {

std::string every_byte_value() {
  std::string s;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 256; ++i) {
      s.push_back(static_cast<char>(i));
    }
  }
  return s;
}

TEST(MultipartWriterTest, WritesByteExactCrlfFraming) {
  std::vector<OutgoingPart> parts = {
      {{{"Content-Type", "text/xml; charset=UTF-8"}}, "<a/>"},
      {{{"Content-Type", "signature/bdoc-1.0/ts"}}, "<sig/>"},
  };
  auto out = write_multipart("xtop1", parts);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(*out,
            "--xtop1\r\n"
            "Content-Type: text/xml; charset=UTF-8\r\n"
            "\r\n"
            "<a/>\r\n"
            "--xtop1\r\n"
            "Content-Type: signature/bdoc-1.0/ts\r\n"
            "\r\n"
            "<sig/>\r\n"
            "--xtop1--\r\n");
}

TEST(MultipartWriterTest, WritesConfigurationDirectoryFraming) {
  // PR-GCONF 2.4: a header-only first entry, then one entry per file.
  std::vector<OutgoingPart> parts = {
      {{{"Expire-date", "2035-11-11T03:07:40Z"}, {"Version", "6"}}, "", true},
      {{{"Content-type", "application/octet-stream"}, {"Hash-algorithm-id", "x"}}, "aGFzaA=="},
  };
  auto out = write_multipart("inner", parts);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "--inner\r\nExpire-date: 2035-11-11T03:07:40Z\r\nVersion: 6\r\n\r\n--inner\r\n"
            "Content-type: application/octet-stream\r\nHash-algorithm-id: x\r\n\r\naGFzaA==\r\n"
            "--inner--\r\n");
  auto back = parse_multipart(*out, "inner");
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->parts.size(), 2u);
  EXPECT_EQ(back->parts[0].headers.get("version"), "6");
  EXPECT_EQ(back->parts[0].body, "");
  EXPECT_EQ(back->parts[1].body, "aGFzaA==");
}

TEST(MultipartWriterTest, RoundTripsBinaryBodiesExactly) {
  std::mt19937 rng(42);
  std::vector<OutgoingPart> parts;
  parts.push_back({{{"Content-Type", "application/octet-stream"}}, every_byte_value()});
  parts.push_back({{{"Content-Type", "text/plain"}}, ""});
  parts.push_back({{{"Content-Type", "text/plain"}}, "\r\n"});
  parts.push_back({{{"Content-Type", "text/plain"}}, "ends with CR\r"});
  parts.push_back({{{"Content-Type", "text/plain"}}, "\r\n\r\nleading and trailing\r\n\r\n"});
  parts.push_back({{}, "no headers"});
  std::string random(100000, '\0');
  for (char& c : random) {
    c = static_cast<char>(rng());
  }
  parts.push_back(
      {{{"Content-Type", "application/octet-stream"}, {"X-Dup", "1"}, {"x-dup", "2"}}, random});
  auto built = build_multipart("mixed", parts);
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  EXPECT_TRUE(built->content_type.is("multipart/mixed"));

  auto back = parse_multipart(built->body, built->content_type);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_EQ(back->parts.size(), parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(back->parts[i].body, parts[i].body) << i;
    EXPECT_EQ(back->parts[i].headers.size(), parts[i].headers.size()) << i;
  }
  EXPECT_EQ(back->parts.back().headers.get_all("X-DUP"), (std::vector<std::string_view>{"1", "2"}));

  // Streaming read in random chunks gives the same bodies.
  class Collect final : public PartHandler {
   public:
    Status on_part_begin(HeaderList, const PartInfo&) override {
      bodies.emplace_back();
      return ok_status();
    }
    Status on_part_data(std::string_view d) override {
      bodies.back().append(d);
      return ok_status();
    }
    Status on_part_end(std::uint64_t) override { return ok_status(); }
    std::vector<std::string> bodies;
  } collect;
  auto reader = MultipartReader::create(built->content_type, collect);
  ASSERT_TRUE(reader.ok());
  std::size_t pos = 0;
  while (pos < built->body.size()) {
    std::size_t n = std::min<std::size_t>(1 + rng() % 97, built->body.size() - pos);
    ASSERT_TRUE((*reader)->feed(std::string_view(built->body).substr(pos, n)).ok());
    pos += n;
  }
  ASSERT_TRUE((*reader)->finish().ok());
  ASSERT_EQ(collect.bodies.size(), parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(collect.bodies[i], parts[i].body) << i;
  }
}

TEST(MultipartWriterTest, StreamsNestedMultipartsToASink) {
  std::string out;
  std::vector<std::size_t> sink_calls;
  auto outer = MultipartWriter::create("outer", [&](std::string_view d) {
    out.append(d);
    sink_calls.push_back(d.size());
    return ok_status();
  });
  ASSERT_TRUE(outer.ok());
  MultipartWriter& w = **outer;
  ASSERT_TRUE(w.begin_part({{"Content-Type", "text/xml; charset=UTF-8"}}).ok());
  ASSERT_TRUE(w.write("<soap>").ok());
  ASSERT_TRUE(w.write("</soap>").ok());
  ContentType inner_ct = ContentType::multipart("mixed", "inner");
  inner_ct.set_param("charset", "UTF-8");
  ASSERT_TRUE(w.begin_part({{"Content-Type", inner_ct.to_string()}}).ok());
  {
    auto inner = MultipartWriter::create("inner", w.body_sink());
    ASSERT_TRUE(inner.ok());
    ASSERT_TRUE((*inner)
                    ->begin_part({{"Content-Type", "application/octet-stream"},
                                  {"Content-Id", "<data.bin>"}})
                    .ok());
    ASSERT_TRUE((*inner)->write(every_byte_value()).ok());
    ASSERT_TRUE((*inner)->finish().ok());
  }
  ASSERT_TRUE(w.begin_part({{"Content-Type", "signature/bdoc-1.0/ts"}}).ok());
  ASSERT_TRUE(w.write("<sig/>").ok());
  ASSERT_TRUE(w.finish().ok());
  EXPECT_GT(sink_calls.size(), 5u);

  auto back = parse_multipart(out, "outer");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_EQ(back->parts.size(), 3u);
  EXPECT_EQ(back->parts[0].body, "<soap></soap>");
  ASSERT_NE(back->parts[1].nested, nullptr);
  ASSERT_EQ(back->parts[1].nested->parts.size(), 1u);
  EXPECT_EQ(back->parts[1].nested->parts[0].body, every_byte_value());
  EXPECT_EQ(back->parts[1].nested->parts[0].headers.get("content-id"), "<data.bin>");
  EXPECT_EQ(back->parts[2].body, "<sig/>");
}

TEST(MultipartWriterTest, RefusesBodiesContainingTheDelimiter) {
  for (std::string body : {"--b", "x\r\n--b\r\n", "x\n--b", "x\n--bY"}) {
    std::vector<OutgoingPart> parts = {{{}, body}};
    auto out = write_multipart("b", parts);
    ASSERT_FALSE(out.ok()) << body;
    EXPECT_EQ(out.error().code, FaultCode::kInternalError);
  }
  // Also when the delimiter is split across writes.
  std::string sink;
  auto w = MultipartWriter::create("bound", [&](std::string_view d) {
    sink.append(d);
    return ok_status();
  });
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->begin_part({}).ok());
  ASSERT_TRUE((*w)->write("data\r").ok());
  ASSERT_TRUE((*w)->write("\n-").ok());
  ASSERT_TRUE((*w)->write("-bo").ok());
  EXPECT_EQ((*w)->write("und").error().code, FaultCode::kInternalError);
  // "--b" not at a line start is fine.
  std::vector<OutgoingPart> fine = {{{}, "x--b"}};
  EXPECT_TRUE(write_multipart("b", fine).ok());
}

TEST(MultipartWriterTest, RandomBoundariesAvoidBodies) {
  std::string a = random_boundary();
  std::string b = random_boundary();
  EXPECT_NE(a, b);
  EXPECT_TRUE(validate_boundary(a).ok());
  EXPECT_LE(a.size(), kMaxWrittenBoundaryLength);
  std::string body = "--" + a;
  std::vector<std::string_view> bodies = {body};
  EXPECT_NE(random_boundary_for(bodies), a);
}

TEST(MultipartWriterTest, RejectsBadHeadersAndBoundaries) {
  std::vector<OutgoingPart> injected = {{{{"X-A", "v\r\nInjected: yes"}}, "x"}};
  EXPECT_EQ(write_multipart("b", injected).error().code, FaultCode::kInvalidRequest);
  std::vector<OutgoingPart> bad_name = {{{{"Bad Name", "v"}}, "x"}};
  EXPECT_EQ(write_multipart("b", bad_name).error().code, FaultCode::kInvalidRequest);
  std::vector<OutgoingPart> ok = {{{}, "x"}};
  EXPECT_EQ(write_multipart("bad;boundary", ok).error().code, FaultCode::kInvalidContentType);
  EXPECT_EQ(write_multipart(std::string(71, 'a'), ok).error().code, FaultCode::kInvalidContentType);
  std::vector<OutgoingPart> none;
  EXPECT_EQ(write_multipart("b", none).error().code, FaultCode::kInternalError);
}

TEST(MultipartWriterTest, SinkErrorsPropagate) {
  auto w = MultipartWriter::create(
      "b", [](std::string_view) { return Status(Error(FaultCode::kNetworkError, "peer gone")); });
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->begin_part({}).error().code, FaultCode::kNetworkError);
  EXPECT_EQ((*w)->write("x").error().code, FaultCode::kNetworkError);
}

}  // namespace
}  // namespace hansa::mime
