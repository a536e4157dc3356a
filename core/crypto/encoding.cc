#include "core/crypto/encoding.h"

#include <array>
#include <cstdint>

namespace hansa::crypto {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}
constexpr auto kDecode = make_decode_table();

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  // Written through a pointer into the sized result (appending char by char checked the
  // capacity and wrote a terminator for every output character).
  std::string out((bytes.size() + 2) / 3 * 4, '\0');
  char* o = out.data();
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v =
        (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = kAlphabet[v & 63];
    o += 4;
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    const std::uint32_t v =
        (std::uint32_t{in[i]} << 16) | (rest == 2 ? std::uint32_t{in[i + 1]} << 8 : 0);
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    o[3] = '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  char* o = out.data();
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t quantum = 0;  // significant characters seen, including padding
  std::size_t padding = 0;
  for (char c : text) {
    const int v = kDecode[static_cast<unsigned char>(c)];
    if (v >= 0) {
      if (padding > 0) {
        return Error(FaultCode::kInvalidRequest, "invalid base64: data after padding");
      }
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      bits += 6;
      ++quantum;
      if (bits >= 8) {
        bits -= 8;
        *o++ = static_cast<char>((acc >> bits) & 0xff);
      }
      continue;
    }
    if (is_space(c)) continue;
    if (c != '=') return Error(FaultCode::kInvalidRequest, "invalid base64: illegal character");
    ++padding;
    ++quantum;
    if (padding > 2) return Error(FaultCode::kInvalidRequest, "invalid base64: too much padding");
  }
  if (quantum % 4 != 0) return Error(FaultCode::kInvalidRequest, "invalid base64: truncated");
  // Leftover bits past the last whole byte must be zero in canonical encodings; tolerate them
  // as most decoders do, but padding must match the data length.
  if ((padding == 1 && bits != 2) || (padding == 2 && bits != 4)) {
    return Error(FaultCode::kInvalidRequest, "invalid base64: wrong padding");
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Result<std::string> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) return Error(FaultCode::kInvalidRequest, "invalid hex: odd length");
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return Error(FaultCode::kInvalidRequest, "invalid hex: bad character");
    out += static_cast<char>((hi << 4) | lo);
  }
  return out;
}

}  // namespace hansa::crypto
