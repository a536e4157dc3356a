#include "core/mime/writer.h"

#include <string.h>  // memmem (GNU)

#include <algorithm>

#include "core/crypto/random.h"

namespace hansa::mime {
namespace {

bool is_field_name_char(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126 && c != ':';
}

bool contains(std::string_view hay, std::string_view needle) {
  if (hay.size() < needle.size()) {
    return false;
  }
  return ::memmem(hay.data(), hay.size(), needle.data(), needle.size()) != nullptr;
}

}  // namespace

std::string random_boundary() {
  static constexpr std::string_view kAlphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string bytes = crypto::random_identifier_bytes(32);
  std::string out = "hansa";
  for (char b : bytes) {
    out.push_back(kAlphabet[static_cast<unsigned char>(b) % kAlphabet.size()]);
  }
  return out;
}

std::string random_boundary_for(std::span<const std::string_view> bodies) {
  while (true) {
    std::string boundary = random_boundary();
    std::string dash = "--" + boundary;
    bool clash = std::any_of(bodies.begin(), bodies.end(),
                             [&](std::string_view body) { return contains(body, dash); });
    if (!clash) {
      return boundary;
    }
  }
}

Result<std::unique_ptr<MultipartWriter>> MultipartWriter::create(std::string boundary,
                                                                 ByteSink sink) {
  HANSA_RETURN_IF_ERROR(validate_boundary(boundary));
  if (boundary.size() > kMaxWrittenBoundaryLength) {
    return Error(FaultCode::kInvalidContentType, "multipart boundary longer than 70 characters");
  }
  HANSA_CHECK(sink != nullptr);
  return std::unique_ptr<MultipartWriter>(
      new MultipartWriter(std::move(boundary), std::move(sink)));
}

MultipartWriter::MultipartWriter(std::string boundary, ByteSink sink)
    : boundary_(std::move(boundary)), needle_("\n--" + boundary_), sink_(std::move(sink)) {}

Status MultipartWriter::fail(Error error) {
  error_ = error;
  return error;
}

Status MultipartWriter::write_headers(const HeaderList& headers, bool with_empty_line) {
  if (error_) {
    return *error_;
  }
  if (finished_) {
    return fail(Error(FaultCode::kInternalError, "multipart writer already finished"));
  }
  for (const auto& f : headers) {
    if (f.name.empty() || !std::all_of(f.name.begin(), f.name.end(), is_field_name_char)) {
      return fail(Error(FaultCode::kInvalidRequest, "invalid MIME header name", f.name));
    }
    if (f.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return fail(
          Error(FaultCode::kInvalidRequest, "MIME header value holds CR, LF or NUL", f.name));
    }
  }
  scratch_.clear();
  scratch_ += parts_ == 0 ? "--" : "\r\n--";
  scratch_ += boundary_;
  scratch_ += "\r\n";
  for (const auto& f : headers) {
    scratch_ += f.name;
    scratch_ += ": ";
    scratch_ += f.value;
    scratch_ += "\r\n";
  }
  if (with_empty_line) {
    scratch_ += "\r\n";
  }
  ++parts_;
  in_part_ = with_empty_line;
  // A body starts after a line end: seed the tail so "--boundary" at the body start is caught.
  tail_.assign(1, '\n');
  Status s = sink_(scratch_);
  if (!s.ok()) {
    return fail(std::move(s).error());
  }
  return ok_status();
}

Status MultipartWriter::begin_part(const HeaderList& headers) {
  return write_headers(headers, true);
}

Status MultipartWriter::write_header_only_part(const HeaderList& headers) {
  return write_headers(headers, false);
}

Status MultipartWriter::write(std::string_view data) {
  if (error_) {
    return *error_;
  }
  if (!in_part_) {
    return fail(Error(FaultCode::kInternalError, "multipart body written outside a part"));
  }
  if (data.empty()) {
    return ok_status();
  }
  // Delimiter check across the previous write's tail and inside this piece.
  std::size_t keep = needle_.size() - 1;
  scratch_.assign(tail_);
  scratch_.append(data.substr(0, std::min(data.size(), keep)));
  if (contains(scratch_, needle_) || contains(data, needle_)) {
    return fail(
        Error(FaultCode::kInternalError, "part body contains the multipart delimiter", boundary_));
  }
  if (data.size() >= keep) {
    tail_.assign(data.substr(data.size() - keep));
  } else {
    tail_.append(data);
    if (tail_.size() > keep) {
      tail_.erase(0, tail_.size() - keep);
    }
  }
  Status s = sink_(data);
  if (!s.ok()) {
    return fail(std::move(s).error());
  }
  return ok_status();
}

Status MultipartWriter::finish() {
  if (error_) {
    return *error_;
  }
  if (finished_) {
    return ok_status();
  }
  if (parts_ == 0) {
    return fail(Error(FaultCode::kInternalError, "multipart needs at least one part"));
  }
  finished_ = true;
  in_part_ = false;
  scratch_ = "\r\n--" + boundary_ + "--\r\n";
  Status s = sink_(scratch_);
  if (!s.ok()) {
    return fail(std::move(s).error());
  }
  return ok_status();
}

ByteSink MultipartWriter::body_sink() {
  return [this](std::string_view data) { return write(data); };
}

Result<std::string> write_multipart(std::string_view boundary,
                                    std::span<const OutgoingPart> parts) {
  std::string out;
  std::size_t estimate = 0;
  for (const auto& p : parts) {
    estimate += p.body.size() + boundary.size() + 64;
    for (const auto& f : p.headers) {
      estimate += f.name.size() + f.value.size() + 4;
    }
  }
  out.reserve(estimate + boundary.size() + 8);
  HANSA_ASSIGN_OR_RETURN(auto writer,
                         MultipartWriter::create(std::string(boundary), [&out](std::string_view d) {
                           out.append(d);
                           return ok_status();
                         }));
  for (const auto& p : parts) {
    if (p.header_only) {
      if (!p.body.empty()) {
        return Error(FaultCode::kInternalError, "header-only MIME part with a body");
      }
      HANSA_RETURN_IF_ERROR(writer->write_header_only_part(p.headers));
      continue;
    }
    HANSA_RETURN_IF_ERROR(writer->begin_part(p.headers));
    HANSA_RETURN_IF_ERROR(writer->write(p.body));
  }
  HANSA_RETURN_IF_ERROR(writer->finish());
  return out;
}

Result<BuiltMultipart> build_multipart(std::string_view subtype,
                                       std::span<const OutgoingPart> parts) {
  std::vector<std::string_view> bodies;
  bodies.reserve(parts.size());
  for (const auto& p : parts) {
    bodies.emplace_back(p.body);
  }
  std::string boundary = random_boundary_for(bodies);
  HANSA_ASSIGN_OR_RETURN(std::string body, write_multipart(boundary, parts));
  return BuiltMultipart{ContentType::multipart(subtype, boundary), std::move(body)};
}

}  // namespace hansa::mime
