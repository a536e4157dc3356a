// Fuzz target: the streaming multipart reader (core/mime MultipartReader) fed in chunks whose
// sizes come from the input. Input: "<chunk-size bytes>\n#####\n<boundary>\n#####\n<body>".
// Invariant: feeding in chunks gives exactly what one feed of the whole body gives (the same
// outcome and fault code, the same parts, headers, offsets and bodies), and events arrive in
// order (begin, data..., end).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/mime/reader.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hansa::fuzz::invariant;
namespace mime = hansa::mime;

struct SeenPart {
  std::vector<mime::HeaderField> headers;
  std::uint64_t body_offset = 0;
  std::uint64_t body_end = 0;
  std::string body;
  bool ended = false;
  bool operator==(const SeenPart& o) const {
    if (headers.size() != o.headers.size()) {
      return false;
    }
    for (std::size_t i = 0; i < headers.size(); ++i) {
      if (headers[i].name != o.headers[i].name || headers[i].value != o.headers[i].value) {
        return false;
      }
    }
    return body_offset == o.body_offset && body_end == o.body_end && body == o.body &&
           ended == o.ended;
  }
};

class Recorder final : public mime::PartHandler {
 public:
  hansa::Status on_part_begin(mime::HeaderList headers, const mime::PartInfo& info) override {
    invariant(parts.empty() || parts.back().ended, "a part begins after the previous ended");
    invariant(info.index == parts.size(), "part index counts up");
    SeenPart part;
    part.headers = headers.fields();
    part.body_offset = info.body_offset;
    parts.push_back(std::move(part));
    return {};
  }
  hansa::Status on_part_data(std::string_view data) override {
    invariant(!parts.empty() && !parts.back().ended, "data inside a part");
    invariant(!data.empty(), "data is never empty");
    parts.back().body.append(data);
    return {};
  }
  hansa::Status on_part_end(std::uint64_t body_end) override {
    invariant(!parts.empty() && !parts.back().ended, "end inside a part");
    auto& part = parts.back();
    invariant(body_end == part.body_offset + part.body.size(), "end offset matches the data");
    part.body_end = body_end;
    part.ended = true;
    return {};
  }
  std::vector<SeenPart> parts;
};

struct Outcome {
  bool created = false;
  bool ok = false;
  hansa::FaultCode code{};
  std::vector<SeenPart> parts;
  std::uint64_t preamble_end = 0;
  std::uint64_t epilogue_begin = 0;
};

Outcome run(std::string_view boundary, std::string_view body, std::string_view sizes,
            const mime::MimeLimits& limits) {
  Outcome out;
  Recorder recorder;
  auto reader = mime::MultipartReader::create(boundary, recorder, limits);
  if (!reader.ok()) {
    out.code = reader.error().code;
    return out;
  }
  out.created = true;
  auto& r = **reader;
  hansa::Status status;
  std::size_t pos = 0;
  std::size_t i = 0;
  while (status.ok() && pos < body.size()) {
    std::size_t n = body.size() - pos;
    if (!sizes.empty()) {
      n = static_cast<std::size_t>(static_cast<unsigned char>(sizes[i++ % sizes.size()])) % 17 + 1;
    }
    n = std::min(n, body.size() - pos);
    status = r.feed(body.substr(pos, n));
    pos += n;
  }
  if (status.ok()) {
    status = r.finish();
  }
  out.ok = status.ok();
  if (!out.ok) {
    out.code = status.error().code;
  } else {
    invariant(r.complete(), "a finished reader is complete");
    invariant(r.bytes_fed() == body.size(), "every byte counted");
    invariant(r.part_count() == recorder.parts.size(), "part count matches events");
    out.preamble_end = r.preamble_end();
    out.epilogue_begin = r.epilogue_begin();
    for (const auto& part : recorder.parts) {
      invariant(part.ended, "every part ends");
    }
  }
  out.parts = std::move(recorder.parts);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto fields = hansa::fuzz::split_fields(hansa::fuzz::as_view(data, size), 3);
  const auto sizes = fields[0];
  const auto boundary = fields[1];
  const auto body = fields[2];

  const mime::MimeLimits limits{.max_part_count = 16,
                                .max_header_line_length = 128,
                                .max_transport_padding = 8,
                                .max_headers_per_part = 8,
                                .max_header_block_size = 512,
                                .max_part_size = 8 * 1024,
                                .max_total_size = 32 * 1024,
                                .max_nesting_depth = 1};

  const auto whole = run(boundary, body, {}, limits);
  // Chunk sizes from the input, and one byte at a time.
  const auto chunked =
      run(boundary, body, sizes.empty() ? std::string_view("\0", 1) : sizes, limits);
  invariant(whole.created == chunked.created, "creation does not depend on chunking");
  invariant(whole.ok == chunked.ok, "outcome does not depend on chunking");
  if (!whole.ok) {
    invariant(whole.code == chunked.code, "fault code does not depend on chunking");
    return 0;
  }
  invariant(whole.parts == chunked.parts, "parts do not depend on chunking");
  invariant(whole.preamble_end == chunked.preamble_end, "preamble end does not depend on chunking");
  invariant(whole.epilogue_begin == chunked.epilogue_begin,
            "epilogue begin does not depend on chunking");
  for (const auto& part : whole.parts) {
    invariant(body.substr(part.body_offset, part.body.size()) == part.body,
              "streamed body equals the buffer at its offset");
  }
  return 0;
}
