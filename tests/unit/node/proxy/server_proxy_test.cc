// Server proxy tests: the PR-MESSTRANSP 3.3 checks (each fault), provider calls (success, hang,
// garbage, early close, fault passthrough, inconsistent response), response signing and logging,
// replay refusal, metaservices, and the mTLS listener with the dev PKI's node certificates.

#include "node/proxy/server_proxy.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "core/crypto/digest.h"
#include "core/http/client.h"
#include "core/signature/signature.h"
#include "node/message/metaservices.h"
#include "node/message/rest.h"
#include "node/message/signing.h"
#include "node/message/soap.h"
#include "node/message/transport.h"
#include "node/proxy/metaservices.h"
#include "node/proxy/peer_verifier.h"
#include "node/proxy/provider_client.h"
#include "tests/unit/core/http/test_support.h"
#include "tests/unit/core/signature/signature_fixtures.h"

namespace hansa::proxy {
namespace {

using namespace std::chrono_literals;
using signature::testing::DevPki;
using signature::testing::read_file;

class MemoryLog final : public messagelog::MessageLogWriter {
 public:
  Status append(messagelog::LogRecord record) override {
    if (fail) {
      return Error(FaultCode::kLoggingFailed, "disk full");
    }
    std::lock_guard lock(mu);
    records.push_back(std::move(record));
    return ok_status();
  }
  Status check_usable() const override {
    if (unusable) {
      return Error(FaultCode::kTimestampingFailed, "time-stamping failed for too long");
    }
    return ok_status();
  }
  std::vector<messagelog::LogRecord> snapshot() {
    std::lock_guard lock(mu);
    return records;
  }
  std::atomic<bool> fail{false};
  std::atomic<bool> unusable{false};
  std::mutex mu;
  std::vector<messagelog::LogRecord> records;
};

class Calls final : public opmonitor::CallObserver {
 public:
  void on_call(const opmonitor::CallRecord& record) noexcept override {
    std::lock_guard lock(mu);
    records.push_back(record);
  }
  std::vector<opmonitor::CallRecord> snapshot() {
    std::lock_guard lock(mu);
    return records;
  }
  std::mutex mu;
  std::vector<opmonitor::CallRecord> records;
};

// Member 2 (the provider's owner) signs responses.
class Member2Keys final : public SigningKeys {
 public:
  Member2Keys(crypto::Certificate cert, crypto::PrivateKey key, std::string ocsp)
      : cert_(std::move(cert)), key_(std::move(key)), ocsp_(std::move(ocsp)) {}
  Result<SigningMaterial> material(const ids::MemberId&) override {
    return SigningMaterial{cert_, ocsp_};
  }
  Result<std::string> sign(const ids::MemberId&, crypto::SignatureAlgorithm alg,
                           std::string_view data) override {
    return key_.sign(alg, data);
  }

