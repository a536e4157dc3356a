// The client proxy against a stand-in provider node: a real mTLS server with node 2's auth
// certificate that decodes PR-MESSTRANSP requests and answers with responses signed by member 2
// (or misbehaves on purpose). Node 1 (member 1) is this node.

#include "node/proxy/client_proxy.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/http/client.h"
#include "core/signature/signature.h"
#include "node/message/rest.h"
#include "node/message/signing.h"
#include "node/message/soap.h"
#include "node/message/transport.h"
#include "node/proxy/peer_verifier.h"
#include "node/proxy/provider_client.h"
#include "node/proxy/server_proxy.h"
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
  Status check_usable() const override { return ok_status(); }
  std::vector<messagelog::LogRecord> snapshot() {
    std::lock_guard lock(mu);
    return records;
  }
  std::atomic<bool> fail{false};
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

// Member 1's key for the batch signer.
class Member1Keys final : public SigningKeys {
 public:
  Member1Keys(DevPki& pki, std::string ocsp) : pki_(pki), ocsp_(std::move(ocsp)) {}
  Result<SigningMaterial> material(const ids::MemberId&) override {
    return SigningMaterial{pki_.cert(), ocsp_};
  }
  Result<std::string> sign(const ids::MemberId&, crypto::SignatureAlgorithm alg,
                           std::string_view data) override {
    return pki_.key().sign(alg, data);
  }

 private:
  DevPki& pki_;
  std::string ocsp_;
};

enum class PeerMode { kOk, kHang, kGarbage, kWrongHash, kFault, kWrongSigner };

std::string first_cert_pem(const std::string& chain) {
  auto end = chain.find("-----END CERTIFICATE-----");
  return chain.substr(0, end + 25) + "\n";
}

std::string der_of(const std::string& pem) { return crypto::Certificate::from_pem(pem)->der(); }

// A proxy's refusal counts as status -> count.
std::map<int, std::uint64_t> refusal_counts(const std::vector<http::RefusalCount>& counts) {
  std::map<int, std::uint64_t> out;
  for (const http::RefusalCount& r : counts) {
    out[r.status] = r.count;
  }
  return out;
}

