#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "core/http/client.h"
#include "core/http/http.h"
#include "core/http/server.h"
#include "tests/unit/core/http/tcp_segments.h"
#include "tests/unit/core/http/test_support.h"

namespace hansa::http {
namespace {

using namespace std::chrono_literals;
using hansa::testing::RawSocket;
using hansa::testing::read_file;
using hansa::testing::TempDir;

// PEM files of the throw-away PKI, generated once for the whole binary.
class Pki {
 public:
  static Pki& get() {
    static Pki pki;
    return pki;
  }
  std::string pem(const std::string& name) { return read_file(dir_.path() / (name + ".pem")); }
  std::string key(const std::string& name) { return read_file(dir_.path() / (name + ".key")); }
  bool ok() const { return ok_; }

 private:
  Pki() { ok_ = hansa::testing::make_test_pki(dir_.path()); }
  TempDir dir_;
  bool ok_ = false;
};

std::string der_of_pem(const std::string& pem);

std::unique_ptr<Server> start_server(ServerOptions options,
                                     const std::function<void(Server&)>& add_routes) {
  auto server = Server::create(std::move(options));
  EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().to_string());
  if (!server.ok()) {
    return nullptr;
  }
  add_routes(**server);
  Status started = (*server)->start();
  EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().to_string());
  EXPECT_NE((*server)->port(), 0);
  return std::move(server).value();
}

std::unique_ptr<Client> make_client(std::string url, ClientOptions options = {}) {
  auto client = Client::create(url, std::move(options));
  EXPECT_TRUE(client.ok()) << (client.ok() ? "" : client.error().to_string());
  return client.ok() ? std::move(client).value() : nullptr;
}

std::string http_url(const Server& s) { return "http://127.0.0.1:" + std::to_string(s.port()); }
std::string https_url(const Server& s) { return "https://127.0.0.1:" + std::to_string(s.port()); }

void echo_routes(Server& s) {
  s.route("GET", "/hello", [](const Request& req, Response& res) {
    std::string out = std::string(req.method()) + " " + std::string(req.path());
    out += " q=" + req.query("q").value_or("-");
    out += " h=" + std::string(req.header("x-test").value_or("-"));
    out += " peer=" + std::string(req.peer_address());
    res.set_body(out, "text/plain");
    res.set_header("X-Reply", "yes");
  });
  s.route("POST", "/echo", [](const Request& req, Response& res) {
    res.set_body(std::string(req.body()), std::string(req.header("Content-Type").value_or("")));
  });
  s.route("GET", "/files/*", [](const Request& req, Response& res) {
    res.set_body(std::string(req.path().substr(7)), "text/plain");
  });
  s.route("GET", "/fail", [](const Request&, Response& res) {
    res.set_error(Error(FaultCode::kAccessDenied, "no access", "client X"), Origin::kServerProxy);
  });
  s.route("GET", "/throw", [](const Request&, Response&) { throw std::runtime_error("boom"); });
  s.route("GET", "/gone", [](const Request&, Response& res) {
    res.status = 404;  // no body, as a REST provider may answer
    res.set_header("X-From", "handler");
  });
  s.route("GET", "/big", [](const Request&, Response& res) {
    res.set_body(std::string(2 * 1024 * 1024, 'b'), "application/octet-stream");
  });
  s.route("GET", "/port", [](const Request& req, Response& res) {
    res.set_body(std::to_string(req.peer_port()), "text/plain");
  });
  s.route("GET", "/chain", [](const Request& req, Response& res) {
    res.set_body(req.peer_cert_chain().empty() ? std::string() : req.peer_cert_chain()[0],
                 "application/pkix-cert");
  });
}

TEST(HttpHelpers, StatusMappingAndErrorJson) {
  EXPECT_EQ(status_for(FaultCode::kNotFound), 404);
  EXPECT_EQ(status_for(FaultCode::kLimitExceeded), 413);
  EXPECT_EQ(status_for(FaultCode::kAccessDenied), 403);
  EXPECT_EQ(status_for(FaultCode::kTimeout), 504);
  EXPECT_EQ(status_for(FaultCode::kInvalidRequest), 400);
  EXPECT_EQ(status_for(FaultCode::kInternalError), 500);
  EXPECT_EQ(error_json(Error(FaultCode::kUnknownService, "m", "d"), Origin::kClientProxy),
            R"({"detail":"d","message":"m","type":"Server.ClientProxy.UnknownService"})");
  Headers h{{"Content-Type", "a"}};
  EXPECT_EQ(find_header(h, "content-type").value_or(""), "a");
  EXPECT_FALSE(find_header(h, "x").has_value());
}

TEST(HttpServer, RoundTripGetAndPost) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(http_url(*server));
  ASSERT_TRUE(client);
  auto got = client->get("/hello?q=a%20b", {{"X-TEST", "v1"}});
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "GET /hello q=a b h=v1 peer=127.0.0.1");
  EXPECT_EQ(got->header("x-reply").value_or(""), "yes");
  EXPECT_EQ(got->header("content-type").value_or(""), "text/plain");

  std::string payload("\0binary\xff", 8);
  auto posted = client->post("/echo", payload, "application/x-test");
  ASSERT_TRUE(posted.ok()) << posted.error().to_string();
  EXPECT_EQ(posted->status, 200);
  EXPECT_EQ(posted->body, payload);
  EXPECT_EQ(posted->header("Content-Type").value_or(""), "application/x-test");

  auto prefixed = client->get("/files/a/b.txt");
  ASSERT_TRUE(prefixed.ok());
  EXPECT_EQ(prefixed->body, "a/b.txt");
}

