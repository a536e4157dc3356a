#include "node/proxy/provider_client.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <utility>

#include "core/crypto/openssl_ptr.h"
#include "core/http/gathering_client.h"

namespace hansa::proxy {

namespace {

struct Target {
  bool https = false;
  std::string host;
  int port = 0;
  std::string path;  // with the query; "/" when the URL has none
};

Result<Target> parse_url(std::string_view url) {
  Target t;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.starts_with("https://")) {
    t.https = true;
    url.remove_prefix(8);
  } else {
    return Error(FaultCode::kServiceMissingUrl, "Service URL is not http(s)", std::string(url));
  }
  std::size_t slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (!t.path.empty() && t.path.front() == '?') {
    t.path = std::string("/").append(t.path);
  }
  if (authority.find('@') != std::string_view::npos) {
    return Error(FaultCode::kServiceMissingUrl, "Service URL must not carry user information");
  }
  std::string_view port_text;
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Error(FaultCode::kServiceMissingUrl, "Bad IPv6 address in service URL");
    }
    t.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Error(FaultCode::kServiceMissingUrl, "Bad service URL", std::string(authority));
      }
      port_text = rest.substr(1);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (t.host.empty()) {
    return Error(FaultCode::kServiceMissingUrl, "Service URL has no host");
  }
  t.port = t.https ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return Error(FaultCode::kServiceMissingUrl, "Bad port in service URL",
                   std::string(port_text));
    }
    t.port = port;
  }
  return t;
}

std::pair<time_t, time_t> split(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<time_t>((ms.count() % 1000) * 1000)};
}

std::string pool_key(const Target& t, bool ssl_verify) {
  return (t.https ? (ssl_verify ? "https+v://" : "https://") : "http://") + t.host + ":" +
         std::to_string(t.port);
}

std::string drain_ssl_errors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out;
}

}  // namespace

// A connection to a provider: httplib's client and the whole-call deadline its stream honours
// (the same object: make() builds every client as an http::GatheringClient).
struct Pooled {
  std::unique_ptr<httplib::ClientImpl> cli;
  http::CallDeadline* deadline = nullptr;
};

struct ProviderClient::Impl {
  ProviderClientOptions options;
  std::vector<crypto::X509Ptr> trust;  // parsed ca_pem
  crypto::X509Ptr client_cert;
  crypto::EvpPkeyPtr client_key;

  mutable std::mutex mu;
  std::map<std::string, std::vector<Pooled>, std::less<>> idle;
  std::size_t idle_count = 0;
  std::atomic<std::uint64_t> created{0};

  Result<Pooled> make(const Target& t, bool ssl_verify);
  // An idle connection to `key`, or one with a null client.
  Pooled take(const std::string& key);
  void give_back(const std::string& key, Pooled conn);
};

Result<Pooled> ProviderClient::Impl::make(const Target& t, bool ssl_verify) {
  Pooled out;
  if (t.https) {
    std::unique_ptr<http::GatheringClient<httplib::SSLClient>> ssl;
    if (client_cert && client_key) {
      ssl = std::make_unique<http::GatheringClient<httplib::SSLClient>>(
          t.host, t.port, client_cert.get(), client_key.get());
    } else {
      ssl = std::make_unique<http::GatheringClient<httplib::SSLClient>>(t.host, t.port);
    }
    SSL_CTX* ctx = ssl->ssl_context();
    if (ctx == nullptr) {
      return Error(FaultCode::kInternalError, "Cannot create a TLS context");
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (ssl_verify) {
      ssl->enable_server_certificate_verification(true);
      if (!trust.empty()) {
        X509_STORE* store = X509_STORE_new();
        if (store == nullptr) {
          return Error(FaultCode::kInternalError, "Cannot create a certificate store");
        }
        for (const auto& cert : trust) {
          X509_STORE_add_cert(store, cert.get());
        }
        ssl->set_ca_cert_store(store);  // the context takes ownership
      } else {
        SSL_CTX_set_default_verify_paths(ctx);
      }
    } else {
      ssl->enable_server_certificate_verification(false);
    }
    out.deadline = ssl.get();
    out.cli = std::move(ssl);
  } else {
    auto plain = std::make_unique<http::GatheringClient<httplib::ClientImpl>>(t.host, t.port);
    out.deadline = plain.get();
    out.cli = std::move(plain);
  }
  httplib::ClientImpl* cli = out.cli.get();
  auto [cs, cu] = split(options.connect_timeout);
  auto [ws, wu] = split(options.write_timeout);
  cli->set_connection_timeout(cs, cu);
  cli->set_write_timeout(ws, wu);
  cli->set_keep_alive(true);
  // A small request leaves in one write (http::GatheringStream); a large body follows its head
  // in a second one, which without TCP_NODELAY would wait for the provider's delayed ACK.
  cli->set_tcp_nodelay(true);
  cli->set_follow_location(false);
  cli->set_url_encode(false);
  cli->set_compress(false);
  cli->set_decompress(false);
  created.fetch_add(1, std::memory_order_relaxed);
  return out;
}

Pooled ProviderClient::Impl::take(const std::string& key) {
  std::lock_guard lock(mu);
  auto it = idle.find(key);
  if (it == idle.end() || it->second.empty()) {
    return {};
  }
  Pooled conn = std::move(it->second.back());
  it->second.pop_back();
  --idle_count;
  return conn;
}

void ProviderClient::Impl::give_back(const std::string& key, Pooled conn) {
  std::unique_lock lock(mu);
  auto it = idle.find(key);
  if (it == idle.end()) {
    if (idle.size() >= options.max_targets) {
      lock.unlock();
      return;  // conn is closed outside the lock
    }
    it = idle.emplace(key, std::vector<Pooled>{}).first;
  }
  if (it->second.size() >= options.max_idle_per_target) {
    lock.unlock();
    return;
  }
  it->second.push_back(std::move(conn));
  ++idle_count;
}

Result<std::unique_ptr<ProviderClient>> ProviderClient::create(ProviderClientOptions options) {
  if (options.connect_timeout.count() <= 0 || options.write_timeout.count() <= 0 ||
      options.total_timeout.count() <= 0 || options.max_response_bytes == 0) {
    return Error(FaultCode::kInvalidConfiguration, "provider client limits must be positive");
  }
  auto impl = std::make_unique<Impl>();
  if (!options.ca_pem.empty()) {
    crypto::BioPtr bio(
        BIO_new_mem_buf(options.ca_pem.data(), static_cast<int>(options.ca_pem.size())));
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      impl->trust.emplace_back(cert);
    }
    ERR_clear_error();
    if (impl->trust.empty()) {
      return Error(FaultCode::kInvalidCertificate, "provider trust anchors do not parse");
    }
  }
  if (!options.client_cert_chain_pem.empty() || !options.client_key_pem.empty()) {
    crypto::BioPtr cbio(BIO_new_mem_buf(options.client_cert_chain_pem.data(),
                                        static_cast<int>(options.client_cert_chain_pem.size())));
    impl->client_cert.reset(PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr));
    if (!impl->client_cert) {
      ERR_clear_error();
      return Error(FaultCode::kInvalidCertificate, "provider client certificate does not parse");
    }
    crypto::BioPtr kbio(BIO_new_mem_buf(options.client_key_pem.data(),
                                        static_cast<int>(options.client_key_pem.size())));
    impl->client_key.reset(PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr));
    if (!impl->client_key) {
      ERR_clear_error();
      return Error(FaultCode::kInvalidKey, "provider client key does not parse");
    }
  }
  impl->options = std::move(options);
  return std::unique_ptr<ProviderClient>(new ProviderClient(std::move(impl)));
}

