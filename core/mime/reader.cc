#include "core/mime/reader.h"

#include <string.h>  // memmem (GNU)

#include <algorithm>
#include <cstring>

namespace hansa::mime {
namespace {

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

std::size_t find_bytes(std::string_view hay, std::size_t from, std::string_view needle) {
  if (from >= hay.size() || hay.size() - from < needle.size()) {
    return std::string_view::npos;
  }
  const void* hit = ::memmem(hay.data() + from, hay.size() - from, needle.data(), needle.size());
  return hit == nullptr ? std::string_view::npos
                        : static_cast<std::size_t>(static_cast<const char*>(hit) - hay.data());
}

Error limit(std::string message, std::uint64_t allowed) {
  return Error(FaultCode::kLimitExceeded, std::move(message), std::to_string(allowed) + " allowed");
}

Error malformed(std::string message) {
  return Error(FaultCode::kMimeParsingFailed, std::move(message));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// MultipartReader

Result<std::unique_ptr<MultipartReader>> MultipartReader::create(std::string_view boundary,
                                                                 PartHandler& handler,
                                                                 const MimeLimits& limits,
                                                                 int depth) {
  HANSA_RETURN_IF_ERROR(validate_boundary(boundary));
  if (depth < 0 || depth > limits.max_nesting_depth) {
    return limit("multipart nested too deeply",
                 static_cast<std::uint64_t>(limits.max_nesting_depth));
  }
  return std::unique_ptr<MultipartReader>(new MultipartReader(boundary, handler, limits));
}

Result<std::unique_ptr<MultipartReader>> MultipartReader::create(const ContentType& content_type,
                                                                 PartHandler& handler,
                                                                 const MimeLimits& limits,
                                                                 int depth) {
  if (!content_type.is_multipart()) {
    return Error(FaultCode::kInvalidContentType, "not a multipart Content-Type",
                 content_type.mime_type());
  }
  auto boundary = content_type.boundary();
  if (!boundary) {
    return Error(FaultCode::kInvalidContentType, "multipart Content-Type without boundary",
                 content_type.to_string());
  }
  return create(*boundary, handler, limits, depth);
}

MultipartReader::MultipartReader(std::string_view boundary, PartHandler& handler,
                                 const MimeLimits& limits)
    : needle_("\n--"), handler_(handler), limits_(limits) {
  needle_.append(boundary);
}

Status MultipartReader::fail(Error error) {
  state_ = State::kFailed;
  error_ = error;
  return error;
}

Status MultipartReader::feed(std::string_view chunk) {
  if (state_ == State::kFailed) {
    return *error_;
  }
  std::uint64_t chunk_base = total_;
  total_ += chunk.size();
  if (total_ > limits_.max_total_size) {
    return fail(limit("multipart body too large", limits_.max_total_size));
  }
  if (state_ == State::kEpilogue || chunk.empty()) {
    return ok_status();
  }
  if (buf_.empty()) {
    // Fast path: work on the caller's chunk directly and keep only the unresolved tail.
    auto consumed = process(chunk, chunk_base);
    if (!consumed.ok()) {
      return fail(std::move(consumed).error());
    }
    buf_.assign(chunk.substr(*consumed));
    buf_base_ = chunk_base + *consumed;
    return ok_status();
  }
  buf_.append(chunk);
  auto consumed = process(buf_, buf_base_);
  if (!consumed.ok()) {
    return fail(std::move(consumed).error());
  }
  buf_.erase(0, *consumed);
  buf_base_ += *consumed;
  return ok_status();
}

Status MultipartReader::finish() {
  if (state_ == State::kFailed) {
    return *error_;
  }
  if (state_ == State::kEpilogue) {
    return ok_status();
  }
  if (state_ == State::kPreamble) {
    return fail(malformed("no multipart boundary line found"));
  }
  return fail(malformed("multipart body truncated: closing boundary missing"));
}

Result<std::size_t> MultipartReader::process(std::string_view view, std::uint64_t base) {
  std::size_t pos = 0;
  while (pos < view.size() && state_ != State::kEpilogue) {
    State before = state_;
    Result<std::size_t> next = std::size_t{0};
    switch (state_) {
      case State::kPreamble:
        next = process_preamble(view, base);
        break;
      case State::kHeaders:
        next = process_headers(view, base, pos);
        break;
      case State::kBody:
        next = process_body(view, base, pos);
        break;
      case State::kEpilogue:
      case State::kFailed:
        HANSA_CHECK(false);
    }
    if (!next.ok()) {
      return next;
    }
    bool progressed = *next != pos || state_ != before;
    pos = *next;
    if (!progressed) {
      break;  // an unresolved tail: wait for more input
    }
  }
  return state_ == State::kEpilogue ? view.size() : pos;
}

Result<MultipartReader::Match> MultipartReader::match_delimiter(std::string_view view,
                                                                std::size_t after,
                                                                std::size_t& next) const {
  if (after >= view.size()) {
    return Match::kNeedMore;
  }
  if (view[after] == '-') {
    if (after + 1 >= view.size()) {
      return Match::kNeedMore;
    }
    if (view[after + 1] == '-') {
      next = after + 2;
      return Match::kClose;
    }
    return Match::kNotDelimiter;
  }
  // RFC 2046 transport-padding: LWSP before the line end.
  std::size_t r = after;
  while (r < view.size() && is_wsp(view[r])) {
    if (r - after >= limits_.max_transport_padding) {
      return limit("transport padding after boundary too long", limits_.max_transport_padding);
    }
    ++r;
  }
  if (r >= view.size()) {
    return Match::kNeedMore;
  }
  if (view[r] == '\n') {
    next = r + 1;
    return Match::kPart;
  }
  if (view[r] == '\r') {
    if (r + 1 >= view.size()) {
      return Match::kNeedMore;
    }
    if (view[r + 1] == '\n') {
      next = r + 2;
      return Match::kPart;
    }
  }
  return Match::kNotDelimiter;
}

Status MultipartReader::begin_part() {
  if (part_count_ >= limits_.max_part_count) {
    return limit("too many multipart parts", limits_.max_part_count);
  }
  ++part_count_;
  headers_ = HeaderList();
  header_block_bytes_ = 0;
  line_scanned_ = 0;
  part_size_ = 0;
  state_ = State::kHeaders;
  return ok_status();
}

Status MultipartReader::deliver(std::string_view data) {
  if (data.empty()) {
    return ok_status();
  }
  part_size_ += data.size();
  if (part_size_ > limits_.max_part_size) {
    return limit("multipart part too large", limits_.max_part_size);
  }
  return handler_.on_part_data(data);
}

Result<std::size_t> MultipartReader::process_preamble(std::string_view view, std::uint64_t base) {
  std::string_view dash_boundary = std::string_view(needle_).substr(1);
  std::size_t search_from = 0;
  if (base == 0) {
    // The first boundary line may open the body without a preceding line end.
    std::size_t n = std::min(view.size(), dash_boundary.size());
    if (view.substr(0, n) == dash_boundary.substr(0, n)) {
      if (n < dash_boundary.size()) {
        return std::size_t{0};  // need more
      }
      std::size_t next = 0;
      HANSA_ASSIGN_OR_RETURN(Match m, match_delimiter(view, dash_boundary.size(), next));
      if (m == Match::kNeedMore) {
        return std::size_t{0};
      }
      if (m == Match::kClose) {
        return malformed("multipart without body parts");
      }
      if (m == Match::kPart) {
        preamble_end_ = 0;
        HANSA_RETURN_IF_ERROR(begin_part());
        return next;
      }
    }
  }
  while (true) {
    std::size_t n = find_bytes(view, search_from, needle_);
    if (n == std::string_view::npos) {
      break;
    }
    std::size_t next = 0;
    HANSA_ASSIGN_OR_RETURN(Match m, match_delimiter(view, n + needle_.size(), next));
    std::size_t start = (n > 0 && view[n - 1] == '\r') ? n - 1 : n;
    if (m == Match::kNeedMore) {
      return start;
    }
    if (m == Match::kClose) {
      return malformed("multipart without body parts");
    }
    if (m == Match::kPart) {
      preamble_end_ = base + start;
      HANSA_RETURN_IF_ERROR(begin_part());
      return next;
    }
    search_from = n + 1;
  }
  // Discard the preamble but keep a tail that may begin a delimiter.
  std::size_t keep = needle_.size();
  std::size_t s = view.size() > keep ? view.size() - keep : 0;
  if (base == 0 && s == 0) {
    return std::size_t{0};
  }
  const void* lf = std::memchr(view.data() + s, '\n', view.size() - s);
  std::size_t h = lf == nullptr
                      ? view.size()
                      : static_cast<std::size_t>(static_cast<const char*>(lf) - view.data());
  if (h > 0 && view[h - 1] == '\r') {
    --h;
  }
  return h;
}

Result<std::size_t> MultipartReader::process_headers(std::string_view view, std::uint64_t base,
                                                     std::size_t pos) {
  std::string_view dash_boundary = std::string_view(needle_).substr(1);
  while (true) {
    // A boundary line where a header or the empty line was expected: this part ends with its
    // header block (RFC 2046 body-part := MIME-part-headers [CRLF *OCTET]) and has no body.
    // Decided as soon as the delimiter is recognisable, before the whole line is in.
    std::string_view rest = view.substr(pos);
    std::size_t n = std::min(rest.size(), dash_boundary.size());
    if (rest.substr(0, n) == dash_boundary.substr(0, n)) {
      if (n < dash_boundary.size()) {
        return pos;  // need more
      }
      std::size_t next = 0;
      HANSA_ASSIGN_OR_RETURN(Match m, match_delimiter(view, pos + dash_boundary.size(), next));
      if (m == Match::kNeedMore) {
        return pos;
      }
      if (m == Match::kPart || m == Match::kClose) {
        state_ = State::kBody;
        HANSA_RETURN_IF_ERROR(
            handler_.on_part_begin(std::move(headers_), PartInfo{part_count_ - 1, base + pos}));
        HANSA_RETURN_IF_ERROR(handler_.on_part_end(base + pos));
        if (m == Match::kClose) {
          state_ = State::kEpilogue;
          epilogue_begin_ = base + next;
          return view.size();
        }
        HANSA_RETURN_IF_ERROR(begin_part());
        return next;
      }
    }
    std::size_t scan = pos + line_scanned_;
    const void* lf =
        scan < view.size() ? std::memchr(view.data() + scan, '\n', view.size() - scan) : nullptr;
    if (lf == nullptr) {
      std::size_t partial = view.size() - pos;
      if (partial > limits_.max_header_line_length + 1) {
        return limit("MIME header line too long", limits_.max_header_line_length);
      }
      if (header_block_bytes_ + partial > limits_.max_header_block_size) {
        return limit("MIME header block too large", limits_.max_header_block_size);
      }
      line_scanned_ = partial;
      return pos;
    }
    std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(lf) - view.data());
    line_scanned_ = 0;
    header_block_bytes_ += nl + 1 - pos;
    if (header_block_bytes_ > limits_.max_header_block_size) {
      return limit("MIME header block too large", limits_.max_header_block_size);
    }
    std::string_view line = view.substr(pos, nl - pos);
    if (line.empty() || line == "\r") {
      state_ = State::kBody;
      at_body_start_ = true;
      HANSA_RETURN_IF_ERROR(
          handler_.on_part_begin(std::move(headers_), PartInfo{part_count_ - 1, base + nl + 1}));
      return nl + 1;
    }
    HANSA_RETURN_IF_ERROR(detail::add_header_line(line, headers_, limits_));
    pos = nl + 1;
  }
}

Result<std::size_t> MultipartReader::process_body(std::string_view view, std::uint64_t base,
                                                  std::size_t pos) {
  if (at_body_start_) {
    // The empty line that ended the header block may double as the CRLF of the next delimiter:
    // a header-only part (X-Road's directory entry "Expire-date/Version" is one, PR-GCONF 2.4).
    std::string_view dash_boundary = std::string_view(needle_).substr(1);
    std::string_view rest = view.substr(pos);
    std::size_t n = std::min(rest.size(), dash_boundary.size());
    if (rest.substr(0, n) == dash_boundary.substr(0, n)) {
      if (n < dash_boundary.size()) {
        return pos;  // need more
      }
      std::size_t next = 0;
      HANSA_ASSIGN_OR_RETURN(Match m, match_delimiter(view, pos + dash_boundary.size(), next));
      if (m == Match::kNeedMore) {
        return pos;
      }
      if (m != Match::kNotDelimiter) {
        at_body_start_ = false;
        HANSA_RETURN_IF_ERROR(handler_.on_part_end(base + pos));
        if (m == Match::kClose) {
          state_ = State::kEpilogue;
          epilogue_begin_ = base + next;
          return view.size();
        }
        HANSA_RETURN_IF_ERROR(begin_part());
        return next;
      }
    }
    at_body_start_ = false;
  }
  std::size_t search_from = pos;
  while (true) {
    std::size_t n = find_bytes(view, search_from, needle_);
    if (n == std::string_view::npos) {
      break;
    }
    // The CR before the LF belongs to the delimiter (RFC 2046 §5.1.1). A held-back trailing CR
    // guarantees it is in this view when present.
    std::size_t start = (n > pos && view[n - 1] == '\r') ? n - 1 : n;
    std::size_t next = 0;
    HANSA_ASSIGN_OR_RETURN(Match m, match_delimiter(view, n + needle_.size(), next));
    if (m == Match::kNotDelimiter) {
      search_from = n + 1;
      continue;
    }
    HANSA_RETURN_IF_ERROR(deliver(view.substr(pos, start - pos)));
    if (m == Match::kNeedMore) {
      return start;
    }
    HANSA_RETURN_IF_ERROR(handler_.on_part_end(base + start));
    if (m == Match::kClose) {
      state_ = State::kEpilogue;
      epilogue_begin_ = base + next;
      return view.size();
    }
    HANSA_RETURN_IF_ERROR(begin_part());
    return next;
  }
  // No delimiter: deliver all but a tail that could start one (from its first LF, plus a CR
  // just before it or a trailing CR).
  std::size_t keep = needle_.size() - 1;
  std::size_t s = std::max(pos, view.size() > keep ? view.size() - keep : 0);
  const void* lf = std::memchr(view.data() + s, '\n', view.size() - s);
  std::size_t h = lf == nullptr
                      ? view.size()
                      : static_cast<std::size_t>(static_cast<const char*>(lf) - view.data());
  if (h > pos && view[h - 1] == '\r') {
    --h;
  }
  HANSA_RETURN_IF_ERROR(deliver(view.substr(pos, h - pos)));
  return h;
}

// ---------------------------------------------------------------------------------------------
// DigestingPartHandler

DigestingPartHandler::DigestingPartHandler(crypto::DigestAlgorithm algorithm, PartHandler* next)
    : select_([algorithm](const HeaderList&, std::size_t) { return algorithm; }), next_(next) {}

DigestingPartHandler::DigestingPartHandler(AlgorithmSelector select, PartHandler* next)
    : select_(std::move(select)), next_(next) {}

Status DigestingPartHandler::on_part_begin(HeaderList headers, const PartInfo& info) {
  current_ = PartDigest{};
  current_.index = info.index;
  current_.body_offset = info.body_offset;
  current_.algorithm = select_(headers, info.index);
  if (current_.algorithm) {
    if (digester_ && digester_->algorithm() == *current_.algorithm) {
      // Reuse: finish() left it reset.
    } else {
      digester_.emplace(*current_.algorithm);
    }
  }
  if (next_ != nullptr) {
    current_.headers = headers;
    return next_->on_part_begin(std::move(headers), info);
  }
  current_.headers = std::move(headers);
  return ok_status();
}

Status DigestingPartHandler::on_part_data(std::string_view data) {
  current_.size += data.size();
  if (current_.algorithm) {
    digester_->update(data);
  }
  return next_ != nullptr ? next_->on_part_data(data) : ok_status();
}

Status DigestingPartHandler::on_part_end(std::uint64_t body_end) {
  if (current_.algorithm) {
    current_.digest = digester_->finish();
  }
  parts_.push_back(std::move(current_));
  current_ = PartDigest{};
  return next_ != nullptr ? next_->on_part_end(body_end) : ok_status();
}

// ---------------------------------------------------------------------------------------------
// Whole-buffer parsing

namespace {

// Records part headers and body offsets; the bodies are views into the caller's buffer.
class CollectingHandler final : public PartHandler {
 public:
  explicit CollectingHandler(std::string_view body) : body_(body) {}

