// The signer's registry and signing service over core/db (SQLite always, PostgreSQL when
// HANSA_TEST_PG_URI is set): CSRs signed by the development CA with the openssl CLI, imported
// back and bound; hostile input; key choice; OCSP status from an in-process hansa-trust responder.

#include <openssl/ssl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "certs/hansa-trust/ocsp_responder.h"
#include "core/crypto/csr.h"
#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/openssl_ptr.h"
#include "core/crypto/random.h"
#include "core/db/database.h"
#include "core/ocsp/response.h"
#include "node/signer/internal.h"
#include "node/signer/pkcs11_token.h"
#include "node/signer/signer.h"
#include "node/signer/software_token.h"
#include "tests/unit/node/signer/test_util.h"

namespace hansa::signer {
namespace {

namespace fs = std::filesystem;
using crypto::SignatureAlgorithm;

constexpr std::string_view kPin = "correct-horse-1";
constexpr const char* kPgEnv = "HANSA_TEST_PG_URI";

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> read_env(const fs::path& p) {
  std::map<std::string, std::string> env;
  std::istringstream in(read_text(p));
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) {
      continue;
    }
    env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

ids::MemberId member(std::string_view cls, std::string_view code) {
  return ids::MemberId::create("DEV", cls, code).value();
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
         crypto::hex_encode(crypto::random_bytes(3));
}

std::string with_search_path(const std::string& uri, const std::string& schema) {
  if (uri.find("://") != std::string::npos) {
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema;
  }
  return uri + " options='-csearch_path=" + schema + "'";
}

// Extension sections for `openssl x509 -req`, as the development PKI issues them.
constexpr std::string_view kExtensions = R"(
[ v3_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://127.0.0.1:8899/ocsp
[ v3_auth ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://127.0.0.1:8899/ocsp
[ v3_wrong_usage_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, keyEncipherment
extendedKeyUsage = serverAuth
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
)";

class SignerTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    pki_ = HANSA_TEST_PKI_DIR;
    if (!fs::exists(pki_ / "pki.env")) {
      GTEST_SKIP() << "development PKI missing at " << pki_
                   << " (run through ctest, or certs/make-dev-pki.sh " << pki_ << ")";
    }
    env_ = read_env(pki_ / "pki.env");
    std::string uri;
    if (GetParam() == db::Backend::kPostgres) {
      const char* base = std::getenv(kPgEnv);
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << kPgEnv << " is not set: PostgreSQL tests skipped";
      }
      schema_ = "signer_" + unique_suffix();
      db::DbConfig admin_cfg;
      admin_cfg.uri = base;
      admin_cfg.pool_size = 1;
      auto admin = db::Database::open(admin_cfg);
      ASSERT_TRUE(admin.ok()) << admin.error().to_string();
      admin_ = std::move(admin).value();
      admin_exec("CREATE SCHEMA " + schema_);
      uri = with_search_path(base, schema_);
    } else {
      uri = "sqlite://" + (tmp_.path() / "node.db").string();
    }
    db::DbConfig cfg;
    cfg.uri = uri;
    auto db = db::Database::open(cfg);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_ = std::move(db).value();

    std::ofstream(tmp_.path() / "ext.cnf") << kExtensions;
    intermediate_ = crypto::Certificate::from_pem(read_text(env_["INTERMEDIATE_CA_CERT"])).value();
    root_ = crypto::Certificate::from_pem(read_text(env_["ROOT_CA_CERT"])).value();
    signer_ = make_signer();
    ASSERT_NE(signer_, nullptr);

    SoftwareTokenOptions topts;
    topts.dir = tmp_.path() / "token";
    topts.kdf_iterations = 1000;
    auto token = SoftwareToken::initialize(topts, kPin, "soft");
    ASSERT_TRUE(token.ok()) << token.error().to_string();
    ASSERT_TRUE(signer_->add_token(std::move(token).value()).ok());
    ASSERT_TRUE(signer_->login("soft-0", kPin).ok());
  }

  void TearDown() override {
    signer_.reset();
    db_.reset();
    if (admin_ != nullptr && !schema_.empty()) {
      admin_exec("DROP SCHEMA " + schema_ + " CASCADE");
    }
  }