ProviderClient::ProviderClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProviderClient::~ProviderClient() = default;

std::size_t ProviderClient::idle_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->idle_count;
}

std::uint64_t ProviderClient::connections_created() const {
  return impl_->created.load(std::memory_order_relaxed);
}

Result<ProviderResponse> ProviderClient::call(const ProviderRequest& request) {
  HANSA_ASSIGN_OR_RETURN(Target target, parse_url(request.url));
  if (request.timeout.count() <= 0) {
    return Error(FaultCode::kInvalidConfiguration, "service timeout must be positive");
  }
  const std::string key = pool_key(target, request.ssl_verify);
  Pooled conn = impl_->take(key);
  if (conn.cli && !http::idle_connection_usable(conn.cli->socket())) {
    conn = {};  // the provider closed it while it was idle (its keep-alive timeout)
  }
  if (!conn.cli) {
    HANSA_ASSIGN_OR_RETURN(conn, impl_->make(target, request.ssl_verify));
  }
  auto [rs, ru] = split(request.timeout);
  conn.cli->set_read_timeout(rs, ru);
  const auto total = std::max(impl_->options.total_timeout, request.timeout);

  httplib::Request req;
  req.method = request.method;
  req.path = target.path;
  for (const auto& [name, value] : request.headers) {
    req.headers.emplace(name, value);
  }
  req.body = request.body;

  ProviderResponse out;
  const std::size_t max = impl_->options.max_response_bytes;
  bool too_big = false;
  http::collect_body(req, out.body, max, too_big);

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const auto started = std::chrono::steady_clock::now();
  conn.deadline->set_call_deadline(started + total);
  const bool sent = conn.cli->send(req, res, err);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  const std::string where = target.host + ":" + std::to_string(target.port);
  if (too_big) {
    return Error(FaultCode::kLimitExceeded, "Response from the service is too large",
                 where + " (limit " + std::to_string(max) + " bytes)");
  }
  if (!sent) {
    switch (err) {
      case httplib::Error::ConnectionTimeout:
        return Error(FaultCode::kTimeout, "Connecting to the service timed out", where);
      case httplib::Error::Connection:
        return Error(FaultCode::kNetworkError, "Cannot connect to the service", where);
      case httplib::Error::Read:
      case httplib::Error::Write:
        if (elapsed >= total) {
          return Error(FaultCode::kTimeout, "The service's answer did not complete in time",
                       where + " (whole call limited to " + std::to_string(total.count()) + " ms)");
        }
        if (elapsed >= request.timeout) {
          return Error(FaultCode::kTimeout, "The service did not answer within the timeout",
                       where + " (" + std::to_string(request.timeout.count()) + " ms)");
        }
        return Error(FaultCode::kNetworkError,
                     "The service closed the connection or did not answer with HTTP", where);
      case httplib::Error::SSLConnection:
      case httplib::Error::SSLServerVerification:
      case httplib::Error::SSLLoadingCerts:
        return Error(FaultCode::kSslAuthenticationFailed, "TLS connection to the service failed",
                     where + ": " + drain_ssl_errors());
      default:
        return Error(FaultCode::kNetworkError, "Calling the service failed",
                     where + ": " + httplib::to_string(err));
    }
  }
  out.status = res.status;
  out.reason = res.reason;
  out.headers.assign(res.headers.begin(), res.headers.end());
  bool reusable = true;
  if (auto conn = res.headers.find("Connection");
      conn != res.headers.end() && http::iequals(conn->second, "close")) {
    reusable = false;
  }
  if (reusable) {
    impl_->give_back(key, std::move(conn));
  }
  return out;
}

}  // namespace hansa::proxy
