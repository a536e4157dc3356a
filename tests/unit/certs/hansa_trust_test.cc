// hansa-trust against OpenSSL's own OCSP and time-stamp clients (the interoperability tests of
// issue 3), plus hostile input. Uses the development PKI (certs/make-dev-pki.sh).

#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/ts.h>

#include <cstdio>
#include <map>

#include "certs/hansa-trust/trust_server.h"
#include "core/crypto/encoding.h"
#include "core/http/client.h"
#include "tests/unit/core/http/test_support.h"

namespace hansa::trust {
namespace {

namespace fs = std::filesystem;
using hansa::testing::read_file;
using hansa::testing::TempDir;
using hansa::testing::write_file;

struct CommandResult {
  int rc = -1;
  std::string output;
};

// Runs a shell command, capturing stdout and stderr.
CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    result.output.append(buf, n);
  }
  int status = ::pclose(pipe);
  result.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The development PKI: the one the dev_pki CTest fixture made, or a fresh one when the binary
// runs on its own.
class DevPki {
 public:
  static DevPki& get() {
    static DevPki pki;
    return pki;
  }
  [[nodiscard]] bool ok() const { return !env_.empty(); }
  [[nodiscard]] std::string env(const std::string& key) const {
    auto it = env_.find(key);
    return it == env_.end() ? std::string() : it->second;
  }
  [[nodiscard]] const fs::path& dir() const { return dir_; }

 private:
  DevPki() {
    dir_ = HANSA_TEST_PKI_DIR;
    if (!fs::exists(dir_ / "pki.env")) {
      dir_ = own_.path();
      run(std::string(HANSA_SOURCE_DIR) + "/certs/make-dev-pki.sh --force '" + dir_.string() + "'");
    }
    std::string text = read_file(dir_ / "pki.env");
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      pos = end == std::string::npos ? text.size() : end + 1;
      auto eq = line.find('=');
      if (line.empty() || line[0] == '#' || eq == std::string::npos) {
        continue;
      }
      env_[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  TempDir own_;
  fs::path dir_;
  std::map<std::string, std::string> env_;
};

std::string url_encode(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

// The responseStatus of a DER OCSPResponse, or -1 when it does not parse.
int ocsp_response_status(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size()));
  if (resp == nullptr) {
    return -1;
  }
  int status = OCSP_response_status(resp);
  OCSP_RESPONSE_free(resp);
  return status;
}

// The PKIStatus of a DER TimeStampResp, or -1 when it does not parse.
long ts_response_status(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  TS_RESP* resp = d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size()));
  if (resp == nullptr) {
    return -1;
  }
  long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)));
  TS_RESP_free(resp);
  return status;
}

class HansaTrust : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki().ok()) << "development PKI missing";
    start_with(dev_pki_config(pki().dir(), tmp_.path() / "state.json"));
  }

  void start_with(const TrustConfig& config) {
    server_.reset();
    auto server = TrustServer::create(config);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(server).value();
    auto started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
  }

  static DevPki& pki() { return DevPki::get(); }
  std::string ocsp_url() const {
    return "http://127.0.0.1:" + std::to_string(server_->ocsp_port());
  }
  std::string tsa_url() const { return "http://127.0.0.1:" + std::to_string(server_->tsa_port()); }

  // `openssl ocsp` for one certificate file (or "-serial 0x..") against the server.
  CommandResult openssl_ocsp(const std::string& cert_args, const std::string& extra = "") {
    return run("openssl ocsp -issuer '" + pki().env("INTERMEDIATE_CA_CERT") + "' " + cert_args +
               " -url " + ocsp_url() + "/ocsp -CAfile '" + pki().env("CA_CHAIN") + "' " + extra);
  }

  CommandResult hansa_trust(const std::string& args) {
    return run(std::string(HANSA_TRUST_BINARY) + " --state '" +
               (tmp_.path() / "state.json").string() + "' " + args);
  }

  std::unique_ptr<http::Client> client(const std::string& url) {
    http::ClientOptions options;
    options.read_timeout = std::chrono::seconds(10);
    return http::Client::create(url, options).value();
  }

  // Sends `query_file` to the TSA, writes the reply to `reply_file`.
  void time_stamp(const fs::path& query_file, const fs::path& reply_file) {
    auto res =
        client(tsa_url())->post("/tsa", read_file(query_file), "application/timestamp-query");
    ASSERT_TRUE(res.ok()) << res.error().to_string();
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->header("Content-Type").value_or(""), "application/timestamp-reply");
    write_file(reply_file, res->body);
  }

  std::string serial_of(const std::string& cert_file) {
    auto out = run("openssl x509 -noout -serial -in '" + cert_file + "'").output;
    auto eq = out.find('=');
    return out.substr(eq + 1, out.find_first_of("\r\n", eq) - eq - 1);
  }

  TempDir tmp_;
  std::unique_ptr<TrustServer> server_;
};

