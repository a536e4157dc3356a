#pragma once

// MIME multipart reader (RFC 2046 §5.1) for multipart/mixed and multipart/related bodies as
// X-Road uses them: node-to-node messages (PR-MESSTRANSP 3.1, multipart/mixed with a nested
// multipart/mixed of SOAP attachments), the signed global configuration (PR-GCONF 2.3/2.4,
// multipart/related whose first part is a multipart/mixed directory), management requests
// (PR-MSERV), SwA and MTOM (multipart/related).
//
// What is accepted:
// - Line ends CRLF or bare LF, in headers and in delimiters ("\n--b" is a delimiter, and the CR
//   before the LF, when present, belongs to the delimiter as RFC 2046 says).
// - A preamble before the first boundary line and an epilogue after the closing one (ignored).
// - Transport padding (spaces, tabs) after a boundary line.
// - A part with an empty header block (RFC 2046 allows it; the part then defaults to text/plain).
//   A boundary line directly after another boundary line yields a part with no headers and an
//   empty body. X-Road parts always carry headers: callers that need a Content-Type must check
//   for it themselves.
// - A part whose header block is followed directly by the next boundary line, with the empty
//   line doubling as the delimiter's CRLF ("Version: 6\r\n\r\n--b"), or with no empty line at
//   all: a header-only part with an empty body (PR-GCONF 2.4 directory's first entry).
// - A line that starts with "--boundary" but continues with other characters is body data.
// What fails: no boundary line at all, a multipart without parts ("--b--" first), a missing
// closing delimiter (truncated input) (kMimeParsingFailed); malformed header lines
// (kMimeParsingFailed); any MimeLimits overrun (kLimitExceeded).
//
// Part bodies are reported exactly as the bytes between the header block's empty line and the
// CRLF (or LF) that starts the next delimiter: the raw bytes to hash or verify.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"
#include "core/mime/content_type.h"
#include "core/mime/headers.h"
#include "core/mime/limits.h"

namespace hansa::mime {

// Where a part sits in the stream fed to its reader.
struct PartInfo {
  std::size_t index = 0;          // 0-based position among the parts of this level
  std::uint64_t body_offset = 0;  // stream offset of the first body byte
};

// Receives the events of a MultipartReader. Any error returned stops the reader; feed() then
// returns that error. Threading: called on the thread that calls feed()/finish().
class PartHandler {
 public:
  virtual ~PartHandler() = default;
  // A part's header block is complete; its body starts at info.body_offset.
  [[nodiscard]] virtual Status on_part_begin(HeaderList headers, const PartInfo& info) = 0;
  // The next raw body bytes of the current part (never empty, in order; the view is
  // valid only during the call).
  [[nodiscard]] virtual Status on_part_data(std::string_view data) = 0;
  // The current part's body ended at stream offset `body_end` (one past its last byte).
  [[nodiscard]] virtual Status on_part_end(std::uint64_t body_end) = 0;
};

// Incremental multipart reader: feed chunks as they arrive, in any sizes, then call finish().
// Runs in linear time; holds back at most one delimiter's worth of body bytes (or one partial
// header line) between chunks. Threading: one owner.
class MultipartReader final {
 public:
  // Fails with kInvalidContentType for an invalid boundary, kLimitExceeded when `depth` (0 for
  // the outermost level) exceeds limits.max_nesting_depth. `handler` must outlive the reader.
  [[nodiscard]] static Result<std::unique_ptr<MultipartReader>> create(
      std::string_view boundary, PartHandler& handler, const MimeLimits& limits = {},
      int depth = 0);
  // Takes the boundary from a multipart Content-Type; kInvalidContentType when it is not
  // multipart/* or has no boundary.
  [[nodiscard]] static Result<std::unique_ptr<MultipartReader>> create(
      const ContentType& content_type, PartHandler& handler, const MimeLimits& limits = {},
      int depth = 0);

  MultipartReader(const MultipartReader&) = delete;
  MultipartReader& operator=(const MultipartReader&) = delete;

  // Consumes the next chunk, calling the handler for what it completes. After the first error
  // every call returns that error.
  [[nodiscard]] Status feed(std::string_view chunk);
  // Declares the end of input; fails with kMimeParsingFailed unless the closing delimiter was
  // read.
  [[nodiscard]] Status finish();

  // True once the closing delimiter has been read (what follows is epilogue).
  [[nodiscard]] bool complete() const noexcept { return state_ == State::kEpilogue; }
  [[nodiscard]] std::size_t part_count() const noexcept { return part_count_; }
  [[nodiscard]] std::uint64_t bytes_fed() const noexcept { return total_; }
  // Stream offset where the preamble ends (the first delimiter begins).
  [[nodiscard]] std::uint64_t preamble_end() const noexcept { return preamble_end_; }
  // Stream offset where the epilogue begins (just after the closing "--b--").
  [[nodiscard]] std::uint64_t epilogue_begin() const noexcept { return epilogue_begin_; }