 private:
  crypto::Certificate cert_;
  crypto::PrivateKey key_;
  std::string ocsp_;
};

std::string first_cert_pem(const std::string& chain) {
  auto end = chain.find("-----END CERTIFICATE-----");
  return chain.substr(0, end + 25) + "\n";
}

// DER certificates of a PEM chain, leaf first.
http::CertChain der_chain(const std::string& pem) {
  http::CertChain out;
  auto certs = crypto::Certificate::bundle_from_pem(pem).value();
  for (const auto& cert : certs) {
    out.push_back(cert.der());
  }
  return out;
}

// A TCP server that reads a request and then answers `reply` (possibly nothing) and closes.
class RawServer final {
 public:
  explicit RawServer(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~RawServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void run() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        return;
      }
      char buf[65536];
      std::string got;
      while (got.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) {
          break;
        }
        got.append(buf, static_cast<std::size_t>(n));
      }
      if (!reply_.empty()) {
        (void)!::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    }
  }
  std::string reply_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class ServerProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pki_.load()) {
      GTEST_SKIP() << "dev PKI not generated";
    }
    auto& env = pki_.env();
    member1_ = ids::MemberId::parse("MEMBER:" + env["MEMBER_1_ID"]).value();
    member2_ = ids::MemberId::parse("MEMBER:" + env["MEMBER_2_ID"]).value();
    node1_ = ids::SecurityServerId::parse("SERVER:" + env["NODE_1_ID"]).value();
    node2_ = ids::SecurityServerId::parse("SERVER:" + env["NODE_2_ID"]).value();
    client_ = ids::ClientId::parse("SUBSYSTEM:" + env["MEMBER_1_ID"] + "/CLIENT").value();
    other_client_ = ids::ClientId::parse("SUBSYSTEM:" + env["MEMBER_1_ID"] + "/OTHER").value();
    provider_ = ids::ClientId::parse("SUBSYSTEM:" + env["MEMBER_2_ID"] + "/PROVIDER").value();
    node1_chain_ = read_file(env["NODE_1_AUTH_CHAIN"]);
    node1_key_ = read_file(env["NODE_1_AUTH_KEY"]);
    node2_chain_ = read_file(env["NODE_2_AUTH_CHAIN"]);
    node2_key_ = read_file(env["NODE_2_AUTH_KEY"]);
    m1_ocsp_ = pki_.ocsp();
    node1_ocsp_ = pki_.ocsp(first_cert_pem(node1_chain_));
    auto m2_cert = crypto::Certificate::from_pem(read_file(env["MEMBER_2_SIGN_CERT"])).value();
    auto m2_key = crypto::PrivateKey::from_pem(read_file(env["MEMBER_2_SIGN_KEY"])).value();
    keys_ = std::make_unique<Member2Keys>(m2_cert, m2_key, pki_.ocsp(m2_cert.pem()));
    signer_ = BatchSigner::create(*keys_).value();
    start_provider();
    make_conf();
    make_serverconf();
    verifier_ = std::make_unique<PeerVerifier>([this] { return conf(); });
    ProviderClientOptions pco;
    pco.connect_timeout = 1s;
    pco.max_response_bytes = 64 * 1024;
    provider_client_ = ProviderClient::create(pco).value();
    metaservices_ = std::make_unique<Metaservices>(
        [this] { return sconf_; }, [this] { return conf(); },
        [](std::int64_t id) -> Result<std::string> {
          if (id == 1) {
            return std::string(kWsdl);
          }
          if (id == 2) {
            return std::string("{\"openapi\":\"3.0.0\",\"paths\":{}}");
          }
          return Error(FaultCode::kNotFound, "no document");
        });
    ServerProxyOptions options;
    http::ServerTlsConfig tls;
    tls.cert_chain_pem = node2_chain_;
    tls.key_pem = node2_key_;
    options.server.tls = tls;
    options.server.worker_threads = 4;
    ServerProxyDeps deps;
    deps.globalconf = [this] { return conf(); };
    deps.serverconf = [this] { return sconf_; };
    deps.peer_verifier = verifier_.get();
    deps.signer = signer_.get();
    deps.message_log = &log_;
    deps.provider = provider_client_.get();
    deps.metaservices = metaservices_.get();
    deps.observers = {&calls_};
    auto proxy = ServerProxy::create(options, deps);
    ASSERT_TRUE(proxy.ok()) << proxy.error().to_string();
    proxy_ = std::move(proxy).value();
  }

  void TearDown() override {
    if (proxy_) {
      proxy_->stop();
    }
    if (provider_is_) {
      provider_is_->stop();
    }
  }

  static constexpr const char* kWsdl =
      "<definitions xmlns=\"http://schemas.xmlsoap.org/wsdl/\" "
      "xmlns:soap=\"http://schemas.xmlsoap.org/wsdl/soap/\"><service name=\"s\"><port "
      "name=\"p\"><soap:address location=\"http://internal.example/secret\"/></port></service>"
      "</definitions>";

  void make_conf(std::chrono::system_clock::time_point expires = std::chrono::system_clock::now() +
                                                                 24h) {
    globalconf::SharedParameters shared = pki_.conf()->shared_parameters();
    globalconf::Member m1{member1_, "", "Member One", {}};
    m1.subsystems.push_back({client_.as_subsystem().value(), std::string("Client system")});
    m1.subsystems.push_back({other_client_.as_subsystem().value(), std::nullopt});
    globalconf::Member m2{member2_, "", "Member Two", {}};
    m2.subsystems.push_back({provider_.as_subsystem().value(), std::nullopt});
    shared.members.push_back(m1);
    shared.members.push_back(m2);
    auto hash_of = [](const std::string& chain) {
      return crypto::digest(crypto::DigestAlgorithm::kSha256,
                            crypto::Certificate::from_pem(first_cert_pem(chain))->der());
    };
    shared.security_servers.push_back(
        globalconf::SecurityServer{.id = node1_,
                                   .address = "127.0.0.1",
                                   .auth_cert_hashes = {hash_of(node1_chain_)},
                                   .clients = {client_},
                                   .maintenance_mode = std::nullopt});
    shared.security_servers.push_back(
        globalconf::SecurityServer{.id = node2_,
                                   .address = "127.0.0.1",
                                   .auth_cert_hashes = {hash_of(node2_chain_)},
                                   .clients = {provider_},
                                   .maintenance_mode = std::nullopt});
    auto snap = globalconf::GlobalConfSnapshot::create(std::nullopt, {shared}, expires);
    ASSERT_TRUE(snap.ok()) << snap.error().to_string();
    std::lock_guard lock(conf_mu_);
    conf_ = std::move(snap).value();
  }

  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf() {
    std::lock_guard lock(conf_mu_);
    return conf_;
  }

  void add_soap_service(serverconf::SnapshotData& data, const std::string& code,
                        const std::string& url, bool grant, std::int64_t description = 1,
                        std::chrono::seconds timeout = 5s) {
    serverconf::ServiceEntry s{.id = ids::ServiceId::create(provider_, code, "v1").value(),
                               .description_id = description,
                               .description_type = serverconf::DescriptionType::kWsdl,
                               .type = serverconf::ServiceType::kSoap,
                               .title = "",
                               .url = url,
                               .timeout = timeout,
                               .ssl_verify = true,
                               .enabled = description != 3,
                               .disabled_notice = description == 3 ? "maintenance" : ""};
    data.services.push_back(s);
    serverconf::EndpointEntry e{
        static_cast<std::int64_t>(data.endpoints.size() + 1),
        provider_,
        code,
        serverconf::PathPattern::create(serverconf::kServiceEndpoint).value(),
        true,
        {}};
    if (grant) {
      e.subjects.push_back(client_);
    }
    data.endpoints.push_back(e);
  }

  void make_serverconf() {
    serverconf::SnapshotData data;
    data.server = node2_;
    data.clients.push_back(
        serverconf::ClientEntry{.id = provider_,
                                .state = serverconf::RegistrationState::kRegistered,
                                .is_connection = serverconf::IsConnectionType::kHttp,
                                .is_certs = {},
                                .is_cert_sha256_hex = {}});
    for (std::int64_t id : {1, 2, 3}) {
      data.descriptions.push_back(
          serverconf::DescriptionEntry{.id = id,
                                       .client = provider_,
                                       .type = id == 2 ? serverconf::DescriptionType::kOpenApi
                                                       : serverconf::DescriptionType::kWsdl,
                                       .source = "",
                                       .provider_url = std::nullopt,
                                       .enabled = id != 3,
                                       .disabled_notice = ""});
    }
    const std::string base = "http://127.0.0.1:" + std::to_string(provider_is_->port());
    add_soap_service(data, "getRandom", base + "/soap", true);
    add_soap_service(data, "denied", base + "/soap", false);
    add_soap_service(data, "disabled", base + "/soap", true, 3);
    add_soap_service(data, "hang", base + "/hang", true, 1, 1s);
    add_soap_service(data, "faulty", base + "/soapfault", true);
    add_soap_service(data, "inconsistent", base + "/soapbadheader", true);
    add_soap_service(data, "garbage", "http://127.0.0.1:" + std::to_string(garbage_.port()) + "/",
                     true);
    add_soap_service(data, "earlyClose",
                     "http://127.0.0.1:" + std::to_string(early_close_.port()) + "/", true);
    add_soap_service(data, "nowhere", "http://127.0.0.1:1/", true);
    serverconf::ServiceEntry pets{.id = ids::ServiceId::create(provider_, "pets").value(),
                                  .description_id = 2,
                                  .description_type = serverconf::DescriptionType::kOpenApi,
                                  .type = serverconf::ServiceType::kRest,
                                  .title = "",
                                  .url = base + "/api",
                                  .timeout = 5s,
                                  .ssl_verify = true,
                                  .enabled = true,
                                  .disabled_notice = ""};
    data.services.push_back(pets);
    data.endpoints.push_back({100,
                              provider_,
                              "pets",
                              serverconf::PathPattern::create(serverconf::kServiceEndpoint).value(),
                              true,
                              {}});
    data.endpoints.push_back(
        {101,
         provider_,
         "pets",
         serverconf::PathPattern::create(serverconf::EndpointKey{"GET", "/pets/**"}).value(),
         false,
         {client_}});
    sconf_ = std::make_shared<const serverconf::ServerConfSnapshot>(std::move(data));
  }

  // The provider information system.
  void start_provider() {
    http::ServerOptions so;
    so.worker_threads = 4;
    provider_is_ = http::Server::create(so).value();
    provider_is_->route("POST", "/soap", [this](const http::Request& req, http::Response& res) {
      ++provider_calls_;
      {
        std::lock_guard lock(provider_mu_);
        provider_soap_action_ = std::string(req.header("SOAPAction").value_or(""));
      }
      std::string body(req.body());
      auto start = body.find("<SOAP-ENV:Body>");
      auto end = body.find("</SOAP-ENV:Body>");
      ASSERT_NE(start, std::string::npos);
      body.replace(start, end - start,
                   "<SOAP-ENV:Body><p:getRandomResponse xmlns:p=\"urn:provider\"><p:n>4</p:n>"
                   "</p:getRandomResponse>");
      res.set_body(body, "text/xml; charset=UTF-8");
    });
    provider_is_->route("POST", "/soapbadheader",
                        [this](const http::Request& req, http::Response& res) {
                          ++provider_calls_;
                          std::string body(req.body());
                          auto pos = body.find("<xroad:id>");
                          body.replace(pos + 10, 3, "XXX");
                          res.set_body(body, "text/xml; charset=UTF-8");
                        });
    provider_is_->route("POST", "/soapfault", [this](const http::Request&, http::Response& res) {
      ++provider_calls_;
      res.status = 500;
      res.set_body(message::build_fault(message::SoapFault{
                       "Server.Provider.Broken", "provider broke", std::nullopt, std::nullopt}),
                   "text/xml; charset=UTF-8");
    });
    provider_is_->route("POST", "/hang", [this](const http::Request&, http::Response& res) {
      ++provider_calls_;
      std::this_thread::sleep_for(2500ms);
      res.set_body("late", "text/plain");
    });
    http::Handler rest = [this](const http::Request& req, http::Response& res) {
      ++provider_calls_;
      std::string echo = std::string(req.method()) + " " + std::string(req.path()) +
                         " q=" + req.query("q").value_or("") +
                         " client=" + std::string(req.header("X-Road-Client").value_or("")) +
                         " body=" + std::string(req.body());
      res.set_header("X-Provider", "yes");
      res.status = 201;
      res.set_body(echo, "text/plain");
    };
    provider_is_->route("GET", "/api/*", rest);
    provider_is_->route("POST", "/api/*", rest);
    ASSERT_TRUE(provider_is_->start().ok());
  }

  std::string soap_request(const std::string& code, const std::string& id,
                           std::optional<ids::SecurityServerId> server = std::nullopt,
                           const ids::ClientId* client = nullptr) {
    message::SoapHeader h{
        client ? *client : client_,
        ids::ServiceId::create(
            provider_, code, code == "pets" ? std::nullopt : std::optional<std::string_view>("v1"))
            .value(),
        id,
        std::nullopt,
        std::nullopt,
        std::string(message::kProtocolVersion),
        server,
        std::nullopt,
        std::nullopt,
        std::nullopt,
        std::nullopt,
        {}};
    h.user_id = "EE12345";
    std::string body;
    if (code == "listMethods" || code == "allowedMethods") {
      body = "<xroad:" + code + "/>";
    } else if (code == "getWsdl") {
      body =
          "<xroad:getWsdl><xroad:serviceCode>getRandom</xroad:serviceCode>"
          "<xroad:serviceVersion>v1</xroad:serviceVersion></xroad:getWsdl>";
    } else {
      body = "<p:" + code + " xmlns:p=\"urn:provider\"><p:seed>1</p:seed></p:" + code + ">";
    }
    return message::build_soap_message(h, body);
  }

  struct Signed {
    std::string signature;
    std::string hash_chain_result;
    std::string hash_chain;
  };

  // Member 1's signature over `parts`: direct, or the first of a batch of two (hash chain).
  Signed sign_as_client(const message::SignedParts& parts, bool batch = false,
                        const crypto::Certificate* cert = nullptr,
                        const crypto::PrivateKey* key = nullptr, std::string ocsp = {}) {
    const crypto::Certificate& c = cert ? *cert : pki_.cert();
    const crypto::PrivateKey& k = key ? *key : pki_.key();
    if (ocsp.empty()) {
      ocsp = m1_ocsp_;
    }
    std::vector<signature::BatchItem> items{message::batch_item(parts)};
    if (batch) {
      items.push_back(message::batch_item(message::SignedParts{"<other/>", {}}));
    }
    signature::BatchOptions options;
    if (k.type() == crypto::KeyType::kEc) {
      options.sign.algorithm = crypto::SignatureAlgorithm::kEcdsaSha512;
    }
    auto sig = signature::sign_batch(
        items, c, ocsp,
        [&](crypto::SignatureAlgorithm alg, std::string_view data) { return k.sign(alg, data); },
        options);
    EXPECT_TRUE(sig.ok()) << sig.error().to_string();
    return Signed{(*sig)[0].signature_xml, (*sig)[0].hash_chain_result, (*sig)[0].hash_chain};
  }

  message::EncodedTransport encode(const std::string& soap, const Signed& sig,
                                   std::vector<std::string> ocsp = {}) {
    if (ocsp.empty()) {
      ocsp.push_back(node1_ocsp_);
    }
    message::OutgoingTransport out;
    out.meta.kind = message::MessageKind::kSoap;
    out.meta.request_id = "req-" + std::to_string(++counter_);
    out.meta.original_content_type = std::string(message::kTextXmlContentType);
    out.meta.original_soap_action = "\"urn:getRandom\"";
    for (const auto& o : ocsp) {
      ocsp_views_.push_back(o);
    }
    for (const auto& o : ocsp_views_) {
      out.ocsp_responses.push_back(o);
    }
    out.soap_part = soap;
    out.signature = sig.signature;
    out.hash_chain_result = sig.hash_chain_result;
    out.hash_chain = sig.hash_chain;
    auto enc = message::encode_request(out);
    EXPECT_TRUE(enc.ok()) << enc.error().to_string();
    ocsp_views_.clear();
    return std::move(enc).value();
  }

  ServerProxyAnswer send(const message::EncodedTransport& enc,
                         std::optional<http::CertChain> chain = std::nullopt) {
    http::Headers headers(enc.headers.begin(), enc.headers.end());
    return proxy_->handle(headers, enc.body, chain ? *chain : der_chain(node1_chain_));
  }

  // A signed SOAP request for service `code`, sent from node 1.
  ServerProxyAnswer call_soap(const std::string& code, const std::string& id = "q-1") {
    std::string soap = soap_request(code, id);
    return send(encode(soap, sign_as_client(message::SignedParts{soap, {}})));
  }

  // The fault code of an answer ("" when it is not a fault).
  static std::string fault_code(const ServerProxyAnswer& answer) {
    message::HeaderFields headers(answer.headers.begin(), answer.headers.end());
    auto decoded = message::decode_response(headers, answer.body, message::MessageKind::kSoap);
    if (!decoded.ok() || !decoded->fault) {
      return "";
    }
    auto fault = message::parse_fault(*decoded->fault);
    return fault.ok() ? fault->code : "unparsable";
  }

  // Decodes a successful answer and verifies its signature by the provider's member.
  message::DecodedTransport verified_response(const ServerProxyAnswer& answer,
                                              message::MessageKind kind) {
    message::HeaderFields headers(answer.headers.begin(), answer.headers.end());
    auto decoded = message::decode_response(headers, answer.body, kind);
    EXPECT_TRUE(decoded.ok()) << decoded.error().to_string();
    EXPECT_FALSE(decoded->fault) << answer.body;
    signature::VerifyOptions vo;
    vo.expected_signer = provider_;
    auto verified =
        signature::verify(decoded->signature, message::signed_data(*decoded), *conf(), vo);
    EXPECT_TRUE(verified.ok()) << verified.error().to_string();
    return std::move(decoded).value();
  }

  DevPki pki_;
  ids::MemberId member1_ = ids::MemberId::create("X", "X", "X").value();
  ids::MemberId member2_ = member1_;
  ids::SecurityServerId node1_ = ids::SecurityServerId::create(member1_, "X").value();
  ids::SecurityServerId node2_ = node1_;
  ids::ClientId client_ = member1_;
  ids::ClientId other_client_ = member1_;
  ids::ClientId provider_ = member1_;
  std::string node1_chain_, node1_key_, node2_chain_, node2_key_;
  std::string m1_ocsp_, node1_ocsp_;
  std::unique_ptr<Member2Keys> keys_;
  std::unique_ptr<BatchSigner> signer_;
  std::mutex conf_mu_;
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf_;
  std::shared_ptr<const serverconf::ServerConfSnapshot> sconf_;
  std::unique_ptr<PeerVerifier> verifier_;
  std::unique_ptr<ProviderClient> provider_client_;
  std::unique_ptr<Metaservices> metaservices_;
  MemoryLog log_;
  Calls calls_;
  std::unique_ptr<ServerProxy> proxy_;
  std::unique_ptr<http::Server> provider_is_;
  std::atomic<int> provider_calls_{0};
  std::mutex provider_mu_;
  std::string provider_soap_action_;
  RawServer garbage_{"HTTP/1.1 2x0 what\r\nnonsense\r\n\r\n"};
  RawServer early_close_{""};
  std::vector<std::string> ocsp_views_;
  int counter_ = 0;
};

