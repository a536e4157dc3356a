#include "core/http/client.h"

#include <httplib.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/http/gathering_client.h"
#include "core/http/tls_internal.h"

namespace hansa::http {
namespace {

struct Target {
  bool https = false;
  std::string host;
  int port = 0;
};

Result<Target> parse_base_url(std::string_view url) {
  Target t;
  if (url.starts_with("https://")) {
    t.https = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return Error(FaultCode::kInvalidConfiguration, "URL must start with http:// or https://",
                 std::string(url));
  }
  if (!url.empty() && url.back() == '/') {
    url.remove_suffix(1);
  }
  std::string_view port_text;
  if (url.starts_with("[")) {  // [IPv6]:port
    auto close = url.find(']');
    if (close == std::string_view::npos) {
      return Error(FaultCode::kInvalidConfiguration, "bad IPv6 literal in URL", std::string(url));
    }
    t.host = std::string(url.substr(1, close - 1));
    url.remove_prefix(close + 1);
    if (url.starts_with(":")) {
      port_text = url.substr(1);
    } else if (!url.empty()) {
      return Error(FaultCode::kInvalidConfiguration, "unexpected text after host",
                   std::string(url));
    }
  } else {
    auto colon = url.find(':');
    t.host = std::string(url.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = url.substr(colon + 1);
    }
  }
  if (t.host.empty() || t.host.find_first_of("/?#@ ") != std::string::npos) {
    return Error(FaultCode::kInvalidConfiguration, "bad host in URL", t.host);
  }
  t.port = t.https ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return Error(FaultCode::kInvalidConfiguration, "bad port in URL", std::string(port_text));
    }
    t.port = port;
  }
  return t;
}

std::pair<time_t, time_t> split(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<time_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

struct TlsSessionCache::Impl {
  std::mutex mu;
  crypto::SslSessionPtr session;  // guarded by mu

  // A new reference to the remembered session, or null.
  SSL_SESSION* take_ref() {
    std::lock_guard lock(mu);
    if (!session) {
      return nullptr;
    }
    SSL_SESSION_up_ref(session.get());
    return session.get();
  }
  // Remembers `s` (the caller's reference is adopted).
  void put(SSL_SESSION* s) {
    std::lock_guard lock(mu);
    session.reset(s);
  }
};

TlsSessionCache::TlsSessionCache() : impl_(std::make_unique<Impl>()) {}
TlsSessionCache::~TlsSessionCache() = default;
void TlsSessionCache::clear() { impl_->put(nullptr); }

namespace {

// Per-SSL_CTX state reached from OpenSSL callbacks (ex_data of the client's context).
struct TlsContextState {
  std::shared_ptr<TlsSessionCache> cache;
  std::atomic<std::uint64_t> handshakes{0};
  std::atomic<std::uint64_t> resumed{0};
};

int context_state_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

TlsContextState* state_of(const SSL* ssl) {
  return static_cast<TlsContextState*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_state_index()));
}

// OpenSSL hands every new session (TLS 1.2 after the handshake, TLS 1.3 with each ticket) here.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
  TlsContextState* state = state_of(ssl);
  if (state == nullptr || !SSL_SESSION_is_resumable(session)) {
    return 0;
  }
  state->cache->impl().put(session);
  return 1;  // the cache keeps the reference
}

// cpp-httplib makes the SSL object and connects without a hook, so the remembered session is
// offered when the handshake starts (before the ClientHello is built) and counted when it ends.
void on_tls_info(const SSL* ssl, int where, int) {
  TlsContextState* state = state_of(ssl);
  if (state == nullptr) {
    return;
  }
  if ((where & SSL_CB_HANDSHAKE_START) != 0 && SSL_get_session(ssl) == nullptr) {
    if (SSL_SESSION* session = state->cache->impl().take_ref(); session != nullptr) {
      SSL_set_session(const_cast<SSL*>(ssl), session);
      SSL_SESSION_free(session);  // SSL_set_session took its own reference
    }
  }
  if ((where & SSL_CB_HANDSHAKE_DONE) != 0) {
    ++state->handshakes;
    if (SSL_session_reused(const_cast<SSL*>(ssl)) == 1) {
      ++state->resumed;
    }
  }
}

}  // namespace

