#include "core/mime/reader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/crypto/digest.h"

namespace hansa::mime {
namespace {

using namespace std::string_literals;

struct RecordedPart {
  HeaderList headers;
  std::string body;
  std::uint64_t body_offset = 0;
  std::uint64_t body_end = 0;
  std::size_t data_calls = 0;
};

// Records every event; checks the event order as it goes.
class Recorder final : public PartHandler {
 public:
  Status on_part_begin(HeaderList headers, const PartInfo& info) override {
    EXPECT_FALSE(open_);
    EXPECT_EQ(info.index, parts.size());
    open_ = true;
    parts.push_back(RecordedPart{std::move(headers), {}, info.body_offset, 0, 0});
    return ok_status();
  }
  Status on_part_data(std::string_view data) override {
    EXPECT_TRUE(open_);
    EXPECT_FALSE(data.empty());
    parts.back().body.append(data);
    ++parts.back().data_calls;
    return ok_status();
  }
  Status on_part_end(std::uint64_t body_end) override {
    EXPECT_TRUE(open_);
    open_ = false;
    parts.back().body_end = body_end;
    return ok_status();
  }

  std::vector<RecordedPart> parts;

 private:
  bool open_ = false;
};

// Feeds `input` in pieces whose sizes come from `next_size`, then finishes.
Status read_in_chunks(std::string_view input, std::string_view boundary, Recorder& recorder,
                      const std::function<std::size_t()>& next_size,
                      const MimeLimits& limits = {}) {
  HANSA_ASSIGN_OR_RETURN(auto reader, MultipartReader::create(boundary, recorder, limits));
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t n = std::min(next_size(), input.size() - pos);
    HANSA_RETURN_IF_ERROR(reader->feed(input.substr(pos, n)));
    pos += n;
  }
  return reader->finish();
}

Result<std::vector<RecordedPart>> read_all(std::string_view input, std::string_view boundary,
                                           const MimeLimits& limits = {}) {
  Recorder recorder;
  HANSA_RETURN_IF_ERROR(read_in_chunks(
      input, boundary, recorder, [&] { return input.size() + 1; }, limits));
  return std::move(recorder.parts);
}

// The PR-MESSTRANSP 4.4 skeleton: a SOAP request with attachments in a nested multipart/mixed.
std::string transport_request() {
  return "--xtop1357783211hcn1yiro\r\n"
         "Content-Type: application/ocsp-response\r\n"
         "\r\n"
         "\x30\x82\x01\x00ocsp\r\n"
         "--xtop1357783211hcn1yiro\r\n"
         "Content-Type: text/xml; charset=UTF-8\r\n"
         "\r\n"
         "<SOAP-ENV:Envelope/>\r\n"
         "--xtop1357783211hcn1yiro\r\n"
         "Content-Type: multipart/mixed; charset=UTF-8; boundary=xtop569125687h3h10du0\r\n"
         "\r\n"
         "--xtop569125687h3h10du0\r\n"
         "Content-Type: text/plain; charset=UTF-8\r\n"
         "Content-Location: attachment.txt\r\n"
         "\r\n"
         "attachment text\r\n"
         "--xtop569125687h3h10du0\r\n"
         "Content-Type: application/octet-stream\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "Content-Id: <data.bin>\r\n"
         "\r\n"
         "AAECAw==\r\n"
         "--xtop569125687h3h10du0--\r\n"
         "\r\n"
         "--xtop1357783211hcn1yiro\r\n"
         "Content-Type: application/hash-chain-result\r\n"
         "\r\n"
         "<hashChainResult/>\r\n"
         "--xtop1357783211hcn1yiro\r\n"
         "Content-Type: application/hash-chain\r\n"
         "\r\n"
         "<hashChain/>\r\n"
         "--xtop1357783211hcn1yiro\r\n"
         "Content-Type: signature/bdoc-1.0/ts\r\n"
         "\r\n"
         "<signature/>\r\n"
         "--xtop1357783211hcn1yiro--\r\n"s;
}

TEST(MultipartReaderTest, ParsesTransportMessageWithNestedAttachments) {
  std::string input = transport_request();
  auto ct = ContentType::parse("multipart/mixed; charset=UTF-8; boundary=xtop1357783211hcn1yiro");
  ASSERT_TRUE(ct.ok());
  auto mp = parse_multipart(input, *ct);
  ASSERT_TRUE(mp.ok()) << mp.error().to_string();
  ASSERT_EQ(mp->parts.size(), 6u);
  EXPECT_EQ(mp->parts[0].headers.get("content-type"), "application/ocsp-response");
  EXPECT_EQ(mp->parts[0].body, std::string_view("\x30\x82\x01\x00ocsp", 8));
  EXPECT_EQ(mp->parts[1].body, "<SOAP-ENV:Envelope/>");
  EXPECT_EQ(mp->parts[1].content_type()->charset(), "UTF-8");
  ASSERT_NE(mp->parts[2].nested, nullptr);
  const Multipart& att = *mp->parts[2].nested;
  ASSERT_EQ(att.parts.size(), 2u);
  EXPECT_EQ(att.parts[0].headers.get("content-location"), "attachment.txt");
  EXPECT_EQ(att.parts[0].body, "attachment text");
  EXPECT_EQ(att.parts[1].headers.get("CONTENT-ID"), "<data.bin>");
  EXPECT_EQ(att.parts[1].body, "AAECAw==");
  // The nested part's raw body runs through the CRLF after the inner closing delimiter.
  EXPECT_TRUE(mp->parts[2].body.ends_with("--xtop569125687h3h10du0--\r\n"));
  EXPECT_EQ(mp->parts[5].headers.get("content-type"), "signature/bdoc-1.0/ts");
  EXPECT_EQ(mp->parts[5].body, "<signature/>");
  EXPECT_EQ(mp->parts[3].nested, nullptr);
  // Offsets locate the bodies in the input.
  for (const Part& p : mp->parts) {
    EXPECT_EQ(input.substr(p.body_offset, p.body.size()), p.body);
    EXPECT_EQ(p.body.data(), input.data() + p.body_offset);
  }
}

TEST(MultipartReaderTest, CrlfBeforeDelimiterBelongsToDelimiter) {
  auto parts = read_all("--b\r\nA: 1\r\n\r\nline\r\n\r\n--b\r\nA: 2\r\n\r\n\r\n--b--", "b");
  ASSERT_TRUE(parts.ok()) << parts.error().to_string();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, "line\r\n");  // one CRLF is data, the other the delimiter's
  EXPECT_EQ((*parts)[1].body, "");          // an empty line then the delimiter: empty body
  EXPECT_EQ((*parts)[0].body_offset, 13u);
  EXPECT_EQ((*parts)[0].body_end, 19u);
}

