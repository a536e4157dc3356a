#include "node/proxy/batch_signer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto/digest.h"
#include "core/signature/signature.h"
#include "tests/unit/core/signature/signature_fixtures.h"

namespace hansa::proxy {
namespace {

using signature::testing::DevPki;

// Member 1's dev signing key; counts private-key operations and can be slowed down so batches
// form (a token's signing time).
class DevKeys final : public SigningKeys {
 public:
  explicit DevKeys(DevPki& pki) : pki_(pki), ocsp_(pki.ocsp()) {}

  Result<SigningMaterial> material(const ids::MemberId&) override {
    return SigningMaterial{pki_.cert(), ocsp_};
  }
  Result<std::string> sign(const ids::MemberId&, crypto::SignatureAlgorithm alg,
                           std::string_view data) override {
    ++calls;
    if (fail) {
      return Error(FaultCode::kKeyNotAvailable, "token logged out");
    }
    std::this_thread::sleep_for(delay);
    return pki_.key().sign(alg, data);
  }

  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  std::chrono::milliseconds delay{0};

 private:
  DevPki& pki_;
  std::string ocsp_;
};

class BatchSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pki_.load()) {
      GTEST_SKIP() << "dev PKI not generated";
    }
    keys_ = std::make_unique<DevKeys>(pki_);
    member_ = ids::MemberId::parse("MEMBER:" + pki_.member_id()).value();
  }

  // Verifies `sig` over `message` with core/signature as the peer would.
  void expect_verifies(const signature::BatchSignature& sig, const std::string& message,
                       const std::vector<std::string>& attachments = {}) {
    signature::SignedData data;
    data.files["/message.xml"] = message;
    data.required["/message.xml"] = std::nullopt;
    for (std::size_t i = 0; i < attachments.size(); ++i) {
      data.files[signature::attachment_uri(i + 1)] = attachments[i];
      data.required[signature::attachment_uri(i + 1)] = std::nullopt;
    }
    if (!sig.hash_chain.empty()) {
      data.files["/sig-hashchainresult.xml"] = sig.hash_chain_result;
      data.files["/sig-hashchain.xml"] = sig.hash_chain;
    }
    signature::VerifyOptions options;
    options.expected_signer = ids::ClientId::parse("MEMBER:" + pki_.member_id()).value();
    auto verified = signature::verify(sig.signature_xml, data, *conf_, options);
    EXPECT_TRUE(verified.ok()) << verified.error().to_string();
  }

  DevPki pki_;
  std::unique_ptr<DevKeys> keys_;
  std::optional<ids::MemberId> member_;
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf_ = nullptr;
};

TEST_F(BatchSignerTest, LoneMessageIsSignedDirectlyAndVerifies) {
  conf_ = pki_.conf();
  auto signer = BatchSigner::create(*keys_).value();
  std::string message = "<m>hello</m>";
  std::vector<std::string> attachments = {"attachment bytes"};
  auto sig = signer->sign(*member_, signer->item_for(message, attachments));
  ASSERT_TRUE(sig.ok()) << sig.error().to_string();
  EXPECT_TRUE(sig->hash_chain.empty());  // no delay waiting for company
  EXPECT_EQ(keys_->calls, 1);
  expect_verifies(*sig, message, attachments);
}

TEST_F(BatchSignerTest, ConcurrentMessagesShareKeyOperationsAndEachVerifies) {
  conf_ = pki_.conf();
  keys_->delay = std::chrono::milliseconds(30);
  auto signer = BatchSigner::create(*keys_).value();
  constexpr int kThreads = 32;
  std::vector<std::optional<Result<signature::BatchSignature>>> results(kThreads);
  std::vector<std::string> messages(kThreads);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    messages[i] = "<m>message " + std::to_string(i) + "</m>";
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = signer->sign(*member_, signer->item_for(messages[i], {}));
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_LT(keys_->calls, kThreads);
  EXPECT_GE(keys_->calls, 1);
  auto stats = signer->stats();
  EXPECT_EQ(stats.messages, static_cast<std::uint64_t>(kThreads));
  EXPECT_EQ(stats.key_operations, static_cast<std::uint64_t>(keys_->calls));
  EXPECT_GT(stats.largest_batch, 1u);
  bool some_chain = false;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i]->ok()) << results[i]->error().to_string();
    some_chain = some_chain || !(*results[i])->hash_chain.empty();
    expect_verifies(**results[i], messages[i]);
  }
  EXPECT_TRUE(some_chain);
}