TEST(HttpServer, UnknownPathAndMethodAnswerJsonErrors) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(http_url(*server));
  auto missing = client->get("/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find(R"("type":"NotFound")"), std::string::npos) << missing->body;
  auto wrong_method = client->post("/hello", "x", "text/plain");
  ASSERT_TRUE(wrong_method.ok());
  EXPECT_EQ(wrong_method->status, 405);
}

TEST(HttpServer, HandlerErrorsBecomeJson) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(http_url(*server));
  auto fail = client->get("/fail");
  ASSERT_TRUE(fail.ok());
  EXPECT_EQ(fail->status, 403);
  EXPECT_EQ(fail->header("content-type").value_or(""), "application/json");
  EXPECT_EQ(
      fail->body,
      R"({"detail":"client X","message":"no access","type":"Server.ServerProxy.AccessDenied"})");
  auto thrown = client->get("/throw");
  ASSERT_TRUE(thrown.ok());
  EXPECT_EQ(thrown->status, 500);
  EXPECT_NE(thrown->body.find("InternalError"), std::string::npos);
  // A handler's error status without a body is sent as it is, not filled with a JSON error.
  auto gone = client->get("/gone");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(gone->body, "");
}

TEST(HttpServer, KeepAliveReusesTheConnection) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(http_url(*server));
  auto first = client->get("/port");
  auto second = client->get("/port");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->body, second->body);

  ClientOptions no_reuse;
  no_reuse.keep_alive = false;
  auto fresh = make_client(http_url(*server), no_reuse);
  auto a = fresh->get("/port");
  auto b = fresh->get("/port");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->body, b->body);
}

TEST(HttpServer, OversizedBodyIsRejectedWith413BeforeReading) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  RawSocket sock(server->port());
  ASSERT_TRUE(sock.connected());
  // Announces 100 MB but sends none of it: the answer must come without waiting for the body.
  ASSERT_TRUE(
      sock.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\n"
                "Content-Length: 100000000\r\n\r\n"));
  auto started = std::chrono::steady_clock::now();
  std::string answer = sock.read_all(3s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
  EXPECT_NE(answer.find("LimitExceeded"), std::string::npos) << answer;

  auto client = make_client(http_url(*server));
  auto small = client->post("/echo", std::string(1024, 'a'), "a/b");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->status, 200);
}

TEST(HttpServer, OversizedChunkedBodyIsRejected) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  RawSocket sock(server->port());
  std::string chunk(800, 'c');
  ASSERT_TRUE(
      sock.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                "320\r\n" +
                chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
  bool closed = false;
  std::string answer = sock.read_all(3s, &closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
  EXPECT_TRUE(closed);
}

TEST(HttpServer, EndlessChunkedBodyIsCutOffByTheWireBudget) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  RawSocket sock(server->port());
  ASSERT_TRUE(sock.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk = "400\r\n" + std::string(1024, 'c') + "\r\n";
  bool sent_all = true;
  for (int i = 0; i < 200 && sent_all; ++i) {  // 200 KiB, never terminated
    sent_all = sock.send(chunk);
  }
  bool closed = false;
  std::string answer = sock.read_all(3s, &closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer.substr(0, 200);
  EXPECT_TRUE(closed);
}

TEST(HttpServer, ManyConcurrentClientsWithASmallPool) {
  ServerOptions options;
  options.worker_threads = 3;
  options.max_queued_connections = 2;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      ClientOptions copts;
      copts.keep_alive = (t % 2) == 0;
      auto client = Client::create(http_url(*server), copts);
      if (!client.ok()) {
        return;
      }
      for (int i = 0; i < 10; ++i) {
        std::string body = std::to_string(t) + "/" + std::to_string(i);
        auto res = (*client)->post("/echo", body, "text/plain");
        if (res.ok() && res->status == 200 && res->body == body) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 120);
}

// The listening socket of `port` in this process; -1 when none.
int listening_fd(std::uint16_t port) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::atoi(entry.path().filename().c_str());
    int listening = 0;
    socklen_t len = sizeof listening;
    sockaddr_in addr{};
    socklen_t addr_len = sizeof addr;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening == 1 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) == 0 &&
        addr.sin_family == AF_INET && ntohs(addr.sin_port) == port) {
      return fd;
    }
  }
  return -1;
}