TEST(MultipartReaderTest, PreambleEpilogueAndTransportPadding) {
  std::string input =
      "This is a preamble.\r\n--b \t \r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\t\r\n"
      "X: y\r\n\r\nworld\r\n--b--  \r\nepilogue text\r\n--b\r\nnot a part\r\n";
  auto mp = parse_multipart(input, "b");
  ASSERT_TRUE(mp.ok()) << mp.error().to_string();
  ASSERT_EQ(mp->parts.size(), 2u);
  EXPECT_EQ(mp->parts[0].body, "hello");
  EXPECT_EQ(mp->parts[1].body, "world");
  EXPECT_EQ(mp->preamble, "This is a preamble.");
  EXPECT_EQ(mp->epilogue, "  \r\nepilogue text\r\n--b\r\nnot a part\r\n");
}

TEST(MultipartReaderTest, AcceptsBareLfLineEnds) {
  std::string input = "--b\nContent-Type: text/plain\n\nline one\nline two\n--b\nX: 1\n\n\n--b--\n";
  auto mp = parse_multipart(input, "b");
  ASSERT_TRUE(mp.ok()) << mp.error().to_string();
  ASSERT_EQ(mp->parts.size(), 2u);
  EXPECT_EQ(mp->parts[0].headers.get("content-type"), "text/plain");
  EXPECT_EQ(mp->parts[0].body, "line one\nline two");
  EXPECT_EQ(mp->parts[1].body, "");
  // Mixed: a body with CRLF data, delimited by bare LF keeps its CR as data.
  auto mixed = parse_multipart("--b\r\n\r\na\r\r\n--b--", "b");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->parts[0].body, "a\r");
}