TEST_F(ServerProxyTest, SoapCallIsForwardedSignedWithRequestHashAndLoggedTwice) {
  std::string soap = soap_request("getRandom", "q-ok");
  auto answer = send(encode(soap, sign_as_client(message::SignedParts{soap, {}})));
  ASSERT_EQ(answer.status, 200) << answer.body;
  auto decoded = verified_response(answer, message::MessageKind::kSoap);
  message::SoapParseOptions response_options;
  response_options.role = message::SoapRole::kResponse;
  auto response = message::soap_message(decoded, response_options);
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  ASSERT_TRUE(response->header->request_hash);
  EXPECT_TRUE(message::check_request_hash(*response->header, soap).ok());
  EXPECT_EQ(response->header->id, "q-ok");
  EXPECT_EQ(response->body_local_name, "getRandomResponse");
  {
    std::lock_guard lock(provider_mu_);
    EXPECT_EQ(provider_soap_action_, "\"urn:getRandom\"");
  }
  auto records = log_.snapshot();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].response);
  EXPECT_EQ(records[0].message, soap);
  EXPECT_EQ(records[0].query_id, "q-ok");
  EXPECT_TRUE(records[1].response);
  EXPECT_EQ(records[1].message, std::string(decoded.soap_part));
  EXPECT_EQ(records[1].signature, std::string(decoded.signature));
  EXPECT_EQ(records[0].x_request_id, records[1].x_request_id);
  auto calls = calls_.snapshot();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].succeeded);
  EXPECT_EQ(calls[0].side, opmonitor::CallRecord::Side::kProducer);
  EXPECT_EQ(calls[0].client, client_);
  EXPECT_EQ(calls[0].query_id, "q-ok");
  EXPECT_EQ(calls[0].client_security_server, node1_.to_string());
  EXPECT_EQ(calls[0].service_security_server, node2_.to_string());
}