// A burst of new connections while every worker is busy and the pool's queue is full waits in the
// kernel's accept queue and is served in turn. With a small backlog (httplib listens with 5) the
// kernel drops handshakes from such a burst: clients stall for seconds and, under load, their
// connections are reset.
TEST(HttpServer, BurstOfConnectionsWaitsInTheBacklog) {
  ServerOptions options;
  options.worker_threads = 1;
  options.max_queued_connections = 1;
  std::atomic<bool> release{false};
  auto server = start_server(options, [&](Server& s) {
    echo_routes(s);
    s.route("GET", "/hold", [&](const Request&, Response& res) {
      auto limit = std::chrono::steady_clock::now() + 20s;  // a failed test still stops
      while (!release.load() && std::chrono::steady_clock::now() < limit) {
        std::this_thread::sleep_for(5ms);
      }
      res.set_body("released", "text/plain");
    });
  });
  ASSERT_TRUE(server);
  // For a listening socket, TCP_INFO's tcpi_sacked is the accept queue's capacity.
  int lfd = listening_fd(server->port());
  ASSERT_GE(lfd, 0);
  tcp_info info{};
  socklen_t info_len = sizeof info;
  ASSERT_EQ(::getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &info, &info_len), 0);
  // The kernel caps every backlog at net.core.somaxconn.
  unsigned somaxconn = 1024;
  std::ifstream("/proc/sys/net/core/somaxconn") >> somaxconn;
  ASSERT_GE(info.tcpi_sacked, std::min(1024u, somaxconn));

  const std::string hello = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  RawSocket holder(server->port());
  ASSERT_TRUE(holder.send("GET /hold HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::this_thread::sleep_for(100ms);  // the only worker is in the handler
  std::vector<std::unique_ptr<RawSocket>> burst;
  for (int i = 0; i < 100; ++i) {
    burst.push_back(std::make_unique<RawSocket>(server->port()));
    ASSERT_TRUE(burst.back()->connected()) << i;
    ASSERT_TRUE(burst.back()->send(hello)) << i;
  }
  release = true;
  EXPECT_NE(holder.read_all(5s).find("released"), std::string::npos);
  int answered = 0;
  for (auto& socket : burst) {
    answered += socket->read_all(10s).find("GET /hello") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(answered, 100);
}

TEST(HttpServer, IdleKeptAliveConnectionsAreClosedAndClientsReconnect) {
  ServerOptions options;
  options.keep_alive_timeout = 1s;
  options.keep_alive_max_requests = 3;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(http_url(*server));
  std::set<std::string> ports;
  for (int i = 0; i < 6; ++i) {  // at most 3 requests per connection
    auto res = client->get("/port");
    ASSERT_TRUE(res.ok()) << res.error().to_string();
    ports.insert(res->body);
  }
  EXPECT_GE(ports.size(), 2u);
  auto before = client->get("/port");
  std::this_thread::sleep_for(1500ms);  // the server drops the idle connection
  auto after = client->get("/port");
  ASSERT_TRUE(before.ok() && after.ok()) << (after.ok() ? "" : after.error().to_string());
  EXPECT_NE(before->body, after->body);
}

// An error answer that ends the connection says so, so a client never sends its next request
// into a closing connection; a handler's own error answer keeps the connection.
TEST(HttpServer, ErrorAnswersThatEndTheConnectionSaySo) {
  ServerOptions options;
  options.max_header_count = 20;
  auto server = start_server(options, [](Server& s) {
    echo_routes(s);
    s.route("POST", "/strict", [](const Request&, Response& res) {
      res.set_error(Error(FaultCode::kBadRequest, "malformed body"), Origin::kServerProxy);
    });
  });
  ASSERT_TRUE(server);
  auto client = make_client(http_url(*server));
  std::set<std::string> ports;
  for (int i = 0; i < 3; ++i) {  // the same kept-alive connection every time
    auto refused = client->post("/strict", "{", "application/json");
    ASSERT_TRUE(refused.ok()) << refused.error().to_string();
    EXPECT_EQ(refused->status, 400);
    auto port = client->get("/port");
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    ports.insert(port->body);
  }
  EXPECT_EQ(ports.size(), 1u);

  Headers many;
  for (int i = 0; i < 50; ++i) {
    many.emplace_back("X-H" + std::to_string(i), "v");
  }
  for (int i = 0; i < 3; ++i) {
    auto refused = client->get("/hello", many);
    ASSERT_TRUE(refused.ok()) << refused.error().to_string();
    EXPECT_EQ(refused->status, 431);
    bool says_close = false;
    for (const auto& [name, value] : refused->headers) {
      says_close = says_close || (name == "Connection" && value == "close");
    }
    EXPECT_TRUE(says_close);
    auto next = client->get("/hello");  // a new connection, never the closing one
    ASSERT_TRUE(next.ok()) << next.error().to_string();
    EXPECT_EQ(next->status, 200);
  }
}

TEST(HttpServer, TooManyOrTooLargeHeadersAreRejected) {
  ServerOptions options;
  options.max_header_count = 20;
  options.max_header_bytes = 2000;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(http_url(*server));
  Headers many;
  for (int i = 0; i < 50; ++i) {
    many.emplace_back("X-H" + std::to_string(i), "v");
  }
  auto too_many = client->get("/hello", many);
  ASSERT_TRUE(too_many.ok()) << too_many.error().to_string();
  EXPECT_EQ(too_many->status, 431);
  auto too_large =
      make_client(http_url(*server))->get("/hello", {{"X-Big", std::string(3000, 'a')}});
  ASSERT_TRUE(too_large.ok());
  EXPECT_EQ(too_large->status, 431);
  auto fine = make_client(http_url(*server))->get("/hello", {{"X-Test", "ok"}});
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->status, 200);
}

TEST(HttpServer, CompressedBodiesAreRefused) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(http_url(*server));
  auto res = client->post("/echo", "xx", "a/b", {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 415);
}

TEST(HttpServer, SlowlorisIsCutOffByTheReadTimeout) {
  ServerOptions options;
  options.read_timeout = 300ms;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  RawSocket sock(server->port());
  ASSERT_TRUE(sock.connected());
  ASSERT_TRUE(sock.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: a"));
  auto started = std::chrono::steady_clock::now();
  bool closed = false;
  std::string answer = sock.read_all(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(answer.find("200 OK"), std::string::npos);
}

TEST(HttpServer, TricklingHeadersAreCutOffByTheHeaderDeadline) {
  ServerOptions options;
  options.read_timeout = 2s;  // each byte arrives well within this
  options.header_timeout = 500ms;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  RawSocket sock(server->port());
  ASSERT_TRUE(sock.send("GET /hello HTTP/1.1\r\nHost: x\r\n"));
  auto started = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    if (!sock.send("X")) {
      closed = true;
      break;
    }
    sock.read_all(100ms, &closed);
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

// The header block of a POST to /echo whose body of `length` bytes follows separately.
std::string echo_head(std::size_t length, bool close) {
  return "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(length) + (close ? "\r\nConnection: close" : "") + "\r\n\r\n";
}

// Announces a 1,000-byte body to /echo and sends it a byte per 50 ms (for at most 3 s) until the
// server closes the connection; returns what the server sent and sets `closed`.
std::string trickle_body(std::uint16_t port, bool& closed) {
  RawSocket sock(port);
  std::string answer;
  if (!sock.send(echo_head(1000, false))) {
    ADD_FAILURE() << "could not send the request head";
    return answer;
  }
  for (int i = 0; i < 60 && !closed; ++i) {
    if (!sock.send("x")) {
      break;
    }
    answer += sock.read_all(50ms, &closed);
  }
  answer += sock.read_all(1s, &closed);
  return answer;
}

// A body paced below min_body_rate, each byte well within the read timeout, is answered 408
// once body_timeout plus its earned time has passed, and the connection is closed.
TEST(HttpServer, TricklingBodyIsCutOffByTheRateDeadline) {
  ServerOptions options;
  options.read_timeout = 2s;  // each byte arrives well within this
  options.body_timeout = 500ms;
  options.min_body_rate = 100;  // 10 ms earned per byte; the client sends one per 50 ms
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  auto started = std::chrono::steady_clock::now();
  bool closed = false;
  std::string answer = trickle_body(server->port(), closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
  EXPECT_NE(answer.find("408"), std::string::npos) << answer;
  EXPECT_NE(answer.find("request body arrived too slowly"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("200 OK"), std::string::npos) << answer;
}

// A server with render_reject answers every refusal made before a handler through it: the status
// and error it is given, the request's path, and the connection still closed where the stream is
// in an unknown state.
TEST(HttpServer, RefusalsAreRenderedByRenderReject) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  options.read_timeout = 2s;
  options.body_timeout = 300ms;
  options.min_body_rate = 100;
  std::mutex mu;
  std::vector<std::string> seen;  // "status code path"
  options.render_reject = [&](const Request& request, int status, const Error& error,
                              Response& answer) {
    EXPECT_EQ(answer.status, status);
    {
      std::lock_guard lock(mu);
      seen.push_back(std::to_string(status) + " " + std::string(fault_name(error.code)) + " " +
                     std::string(request.path()));
    }
    answer.status = 599;
    answer.set_header("X-Refused", std::to_string(status));
    answer.set_body("<refused>" + error.message + "</refused>", "text/xml");
  };
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  RawSocket large(server->port());
  ASSERT_TRUE(
      large.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\n"
                 "Content-Length: 100000000\r\n\r\n"));
  bool closed = false;
  std::string answer = large.read_all(3s, &closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 599")) << answer;
  EXPECT_NE(answer.find("<refused>request body too large</refused>"), std::string::npos);
  EXPECT_TRUE(closed);

  // The rendering replaces status, headers and body.
  auto expect_rendered = [](const Result<ClientResponse>& got, std::string_view status,
                            std::string_view message) {
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ(got->status, 599);
    EXPECT_EQ(got->header("X-Refused").value_or(""), status);
    EXPECT_EQ(got->header("content-type").value_or(""), "text/xml");
    EXPECT_EQ(got->body, "<refused>" + std::string(message) + "</refused>");
  };
  auto client = make_client(http_url(*server));
  expect_rendered(client->get("/nope"), "404", "no such resource");
  expect_rendered(client->post("/hello", "x", "text/plain"), "405", "method not allowed");

  closed = false;
  answer = trickle_body(server->port(), closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(answer.find("<refused>request body arrived too slowly</refused>"), std::string::npos)
      << answer;

  // Handlers' own answers, errors included, do not go through it, nor does one without a body.
  auto fail = client->get("/fail");
  ASSERT_TRUE(fail.ok());
  EXPECT_EQ(fail->status, 403);
  EXPECT_EQ(fail->header("content-type").value_or(""), "application/json");
  auto gone = client->get("/gone");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(gone->header("X-From").value_or(""), "handler");
  EXPECT_EQ(gone->body, "");

  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"413 LimitExceeded /echo", "404 NotFound /nope",
                                            "405 BadRequest /hello", "408 Timeout /echo"}));
  // The server counts each refusal by its status; the handlers' own answers (403, 404) are not
  // refusals.
  std::vector<std::pair<int, std::uint64_t>> counted;
  for (const RefusalCount& r : server->refusals()) {
    counted.emplace_back(r.status, r.count);
  }
  EXPECT_EQ(counted,
            (std::vector<std::pair<int, std::uint64_t>>{{404, 1}, {405, 1}, {408, 1}, {413, 1}}));
}

// A renderer that throws does not leave a refusal unanswered: the JSON error goes out instead.
TEST(HttpServer, RenderRejectThatThrowsFallsBackToTheJsonError) {
  ServerOptions options;
  options.render_reject = [](const Request&, int, const Error&, Response&) {
    throw std::runtime_error("renderer broken");
  };
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  auto missing = make_client(http_url(*server))->get("/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->header("content-type").value_or(""), "application/json");
  EXPECT_NE(missing->body.find(R"("type":"NotFound")"), std::string::npos) << missing->body;
}

// A body that keeps up the minimum rate is read whole, although it takes longer than
// body_timeout.
TEST(HttpServer, SteadyBodyOutlastingTheBodyTimeoutIsRead) {
  ServerOptions options;
  options.body_timeout = 300ms;
  options.min_body_rate = 1000;  // the client sends 2,000 bytes/s for 600 ms
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  RawSocket sock(server->port());
  ASSERT_TRUE(sock.send(echo_head(1200, true)));
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(sock.send(std::string(200, static_cast<char>('a' + i))));
  }
  EXPECT_GT(std::chrono::steady_clock::now() - started, options.body_timeout);
  std::string answer = sock.read_all(3s);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find(std::string(200, 'f')), std::string::npos);
}

// An answer is held to the body pace too: a client that stops reading a large answer is
// disconnected once the server's sends have been blocked for body_timeout plus the time the
// bytes already sent earned, long before the per-write timeout; a client that reads gets it all.
TEST(HttpServer, ClientThatStopsReadingIsCutOffByThePace) {
  constexpr std::size_t kAnswer = 48 * 1024 * 1024;  // well beyond the sockets' buffers
  ServerOptions options;
  options.write_timeout = 10s;
  options.body_timeout = 500ms;
  options.min_body_rate = 8 * 1024 * 1024;
  auto server = start_server(options, [](Server& s) {
    s.route("GET", "/huge", [](const Request&, Response& res) {
      res.set_body(std::string(kAnswer, 'h'), "application/octet-stream");
    });
  });
  ASSERT_TRUE(server);
  const std::string request = "GET /huge HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  {
    RawSocket reader(server->port());
    ASSERT_TRUE(reader.send(request));
    EXPECT_GT(reader.read_all(10s).size(), kAnswer);
  }
  RawSocket stalled(server->port());
  ASSERT_TRUE(stalled.send(request));
  std::this_thread::sleep_for(4s);  // the server blocks once the sockets' buffers are full
  bool closed = false;
  std::string got = stalled.read_all(10s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(got.size(), kAnswer);
}

TEST(HttpServer, ZeroBodyTimeoutIsRefused) {
  ServerOptions options;
  options.body_timeout = 0ms;
  auto server = Server::create(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code, FaultCode::kInvalidConfiguration);
}

TEST(HttpServer, EndlessHeadersAreCutOffByTheByteBudget) {
  ServerOptions options;
  options.max_header_bytes = 4096;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  RawSocket sock(server->port());
  ASSERT_TRUE(sock.send("GET /hello HTTP/1.1\r\n"));
  bool closed = false;
  std::string line = "X-Many: " + std::string(100, 'a') + "\r\n";
  for (int i = 0; i < 1000 && !closed; ++i) {
    closed = !sock.send(line);
  }
  std::string answer = sock.read_all(3s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer.find("200 OK"), std::string::npos);
}

TEST(HttpServer, OverlongHeaderLineClosesTheConnection) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  RawSocket sock(server->port());
  ASSERT_TRUE(sock.send("GET /hello HTTP/1.1\r\nX-Long: " + std::string(20000, 'a') + "\r\n\r\n"));
  std::string answer = sock.read_all(3s);
  EXPECT_EQ(answer.find("200 OK"), std::string::npos) << answer.substr(0, 100);
}

// The header block and body of a small answer are gathered and sent together: the client
// receives them in one TCP segment (two sends with TCP_NODELAY would be two).
TEST(HttpServer, SmallAnswerLeavesInOneSegment) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  for (const std::string connection : {"close", "keep-alive"}) {
    RawSocket sock(server->port());
    ASSERT_TRUE(
        sock.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: " + connection + "\r\n\r\n"));
    std::string answer = sock.read_all(connection == "close" ? 3s : 500ms);
    EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
    EXPECT_NE(answer.find("GET /hello"), std::string::npos) << answer;
    auto segments = hansa::testing::data_segments_received(sock.fd());
    if (!segments) {
      GTEST_SKIP() << "the kernel does not count received segments";
    }
    EXPECT_EQ(*segments, 1u) << connection;
  }
}

// A client that asks for "100 Continue" gets it before it sends the body: gathered output is sent
// before the server waits for input.
TEST(HttpServer, ContinueIsSentBeforeTheBodyIsRead) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  RawSocket sock(server->port());
  ASSERT_TRUE(sock.send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\nConnection: close\r\n\r\n"));
  std::string interim = sock.read_all(1s);
  EXPECT_NE(interim.find("100 Continue"), std::string::npos) << interim;
  ASSERT_TRUE(sock.send("hello"));
  std::string answer = sock.read_all(3s);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_NE(answer.find("hello"), std::string::npos) << answer;
}

TEST(HttpServer, StopJoinsWhileClientsAreConnected) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(http_url(*server));
  ASSERT_TRUE(client->get("/hello").ok());  // leaves a kept-alive connection open
  RawSocket idle(server->port());
  auto started = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  server->stop();  // idempotent
}