  Status on_part_begin(HeaderList headers, const PartInfo& info) override {
    Part part;
    part.headers = std::move(headers);
    part.body_offset = static_cast<std::size_t>(info.body_offset);
    parts_.push_back(std::move(part));
    return ok_status();
  }
  Status on_part_data(std::string_view) override { return ok_status(); }
  Status on_part_end(std::uint64_t body_end) override {
    Part& part = parts_.back();
    part.body =
        body_.substr(part.body_offset, static_cast<std::size_t>(body_end) - part.body_offset);
    return ok_status();
  }

  std::vector<Part>& parts() { return parts_; }

 private:
  std::string_view body_;
  std::vector<Part> parts_;
};

Result<Multipart> parse_level(std::string_view body, std::string_view boundary,
                              const MimeLimits& limits, bool parse_nested, int depth) {
  CollectingHandler collector(body);
  HANSA_ASSIGN_OR_RETURN(auto reader, MultipartReader::create(boundary, collector, limits, depth));
  HANSA_RETURN_IF_ERROR(reader->feed(body));
  HANSA_RETURN_IF_ERROR(reader->finish());
  Multipart out;
  out.boundary = std::string(boundary);
  out.preamble = body.substr(0, static_cast<std::size_t>(reader->preamble_end()));
  out.epilogue = body.substr(static_cast<std::size_t>(reader->epilogue_begin()));
  out.parts = std::move(collector.parts());
  if (!parse_nested) {
    return out;
  }
  for (Part& part : out.parts) {
    std::size_t n = part.headers.count("content-type");
    if (n == 0) {
      continue;
    }
    if (n > 1) {
      return malformed("MIME part with more than one Content-Type");
    }
    auto ct = ContentType::parse(*part.headers.get("content-type"));
    if (!ct.ok() || !ct->is_multipart()) {
      continue;  // a leaf part; its consumer judges its type
    }
    auto nested_boundary = ct->boundary();
    if (!nested_boundary) {
      return Error(FaultCode::kInvalidContentType, "nested multipart without boundary",
                   ct->to_string());
    }
    if (depth + 1 > limits.max_nesting_depth) {
      return limit("multipart nested too deeply",
                   static_cast<std::uint64_t>(limits.max_nesting_depth));
    }
    HANSA_ASSIGN_OR_RETURN(Multipart nested,
                           parse_level(part.body, *nested_boundary, limits, true, depth + 1));
    part.nested = std::make_unique<Multipart>(std::move(nested));
  }
  return out;
}

}  // namespace

Result<ContentType> Part::content_type() const {
  auto value = headers.get("content-type");
  if (!value) {
    return Error(FaultCode::kInvalidContentType, "MIME part without Content-Type");
  }
  return ContentType::parse(*value);
}

Result<Multipart> parse_multipart(std::string_view body, std::string_view boundary,
                                  const MimeLimits& limits, bool parse_nested) {
  return parse_level(body, boundary, limits, parse_nested, 0);
}

Result<Multipart> parse_multipart(std::string_view body, const ContentType& content_type,
                                  const MimeLimits& limits, bool parse_nested) {
  if (!content_type.is_multipart()) {
    return Error(FaultCode::kInvalidContentType, "not a multipart Content-Type",
                 content_type.mime_type());
  }
  auto boundary = content_type.boundary();
  if (!boundary) {
    return Error(FaultCode::kInvalidContentType, "multipart Content-Type without boundary",
                 content_type.to_string());
  }
  return parse_level(body, *boundary, limits, parse_nested, 0);
}

}  // namespace hansa::mime
