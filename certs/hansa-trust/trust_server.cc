#include "certs/hansa-trust/trust_server.h"

#include "core/conf/reader.h"
#include "core/crypto/encoding.h"

namespace hansa::trust {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kOcspRequestType = "application/ocsp-request";
constexpr std::string_view kOcspResponseType = "application/ocsp-response";
constexpr std::string_view kTsQueryType = "application/timestamp-query";
constexpr std::string_view kTsReplyType = "application/timestamp-reply";

// True when the request's Content-Type is `expected` (parameters ignored).
bool has_content_type(const http::Request& req, std::string_view expected) {
  std::string_view type = req.header("Content-Type").value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') {
    type.remove_suffix(1);
  }
  return http::iequals(type, expected);
}

void answer(http::Response& res, std::string der, std::string_view type) {
  if (der.empty()) {
    res.set_error(Error(FaultCode::kInternalError, "cannot build a response"));
    return;
  }
  res.set_body(std::move(der), type);
}

http::ServerOptions listener_options(const TrustConfig& config, std::uint16_t port) {
  http::ServerOptions options = config.http;
  options.host = config.host;
  options.port = port;
  options.max_body_bytes = config.max_request_bytes;
  options.tls.reset();
  return options;
}

}  // namespace

TrustConfig dev_pki_config(const std::filesystem::path& pki_dir,
                           const std::filesystem::path& state_file) {
  TrustConfig c;
  c.ocsp_port = 0;
  c.tsa_port = 0;
  c.ocsp.issuer_cert = pki_dir / "ca/intermediate.pem";
  c.ocsp.index_file = pki_dir / "ca/intermediate/index.txt";
  c.ocsp.responder_cert = pki_dir / "ocsp/ocsp.pem";
  c.ocsp.responder_key = pki_dir / "ocsp/ocsp.key";
  c.ocsp.state_file = state_file;
  c.tsa.cert = pki_dir / "tsa/tsa.pem";
  c.tsa.key = pki_dir / "tsa/tsa.key";
  c.tsa.chain = pki_dir / "tsa/chain.pem";
  return c;
}