TEST(MultipartReaderTest, MissingBoundaryParameterIsInvalidContentType) {
  auto ct = ContentType::parse("multipart/related; type=\"text/xml\"");
  ASSERT_TRUE(ct.ok());
  Recorder r;
  auto reader = MultipartReader::create(*ct, r);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, FaultCode::kInvalidContentType);
  EXPECT_EQ(parse_multipart("--b\r\n\r\nx\r\n--b--", *ct).error().code,
            FaultCode::kInvalidContentType);
  auto text = ContentType::parse("text/xml; boundary=b");
  EXPECT_EQ(parse_multipart("--b\r\n\r\nx\r\n--b--", *text).error().code,
            FaultCode::kInvalidContentType);
  EXPECT_EQ(MultipartReader::create("bad;boundary", r).error().code,
            FaultCode::kInvalidContentType);
}

TEST(MultipartReaderTest, NoBoundaryLineOrNoPartsIsMalformed) {
  EXPECT_EQ(parse_multipart("just some text\r\n", "b").error().code, FaultCode::kMimeParsingFailed);
  EXPECT_EQ(parse_multipart("", "b").error().code, FaultCode::kMimeParsingFailed);
  EXPECT_EQ(parse_multipart("--b--\r\n", "b").error().code, FaultCode::kMimeParsingFailed);
  EXPECT_EQ(parse_multipart("preamble\r\n--b--\r\n", "b").error().code,
            FaultCode::kMimeParsingFailed);
}

TEST(MultipartReaderTest, MissingClosingBoundaryIsMalformed) {
  std::string full = transport_request();
  // Every truncation point short of the closing "--" fails.
  std::size_t close = full.rfind("--xtop1357783211hcn1yiro--") + 26;
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, full.size() / 2, close - 2, close - 1}) {
    auto mp = parse_multipart(full.substr(0, cut), "xtop1357783211hcn1yiro");
    ASSERT_FALSE(mp.ok()) << cut;
    EXPECT_EQ(mp.error().code, FaultCode::kMimeParsingFailed) << cut;
  }
  EXPECT_TRUE(parse_multipart(full.substr(0, close), "xtop1357783211hcn1yiro").ok());
}

TEST(MultipartReaderTest, RepeatedBoundaryYieldsEmptyPartsWithoutHeaders) {
  auto parts = read_all("--b\r\n--b\r\n--b\r\nA: 1\r\n\r\nx\r\n--b\r\n--b--\r\n", "b");
  ASSERT_TRUE(parts.ok()) << parts.error().to_string();
  ASSERT_EQ(parts->size(), 4u);
  EXPECT_TRUE((*parts)[0].headers.empty());
  EXPECT_EQ((*parts)[0].body, "");
  EXPECT_TRUE((*parts)[1].headers.empty());
  EXPECT_EQ((*parts)[2].headers.get("a"), "1");
  EXPECT_EQ((*parts)[2].body, "x");
  EXPECT_TRUE((*parts)[3].headers.empty());
  EXPECT_EQ((*parts)[3].body, "");
}

TEST(MultipartReaderTest, PartWithEmptyHeaderBlockIsAccepted) {
  // RFC 2046: an empty header block is allowed (the part defaults to text/plain).
  auto mp = parse_multipart("--b\r\n\r\nbody without headers\r\n--b--\r\n", "b");
  ASSERT_TRUE(mp.ok());
  ASSERT_EQ(mp->parts.size(), 1u);
  EXPECT_TRUE(mp->parts[0].headers.empty());
  EXPECT_EQ(mp->parts[0].body, "body without headers");
  EXPECT_EQ(mp->parts[0].content_type().error().code, FaultCode::kInvalidContentType);
  // Body text where headers are expected (no empty line) is a malformed header line.
  EXPECT_EQ(parse_multipart("--b\r\nbody text\r\n--b--\r\n", "b").error().code,
            FaultCode::kMimeParsingFailed);
}

TEST(MultipartReaderTest, HeaderOnlyPartAsInConfigurationDirectory) {
  // PR-GCONF 2.4: the first directory entry is a header block directly followed by the boundary.
  auto mp = parse_multipart(
      "--in\r\nExpire-date: 2035-11-11T03:07:40Z\r\nVersion: 6\r\n\r\n--in\r\nA: b\r\n\r\nhash\r\n"
      "--in\r\nNo-Empty-Line: x\r\n--in--\r\n",
      "in");
  ASSERT_TRUE(mp.ok()) << mp.error().to_string();
  ASSERT_EQ(mp->parts.size(), 3u);
  EXPECT_EQ(mp->parts[0].headers.get("version"), "6");
  EXPECT_EQ(mp->parts[0].body, "");
  EXPECT_EQ(mp->parts[1].body, "hash");
  EXPECT_EQ(mp->parts[2].headers.get("no-empty-line"), "x");
  EXPECT_EQ(mp->parts[2].body, "");
}