  void admin_exec(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->execute_script(sql).ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  void exec(const std::string& sql) {
    auto tx = db_->begin();
    ASSERT_TRUE(tx.ok());
    auto st = tx->execute_script(sql);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    ASSERT_TRUE(tx->commit().ok());
  }

  std::unique_ptr<Signer> make_signer(ocsp::OcspCache::Fetcher fetcher = {}) {
    MemberDirectory dir = [](const ids::MemberId& m) -> std::optional<std::string> {
      if (m == member("GOV", "1234")) {
        return "Member 1234";
      }
      if (m == member("COM", "4321")) {
        return "Member 4321";
      }
      return std::nullopt;
    };
    if (!fetcher) {
      fetcher = [this](const ocsp::TrackedCert& t) { return fetch_ocsp(t); };
    }
    auto s = Signer::create(*db_, SignerOptions{}, dir, fetcher);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    if (!s.ok()) {
      return nullptr;
    }
    (*s)->set_ca_certificates({*intermediate_, *root_});
    return std::move(s).value();
  }

  // Issues a certificate for `csr_pem` with the development intermediate CA.
  std::string issue(const std::string& csr_pem, const std::string& ext) {
    const fs::path csr = tmp_.path() / "req.csr";
    const fs::path out = tmp_.path() / "cert.pem";
    std::ofstream(csr) << csr_pem;
    // A positive serial with an even number of hex digits (as in an openssl ca index).
    std::string serial = "1" + crypto::hex_encode(crypto::random_bytes(8)).substr(1);
    const std::string cmd = "openssl x509 -req -in " + csr.string() + " -CA " +
                            env_["INTERMEDIATE_CA_CERT"] + " -CAkey " +
                            env_["INTERMEDIATE_CA_KEY"] + " -set_serial 0x" + serial +
                            " -days 30 -sha256 -extfile " + (tmp_.path() / "ext.cnf").string() +
                            " -extensions " + ext + " -out " + out.string() + " 2>/dev/null";
    EXPECT_TRUE(testutil::run(cmd)) << cmd;
    return read_text(out);
  }

  // A key with a CSR and its certificate imported.
  CertInfo enroll(KeyUsage usage, const ids::MemberId& m, const std::string& ext = "") {
    auto key = signer_->generate_key("soft-0", KeyAlgorithm::kRsa2048, "key");
    EXPECT_TRUE(key.ok()) << key.error().to_string();
    auto csr = signer_->generate_csr(CsrRequest{key->id, usage, m, "SS1"});
    EXPECT_TRUE(csr.ok()) << csr.error().to_string();
    auto cert =
        signer_->import_certificate(issue(csr->pem, !ext.empty()                  ? ext
                                                    : usage == KeyUsage::kSigning ? "v3_sign"
                                                                                  : "v3_auth"));
    EXPECT_TRUE(cert.ok()) << cert.error().to_string();
    return *cert;
  }

  // Answers OCSP requests with an in-process hansa-trust responder over `index_` lines.
  Result<ocsp::OcspResponse> fetch_ocsp(const ocsp::TrackedCert& t) {
    ++ocsp_fetches_;
    last_ocsp_url_ = t.responder_url;
    const fs::path index = tmp_.path() / "index.txt";
    std::ofstream(index) << index_;
    trust::OcspResponderConfig cfg;
    cfg.issuer_cert = env_["INTERMEDIATE_CA_CERT"];
    cfg.responder_cert = env_["OCSP_CERT"];
    cfg.responder_key = env_["OCSP_KEY"];
    cfg.index_file = index;
    cfg.state_file = tmp_.path() / "state.json";
    auto responder = trust::OcspResponder::create(cfg);
    if (!responder.ok()) {
      return std::move(responder).error();
    }
    HANSA_ASSIGN_OR_RETURN(auto req, ocsp::build_request(t.cert, t.issuer));
    return ocsp::OcspResponse::parse((*responder)->respond(req));
  }

  void add_to_index(const crypto::Certificate& cert, char status) {
    std::string serial = cert.serial_hex();
    for (auto& ch : serial) {
      ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    if (serial.size() % 2 != 0) {
      serial = "0" + serial;
    }
    index_ += std::string(1, status) + "\t301231235959Z\t" +
              (status == 'R' ? "250101000000Z,keyCompromise" : "") + "\t" + serial +
              "\tunknown\t/CN=x\n";
  }

  testutil::TempDir tmp_;
  fs::path pki_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<db::Database> admin_;
  std::string schema_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<Signer> signer_;
  std::optional<crypto::Certificate> intermediate_;
  std::optional<crypto::Certificate> root_;
  std::string index_;
  int ocsp_fetches_ = 0;
  std::string last_ocsp_url_;
};

TEST_P(SignerTest, SigningCsrIssuedImportedAndUsed) {
  const auto gov = member("GOV", "1234");
  auto key = signer_->generate_key("soft-0", KeyAlgorithm::kRsa2048, "gov signing");
  ASSERT_TRUE(key.ok()) << key.error().to_string();
  EXPECT_FALSE(key->usage.has_value());
  EXPECT_EQ(key->friendly_name, "gov signing");

  auto csr = signer_->generate_csr(CsrRequest{key->id, KeyUsage::kSigning, gov, ""});
  ASSERT_TRUE(csr.ok()) << csr.error().to_string();
  auto req = crypto::CertificateRequest::from_pem(csr->pem);
  ASSERT_TRUE(req.ok());
  EXPECT_TRUE(req->verify_signature().ok());
  EXPECT_TRUE(req->public_key() == key->public_key);
  const crypto::DistinguishedName want{
      {"O", "Member 1234"}, {"CN", "1234"}, {"serialNumber", "DEV/GOV/1234"}};
  EXPECT_EQ(req->subject_entries(), want);
  EXPECT_EQ(signer_->key(key->id)->usage, KeyUsage::kSigning);
  EXPECT_EQ(signer_->key(key->id)->member, gov);
  ASSERT_EQ(signer_->csrs().size(), 1u);

  const std::string pem = issue(csr->pem, "v3_sign");
  auto cert = signer_->import_certificate(pem);
  ASSERT_TRUE(cert.ok()) << cert.error().to_string();
  EXPECT_EQ(cert->key_id, key->id);
  EXPECT_EQ(cert->usage, KeyUsage::kSigning);
  EXPECT_EQ(cert->member, gov);
  EXPECT_EQ(cert->status, CertStatus::kRegistered);
  EXPECT_TRUE(cert->active);
  EXPECT_EQ(cert->id, cert->certificate.fingerprint_hex(crypto::DigestAlgorithm::kSha1));
  EXPECT_TRUE(signer_->csrs().empty());  // the CSR is done with

  // DER import of the same certificate is a duplicate.
  auto dup = signer_->import_certificate(cert->certificate.der());
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, FaultCode::kConflict);

  auto sig = signer_->sign(gov, SignatureAlgorithm::kRsaSha512, "message");
  ASSERT_TRUE(sig.ok()) << sig.error().to_string();
  EXPECT_TRUE(
      cert->certificate.public_key().verify(SignatureAlgorithm::kRsaSha512, "message", *sig).ok());
  const std::string digest = crypto::digest(crypto::DigestAlgorithm::kSha512, "root");
  auto dsig = signer_->sign_digest(gov, SignatureAlgorithm::kRsaSha512, digest);
  ASSERT_TRUE(dsig.ok());
  EXPECT_TRUE(
      cert->certificate.public_key().verify(SignatureAlgorithm::kRsaSha512, "root", *dsig).ok());

  auto info = signer_->signing_info(gov);
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  EXPECT_EQ(info->key_id, key->id);
  EXPECT_TRUE(info->certificate == cert->certificate);
  ASSERT_EQ(info->chain.size(), 2u);
  EXPECT_TRUE(info->chain[0] == *intermediate_);
  EXPECT_TRUE(info->chain[1] == *root_);
}

TEST_P(SignerTest, AuthCsrImportActivateAndTls) {
  const auto owner = member("GOV", "1234");
  auto key = signer_->generate_key("soft-0", KeyAlgorithm::kRsa2048, "auth");
  ASSERT_TRUE(key.ok());
  auto missing_server =
      signer_->generate_csr(CsrRequest{key->id, KeyUsage::kAuthentication, owner, ""});
  ASSERT_FALSE(missing_server.ok());
  EXPECT_EQ(missing_server.error().code, FaultCode::kInvalidRequest);

  auto csr = signer_->generate_csr(CsrRequest{key->id, KeyUsage::kAuthentication, owner, "SS1"});
  ASSERT_TRUE(csr.ok()) << csr.error().to_string();
  auto req = crypto::CertificateRequest::from_der(csr->der);
  ASSERT_TRUE(req.ok());
  EXPECT_TRUE(req->verify_signature().ok());
  const crypto::DistinguishedName want{
      {"O", "Member 1234"}, {"CN", "SS1"}, {"serialNumber", "DEV/GOV/1234/SS1"}};
  EXPECT_EQ(req->subject_entries(), want);
  EXPECT_EQ(signer_->key(key->id)->member, std::nullopt);

  // A signing CSR on an authentication key is refused.
  auto wrong = signer_->generate_csr(CsrRequest{key->id, KeyUsage::kSigning, owner, ""});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, FaultCode::kWrongCertUsage);

