#include "node/proxy/replay_cache.h"

#include <cstdint>
#include <string>

#include "core/crypto/digest.h"

namespace hansa::proxy {

ReplayCache::Key ReplayCache::key(std::string_view client, std::string_view query_id,
                                  std::string_view signature_xml, std::string_view hash_chain) {
  crypto::Digester digester(crypto::DigestAlgorithm::kSha256);
  for (std::string_view field : {client, query_id, signature_xml, hash_chain}) {
    // Each field after its length (8 bytes, little-endian): no two field lists hash alike.
    unsigned char length[8];
    std::uint64_t n = field.size();
    for (unsigned char& b : length) {
      b = static_cast<unsigned char>(n & 0xff);
      n >>= 8;
    }
    digester.update(std::string_view(reinterpret_cast<const char*>(length), sizeof length));
    digester.update(field);
  }
  const std::string digest = digester.finish();
  Key k{};
  std::memcpy(k.data(), digest.data(), k.size());
  return k;
}

bool ReplayCache::insert(const Key& key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  // Entries leave in arrival order: past the window, or the oldest when the cache is full. A
  // key still in `seen_` was therefore seen within the window.
  while (!order_.empty() &&
         (order_.front().second + window_ < now || order_.size() >= max_entries_)) {
    seen_.erase(order_.front().first);
    order_.pop_front();
  }
  if (!seen_.insert(key).second) {
    return false;
  }
  order_.emplace_back(key, now);
  return true;
}

std::size_t ReplayCache::size() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

}  // namespace hansa::proxy