Result<TrustConfig> load_trust_config(const std::filesystem::path& file) {
  HANSA_ASSIGN_OR_RETURN(auto reader, conf::ConfReader::from_file(file));
  TrustConfig c;
  c.host = reader.get_string("host", c.host);
  c.max_request_bytes = static_cast<std::size_t>(reader.get_integer(
      "max_request_bytes", static_cast<std::int64_t>(c.max_request_bytes), 1024, 16 * 1024 * 1024));

  auto ocsp = reader.table("ocsp");
  c.ocsp_port = static_cast<std::uint16_t>(ocsp.get_integer("port", c.ocsp_port, 0, 65535));
  c.ocsp.issuer_cert = ocsp.require_path("issuer_cert");
  c.ocsp.responder_cert = ocsp.require_path("responder_cert");
  c.ocsp.responder_key = ocsp.require_path("responder_key");
  if (ocsp.has("index_file")) {
    c.ocsp.index_file = ocsp.require_path("index_file");
  }
  c.ocsp.state_file = ocsp.get_path("state_file", "hansa-trust-state.json");
  c.ocsp.next_update = std::chrono::duration_cast<std::chrono::seconds>(
      ocsp.get_duration("next_update", c.ocsp.next_update, 0ms, std::chrono::hours(24 * 366)));
  c.ocsp.max_request_entries = static_cast<std::size_t>(ocsp.get_integer(
      "max_request_entries", static_cast<std::int64_t>(c.ocsp.max_request_entries), 1, 1000));

  auto tsa = reader.table("tsa");
  c.tsa_port = static_cast<std::uint16_t>(tsa.get_integer("port", c.tsa_port, 0, 65535));
  c.tsa.cert = tsa.require_path("cert");
  c.tsa.key = tsa.require_path("key");
  if (tsa.has("chain")) {
    c.tsa.chain = tsa.require_path("chain");
  }
  c.tsa.policy = tsa.get_string("policy", c.tsa.policy);

  auto http = reader.table("http");
  auto& h = c.http;
  h.worker_threads = static_cast<std::size_t>(
      http.get_integer("worker_threads", static_cast<std::int64_t>(h.worker_threads), 1, 256));
  h.max_queued_connections = static_cast<std::size_t>(http.get_integer(
      "max_queued_connections", static_cast<std::int64_t>(h.max_queued_connections), 1, 4096));
  h.max_header_count = static_cast<std::size_t>(
      http.get_integer("max_header_count", static_cast<std::int64_t>(h.max_header_count), 1, 1000));
  h.max_header_bytes = static_cast<std::size_t>(http.get_integer(
      "max_header_bytes", static_cast<std::int64_t>(h.max_header_bytes), 1024, 1024 * 1024));
  h.read_timeout = http.get_duration("read_timeout", h.read_timeout, 10ms, 600s);
  h.write_timeout = http.get_duration("write_timeout", h.write_timeout, 10ms, 600s);
  h.header_timeout = http.get_duration("header_timeout", h.header_timeout, 10ms, 600s);
  h.body_timeout = http.get_duration("body_timeout", h.body_timeout, 10ms, 600s);
  h.min_body_rate = static_cast<std::size_t>(http.get_integer(
      "min_body_rate", static_cast<std::int64_t>(h.min_body_rate), 0, 1'000'000'000));
  h.keep_alive_timeout = std::chrono::duration_cast<std::chrono::seconds>(
      http.get_duration("keep_alive_timeout", h.keep_alive_timeout, 1s, 600s));
  return reader.finish(std::move(c));
}

Result<std::unique_ptr<TrustServer>> TrustServer::create(const TrustConfig& config) {
  std::unique_ptr<TrustServer> self(new TrustServer());
  HANSA_ASSIGN_OR_RETURN(auto ocsp, OcspResponder::create(config.ocsp));
  HANSA_ASSIGN_OR_RETURN(auto tsa, TimeStampAuthority::create(config.tsa));
  self->ocsp_ = std::move(ocsp);
  self->tsa_ = std::move(tsa);
  HANSA_ASSIGN_OR_RETURN(self->ocsp_server_,
                         http::Server::create(listener_options(config, config.ocsp_port)));
  HANSA_ASSIGN_OR_RETURN(self->tsa_server_,
                         http::Server::create(listener_options(config, config.tsa_port)));

  // RFC 6960 A.1: POST with application/ocsp-request, at /ocsp (the dev PKI's AIA) or /.
  auto ocsp_post = [ocsp = self->ocsp_](const http::Request& req, http::Response& res) {
    if (!has_content_type(req, kOcspRequestType)) {
      res.set_error(Error(FaultCode::kInvalidContentType, "expected application/ocsp-request",
                          std::string(req.header("Content-Type").value_or(""))));
      return;
    }
    answer(res, ocsp->respond(req.body()), kOcspResponseType);
  };
  // RFC 6960 A.1: GET {url}/{url-encoding of base-64 encoding of the DER OCSPRequest}. The
  // server has already undone the URL encoding.
  auto ocsp_get = [ocsp = self->ocsp_](std::size_t prefix) {
    return [ocsp, prefix](const http::Request& req, http::Response& res) {
      auto der = crypto::base64_decode(req.path().substr(prefix));
      // Undecodable input is a malformed OCSP request, answered as such.
      answer(res, ocsp->respond(der.ok() ? std::string_view(*der) : std::string_view("\x01")),
             kOcspResponseType);
    };
  };
  self->ocsp_server_->route("POST", "/ocsp", ocsp_post);
  self->ocsp_server_->route("POST", "/", ocsp_post);
  self->ocsp_server_->route("GET", "/ocsp/*", ocsp_get(6));
  self->ocsp_server_->route("GET", "/*", ocsp_get(1));

  // RFC 3161 3.4: POST with application/timestamp-query, answer application/timestamp-reply.
  auto tsa_post = [tsa = self->tsa_](const http::Request& req, http::Response& res) {
    if (!has_content_type(req, kTsQueryType)) {
      res.set_error(Error(FaultCode::kInvalidContentType, "expected application/timestamp-query",
                          std::string(req.header("Content-Type").value_or(""))));
      return;
    }
    answer(res, tsa->respond(req.body()), kTsReplyType);
  };
  self->tsa_server_->route("POST", "/tsa", tsa_post);
  self->tsa_server_->route("POST", "/", tsa_post);
  return self;
}

TrustServer::~TrustServer() { stop(); }

Status TrustServer::start() {
  HANSA_RETURN_IF_ERROR(ocsp_server_->start());
  Status tsa = tsa_server_->start();
  if (!tsa.ok()) {
    ocsp_server_->stop();
    return tsa;
  }
  return ok_status();
}

std::uint16_t TrustServer::ocsp_port() const noexcept { return ocsp_server_->port(); }
std::uint16_t TrustServer::tsa_port() const noexcept { return tsa_server_->port(); }

void TrustServer::stop() {
  if (ocsp_server_) {
    ocsp_server_->stop();
  }
  if (tsa_server_) {
    tsa_server_->stop();
  }
}

}  // namespace hansa::trust