  auto cert = signer_->import_certificate(issue(csr->pem, "v3_auth"));
  ASSERT_TRUE(cert.ok()) << cert.error().to_string();
  EXPECT_EQ(cert->usage, KeyUsage::kAuthentication);
  EXPECT_EQ(cert->status, CertStatus::kSaved);
  EXPECT_FALSE(cert->active);

  auto none = signer_->auth_info();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, FaultCode::kCertNotFound);

  ASSERT_TRUE(signer_->set_cert_active(cert->id, true).ok());
  ASSERT_TRUE(signer_->set_cert_status(cert->id, CertStatus::kRegistrationInProgress).ok());
  ASSERT_TRUE(signer_->set_cert_status(cert->id, CertStatus::kRegistered).ok());
  EXPECT_EQ(signer_->certificate(cert->id)->status, CertStatus::kRegistered);
  auto auth = signer_->auth_info();
  ASSERT_TRUE(auth.ok()) << auth.error().to_string();
  EXPECT_EQ(auth->key_id, key->id);

  // The auth key goes into a TLS context without leaving the signer.
  crypto::SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  ASSERT_TRUE(ctx);
  auto st = use_auth_key(*signer_, ctx.get());
  ASSERT_TRUE(st.ok()) << st.error().to_string();

  // Management requests are signed with the auth key directly.
  auto sig = signer_->sign_with_key(key->id, SignatureAlgorithm::kRsaSha256, "request");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key->public_key.verify(SignatureAlgorithm::kRsaSha256, "request", *sig).ok());

  EXPECT_EQ(signer_->set_cert_status("00", CertStatus::kRegistered).error().code,
            FaultCode::kCertNotFound);
  EXPECT_EQ(signer_->set_cert_active("00", true).error().code, FaultCode::kCertNotFound);
}

