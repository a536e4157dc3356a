#include "central/api/admin_client.h"

#include <httplib.h>

#include <charconv>
#include <utility>

namespace hansa::central {

struct AdminClient::Impl {
  std::unique_ptr<httplib::ClientImpl> cli;
  std::string token;
  std::string where;
  AdminClientOptions options;
};

namespace {

std::pair<time_t, time_t> split_ms(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<time_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

Result<std::unique_ptr<AdminClient>> AdminClient::create(std::string_view base_url,
                                                         std::string token,
                                                         AdminClientOptions options) {
  bool https = false;
  std::string_view rest;
  if (base_url.starts_with("http://")) {
    rest = base_url.substr(7);
  } else if (base_url.starts_with("https://")) {
    https = true;
    rest = base_url.substr(8);
  } else {
    return Error(FaultCode::kInvalidConfiguration, "the admin URL must be http:// or https://",
                 std::string(base_url));
  }
  while (rest.ends_with("/")) {
    rest.remove_suffix(1);
  }
  const auto colon = rest.rfind(':');
  if (rest.empty() || rest.find('/') != std::string_view::npos ||
      (colon != std::string_view::npos && rest.find(']', colon) != std::string_view::npos)) {
    return Error(FaultCode::kInvalidConfiguration, "the admin URL must be scheme://host[:port]",
                 std::string(base_url));
  }
  std::string host(rest);
  int port = https ? 443 : 80;
  if (colon != std::string_view::npos) {
    host = std::string(rest.substr(0, colon));
    const auto p = rest.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port <= 0 || port > 65535) {
      return Error(FaultCode::kInvalidConfiguration, "bad port in the admin URL",
                   std::string(base_url));
    }
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto impl = std::make_unique<Impl>();
  if (https) {
    auto ssl = std::make_unique<httplib::SSLClient>(host, port);
    if (!options.ca_file.empty()) {
      ssl->set_ca_cert_path(options.ca_file.c_str());
    }
    ssl->enable_server_certificate_verification(true);
    impl->cli = std::move(ssl);
  } else {
    impl->cli = std::make_unique<httplib::ClientImpl>(host, port);
  }
  auto [cs, cu] = split_ms(options.connect_timeout);
  auto [rs, ru] = split_ms(options.read_timeout);
  auto [ws, wu] = split_ms(options.write_timeout);
  impl->cli->set_connection_timeout(cs, cu);
  impl->cli->set_read_timeout(rs, ru);
  impl->cli->set_write_timeout(ws, wu);
  impl->cli->set_follow_location(false);
  impl->cli->set_url_encode(false);
  impl->cli->set_compress(false);
  impl->cli->set_decompress(false);
  impl->token = std::move(token);
  impl->where = std::string(base_url);
  impl->options = std::move(options);
  return std::unique_ptr<AdminClient>(new AdminClient(std::move(impl)));
}

AdminClient::AdminClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdminClient::~AdminClient() = default;

Result<AdminResponse> AdminClient::request(std::string_view method, std::string_view target,
                                           std::string_view json_body) {
  httplib::Request req;
  req.method = std::string(method);
  req.path = std::string(target);
  if (!impl_->token.empty()) {
    req.headers.emplace("Authorization", "Bearer " + impl_->token);
  }
  req.headers.emplace("Accept", "application/json");
  if (!json_body.empty()) {
    req.headers.emplace("Content-Type", "application/json");
    req.body = std::string(json_body);
  }
  AdminResponse out;
  const std::size_t max = impl_->options.max_response_bytes;
  bool too_big = false;
  req.content_receiver = [&](const char* data, std::size_t len, std::uint64_t, std::uint64_t) {
    if (out.body.size() + len > max) {
      too_big = true;
      return false;
    }
    out.body.append(data, len);
    return true;
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool sent = impl_->cli->send(req, res, err);
  const std::string where = impl_->where + req.path;
  if (too_big) {
    impl_->cli->stop();
    return Error(FaultCode::kLimitExceeded, "response body too large", where);
  }
  if (!sent) {
    switch (err) {
      case httplib::Error::ConnectionTimeout:
        return Error(FaultCode::kTimeout, "connect timed out", where);
      case httplib::Error::SSLConnection:
      case httplib::Error::SSLServerVerification:
      case httplib::Error::SSLLoadingCerts:
        return Error(FaultCode::kSslAuthenticationFailed, "TLS handshake failed", where);
      default:
        return Error(FaultCode::kNetworkError, "request failed",
                     where + ": " + httplib::to_string(err));
    }
  }
  out.status = res.status;
  out.content_type = res.get_header_value("Content-Type");
  return out;
}

}  // namespace hansa::central