// Under load (the previous message arrived less than `linger` before), the caller that takes the
// turn waits up to `linger` for more messages: B arrives right after A, and C and D arrive while
// B waits, so B, C and D share one key operation.
TEST_F(BatchSignerTest, MessagesArrivingUnderLoadShareOneKeyOperation) {
  conf_ = pki_.conf();
  BatchSignerOptions options;
  options.linger = std::chrono::seconds(1);
  auto signer = BatchSigner::create(*keys_, options).value();
  auto a = signer->sign(*member_, signer->item_for("<m>a</m>", {}));
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(keys_->calls, 1);  // the first message never waits
  std::vector<std::string> messages = {"<m>b</m>", "<m>c</m>", "<m>d</m>"};
  std::vector<std::optional<Result<signature::BatchSignature>>> results(messages.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    threads.emplace_back([&, i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * i));
      results[i] = signer->sign(*member_, signer->item_for(messages[i], {}));
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(keys_->calls, 2);
  EXPECT_EQ(signer->stats().largest_batch, 3u);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    ASSERT_TRUE(results[i]->ok()) << results[i]->error().to_string();
    EXPECT_FALSE((*results[i])->hash_chain.empty());
    expect_verifies(**results[i], messages[i]);
  }
}

// The lingering caller signs as soon as `max_batch` messages wait, not at the linger's end.
TEST_F(BatchSignerTest, LingerEndsWhenTheBatchIsFull) {
  conf_ = pki_.conf();
  BatchSignerOptions options;
  options.linger = std::chrono::seconds(30);
  options.max_batch = 2;
  auto signer = BatchSigner::create(*keys_, options).value();
  ASSERT_TRUE(signer->sign(*member_, signer->item_for("<m>a</m>", {})).ok());
  const auto start = std::chrono::steady_clock::now();
  std::optional<Result<signature::BatchSignature>> b;
  std::thread lingering([&] { b = signer->sign(*member_, signer->item_for("<m>b</m>", {})); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto c = signer->sign(*member_, signer->item_for("<m>c</m>", {}));
  lingering.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_TRUE(b->ok()) << b->error().to_string();
  EXPECT_EQ(keys_->calls, 2);
  EXPECT_EQ(signer->stats().largest_batch, 2u);
  expect_verifies(**b, "<m>b</m>");
  expect_verifies(*c, "<m>c</m>");
}

// A message that arrives after a quiet spell longer than `linger` is signed at once.
TEST_F(BatchSignerTest, MessageAfterAQuietSpellIsSignedAtOnce) {
  BatchSignerOptions options;
  options.linger = std::chrono::milliseconds(800);
  auto signer = BatchSigner::create(*keys_, options).value();
  ASSERT_TRUE(signer->sign(*member_, signer->item_for("<m>a</m>", {})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(signer->sign(*member_, signer->item_for("<m>b</m>", {})).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400));
  EXPECT_EQ(keys_->calls, 2);
}

TEST_F(BatchSignerTest, KeyFailureFailsTheWholeBatchAndTheSignerRecovers) {
  auto signer = BatchSigner::create(*keys_).value();
  keys_->fail = true;
  auto sig = signer->sign(*member_, signer->item_for("<m/>", {}));
  ASSERT_FALSE(sig.ok());
  EXPECT_EQ(sig.error().code, FaultCode::kKeyNotAvailable);
  keys_->fail = false;
  EXPECT_TRUE(signer->sign(*member_, signer->item_for("<m/>", {})).ok());
}

TEST_F(BatchSignerTest, FullQueueIsRefusedNotBlocked) {
  keys_->delay = std::chrono::milliseconds(300);
  BatchSignerOptions options;
  options.max_queued = 1;
  auto signer = BatchSigner::create(*keys_, options).value();
  // The first caller takes the turn (its queue slot is freed when its batch starts); the second
  // waits in the queue; the third finds it full.
  std::thread first(
      [&] { EXPECT_TRUE(signer->sign(*member_, signer->item_for("<a/>", {})).ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread second(
      [&] { EXPECT_TRUE(signer->sign(*member_, signer->item_for("<b/>", {})).ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto third = signer->sign(*member_, signer->item_for("<c/>", {}));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, FaultCode::kLimitExceeded);
  first.join();
  second.join();
}

// A caller still waiting when max_wait passes gets Timeout and leaves the queue; the batch being
// signed is not disturbed, and later callers are served.
TEST_F(BatchSignerTest, CallerWaitingPastMaxWaitTimesOutAndLeavesTheQueue) {
  keys_->delay = std::chrono::milliseconds(600);
  BatchSignerOptions options;
  options.max_wait = std::chrono::milliseconds(100);
  auto signer = BatchSigner::create(*keys_, options).value();
  std::thread first(
      [&] { EXPECT_TRUE(signer->sign(*member_, signer->item_for("<a/>", {})).ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto second = signer->sign(*member_, signer->item_for("<b/>", {}));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, FaultCode::kTimeout);
  first.join();
  keys_->delay = std::chrono::milliseconds(0);
  EXPECT_TRUE(signer->sign(*member_, signer->item_for("<c/>", {})).ok());
  auto stats = signer->stats();
  EXPECT_EQ(stats.messages, 2u);  // <a/> and <c/>; <b/> was never signed
  EXPECT_EQ(stats.key_operations, 2u);
}

// Messages that arrive while a batch is signed wait for it to end; the first of them then takes
// the turn and signs them all with one key operation, and every caller gets its own signature.
TEST_F(BatchSignerTest, MessagesArrivingDuringABatchFormTheNextOne) {
  conf_ = pki_.conf();
  keys_->delay = std::chrono::milliseconds(300);
  BatchSignerOptions options;
  options.linger = std::chrono::milliseconds(0);
  auto signer = BatchSigner::create(*keys_, options).value();
  std::thread first(
      [&] { EXPECT_TRUE(signer->sign(*member_, signer->item_for("<m>first</m>", {})).ok()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  constexpr int kWaiting = 6;
  std::vector<std::optional<Result<signature::BatchSignature>>> results(kWaiting);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiting; ++i) {
    threads.emplace_back([&, i] {
      results[i] = signer->sign(*member_, signer->item_for("<m>" + std::to_string(i) + "</m>", {}));
    });
  }
  first.join();
  for (auto& t : threads) {
    t.join();
  }
  auto stats = signer->stats();
  EXPECT_EQ(stats.key_operations, 2u);
  EXPECT_EQ(stats.largest_batch, static_cast<std::uint64_t>(kWaiting));
  EXPECT_EQ(stats.messages, static_cast<std::uint64_t>(kWaiting + 1));
  for (int i = 0; i < kWaiting; ++i) {
    ASSERT_TRUE(results[i]->ok()) << results[i]->error().to_string();
    expect_verifies(**results[i], "<m>" + std::to_string(i) + "</m>");
  }
}

TEST_F(BatchSignerTest, ZeroLimitsAreRefused) {
  BatchSignerOptions options;
  options.max_batch = 0;
  EXPECT_FALSE(BatchSigner::create(*keys_, options).ok());
}

}  // namespace
}  // namespace hansa::proxy