TEST_P(SignerTest, CsrForUnknownMemberStoresNothing) {
  auto key = signer_->generate_key("soft-0", KeyAlgorithm::kEcP256, "k");
  ASSERT_TRUE(key.ok());
  auto csr =
      signer_->generate_csr(CsrRequest{key->id, KeyUsage::kSigning, member("GOV", "9999"), ""});
  ASSERT_FALSE(csr.ok());
  EXPECT_EQ(csr.error().code, FaultCode::kUnknownMember);
  EXPECT_NE(csr.error().message.find("GOV/9999"), std::string::npos);
  EXPECT_EQ(csr.error().render(Origin::kSigner), "Signer.UnknownMember");
  EXPECT_TRUE(signer_->csrs().empty());
  EXPECT_FALSE(signer_->key(key->id)->usage.has_value());

  auto nokey =
      signer_->generate_csr(CsrRequest{"abcdef", KeyUsage::kSigning, member("GOV", "1234"), ""});
  ASSERT_FALSE(nokey.ok());
  EXPECT_EQ(nokey.error().code, FaultCode::kKeyNotFound);
  EXPECT_EQ(signer_->delete_csr("abcdef").error().code, FaultCode::kCsrNotFound);
}

TEST_P(SignerTest, HostileCertificatesAreRefusedAndNothingIsStored) {
  // A certificate matching no key of this node (the dev PKI's member certificate).
  auto foreign = signer_->import_certificate(read_text(env_["MEMBER_1_SIGN_CERT"]));
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, FaultCode::kKeyNotFound);
  EXPECT_EQ(foreign.error().render(Origin::kSigner), "Signer.KeyNotFound");

  // Garbage.
  for (std::string_view junk :
       {std::string_view("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"),
        std::string_view("\x30\x82\x01\x00garbage", 12), std::string_view(""),
        std::string_view("hello")}) {
    auto r = signer_->import_certificate(junk);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, FaultCode::kIncorrectCertificate) << r.error().to_string();
  }
  // Oversized input is refused before parsing.
  auto huge = signer_->import_certificate(std::string(5 << 20, 'A'));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, FaultCode::kLimitExceeded);
  // A CA certificate.
  auto ca = signer_->import_certificate(intermediate_->pem());
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.error().code, FaultCode::kIncorrectCertificate);

  // A signing key given a certificate without nonRepudiation.
  auto key = signer_->generate_key("soft-0", KeyAlgorithm::kRsa2048, "k");
  ASSERT_TRUE(key.ok());
  auto csr =
      signer_->generate_csr(CsrRequest{key->id, KeyUsage::kSigning, member("GOV", "1234"), ""});
  ASSERT_TRUE(csr.ok());
  auto wrong = signer_->import_certificate(issue(csr->pem, "v3_wrong_usage_sign"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, FaultCode::kWrongCertUsage);
  EXPECT_EQ(wrong.error().render(Origin::kSigner), "Signer.WrongCertUsage");
  // ... or an authentication certificate.
  auto auth_for_sign = signer_->import_certificate(issue(csr->pem, "v3_auth"));
  ASSERT_FALSE(auth_for_sign.ok());
  EXPECT_EQ(auth_for_sign.error().code, FaultCode::kWrongCertUsage);

  // The untrusted PKI's certificate: its key is not on this node either.
  auto untrusted = signer_->import_certificate(read_text(env_["UNTRUSTED_SIGN_CERT"]));
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.error().code, FaultCode::kKeyNotFound);

  EXPECT_TRUE(signer_->certificates().empty());
  EXPECT_EQ(signer_->csrs().size(), 1u);  // the CSR is still there for the right certificate
  EXPECT_EQ(signer_->key(key->id)->usage, KeyUsage::kSigning);
}

