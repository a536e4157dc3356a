// Fuzz target: signed configuration directories (core/globalconf verify_signed_directory_file,
// PR-GCONF 2.3-2.5) against a fixed anchor whose certificate is tests/fuzz/data/conf-signing.pem
// (instance FUZZ), verified at a fixed time. Seeds signed with tests/fuzz/data/conf-signing.key
// reach the checks after the signature.
// Invariant: a verified directory was signed by the anchor's certificate, is not outdated, has
// entries within the limit, and verify_file refuses bytes that do not match an entry's digest.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/crypto/certificate.h"
#include "core/globalconf/signed_directory.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace gc = hansa::globalconf;

constexpr std::string_view kAnchorCertPem = R"(-----BEGIN CERTIFICATE-----
MIIB0zCCAXmgAwIBAgICEJIwCgYIKoZIzj0EAwIwRzELMAkGA1UEBhMCRUUxEzAR
BgNVBAoMCkhhbnNhIGZ1enoxIzAhBgNVBAMMGkZ1enogY29uZmlndXJhdGlvbiBz
aWduaW5nMCAXDTI2MTEyMjExMzYyNVoYDzIxMjYxMDI5MTEzNjI1WjBHMQswCQYD
VQQGEwJFRTETMBEGA1UECgwKSGFuc2EgZnV6ejEjMCEGA1UEAwwaRnV6eiBjb25m
aWd1cmF0aW9uIHNpZ25pbmcwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT+wQyF
eyL2xkaKJzRFQj55Gu/lBzu7TeL3t6k6Z2gUlJyGRl1aWA6onCsPTntC3ifjnLDN
w0FoYtjDWJeyGwhLo1MwUTAdBgNVHQ4EFgQUD2HBHzGb3RbU+nhk8+ABG8Hwp/ww
HwYDVR0jBBgwFoAUD2HBHzGb3RbU+nhk8+ABG8Hwp/wwDwYDVR0TAQH/BAUwAwEB
/zAKBggqhkjOPQQDAgNIADBFAiAyVYLtp5X7os21ZWRsaQ1nNQ+zkdRC6zWrHXOT
ue8LpwIhAMDGkuUbuoAl0WmSTMaFaN2OJMxzpYdZCDimZHMYE8Qf
-----END CERTIFICATE-----)";

const gc::ConfigurationAnchor& anchor() {
  static const gc::ConfigurationAnchor value = [] {
    auto cert = hansa::crypto::Certificate::from_pem(kAnchorCertPem);
    hansa::fuzz::invariant(cert.ok(), "the fixed anchor certificate parses");
    gc::ConfigurationAnchor a;
    a.instance_identifier = "FUZZ";
    a.sources.push_back(gc::AnchorSource{"http://cs.fuzz.invalid/internalconf", {*cert}});
    return a;
  }();
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using hansa::fuzz::invariant;
  const auto file = hansa::fuzz::as_view(data, size);

  gc::DirectoryVerifyOptions options;
  // 2030-01-01T00:00:00Z: after the certificate's notBefore, before the seeds' Expire-date.
  options.now = gc::TimePoint(std::chrono::seconds(1893456000));
  options.max_directory_bytes = 64 * 1024;
  options.max_entries = 8;
  options.mime_limits.max_part_size = 64 * 1024;
  options.mime_limits.max_total_size = 64 * 1024;

  auto directory = gc::verify_signed_directory_file(file, anchor(), options);
  if (!directory.ok()) {
    return 0;
  }
  invariant(directory->verification_cert.has_value(), "a verified directory names its cert");
  invariant(*directory->verification_cert == anchor().sources[0].verification_certs[0],
            "signed by the anchor's certificate");
  invariant(directory->entries.size() <= options.max_entries, "entry limit holds");
  invariant(directory->expires_at > options.now, "a verified directory is not outdated");
  for (const auto& entry : directory->entries) {
    // A file whose digest cannot match (the digest itself) is refused.
    invariant(!gc::verify_file(entry, entry.hash).ok() || entry.hash.empty(),
              "verify_file checks the digest");
  }
  return 0;
}