class ClientProxyTest : public ::testing::Test {
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
    provider_ = ids::ClientId::parse("SUBSYSTEM:" + env["MEMBER_2_ID"] + "/PROVIDER").value();
    service_ = ids::ServiceId::create(provider_, "getRandom", "v1").value();
    node1_chain_ = read_file(env["NODE_1_AUTH_CHAIN"]);
    node1_key_ = read_file(env["NODE_1_AUTH_KEY"]);
    node2_chain_ = read_file(env["NODE_2_AUTH_CHAIN"]);
    node2_key_ = read_file(env["NODE_2_AUTH_KEY"]);
    m2_cert_ = std::make_unique<crypto::Certificate>(
        crypto::Certificate::from_pem(read_file(env["MEMBER_2_SIGN_CERT"])).value());
    m2_key_ = std::make_unique<crypto::PrivateKey>(
        crypto::PrivateKey::from_pem(read_file(env["MEMBER_2_SIGN_KEY"])).value());
    m2_ocsp_ = pki_.ocsp(m2_cert_->pem());
    keys_ = std::make_unique<Member1Keys>(pki_, pki_.ocsp());
    signer_ = BatchSigner::create(*keys_).value();
    start_peer();
  }

  void TearDown() override {
    if (proxy_) {
      proxy_->stop();
    }
    if (peer_) {
      peer_->stop();
    }
  }

  // Global configuration: the dev CA, member 1 with node 1 (this node), member 2 with node 2 at
  // `node2_addresses` (one server per address, the first is node 2 itself).
  void make_conf(std::vector<std::string> node2_addresses,
                 std::chrono::system_clock::time_point expires = std::chrono::system_clock::now() +
                                                                 24h) {
    globalconf::SharedParameters shared = pki_.conf()->shared_parameters();
    shared.members.push_back(
        {member1_, "", "Member One", {{*client_.as_subsystem(), std::nullopt}}});
    shared.members.push_back(
        {member2_, "", "Member Two", {{*provider_.as_subsystem(), std::nullopt}}});
    globalconf::SecurityServer s1{
        .id = node1_,
        .address = std::string("127.0.0.1"),
        .auth_cert_hashes = {crypto::digest(crypto::DigestAlgorithm::kSha256,
                                            der_of(first_cert_pem(node1_chain_)))},
        .clients = {client_},
        .maintenance_mode = std::nullopt};
    shared.security_servers.push_back(s1);
    for (std::size_t i = 0; i < node2_addresses.size(); ++i) {
      globalconf::SecurityServer s2{
          .id = i == 0
                    ? node2_
                    : ids::SecurityServerId::create(member2_, "SS2-" + std::to_string(i)).value(),
          .address = node2_addresses[i],
          .auth_cert_hashes = {crypto::digest(crypto::DigestAlgorithm::kSha256,
                                              der_of(first_cert_pem(node2_chain_)))},
          .clients = {provider_},
          .maintenance_mode = std::nullopt};
      shared.security_servers.push_back(s2);
    }
    auto snap = globalconf::GlobalConfSnapshot::create(std::nullopt, {shared}, expires);
    ASSERT_TRUE(snap.ok()) << snap.error().to_string();
    std::lock_guard lock(conf_mu_);
    conf_ = std::move(snap).value();
  }

  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf() {
    std::lock_guard lock(conf_mu_);
    return conf_;
  }

  void make_serverconf(serverconf::IsConnectionType type, std::vector<std::string> is_cert_pems) {
    serverconf::SnapshotData data;
    data.server = node1_;
    serverconf::ClientEntry entry{.id = client_,
                                  .state = serverconf::RegistrationState::kRegistered,
                                  .is_connection = type,
                                  .is_certs = {},
                                  .is_cert_sha256_hex = {}};
    for (const auto& pem : is_cert_pems) {
      auto cert = crypto::Certificate::from_pem(pem).value();
      entry.is_cert_sha256_hex.insert(
          crypto::hex_encode(crypto::digest(crypto::DigestAlgorithm::kSha256, cert.der())));
      entry.is_certs.push_back(cert);
    }
    data.clients.push_back(entry);
    sconf_ = std::make_shared<const serverconf::ServerConfSnapshot>(std::move(data));
  }

  // The stand-in provider node.
  void start_peer() {
    http::ServerOptions so;
    so.worker_threads = 4;
    so.keep_alive_timeout = peer_keep_alive_;
    http::ServerTlsConfig tls;
    tls.cert_chain_pem = node2_chain_;
    tls.key_pem = node2_key_;
    tls.require_client_cert = true;
    tls.client_ca_pem = read_file(pki_.env()["CA_CHAIN"]);
    so.tls = tls;
    peer_ = http::Server::create(so).value();
    peer_->route("POST", "/",
                 [this](const http::Request& req, http::Response& res) { answer(req, res); });
    ASSERT_TRUE(peer_->start().ok());
  }

  std::string peer_address() const { return "127.0.0.1:" + std::to_string(peer_->port()); }

  void answer(const http::Request& req, http::Response& res) {
    ++peer_calls_;
    PeerMode mode = mode_.load();
    if (mode == PeerMode::kHang) {
      std::this_thread::sleep_for(1500ms);
      return;
    }
    if (mode == PeerMode::kGarbage) {
      res.set_body("this is not a transport message", "text/plain");
      return;
    }
    message::HeaderFields fields = req.headers();
    auto decoded = message::decode_request(fields, std::string(req.body()));
    ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
    {
      std::lock_guard lock(peer_mu_);
      peer_ocsp_count_ = decoded->ocsp_responses.size();
      peer_request_id_ = decoded->meta.request_id;
    }
    if (mode == PeerMode::kFault) {
      auto fault = message::build_fault(SoapFaultFixture());
      auto enc = message::encode_fault_response(fault);
      res.set_body(enc.body, enc.content_type);
      return;
    }
    message::OutgoingTransport out;
    out.meta = decoded->meta;
    std::string response_part;
    std::string head;
    std::string rest_body = "{\"random\":4}";
    message::SignedParts parts;
    if (decoded->meta.kind == message::MessageKind::kSoap) {
      auto soap = message::soap_message(*decoded);
      ASSERT_TRUE(soap.ok()) << soap.error().to_string();
      message::SoapHeader header = *soap->header;
      std::string body =
          "<ns:getRandomResponse xmlns:ns=\"urn:test\"><ns:n>4</ns:n></ns:getRandomResponse>";
      std::string plain = message::build_soap_message(header, body);
      std::string hashed_over =
          mode == PeerMode::kWrongHash ? std::string("<other/>") : std::string(soap->soap_part);
      response_part = message::insert_request_hash(plain, hashed_over).value();
      out.soap_part = response_part;
      out.meta.original_content_type = std::string(message::kTextXmlContentType);
      parts = message::SignedParts{response_part, {}};
    } else {
      auto rhead = message::parse_rest_request_head(decoded->rest_head).value();
      message::RestParseOptions po;
      po.generate_missing_id = false;
      auto request = message::parse_rest_request(
          rhead.method, rhead.target, rhead.headers,
          decoded->rest_body ? std::string(*decoded->rest_body) : std::string(), po);
      ASSERT_TRUE(request.ok()) << request.error().to_string();
      std::string hash =
          mode == PeerMode::kWrongHash
              ? message::compute_rest_request_hash("other", std::nullopt)
              : message::compute_rest_request_hash(decoded->rest_head, decoded->rest_body);
      auto response_head = message::make_response_head(
          200, "OK", {{"Content-Type", "application/json"}, {"X-Provider", "yes"}}, *request,
          decoded->meta.request_id, hash);
      head = message::serialize_rest_response_head(response_head);
      out.rest_head = head;
      out.rest_body = rest_body;
      parts = message::signed_parts(head, std::string_view(rest_body));
    }
    const crypto::Certificate& cert = mode == PeerMode::kWrongSigner ? pki_.cert() : *m2_cert_;
    const crypto::PrivateKey& key = mode == PeerMode::kWrongSigner ? pki_.key() : *m2_key_;
    std::string ocsp = mode == PeerMode::kWrongSigner ? pki_.ocsp() : m2_ocsp_;
    auto sig = signature::sign_batch(
        {message::batch_item(parts)}, cert, ocsp,
        [&](crypto::SignatureAlgorithm alg, std::string_view data) { return key.sign(alg, data); });
    ASSERT_TRUE(sig.ok()) << sig.error().to_string();
    out.signature = (*sig)[0].signature_xml;
    auto encoded = message::encode_response(out);
    ASSERT_TRUE(encoded.ok()) << encoded.error().to_string();
    for (const auto& [name, value] : encoded->headers) {
      if (!http::iequals(name, "Content-Type")) {
        res.set_header(name, value);
      }
    }
    res.set_body(encoded->body, encoded->content_type);
  }

  static message::SoapFault SoapFaultFixture() {
    return message::SoapFault{"Server.ServerProxy.AccessDenied", "Request is not allowed",
                              std::string(""), std::string("detail-123")};
  }

  // Builds and starts the client proxy (HTTP and HTTPS listeners on port 0).
  void start_proxy(std::size_t max_body = 1 << 20) {
    if (!conf_) {
      make_conf({peer_address()});
    }
    if (!sconf_) {
      make_serverconf(serverconf::IsConnectionType::kHttp, {});
    }
    verifier_ = std::make_unique<PeerVerifier>([this] { return conf(); });
    PeerPoolOptions po;
    po.tls.client_cert_chain_pem = node1_chain_;
    po.tls.client_key_pem = node1_key_;
    po.read_timeout = peer_timeout_ * 7 / 10;
    po.total_timeout = peer_timeout_;
    po.connect_timeout = 1000ms;
    pool_ =
        PeerPool::create(
            po,
            [this](const http::CertChain& chain, const ids::SecurityServerId& target) -> Status {
              auto identity = verifier_->handshake_check(chain);
              if (!identity.ok()) {
                return identity.error();
              }
              if (!(identity->server == target) &&
                  !conf()->is_auth_cert_of_server(identity->auth_cert, target)) {
                return Error(FaultCode::kSslAuthenticationFailed, "not the target node");
              }
              return ok_status();
            })
            .value();
    NodeSelectorOptions no;
    no.connect_deadline = 500ms;
    selector_ = std::make_unique<NodeSelector>(no);
    ClientProxyOptions options;
    http::ServerOptions plain;
    plain.max_body_bytes = max_body;
    plain.header_timeout = 500ms;
    plain.read_timeout = 500ms;
    options.http = plain;
    http::ServerOptions secure = plain;
    http::ServerTlsConfig tls;
    tls.cert_chain_pem = node1_chain_;
    tls.key_pem = node1_key_;
    secure.tls = tls;
    options.https = secure;
    ClientProxyDeps deps;
    deps.globalconf = [this] { return conf(); };
    deps.serverconf = [this] { return sconf_; };
    deps.signer = signer_.get();
    deps.message_log = &log_;
    deps.peers = pool_.get();
    deps.selector = selector_.get();
    std::string auth_ocsp = pki_.ocsp(first_cert_pem(node1_chain_));
    deps.auth_ocsp = [auth_ocsp] { return std::vector<std::string>{auth_ocsp}; };
    deps.observers.push_back(&calls_);
    auto created = ClientProxy::create(options, deps);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    proxy_ = std::move(created).value();
    ASSERT_TRUE(proxy_->start().ok());
  }

  std::unique_ptr<http::Client> is_client(bool https, const std::string& cert = "",
                                          const std::string& key = "") {
    http::ClientOptions co;
    co.read_timeout = 5s;
    std::string url;
    if (https) {
      co.tls.pinned_cert_pem = first_cert_pem(node1_chain_);
      co.tls.client_cert_chain_pem = cert;
      co.tls.client_key_pem = key;
      url = "https://127.0.0.1:" + std::to_string(proxy_->https_port());
    } else {
      url = "http://127.0.0.1:" + std::to_string(proxy_->http_port());
    }
    return http::Client::create(url, co).value();
  }

  std::string soap_request(const std::string& id = "query-1") {
    message::SoapHeader header{.client = client_,
                               .service = service_,
                               .id = id,
                               .user_id = std::string("EE1234"),
                               .issue = std::nullopt,
                               .protocol_version = "4.0"};
    return message::build_soap_message(
        header, "<ns:getRandom xmlns:ns=\"urn:test\"><ns:seed>1</ns:seed></ns:getRandom>");
  }

  Result<http::ClientResponse> call_soap(http::Client& client, const std::string& body) {
    return client.post("/", body, "text/xml; charset=UTF-8");
  }

  std::string rest_target() const {
    return "/r1/" + provider_.instance() + "/" + provider_.member_class() + "/" +
           provider_.member_code() + "/" + *provider_.subsystem_code() + "/" + rest_code_ +
           "/numbers?n=1";
  }
  http::Headers rest_headers() const {
    return {{"X-Road-Client", client_.instance() + "/" + client_.member_class() + "/" +
                                  client_.member_code() + "/" + *client_.subsystem_code()}};
  }

  // Asserts a SOAP fault with `code` and returns its detail id.
  void expect_soap_fault(const Result<http::ClientResponse>& res, const std::string& code) {
    ASSERT_TRUE(res.ok()) << res.error().to_string();
    EXPECT_EQ(res->status, 500);
    auto fault = message::parse_fault(res->body);
    ASSERT_TRUE(fault.ok()) << res->body;
    EXPECT_EQ(fault->code, code) << fault->string;
    EXPECT_TRUE(fault->detail && !fault->detail->empty());
  }

  // The request was logged, no response record was.
  void expect_only_request_logged() {
    auto records = log_.snapshot();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_FALSE(records[0].response);
    EXPECT_FALSE(records[0].signature.empty());
  }

  // The last call record, with `fault_code` ("" for success).
  void expect_call(const std::string& fault_code) {
    auto records = calls_.snapshot();
    ASSERT_FALSE(records.empty());
    const auto& rec = records.back();
    EXPECT_EQ(rec.side, opmonitor::CallRecord::Side::kClient);
    EXPECT_EQ(rec.fault_code, fault_code);
    EXPECT_EQ(rec.succeeded, fault_code.empty());
  }

  DevPki pki_;
  ids::MemberId member1_ = ids::MemberId::parse("MEMBER:X/Y/Z").value();
  ids::MemberId member2_ = member1_;
  ids::SecurityServerId node1_ = ids::SecurityServerId::parse("SERVER:X/Y/Z/S").value();
  ids::SecurityServerId node2_ = node1_;
  ids::ClientId client_ = member1_;
  ids::ClientId provider_ = member1_;
  ids::ServiceId service_ = ids::ServiceId::parse("SERVICE:X/Y/Z/S/c").value();
  std::string node1_chain_, node1_key_, node2_chain_, node2_key_;
  std::unique_ptr<crypto::Certificate> m2_cert_;
  std::unique_ptr<crypto::PrivateKey> m2_key_;
  std::string m2_ocsp_;
  std::unique_ptr<Member1Keys> keys_;
  std::unique_ptr<BatchSigner> signer_;
  std::mutex conf_mu_;
  std::shared_ptr<const globalconf::GlobalConfSnapshot> conf_;
  std::shared_ptr<const serverconf::ServerConfSnapshot> sconf_;
  std::unique_ptr<PeerVerifier> verifier_;
  std::unique_ptr<PeerPool> pool_;
  std::unique_ptr<NodeSelector> selector_;
  MemoryLog log_;
  Calls calls_;
  std::unique_ptr<http::Server> peer_;
  std::atomic<PeerMode> mode_{PeerMode::kOk};
  std::chrono::seconds peer_keep_alive_{5};
  std::atomic<int> peer_calls_{0};
  std::mutex peer_mu_;
  std::size_t peer_ocsp_count_ = 0;
  std::string peer_request_id_;
  std::unique_ptr<ClientProxy> proxy_;
  std::string rest_code_ = "getRandom";
  std::chrono::milliseconds peer_timeout_ = 1000ms;  // short: the hanging peer test
};

