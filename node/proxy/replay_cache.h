#pragma once

// Replay refusal for the server proxy: the messages seen within a window.
//
// A message is remembered by a 128-bit digest of its client, query id, signature document and
// hash chain, for `window` or until `max_entries` newer ones push it out, whichever comes first.
// An entry takes about 70 bytes (the digest in a hash set and, with its time, in a queue in
// arrival order), so the default 500,000 entries take about 35 MB. A node answering 1,000 calls/s
// reaches that cap within its 600 s window; keys kept as strings took five times as much.
//
// Threading: thread-safe (one mutex).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace hansa::proxy {

class ReplayCache final {
 public:
  using Clock = std::chrono::system_clock;
  using Key = std::array<unsigned char, 16>;

  ReplayCache(std::chrono::seconds window, std::size_t max_entries)
      : window_(window), max_entries_(max_entries) {}

  // The key of a message: the first 128 bits of SHA-256 over the length-prefixed fields.
  [[nodiscard]] static Key key(std::string_view client, std::string_view query_id,
                               std::string_view signature_xml, std::string_view hash_chain);

  // False when `key` was seen within the window (the message is a replay); otherwise remembers
  // it as seen at `now`.
  bool insert(const Key& key, Clock::time_point now);

  [[nodiscard]] std::size_t size() const;

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {  // the digest is uniform already
      std::size_t h = 0;
      std::memcpy(&h, k.data(), sizeof h);
      return h;
    }
  };

  std::chrono::seconds window_;
  std::size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_set<Key, KeyHash> seen_;
  std::deque<std::pair<Key, Clock::time_point>> order_;  // arrival order
};

}  // namespace hansa::proxy