TEST_F(HansaTrust, OpensslOcspReportsGoodAndVerifiesTheResponse) {
  auto r = openssl_ocsp("-cert '" + pki().env("MEMBER_1_SIGN_CERT") + "'");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("Response verify OK"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sign.pem: good"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Next Update"), std::string::npos) << r.output;
  // openssl sends a nonce and warns when it is not echoed.
  EXPECT_EQ(r.output.find("WARNING"), std::string::npos) << r.output;
}

TEST_F(HansaTrust, RevokedInTheCaIndexIsRevoked) {
  auto r = openssl_ocsp("-cert '" + pki().env("SIGN_REVOKED_CERT") + "'");
  EXPECT_NE(r.output.find("Response verify OK"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(": revoked"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Reason: keyCompromise"), std::string::npos) << r.output;
}

TEST_F(HansaTrust, RevokeCommandTakesEffectAndUnrevokeUndoesIt) {
  const std::string cert = pki().env("MEMBER_2_SIGN_CERT");
  ASSERT_FALSE(cert.empty());
  std::string serial = serial_of(cert);
  auto revoke = hansa_trust("revoke " + serial + " --reason superseded");
  ASSERT_EQ(revoke.rc, 0) << revoke.output;
  auto r = openssl_ocsp("-cert '" + cert + "'");
  EXPECT_NE(r.output.find(": revoked"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Reason: superseded"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Response verify OK"), std::string::npos) << r.output;
  EXPECT_EQ(hansa_trust("status " + serial).output.substr(0, 7), "revoked");

  ASSERT_EQ(hansa_trust("unrevoke " + serial).rc, 0);
  auto again = openssl_ocsp("-cert '" + cert + "'");
  EXPECT_NE(again.output.find(": good"), std::string::npos) << again.output;
  EXPECT_EQ(hansa_trust("revoke 12zz").rc, 1);
  EXPECT_NE(hansa_trust("revoke 12 --reason nonsense").rc, 0);
}

TEST_F(HansaTrust, UnknownSerialAndForeignIssuerAreUnknown) {
  auto r = openssl_ocsp("-serial 0xDEADBEEF");
  EXPECT_NE(r.output.find("0xDEADBEEF: unknown"), std::string::npos) << r.output;
  // A certificate of an unrelated CA, asked with that CA as issuer.
  auto foreign = run("openssl ocsp -issuer '" + pki().env("UNTRUSTED_ROOT_CERT") + "' -cert '" +
                     pki().env("UNTRUSTED_SIGN_CERT") + "' -url " + ocsp_url() + "/ocsp -CAfile '" +
                     pki().env("CA_CHAIN") + "'");
  EXPECT_NE(foreign.output.find(": unknown"), std::string::npos) << foreign.output;
}

TEST_F(HansaTrust, OcspOverGetPerRfc6960AppendixA) {
  fs::path req = tmp_.path() / "req.der";
  auto made = run("openssl ocsp -issuer '" + pki().env("INTERMEDIATE_CA_CERT") + "' -cert '" +
                  pki().env("MEMBER_1_SIGN_CERT") + "' -no_nonce -reqout '" + req.string() + "'");
  ASSERT_EQ(made.rc, 0) << made.output;
  std::string encoded = url_encode(crypto::base64_encode(read_file(req)));
  auto http = client(ocsp_url());
  for (const std::string prefix : {"/ocsp/", "/"}) {
    auto res = http->get(prefix + encoded);
    ASSERT_TRUE(res.ok()) << res.error().to_string();
    ASSERT_EQ(res->status, 200);
    EXPECT_EQ(res->header("Content-Type").value_or(""), "application/ocsp-response");
    ASSERT_EQ(ocsp_response_status(res->body), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    fs::path resp = tmp_.path() / "resp.der";
    write_file(resp, res->body);
    auto check = run("openssl ocsp -respin '" + resp.string() + "' -issuer '" +
                     pki().env("INTERMEDIATE_CA_CERT") + "' -cert '" +
                     pki().env("MEMBER_1_SIGN_CERT") + "' -CAfile '" + pki().env("CA_CHAIN") + "'");
    EXPECT_NE(check.output.find("Response verify OK"), std::string::npos) << check.output;
    EXPECT_NE(check.output.find(": good"), std::string::npos) << check.output;
  }
  // Clients that do not percent-encode the base64 ('+', '/', '=' as they are) are served too.
  auto raw = http->get("/ocsp/" + crypto::base64_encode(read_file(req)));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(ocsp_response_status(raw->body), OCSP_RESPONSE_STATUS_SUCCESSFUL);
  auto garbage = http->get("/ocsp/%21%21notbase64");
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(ocsp_response_status(garbage->body), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
}

TEST_F(HansaTrust, NextUpdateIsConfigurable) {
  TrustConfig config = dev_pki_config(pki().dir(), tmp_.path() / "state.json");
  config.ocsp.next_update = std::chrono::seconds(0);
  start_with(config);
  auto r = openssl_ocsp("-cert '" + pki().env("MEMBER_1_SIGN_CERT") + "'");
  EXPECT_NE(r.output.find(": good"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Next Update"), std::string::npos) << r.output;
}

TEST_F(HansaTrust, OcspHostileInput) {
  auto http = client(ocsp_url());
  auto garbage = http->post("/ocsp", "this is not DER", "application/ocsp-request");
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->status, 200);
  EXPECT_EQ(ocsp_response_status(garbage->body), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);

  fs::path req = tmp_.path() / "req.der";
  ASSERT_EQ(run("openssl ocsp -issuer '" + pki().env("INTERMEDIATE_CA_CERT") + "' -cert '" +
                pki().env("MEMBER_1_SIGN_CERT") + "' -reqout '" + req.string() + "'")
                .rc,
            0);
  std::string der = read_file(req);
  auto truncated = http->post("/ocsp", der.substr(0, der.size() / 2), "application/ocsp-request");
  ASSERT_TRUE(truncated.ok());
  EXPECT_EQ(ocsp_response_status(truncated->body), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  auto trailing = http->post("/ocsp", der + "x", "application/ocsp-request");
  ASSERT_TRUE(trailing.ok());
  EXPECT_EQ(ocsp_response_status(trailing->body), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  auto empty = http->post("/ocsp", "", "application/ocsp-request");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(ocsp_response_status(empty->body), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);

  auto wrong_type = http->post("/ocsp", der, "text/plain");
  ASSERT_TRUE(wrong_type.ok());
  EXPECT_EQ(wrong_type->status, 415);
  EXPECT_NE(wrong_type->body.find("InvalidContentType"), std::string::npos);

  auto huge = client(ocsp_url())
                  ->post("/ocsp", std::string(50 * 1024 * 1024, 'x'), "application/ocsp-request");
  EXPECT_TRUE(!huge.ok() || huge->status == 413);

  // Still serving.
  auto r = openssl_ocsp("-cert '" + pki().env("MEMBER_1_SIGN_CERT") + "'");
  EXPECT_NE(r.output.find(": good"), std::string::npos) << r.output;
}

TEST_F(HansaTrust, OpensslVerifiesTimeStampTokens) {
  fs::path data = tmp_.path() / "data.txt";
  write_file(data, "log record batch root");
  for (const std::string digest : {"-sha512", "-sha256"}) {
    fs::path query = tmp_.path() / "q.tsq";
    fs::path reply = tmp_.path() / "r.tsr";
    auto q = run("openssl ts -query -data '" + data.string() + "' " + digest + " -cert -out '" +
                 query.string() + "'");
    ASSERT_EQ(q.rc, 0) << q.output;
    time_stamp(query, reply);
    // certReq was set: the token carries the TSA certificate and its chain, so the root is enough.
    auto verify = run("openssl ts -verify -queryfile '" + query.string() + "' -in '" +
                      reply.string() + "' -CAfile '" + pki().env("ROOT_CA_CERT") + "'");
    EXPECT_NE(verify.output.find("Verification: OK"), std::string::npos) << digest << verify.output;
    auto by_data = run("openssl ts -verify -data '" + data.string() + "' -in '" + reply.string() +
                       "' -CAfile '" + pki().env("ROOT_CA_CERT") + "'");
    EXPECT_NE(by_data.output.find("Verification: OK"), std::string::npos) << by_data.output;
    auto text = run("openssl ts -reply -in '" + reply.string() + "' -text");
    EXPECT_NE(text.output.find("Status: Granted."), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("Policy OID: 1.3.6.1.4.1.99999.1.1"), std::string::npos);
    EXPECT_NE(text.output.find("Nonce:"), std::string::npos);
  }
}

TEST_F(HansaTrust, TokensUseEssCertIdV2AndHonourCertReq) {
  fs::path data = tmp_.path() / "data.txt";
  write_file(data, "x");
  fs::path query = tmp_.path() / "q.tsq";
  fs::path reply = tmp_.path() / "r.tsr";
  fs::path token = tmp_.path() / "token.der";
  // Without certReq the token has no certificates: verification needs them supplied.
  ASSERT_EQ(
      run("openssl ts -query -data '" + data.string() + "' -sha512 -out '" + query.string() + "'")
          .rc,
      0);
  time_stamp(query, reply);
  auto bare = run("openssl ts -verify -queryfile '" + query.string() + "' -in '" + reply.string() +
                  "' -CAfile '" + pki().env("ROOT_CA_CERT") + "'");
  EXPECT_EQ(bare.output.find("Verification: OK"), std::string::npos) << bare.output;
  auto supplied = run("openssl ts -verify -queryfile '" + query.string() + "' -in '" +
                      reply.string() + "' -CAfile '" + pki().env("ROOT_CA_CERT") +
                      "' -untrusted '" + pki().env("TSA_CHAIN") + "'");
  EXPECT_NE(supplied.output.find("Verification: OK"), std::string::npos) << supplied.output;
  ASSERT_EQ(
      run("openssl ts -reply -in '" + reply.string() + "' -token_out -out '" + token.string() + "'")
          .rc,
      0);
  auto cms = run("openssl cms -cmsout -print -inform DER -in '" + token.string() + "'");
  EXPECT_NE(cms.output.find("id-smime-aa-signingCertificateV2"), std::string::npos);
}

TEST_F(HansaTrust, TsaHostileInput) {
  auto http = client(tsa_url());
  auto garbage = http->post("/tsa", "garbage", "application/timestamp-query");
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->status, 200);
  EXPECT_EQ(ts_response_status(garbage->body), TS_STATUS_REJECTION);
  auto wrong_type = http->post("/tsa", "garbage", "application/octet-stream");
  ASSERT_TRUE(wrong_type.ok());
  EXPECT_EQ(wrong_type->status, 415);
  auto huge = client(tsa_url())->post("/tsa", std::string(50 * 1024 * 1024, 'x'),
                                      "application/timestamp-query");
  EXPECT_TRUE(!huge.ok() || huge->status == 413);
  // The TSA still serves well-formed queries (here a bare SHA-256 imprint, no certReq).
  fs::path query = tmp_.path() / "q.tsq";
  ASSERT_EQ(run("openssl ts -query -digest " + std::string(64, 'a') + " -sha256 -out '" +
                query.string() + "'")
                .rc,
            0);
  auto ok = http->post("/tsa", read_file(query), "application/timestamp-query");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ts_response_status(ok->body), TS_STATUS_GRANTED);
  // A policy the TSA does not serve is refused (RFC 3161 2.4.2 unacceptedPolicy).
  ASSERT_EQ(run("openssl ts -query -digest " + std::string(64, 'a') +
                " -sha256 -tspolicy 1.2.3.9 -out '" + query.string() + "'")
                .rc,
            0);
  auto other_policy = http->post("/tsa", read_file(query), "application/timestamp-query");
  ASSERT_TRUE(other_policy.ok());
  EXPECT_EQ(ts_response_status(other_policy->body), TS_STATUS_REJECTION);
  auto get = http->get("/tsa");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 405);
}

TEST_F(HansaTrust, ConfigurationFile) {
  fs::path file = tmp_.path() / "trust.toml";
  const fs::path& p = pki().dir();
  write_file(file,
             "host = \"127.0.0.1\"\n"
             "[ocsp]\nport = 0\nissuer_cert = \"" +
                 (p / "ca/intermediate.pem").string() + "\"\nresponder_cert = \"" +
                 (p / "ocsp/ocsp.pem").string() + "\"\nresponder_key = \"" +
                 (p / "ocsp/ocsp.key").string() + "\"\nindex_file = \"" +
                 (p / "ca/intermediate/index.txt").string() +
                 "\"\nstate_file = \"state.json\"\nnext_update = 600\n"
                 "[tsa]\nport = 0\ncert = \"" +
                 (p / "tsa/tsa.pem").string() + "\"\nkey = \"" + (p / "tsa/tsa.key").string() +
                 "\"\npolicy = \"1.2.3.4\"\n[http]\nworker_threads = 2\nbody_timeout = 5\n"
                 "min_body_rate = 0\n");
  auto config = load_trust_config(file);
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->ocsp.state_file, tmp_.path() / "state.json");
  EXPECT_EQ(config->ocsp.next_update, std::chrono::seconds(600));
  EXPECT_EQ(config->tsa.policy, "1.2.3.4");
  EXPECT_EQ(config->http.worker_threads, 2u);
  EXPECT_EQ(config->http.body_timeout, std::chrono::seconds(5));
  EXPECT_EQ(config->http.min_body_rate, 0u);
  start_with(*config);
  fs::path data = tmp_.path() / "data.txt";
  write_file(data, "x");
  fs::path query = tmp_.path() / "q.tsq";
  fs::path reply = tmp_.path() / "r.tsr";
  ASSERT_EQ(
      run("openssl ts -query -data '" + data.string() + "' -cert -out '" + query.string() + "'").rc,
      0);
  time_stamp(query, reply);
  auto text = run("openssl ts -reply -in '" + reply.string() + "' -text");
  EXPECT_NE(text.output.find("Policy OID: 1.2.3.4"), std::string::npos) << text.output;

  write_file(file, "[ocsp]\nport = 99999\nbogus = 1\n[http]\nmin_body_rate = -1\n");
  auto bad = load_trust_config(file);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, FaultCode::kInvalidConfiguration);
  EXPECT_NE(bad.error().message.find("ocsp.port"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("ocsp.bogus"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("tsa.cert"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("http.min_body_rate"), std::string::npos)
      << bad.error().message;
}

TEST_F(HansaTrust, BadKeyMaterialIsRefused) {
  TrustConfig config = dev_pki_config(pki().dir(), tmp_.path() / "state.json");
  config.ocsp.responder_key = pki().dir() / "tsa/tsa.key";
  auto mismatch = TrustServer::create(config);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, FaultCode::kInvalidKey);
  config = dev_pki_config(pki().dir(), tmp_.path() / "state.json");
  config.tsa.cert = pki().env("MEMBER_1_SIGN_CERT");  // not a time-stamping certificate
  config.tsa.key = pki().env("MEMBER_1_SIGN_KEY");
  auto wrong_usage = TrustServer::create(config);
  ASSERT_FALSE(wrong_usage.ok());
  EXPECT_EQ(wrong_usage.error().code, FaultCode::kInvalidCertificate);
}

TEST_F(HansaTrust, CaCanSignItsOwnResponsesButUndelegatedCertificatesCannot) {
  TrustConfig config = dev_pki_config(pki().dir(), tmp_.path() / "state.json");
  config.ocsp.responder_cert = pki().env("INTERMEDIATE_CA_CERT");
  config.ocsp.responder_key = pki().env("INTERMEDIATE_CA_KEY");
  start_with(config);
  auto r = openssl_ocsp("-cert '" + pki().env("MEMBER_1_SIGN_CERT") + "'");
  EXPECT_NE(r.output.find("Response verify OK"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(": good"), std::string::npos) << r.output;

  config.ocsp.responder_cert = pki().dir() / "tsa/tsa.pem";  // issued by the CA, not for OCSP
  config.ocsp.responder_key = pki().dir() / "tsa/tsa.key";
  auto refused = TrustServer::create(config);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, FaultCode::kInvalidCertificate);
}

TEST(HansaTrustBinary, HelpSaysDevelopmentOnly) {
  auto help = run(std::string(HANSA_TRUST_BINARY) + " --help");
  EXPECT_EQ(help.rc, 0);
  EXPECT_NE(help.output.find("DEVELOPMENT ONLY"), std::string::npos) << help.output;
}

}  // namespace
}  // namespace hansa::trust

namespace hansa::trust {
namespace {

// Byte-flipped and truncated copies of valid requests: every answer is a well-formed DER
// response (never a crash, never an empty answer).
TEST_F(HansaTrust, RespondersSurviveMutatedInput) {
  TrustConfig config = dev_pki_config(pki().dir(), tmp_.path() / "state.json");
  auto ocsp = OcspResponder::create(config.ocsp);
  auto tsa = TimeStampAuthority::create(config.tsa);
  ASSERT_TRUE(ocsp.ok() && tsa.ok());
  fs::path req = tmp_.path() / "req.der";
  fs::path query = tmp_.path() / "q.tsq";
  fs::path data = tmp_.path() / "data.txt";
  write_file(data, "x");
  ASSERT_EQ(run("openssl ocsp -issuer '" + pki().env("INTERMEDIATE_CA_CERT") + "' -cert '" +
                pki().env("MEMBER_1_SIGN_CERT") + "' -reqout '" + req.string() + "'")
                .rc,
            0);
  ASSERT_EQ(
      run("openssl ts -query -data '" + data.string() + "' -cert -out '" + query.string() + "'").rc,
      0);
  const std::string ocsp_seed = read_file(req);
  const std::string tsa_seed = read_file(query);
  std::uint32_t state = 12345;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  for (int i = 0; i < 100; ++i) {
    for (int which = 0; which < 2; ++which) {
      std::string input = which == 0 ? ocsp_seed : tsa_seed;
      int flips = 1 + static_cast<int>(next() % 4);
      for (int f = 0; f < flips; ++f) {
        input[next() % input.size()] = static_cast<char>(next());
      }
      if (next() % 4 == 0) {
        input.resize(next() % input.size());
      }
      if (which == 0) {
        std::string answer = (*ocsp)->respond(input);
        EXPECT_GE(ocsp_response_status(answer), 0) << "iteration " << i;
      } else {
        std::string answer = (*tsa)->respond(input);
        EXPECT_GE(ts_response_status(answer), 0) << "iteration " << i;
      }
    }
  }
}

}  // namespace
}  // namespace hansa::trust