TEST_F(ClientProxyTest, SoapCallIsSignedLoggedSentVerifiedAndAnswered) {
  start_proxy();
  auto is = is_client(false);
  auto res = call_soap(*is, soap_request());
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  ASSERT_EQ(res->status, 200) << res->body;
  auto response =
      message::parse_soap("text/xml", res->body, {.role = message::SoapRole::kResponse});
  ASSERT_TRUE(response.ok()) << response.error().to_string() << res->body;
  EXPECT_EQ(response->body_local_name, "getRandomResponse");
  EXPECT_EQ(response->header->id, "query-1");
  EXPECT_EQ(peer_ocsp_count_, 1u);  // this node's auth certificate's OCSP went along
  // Both messages are in the log, the request first, with signatures that verify.
  auto records = log_.snapshot();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].response);
  EXPECT_TRUE(records[1].response);
  EXPECT_EQ(records[0].x_request_id, peer_request_id_);
  EXPECT_EQ(records[1].x_request_id, peer_request_id_);
  EXPECT_EQ(records[0].query_id, "query-1");
  EXPECT_EQ(records[1].message, res->body);
  for (const auto& record : records) {
    std::vector<std::string_view> attachments(record.attachments.begin(), record.attachments.end());
    auto data = message::signed_data(message::SignedParts{record.message, attachments},
                                     record.hash_chain_result, record.hash_chain);
    signature::VerifyOptions vo;
    vo.expected_signer = record.response ? provider_ : client_;
    auto verified = signature::verify(record.signature, data, *conf(), vo);
    EXPECT_TRUE(verified.ok()) << verified.error().to_string();
  }
  expect_call("");
  auto rec = calls_.snapshot().back();
  EXPECT_EQ(rec.query_id, "query-1");
  EXPECT_EQ(rec.service_security_server, node2_.to_string());
  EXPECT_EQ(rec.http_status, 200);
}