// Cuts the connection of a call that outlives ClientOptions::total_timeout. Arming wakes the
// watchdog's thread only when it sleeps past the new deadline (idle, or waiting for a later one):
// deadlines of successive calls grow, so a busy client wakes it about once per total_timeout, not
// once per call. Threading: thread-safe: guarded by mu.
class Watchdog final {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Watchdog(httplib::ClientImpl& cli) : cli_(cli), thread_([this] { run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(Clock::time_point deadline) {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      deadline_ = deadline;
      fired_ = false;
      wake = deadline < sleeps_until_;
    }
    if (wake) {
      cv_.notify_one();
    }
  }
  // Disarms; true when the deadline passed and the connection was cut.
  bool disarm() {
    std::lock_guard lock(mu_);
    deadline_.reset();
    return fired_;
  }
  // How often the thread woke (tests).
  std::uint64_t wakeups() const {
    std::lock_guard lock(mu_);
    return wakeups_;
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (!quit_) {
      if (!deadline_) {
        sleeps_until_ = Clock::time_point::max();
        cv_.wait(lock);
      } else if (Clock::now() >= *deadline_) {
        fired_ = true;
        deadline_.reset();
        lock.unlock();
        cli_.stop();  // shuts the socket down; the blocked read fails
        lock.lock();
        continue;
      } else {
        sleeps_until_ = *deadline_;
        cv_.wait_until(lock, sleeps_until_);
      }
      ++wakeups_;
    }
  }

  httplib::ClientImpl& cli_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Clock::time_point> deadline_;
  Clock::time_point sleeps_until_ = Clock::time_point::min();  // until run() first sleeps
  std::uint64_t wakeups_ = 0;
  bool fired_ = false;
  bool quit_ = false;
  std::thread thread_;
};

struct Client::Impl {
  ClientOptions options;
  Target target;
  internal::VerifyPolicy policy;  // referenced by the SSL_CTX: declared before cli
  TlsContextState tls_state;      // referenced by the SSL_CTX: declared before cli
  std::unique_ptr<httplib::ClientImpl> cli;
  std::unique_ptr<Watchdog> watchdog;  // declared after cli: stopped before cli goes
  std::mutex mu;  // httplib serializes too; this also guards the per-call state below