TEST(HttpServer, BindFailureIsReported) {
  auto first = start_server({}, echo_routes);
  ASSERT_TRUE(first);
  ServerOptions options;
  options.port = first->port();
  auto second = Server::create(options);
  ASSERT_TRUE(second.ok());
  Status started = (*second)->start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, FaultCode::kNetworkError);
}

TEST(HttpClient, ServerThatNeverAnswersTimesOut) {
  hansa::testing::SilentListener silent;
  ClientOptions options;
  options.read_timeout = 300ms;
  options.connect_timeout = 300ms;
  auto client = make_client("http://127.0.0.1:" + std::to_string(silent.port()), options);
  auto started = std::chrono::steady_clock::now();
  auto res = client->get("/");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  ASSERT_FALSE(res.ok());
  // A wait for the answer never ends before the read timeout, so the call is a Timeout.
  EXPECT_EQ(res.error().code, FaultCode::kTimeout) << res.error().to_string();
}

TEST(HttpClient, TricklingServerIsCutOffByTheTotalTimeout) {
  hansa::testing::TricklingServer slow(50ms);
  ClientOptions options;
  options.read_timeout = 2s;  // every byte arrives well within this
  options.total_timeout = 500ms;
  auto client = make_client("http://127.0.0.1:" + std::to_string(slow.port()), options);
  auto started = std::chrono::steady_clock::now();
  auto res = client->get("/");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, FaultCode::kTimeout) << res.error().to_string();
}