TEST_F(ServerProxyTest, BatchSignedRequestWithHashChainIsAccepted) {
  std::string soap = soap_request("getRandom", "q-batch");
  Signed sig = sign_as_client(message::SignedParts{soap, {}}, true);
  ASSERT_FALSE(sig.hash_chain.empty());
  auto answer = send(encode(soap, sig));
  EXPECT_EQ(answer.status, 200) << answer.body;
}

TEST_F(ServerProxyTest, TamperedHashChainIsRefused) {
  std::string soap = soap_request("getRandom", "q-chain");
  Signed sig = sign_as_client(message::SignedParts{soap, {}}, true);
  auto pos = sig.hash_chain.find("<DigestValue>");
  ASSERT_NE(pos, std::string::npos) << sig.hash_chain;
  sig.hash_chain[pos + 14] = sig.hash_chain[pos + 14] == 'A' ? 'B' : 'A';
  auto answer = send(encode(soap, sig));
  std::string code = fault_code(answer);
  EXPECT_TRUE(code.starts_with("Server.ServerProxy.MalformedSignature") ||
              code == "Server.ServerProxy.InvalidSignatureValue")
      << code;
  EXPECT_EQ(provider_calls_.load(), 0);
  EXPECT_TRUE(log_.snapshot().empty());
}

TEST_F(ServerProxyTest, MessageNotMatchingItsSignatureIsRefused) {
  std::string soap = soap_request("getRandom", "q-bad");
  Signed sig = sign_as_client(message::SignedParts{soap, {}});
  std::string tampered = soap;
  tampered.replace(tampered.find("<p:seed>1"), 9, "<p:seed>2");
  auto answer = send(encode(tampered, sig));
  EXPECT_EQ(fault_code(answer), "Server.ServerProxy.InvalidSignatureValue");
  EXPECT_EQ(provider_calls_.load(), 0);
  EXPECT_TRUE(log_.snapshot().empty());
  auto calls = calls_.snapshot();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_FALSE(calls[0].succeeded);
  EXPECT_EQ(calls[0].fault_code, "Server.ServerProxy.InvalidSignatureValue");
}