TEST(MultipartReaderTest, BoundaryTextInsideBodiesIsData) {
  std::string body =
      "x--b\r\n"         // not at a line start
      "--bX\r\n"         // longer boundary
      "--b-x\r\n"        // neither close nor line end
      " --b\r\n"         // indented
      "\r\n-b\r\n"       // one dash
      "\r\n--\r\n"       // no boundary
      "--b is here\r\n"  // followed by text
      "tail--b--";       // close text mid-line
  std::string input = "--b\r\nA: 1\r\n\r\n" + body + "\r\n--b--\r\n";
  auto mp = parse_multipart(input, "b");
  ASSERT_TRUE(mp.ok()) << mp.error().to_string();
  ASSERT_EQ(mp->parts.size(), 1u);
  EXPECT_EQ(mp->parts[0].body, body);
}

TEST(MultipartReaderTest, ChunkBoundariesAnywhereGiveIdenticalResults) {
  std::string padded =
      "pre\r\n--b  \r\nA: 1\r\n Folded\r\n\r\n\r\n\r\n--b\r\n\r\n--b\r\n--b\r\n"
      "B:2\n\n--bX\r\n\r--b\n\r\n--b--\r\n";
  std::string binary = "--b\r\nA: 1\r\n\r\n";
  for (int i = 0; i < 256; ++i) {
    binary.push_back(static_cast<char>(i));
  }
  binary += "\r\n--b--";
  for (const std::string& input : {transport_request(), padded, binary}) {
    auto boundary =
        input == transport_request() ? std::string("xtop1357783211hcn1yiro") : std::string("b");
    Recorder whole;
    ASSERT_TRUE(read_in_chunks(input, boundary, whole, [] { return std::size_t{1} << 30; }).ok());
    ASSERT_FALSE(whole.parts.empty());

    Recorder bytewise;
    ASSERT_TRUE(read_in_chunks(input, boundary, bytewise, [] { return std::size_t{1}; }).ok());
    std::mt19937 rng(1234);
    for (int round = 0; round < 50; ++round) {
      Recorder random;
      std::uniform_int_distribution<std::size_t> dist(1, 1 + round % 40);
      ASSERT_TRUE(read_in_chunks(input, boundary, random, [&] { return dist(rng); }).ok());
      ASSERT_EQ(random.parts.size(), whole.parts.size());
      for (std::size_t i = 0; i < whole.parts.size(); ++i) {
        EXPECT_EQ(random.parts[i].body, whole.parts[i].body);
        EXPECT_EQ(random.parts[i].headers.fields().size(), whole.parts[i].headers.size());
        EXPECT_EQ(random.parts[i].body_offset, whole.parts[i].body_offset);
        EXPECT_EQ(random.parts[i].body_end, whole.parts[i].body_end);
      }
    }
    ASSERT_EQ(bytewise.parts.size(), whole.parts.size());
    for (std::size_t i = 0; i < whole.parts.size(); ++i) {
      EXPECT_EQ(bytewise.parts[i].body, whole.parts[i].body);
      EXPECT_EQ(bytewise.parts[i].body_offset, whole.parts[i].body_offset);
      EXPECT_EQ(bytewise.parts[i].body_end, whole.parts[i].body_end);
      ASSERT_EQ(bytewise.parts[i].headers.size(), whole.parts[i].headers.size());
      for (std::size_t h = 0; h < whole.parts[i].headers.size(); ++h) {
        EXPECT_EQ(bytewise.parts[i].headers.fields()[h].value,
                  whole.parts[i].headers.fields()[h].value);
      }
    }
  }
}

TEST(MultipartReaderTest, StreamsBodiesWithoutBufferingThem) {
  // A 4 MiB body fed in 64 KiB chunks arrives in many data calls, never all at once.
  std::string body(4 << 20, 'x');
  for (std::size_t i = 0; i < body.size(); i += 1000) {
    body[i] = '\n';
  }
  std::string input = "--b\r\nA: 1\r\n\r\n" + body + "\r\n--b--\r\n";
  Recorder r;
  ASSERT_TRUE(read_in_chunks(input, "b", r, [] { return std::size_t{64} << 10; }).ok());
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_EQ(r.parts[0].body, body);
  EXPECT_GE(r.parts[0].data_calls, 64u);
}