TEST(HttpClient, TotalTimeoutWatchdogSleepsThroughCallsThatEndInTime) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  ClientOptions options;
  options.total_timeout = 60s;
  auto client = make_client(http_url(*server), options);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(client->get("/hello").ok());
  }
  // Only the first call finds the watchdog idle; later deadlines lie beyond the one it sleeps to.
  EXPECT_LE(client->stats().watchdog_wakeups, 2u);
}

TEST(HttpClient, TotalTimeoutCutsACallAfterManyCallsThatEndedInTime) {
  auto server = start_server({}, [](Server& s) {
    echo_routes(s);
    s.route("GET", "/slow", [](const Request&, Response& res) {
      std::this_thread::sleep_for(2s);
      res.set_body("late", "text/plain");
    });
  });
  ASSERT_TRUE(server);
  ClientOptions options;
  options.total_timeout = 600ms;
  options.read_timeout = 5s;
  auto client = make_client(http_url(*server), options);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client->get("/hello").ok());
  }
  // The watchdog sleeps to the first call's deadline; this call's deadline lies after it.
  std::this_thread::sleep_for(300ms);
  auto started = std::chrono::steady_clock::now();
  auto res = client->get("/slow");
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, FaultCode::kTimeout) << res.error().to_string();
  EXPECT_GE(took, 550ms);
  EXPECT_LT(took, 1900ms);                  // cut before the server answers
  ASSERT_TRUE(client->get("/hello").ok());  // the client reconnects
}

