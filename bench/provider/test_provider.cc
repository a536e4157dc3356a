#include "bench/provider/test_provider.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "core/http/server.h"
#include "core/xml/xml.h"

namespace hansa::bench {
namespace {

constexpr std::string_view kSoapEnvNs = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr std::string_view kXroadNs = "http://x-road.eu/xsd/xroad.xsd";
constexpr std::string_view kIdNs = "http://x-road.eu/xsd/identifiers";
constexpr std::string_view kServiceNs = "http://hansa.example/test-provider";

// Limits of the raw (misbehaving) listener.
constexpr std::size_t kRawMaxRequestBytes = 64 * 1024;
constexpr std::chrono::milliseconds kRawReadTimeout{5'000};

Error invalid_soap(std::string message) {
  return Error(FaultCode::kInvalidSoap, std::move(message));
}

std::string qualified(std::string_view prefix, std::string_view local) {
  if (prefix.empty()) {
    return std::string(local);
  }
  std::string out(prefix);
  out += ':';
  out += local;
  return out;
}

// Escapes text for use inside an XML attribute or element.
std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The URL of this server as the client addressed it (Host header), or host:port.
std::string self_url(const http::Request& req, const ProviderOptions& options, std::uint16_t port,
                     std::string_view path) {
  std::string host;
  if (auto h = req.header("Host"); h && !h->empty()) {
    host = std::string(*h);
  } else {
    host = options.host + ":" + std::to_string(port);
  }
  return "http://" + host + std::string(path);
}

}  // namespace

std::optional<ProviderMode> mode_from_name(std::string_view name) noexcept {
  if (name == "normal") {
    return ProviderMode::kNormal;
  }
  if (name == "hang") {
    return ProviderMode::kHang;
  }
  if (name == "garbage") {
    return ProviderMode::kGarbage;
  }
  if (name == "close-early") {
    return ProviderMode::kCloseEarly;
  }
  return std::nullopt;
}

std::string soap_fault(std::string_view code, std::string_view message) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">"
      "<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>";
  out += xml_escape(code);
  out += "</faultcode><faultstring>";
  out += xml_escape(message);
  out += "</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>";
  return out;
}

// PR-MESS 2.4 (headers echoed in order) and 2.5 (document/literal wrapped body).
Result<std::string> soap_echo(std::string_view request_xml, std::size_t response_bytes) {
  HANSA_ASSIGN_OR_RETURN(auto doc, xml::Document::parse(request_xml));
  const xml::Element envelope = doc.root();
  if (!envelope.is(kSoapEnvNs, "Envelope")) {
    return invalid_soap("the root element is not a SOAP 1.1 Envelope");
  }
  const xml::Element header = envelope.first_child(kSoapEnvNs, "Header");
  const xml::Element body = envelope.first_child(kSoapEnvNs, "Body");
  if (!body) {
    return invalid_soap("the SOAP envelope has no Body");
  }
  const xml::Element wrapper = body.first_child();
  if (!wrapper) {
    return invalid_soap("the SOAP Body holds no element");
  }
  std::string service_code;
  if (header) {
    if (auto service = header.first_child(kXroadNs, "service")) {
      if (auto code = service.first_child(kIdNs, "serviceCode")) {
        service_code = code.text();
      }
    }
  }
  if (service_code.empty()) {
    service_code = std::string(wrapper.local_name());
  }

  const std::string env_prefix =
      envelope.prefix().empty() ? std::string("SOAP-ENV") : std::string(envelope.prefix());
  auto out = xml::Document::create(kSoapEnvNs, qualified(env_prefix, "Envelope"));
  xml::Element out_env = out.root();
  if (header) {
    xml::Element out_header = out_env.append_element(kSoapEnvNs, qualified(env_prefix, "Header"));
    for (const auto& child : header.children()) {
      out_header.append_copy(child);
    }
  }
  xml::Element out_body = out_env.append_element(kSoapEnvNs, qualified(env_prefix, "Body"));
  const std::string wrapper_prefix(wrapper.prefix());
  xml::Element response = out_body.append_element(
      wrapper.namespace_uri(), qualified(wrapper_prefix, service_code + "Response"));
  const auto children = wrapper.children();
  if (children.empty()) {
    if (auto text = wrapper.text(); !text.empty()) {
      response.set_text(text);
    }
  }
  for (const auto& child : children) {
    response.append_copy(child);
  }
  std::string serialized = out.serialize();
  if (response_bytes > serialized.size()) {
    xml::Element data =
        response.append_element(wrapper.namespace_uri(), qualified(wrapper_prefix, "data"));
    data.set_text(std::string(response_bytes - serialized.size(), 'x'));
    serialized = out.serialize();
  }
  return serialized;
}

std::string wsdl_document(const ProviderOptions& options, std::string_view endpoint_url) {
  const std::string tns(kServiceNs);
  std::string w;
  w += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  w += "<wsdl:definitions xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\"\n";
  w += "    xmlns:soap=\"http://schemas.xmlsoap.org/wsdl/soap/\"\n";
  w += "    xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"\n";
  w += "    xmlns:xrd=\"http://x-road.eu/xsd/xroad.xsd\"\n";
  w +=
      "    xmlns:tns=\"" + tns + "\" name=\"hansaTestProvider\" targetNamespace=\"" + tns + "\">\n";
  w += "  <wsdl:types>\n";
  w += "    <xsd:schema targetNamespace=\"" + tns + "\" elementFormDefault=\"qualified\">\n";
  w += "      <xsd:import namespace=\"http://x-road.eu/xsd/xroad.xsd\"/>\n";
  w += "      <xsd:complexType name=\"anyContent\"><xsd:sequence><xsd:any minOccurs=\"0\" "
       "maxOccurs=\"unbounded\" processContents=\"lax\"/></xsd:sequence></xsd:complexType>\n";
  for (const auto& op : options.soap_services) {
    w += "      <xsd:element name=\"" + op + "\" type=\"tns:anyContent\"/>\n";
    w += "      <xsd:element name=\"" + op + "Response\" type=\"tns:anyContent\"/>\n";
  }
  w += "    </xsd:schema>\n  </wsdl:types>\n";
  w += "  <wsdl:message name=\"requestheader\">\n";
  for (const char* part : {"client", "service", "userId", "id", "protocolVersion", "issue"}) {
    w += "    <wsdl:part name=\"" + std::string(part) + "\" element=\"xrd:" + part + "\"/>\n";
  }
  w += "  </wsdl:message>\n";
  for (const auto& op : options.soap_services) {
    w += "  <wsdl:message name=\"" + op + "\"><wsdl:part name=\"body\" element=\"tns:" + op +
         "\"/></wsdl:message>\n";
    w += "  <wsdl:message name=\"" + op +
         "Response\"><wsdl:part name=\"body\" element=\"tns:" + op +
         "Response\"/></wsdl:message>\n";
  }
  w += "  <wsdl:portType name=\"hansaTestProviderPortType\">\n";
  for (const auto& op : options.soap_services) {
    w += "    <wsdl:operation name=\"" + op + "\">\n";
    w += "      <wsdl:documentation><xrd:title>Echo service " + op +
         " of hansa-test-provider</xrd:title></wsdl:documentation>\n";
    w += "      <wsdl:input message=\"tns:" + op + "\"/>\n";
    w += "      <wsdl:output message=\"tns:" + op + "Response\"/>\n";
    w += "    </wsdl:operation>\n";
  }
  w += "  </wsdl:portType>\n";
  w +=
      "  <wsdl:binding name=\"hansaTestProviderBinding\" type=\"tns:hansaTestProviderPortType\">\n";
  w +=
      "    <soap:binding style=\"document\" transport=\"http://schemas.xmlsoap.org/soap/http\"/>\n";
  for (const auto& op : options.soap_services) {
    w += "    <wsdl:operation name=\"" + op + "\">\n";
    w += "      <soap:operation soapAction=\"\" style=\"document\"/>\n";
    w += "      <xrd:version>" + xml_escape(options.soap_service_version) + "</xrd:version>\n";
    for (const char* dir : {"input", "output"}) {
      w += "      <wsdl:" + std::string(dir) + ">\n        <soap:body use=\"literal\"/>\n";
      for (const char* part : {"client", "service", "userId", "id", "protocolVersion", "issue"}) {
        w += "        <soap:header message=\"tns:requestheader\" part=\"" + std::string(part) +
             "\" use=\"literal\"/>\n";
      }
      w += "      </wsdl:" + std::string(dir) + ">\n";
    }
    w += "    </wsdl:operation>\n";
  }
  w += "  </wsdl:binding>\n";
  w += "  <wsdl:service name=\"hansaTestProviderService\">\n";
  w += "    <wsdl:port name=\"hansaTestProviderPort\" binding=\"tns:hansaTestProviderBinding\">\n";
  w += "      <soap:address location=\"" + xml_escape(endpoint_url) + "\"/>\n";
  w += "    </wsdl:port>\n  </wsdl:service>\n</wsdl:definitions>\n";
  return w;
}

std::string openapi_document(const ProviderOptions& options, std::string_view base_url) {
  using nlohmann::json;
  const json echo_response = {{"description", "JSON echo of the request"},
                              {"content",
                               {{"application/json",
                                 {{"schema",
                                   {{"type", "object"},
                                    {"properties",
                                     {{"method", {{"type", "string"}}},
                                      {"path", {{"type", "string"}}},
                                      {"bodyBytes", {{"type", "integer"}}},
                                      {"xRoadHeaders", {{"type", "object"}}},
                                      {"data", {{"type", "string"}}}}}}}}}}}};
  const json request_body = {
      {"required", false},
      {"content", {{"*/*", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
  const json get_op = {{"summary", "Echo the request"}, {"responses", {{"200", echo_response}}}};
  json post_op = get_op;
  post_op["requestBody"] = request_body;
  json item_get = get_op;
  item_get["parameters"] = json::array(
      {{{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}});
  const json doc = {{"openapi", "3.0.3"},
                    {"info",
                     {{"title", "hansa-test-provider REST echo"},
                      {"version", "1.0"},
                      {"description", "Echoes every request under " + options.rest_base}}},
                    {"servers", json::array({{{"url", std::string(base_url)}}})},
                    {"paths",
                     {{"/", {{"get", get_op}, {"post", post_op}}},
                      {"/echo", {{"get", get_op}, {"post", post_op}}},
                      {"/items/{id}", {{"get", item_get}}}}}};
  return doc.dump(2);
}

struct TestProvider::Impl {
  ProviderOptions options;
  std::unique_ptr<http::Server> server;
  std::atomic<std::uint64_t> requests{0};
  std::mutex mu;
  std::condition_variable stopping_cv;
  bool stopping = false;  // guarded by mu
  // Raw listener for the garbage and close-early modes.
  int listen_fd = -1;
  std::uint16_t raw_port = 0;
  std::thread raw_thread;
  std::atomic<bool> raw_stop{false};

  // Sleeps for `d`, returning early (false) when the provider stops.
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    return !stopping_cv.wait_for(lock, d, [this] { return stopping; });
  }

  void delay_and_maybe_hang(const http::Request& req) {
    std::chrono::milliseconds d = options.delay;
    if (auto q = req.query("delayMs")) {
      try {
        d = std::min(std::chrono::milliseconds(std::stoll(*q)), options.hang_limit);
      } catch (...) {
        // not a number: no extra delay
      }
    }
    if (options.mode == ProviderMode::kHang) {
      d = options.hang_limit;
    }
    if (d.count() > 0) {
      wait_for(d);
    }
  }

  void handle_soap(const http::Request& req, http::Response& res) {
    delay_and_maybe_hang(req);
    requests.fetch_add(1, std::memory_order_relaxed);
    auto answer = soap_echo(req.body(), options.response_bytes);
    if (!answer.ok()) {
      res.status = 500;
      res.set_body(soap_fault("Client", answer.error().message + ": " + answer.error().detail),
                   "text/xml; charset=UTF-8");
      return;
    }
    res.set_body(std::move(answer).value(), "text/xml; charset=UTF-8");
  }

  void handle_rest(const http::Request& req, http::Response& res) {
    delay_and_maybe_hang(req);
    requests.fetch_add(1, std::memory_order_relaxed);
    nlohmann::json out;
    out["method"] = std::string(req.method());
    out["path"] = std::string(req.path());
    out["bodyBytes"] = req.body().size();
    nlohmann::json xroad = nlohmann::json::object();
    for (const auto& [name, value] : req.headers()) {
      if (name.size() > 7 && http::iequals(std::string_view(name).substr(0, 7), "x-road-")) {
        xroad[name] = value;
      }
    }
    out["xRoadHeaders"] = std::move(xroad);
    int status = 200;
    if (auto q = req.query("status")) {
      try {
        const int s = std::stoi(*q);
        if (s >= 200 && s <= 599) {
          status = s;
        }
      } catch (...) {
        // not a number: 200
      }
    }
    std::size_t response_bytes = options.response_bytes;
    if (auto q = req.query("responseBytes")) {
      try {
        response_bytes = std::min<std::size_t>(std::stoull(*q), options.max_body_bytes);
      } catch (...) {
        // not a number: the configured size
      }
    }
    std::string body = out.dump();
    if (response_bytes > body.size() + 10) {
      out["data"] = std::string(response_bytes - body.size() - 10, 'x');
      body = out.dump();
    }
    res.status = status;
    res.set_body(std::move(body), "application/json");
  }

  // The raw listener: reads one request head per connection, answers per mode, closes.
  Status start_raw() {
    listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) {
      return Error(FaultCode::kNetworkError, "socket() failed");
    }
    int one = 1;
    ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options.port);
    if (::inet_pton(AF_INET, options.host.c_str(), &addr.sin_addr) != 1) {
      return Error(FaultCode::kInvalidConfiguration, "host must be an IPv4 address in this mode",
                   options.host);
    }
    if (::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd, 128) != 0) {
      ::close(listen_fd);
      listen_fd = -1;
      return Error(FaultCode::kNetworkError, "cannot bind",
                   options.host + ":" + std::to_string(options.port));
    }
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    raw_port = ntohs(addr.sin_port);
    raw_thread = std::thread([this] { raw_loop(); });
    return ok_status();
  }

  void raw_loop() {
    while (!raw_stop.load()) {
      pollfd p{listen_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      raw_serve(fd);
      ::close(fd);
    }
  }

  void raw_serve(int fd) {
    std::string head;
    char buf[4096];
    const auto deadline = std::chrono::steady_clock::now() + kRawReadTimeout;
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < kRawMaxRequestBytes &&
           std::chrono::steady_clock::now() < deadline && !raw_stop.load()) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        break;
      }
      head.append(buf, static_cast<std::size_t>(n));
    }
    requests.fetch_add(1, std::memory_order_relaxed);
    std::string out;
    if (options.mode == ProviderMode::kGarbage) {
      out = "\x16\x03\x01 THIS IS NOT HTTP \xff\xfe\x00\x01 garbage garbage\r\n\r\n";
    } else {
      out =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
          "\r\n{\"truncated\":";
    }
    ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_RDWR);
  }
};