  Result<ClientResponse> send(httplib::Request& req);
};

Result<std::unique_ptr<Client>> Client::create(std::string_view base_url, ClientOptions options) {
  HANSA_ASSIGN_OR_RETURN(Target target, parse_base_url(base_url));
  if (options.connect_timeout.count() <= 0 || options.read_timeout.count() <= 0 ||
      options.total_timeout.count() < 0 || options.write_timeout.count() <= 0) {
    return Error(FaultCode::kInvalidConfiguration, "client timeouts must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->target = target;
  const ClientTlsConfig& tls = impl->options.tls;
  if (target.https) {
    if (tls.ca_pem.empty() && tls.pinned_cert_pem.empty() && !tls.verify_server) {
      return Error(FaultCode::kInvalidConfiguration,
                   "https needs trust anchors (ca_pem), a pinned server certificate or a verifier");
    }
    if (!tls.ca_pem.empty()) {
      HANSA_ASSIGN_OR_RETURN(impl->policy.store, internal::make_store(tls.ca_pem));
      if (tls.verify_hostname) {
        impl->policy.host = target.host;
      }
    }
    if (!tls.pinned_cert_pem.empty()) {
      HANSA_ASSIGN_OR_RETURN(auto pinned, internal::parse_pem_certs(tls.pinned_cert_pem));
      for (auto& cert : pinned) {
        impl->policy.pinned_der.push_back(internal::to_der(cert.get()));
      }
    }
    impl->policy.hook = tls.verify_server;
    auto ssl = std::make_unique<GatheringClient<httplib::SSLClient>>(target.host, target.port);
    SSL_CTX* ctx = ssl->ssl_context();
    if (ctx == nullptr) {
      return Error(FaultCode::kInternalError, "cannot create TLS context");
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (!tls.client_cert_chain_pem.empty() || !tls.client_key_pem.empty()) {
      HANSA_RETURN_IF_ERROR(
          internal::use_cert_chain_and_key(ctx, tls.client_cert_chain_pem, tls.client_key_pem));
    }
    // Our callback does the whole check (CA, host name, pin, hook); httplib's own check would
    // load the system trust store instead.
    ssl->enable_server_certificate_verification(false);
    internal::install_verify_policy(ctx, &impl->policy);
    if (tls.configure_context) {
      HANSA_RETURN_IF_ERROR(tls.configure_context(ctx));
    }
    impl->tls_state.cache =
        tls.session_cache ? tls.session_cache : std::make_shared<TlsSessionCache>();
    SSL_CTX_set_ex_data(ctx, context_state_index(), &impl->tls_state);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    SSL_CTX_set_info_callback(ctx, on_tls_info);
    impl->cli = std::move(ssl);
  } else {
    impl->cli = std::make_unique<GatheringClient<httplib::ClientImpl>>(target.host, target.port);
  }
  auto [cs, cu] = split(impl->options.connect_timeout);
  auto [rs, ru] = split(impl->options.read_timeout);
  auto [ws, wu] = split(impl->options.write_timeout);
  impl->cli->set_connection_timeout(cs, cu);
  impl->cli->set_read_timeout(rs, ru);
  impl->cli->set_write_timeout(ws, wu);
  impl->cli->set_keep_alive(impl->options.keep_alive);
  // Small requests leave in one send (GatheringStream); a large body follows its head in a second
  // one, which without TCP_NODELAY would wait for the server's delayed ACK (40 ms).
  impl->cli->set_tcp_nodelay(true);
  impl->cli->set_follow_location(false);
  impl->cli->set_url_encode(false);  // targets are sent exactly as given
  impl->cli->set_compress(false);
  impl->cli->set_decompress(false);
  if (impl->options.total_timeout.count() > 0) {
    impl->watchdog = std::make_unique<Watchdog>(*impl->cli);
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<ClientResponse> Client::Impl::send(httplib::Request& req) {
  std::lock_guard lock(mu);
  ClientResponse out;
  const std::size_t max = options.max_response_body_bytes;
  bool too_big = false;
  collect_body(req, out.body, max, too_big);
  // httplib's own check before reuse takes pending bytes for a live connection, but a TLS
  // server that closed the idle connection sent close_notify first: the request would be lost.
  if (cli->is_socket_open() && !idle_connection_usable(cli->socket())) {
    cli->stop();  // the next send connects anew (resuming the TLS session)
  }
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  auto started = std::chrono::steady_clock::now();
  if (watchdog) {
    watchdog->arm(started + options.total_timeout);
  }
  bool sent = cli->send(req, res, err);
  bool cut = watchdog && watchdog->disarm();
  auto elapsed = std::chrono::steady_clock::now() - started;
  std::string where = target.host + ":" + std::to_string(target.port) + req.path;
  if (cut) {
    return Error(FaultCode::kTimeout, "call exceeded its total timeout",
                 where + " (" + std::to_string(options.total_timeout.count()) + " ms)");
  }
  if (too_big) {
    cli->stop();  // the rest of the body is unread: drop the connection
    return Error(FaultCode::kLimitExceeded, "response body too large",
                 where + " (limit " + std::to_string(max) + " bytes)");
  }
  if (!sent) {
    switch (err) {
      case httplib::Error::ConnectionTimeout:
        return Error(FaultCode::kTimeout, std::string(kConnectFailedMessage), where);
      case httplib::Error::Connection:
        return Error(FaultCode::kNetworkError, std::string(kConnectFailedMessage), where);
      case httplib::Error::Read:
      case httplib::Error::Write:
        if (elapsed >= std::min(options.read_timeout, options.write_timeout)) {
          return Error(FaultCode::kTimeout, "no answer within the timeout", where);
        }
        return Error(FaultCode::kNetworkError, "connection failed", where);
      case httplib::Error::SSLConnection:
      case httplib::Error::SSLServerVerification:
      case httplib::Error::SSLLoadingCerts:
        return Error(FaultCode::kSslAuthenticationFailed, "TLS handshake failed",
                     where + ": " + crypto::drain_openssl_errors());
      default:
        return Error(FaultCode::kNetworkError, "HTTP request failed",
                     where + ": " + httplib::to_string(err));
    }
  }
  out.status = res.status;
  out.headers.assign(res.headers.begin(), res.headers.end());
  return out;
}

Result<ClientResponse> Client::get(std::string_view target, const Headers& headers) {
  httplib::Request req;
  req.method = "GET";
  req.path = std::string(target);
  for (const auto& [name, value] : headers) {
    req.headers.emplace(name, value);
  }
  return impl_->send(req);
}

Result<ClientResponse> Client::send(std::string_view method, std::string_view target,
                                    std::string_view body, std::string_view content_type,
                                    const Headers& headers) {
  httplib::Request req;
  req.method = std::string(method);
  req.path = std::string(target);
  for (const auto& [name, value] : headers) {
    req.headers.emplace(name, value);
  }
  if (!content_type.empty()) {
    req.headers.emplace("Content-Type", std::string(content_type));
  }
  req.body = std::string(body);
  return impl_->send(req);
}

ClientStats Client::stats() const {
  return ClientStats{impl_->tls_state.handshakes.load(), impl_->tls_state.resumed.load(),
                     impl_->watchdog ? impl_->watchdog->wakeups() : 0};
}

Result<ClientResponse> Client::post(std::string_view target, std::string_view body,
                                    std::string_view content_type, const Headers& headers) {
  httplib::Request req;
  req.method = "POST";
  req.path = std::string(target);
  for (const auto& [name, value] : headers) {
    req.headers.emplace(name, value);
  }
  req.headers.emplace("Content-Type", std::string(content_type));
  req.body = std::string(body);
  return impl_->send(req);
}

}  // namespace hansa::http