TEST_P(SignerTest, CertificateFromUnapprovedCaIsRefused) {
  auto key = signer_->generate_key("soft-0", KeyAlgorithm::kRsa2048, "k");
  ASSERT_TRUE(key.ok());
  auto csr =
      signer_->generate_csr(CsrRequest{key->id, KeyUsage::kSigning, member("GOV", "1234"), ""});
  ASSERT_TRUE(csr.ok());
  const fs::path csr_file = tmp_.path() / "foreign.csr";
  std::ofstream(csr_file) << csr->pem;
  const fs::path out = tmp_.path() / "foreign.pem";
  // Self-made CA.
  ASSERT_TRUE(testutil::run("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=Foreign -keyout " +
                            (tmp_.path() / "fca.key").string() + " -out " +
                            (tmp_.path() / "fca.pem").string() + " -days 3 2>/dev/null"));
  ASSERT_TRUE(testutil::run(
      "openssl x509 -req -in " + csr_file.string() + " -CA " + (tmp_.path() / "fca.pem").string() +
      " -CAkey " + (tmp_.path() / "fca.key").string() + " -set_serial 7 -days 3 -extfile " +
      (tmp_.path() / "ext.cnf").string() + " -extensions v3_sign -out " + out.string() +
      " 2>/dev/null"));
  auto r = signer_->import_certificate(read_text(out));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kCertValidation);
  EXPECT_TRUE(signer_->certificates().empty());
}

TEST_P(SignerTest, SigningPicksTheMembersKey) {
  const auto gov = member("GOV", "1234");
  const auto com = member("COM", "4321");
  auto gov_cert = enroll(KeyUsage::kSigning, gov);
  auto com_cert = enroll(KeyUsage::kSigning, com);
  auto auth_cert = enroll(KeyUsage::kAuthentication, gov);
  ASSERT_EQ(signer_->certificates().size(), 3u);

  for (const auto& [m, c] : {std::pair{gov, gov_cert}, std::pair{com, com_cert}}) {
    auto sig = signer_->sign(m, SignatureAlgorithm::kRsaSha256, "data");
    ASSERT_TRUE(sig.ok()) << sig.error().to_string();
    EXPECT_TRUE(
        c.certificate.public_key().verify(SignatureAlgorithm::kRsaSha256, "data", *sig).ok());
  }
  // A member without a certificate.
  auto nobody = signer_->sign(member("GOV", "9999"), SignatureAlgorithm::kRsaSha256, "d");
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().code, FaultCode::kCertNotFound);

  // A deactivated certificate is not used.
  ASSERT_TRUE(signer_->set_cert_active(com_cert.id, false).ok());
  EXPECT_EQ(signer_->sign(com, SignatureAlgorithm::kRsaSha256, "d").error().code,
            FaultCode::kCertNotFound);
  ASSERT_TRUE(signer_->set_cert_active(com_cert.id, true).ok());

  // A logged-out token makes the key unavailable.
  ASSERT_TRUE(signer_->logout("soft-0").ok());
  auto out = signer_->sign(gov, SignatureAlgorithm::kRsaSha256, "d");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, FaultCode::kKeyNotAvailable);
  EXPECT_EQ(signer_->login("soft-0", "wrong-pin-123").error().code, FaultCode::kPinIncorrect);
  EXPECT_EQ(signer_->login("nope", kPin).error().code, FaultCode::kTokenNotFound);
  ASSERT_TRUE(signer_->login("soft-0", kPin).ok());

  // Deleting the certificate, then the key.
  ASSERT_TRUE(signer_->delete_certificate(gov_cert.id).ok());
  EXPECT_EQ(signer_->delete_certificate(gov_cert.id).error().code, FaultCode::kCertNotFound);
  EXPECT_EQ(signer_->sign(gov, SignatureAlgorithm::kRsaSha256, "d").error().code,
            FaultCode::kCertNotFound);
  ASSERT_TRUE(signer_->delete_key(com_cert.key_id).ok());
  EXPECT_EQ(signer_->certificates().size(), 1u);  // the auth certificate remains
  EXPECT_EQ(signer_->key(com_cert.key_id).error().code, FaultCode::kKeyNotFound);
  EXPECT_EQ(signer_->delete_key(com_cert.key_id).error().code, FaultCode::kKeyNotFound);
}