TEST_F(ServerProxyTest, SignatureByAnotherMemberIsRefused) {
  std::string soap = soap_request("getRandom", "q-signer");
  auto& env = pki_.env();
  auto m2_cert = crypto::Certificate::from_pem(read_file(env["MEMBER_2_SIGN_CERT"])).value();
  auto m2_key = crypto::PrivateKey::from_pem(read_file(env["MEMBER_2_SIGN_KEY"])).value();
  auto answer = send(encode(soap, sign_as_client(message::SignedParts{soap, {}}, false, &m2_cert,
                                                 &m2_key, pki_.ocsp(m2_cert.pem()))));
  EXPECT_EQ(fault_code(answer), "Server.ServerProxy.IncorrectCertificate");
}

TEST_F(ServerProxyTest, RevokedSigningCertificateIsRefused) {
  std::string soap = soap_request("getRandom", "q-revoked");
  auto& env = pki_.env();
  auto cert = crypto::Certificate::from_pem(read_file(env["SIGN_REVOKED_CERT"])).value();
  auto key = crypto::PrivateKey::from_pem(read_file(env["SIGN_REVOKED_KEY"])).value();
  auto answer = send(encode(soap, sign_as_client(message::SignedParts{soap, {}}, false, &cert, &key,
                                                 pki_.ocsp(cert.pem()))));
  EXPECT_EQ(fault_code(answer), "Server.ServerProxy.CertValidation");
}

TEST_F(ServerProxyTest, ReplayedMessageIsRefused) {
  std::string soap = soap_request("getRandom", "q-replay");
  auto enc = encode(soap, sign_as_client(message::SignedParts{soap, {}}));
  EXPECT_EQ(send(enc).status, 200);
  auto again = send(enc);
  EXPECT_EQ(fault_code(again), "Server.ServerProxy.InvalidRequest");
  EXPECT_EQ(provider_calls_.load(), 1);
  EXPECT_EQ(log_.snapshot().size(), 2u);
}

TEST_F(ServerProxyTest, MessagesOfOneBatchWithTheSameQueryIdAreNotReplays) {
  std::string first = soap_request("getRandom", "q-same");
  std::string second = first;
  second.replace(second.find("<p:seed>1"), 9, "<p:seed>2");
  auto batch = signature::sign_batch({message::batch_item(message::SignedParts{first, {}}),
                                      message::batch_item(message::SignedParts{second, {}})},
                                     pki_.cert(), m1_ocsp_,
                                     [&](crypto::SignatureAlgorithm alg, std::string_view data) {
                                       return pki_.key().sign(alg, data);
                                     });
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  for (std::size_t i = 0; i < 2; ++i) {
    Signed sig{(*batch)[i].signature_xml, (*batch)[i].hash_chain_result, (*batch)[i].hash_chain};
    EXPECT_EQ(send(encode(i == 0 ? first : second, sig)).status, 200);
  }
}

TEST_F(ServerProxyTest, WrongSecurityServerHeaderIsRefused) {
  std::string soap = soap_request("getRandom", "q-ss", node1_);
  auto answer = send(encode(soap, sign_as_client(message::SignedParts{soap, {}})));
  EXPECT_EQ(fault_code(answer), "Server.ServerProxy.InvalidSecurityServer");
  std::string ok = soap_request("getRandom", "q-ss2", node2_);
  EXPECT_EQ(send(encode(ok, sign_as_client(message::SignedParts{ok, {}}))).status, 200);
}

TEST_F(ServerProxyTest, UnknownClientIsRefused) {
  auto stranger =
      ids::ClientId::parse("SUBSYSTEM:" + pki_.env()["MEMBER_1_ID"] + "/NOBODY").value();
  std::string soap = soap_request("getRandom", "q-unknown", std::nullopt, &stranger);
  auto answer = send(encode(soap, sign_as_client(message::SignedParts{soap, {}})));
  EXPECT_EQ(fault_code(answer), "Server.ServerProxy.UnknownMember");
}

TEST_F(ServerProxyTest, PeerNotHostingTheClientIsRefused) {
  // OTHER exists in global configuration but no node hosts it.
  std::string soap = soap_request("getRandom", "q-host", std::nullopt, &other_client_);
  auto answer = send(encode(soap, sign_as_client(message::SignedParts{soap, {}})));
  EXPECT_EQ(fault_code(answer), "Server.ServerProxy.SslAuthenticationFailed");
}

TEST_F(ServerProxyTest, UnregisteredPeerCertificateIsRefused) {
  // Node 2's own certificate is registered, but not for a node hosting the client.
  std::string soap = soap_request("getRandom", "q-peer");
  auto answer = send(encode(soap, sign_as_client(message::SignedParts{soap, {}}),
                            {pki_.ocsp(first_cert_pem(node2_chain_))}),
                     der_chain(node2_chain_));
  EXPECT_EQ(fault_code(answer), "Server.ServerProxy.SslAuthenticationFailed");
  EXPECT_EQ(fault_code(send(encode(soap, sign_as_client(message::SignedParts{soap, {}})),
                            http::CertChain{})),
            "Server.ServerProxy.SslAuthenticationFailed");
}

TEST_F(ServerProxyTest, RevokedOrExpiredPeerCertificateIsRefused) {
  auto& env = pki_.env();
  std::string revoked_pem = read_file(env["AUTH_REVOKED_CERT"]);
  std::string expired_pem = read_file(env["AUTH_EXPIRED_CERT"]);
  // Register both for node 1 so only the certificate status decides.
  globalconf::SharedParameters shared = conf()->shared_parameters();
  for (auto& server : shared.security_servers) {
    if (server.id == node1_) {
      for (const auto& pem : {revoked_pem, expired_pem}) {
        server.auth_cert_hashes.push_back(crypto::digest(
            crypto::DigestAlgorithm::kSha256, crypto::Certificate::from_pem(pem)->der()));
      }
    }
  }
  {
    std::lock_guard lock(conf_mu_);
    conf_ = globalconf::GlobalConfSnapshot::create(std::nullopt, {shared},
                                                   std::chrono::system_clock::now() + 24h)
                .value();
  }
  std::string inter = read_file(env["INTERMEDIATE_CA_CERT"]);
  std::string soap = soap_request("getRandom", "q-rev");
  auto revoked =
      send(encode(soap, sign_as_client(message::SignedParts{soap, {}}), {pki_.ocsp(revoked_pem)}),
           der_chain(revoked_pem + inter));
  EXPECT_EQ(fault_code(revoked), "Server.ServerProxy.SslAuthenticationFailed");
  std::string soap2 = soap_request("getRandom", "q-exp");
  auto expired =
      send(encode(soap2, sign_as_client(message::SignedParts{soap2, {}}), {pki_.ocsp(expired_pem)}),
           der_chain(expired_pem + inter));
  EXPECT_EQ(fault_code(expired), "Server.ServerProxy.SslAuthenticationFailed");
  EXPECT_EQ(provider_calls_.load(), 0);
}

