#pragma once

// The `hansa-node` daemon's wiring, kept out of main.cc so tests can run it in-process:
// `init` (node database, owner and server code, software token, first admin token) and `serve`
// (admin API, configuration client refresh, periodic reload of the server configuration).
//
// Threading: NodeServer is thread-safe: start()/stop() may be called from any thread; the
// servers and workers it owns run on their own threads.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/errors/errors.h"
#include "core/ids/ids.h"
#include "node/daemon/node_conf.h"
#include "node/messagelog/record.h"
#include "node/opmonitor/call_record.h"

namespace hansa::node {

// What `init` was asked to create.
struct InitRequest {
  // The node's owner member and server code.
  ids::SecurityServerId server;
  // The PIN of the new software token (ignored for PKCS#11 tokens, which are initialised with
  // their own tools).
  std::string token_pin;
};

// What `init` created.
struct InitOutcome {
  std::string server;  // "SERVER:INST/CLASS/CODE/SERVERCODE"
  // The first admin token (operator role): shown once, stored only as a hash.
  std::string admin_token;
  bool software_token_created = false;
};

// Parses "INST/CLASS/CODE" and a server code into a SecurityServerId (identifier fault codes).
[[nodiscard]] Result<ids::SecurityServerId> parse_server(std::string_view owner,
                                                         std::string_view server_code);

// Creates the schema (every component's migrations), the owner and server code, the software
// token (when configured) and the first admin token. Refuses with Conflict when the database is
// already initialised or the software token directory already holds a token (changes nothing).
[[nodiscard]] Result<InitOutcome> init_node(const NodeConf& conf, const InitRequest& request);

// A running node: database, server configuration, token, configuration client and the admin
// API's HTTP server.
class NodeServer final {
 public:
  // Opens the database (applying migrations), checks that `init` ran, opens the token (and logs
  // in when the configuration gives a PIN) and the configuration client. Nothing listens yet.
  [[nodiscard]] static Result<std::unique_ptr<NodeServer>> create(const NodeConf& conf);
  ~NodeServer();
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  // Binds the admin port and starts the configuration client's refresh and the reload worker.
  // NetworkError when the port is taken.
  [[nodiscard]] Status start();
  // Stops the server (finishing running requests) and the workers. Idempotent.
  void stop();

  // The bound admin port (useful with port 0), 0 before start().
  [[nodiscard]] std::uint16_t admin_port() const noexcept;
  // The port serving GET /health and GET /metrics: the admin port unless [monitoring]
  // dedicated_port.
  [[nodiscard]] std::uint16_t monitoring_port() const noexcept;

  // THE PLACE TO PASS THE MESSAGE LOG IN (call before start()): the proxies append every request
  // and response to it. With [proxy] enabled and require_message_log (the default), start()
  // refuses (InvalidConfiguration) until it is set. `log` must outlive the NodeServer.
  void set_message_log(messagelog::MessageLogWriter* log);
  // Adds a receiver of every call's CallRecord (operational monitoring, metrics); before start().
  void add_call_observer(opmonitor::CallObserver* observer);
  // The bound client proxy (HTTP) and server proxy ports; 0 while the proxies are not running
  // (disabled, or waiting for a usable authentication key).
  [[nodiscard]] std::uint16_t client_proxy_port() const noexcept;
  [[nodiscard]] std::uint16_t server_proxy_port() const noexcept;

 private:
  struct Impl;
  explicit NodeServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The command line: `hansa-node init --config F --owner INST/CLASS/CODE --server-code CODE
// [--pin-file F]` and `hansa-node serve --config F`. The init PIN comes from --pin-file, else
// token.pin in the configuration, else the environment variable HANSA_NODE_TOKEN_PIN, else one
// line read from standard input. Returns the exit code; `serve` blocks until SIGTERM or SIGINT.
[[nodiscard]] int node_main(int argc, char** argv);

}  // namespace hansa::node
