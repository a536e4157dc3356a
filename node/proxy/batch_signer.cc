#include "node/proxy/batch_signer.h"

#include <algorithm>
#include <deque>
#include <future>
#include <optional>
#include <vector>

#include "node/signer/signer.h"

namespace hansa::proxy {
namespace {

class NodeSignerKeys final : public SigningKeys {
 public:
  explicit NodeSignerKeys(signer::Signer& signer) : signer_(signer) {}

  Result<SigningMaterial> material(const ids::MemberId& member) override {
    HANSA_ASSIGN_OR_RETURN(signer::SigningInfo info, signer_.signing_info(member));
    if (!info.ocsp_der || info.ocsp_der->empty()) {
      // X-Road signs nothing without a good OCSP response for the signing certificate.
      return Error(FaultCode::kCertValidation,
                   "no OCSP response for the signing certificate of the member",
                   member.to_string());
    }
    return SigningMaterial{std::move(info.certificate), std::move(*info.ocsp_der)};
  }

  Result<std::string> sign(const ids::MemberId& member, crypto::SignatureAlgorithm algorithm,
                           std::string_view data) override {
    return signer_.sign(member, algorithm, data);
  }

 private:
  signer::Signer& signer_;
};

crypto::SignatureAlgorithm algorithm_for(const crypto::Certificate& cert,
                                         crypto::DigestAlgorithm digest) {
  bool ec = cert.public_key().type() == crypto::KeyType::kEc;
  switch (digest) {
    case crypto::DigestAlgorithm::kSha256:
      return ec ? crypto::SignatureAlgorithm::kEcdsaSha256 : crypto::SignatureAlgorithm::kRsaSha256;
    case crypto::DigestAlgorithm::kSha384:
      return ec ? crypto::SignatureAlgorithm::kEcdsaSha384 : crypto::SignatureAlgorithm::kRsaSha384;
    default:
      return ec ? crypto::SignatureAlgorithm::kEcdsaSha512 : crypto::SignatureAlgorithm::kRsaSha512;
  }
}

}  // namespace

std::unique_ptr<SigningKeys> signer_keys(signer::Signer& signer) {
  return std::make_unique<NodeSignerKeys>(signer);
}

// A caller's message. `woken` is set once, after `result` (the batch holding it was signed) or
// with no result (the caller was handed its member's turn, and is no longer in `waiting`).
struct BatchSigner::Pending {
  signature::BatchItem item;
  std::optional<Result<signature::BatchSignature>> result;
  std::promise<void> woken;
};

// One member's queue. `busy` while a caller holds the member's turn; `waiting` are the other
// callers, in arrival order. Each caller sleeps on its own promise, so the end of a batch wakes
// exactly its callers and the one that takes the next turn.
struct BatchSigner::MemberQueue {
  std::deque<Pending*> waiting;
  bool busy = false;
  std::chrono::steady_clock::time_point last_arrival;
  bool lingering = false;  // the turn's caller waits for more messages (BatchSignerOptions::linger)
  std::condition_variable linger_cv;  // wakes the lingering caller when the batch is full
};

Result<std::unique_ptr<BatchSigner>> BatchSigner::create(SigningKeys& keys,
                                                         BatchSignerOptions options) {
  if (options.max_batch == 0 || options.max_queued == 0 || options.max_wait.count() <= 0) {
    return Error(FaultCode::kInvalidConfiguration, "batch signer limits must be positive");
  }
  return std::unique_ptr<BatchSigner>(new BatchSigner(keys, options));
}

BatchSigner::BatchSigner(SigningKeys& keys, BatchSignerOptions options)
    : keys_(keys), options_(options) {}

BatchSigner::~BatchSigner() = default;

signature::BatchItem BatchSigner::item_for(std::string_view message,
                                           const std::vector<std::string>& attachments) const {
  signature::BatchItem item;
  item.message_digest = crypto::digest(options_.digest, message);
  item.attachment_digests.reserve(attachments.size());
  for (const auto& attachment : attachments) {
    item.attachment_digests.push_back(crypto::digest(options_.digest, attachment));
  }
  return item;
}

BatchSignerStats BatchSigner::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<signature::BatchSignature> BatchSigner::sign(const ids::MemberId& member,
                                                    signature::BatchItem item) {
  Pending pending{std::move(item), std::nullopt, {}};
  const auto arrival = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  if (queued_ >= options_.max_queued) {
    return Error(FaultCode::kLimitExceeded, "signing queue full",
                 "limit " + std::to_string(options_.max_queued) + " messages");
  }
  auto& slot = queues_[member];
  if (!slot) {
    slot = std::make_unique<MemberQueue>();
  }
  MemberQueue& queue = *slot;
  const bool under_load = arrival - queue.last_arrival < options_.linger;
  queue.last_arrival = arrival;
  if (queue.busy) {
    queue.waiting.push_back(&pending);
    ++queued_;
    if (queue.lingering && queue.waiting.size() + 1 >= options_.max_batch) {
      queue.linger_cv.notify_one();  // the lingering caller signs now
    }
    std::future<void> woken = pending.woken.get_future();
    lock.unlock();
    if (woken.wait_until(arrival + options_.max_wait) == std::future_status::timeout) {
      lock.lock();
      auto it = std::find(queue.waiting.begin(), queue.waiting.end(), &pending);
      if (it != queue.waiting.end()) {
        queue.waiting.erase(it);
        --queued_;
        return Error(FaultCode::kTimeout, "signing took too long",
                     std::to_string(options_.max_wait.count()) + " ms");
      }
      // Already taken into a batch being signed, or handed the turn: the promise follows.
      lock.unlock();
    }
    woken.wait();
    if (pending.result) {
      return std::move(*pending.result);
    }
    lock.lock();  // handed the turn
  }
  queue.busy = true;
  if (under_load) {
    // Messages arrive faster than the linger: let more of them join this key operation.
    // Callers arriving meanwhile find the member busy and wait for this batch.
    queue.lingering = true;
    queue.linger_cv.wait_until(lock, arrival + options_.linger,
                               [&] { return queue.waiting.size() + 1 >= options_.max_batch; });
    queue.lingering = false;
  }
  // This caller's turn: sign it with those waiting (up to max_batch) in one key operation.
  const std::size_t n = std::min(queue.waiting.size(), options_.max_batch - 1);
  std::vector<Pending*> batch{&pending};
  batch.insert(batch.end(), queue.waiting.begin(),
               queue.waiting.begin() + static_cast<std::ptrdiff_t>(n));
  queue.waiting.erase(queue.waiting.begin(),
                      queue.waiting.begin() + static_cast<std::ptrdiff_t>(n));
  queued_ -= n;
  lock.unlock();
  sign_batch(member, batch);
  lock.lock();
  ++stats_.key_operations;
  stats_.messages += batch.size();
  stats_.largest_batch = std::max<std::uint64_t>(stats_.largest_batch, batch.size());
  Pending* next = nullptr;
  if (queue.waiting.empty()) {
    queue.busy = false;
  } else {
    next = queue.waiting.front();  // keeps the turn
    queue.waiting.pop_front();
    --queued_;
  }
  lock.unlock();
  // The next turn starts first. A woken caller may return (and free its Pending) as soon as its
  // promise is set: each promise is moved out before it is set.
  if (next != nullptr) {
    std::promise<void> woken = std::move(next->woken);
    woken.set_value();
  }
  for (std::size_t i = 1; i < batch.size(); ++i) {
    std::promise<void> woken = std::move(batch[i]->woken);
    woken.set_value();
  }
  return std::move(*pending.result);
}

void BatchSigner::sign_batch(const ids::MemberId& member, std::vector<Pending*>& batch) {
  auto fail_all = [&](const Error& error) {
    for (Pending* p : batch) {
      p->result = error;
    }
  };
  auto material = keys_.material(member);
  if (!material.ok()) {
    fail_all(material.error());
    return;
  }
  std::vector<signature::BatchItem> items;
  items.reserve(batch.size());
  for (Pending* p : batch) {
    items.push_back(std::move(p->item));
  }
  signature::BatchOptions options;
  options.sign.digest = options_.digest;
  options.sign.algorithm = algorithm_for(material->certificate, options_.digest);
  options.max_items = std::max(options.max_items, batch.size());
  auto signatures = signature::sign_batch(
      items, material->certificate, material->ocsp_der,
      [&](crypto::SignatureAlgorithm algorithm, std::string_view data) {
        return keys_.sign(member, algorithm, data);
      },
      options);
  if (!signatures.ok()) {
    fail_all(signatures.error());
    return;
  }
  HANSA_CHECK(signatures->size() == batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch[i]->result = std::move((*signatures)[i]);
  }
}

}  // namespace hansa::proxy
