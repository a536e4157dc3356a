#include "node/proxy/replay_cache.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// From ASan's runtime (GCC installs no header declaring it).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace hansa::proxy {
namespace {

using namespace std::chrono_literals;

ReplayCache::Key key_of(int i) {
  return ReplayCache::key("SUBSYSTEM:DEV/GOV/1234/CLIENT", "q-" + std::to_string(i), "<signature/>",
                          "<chain/>");
}

TEST(ReplayCache, RefusesAMessageSeenWithinTheWindow) {
  ReplayCache cache(600s, 1000);
  const auto t0 = ReplayCache::Clock::now();
  EXPECT_TRUE(cache.insert(key_of(1), t0));
  EXPECT_FALSE(cache.insert(key_of(1), t0 + 599s));
  EXPECT_TRUE(cache.insert(key_of(2), t0 + 599s));
  // Past the window it is forgotten, and remembered again from then on.
  EXPECT_TRUE(cache.insert(key_of(1), t0 + 601s));
  EXPECT_FALSE(cache.insert(key_of(1), t0 + 602s));
  EXPECT_EQ(cache.size(), 2u);  // key 2 and the second key 1
}

TEST(ReplayCache, AFullCacheForgetsTheOldestFirst) {
  ReplayCache cache(600s, 3);
  const auto t = ReplayCache::Clock::now();
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(cache.insert(key_of(i), t));
  }
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.insert(key_of(3), t));
  EXPECT_FALSE(cache.insert(key_of(2), t));
  EXPECT_TRUE(cache.insert(key_of(0), t));  // pushed out by key 3; now pushes out key 1
  EXPECT_TRUE(cache.insert(key_of(1), t));
  for (int i = 0; i < 10'000; ++i) {
    cache.insert(key_of(100 + i), t);
  }
  EXPECT_EQ(cache.size(), 3u);
}

TEST(ReplayCache, EveryFieldAndItsBoundariesCount) {
  const auto base = ReplayCache::key("client", "id", "sig", "chain");
  EXPECT_EQ(base, ReplayCache::key("client", "id", "sig", "chain"));
  EXPECT_NE(base, ReplayCache::key("client2", "id", "sig", "chain"));
  EXPECT_NE(base, ReplayCache::key("client", "id2", "sig", "chain"));
  EXPECT_NE(base, ReplayCache::key("client", "id", "sig2", "chain"));
  EXPECT_NE(base, ReplayCache::key("client", "id", "sig", "chain2"));
  // The same bytes split differently: one batch's messages share the signature, not the chain.
  EXPECT_NE(ReplayCache::key("ab", "c", "sig", "chain"),
            ReplayCache::key("a", "bc", "sig", "chain"));
  EXPECT_NE(ReplayCache::key("c", "i", "sigch", "ain"), ReplayCache::key("c", "i", "sig", "chain"));
}

TEST(ReplayCache, OneOfManyConcurrentCopiesGetsThrough) {
  ReplayCache cache(600s, 1000);
  const auto t = ReplayCache::Clock::now();
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 200; ++j) {
        if (cache.insert(key_of(j), t)) {
          accepted.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(accepted.load(), 200);
}

// Bytes the program has allocated: ASan's allocator replaces glibc's under the sanitizers.
std::size_t allocated_bytes() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}

// A node answering 1,000 calls/s holds up to max_replay_entries (500,000) entries: each must stay
// small.
TEST(ReplayCache, AnEntryTakesLessThan100Bytes) {
  constexpr int kEntries = 200'000;
  std::vector<ReplayCache::Key> keys;
  keys.reserve(kEntries);
  for (int i = 0; i < kEntries; ++i) {
    keys.push_back(key_of(i));
  }
  const std::size_t before = allocated_bytes();
  {
    ReplayCache cache(600s, 500'000);
    const auto t = ReplayCache::Clock::now();
    for (const auto& k : keys) {
      ASSERT_TRUE(cache.insert(k, t));
    }
    const double per_entry = static_cast<double>(allocated_bytes() - before) / kEntries;
    RecordProperty("bytes_per_entry", std::to_string(per_entry));
    EXPECT_LT(per_entry, 100.0);
    EXPECT_GT(per_entry, 24.0);  // the statistics did see the cache
  }
}

}  // namespace
}  // namespace hansa::proxy
