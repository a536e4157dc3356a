#pragma once

// Test helpers for node/signer: temp dirs, a throw-away SoftHSM2 token, databases on both
// backends, and the development PKI. Threading: one owner.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "node/signer/pkcs11_token.h"

namespace hansa::signer::testutil {

inline constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hansa-signer-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) {
      path_ = tmpl;
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs a shell command; true when it exits 0.
inline bool run(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// A SoftHSM2 token in its own token directory (SOFTHSM2_CONF points at a config file in `dir`).
class SoftHsm {
 public:
  // nullptr when SoftHSM2 is not installed or the token cannot be made (see skip_reason()).
  static std::unique_ptr<SoftHsm> create(const std::filesystem::path& dir, const std::string& label,
                                         const std::string& pin) {
    if (!std::filesystem::exists(kSoftHsmModule)) {
      return nullptr;
    }
    std::filesystem::create_directories(dir / "softhsm-tokens");
    const auto conf = dir / "softhsm2.conf";
    std::ofstream(conf) << "directories.tokendir = " << (dir / "softhsm-tokens").string()
                        << "\nobjectstore.backend = file\nlog.level = ERROR\n";
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
    if (!run("softhsm2-util --init-token --free --label '" + label + "' --pin '" + pin +
             "' --so-pin 0987654321 >/dev/null")) {
      return nullptr;
    }
    auto h = std::unique_ptr<SoftHsm>(new SoftHsm());
    h->options_.token_label = label;
    h->options_.module_path = kSoftHsmModule;
    return h;
  }
  static std::string skip_reason() {
    return std::string("SoftHSM2 module missing (") + kSoftHsmModule +
           "; Debian package softhsm2) or softhsm2-util failed: PKCS#11 tests skipped";
  }
  [[nodiscard]] const Pkcs11TokenOptions& options() const { return options_; }

 private:
  SoftHsm() = default;
  Pkcs11TokenOptions options_;
};

}  // namespace hansa::signer::testutil
