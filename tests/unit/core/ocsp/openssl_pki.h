#pragma once

// Test-only helpers: a throw-away PKI made with the openssl command line in a temporary
// directory, so the OCSP tests can check Hansa against responses that OpenSSL produced.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace hansa::ocsp::testing {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_file(const std::filesystem::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// Runs a shell command in `dir`; returns true when it exits with 0. Output goes to dir/log.txt.
inline bool run_in(const std::filesystem::path& dir, const std::string& cmd) {
  std::string full = "cd '" + dir.string() + "' && (" + cmd + ") >>log.txt 2>&1";
  int rc = std::system(full.c_str());
  if (rc != 0) {
    ADD_FAILURE() << "command failed: " << cmd << "\n" << read_file(dir / "log.txt");
  }
  return rc == 0;
}

// A directory with: ca (Test CA), other-ca (an unrelated CA with the SAME subject name as ca),
// rogue-ca (an unrelated CA), responder (delegated OCSP signer of ca, EKU OCSPSigning),
// fake-responder (the same subject with OCSPSigning, but issued by other-ca),
// plain (issued by ca, no OCSPSigning EKU), good (serial 1001), revoked (serial 1002,
// keyCompromise), unknown (serial 1003, not in the index), index.txt for openssl ocsp, and the
// time-stamping certificates tsa and tsa2 (critical EKU timeStamping) and tsa-noeku.
class OpenSslPki {
 public:
  explicit OpenSslPki(std::filesystem::path dir) : dir_(std::move(dir)) {}

  bool create() {
    std::filesystem::create_directories(dir_);
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    const std::string ca_ext =
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";
    write_file(dir_ / "ext-ocsp.cnf", "extendedKeyUsage=OCSPSigning\n");
    write_file(dir_ / "ext-leaf.cnf", "keyUsage=critical,digitalSignature\n");
    write_file(dir_ / "ext-tsa.cnf",
               "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n");
    bool ok = true;
    auto make_ca = [&](const std::string& name, const std::string& subject) {
      ok = ok && run_in(dir_, "openssl req -x509 " + ec + " -keyout " + name + ".key -out " + name +
                                  ".pem -subj '" + subject + "' -days 3650 " + ca_ext);
    };
    auto make_leaf = [&](const std::string& name, const std::string& subject,
                         const std::string& serial, const std::string& ext,
                         const std::string& ca = "ca") {
      ok = ok && run_in(dir_, "openssl req -new " + ec + " -keyout " + name + ".key -out " + name +
                                  ".csr -subj '" + subject + "'");
      ok = ok && run_in(dir_, "openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " +
                                  ca + ".key -set_serial " + serial + " -days 365 -out " + name +
                                  ".pem -extfile " + ext);
    };
    make_ca("ca", "/O=Test/CN=Test CA");
    make_ca("other-ca", "/O=Test/CN=Test CA");
    make_ca("rogue-ca", "/O=Rogue/CN=Rogue CA");
    make_leaf("responder", "/O=Test/CN=Test OCSP", "0x2001", "ext-ocsp.cnf");
    // Same subject and serial as `responder`, EKU OCSPSigning, but issued by other-ca (the
    // impostor with ca's name): a forged delegation.
    make_leaf("fake-responder", "/O=Test/CN=Test OCSP", "0x2001", "ext-ocsp.cnf", "other-ca");
    make_leaf("plain", "/O=Test/CN=Not an OCSP signer", "0x2002", "ext-leaf.cnf");
    make_leaf("good", "/O=Test/CN=Good member", "0x1001", "ext-leaf.cnf");
    make_leaf("revoked", "/O=Test/CN=Revoked member", "0x1002", "ext-leaf.cnf");
    make_leaf("unknown", "/O=Test/CN=Unknown member", "0x1003", "ext-leaf.cnf");
    make_leaf("tsa", "/O=Test/CN=Test TSA", "0x3001", "ext-tsa.cnf");
    make_leaf("tsa2", "/O=Other/CN=Unapproved TSA", "0x3003", "ext-tsa.cnf");
    make_leaf("tsa-noeku", "/O=Test/CN=Test TSA without EKU", "0x3002", "ext-leaf.cnf");
    write_file(dir_ / "index.txt",
               "V\t351231235959Z\t\t1001\tunknown\t/O=Test/CN=Good member\n"
               "R\t351231235959Z\t240101120000Z,keyCompromise\t1002\tunknown\t/O=Test/"
               "CN=Revoked member\n");
    return ok;
  }

  [[nodiscard]] std::string pem(const std::string& name) const {
    return read_file(dir_ / (name + ".pem"));
  }
  [[nodiscard]] std::string der(const std::string& name) const {
    std::string out = name + ".der";
    if (!std::filesystem::exists(dir_ / out)) {
      std::string cmd = "openssl x509 -in " + name + ".pem -outform DER -out " + out;
      std::system(("cd '" + dir_.string() + "' && " + cmd).c_str());
    }
    return read_file(dir_ / out);
  }

  // Answers `request_der` with `openssl ocsp -index` signed by `signer` (a name of this PKI);
  // `extra` adds options (-ndays, -nmin, -resp_key_id, ...).
  [[nodiscard]] std::string respond(const std::string& request_der, const std::string& signer,
                                    const std::string& extra = "-ndays 1") const {
    write_file(dir_ / "req.der", request_der);
    std::filesystem::remove(dir_ / "resp.der");
    run_in(dir_, "openssl ocsp -index index.txt -CA ca.pem -rsigner " + signer + ".pem -rkey " +
                     signer + ".key -reqin req.der -respout resp.der " + extra);
    return read_file(dir_ / "resp.der");
  }

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hansa-ocsp-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
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

}  // namespace hansa::ocsp::testing