TEST_F(ClientProxyTest, RestCallReturnsStatusHeadersAndBody) {
  start_proxy();
  auto is = is_client(false);
  auto res = is->get(rest_target(), rest_headers());
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->body, "{\"random\":4}");
  EXPECT_EQ(res->header("X-Provider").value_or(""), "yes");
  EXPECT_TRUE(res->header("X-Road-Request-Hash").has_value());
  EXPECT_TRUE(res->header("X-Road-Id").has_value());
  auto records = log_.snapshot();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].rest);
  expect_call("");
}

TEST_F(ClientProxyTest, RestPostBodyAndSoapAttachmentsAreSignedAndLogged) {
  start_proxy();
  auto is = is_client(false);
  auto rest = is->post(rest_target(), "{\"seed\":42}", "application/json", rest_headers());
  ASSERT_TRUE(rest.ok()) << rest.error().to_string();
  ASSERT_EQ(rest->status, 200) << rest->body;
  auto records = log_.snapshot();
  ASSERT_EQ(records.size(), 2u);
  ASSERT_EQ(records[0].attachments.size(), 1u);  // the REST body is /attachment1
  EXPECT_EQ(records[0].attachments[0], "{\"seed\":42}");
  log_.records.clear();
  // SOAP with attachments (multipart/related, PR-MESS 2.4).
  std::string boundary = "hansa-test-boundary";
  std::string body = "--" + boundary + "\r\nContent-Type: text/xml; charset=UTF-8\r\n\r\n" +
                     soap_request("swa") + "\r\n--" + boundary +
                     "\r\nContent-Type: application/octet-stream\r\nContent-ID: <att1>\r\n\r\n"
                     "attachment bytes\r\n--" +
                     boundary + "--\r\n";
  auto swa =
      is->post("/", body, "multipart/related; type=\"text/xml\"; boundary=\"" + boundary + "\"");
  ASSERT_TRUE(swa.ok()) << swa.error().to_string();
  ASSERT_EQ(swa->status, 200) << swa->body;
  records = log_.snapshot();
  ASSERT_EQ(records.size(), 2u);
  ASSERT_EQ(records[0].attachments.size(), 1u);
  EXPECT_EQ(records[0].attachments[0], "attachment bytes");
  std::vector<std::string_view> attachments(records[0].attachments.begin(),
                                            records[0].attachments.end());
  auto data = message::signed_data(message::SignedParts{records[0].message, attachments},
                                   records[0].hash_chain_result, records[0].hash_chain);
  signature::VerifyOptions vo;
  vo.expected_signer = client_;
  auto verified = signature::verify(records[0].signature, data, *conf(), vo);
  EXPECT_TRUE(verified.ok()) << verified.error().to_string();
}

TEST_F(ClientProxyTest, ConnectionsToThePeerArePooled) {
  start_proxy();
  auto is = is_client(false);
  for (int i = 0; i < 5; ++i) {
    auto res = call_soap(*is, soap_request("q" + std::to_string(i)));
    ASSERT_TRUE(res.ok());
    ASSERT_EQ(res->status, 200) << res->body;
  }
  auto stats = pool_->stats();
  EXPECT_EQ(stats.calls, 5u);
  EXPECT_EQ(stats.connections_created, 1u);
  EXPECT_EQ(stats.tls_handshakes, 1u);
}

