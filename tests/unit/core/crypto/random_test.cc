#include "core/crypto/random.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace hansa::crypto {
namespace {

TEST(Random, UuidsAreVersion4AndDistinctAcrossThreads) {
  const std::regex form("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  constexpr int kThreads = 4;
  constexpr int kEach = 5000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        made[t].push_back(random_uuid());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::set<std::string> all;
  for (const auto& list : made) {
    for (const auto& id : list) {
      EXPECT_TRUE(std::regex_match(id, form)) << id;
      all.insert(id);
    }
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST(Random, TimeOrderedUuidsCarryTheTimeAndStayDistinct) {
  const std::regex form("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  auto now_ms = [] {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  };
  auto time_of = [](const std::string& id) {  // the first 48 bits, "xxxxxxxx-xxxx"
    return std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
  };
  const std::uint64_t before = now_ms();
  std::vector<std::string> ids;
  for (int i = 0; i < 20000; ++i) {
    ids.push_back(time_ordered_uuid());
  }
  const std::uint64_t after = now_ms();
  std::set<std::string> distinct(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE(std::regex_match(ids[i], form)) << ids[i];
    const std::uint64_t t = time_of(ids[i]);
    EXPECT_GE(t, before) << ids[i];
    EXPECT_LE(t, after) << ids[i];
    if (i > 0) {
      // Ids made in a later millisecond sort after the earlier ones, as strings too.
      const std::uint64_t t0 = time_of(ids[i - 1]);
      EXPECT_GE(t, t0);
      if (t > t0) {
        EXPECT_GT(ids[i], ids[i - 1]);
      }
    }
  }
}

TEST(Random, IdentifierBytesCrossBlocksWithoutRepeating) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {  // 1000 x 40 bytes: dozens of blocks, never on a block edge
    std::string b = random_identifier_bytes(40);
    ASSERT_EQ(b.size(), 40u);
    EXPECT_TRUE(seen.insert(b).second);
  }
  EXPECT_EQ(random_identifier_bytes(kMaxIdentifierBytes).size(), kMaxIdentifierBytes);
  EXPECT_EQ(random_identifier_bytes(0).size(), 0u);
}

// A forked child must not hand out the identifiers its parent hands out next from the block
// both hold a copy of.
TEST(Random, ForkedChildDrawsAFreshBlock) {
  (void)random_identifier_bytes(16);  // the block is filled and partly used
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string mine = random_identifier_bytes(32);
    _exit(write(fds[1], mine.data(), mine.size()) == static_cast<ssize_t>(mine.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string parents = random_identifier_bytes(32);
  std::string childs(32, '\0');
  ssize_t got = 0;
  while (got < 32) {
    ssize_t n = read(fds[0], childs.data() + got, 32 - static_cast<std::size_t>(got));
    if (n <= 0) {
      break;
    }
    got += n;
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  ASSERT_EQ(got, 32);
  EXPECT_NE(childs, parents);
}

}  // namespace
}  // namespace hansa::crypto