TestProvider::TestProvider(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TestProvider::~TestProvider() { stop(); }

Result<std::unique_ptr<TestProvider>> TestProvider::create(ProviderOptions options) {
  if (options.worker_threads == 0 || options.soap_path.empty() || options.soap_path[0] != '/' ||
      options.rest_base.empty() || options.rest_base[0] != '/' || options.soap_services.empty()) {
    return Error(FaultCode::kInvalidConfiguration,
                 "test provider: worker_threads > 0, paths starting with '/' and at least one "
                 "SOAP service are required");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const ProviderOptions& o = impl->options;
  if (o.mode == ProviderMode::kNormal || o.mode == ProviderMode::kHang) {
    http::ServerOptions so;
    so.host = o.host;
    so.port = o.port;
    so.worker_threads = o.worker_threads;
    so.max_queued_connections = o.max_queued_connections;
    so.max_body_bytes = o.max_body_bytes;
    so.keep_alive_max_requests = o.keep_alive_max_requests;
    so.keep_alive_timeout = o.keep_alive_timeout;
    if (o.mode == ProviderMode::kHang) {
      so.write_timeout = o.hang_limit + std::chrono::seconds(10);
    }
    HANSA_ASSIGN_OR_RETURN(impl->server, http::Server::create(so));
    Impl* self = impl.get();
    self->server->route("POST", o.soap_path, [self](const http::Request& req, http::Response& res) {
      self->handle_soap(req, res);
    });
    for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
      self->server->route(
          method, o.rest_base + "*",
          [self](const http::Request& req, http::Response& res) { self->handle_rest(req, res); });
    }
    self->server->route("GET", "/wsdl", [self](const http::Request& req, http::Response& res) {
      res.set_body(wsdl_document(self->options, self_url(req, self->options, self->server->port(),
                                                         self->options.soap_path)),
                   "text/xml; charset=UTF-8");
    });
    self->server->route(
        "GET", "/openapi.json", [self](const http::Request& req, http::Response& res) {
          res.set_body(
              openapi_document(self->options, self_url(req, self->options, self->server->port(),
                                                       self->options.rest_base)),
              "application/json");
        });
  }
  return std::unique_ptr<TestProvider>(new TestProvider(std::move(impl)));
}

Status TestProvider::start() {
  if (impl_->server) {
    return impl_->server->start();
  }
  return impl_->start_raw();
}

std::uint16_t TestProvider::port() const noexcept {
  return impl_->server ? impl_->server->port() : impl_->raw_port;
}

std::uint64_t TestProvider::requests() const noexcept { return impl_->requests.load(); }

void TestProvider::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->stopping_cv.notify_all();
  if (impl_->server) {
    impl_->server->stop();
  }
  impl_->raw_stop.store(true);
  if (impl_->raw_thread.joinable()) {
    impl_->raw_thread.join();
  }
  if (impl_->listen_fd >= 0) {
    ::close(impl_->listen_fd);
    impl_->listen_fd = -1;
  }
}

}  // namespace hansa::bench