// A pooled connection the peer node closed while it was idle (its keep-alive timeout) is
// replaced: the call goes out on a new connection instead of failing.
TEST_F(ClientProxyTest, ConnectionTheIdlePeerClosedIsReplaced) {
  peer_->stop();
  peer_keep_alive_ = std::chrono::seconds(1);
  start_peer();
  start_proxy();
  auto is = is_client(false);
  auto first = call_soap(*is, soap_request("idle-1"));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->status, 200) << first->body;
  std::this_thread::sleep_for(1500ms);  // the peer closes the idle connection
  auto second = call_soap(*is, soap_request("idle-2"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, 200) << second->body;
  EXPECT_EQ(peer_calls_.load(), 2);
  // The pooled client stays; core/http opened the new connection under it.
  EXPECT_EQ(pool_->stats().connections_created, 1u);
}

TEST_F(ClientProxyTest, UnknownClientIsRefusedBeforeSigning) {
  make_serverconf(serverconf::IsConnectionType::kHttp, {});
  client_ = ids::ClientId::parse("SUBSYSTEM:" + pki_.env()["MEMBER_1_ID"] + "/OTHER").value();
  start_proxy();
  auto is = is_client(false);
  expect_soap_fault(call_soap(*is, soap_request()), "Server.ClientProxy.UnknownMember");
  EXPECT_TRUE(log_.snapshot().empty());
  EXPECT_EQ(peer_calls_, 0);
  expect_call("Server.ClientProxy.UnknownMember");
}

TEST_F(ClientProxyTest, MalformedRequestsAreClientFaults) {
  start_proxy();
  auto is = is_client(false);
  std::string no_client = soap_request();
  auto pos = no_client.find("<xroad:client");
  ASSERT_NE(pos, std::string::npos) << no_client;
  auto end = no_client.find("</xroad:client>", pos);
  no_client.erase(pos, end + 15 - pos);
  auto res = call_soap(*is, no_client);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 500);
  auto fault = message::parse_fault(res->body);
  ASSERT_TRUE(fault.ok()) << res->body;
  EXPECT_TRUE(fault->code.starts_with("Client.")) << fault->code;
  // REST without X-Road-Client: 400 with X-Road-Error and a JSON error.
  auto rest = is->get(rest_target());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->status, 400);
  EXPECT_EQ(rest->header("X-Road-Error").value_or(""), "Client.MissingHeaderField");
  EXPECT_NE(rest->body.find("\"detail\""), std::string::npos);
  EXPECT_TRUE(log_.snapshot().empty());
  EXPECT_EQ(calls_.snapshot().size(), 2u);
}

// A body over the limit is refused before it is read, in the protocol of the endpoint: a SOAP
// fault on the SOAP endpoint, an X-Road REST error with 413 on /r1/. A GET on the SOAP endpoint
// gets a SOAP fault too.
TEST_F(ClientProxyTest, OversizedBodyIsRefused) {
  start_proxy(4096);
  auto is = is_client(false);
  auto res = call_soap(*is, soap_request() + std::string(8192, ' '));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 500);
  EXPECT_TRUE(res->header("Content-Type").value_or("").starts_with("text/xml"));
  auto fault = message::parse_fault(res->body);
  ASSERT_TRUE(fault.ok()) << res->body;
  EXPECT_EQ(fault->code, "Server.ClientProxy.LimitExceeded");
  EXPECT_EQ(fault->string, "request body too large");
  EXPECT_EQ(fault->detail.value_or("").size(), 36u);  // the UUID in the log line

  auto rest = is->post(rest_target(), std::string(8192, '1'), "application/json", rest_headers());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->status, 413);
  EXPECT_EQ(rest->header("X-Road-Error").value_or(""), "Server.ClientProxy.LimitExceeded");
  auto body = nlohmann::json::parse(rest->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << rest->body;
  EXPECT_EQ(body.value("type", ""), "Server.ClientProxy.LimitExceeded");
  EXPECT_EQ(body.value("message", ""), "request body too large");

  auto get = is->get("/");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 500);
  fault = message::parse_fault(get->body);
  ASSERT_TRUE(fault.ok()) << get->body;
  EXPECT_EQ(fault->code, "Server.ClientProxy.BadRequest");
  EXPECT_TRUE(log_.snapshot().empty());
  // Counted for /metrics by status: two bodies over the limit, one method the endpoint lacks.
  EXPECT_EQ(refusal_counts(proxy_->refusals()), (std::map<int, std::uint64_t>{{405, 1}, {413, 2}}));
}

TEST_F(ClientProxyTest, SlowlorisIsIsCutOff) {
  start_proxy();
  hansa::testing::RawSocket sock(proxy_->http_port());
  ASSERT_TRUE(sock.connected());
  auto started = std::chrono::steady_clock::now();
  bool closed = false;
  ASSERT_TRUE(sock.send("POST / HTTP/1.1\r\n"));
  for (int i = 0; i < 30 && !closed; ++i) {
    std::this_thread::sleep_for(100ms);
    closed = !sock.send("X-Slow-" + std::to_string(i) + ": a\r\n");
  }
  // The header deadline (500 ms) closed the connection long before the headers could finish.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s + 500ms);
  EXPECT_TRUE(closed);
}