TEST_P(SignerTest, KeyGenerationFailuresLeaveNothingBehind) {
  ASSERT_TRUE(signer_->logout("soft-0").ok());
  auto out = signer_->generate_key("soft-0", KeyAlgorithm::kRsa2048, "k");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, FaultCode::kTokenNotActive);
  EXPECT_EQ(signer_->generate_key("nope", KeyAlgorithm::kRsa2048, "k").error().code,
            FaultCode::kTokenNotFound);
  ASSERT_TRUE(signer_->login("soft-0", kPin).ok());

  // The metadata cannot be stored: the new key is removed from the token again.
  exec("ALTER TABLE signer_keys RENAME TO signer_keys_away");
  auto failed = signer_->generate_key("soft-0", KeyAlgorithm::kEcP256, "k");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, FaultCode::kDatabaseError);
  exec("ALTER TABLE signer_keys_away RENAME TO signer_keys");
  EXPECT_TRUE(signer_->keys().empty());
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp_.path() / "token" / "keys")) {
    ++files;
  }
  EXPECT_EQ(files, 0u);
}

TEST_P(SignerTest, SecondInstanceReloadsFromTheDatabase) {
  auto other = make_signer();
  ASSERT_NE(other, nullptr);
  const auto gov = member("GOV", "1234");
  auto cert = enroll(KeyUsage::kSigning, gov);
  EXPECT_TRUE(other->certificates().empty());
  auto changed = other->reload();
  ASSERT_TRUE(changed.ok()) << changed.error().to_string();
  EXPECT_TRUE(*changed);
  ASSERT_EQ(other->certificates().size(), 1u);
  EXPECT_EQ(other->certificates()[0].id, cert.id);
  EXPECT_FALSE(*other->reload());
  // The other instance has no token: the key is not available there.
  EXPECT_EQ(other->sign(gov, SignatureAlgorithm::kRsaSha256, "x").error().code,
            FaultCode::kKeyNotAvailable);

  // A restarted signer reads everything back.
  signer_.reset();
  signer_ = make_signer();
  ASSERT_EQ(signer_->certificates().size(), 1u);
  EXPECT_EQ(signer_->keys().size(), 1u);
  EXPECT_EQ(signer_->keys()[0].member, gov);
}

TEST_P(SignerTest, OcspStatusFromResponder) {
  const auto gov = member("GOV", "1234");
  auto cert = enroll(KeyUsage::kSigning, gov);
  auto before = signer_->ocsp_status(cert.id);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->response_der.has_value());
  EXPECT_TRUE(before->last_error.has_value());

  add_to_index(cert.certificate, 'V');
  EXPECT_EQ(signer_->refresh_ocsp(), 1u);
  EXPECT_EQ(last_ocsp_url_, "http://127.0.0.1:8899/ocsp");  // from the certificate's AIA
  auto good = signer_->ocsp_status(cert.id);
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(good->response_der.has_value()) << good->last_error->to_string();
  EXPECT_EQ(good->status, ocsp::CertStatus::kGood);
  EXPECT_FALSE(good->last_error.has_value());
  auto parsed = ocsp::OcspResponse::parse(*good->response_der);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(ocsp::verify(*parsed, cert.certificate.der(), intermediate_->der(),
                           std::chrono::system_clock::now())
                  .ok());

  // The cached response is attached to signatures without another fetch.
  const int fetches = ocsp_fetches_;
  auto info = signer_->signing_info(gov);
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->ocsp_der.has_value());
  EXPECT_EQ(*info->ocsp_der, *good->response_der);
  EXPECT_EQ(ocsp_fetches_, fetches);

  EXPECT_EQ(signer_->ocsp_status("00").error().code, FaultCode::kCertNotFound);
}

