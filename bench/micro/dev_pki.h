#pragma once

// The development PKI (certs/make-dev-pki.sh) as the micro-benchmarks use it: member 1's signing
// key and certificate, a fresh OCSP response for it (made with the openssl command), and a
// global configuration approving the dev CA. Threading: load once, then read-only.

#include <filesystem>
#include <memory>
#include <string>

#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/errors/errors.h"
#include "core/globalconf/snapshot.h"

namespace hansa::bench {

struct DevSigningPki {
  std::unique_ptr<crypto::PrivateKey> key;
  std::unique_ptr<crypto::Certificate> cert;
  std::string ocsp_der;
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf;
};

// The PKI in $HANSA_BENCH_PKI_DIR, else the build tree's test PKI. InvalidConfiguration when it
// has not been generated; IoError when openssl fails.
[[nodiscard]] Result<const DevSigningPki*> dev_signing_pki();

}  // namespace hansa::bench