TEST_F(ClientProxyTest, IsConnectionTypeIsEnforced) {
  std::string is_cert = read_file(pki_.env()["UNTRUSTED_SIGN_CERT"]);
  std::string is_key = read_file(pki_.env()["UNTRUSTED_SIGN_KEY"]);
  make_serverconf(serverconf::IsConnectionType::kHttpsAuth, {is_cert});
  start_proxy();
  // Plain HTTP, and HTTPS without or with a foreign certificate, are refused.
  expect_soap_fault(call_soap(*is_client(false), soap_request()), "Client.SslAuthenticationFailed");
  expect_soap_fault(call_soap(*is_client(true), soap_request()), "Client.SslAuthenticationFailed");
  expect_soap_fault(
      call_soap(*is_client(true, first_cert_pem(node2_chain_), node2_key_), soap_request()),
      "Client.SslAuthenticationFailed");
  EXPECT_TRUE(log_.snapshot().empty());
  // The registered IS certificate passes.
  auto ok = call_soap(*is_client(true, is_cert, is_key), soap_request());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST_F(ClientProxyTest, HttpsOnlyClientRefusesPlainHttp) {
  make_serverconf(serverconf::IsConnectionType::kHttps, {});
  start_proxy();
  expect_soap_fault(call_soap(*is_client(false), soap_request()), "Client.SslAuthenticationFailed");
  auto ok = call_soap(*is_client(true), soap_request());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST_F(ClientProxyTest, PeerThatHangsIsANetworkError) {
  mode_ = PeerMode::kHang;
  start_proxy();
  expect_soap_fault(call_soap(*is_client(false), soap_request()),
                    "Server.ClientProxy.NetworkError");
  expect_only_request_logged();
  expect_call("Server.ClientProxy.NetworkError");
}

TEST_F(ClientProxyTest, PeerThatAnswersGarbageIsRefused) {
  mode_ = PeerMode::kGarbage;
  start_proxy();
  expect_soap_fault(call_soap(*is_client(false), soap_request()),
                    "Server.ClientProxy.InvalidContentType");
  expect_only_request_logged();
}

TEST_F(ClientProxyTest, PeerThatClosesEarlyIsANetworkError) {
  // A listener that accepts and closes at once (no TLS, no answer).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::listen(fd, 8);
  std::atomic<bool> quit{false};
  std::thread closer([&] {
    while (!quit) {
      int c = ::accept(fd, nullptr, nullptr);
      if (c >= 0) {
        ::close(c);
      }
    }
  });
  make_conf({"127.0.0.1:" + std::to_string(ntohs(addr.sin_port))});
  start_proxy();
  expect_soap_fault(call_soap(*is_client(false), soap_request()),
                    "Server.ClientProxy.NetworkError");
  expect_only_request_logged();
  quit = true;
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  closer.join();
}

TEST_F(ClientProxyTest, WrongRequestHashIsAnInconsistentResponse) {
  mode_ = PeerMode::kWrongHash;
  start_proxy();
  expect_soap_fault(call_soap(*is_client(false), soap_request()),
                    "Server.ClientProxy.InconsistentResponse");
  expect_only_request_logged();
  log_.records.clear();
  auto rest = is_client(false)->get(rest_target(), rest_headers());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->status, 500);
  EXPECT_EQ(rest->header("X-Road-Error").value_or(""), "Server.ClientProxy.InconsistentResponse");
  expect_only_request_logged();
}

TEST_F(ClientProxyTest, ResponseSignedByAnotherMemberIsRefused) {
  mode_ = PeerMode::kWrongSigner;
  start_proxy();
  expect_soap_fault(call_soap(*is_client(false), soap_request()),
                    "Server.ClientProxy.IncorrectCertificate");
  expect_only_request_logged();
}

TEST_F(ClientProxyTest, PeerFaultsPassThroughUnchanged) {
  mode_ = PeerMode::kFault;
  start_proxy();
  auto res = call_soap(*is_client(false), soap_request());
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 500);
  auto fault = message::parse_fault(res->body);
  ASSERT_TRUE(fault.ok());
  EXPECT_EQ(fault->code, "Server.ServerProxy.AccessDenied");
  EXPECT_EQ(fault->detail.value_or(""), "detail-123");
  auto rest = is_client(false)->get(rest_target(), rest_headers());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->status, 500);
  EXPECT_EQ(rest->header("X-Road-Error").value_or(""), "Server.ServerProxy.AccessDenied");
  expect_call("Server.ServerProxy.AccessDenied");
}

TEST_F(ClientProxyTest, FailsOverFromADeadNode) {
  // Node 2 is listed at a dead address first, then a second server at the live one.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string dead = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  ::close(fd);  // nothing listens there now
  make_conf({dead, peer_address()});
  start_proxy();
  auto is = is_client(false);
  for (int i = 0; i < 3; ++i) {
    auto res = call_soap(*is, soap_request("q" + std::to_string(i)));
    ASSERT_TRUE(res.ok());
    EXPECT_EQ(res->status, 200) << res->body;
  }
  // The live node won the race and is cached: only live calls reached the pool.
  EXPECT_EQ(pool_->stats().calls, 3u);
  EXPECT_EQ(peer_calls_, 3);
}