// Peers check the auth certificate's OCSP response (PR-MESSTRANSP 3.2): auth_info() carries it.
TEST_P(SignerTest, AuthInfoCarriesTheOcspResponse) {
  auto cert = enroll(KeyUsage::kAuthentication, member("GOV", "1234"));
  ASSERT_TRUE(signer_->set_cert_active(cert.id, true).ok());
  add_to_index(cert.certificate, 'V');
  EXPECT_EQ(signer_->refresh_ocsp(), 1u);
  auto good = signer_->ocsp_status(cert.id);
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(good->response_der.has_value());
  const int fetches = ocsp_fetches_;
  auto with = signer_->auth_info();
  ASSERT_TRUE(with.ok()) << with.error().to_string();
  ASSERT_TRUE(with->ocsp_der.has_value());
  EXPECT_EQ(*with->ocsp_der, *good->response_der);
  EXPECT_EQ(ocsp_fetches_, fetches);
}

TEST_P(SignerTest, OcspRevokedAndUnknownIssuer) {
  const auto gov = member("GOV", "1234");
  auto cert = enroll(KeyUsage::kSigning, gov);
  add_to_index(cert.certificate, 'R');
  signer_->refresh_ocsp();
  auto st = signer_->ocsp_status(cert.id);
  ASSERT_TRUE(st.ok());
  // A revoked answer is still a valid response: peers judge the status.
  ASSERT_TRUE(st->response_der.has_value());
  EXPECT_EQ(st->status, ocsp::CertStatus::kRevoked);

  // Without the CA certificates the issuer is unknown: no OCSP, a clear reason.
  signer_->set_ca_certificates({});
  auto none = signer_->ocsp_status(cert.id);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->response_der.has_value());
  ASSERT_TRUE(none->last_error.has_value());
  EXPECT_NE(none->last_error->message.find("issuer"), std::string::npos);
}

TEST_P(SignerTest, SoftHsmKeysEnrollSignAndServeTls) {
  auto hsm = testutil::SoftHsm::create(tmp_.path(), "hansa-node", "1234567890");
  if (!hsm) {
    GTEST_SKIP() << testutil::SoftHsm::skip_reason();
  }
  auto token = Pkcs11Token::open(hsm->options());
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  ASSERT_TRUE(signer_->add_token(std::move(token).value()).ok());
  EXPECT_EQ(signer_->login("pkcs11:hansa-node", "0000000000").error().code,
            FaultCode::kPinIncorrect);
  ASSERT_TRUE(signer_->login("pkcs11:hansa-node", "1234567890").ok());
  EXPECT_EQ(signer_->tokens().size(), 2u);

  const auto gov = member("GOV", "1234");
  auto sign_key = signer_->generate_key("pkcs11:hansa-node", KeyAlgorithm::kRsa2048, "hsm sign");
  ASSERT_TRUE(sign_key.ok()) << sign_key.error().to_string();
  auto csr = signer_->generate_csr(CsrRequest{sign_key->id, KeyUsage::kSigning, gov, ""});
  ASSERT_TRUE(csr.ok()) << csr.error().to_string();
  EXPECT_TRUE(crypto::CertificateRequest::from_der(csr->der)->verify_signature().ok());
  auto cert = signer_->import_certificate(issue(csr->pem, "v3_sign"));
  ASSERT_TRUE(cert.ok()) << cert.error().to_string();
  auto sig = signer_->sign(gov, SignatureAlgorithm::kRsaSha512, "through the HSM");
  ASSERT_TRUE(sig.ok()) << sig.error().to_string();
  EXPECT_TRUE(cert->certificate.public_key()
                  .verify(SignatureAlgorithm::kRsaSha512, "through the HSM", *sig)
                  .ok());

  auto auth_key = signer_->generate_key("pkcs11:hansa-node", KeyAlgorithm::kRsa2048, "hsm auth");
  ASSERT_TRUE(auth_key.ok());
  auto auth_csr =
      signer_->generate_csr(CsrRequest{auth_key->id, KeyUsage::kAuthentication, gov, "SS1"});
  ASSERT_TRUE(auth_csr.ok()) << auth_csr.error().to_string();
  auto auth = signer_->import_certificate(issue(auth_csr->pem, "v3_auth"));
  ASSERT_TRUE(auth.ok()) << auth.error().to_string();
  ASSERT_TRUE(signer_->set_cert_active(auth->id, true).ok());
  {
    crypto::SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
    auto st = use_auth_key(*signer_, ctx.get());
    ASSERT_TRUE(st.ok()) << st.error().to_string();
  }
  // Logged out: the HSM keys are unavailable.
  ASSERT_TRUE(signer_->logout("pkcs11:hansa-node").ok());
  EXPECT_EQ(signer_->sign(gov, SignatureAlgorithm::kRsaSha512, "x").error().code,
            FaultCode::kKeyNotAvailable);
  signer_.reset();  // tokens go with the signer
}