// The header block and body of a small request are gathered and sent together: the server
// receives the request in one TCP segment.
TEST(HttpClient, SmallRequestLeavesInOneSegment) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string body(1024, 'b');
  std::optional<std::uint32_t> segments;
  std::string received;
  std::thread server([&] {
    int conn = ::accept(listener, nullptr, nullptr);
    if (conn < 0) {
      return;
    }
    // Reads the head and the 1 KB body, then answers.
    char buf[4096];
    while (received.find("\r\n\r\n") == std::string::npos ||
           received.size() - received.find("\r\n\r\n") - 4 < body.size()) {
      pollfd p{conn, POLLIN, 0};
      if (::poll(&p, 1, 3000) <= 0) {
        break;
      }
      ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      received.append(buf, static_cast<std::size_t>(n));
    }
    segments = hansa::testing::data_segments_received(conn);
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    (void)::send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
    ::close(conn);
  });
  auto client = make_client("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  auto res = client->post("/in", body, "text/plain");
  server.join();
  ::close(listener);
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->body, "ok");
  EXPECT_NE(received.find("POST /in HTTP/1.1"), std::string::npos);
  EXPECT_NE(received.find(body), std::string::npos);
  if (!segments) {
    GTEST_SKIP() << "the kernel does not count received segments";
  }
  EXPECT_EQ(*segments, 1u);
}

TEST(HttpClient, ConnectionRefusedIsNetworkError) {
  std::uint16_t port;
  {
    auto server = start_server({}, echo_routes);
    ASSERT_TRUE(server);
    port = server->port();
  }
  auto client = make_client("http://127.0.0.1:" + std::to_string(port));
  auto res = client->get("/");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, FaultCode::kNetworkError);
}

TEST(HttpClient, ResponseLargerThanTheLimitFails) {
  auto server = start_server({}, echo_routes);
  ASSERT_TRUE(server);
  ClientOptions options;
  options.max_response_body_bytes = 1024 * 1024;
  auto client = make_client(http_url(*server), options);
  auto res = client->get("/big");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, FaultCode::kLimitExceeded);
  auto after = client->get("/hello");  // the client recovers
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200);
}

TEST(HttpClient, RejectsBadUrlsAndHttpsWithoutTrust) {
  EXPECT_FALSE(Client::create("ftp://x").ok());
  EXPECT_FALSE(Client::create("http://").ok());
  EXPECT_FALSE(Client::create("http://h:99999").ok());
  auto no_trust = Client::create("https://127.0.0.1:1");
  ASSERT_FALSE(no_trust.ok());
  EXPECT_EQ(no_trust.error().code, FaultCode::kInvalidConfiguration);
}

class HttpTls : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(Pki::get().ok()); }
  static Pki& pki() { return Pki::get(); }

  static ServerOptions tls_options(bool mtls) {
    ServerOptions options;
    ServerTlsConfig tls;
    tls.cert_chain_pem = pki().pem("server");
    tls.key_pem = pki().key("server");
    tls.require_client_cert = mtls;
    if (mtls) {
      tls.client_ca_pem = pki().pem("ca");
    }
    options.tls = tls;
    return options;
  }
  static ClientOptions trusting(const std::string& ca, const std::string& client = "") {
    ClientOptions options;
    options.read_timeout = 3s;
    options.tls.ca_pem = pki().pem(ca);
    if (!client.empty()) {
      options.tls.client_cert_chain_pem = pki().pem(client);
      options.tls.client_key_pem = pki().key(client);
    }
    return options;
  }
};