TEST_F(ClientProxyTest, SecurityServerHeaderTargetsOneNode) {
  make_conf({peer_address()});
  start_proxy();
  message::SoapHeader header{.client = client_,
                             .service = service_,
                             .id = "q",
                             .user_id = std::nullopt,
                             .issue = std::nullopt,
                             .protocol_version = "4.0"};
  header.security_server = ids::SecurityServerId::create(member2_, "NOPE").value();
  std::string req = message::build_soap_message(header, "<ns:getRandom xmlns:ns=\"urn:test\"/>");
  expect_soap_fault(call_soap(*is_client(false), req), "Server.ClientProxy.InvalidSecurityServer");
  header.security_server = node2_;
  auto ok = call_soap(*is_client(false),
                      message::build_soap_message(header, "<ns:getRandom xmlns:ns=\"urn:test\"/>"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST_F(ClientProxyTest, OutdatedGlobalConfStopsExchange) {
  make_conf({peer_address()}, std::chrono::system_clock::now() - 1s);
  start_proxy();
  expect_soap_fault(call_soap(*is_client(false), soap_request()),
                    "Server.ClientProxy.OutdatedGlobalConf");
  auto rest = is_client(false)->get(rest_target(), rest_headers());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->status, 500);
  EXPECT_EQ(rest->header("X-Road-Error").value_or(""), "Server.ClientProxy.OutdatedGlobalConf");
  EXPECT_EQ(peer_calls_, 0);
}

TEST_F(ClientProxyTest, LogFailureStopsTheCallBeforeSending) {
  log_.fail = true;
  start_proxy();
  expect_soap_fault(call_soap(*is_client(false), soap_request()),
                    "Server.ClientProxy.LoggingFailed");
  EXPECT_EQ(peer_calls_, 0);
}

// Member 2's key for the provider node's batch signer.
class Member2Keys final : public SigningKeys {
 public:
  Member2Keys(const crypto::Certificate& cert, const crypto::PrivateKey& key, std::string ocsp)
      : cert_(cert), key_(key), ocsp_(std::move(ocsp)) {}
  Result<SigningMaterial> material(const ids::MemberId&) override {
    return SigningMaterial{cert_, ocsp_};
  }
  Result<std::string> sign(const ids::MemberId&, crypto::SignatureAlgorithm alg,
                           std::string_view data) override {
    return key_.sign(alg, data);
  }

 private:
  const crypto::Certificate& cert_;
  const crypto::PrivateKey& key_;
  std::string ocsp_;
};

// Two nodes in one process: this client proxy (node 1) calls node 2's real server proxy, which
// calls a provider information system.
class TwoNodeTest : public ClientProxyTest {
 protected:
  void SetUp() override {
    ClientProxyTest::SetUp();
    if (IsSkipped()) {
      return;
    }
    peer_->stop();  // the stand-in is replaced by the real server proxy
    provider_is_ = http::Server::create(http::ServerOptions{}).value();
    provider_is_->route("POST", "/soap", [](const http::Request& req, http::Response& res) {
      auto request =
          message::parse_soap(req.header("Content-Type").value_or(""), std::string(req.body()));
      if (!request.ok()) {
        res.status = 500;
        return;
      }
      res.set_body(message::build_soap_message(*request->header,
                                               "<ns:getRandomResponse xmlns:ns=\"urn:test\">"
                                               "<ns:n>7</ns:n></ns:getRandomResponse>"),
                   "text/xml; charset=UTF-8");
    });
    provider_is_->route("GET", "/api/*", [](const http::Request& req, http::Response& res) {
      res.set_body("{\"path\":\"" + std::string(req.path()) + "\"}", "application/json");
    });
    ASSERT_TRUE(provider_is_->start().ok());
    std::string base = "http://127.0.0.1:" + std::to_string(provider_is_->port());

    serverconf::SnapshotData data;
    data.server = node2_;
    data.clients.push_back(
        serverconf::ClientEntry{.id = provider_,
                                .state = serverconf::RegistrationState::kRegistered,
                                .is_connection = serverconf::IsConnectionType::kHttp,
                                .is_certs = {},
                                .is_cert_sha256_hex = {}});
    for (std::int64_t id : {1, 2}) {
      data.descriptions.push_back(
          serverconf::DescriptionEntry{.id = id,
                                       .client = provider_,
                                       .type = id == 1 ? serverconf::DescriptionType::kWsdl
                                                       : serverconf::DescriptionType::kOpenApi,
                                       .enabled = true});
    }
    data.services.push_back(
        serverconf::ServiceEntry{.id = service_,
                                 .description_id = 1,
                                 .description_type = serverconf::DescriptionType::kWsdl,
                                 .type = serverconf::ServiceType::kSoap,
                                 .title = "",
                                 .url = base + "/soap",
                                 .timeout = 5s});
    data.services.push_back(
        serverconf::ServiceEntry{.id = ids::ServiceId::create(provider_, "restApi").value(),
                                 .description_id = 2,
                                 .description_type = serverconf::DescriptionType::kOpenApi,
                                 .type = serverconf::ServiceType::kRest,
                                 .title = "",
                                 .url = base + "/api",
                                 .timeout = 5s});
    rest_code_ = "restApi";
    peer_timeout_ = 20s;
    for (std::int64_t id : {1, 2}) {
      data.endpoints.push_back(
          {id,
           provider_,
           id == 1 ? "getRandom" : "restApi",
           serverconf::PathPattern::create(serverconf::kServiceEndpoint).value(),
           true,
           {client_}});
    }
    node2_conf_ = std::make_shared<const serverconf::ServerConfSnapshot>(std::move(data));
    m2_keys_ = std::make_unique<Member2Keys>(*m2_cert_, *m2_key_, m2_ocsp_);
    m2_signer_ = BatchSigner::create(*m2_keys_).value();
    server_verifier_ = std::make_unique<PeerVerifier>([this] { return conf(); });
    provider_client_ = ProviderClient::create().value();
    ServerProxyOptions options;
    http::ServerTlsConfig tls;
    tls.cert_chain_pem = node2_chain_;
    tls.key_pem = node2_key_;
    options.server.tls = tls;
    options.server.worker_threads = 16;  // every test connection gets a worker at once
    options.server.max_body_bytes = node2_max_body_;
    ServerProxyDeps deps;
    deps.globalconf = [this] { return conf(); };
    deps.serverconf = [this] { return node2_conf_; };
    deps.peer_verifier = server_verifier_.get();
    deps.signer = m2_signer_.get();
    deps.message_log = &node2_log_;
    deps.provider = provider_client_.get();
    auto created = ServerProxy::create(options, deps);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    server_proxy_ = std::move(created).value();
    ASSERT_TRUE(server_proxy_->start().ok());
    make_conf({"127.0.0.1:" + std::to_string(server_proxy_->port())});
  }

  void TearDown() override {
    ClientProxyTest::TearDown();
    if (server_proxy_) {
      server_proxy_->stop();
    }
    if (provider_is_) {
      provider_is_->stop();
    }
  }

  std::unique_ptr<http::Server> provider_is_;
  std::shared_ptr<const serverconf::ServerConfSnapshot> node2_conf_;
  std::unique_ptr<Member2Keys> m2_keys_;
  std::unique_ptr<BatchSigner> m2_signer_;
  std::unique_ptr<PeerVerifier> server_verifier_;
  std::unique_ptr<ProviderClient> provider_client_;
  MemoryLog node2_log_;
  std::unique_ptr<ServerProxy> server_proxy_;
  std::size_t node2_max_body_ = http::ServerOptions{}.max_body_bytes;
};

TEST_F(TwoNodeTest, SoapAndRestCallsGoThroughBothNodesAndAreLoggedOnBoth) {
  start_proxy();
  auto is = is_client(false);
  constexpr int kCalls = 8;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      auto client = is_client(false);
      auto res = call_soap(*client, soap_request("q" + std::to_string(i)));
      if (res.ok() && res->status == 200) {
        ++good;
      } else {
        ADD_FAILURE() << (res.ok() ? res->body : res.error().to_string());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(good, kCalls);
  auto rest = is->get(rest_target(), rest_headers());
  ASSERT_TRUE(rest.ok()) << rest.error().to_string();
  EXPECT_EQ(rest->status, 200) << rest->body;
  EXPECT_EQ(rest->body, "{\"path\":\"/api/numbers\"}");
  EXPECT_TRUE(rest->header("X-Road-Request-Hash").has_value());
  // Every message is in both logs: requests signed by member 1, responses by member 2.
  for (auto* log : {&log_, &node2_log_}) {
    auto records = log->snapshot();
    ASSERT_EQ(records.size(), 2u * (kCalls + 1));
    for (const auto& record : records) {
      std::vector<std::string_view> attachments(record.attachments.begin(),
                                                record.attachments.end());
      auto data = message::signed_data(message::SignedParts{record.message, attachments},
                                       record.hash_chain_result, record.hash_chain);
      signature::VerifyOptions vo;
      vo.expected_signer = record.response ? provider_ : client_;
      auto verified = signature::verify(record.signature, data, *conf(), vo);
      EXPECT_TRUE(verified.ok()) << verified.error().to_string();
    }
  }
  expect_call("");
}

TEST_F(TwoNodeTest, RefusalByTheProviderNodePassesThrough) {
  start_proxy();
  client_ = ids::ClientId::parse("SUBSYSTEM:" + pki_.env()["MEMBER_1_ID"] + "/CLIENT").value();
  auto other = ids::ServiceId::create(provider_, "notGranted", "v1").value();
  service_ = other;
  auto res = call_soap(*is_client(false), soap_request());
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 500);
  auto fault = message::parse_fault(res->body);
  ASSERT_TRUE(fault.ok()) << res->body;
  EXPECT_TRUE(fault->code.starts_with("Server.ServerProxy.")) << fault->code;
  EXPECT_TRUE(node2_log_.snapshot().empty());
}

// The provider's node refuses a request over its body limit before reading it, with a SOAP fault
// that the client's node passes on to the IS unchanged.
class TwoNodeSmallLimitTest : public TwoNodeTest {
 protected:
  TwoNodeSmallLimitTest() { node2_max_body_ = 16 * 1024; }  // a signed request is about 10 KB
};

TEST_F(TwoNodeSmallLimitTest, RequestOverTheProviderNodesLimitIsASoapFault) {
  start_proxy();  // 1 MB on the client's node
  auto res = call_soap(*is_client(false), soap_request() + std::string(32 * 1024, ' '));
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 500);
  auto fault = message::parse_fault(res->body);
  ASSERT_TRUE(fault.ok()) << res->body;
  EXPECT_EQ(fault->code, "Server.ServerProxy.LimitExceeded");
  EXPECT_EQ(fault->string, "request body too large");
  EXPECT_TRUE(node2_log_.snapshot().empty());
  // A request under the limit still goes through.
  auto small = call_soap(*is_client(false), soap_request("small"));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->status, 200) << small->body;
  // The provider's node counts the refusal; the client's node refused nothing itself.
  EXPECT_EQ(refusal_counts(server_proxy_->refusals()), (std::map<int, std::uint64_t>{{413, 1}}));
  EXPECT_TRUE(proxy_->refusals().empty());
}

