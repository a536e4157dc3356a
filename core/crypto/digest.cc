#include "core/crypto/digest.h"

#include <array>

#include "core/crypto/native.h"
#include "core/crypto/openssl_ptr.h"

namespace hansa::crypto {
namespace {

struct DigestInfo {
  DigestAlgorithm alg;
  std::string_view uri;
  std::string_view id;
  std::size_t size;
};

constexpr std::array kDigests{
    DigestInfo{DigestAlgorithm::kSha1, "http://www.w3.org/2000/09/xmldsig#sha1", "SHA-1", 20},
    DigestInfo{DigestAlgorithm::kSha224, "http://www.w3.org/2001/04/xmldsig-more#sha224", "SHA-224",
               28},
    DigestInfo{DigestAlgorithm::kSha256, "http://www.w3.org/2001/04/xmlenc#sha256", "SHA-256", 32},
    DigestInfo{DigestAlgorithm::kSha384, "http://www.w3.org/2001/04/xmldsig-more#sha384", "SHA-384",
               48},
    DigestInfo{DigestAlgorithm::kSha512, "http://www.w3.org/2001/04/xmlenc#sha512", "SHA-512", 64},
};

const DigestInfo& info(DigestAlgorithm alg) { return kDigests[static_cast<std::size_t>(alg)]; }

}  // namespace

const EVP_MD* fetched_md(DigestAlgorithm alg) {
  // Fetched once: with a legacy EVP_sha*() handle OpenSSL 3 fetches the implementation again
  // (name map lookups under a global lock) on every EVP_DigestInit_ex and signature setup.
  static const std::array<EVP_MD*, 5> kFetched = [] {
    std::array<EVP_MD*, 5> mds{};
    const char* names[] = {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512"};
    for (std::size_t i = 0; i < mds.size(); ++i) {
      mds[i] = EVP_MD_fetch(nullptr, names[i], nullptr);
      HANSA_CHECK(mds[i] != nullptr);
    }
    return mds;
  }();
  switch (alg) {
    case DigestAlgorithm::kSha1:
      return kFetched[0];
    case DigestAlgorithm::kSha224:
      return kFetched[1];
    case DigestAlgorithm::kSha256:
      return kFetched[2];
    case DigestAlgorithm::kSha384:
      return kFetched[3];
    case DigestAlgorithm::kSha512:
      return kFetched[4];
  }
  return kFetched[4];
}

std::string_view digest_uri(DigestAlgorithm alg) noexcept { return info(alg).uri; }

std::optional<DigestAlgorithm> digest_from_uri(std::string_view uri) noexcept {
  for (const auto& d : kDigests) {
    if (d.uri == uri) return d.alg;
  }
  // xmldsig-more also names sha256/sha512 in some producers.
  if (uri == "http://www.w3.org/2001/04/xmldsig-more#sha256") return DigestAlgorithm::kSha256;
  if (uri == "http://www.w3.org/2001/04/xmldsig-more#sha512") return DigestAlgorithm::kSha512;
  return std::nullopt;
}

std::string_view digest_id(DigestAlgorithm alg) noexcept { return info(alg).id; }

std::optional<DigestAlgorithm> digest_from_id(std::string_view id) noexcept {
  for (const auto& d : kDigests) {
    if (d.id == id) return d.alg;
  }
  // Accept the dash-less spellings ("SHA512") seen in some producers.
  if (id == "SHA1") return DigestAlgorithm::kSha1;
  if (id == "SHA256") return DigestAlgorithm::kSha256;
  if (id == "SHA384") return DigestAlgorithm::kSha384;
  if (id == "SHA512") return DigestAlgorithm::kSha512;
  return std::nullopt;
}

std::size_t digest_size(DigestAlgorithm alg) noexcept { return info(alg).size; }

std::string digest(DigestAlgorithm alg, std::string_view data) {
  // One context per thread and algorithm, reused: a new one costs three allocations, and a call
  // through a node digests a few dozen small inputs (hash-chain steps, references, fingerprints).
  thread_local std::array<EvpMdCtxPtr, kDigests.size()> contexts;
  EvpMdCtxPtr& ctx = contexts[static_cast<std::size_t>(alg)];
  if (!ctx) {
    ctx.reset(EVP_MD_CTX_new());
    HANSA_CHECK(ctx != nullptr);
  }
  HANSA_CHECK(EVP_DigestInit_ex(ctx.get(), fetched_md(alg), nullptr) == 1);
  HANSA_CHECK(EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HANSA_CHECK(EVP_DigestFinal_ex(ctx.get(), out, &len) == 1);
  return std::string(reinterpret_cast<const char*>(out), len);
}

struct Digester::Impl {
  EvpMdCtxPtr ctx{EVP_MD_CTX_new()};
};

Digester::Digester(DigestAlgorithm alg) : alg_(alg), impl_(std::make_unique<Impl>()) {
  HANSA_CHECK(impl_->ctx != nullptr);
  HANSA_CHECK(EVP_DigestInit_ex(impl_->ctx.get(), fetched_md(alg_), nullptr) == 1);
}

Digester::~Digester() = default;
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;

void Digester::update(std::string_view data) {
  HANSA_CHECK(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) == 1);
}

std::string Digester::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HANSA_CHECK(EVP_DigestFinal_ex(impl_->ctx.get(), out, &len) == 1);
  HANSA_CHECK(EVP_DigestInit_ex(impl_->ctx.get(), fetched_md(alg_), nullptr) == 1);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace hansa::crypto