TEST_F(HttpTls, HttpsRoundTripWithCaVerification) {
  auto server = start_server(tls_options(false), echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(https_url(*server), trusting("ca"));
  auto res = client->get("/hello");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(client->get("/chain").value().body.empty());  // no client certificate
}

TEST_F(HttpTls, ClientThatDoesNotTrustTheServerCaFails) {
  auto server = start_server(tls_options(false), echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(https_url(*server), trusting("ca2"));
  auto res = client->get("/hello");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, FaultCode::kSslAuthenticationFailed);
}

TEST_F(HttpTls, HostNameMustMatchUnlessDisabled) {
  ServerOptions options = tls_options(false);
  options.host = "127.0.0.2";
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  // The certificate names 127.0.0.1 and localhost, not 127.0.0.2 (still loopback).
  std::string url = "https://127.0.0.2:" + std::to_string(server->port());
  auto strict = make_client(url, trusting("ca"));
  ASSERT_FALSE(strict->get("/hello").ok());
  ClientOptions lax = trusting("ca");
  lax.tls.verify_hostname = false;
  auto relaxed = make_client(url, lax);
  auto res = relaxed->get("/hello");
  EXPECT_TRUE(res.ok()) << res.error().to_string();
}

TEST_F(HttpTls, PinnedCertificate) {
  auto server = start_server(tls_options(false), echo_routes);
  ASSERT_TRUE(server);
  ClientOptions pinned;
  pinned.tls.pinned_cert_pem = pki().pem("server");
  auto good = make_client(https_url(*server), pinned);
  auto res = good->get("/hello");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  ClientOptions wrong;
  wrong.tls.pinned_cert_pem = pki().pem("client");
  auto bad = make_client(https_url(*server), wrong);
  auto refused = bad->get("/hello");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, FaultCode::kSslAuthenticationFailed);
}

TEST_F(HttpTls, MutualTlsPassesTheClientChainToHandlers) {
  auto server = start_server(tls_options(true), echo_routes);
  ASSERT_TRUE(server);
  auto client = make_client(https_url(*server), trusting("ca", "client"));
  auto res = client->get("/chain");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
  std::string expected_der = der_of_pem(pki().pem("client"));
  EXPECT_EQ(res->body, expected_der);
}

TEST_F(HttpTls, MutualTlsRefusesClientsWithoutOrWithForeignCertificates) {
  auto server = start_server(tls_options(true), echo_routes);
  ASSERT_TRUE(server);
  auto anonymous = make_client(https_url(*server), trusting("ca"));
  EXPECT_FALSE(anonymous->get("/hello").ok());
  auto foreign = make_client(https_url(*server), trusting("ca", "client2"));
  EXPECT_FALSE(foreign->get("/hello").ok());
}

TEST_F(HttpTls, VerificationHookSeesTheChainAndCanReject) {
  std::atomic<int> calls{0};
  std::string client_der = der_of_pem(pki().pem("client"));
  std::string seen;
  std::mutex mu;
  ServerOptions options = tls_options(true);
  options.tls->client_ca_pem.clear();  // the hook alone decides
  options.tls->verify_peer = [&](const CertChain& chain) -> Status {
    ++calls;
    std::lock_guard lock(mu);
    seen = chain.empty() ? "" : chain[0];
    if (seen != client_der) {
      return Error(FaultCode::kSslAuthenticationFailed, "not registered");
    }
    return ok_status();
  };
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  auto accepted = make_client(https_url(*server), trusting("ca", "client"));
  auto res = accepted->get("/hello");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
  auto rejected = make_client(https_url(*server), trusting("ca", "client2"));
  EXPECT_FALSE(rejected->get("/hello").ok());
  EXPECT_GE(calls.load(), 2);
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, der_of_pem(pki().pem("client2")));
}

TEST_F(HttpTls, ClientVerificationHookCanRejectTheServer) {
  auto server = start_server(tls_options(false), echo_routes);
  ASSERT_TRUE(server);
  ClientOptions options = trusting("ca");
  options.tls.verify_server = [](const CertChain&) -> Status {
    return Error(FaultCode::kSslAuthenticationFailed, "no");
  };
  auto client = make_client(https_url(*server), options);
  auto res = client->get("/hello");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, FaultCode::kSslAuthenticationFailed);
}

TEST_F(HttpTls, InvalidTlsMaterialIsReported) {
  ServerOptions options = tls_options(false);
  options.tls->key_pem = pki().key("client");  // does not match the certificate
  auto mismatch = Server::create(options);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, FaultCode::kInvalidKey);
  ServerOptions unverified = tls_options(true);
  unverified.tls->client_ca_pem.clear();  // and no verify_peer: nothing would check clients
  auto open_door = Server::create(unverified);
  ASSERT_FALSE(open_door.ok());
  EXPECT_EQ(open_door.error().code, FaultCode::kInvalidConfiguration);
  options.tls->cert_chain_pem = "garbage";
  auto garbage = Server::create(options);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, FaultCode::kInvalidCertificate);
}

