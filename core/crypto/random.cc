#include "core/crypto/random.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <utility>

#include "core/crypto/encoding.h"
#include "core/errors/errors.h"

namespace hansa::crypto {
namespace {

// Bumped in the child of every fork(): a thread's block, copied into the child, is not reused.
std::atomic<std::uint64_t> g_fork_generation{0};

void on_fork_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

// Registered once, when the program starts, instead of on the message path.
const bool g_atfork_registered = ::pthread_atfork(nullptr, nullptr, on_fork_child) == 0;

// One thread's block of DRBG output for identifiers.
struct IdentifierBlock {
  static constexpr std::size_t kBytes = 1024;
  unsigned char bytes[kBytes];
  std::size_t used = kBytes;  // empty until first drawn
  std::uint64_t generation = 0;
};

thread_local IdentifierBlock t_block;

// Sets the version nibble and the RFC 9562 variant bits, and formats 8-4-4-4-12.
std::string format_uuid(std::string b, unsigned version) {
  b[6] = static_cast<char>((static_cast<unsigned char>(b[6]) & 0x0f) | (version << 4));
  b[8] = static_cast<char>((static_cast<unsigned char>(b[8]) & 0x3f) | 0x80);
  const std::string h = hex_encode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

}  // namespace

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  HANSA_CHECK(n <= static_cast<std::size_t>(INT_MAX));
  HANSA_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1);
  return out;
}

std::string random_identifier_bytes(std::size_t n) {
  HANSA_CHECK(n <= kMaxIdentifierBytes);
  HANSA_CHECK(g_atfork_registered);
  IdentifierBlock& block = t_block;
  const std::uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (block.generation != generation || IdentifierBlock::kBytes - block.used < n) {
    HANSA_CHECK(RAND_bytes(block.bytes, static_cast<int>(IdentifierBlock::kBytes)) == 1);
    block.used = 0;
    block.generation = generation;
  }
  std::string out(reinterpret_cast<const char*>(block.bytes + block.used), n);
  block.used += n;
  return out;
}

std::string random_uuid() { return format_uuid(random_identifier_bytes(16), 4); }

std::string time_ordered_uuid() {
  std::string b = random_identifier_bytes(16);
  const auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  for (int i = 0; i < 6; ++i) {
    b[static_cast<std::size_t>(i)] = static_cast<char>((ms >> (8 * (5 - i))) & 0xff);
  }
  return format_uuid(std::move(b), 7);
}

}  // namespace hansa::crypto