std::string many_parts(std::size_t n) {
  std::string input;
  input.reserve(n * 40);
  for (std::size_t i = 0; i < n; ++i) {
    input += "--b\r\nContent-Type: text/plain\r\n\r\np\r\n";
  }
  input += "--b--\r\n";
  return input;
}

TEST(MultipartReaderTest, HundredThousandPartsStopAtThePartLimit) {
  std::string input = many_parts(100000);
  auto start = std::chrono::steady_clock::now();
  Recorder r;
  auto reader = MultipartReader::create("b", r);
  ASSERT_TRUE(reader.ok());
  Status s = (*reader)->feed(input);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, FaultCode::kLimitExceeded);
  EXPECT_EQ(r.parts.size(), MimeLimits{}.max_part_count);
  EXPECT_EQ((*reader)->feed("more").error().code, FaultCode::kLimitExceeded);
  // With the limit raised, all parts parse in linear time.
  MimeLimits big;
  big.max_part_count = 200000;
  auto mp = parse_multipart(input, "b", big);
  ASSERT_TRUE(mp.ok()) << mp.error().to_string();
  EXPECT_EQ(mp->parts.size(), 100000u);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(20));  // generous: sanitizers, shared machine
}

TEST(MultipartReaderTest, TenMegabyteHeaderLineIsRejectedEarly) {
  std::string input = "--b\r\nX-Big: " + std::string(10 << 20, 'a') + "\r\n\r\nx\r\n--b--\r\n";
  auto mp = parse_multipart(input, "b");
  ASSERT_FALSE(mp.ok());
  EXPECT_EQ(mp.error().code, FaultCode::kLimitExceeded);
  // Streaming: the reader fails long before the line ends.
  Recorder r;
  auto reader = MultipartReader::create("b", r);
  ASSERT_TRUE(reader.ok());
  std::size_t fed = 0;
  Status s = ok_status();
  while (s.ok() && fed < input.size()) {
    std::size_t n = std::min<std::size_t>(4096, input.size() - fed);
    s = (*reader)->feed(std::string_view(input).substr(fed, n));
    fed += n;
  }
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, FaultCode::kLimitExceeded);
  EXPECT_LE(fed, MimeLimits{}.max_header_line_length + 2 * 4096);
}

TEST(MultipartReaderTest, EnforcesSizeAndHeaderLimits) {
  MimeLimits limits;
  limits.max_part_size = 10;
  EXPECT_TRUE(parse_multipart("--b\r\n\r\n0123456789\r\n--b--", "b", limits).ok());
  EXPECT_EQ(parse_multipart("--b\r\n\r\n0123456789a\r\n--b--", "b", limits).error().code,
            FaultCode::kLimitExceeded);

  limits = MimeLimits{};
  limits.max_total_size = 20;
  EXPECT_EQ(parse_multipart("--b\r\n\r\n0123456789\r\n--b--\r\n", "b", limits).error().code,
            FaultCode::kLimitExceeded);

  limits = MimeLimits{};
  limits.max_headers_per_part = 2;
  EXPECT_TRUE(parse_multipart("--b\r\nA: 1\r\nB: 2\r\n\r\nx\r\n--b--", "b", limits).ok());
  EXPECT_EQ(
      parse_multipart("--b\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\nx\r\n--b--", "b", limits).error().code,
      FaultCode::kLimitExceeded);

  limits = MimeLimits{};
  limits.max_header_block_size = 30;
  EXPECT_EQ(parse_multipart("--b\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\nx\r\n--b--",
                            "b", limits)
                .error()
                .code,
            FaultCode::kLimitExceeded);

  limits = MimeLimits{};
  limits.max_header_line_length = 8;
  EXPECT_EQ(parse_multipart("--b\r\nA: 123456789\r\n\r\nx\r\n--b--", "b", limits).error().code,
            FaultCode::kLimitExceeded);
  // Folded continuations count toward the line length.
  EXPECT_EQ(parse_multipart("--b\r\nA: 1234\r\n 5678\r\n\r\nx\r\n--b--", "b", limits).error().code,
            FaultCode::kLimitExceeded);
  // Transport padding is bounded too.
  limits = MimeLimits{};
  EXPECT_TRUE(
      parse_multipart("--b" + std::string(64, ' ') + "\r\n\r\nx\r\n--b--", "b", limits).ok());
  EXPECT_EQ(parse_multipart("--b" + std::string(65, ' ') + "\r\n\r\nx\r\n--b--", "b", limits)
                .error()
                .code,
            FaultCode::kLimitExceeded);
}

