#include "bench/micro/dev_pki.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/crypto/cert_profile.h"
#include "core/ocsp/response.h"

namespace hansa::bench {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::string> read_env(const std::filesystem::path& dir) {
  std::map<std::string, std::string> env;
  std::ifstream in(dir / "pki.env");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    if (auto eq = line.find('='); eq != std::string::npos) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return env;
}

Result<DevSigningPki> load() {
  const char* dir_env = std::getenv("HANSA_BENCH_PKI_DIR");
  const std::filesystem::path dir = dir_env ? dir_env : HANSA_DEFAULT_PKI_DIR;
  auto env = read_env(dir);
  if (env.empty()) {
    return Error(FaultCode::kInvalidConfiguration,
                 "no development PKI (run certs/make-dev-pki.sh, set HANSA_BENCH_PKI_DIR)",
                 dir.string());
  }
  DevSigningPki pki;
  HANSA_ASSIGN_OR_RETURN(auto key,
                         crypto::PrivateKey::from_pem(read_all(env["MEMBER_1_SIGN_KEY"])));
  HANSA_ASSIGN_OR_RETURN(auto cert,
                         crypto::Certificate::from_pem(read_all(env["MEMBER_1_SIGN_CERT"])));
  pki.key = std::make_unique<crypto::PrivateKey>(std::move(key));
  pki.cert = std::make_unique<crypto::Certificate>(std::move(cert));

  // A fresh OCSP response from the intermediate's index, made by the openssl command.
  HANSA_ASSIGN_OR_RETURN(
      auto request, ocsp::build_request(pki.cert->pem(), read_all(env["INTERMEDIATE_CA_CERT"])));
  char tmpl[] = "/tmp/hansa-microbench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    return Error(FaultCode::kIoError, "mkdtemp failed");
  }
  const std::filesystem::path tmp = tmpl;
  { std::ofstream(tmp / "req.der", std::ios::binary) << request; }
  const std::string cmd = "openssl ocsp -index '" + env["INTERMEDIATE_CA_INDEX"] + "' -CA '" +
                          env["INTERMEDIATE_CA_CERT"] + "' -rsigner '" + env["OCSP_CERT"] +
                          "' -rkey '" + env["OCSP_KEY"] + "' -reqin '" +
                          (tmp / "req.der").string() + "' -respout '" +
                          (tmp / "resp.der").string() + "' -ndays 1 >/dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  pki.ocsp_der = read_all(tmp / "resp.der");
  std::filesystem::remove_all(tmp);
  if (rc != 0 || pki.ocsp_der.empty()) {
    return Error(FaultCode::kIoError, "openssl ocsp failed");
  }

  HANSA_ASSIGN_OR_RETURN(auto root, crypto::Certificate::from_pem(read_all(env["ROOT_CA_CERT"])));
  HANSA_ASSIGN_OR_RETURN(auto inter,
                         crypto::Certificate::from_pem(read_all(env["INTERMEDIATE_CA_CERT"])));
  HANSA_ASSIGN_OR_RETURN(auto ocsp_cert, crypto::Certificate::from_pem(read_all(env["OCSP_CERT"])));
  globalconf::SharedParameters shared;
  shared.instance_identifier = "DEV";
  globalconf::OcspResponder responder{env["OCSP_URL"], ocsp_cert, std::nullopt};
  globalconf::ApprovedCa ca{"Dev CA",
                            std::nullopt,
                            globalconf::CaInfo{root, {}},
                            {globalconf::CaInfo{inter, {responder}}},
                            std::string(crypto::kHansaDefaultProfileName),
                            std::nullopt,
                            std::nullopt};
  shared.approved_cas.push_back(ca);
  HANSA_ASSIGN_OR_RETURN(pki.conf, globalconf::GlobalConfSnapshot::create(
                                       std::nullopt, {shared},
                                       std::chrono::system_clock::now() + std::chrono::hours(24)));
  return pki;
}

}  // namespace

Result<const DevSigningPki*> dev_signing_pki() {
  static std::once_flag once;
  static Result<DevSigningPki>* loaded = nullptr;
  std::call_once(once, [] { loaded = new Result<DevSigningPki>(load()); });
  if (!loaded->ok()) {
    return loaded->error();
  }
  return &loaded->value();
}

}  // namespace hansa::bench