TEST_P(SignerTest, RegisteredExistingKeyTakesTheDevPkiCertificate) {
  // The development PKI's member key, imported into a second software token.
  SoftwareTokenOptions topts;
  topts.id = "soft-1";
  topts.dir = tmp_.path() / "token2";
  topts.kdf_iterations = 1000;
  auto token = SoftwareToken::initialize(topts, kPin, "dev keys");
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE((*token)->login(kPin).ok());
  auto priv = crypto::PrivateKey::from_pem(read_text(env_["MEMBER_1_SIGN_KEY"]));
  ASSERT_TRUE(priv.ok());
  auto tk = (*token)->import_key(*priv, "member 1");
  ASSERT_TRUE(tk.ok()) << tk.error().to_string();
  ASSERT_TRUE(signer_->add_token(std::move(token).value()).ok());

  EXPECT_EQ(signer_->register_key("soft-1", "abcd", "x").error().code, FaultCode::kKeyNotFound);
  auto key = signer_->register_key("soft-1", tk->id, "member 1");
  ASSERT_TRUE(key.ok()) << key.error().to_string();
  EXPECT_EQ(signer_->register_key("soft-1", tk->id, "again").error().code, FaultCode::kConflict);

  auto cert = signer_->import_certificate(read_text(env_["MEMBER_1_SIGN_CERT"]));
  ASSERT_TRUE(cert.ok()) << cert.error().to_string();
  EXPECT_EQ(cert->member, member("GOV", "1234"));
  EXPECT_EQ(cert->key_id, tk->id);
  auto sig = signer_->sign(member("GOV", "1234"), SignatureAlgorithm::kRsaSha256, "dev");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(
      cert->certificate.public_key().verify(SignatureAlgorithm::kRsaSha256, "dev", *sig).ok());
}

TEST_P(SignerTest, ConcurrentSigningWhileTheRegistryChanges) {
  const auto gov = member("GOV", "1234");
  auto cert = enroll(KeyUsage::kSigning, gov);
  std::atomic<bool> stop{false};
  std::atomic<int> good{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> signers;
  for (int i = 0; i < 3; ++i) {
    signers.emplace_back([&] {
      while (!stop) {
        auto sig = signer_->sign(gov, SignatureAlgorithm::kRsaSha256, "concurrent");
        if (sig.ok() && cert.certificate.public_key()
                            .verify(SignatureAlgorithm::kRsaSha256, "concurrent", *sig)
                            .ok()) {
          ++good;
        } else if (!sig.ok() && sig.error().code == FaultCode::kCertNotFound) {
          ++bad;  // the certificate was inactive at that moment
        } else {
          ADD_FAILURE() << (sig.ok() ? "bad signature" : sig.error().to_string());
          return;
        }
      }
    });
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(signer_->set_cert_active(cert.id, i % 2 == 1).ok());
    auto key = signer_->generate_key("soft-0", KeyAlgorithm::kEcP256, "churn");
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(signer_->delete_key(key->id).ok());
  }
  ASSERT_TRUE(signer_->set_cert_active(cert.id, true).ok());
  stop = true;
  for (auto& t : signers) {
    t.join();
  }
  EXPECT_GT(good.load(), 0);
  EXPECT_EQ(signer_->keys().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SignerTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(db::backend_name(info.param));
                         });

}  // namespace
}  // namespace hansa::signer