std::string nest(int levels) {
  // Level 0 is the outermost multipart; each level's single part holds the next.
  std::string inner = "leaf";
  for (int i = levels; i >= 0; --i) {
    std::string b = "b" + std::to_string(i);
    std::string headers =
        i == levels ? std::string("Content-Type: text/plain\r\n")
                    : "Content-Type: multipart/mixed; boundary=b" + std::to_string(i + 1) + "\r\n";
    inner = "--" + b + "\r\n" + headers + "\r\n" + inner + "\r\n--" + b + "--\r\n";
  }
  return inner;
}

TEST(MultipartReaderTest, NestingDeeperThanTheLimitFails) {
  MimeLimits limits;
  limits.max_nesting_depth = 3;
  std::string three = nest(3);  // parts point into the input: keep it alive
  auto ok = parse_multipart(three, "b0", limits);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  const Multipart* level = &*ok;
  for (int i = 0; i < 3; ++i) {
    ASSERT_NE(level->parts[0].nested, nullptr) << i;
    level = level->parts[0].nested.get();
  }
  EXPECT_EQ(level->parts[0].body, "leaf");

  auto deep = parse_multipart(nest(4), "b0", limits);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().code, FaultCode::kLimitExceeded);
  // Without nested parsing the deep input is just one part.
  EXPECT_TRUE(parse_multipart(nest(50), "b0", limits, false).ok());
  // A streaming reader refuses to be created below the limit.
  Recorder r;
  EXPECT_EQ(MultipartReader::create("b", r, limits, 4).error().code, FaultCode::kLimitExceeded);
  // A nested multipart part without a boundary.
  EXPECT_EQ(
      parse_multipart("--b\r\nContent-Type: multipart/mixed\r\n\r\nx\r\n--b--", "b").error().code,
      FaultCode::kInvalidContentType);
}

TEST(MultipartReaderTest, HandlerErrorStopsTheReader) {
  class Refusing final : public PartHandler {
   public:
    Status on_part_begin(HeaderList, const PartInfo& info) override {
      if (info.index == 1) {
        return Error(FaultCode::kAccessDenied, "no");
      }
      return ok_status();
    }
    Status on_part_data(std::string_view) override { return ok_status(); }
    Status on_part_end(std::uint64_t) override { return ok_status(); }
  } refusing;
  auto reader = MultipartReader::create("b", refusing);
  ASSERT_TRUE(reader.ok());
  Status s = (*reader)->feed("--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--");
  EXPECT_EQ(s.error().code, FaultCode::kAccessDenied);
  EXPECT_EQ((*reader)->finish().error().code, FaultCode::kAccessDenied);
}

TEST(DigestingPartHandlerTest, HashesPartsAsTheyStream) {
  std::string input = transport_request();
  Recorder recorder;
  DigestingPartHandler hasher(crypto::DigestAlgorithm::kSha512, &recorder);
  auto reader = MultipartReader::create("xtop1357783211hcn1yiro", hasher);
  ASSERT_TRUE(reader.ok());
  for (std::size_t i = 0; i < input.size(); i += 7) {
    ASSERT_TRUE((*reader)->feed(std::string_view(input).substr(i, 7)).ok());
  }
  ASSERT_TRUE((*reader)->finish().ok());
  auto mp = parse_multipart(input, "xtop1357783211hcn1yiro");
  ASSERT_TRUE(mp.ok());
  ASSERT_EQ(hasher.parts().size(), mp->parts.size());
  ASSERT_EQ(recorder.parts.size(), mp->parts.size());
  for (std::size_t i = 0; i < mp->parts.size(); ++i) {
    EXPECT_EQ(hasher.parts()[i].digest,
              crypto::digest(crypto::DigestAlgorithm::kSha512, mp->parts[i].body));
    EXPECT_EQ(hasher.parts()[i].size, mp->parts[i].body.size());
    EXPECT_EQ(hasher.parts()[i].headers.get("content-type"),
              mp->parts[i].headers.get("content-type"));
    EXPECT_EQ(recorder.parts[i].body, mp->parts[i].body);
  }
}