TEST(NodeSelector, RaceFindsTheLiveNodeAndTheChoiceIsCached) {
  http::ServerOptions so;
  auto live = http::Server::create(so).value();
  ASSERT_TRUE(live->start().ok());
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  auto owner = ids::MemberId::parse("MEMBER:DEV/COM/1").value();
  NodeCandidate dead{ids::SecurityServerId::create(owner, "A").value(),
                     "127.0.0.1:" + std::to_string(ntohs(addr.sin_port))};
  NodeCandidate alive{ids::SecurityServerId::create(owner, "B").value(),
                      "127.0.0.1:" + std::to_string(live->port())};
  auto now = std::chrono::steady_clock::now();
  NodeSelector selector({}, [&] { return now; });
  auto service = ids::ServiceId::parse("SERVICE:DEV/COM/1/SUB/svc").value();
  auto order = selector.order(service, {dead, alive});
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], alive);
  // Cached: even once the live node is gone, it stays first until the TTL or a failure report.
  live->stop();
  EXPECT_EQ(selector.order(service, {dead, alive})[0], alive);
  selector.report_failure(service, alive);
  EXPECT_EQ(selector.order(service, {dead, alive})[0], dead);  // nobody answers: config order
  selector.report_success(service, alive);
  now += std::chrono::hours(2);  // past the TTL: raced again
  EXPECT_EQ(selector.order(service, {dead, alive})[0], dead);
}

}  // namespace
}  // namespace hansa::proxy