 private:
  enum class State { kPreamble, kHeaders, kBody, kEpilogue, kFailed };
  enum class Match { kNeedMore, kNotDelimiter, kPart, kClose };

  MultipartReader(std::string_view boundary, PartHandler& handler, const MimeLimits& limits);

  // Processes `view` (starting at stream offset `base`); returns how many bytes were consumed.
  Result<std::size_t> process(std::string_view view, std::uint64_t base);
  Result<std::size_t> process_preamble(std::string_view view, std::uint64_t base);
  Result<std::size_t> process_headers(std::string_view view, std::uint64_t base, std::size_t pos);
  Result<std::size_t> process_body(std::string_view view, std::uint64_t base, std::size_t pos);
  // Classifies what follows a "--boundary" ending at `after` in `view`; sets `next` to the
  // position after the delimiter line (kPart) or after "--" (kClose).
  Result<Match> match_delimiter(std::string_view view, std::size_t after, std::size_t& next) const;
  Status begin_part();
  Status deliver(std::string_view data);
  Status fail(Error error);

  std::string needle_;  // "\n--" + boundary
  PartHandler& handler_;
  MimeLimits limits_;
  State state_ = State::kPreamble;
  std::string buf_;             // bytes held back between feeds
  std::uint64_t buf_base_ = 0;  // stream offset of buf_[0]
  std::uint64_t total_ = 0;
  std::size_t part_count_ = 0;
  HeaderList headers_;
  std::size_t header_block_bytes_ = 0;
  std::size_t line_scanned_ = 0;  // bytes of the held-back partial header line known LF-free
  std::uint64_t part_size_ = 0;
  bool at_body_start_ = false;  // no body byte of the current part examined yet
  std::uint64_t preamble_end_ = 0;
  std::uint64_t epilogue_begin_ = 0;
  std::optional<Error> error_;
};

// A PartHandler that digests every part's raw body as it streams by (no buffering) and forwards
// all events to an optional next handler. Threading: one owner.
class DigestingPartHandler final : public PartHandler {
 public:
  // Chooses the algorithm per part (nullopt: do not digest that part).
  using AlgorithmSelector = std::function<std::optional<crypto::DigestAlgorithm>(
      const HeaderList& headers, std::size_t index)>;

  struct PartDigest {
    std::size_t index = 0;
    HeaderList headers;
    std::optional<crypto::DigestAlgorithm> algorithm;
    std::string digest;  // raw digest bytes; empty when not digested
    std::uint64_t size = 0;
    std::uint64_t body_offset = 0;
  };

  // Digests every part with `algorithm`.
  explicit DigestingPartHandler(crypto::DigestAlgorithm algorithm, PartHandler* next = nullptr);
  explicit DigestingPartHandler(AlgorithmSelector select, PartHandler* next = nullptr);

  [[nodiscard]] Status on_part_begin(HeaderList headers, const PartInfo& info) override;
  [[nodiscard]] Status on_part_data(std::string_view data) override;
  [[nodiscard]] Status on_part_end(std::uint64_t body_end) override;

  // Completed parts, in order.
  [[nodiscard]] const std::vector<PartDigest>& parts() const noexcept { return parts_; }

 private:
  AlgorithmSelector select_;
  PartHandler* next_;
  std::optional<crypto::Digester> digester_;
  PartDigest current_;
  std::vector<PartDigest> parts_;
};

struct Multipart;

// One part of a multipart read from a single buffer.
struct Part {
  HeaderList headers;
  // The raw body bytes, pointing into the parsed buffer (which must outlive this Part).
  std::string_view body;
  // Offset of `body` within the buffer given to parse_multipart for this level.
  std::size_t body_offset = 0;
  // The parsed nested multipart when this part's Content-Type is multipart/* and nested parsing
  // was asked for; null otherwise.
  std::unique_ptr<Multipart> nested;

  // This part's Content-Type, parsed; kInvalidContentType when absent or malformed.
  [[nodiscard]] Result<ContentType> content_type() const;
};

struct Multipart {
  std::string boundary;
  std::vector<Part> parts;
  std::string_view preamble;
  std::string_view epilogue;
};

// Parses a whole multipart body with the given boundary. When `parse_nested` is true, parts whose
// Content-Type is multipart/* are parsed too, down to limits.max_nesting_depth levels below this
// one (deeper nesting fails with kLimitExceeded; a nested multipart without a valid boundary
// fails with kInvalidContentType). Bodies point into `body`.
[[nodiscard]] Result<Multipart> parse_multipart(std::string_view body, std::string_view boundary,
                                                const MimeLimits& limits = {},
                                                bool parse_nested = true);
// The same, taking the boundary from a multipart Content-Type.
[[nodiscard]] Result<Multipart> parse_multipart(std::string_view body,
                                                const ContentType& content_type,
                                                const MimeLimits& limits = {},
                                                bool parse_nested = true);

}  // namespace hansa::mime
