#include "core/ocsp/cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/core/ocsp/openssl_pki.h"

namespace hansa::ocsp {
namespace {

using namespace std::chrono_literals;
using testing::OpenSslPki;
using testing::TempDir;

class OcspCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    pki_ = new OpenSslPki(tmp_->path() / "pki");
    ASSERT_TRUE(pki_->create());
    auto req = build_request(pki_->der("good"), pki_->der("ca"));
    good_ = new std::string(pki_->respond(*req, "responder", ""));  // no nextUpdate
    rogue_ = new std::string(pki_->respond(*req, "rogue-ca", ""));
  }
  static void TearDownTestSuite() {
    delete good_;
    delete rogue_;
    delete pki_;
    delete tmp_;
  }

  void SetUp() override {
    auto parsed = OcspResponse::parse(*good_);
    ASSERT_TRUE(parsed.ok());
    base_ = parsed->this_update();
    now_ = base_;
  }

  // A fetcher counting its calls and answering with `answer_` (or failing when it is empty).
  OcspCache::Fetcher fetcher() {
    return [this](const TrackedCert&) -> Result<OcspResponse> {
      ++fetches_;
      std::string answer = fail_ ? std::string() : (rogue_answer_ ? *rogue_ : *good_);
      if (answer.empty()) {
        return Error(FaultCode::kNetworkError, "responder down");
      }
      return OcspResponse::parse(answer);
    };
  }
  OcspCache::ClockFn clock() {
    return [this] { return TimePoint(std::chrono::seconds(now_s_.load())); };
  }
  void set_now(TimePoint t) {
    now_s_ = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  }
  TrackedCert good_cert() { return {pki_->pem("good"), pki_->pem("ca"), "http://unused"}; }

  static TempDir* tmp_;
  static OpenSslPki* pki_;
  static std::string* good_;
  static std::string* rogue_;
  TimePoint base_;
  TimePoint now_;
  std::atomic<std::int64_t> now_s_{0};
  std::atomic<int> fetches_{0};
  std::atomic<bool> fail_{false};
  std::atomic<bool> rogue_answer_{false};
};

TempDir* OcspCacheTest::tmp_ = nullptr;
OpenSslPki* OcspCacheTest::pki_ = nullptr;
std::string* OcspCacheTest::good_ = nullptr;
std::string* OcspCacheTest::rogue_ = nullptr;

TEST_F(OcspCacheTest, FetchesServesAndRefreshesAheadOfExpiry) {
  set_now(base_);
  CacheOptions options;  // freshness 3600 s, margin 600 s
  OcspCache cache(fetcher(), options, clock());
  auto hash = cache.track(good_cert());
  ASSERT_TRUE(hash.ok()) << hash.error().to_string();
  EXPECT_EQ(*hash, *cert_hash(pki_->der("good")));
  EXPECT_FALSE(cache.get(*hash).has_value());

  EXPECT_EQ(cache.refresh_due(), 1u);
  EXPECT_EQ(fetches_, 1);
  auto served = cache.get(*hash);
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->der(), *good_);

  // Not due yet: nothing fetched.
  set_now(base_ + 2999s);
  EXPECT_EQ(cache.refresh_due(), 0u);
  EXPECT_EQ(fetches_, 1);
  // Inside the refresh margin: fetched again, still served meanwhile.
  set_now(base_ + 3001s);
  EXPECT_TRUE(cache.get(*hash).has_value());
  EXPECT_EQ(cache.refresh_due(), 1u);
  EXPECT_EQ(fetches_, 2);
}

TEST_F(OcspCacheTest, ServesLastGoodResponseWhileResponderIsDownUntilStale) {
  set_now(base_);
  OcspCache cache(fetcher(), CacheOptions{}, clock());
  std::string hash = *cache.track(good_cert());
  ASSERT_EQ(cache.refresh_due(), 1u);
  fail_ = true;
  set_now(base_ + 3100s);
  EXPECT_EQ(cache.refresh_due(), 0u);
  EXPECT_TRUE(cache.get(hash).has_value());  // last good response still served
  // Retry waits out retry_delay.
  int before = fetches_;
  EXPECT_EQ(cache.refresh_due(), 0u);
  EXPECT_EQ(fetches_, before);
  // Once stale it is no longer served, and get_or_fetch reports the transport error.
  set_now(base_ + 3600s);
  EXPECT_FALSE(cache.get(hash).has_value());
  auto r = cache.get_or_fetch(hash);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kNetworkError);
}

TEST_F(OcspCacheTest, InvalidResponsesAreNotCached) {
  set_now(base_);
  rogue_answer_ = true;
  OcspCache cache(fetcher(), CacheOptions{}, clock());
  std::string hash = *cache.track(good_cert());
  auto r = cache.get_or_fetch(hash);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kCertValidation);
  EXPECT_FALSE(cache.get(hash).has_value());
}

TEST_F(OcspCacheTest, GetOrFetchFetchesOnceAndLooksUpCaseInsensitively) {
  set_now(base_);
  OcspCache cache(fetcher(), CacheOptions{}, clock());
  std::string hash = *cache.track(good_cert());
  std::string upper = hash;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  ASSERT_TRUE(cache.get_or_fetch(upper).ok());
  ASSERT_TRUE(cache.get_or_fetch(hash).ok());
  EXPECT_EQ(fetches_, 1);
  EXPECT_EQ(cache.get_or_fetch("00").error().code, FaultCode::kNotFound);
  cache.untrack(upper);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(OcspCacheTest, SizeIsBounded) {
  CacheOptions options;
  options.max_entries = 2;
  OcspCache cache(fetcher(), options, clock());
  ASSERT_TRUE(cache.track({pki_->pem("good"), pki_->pem("ca"), "http://x"}).ok());
  ASSERT_TRUE(cache.track({pki_->pem("revoked"), pki_->pem("ca"), "http://x"}).ok());
  ASSERT_TRUE(cache.track({pki_->pem("good"), pki_->pem("ca"), "http://y"}).ok());  // update
  auto full = cache.track({pki_->pem("unknown"), pki_->pem("ca"), "http://x"});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, FaultCode::kLimitExceeded);
  EXPECT_EQ(cache.track({"junk", pki_->pem("ca"), "http://x"}).error().code,
            FaultCode::kIncorrectCertificate);
}

TEST_F(OcspCacheTest, BackgroundThreadRefreshesAndStopsPromptly) {
  set_now(base_);
  CacheOptions options;
  options.refresh_interval = 10ms;
  OcspCache cache(fetcher(), options, clock());
  std::string hash = *cache.track(good_cert());
  cache.start();
  cache.start();  // idempotent
  // Readers run concurrently with the refresher.
  std::vector<std::thread> readers;
  std::atomic<int> served{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      for (int j = 0; j < 200; ++j) {
        if (cache.get(hash)) {
          ++served;
        }
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  for (auto& t : readers) {
    t.join();
  }
  EXPECT_GT(served, 0);
  EXPECT_GE(fetches_, 1);
  set_now(base_ + 3300s);  // due again
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (fetches_ < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(fetches_, 2);
  auto start = std::chrono::steady_clock::now();
  cache.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  cache.stop();  // idempotent
}

}  // namespace
}  // namespace hansa::ocsp