TEST_F(ServerProxyTest, MissingOcspForThePeerIsRefused) {
  std::string soap = soap_request("getRandom", "q-noocsp");
  Signed sig = sign_as_client(message::SignedParts{soap, {}});
  // An OCSP response about another certificate only.
  auto answer = send(encode(soap, sig, {m1_ocsp_}));
  EXPECT_EQ(fault_code(answer), "Server.ServerProxy.SslAuthenticationFailed");
}

TEST_F(ServerProxyTest, ServiceChecksGiveXRoadFaults) {
  EXPECT_EQ(fault_code(call_soap("noSuchService", "q-a")), "Server.ServerProxy.UnknownService");
  EXPECT_EQ(fault_code(call_soap("denied", "q-b")), "Server.ServerProxy.AccessDenied");
  EXPECT_EQ(fault_code(call_soap("disabled", "q-c")), "Server.ServerProxy.ServiceDisabled");
  EXPECT_EQ(fault_code(call_soap("pets", "q-d")), "Server.ServerProxy.ServiceType");
  EXPECT_EQ(provider_calls_.load(), 0);
  EXPECT_TRUE(log_.snapshot().empty());
}

TEST_F(ServerProxyTest, OutdatedGlobalConfStopsExchange) {
  make_conf(std::chrono::system_clock::now() - 1s);
  EXPECT_EQ(fault_code(call_soap("getRandom")), "Server.ServerProxy.OutdatedGlobalConf");
}

TEST_F(ServerProxyTest, UnusableOrFailingMessageLogStopsBeforeTheProvider) {
  log_.unusable = true;
  EXPECT_EQ(fault_code(call_soap("getRandom", "q-ts")), "Server.ServerProxy.TimestampingFailed");
  log_.unusable = false;
  log_.fail = true;
  EXPECT_EQ(fault_code(call_soap("getRandom", "q-log")), "Server.ServerProxy.LoggingFailed");
  EXPECT_EQ(provider_calls_.load(), 0);
}

TEST_F(ServerProxyTest, ProviderFailuresAreServiceFailedFaults) {
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_code(call_soap("hang", "q-h")), "Server.ServerProxy.ServiceFailed.Timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2400ms);
  EXPECT_EQ(fault_code(call_soap("garbage", "q-g")),
            "Server.ServerProxy.ServiceFailed.NetworkError");
  EXPECT_EQ(fault_code(call_soap("earlyClose", "q-e")),
            "Server.ServerProxy.ServiceFailed.NetworkError");
  EXPECT_EQ(fault_code(call_soap("nowhere", "q-n")),
            "Server.ServerProxy.ServiceFailed.NetworkError");
  std::string inconsistent = fault_code(call_soap("inconsistent", "q-i"));
  EXPECT_TRUE(inconsistent.starts_with("Server.ServerProxy.ServiceFailed.")) << inconsistent;
  // Only the requests were logged: no response record for a failed call.
  for (const auto& record : log_.snapshot()) {
    EXPECT_FALSE(record.response);
  }
}

TEST_F(ServerProxyTest, ProviderSoapFaultIsPassedBack) {
  EXPECT_EQ(fault_code(call_soap("faulty", "q-f")), "Server.Provider.Broken");
  auto calls = calls_.snapshot();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_FALSE(calls[0].succeeded);
}

TEST_F(ServerProxyTest, GarbageTransportIsRefused) {
  http::Headers headers{
      {"Content-Type", "text/plain"}, {"x-road-request-id", "r"}, {"x-hash-algorithm", "SHA-512"}};
  auto answer = proxy_->handle(headers, "hello", der_chain(node1_chain_));
  EXPECT_EQ(answer.status, 500);
  EXPECT_EQ(fault_code(answer), "Server.ServerProxy.InvalidContentType");
  auto calls = calls_.snapshot();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_FALSE(calls[0].client);
}

class RestServerProxyTest : public ServerProxyTest {
 protected:
  ServerProxyAnswer call_rest(const std::string& method, const std::string& target,
                              const std::string& body, const std::string& id) {
    message::RestRequestHead head;
    head.method = method;
    head.target = target;
    head.headers = {{"X-Road-Client", client_.to_short_string()},
                    {"X-Road-Id", id},
                    {"x-road-request-id", "rr-" + id},
                    {"Accept", "text/plain"}};
    if (!body.empty()) {
      head.headers.emplace_back("Content-Type", "application/json");
    }
    std::string head_bytes = message::serialize_rest_request_head(head);
    std::optional<std::string_view> body_view;
    if (!body.empty()) {
      body_view = body;
    }
    Signed sig = sign_as_client(message::signed_parts(head_bytes, body_view));
    message::OutgoingTransport out;
    out.meta.kind = message::MessageKind::kRest;
    out.meta.request_id = "rr-" + id;
    out.ocsp_responses.push_back(node1_ocsp_);
    out.rest_head = head_bytes;
    out.rest_body = body_view;
    out.signature = sig.signature;
    auto enc = message::encode_request(out);
    EXPECT_TRUE(enc.ok()) << enc.error().to_string();
    last_head_ = head_bytes;
    last_body_ = body;
    return send(*enc);
  }
  std::string prefix() const { return "/r1/" + provider_.to_short_string(); }
  std::string last_head_;
  std::string last_body_;
};

TEST_F(RestServerProxyTest, RestCallIsForwardedWithPathQueryAndBodyAndHashed) {
  auto answer = call_rest("GET", prefix() + "/pets/pets/7?q=a%20b", "", "r-1");
  ASSERT_EQ(answer.status, 200) << answer.body;
  auto decoded = verified_response(answer, message::MessageKind::kRest);
  auto head = message::parse_rest_response_head(decoded.rest_head);
  ASSERT_TRUE(head.ok()) << head.error().to_string();
  EXPECT_EQ(head->status, 201);
  ASSERT_TRUE(decoded.rest_body);
  EXPECT_EQ(std::string(*decoded.rest_body),
            "GET /api/pets/7 q=a b client=" + client_.to_short_string() + " body=");
  EXPECT_EQ(http::find_header(head->headers, "X-Provider").value_or(""), "yes");
  EXPECT_EQ(http::find_header(head->headers, "X-Road-Request-Hash").value_or(""),
            message::compute_rest_request_hash(last_head_, std::nullopt));
  EXPECT_EQ(http::find_header(head->headers, "X-Road-Id").value_or(""), "r-1");
  auto records = log_.snapshot();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].rest);
  EXPECT_EQ(records[0].message, last_head_);
  auto calls = calls_.snapshot();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].rest_method, "GET");
  EXPECT_EQ(calls[0].rest_path, "/pets/7");
  EXPECT_EQ(calls[0].service_type, "OPENAPI3");
}

