#pragma once

// Batch signing of messages (reference section 4 "Batch signing"; DESIGN.md "Data flow of one
// call", step 3): many threads hand in the digests of their message; per signing member, while one
// private-key operation runs the next batch collects, and each batch is signed with ONE call of
// the key (core/signature::sign_batch: a hash chain when the batch holds several messages, a
// direct signature for a single one). A message that arrives after a quiet spell is signed at
// once; under load (the member's previous message arrived less than `linger` before) the caller
// that takes the turn waits up to `linger` from its arrival for more messages to join: each
// batch saves a key operation, a signature document, its verification by the peer and its row in
// both message logs, far more than the wait costs at that load.
// No extra thread: the first caller that finds its member idle signs the batch for everyone in
// it and then hands the turn to the next waiting caller.
//
// Used by the client proxy for requests and by the server proxy for responses.
// Threading: thread-safe: guarded by mu_.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/errors/errors.h"
#include "core/ids/ids.h"
#include "core/signature/signature.h"

namespace hansa::signer {
class Signer;
}  // namespace hansa::signer

namespace hansa::proxy {

// What a signature by a member embeds: its signing certificate and that certificate's OCSP
// response (reference section 4: SigningCertificate, EncapsulatedOCSPValue).
struct SigningMaterial {
  crypto::Certificate certificate;
  std::string ocsp_der;
};

// The signing keys as the batch signer sees them (node/signer's Signer in production, a plain
// key in tests). Implementations are thread-safe.
class SigningKeys {
 public:
  virtual ~SigningKeys() = default;
  // The certificate and OCSP response `member`'s signatures embed. CertNotFound, KeyNotAvailable,
  // CertValidation (no OCSP response).
  [[nodiscard]] virtual Result<SigningMaterial> material(const ids::MemberId& member) = 0;
  // One private-key operation with `member`'s signing key over `data`.
  [[nodiscard]] virtual Result<std::string> sign(const ids::MemberId& member,
                                                 crypto::SignatureAlgorithm algorithm,
                                                 std::string_view data) = 0;
};

// SigningKeys over node/signer (Signer::signing_info and Signer::sign). `signer` must outlive the
// returned object.
[[nodiscard]] std::unique_ptr<SigningKeys> signer_keys(signer::Signer& signer);

struct BatchSignerOptions {
  // Most messages signed with one private-key operation.
  std::size_t max_batch = 1'000;
  // Most messages waiting (all members together); more fail at once with LimitExceeded.
  std::size_t max_queued = 10'000;
  // Longest wait of one caller for its signature (queueing and signing); Timeout after it.
  std::chrono::milliseconds max_wait{30'000};
  // Under load, how long the caller that takes a member's turn waits for more messages before
  // signing, so that one key operation covers more of them. It waits only when the member's
  // previous message arrived less than this long before; 0 signs at once.
  std::chrono::milliseconds linger{2};
  // Digest of message parts and references (X-Road: SHA-512).
  crypto::DigestAlgorithm digest = crypto::DigestAlgorithm::kSha512;
};

// Counters for tests and metrics. Threading: plain value.
struct BatchSignerStats {
  std::uint64_t messages = 0;        // messages signed
  std::uint64_t key_operations = 0;  // private-key operations (batches)
  std::uint64_t largest_batch = 0;
};

class BatchSigner final {
 public:
  // `keys` must outlive the signer. InvalidConfiguration when a limit is zero.
  [[nodiscard]] static Result<std::unique_ptr<BatchSigner>> create(SigningKeys& keys,
                                                                   BatchSignerOptions options = {});
  ~BatchSigner();
  BatchSigner(const BatchSigner&) = delete;
  BatchSigner& operator=(const BatchSigner&) = delete;

  // Signs one message for `member`: `item` holds the digests (options.digest) of message.xml (the
  // SOAP message or the REST head) and of each attachment. Blocks until the batch holding it is
  // signed. Returns the signature (and, in a batch of several, the hash-chain result and this
  // message's chain). Fails with LimitExceeded (queue full), Timeout, InvalidRequest (bad digest
  // size), or what the keys return (CertNotFound, KeyNotAvailable, ...), for every message of the
  // failing batch.
  [[nodiscard]] Result<signature::BatchSignature> sign(const ids::MemberId& member,
                                                       signature::BatchItem item);

  // Digests `message` and `attachments` with options.digest into a BatchItem.
  [[nodiscard]] signature::BatchItem item_for(std::string_view message,
                                              const std::vector<std::string>& attachments) const;

  [[nodiscard]] BatchSignerStats stats() const;

 private:
  struct Pending;
  struct MemberQueue;
  BatchSigner(SigningKeys& keys, BatchSignerOptions options);
  void sign_batch(const ids::MemberId& member, std::vector<Pending*>& batch);

  SigningKeys& keys_;
  BatchSignerOptions options_;
  mutable std::mutex mu_;
  std::map<ids::MemberId, std::unique_ptr<MemberQueue>> queues_;
  std::size_t queued_ = 0;
  BatchSignerStats stats_;
};

}  // namespace hansa::proxy