TEST_F(HttpTls, ContextHookInstallsTheKeyOnBothSides) {
  // As node/signer's use_auth_key does for a key on a token: the PEM fields stay empty.
  auto install = [](const std::string& cert_pem, const std::string& key_pem) {
    return [cert_pem, key_pem](void* raw) -> Status {
      auto* ctx = static_cast<SSL_CTX*>(raw);
      BIO* cbio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
      X509* cert = PEM_read_bio_X509(cbio, nullptr, nullptr, nullptr);
      BIO_free(cbio);
      BIO* kbio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
      EVP_PKEY* key = PEM_read_bio_PrivateKey(kbio, nullptr, nullptr, nullptr);
      BIO_free(kbio);
      bool ok = cert != nullptr && key != nullptr && SSL_CTX_use_certificate(ctx, cert) == 1 &&
                SSL_CTX_use_PrivateKey(ctx, key) == 1;
      X509_free(cert);
      EVP_PKEY_free(key);
      return ok ? ok_status() : Status(Error(FaultCode::kInvalidKey, "hook failed"));
    };
  };
  ServerOptions options = tls_options(true);
  options.tls->cert_chain_pem.clear();
  options.tls->key_pem.clear();
  options.tls->configure_context = install(pki().pem("server"), pki().key("server"));
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  ClientOptions client_options = trusting("ca");
  client_options.tls.configure_context = install(pki().pem("client"), pki().key("client"));
  auto client = make_client(https_url(*server), client_options);
  auto res = client->get("/chain");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(res->body, der_of_pem(pki().pem("client")));
  // A hook that fails makes create() fail.
  options.tls->configure_context = [](void*) -> Status {
    return Error(FaultCode::kTokenNotActive, "logged out");
  };
  auto refused = Server::create(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, FaultCode::kTokenNotActive);
}

TEST_F(HttpTls, OptionalClientCertificateIsAskedForButNotRequired) {
  ServerOptions options = tls_options(false);
  options.tls->request_client_cert = true;
  auto server = start_server(options, echo_routes);
  ASSERT_TRUE(server);
  auto anonymous = make_client(https_url(*server), trusting("ca"));
  auto res = anonymous->get("/chain");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_TRUE(res->body.empty());
  // Any certificate is accepted (the handler decides), even one of a foreign CA.
  auto foreign = make_client(https_url(*server), trusting("ca", "client2"));
  auto seen = foreign->get("/chain");
  ASSERT_TRUE(seen.ok()) << seen.error().to_string();
  EXPECT_EQ(seen->body, der_of_pem(pki().pem("client2")));
}

TEST_F(HttpTls, SessionsAreResumedThroughASharedCache) {
  auto server = start_server(tls_options(true), echo_routes);
  ASSERT_TRUE(server);
  ClientOptions options = trusting("ca", "client");
  options.tls.session_cache = std::make_shared<TlsSessionCache>();
  auto first = make_client(https_url(*server), options);
  auto res = first->get("/chain");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  EXPECT_EQ(first->stats().tls_handshakes, 1u);
  EXPECT_EQ(first->stats().tls_resumed, 0u);
  auto second = make_client(https_url(*server), options);
  auto again = second->get("/chain");
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(second->stats().tls_resumed, 1u);
  // The resumed connection still carries the client's certificate to the handler.
  EXPECT_EQ(again->body, der_of_pem(pki().pem("client")));
  // Without a shared cache, a new client makes a full handshake.
  auto third = make_client(https_url(*server), trusting("ca", "client"));
  ASSERT_TRUE(third->get("/hello").ok());
  EXPECT_EQ(third->stats().tls_resumed, 0u);
}

// A kept-alive TLS connection the server closed while it was idle (keep-alive timeout, with a
// close_notify) is not reused: the next request goes out on a new, resumed connection.
TEST_F(HttpTls, ConnectionTheServerClosedWhileIdleIsNotReused) {
  ServerOptions so = tls_options(false);
  so.keep_alive_timeout = 1s;
  auto server = start_server(so, echo_routes);
  ASSERT_TRUE(server);
  ClientOptions options = trusting("ca");
  options.tls.session_cache = std::make_shared<TlsSessionCache>();
  auto client = make_client(https_url(*server), options);
  auto before = client->get("/port");
  ASSERT_TRUE(before.ok()) << before.error().to_string();
  std::this_thread::sleep_for(1500ms);  // the server closes the idle connection
  auto after = client->get("/port");
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_EQ(after->status, 200);
  EXPECT_NE(before->body, after->body);
  EXPECT_EQ(client->stats().tls_resumed, 1u);
}

TEST_F(HttpTls, VerifierAloneCanDecideTrust) {
  auto server = start_server(tls_options(false), echo_routes);
  ASSERT_TRUE(server);
  std::string server_der = der_of_pem(pki().pem("server"));
  ClientOptions options;
  options.tls.verify_server = [&](const CertChain& chain) -> Status {
    if (chain.empty() || chain[0] != server_der) {
      return Error(FaultCode::kSslAuthenticationFailed, "not registered");
    }
    return ok_status();
  };
  auto client = make_client(https_url(*server), options);
  auto res = client->get("/hello");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  server_der = "other";
  auto fresh = make_client(https_url(*server), options);
  EXPECT_FALSE(fresh->get("/hello").ok());
}

TEST_F(HttpTls, Tls11IsRefused) {
  auto server = start_server(tls_options(false), echo_routes);
  ASSERT_TRUE(server);
  std::string cmd = "openssl s_client -connect 127.0.0.1:" + std::to_string(server->port()) +
                    " -tls1_1 </dev/null >/dev/null 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  std::string ok_cmd = "openssl s_client -connect 127.0.0.1:" + std::to_string(server->port()) +
                       " -tls1_2 </dev/null >/dev/null 2>&1";
  EXPECT_EQ(std::system(ok_cmd.c_str()), 0);
}

}  // namespace
}  // namespace hansa::http

// Outside the anonymous namespace helpers.
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace hansa::http {
namespace {
std::string der_of_pem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  unsigned char* out = nullptr;
  int len = i2d_X509(cert, &out);
  std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  X509_free(cert);
  return der;
}
}  // namespace
}  // namespace hansa::http