TEST_F(RestServerProxyTest, EndpointAccessRightsAreEnforced) {
  // POST is not granted (only GET /pets/**).
  auto denied = call_rest("POST", prefix() + "/pets/pets", "{\"name\":\"rex\"}", "r-2");
  EXPECT_EQ(fault_code(denied), "Server.ServerProxy.AccessDenied");
  auto other = call_rest("GET", prefix() + "/pets/owners", "", "r-3");
  EXPECT_EQ(fault_code(other), "Server.ServerProxy.AccessDenied");
  auto soap_service = call_rest("GET", prefix() + "/getRandom", "", "r-4");
  EXPECT_EQ(fault_code(soap_service), "Server.ServerProxy.ServiceType");
  EXPECT_EQ(provider_calls_.load(), 0);
}

TEST_F(RestServerProxyTest, RestMetaservicesListAndAllowMethodsAndServeOpenApi) {
  auto list = call_rest("GET", prefix() + "/listMethods", "", "r-m1");
  ASSERT_EQ(list.status, 200) << list.body;
  auto decoded = verified_response(list, message::MessageKind::kRest);
  ASSERT_TRUE(decoded.rest_body);
  EXPECT_NE(std::string(*decoded.rest_body).find("pets"), std::string::npos);
  auto allowed = call_rest("GET", prefix() + "/allowedMethods", "", "r-m2");
  auto decoded2 = verified_response(allowed, message::MessageKind::kRest);
  ASSERT_TRUE(decoded2.rest_body);
  EXPECT_NE(std::string(*decoded2.rest_body).find("/pets/**"), std::string::npos);
  auto openapi = call_rest("GET", prefix() + "/getOpenAPI?serviceCode=pets", "", "r-m3");
  auto decoded3 = verified_response(openapi, message::MessageKind::kRest);
  ASSERT_TRUE(decoded3.rest_body);
  EXPECT_EQ(std::string(*decoded3.rest_body), "{\"openapi\":\"3.0.0\",\"paths\":{}}");
  EXPECT_EQ(provider_calls_.load(), 0);
  EXPECT_EQ(log_.snapshot().size(), 6u);
}

TEST_F(ServerProxyTest, SoapMetaservicesAnswerFromTheServerConfiguration) {
  auto list = call_soap("listMethods", "q-lm");
  ASSERT_EQ(list.status, 200) << list.body;
  auto decoded = verified_response(list, message::MessageKind::kSoap);
  std::string body(decoded.soap_part);
  EXPECT_NE(body.find("getRandom"), std::string::npos);
  EXPECT_NE(body.find("denied"), std::string::npos);
  EXPECT_EQ(body.find("pets"), std::string::npos);
  auto allowed = call_soap("allowedMethods", "q-am");
  auto decoded2 = verified_response(allowed, message::MessageKind::kSoap);
  std::string body2(decoded2.soap_part);
  EXPECT_NE(body2.find("getRandom"), std::string::npos);
  EXPECT_EQ(body2.find("denied"), std::string::npos);
  auto wsdl = call_soap("getWsdl", "q-wsdl");
  ASSERT_EQ(wsdl.status, 200) << wsdl.body;
  auto decoded3 = verified_response(wsdl, message::MessageKind::kSoap);
  ASSERT_EQ(decoded3.attachments.size(), 1u);
  std::string doc(decoded3.attachments[0].data);
  EXPECT_NE(doc.find("http://example.org/xroad-endpoint"), std::string::npos);
  EXPECT_EQ(doc.find("internal.example"), std::string::npos);
  EXPECT_EQ(provider_calls_.load(), 0);
}

TEST_F(ServerProxyTest, ListClientsAnswersXmlAndJson) {
  http::ServerOptions so;
  auto server = http::Server::create(so).value();
  server->route("GET", "/listClients", metaservices_->list_clients_handler());
  ASSERT_TRUE(server->start().ok());
  auto client = http::Client::create("http://127.0.0.1:" + std::to_string(server->port())).value();
  auto xml = client->get("/listClients");
  ASSERT_TRUE(xml.ok());
  EXPECT_EQ(xml->status, 200);
  EXPECT_NE(xml->body.find("Member Two"), std::string::npos);
  EXPECT_NE(xml->body.find("PROVIDER"), std::string::npos);
  auto json = client->get("/listClients", {{"Accept", "application/json"}});
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->header("Content-Type").value_or("").find("json"), std::string::npos);
  EXPECT_NE(json->body.find("Client system"), std::string::npos);
  server->stop();
}

TEST_F(ServerProxyTest, MutualTlsListenerServesRegisteredNodesOnly) {
  ASSERT_TRUE(proxy_->start().ok());
  std::string soap = soap_request("getRandom", "q-tls");
  auto enc = encode(soap, sign_as_client(message::SignedParts{soap, {}}));
  http::ClientOptions co;
  co.tls.ca_pem = read_file(pki_.env()["ROOT_CA_CERT"]);
  co.tls.client_cert_chain_pem = node1_chain_;
  co.tls.client_key_pem = node1_key_;
  auto client = http::Client::create("https://127.0.0.1:" + std::to_string(proxy_->port()), co);
  ASSERT_TRUE(client.ok()) << client.error().to_string();
  http::Headers extra;
  for (const auto& [name, value] : enc.headers) {
    if (!http::iequals(name, "Content-Type")) {
      extra.emplace_back(name, value);
    }
  }
  auto response = (*client)->post("/", enc.body, enc.content_type, extra);
  ASSERT_TRUE(response.ok()) << response.error().to_string();
  EXPECT_EQ(response->status, 200) << response->body;
  // A client certificate from an unrelated CA never gets past the handshake.
  http::ClientOptions bad = co;
  bad.tls.client_cert_chain_pem = read_file(pki_.env()["UNTRUSTED_SIGN_CERT"]);
  bad.tls.client_key_pem = read_file(pki_.env()["UNTRUSTED_SIGN_KEY"]);
  auto stranger = http::Client::create("https://127.0.0.1:" + std::to_string(proxy_->port()), bad);
  ASSERT_TRUE(stranger.ok());
  auto refused = (*stranger)->post("/", enc.body, enc.content_type, extra);
  EXPECT_FALSE(refused.ok() && refused->status == 200);
}

TEST_F(ServerProxyTest, ProviderConnectionsArePooled) {
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(call_soap("getRandom", "q-pool-" + std::to_string(i)).status, 200);
  }
  EXPECT_EQ(provider_client_->connections_created(), 1u);
  EXPECT_EQ(provider_client_->idle_connections(), 1u);
}