TEST(DigestingPartHandlerTest, SelectsAlgorithmPerPart) {
  DigestingPartHandler hasher(
      [](const HeaderList& h, std::size_t) -> std::optional<crypto::DigestAlgorithm> {
        if (h.get("content-type") == "signature/bdoc-1.0/ts") {
          return std::nullopt;
        }
        return crypto::DigestAlgorithm::kSha256;
      });
  auto reader = MultipartReader::create("xtop1357783211hcn1yiro", hasher);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->feed(transport_request()).ok());
  ASSERT_TRUE((*reader)->finish().ok());
  ASSERT_EQ(hasher.parts().size(), 6u);
  EXPECT_EQ(hasher.parts()[1].digest,
            crypto::digest(crypto::DigestAlgorithm::kSha256, "<SOAP-ENV:Envelope/>"));
  EXPECT_FALSE(hasher.parts()[5].algorithm.has_value());
  EXPECT_TRUE(hasher.parts()[5].digest.empty());
}

// A handler that parses a multipart/mixed part with a nested reader as it streams by and hashes
// the attachments, the way the node reads SOAP attachments (PR-MESSTRANSP 3.1).
class NestedAttachmentHandler final : public PartHandler {
 public:
  Status on_part_begin(HeaderList headers, const PartInfo&) override {
    auto value = headers.get("content-type");
    nested_.reset();
    if (value) {
      HANSA_ASSIGN_OR_RETURN(ContentType ct, ContentType::parse(*value));
      if (ct.is("multipart/mixed")) {
        HANSA_ASSIGN_OR_RETURN(nested_, MultipartReader::create(ct, attachments, {}, 1));
      }
    }
    ++outer_parts;
    return ok_status();
  }
  Status on_part_data(std::string_view data) override {
    return nested_ ? nested_->feed(data) : ok_status();
  }
  Status on_part_end(std::uint64_t) override {
    if (nested_) {
      HANSA_RETURN_IF_ERROR(nested_->finish());
      nested_.reset();
    }
    return ok_status();
  }

  DigestingPartHandler attachments{crypto::DigestAlgorithm::kSha512};
  int outer_parts = 0;

 private:
  std::unique_ptr<MultipartReader> nested_;
};

TEST(MultipartReaderTest, NestedReaderStreamsAttachments) {
  std::string input = transport_request();
  NestedAttachmentHandler handler;
  auto reader = MultipartReader::create("xtop1357783211hcn1yiro", handler);
  ASSERT_TRUE(reader.ok());
  for (std::size_t i = 0; i < input.size(); i += 3) {
    Status s = (*reader)->feed(std::string_view(input).substr(i, 3));
    ASSERT_TRUE(s.ok()) << s.error().to_string() << " at " << i;
  }
  ASSERT_TRUE((*reader)->finish().ok());
  EXPECT_EQ(handler.outer_parts, 6);
  ASSERT_EQ(handler.attachments.parts().size(), 2u);
  EXPECT_EQ(handler.attachments.parts()[0].digest,
            crypto::digest(crypto::DigestAlgorithm::kSha512, "attachment text"));
  EXPECT_EQ(handler.attachments.parts()[1].digest,
            crypto::digest(crypto::DigestAlgorithm::kSha512, "AAECAw=="));
}

}  // namespace
}  // namespace hansa::mime