// A pooled HTTPS connection the provider closed while it was idle (keep-alive timeout, with a
// close_notify) is not reused: the call goes out on a new connection instead of failing.
TEST_F(ServerProxyTest, ProviderConnectionClosedWhileIdleIsNotReused) {
  http::ServerOptions so;
  so.keep_alive_timeout = std::chrono::seconds(1);
  http::ServerTlsConfig tls;
  tls.cert_chain_pem = node2_chain_;
  tls.key_pem = node2_key_;
  so.tls = tls;
  auto provider = http::Server::create(so).value();
  provider->route("GET", "/api/x", [](const http::Request&, http::Response& res) {
    res.set_body("ok", "text/plain");
  });
  ASSERT_TRUE(provider->start().ok());
  auto client = ProviderClient::create({}).value();
  ProviderRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(provider->port()) + "/api/x";
  request.method = "GET";
  request.ssl_verify = false;
  auto first = client->call(request);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the provider closes it
  auto second = client->call(request);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(client->connections_created(), 2u);
  provider->stop();
}

TEST_F(ServerProxyTest, OversizedProviderResponseIsServiceFailed) {
  ProviderClientOptions small;
  small.max_response_bytes = 16;
  auto tiny = ProviderClient::create(small).value();
  ProviderRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(provider_is_->port()) + "/api/x";
  request.method = "GET";
  auto response = tiny->call(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, FaultCode::kLimitExceeded);
  request.url = "ftp://example.org/";
  EXPECT_EQ(tiny->call(request).error().code, FaultCode::kServiceMissingUrl);
}

// Calls a provider that trickles its answer, a byte every 50 ms (each read well within any
// service timeout), with the client's `total` limit and the service's `timeout`: the outcome and
// how long the call took.
struct TrickledCall {
  Result<ProviderResponse> response;
  std::chrono::steady_clock::duration took;
  std::size_t idle_after = 0;
};
TrickledCall call_trickling_provider(std::chrono::milliseconds total,
                                     std::chrono::milliseconds timeout) {
  hansa::testing::TricklingServer slow(std::chrono::milliseconds(50));
  ProviderClientOptions options;
  options.total_timeout = total;
  auto client = ProviderClient::create(options).value();
  ProviderRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(slow.port()) + "/api";
  request.method = "GET";
  request.timeout = timeout;
  auto started = std::chrono::steady_clock::now();
  auto response = client->call(request);
  return {std::move(response), std::chrono::steady_clock::now() - started,
          client->idle_connections()};
}

// Cut when the whole call's limit passes: Timeout, and the connection is not pooled.
TEST(ProviderClient, TricklingProviderIsCutOffByTheTotalTimeout) {
  auto c = call_trickling_provider(std::chrono::milliseconds(1000), std::chrono::milliseconds(300));
  ASSERT_FALSE(c.response.ok());
  EXPECT_EQ(c.response.error().code, FaultCode::kTimeout) << c.response.error().to_string();
  EXPECT_NE(c.response.error().to_string().find("whole call"), std::string::npos)
      << c.response.error().to_string();
  EXPECT_GE(c.took, std::chrono::milliseconds(1000));
  EXPECT_LT(c.took, std::chrono::milliseconds(4000));
  EXPECT_EQ(c.idle_after, 0u);
}

// A service whose own timeout is longer than total_timeout gets its own as the whole call's limit.
TEST(ProviderClient, LongerServiceTimeoutBoundsTheWholeCall) {
  auto c = call_trickling_provider(std::chrono::milliseconds(300), std::chrono::milliseconds(1500));
  ASSERT_FALSE(c.response.ok());
  EXPECT_EQ(c.response.error().code, FaultCode::kTimeout);
  EXPECT_GE(c.took, std::chrono::milliseconds(1500));
  EXPECT_LT(c.took, std::chrono::milliseconds(5000));
  ProviderClientOptions zero;
  zero.total_timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(ProviderClient::create(zero).error().code, FaultCode::kInvalidConfiguration);
}

TEST_F(ServerProxyTest, PeerVerifierChecksTheTargetNodeForTheClientSide) {
  auto ocsp2 = pki_.ocsp(first_cert_pem(node2_chain_));
  EXPECT_TRUE(verifier_->verify_service_node(der_chain(node2_chain_), node2_, {ocsp2}).ok());
  auto wrong = verifier_->verify_service_node(der_chain(node1_chain_), node2_, {node1_ocsp_});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, FaultCode::kSslAuthenticationFailed);
  auto no_ocsp = verifier_->verify_service_node(der_chain(node2_chain_), node2_, {});
  ASSERT_FALSE(no_ocsp.ok());
  auto garbage = verifier_->handshake_check({std::string("not a certificate")});
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, FaultCode::kSslAuthenticationFailed);
}

// The peer checks are remembered per (configuration, chain, OCSP responses); registration and
// the time-dependent checks must still decide every call.
TEST_F(ServerProxyTest, PeerVerifierRemembersChecksButNotRegistrationOrTime) {
  const auto start = std::chrono::system_clock::now();
  make_conf(start + 240h);
  auto now = start;
  PeerVerifierOptions options;
  options.clock = [&now] { return now; };
  PeerVerifier verifier([this] { return conf(); }, options);
  const auto chain = der_chain(node1_chain_);
  for (int i = 0; i < 3; ++i) {
    auto ok = verifier.verify_client_node(chain, client_, {node1_ocsp_});
    ASSERT_TRUE(ok.ok()) << i << ": " << ok.error().to_string();
    EXPECT_EQ(ok->server, node1_);
  }
  // Node 1 does not host the provider's subsystem.
  auto not_hosting = verifier.verify_client_node(chain, provider_, {node1_ocsp_});
  ASSERT_FALSE(not_hosting.ok());
  EXPECT_EQ(not_hosting.error().code, FaultCode::kSslAuthenticationFailed);
  // Node 1 is not the target node 2.
  EXPECT_EQ(verifier.verify_service_node(chain, node2_, {node1_ocsp_}).error().code,
            FaultCode::kSslAuthenticationFailed);
  // Two days later the same OCSP response is no longer fresh.
  now = start + 48h;
  auto stale = verifier.verify_client_node(chain, client_, {node1_ocsp_});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, FaultCode::kSslAuthenticationFailed);
  now = start;
  EXPECT_TRUE(verifier.verify_client_node(chain, client_, {node1_ocsp_}).ok());
  // Node 1's certificate is no longer registered in a new configuration.
  {
    globalconf::SharedParameters shared = pki_.conf()->shared_parameters();
    auto snap = globalconf::GlobalConfSnapshot::create(std::nullopt, {shared}, start + 240h);
    ASSERT_TRUE(snap.ok());
    std::lock_guard lock(conf_mu_);
    conf_ = std::move(snap).value();
  }
  EXPECT_EQ(verifier.verify_client_node(chain, client_, {node1_ocsp_}).error().code,
            FaultCode::kSslAuthenticationFailed);
  make_conf();
}

}  // namespace
}  // namespace hansa::proxy