namespace hansa::mime {
namespace {

struct Outcome {
  std::optional<FaultCode> error;
  std::vector<RecordedPart> parts;
};

Outcome outcome_of(std::string_view input, const std::function<std::size_t()>& next_size) {
  Recorder r;
  MimeLimits limits;
  limits.max_header_line_length = 40;  // small limits so that they trigger too
  limits.max_part_count = 6;
  Status s = read_in_chunks(input, "b", r, next_size, limits);
  Outcome o;
  if (!s.ok()) {
    o.error = s.error().code;
  }
  o.parts = std::move(r.parts);
  return o;
}

// Random inputs built from the tokens that matter to the delimiter logic: whatever the chunking,
// the reader reaches the same verdict and the same parts.
TEST(MultipartReaderTest, RandomInputsAreChunkingIndependent) {
  static const std::vector<std::string> kTokens = {"--b",
                                                   "\r\n",
                                                   "\n",
                                                   "\r",
                                                   "-",
                                                   "b",
                                                   " ",
                                                   "\t",
                                                   "A: 1",
                                                   "x",
                                                   ":",
                                                   "--",
                                                   "--b--",
                                                   "\r\n--b\r\n",
                                                   "\r\n\r\n",
                                                   "bb",
                                                   std::string(30, 'y')};
  std::mt19937 rng(7);
  int completed = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string input = (rng() % 4 != 0) ? "--b\r\n" : "";
    std::size_t tokens = 1 + rng() % 40;
    for (std::size_t i = 0; i < tokens; ++i) {
      input += kTokens[rng() % kTokens.size()];
    }
    if (rng() % 2 == 0) {
      input += "\r\n--b--\r\n";
    }
    Outcome whole = outcome_of(input, [] { return std::size_t{1} << 20; });
    Outcome bytewise = outcome_of(input, [] { return std::size_t{1}; });
    std::uniform_int_distribution<std::size_t> dist(1, 9);
    Outcome random = outcome_of(input, [&] { return dist(rng); });
    for (const Outcome* other : {&bytewise, &random}) {
      ASSERT_EQ(other->error, whole.error) << testing::PrintToString(input);
      if (whole.error) {
        continue;
      }
      ASSERT_EQ(other->parts.size(), whole.parts.size()) << testing::PrintToString(input);
      for (std::size_t i = 0; i < whole.parts.size(); ++i) {
        EXPECT_EQ(other->parts[i].body, whole.parts[i].body) << testing::PrintToString(input);
        EXPECT_EQ(other->parts[i].body_offset, whole.parts[i].body_offset);
        EXPECT_EQ(other->parts[i].body_end, whole.parts[i].body_end);
        EXPECT_EQ(other->parts[i].headers.size(), whole.parts[i].headers.size());
      }
    }
    if (!whole.error) {
      ++completed;
      // Bodies are exactly the bytes between their offsets.
      for (const auto& p : whole.parts) {
        EXPECT_EQ(input.substr(p.body_offset, p.body_end - p.body_offset), p.body);
      }
    }
  }
  EXPECT_GT(completed, 100);
}

}  // namespace
}  // namespace hansa::mime

namespace hansa::mime {
namespace {

TEST(MultipartReaderTest, ReadsMtomMessage) {
  auto ct = ContentType::parse(
      "multipart/related; type=\"application/xop+xml\"; "
      "boundary=\"uuid:0ca0e16e-feb1-426c-97d8-c4508ada5e82\"; start=\"<rootpart@soapui.org>\"; "
      "start-info=\"text/xml\"");
  ASSERT_TRUE(ct.ok());
  std::string input =
      "\r\n--uuid:0ca0e16e-feb1-426c-97d8-c4508ada5e82\r\n"
      "Content-Type: application/xop+xml; charset=UTF-8; type=\"text/xml\"\r\n"
      "Content-Transfer-Encoding: 8bit\r\n"
      "Content-ID: <rootpart@soapui.org>\r\n"
      "\r\n"
      "<Envelope><xop:Include href=\"cid:att1\"/></Envelope>\r\n"
      "--uuid:0ca0e16e-feb1-426c-97d8-c4508ada5e82\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: binary\r\n"
      "Content-ID: <att1>\r\n"
      "\r\n"
      "\x01\x02\x03\r\n"
      "--uuid:0ca0e16e-feb1-426c-97d8-c4508ada5e82--\r\n";
  auto mp = parse_multipart(input, *ct);
  ASSERT_TRUE(mp.ok()) << mp.error().to_string();
  ASSERT_EQ(mp->parts.size(), 2u);
  EXPECT_EQ(mp->parts[0].headers.get("content-id"), ct->start());
  EXPECT_TRUE(mp->parts[0].content_type()->is(*ct->root_type()));
  EXPECT_EQ(mp->parts[1].body, "\x01\x02\x03");
  EXPECT_EQ(mp->preamble, "");
}

TEST(MultipartReaderTest, ReadsOcspResponseWithTransportPadding) {
  // PR-MESSTRANSP 4.1 shows boundary lines with trailing spaces.
  auto ct =
      ContentType::parse("multipart/related; charset=UTF-8; boundary=jetty625909216ic7gfi1u ");
  ASSERT_TRUE(ct.ok());
  std::string input =
      "--jetty625909216ic7gfi1u \r\nContent-Type: application/ocsp-response \r\n\r\n"
      "\x30\x03\x0a\x01\x00"s +
      "\r\n--jetty625909216ic7gfi1u--";
  auto mp = parse_multipart(input, *ct);
  ASSERT_TRUE(mp.ok()) << mp.error().to_string();
  ASSERT_EQ(mp->parts.size(), 1u);
  EXPECT_EQ(mp->parts[0].headers.get("content-type"), "application/ocsp-response");
  EXPECT_EQ(mp->parts[0].body, "\x30\x03\x0a\x01\x00"s);
}

}  // namespace
}  // namespace hansa::mime
