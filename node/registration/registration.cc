#include "node/registration/registration.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/db/migrate.h"
#include "core/management/sender.h"

namespace hansa::registration {
namespace {

constexpr std::string_view kComponent = "node_registration";
constexpr std::size_t kMaxAddressBytes = 255;

const char* const kSchemaV1 = R"(
CREATE TABLE registration_requests (
  id {ID},
  type TEXT NOT NULL,
  target TEXT NOT NULL,
  central_request_id BIGINT NOT NULL,
  message_id TEXT NOT NULL,
  sent_at BIGINT NOT NULL
);
)";

std::string replace_id(std::string_view id_type) {
  std::string s(kSchemaV1);
  const auto pos = s.find("{ID}");
  s.replace(pos, 4, id_type);
  return s;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string to_pem(const crypto::Certificate& cert) {
  const std::string b64 = crypto::base64_encode(cert.der());
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    pem += b64.substr(i, 64);
    pem += '\n';
  }
  pem += "-----END CERTIFICATE-----\n";
  return pem;
}

crypto::SignatureAlgorithm algorithm_for(const crypto::PublicKey& key) {
  return key.type() == crypto::KeyType::kEc ? crypto::SignatureAlgorithm::kEcdsaSha256
                                            : crypto::SignatureAlgorithm::kRsaSha256;
}

// Splits "https://host:port/path" into the base URL and the path ("/" when absent).
Result<std::pair<std::string, std::string>> split_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return Error(FaultCode::kInvalidConfiguration,
                 "management service address is not a URL: " + std::string(url));
  }
  const auto slash = url.find('/', scheme + 3);
  if (slash == std::string_view::npos) {
    return std::make_pair(std::string(url), std::string("/"));
  }
  return std::make_pair(std::string(url.substr(0, slash)), std::string(url.substr(slash)));
}

bool server_lists_client(const globalconf::SecurityServer& entry, const ids::ClientId& client) {
  if (client.is_member() && client.member() == entry.id.owner()) {
    return true;  // the owner is registered with the server itself
  }
  return std::find(entry.clients.begin(), entry.clients.end(), client) != entry.clients.end();
}

}  // namespace

struct Registration::Impl {
  db::Database& db;
  signer::Signer& signer;
  serverconf::ServerConfStore& store;
  ConfigurationFn configuration;
  RegistrationOptions options;
  std::mutex send_mu;  // one request to central at a time

  Result<ids::SecurityServerId> server() const {
    const auto snap = store.snapshot();
    if (!snap->server().has_value()) {
      return Error(FaultCode::kInvalidConfiguration, "the node is not initialized");
    }
    return *snap->server();
  }

  Result<std::shared_ptr<const globalconf::GlobalConfSnapshot>> conf() const {
    auto c = configuration ? configuration() : nullptr;
    if (c == nullptr) {
      return Error(FaultCode::kInvalidConfiguration, "no global configuration downloaded yet");
    }
    if (c->management_service() == nullptr ||
        c->management_service()->auth_cert_reg_service_address.empty()) {
      return Error(FaultCode::kInvalidConfiguration,
                   "the global configuration names no management service");
    }
    return c;
  }

  // Builds the request (signatures inside the token), posts it and records the answer.
  Result<SentRequest> send(management::RequestBody body, std::string target,
                           std::optional<std::string> auth_key_id) {
    HANSA_ASSIGN_OR_RETURN(auto c, conf());
    const globalconf::ManagementService& ms = *c->management_service();

    management::RequestToSign input{.body = std::move(body),
                                    .service_provider = ms.management_request_service_provider_id,
                                    .message_id = {},
                                    .owner = {},
                                    .owner_cert_der = {},
                                    .owner_ocsp_der = {},
                                    .auth = std::nullopt};
    const ids::MemberId member = input.body.signing_member();
    HANSA_ASSIGN_OR_RETURN(auto info, signer.signing_info(member));
    if (!info.ocsp_der.has_value()) {
      std::string why;
      auto cert_id = info.certificate.fingerprint_hex(crypto::DigestAlgorithm::kSha1);
      auto status = signer.ocsp_status(cert_id);
      if (status.ok() && status->last_error.has_value()) {
        why = ": " + status->last_error->to_string();
      }
      return Error(FaultCode::kOcspFailed,
                   "no OCSP response for the signing certificate of " + member.to_string() + why);
    }
    HANSA_ASSIGN_OR_RETURN(auto sign_key, signer.key(info.key_id));
    input.owner_cert_der = info.certificate.der();
    input.owner_ocsp_der = *info.ocsp_der;
    input.owner.algorithm = algorithm_for(sign_key.public_key);
    signer::Signer* s = &signer;
    input.owner.sign = [s, member](crypto::SignatureAlgorithm alg, std::string_view data) {
      return s->sign(member, alg, data);
    };
    if (auth_key_id.has_value()) {
      HANSA_ASSIGN_OR_RETURN(auto auth_key, signer.key(*auth_key_id));
      management::SigningParty auth;
      auth.algorithm = algorithm_for(auth_key.public_key);
      auth.sign = [s, key_id = *auth_key_id](crypto::SignatureAlgorithm alg,
                                             std::string_view data) {
        return s->sign_with_key(key_id, alg, data);
      };
      input.auth = std::move(auth);
    }
    HANSA_ASSIGN_OR_RETURN(auto built, management::build_request(input));

    HANSA_ASSIGN_OR_RETURN(auto url, split_url(ms.auth_cert_reg_service_address));
    http::ClientOptions http_options;
    http_options.connect_timeout = options.connect_timeout;
    http_options.read_timeout = options.read_timeout;
    http_options.write_timeout = options.read_timeout;
    http_options.total_timeout = options.total_timeout;
    http_options.max_response_body_bytes = options.max_response_bytes;
    http_options.keep_alive = false;
    if (ms.auth_cert_reg_service_cert.has_value()) {
      http_options.tls.pinned_cert_pem = to_pem(*ms.auth_cert_reg_service_cert);
      http_options.tls.verify_hostname = false;
    } else if (options.fallback_tls.has_value()) {
      http_options.tls = *options.fallback_tls;
    }
    const std::string type_name(management::request_type_name(input.body.type));
    Result<management::ParsedResponse> response = [&]() -> Result<management::ParsedResponse> {
      std::lock_guard lock(send_mu);
      HANSA_ASSIGN_OR_RETURN(auto client, http::Client::create(url.first, http_options));
      return management::send_request(*client, built, url.second);
    }();
    if (!response.ok()) {
      spdlog::warn("registration: {} for {} failed: {}", type_name, target,
                   response.error().to_string());
      return std::move(response).error();
    }

    SentRequest sent;
    sent.type = input.body.type;
    sent.target = std::move(target);
    sent.central_request_id = response->request_id;
    sent.message_id = built.message_id;
    sent.sent_at = now_seconds();
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin());
    HANSA_ASSIGN_OR_RETURN(
        auto row,
        tx.query_one(
            "INSERT INTO registration_requests (type, target, central_request_id, "
            "message_id, sent_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            {type_name, sent.target, sent.central_request_id, sent.message_id, sent.sent_at}));
    if (row.has_value()) {
      HANSA_ASSIGN_OR_RETURN(sent.id, row->int64(0));
      const auto keep = static_cast<std::int64_t>(options.max_logged_requests);
      HANSA_RETURN_IF_ERROR(
          tx.execute("DELETE FROM registration_requests WHERE id <= $1", {sent.id - keep}));
    }
    HANSA_RETURN_IF_ERROR(tx.commit());
    spdlog::info("registration: {} for {} accepted by central, request id {}", type_name,
                 sent.target, sent.central_request_id);
    return sent;
  }

  Result<serverconf::ClientEntry> client_entry(const ids::ClientId& client) const {
    const auto snap = store.snapshot();
    for (const auto& c : snap->clients()) {
      if (c.id == client) {
        return c;
      }
    }
    return Error(FaultCode::kNotFound, "no such client on this node: " + client.to_string());
  }
};

Registration::Registration(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Registration::~Registration() = default;

Result<std::unique_ptr<Registration>> Registration::create(db::Database& db, signer::Signer& signer,
                                                           serverconf::ServerConfStore& store,
                                                           ConfigurationFn configuration,
                                                           RegistrationOptions options) {
  db::Migration m;
  m.version = 1;
  m.name = "registration_requests";
  m.sql = replace_id("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
  m.sqlite_sql = replace_id("INTEGER PRIMARY KEY AUTOINCREMENT");
  const db::Migration migrations[] = {m};
  HANSA_RETURN_IF_ERROR(db::migrate(db, kComponent, migrations));
  if (options.max_logged_requests == 0) {
    options.max_logged_requests = 1;
  }
  auto impl = std::unique_ptr<Impl>(
      new Impl{db, signer, store, std::move(configuration), std::move(options), {}});
  return std::unique_ptr<Registration>(new Registration(std::move(impl)));
}

Result<SentRequest> Registration::register_auth_cert(std::string_view cert_id,
                                                     std::optional<std::string> address) {
  HANSA_ASSIGN_OR_RETURN(auto server, impl_->server());
  HANSA_ASSIGN_OR_RETURN(auto cert, impl_->signer.certificate(cert_id));
  if (cert.usage != signer::KeyUsage::kAuthentication) {
    return Error(FaultCode::kWrongCertUsage,
                 "certificate " + std::string(cert_id) + " is not an authentication certificate");
  }
  if (cert.status == signer::CertStatus::kRegistered) {
    return Error(FaultCode::kInvalidRequest,
                 "certificate " + std::string(cert_id) + " is already registered");
  }
  if (address.has_value() && (address->empty() || address->size() > kMaxAddressBytes)) {
    return Error(FaultCode::kInvalidRequest, "server address is empty or too long");
  }
  HANSA_ASSIGN_OR_RETURN(
      auto sent, impl_->send(management::RequestBody::auth_cert_reg(server, cert.certificate.der(),
                                                                    std::move(address)),
                             cert.id, cert.key_id));
  HANSA_RETURN_IF_ERROR(
      impl_->signer.set_cert_status(cert.id, signer::CertStatus::kRegistrationInProgress));
  return sent;
}

Result<SentRequest> Registration::register_client(const ids::ClientId& client,
                                                  std::optional<std::string> subsystem_name) {
  HANSA_ASSIGN_OR_RETURN(auto server, impl_->server());
  HANSA_ASSIGN_OR_RETURN(auto entry, impl_->client_entry(client));
  if (client.is_member() && client.member() == server.owner()) {
    return Error(FaultCode::kInvalidRequest,
                 "the owner member is registered with the server's authentication certificate");
  }
  if (entry.state == serverconf::RegistrationState::kRegistered) {
    return Error(FaultCode::kInvalidRequest,
                 "client " + client.to_string() + " is already registered");
  }
  HANSA_ASSIGN_OR_RETURN(auto sent, impl_->send(management::RequestBody::client_reg(
                                                    server, client, std::move(subsystem_name)),
                                                client.to_string(), std::nullopt));
  HANSA_RETURN_IF_ERROR(impl_->store.set_registration_state(
      client, serverconf::RegistrationState::kRegistrationInProgress));
  return sent;
}

Result<SentRequest> Registration::unregister_client(const ids::ClientId& client) {
  HANSA_ASSIGN_OR_RETURN(auto server, impl_->server());
  HANSA_ASSIGN_OR_RETURN(auto entry, impl_->client_entry(client));
  (void)entry;
  if (client.is_member() && client.member() == server.owner()) {
    return Error(FaultCode::kInvalidRequest, "the owner member cannot be unregistered");
  }
  HANSA_ASSIGN_OR_RETURN(auto sent,
                         impl_->send(management::RequestBody::client_deletion(server, client),
                                     client.to_string(), std::nullopt));
  HANSA_RETURN_IF_ERROR(impl_->store.set_registration_state(
      client, serverconf::RegistrationState::kDeletionInProgress));
  return sent;
}

Result<SentRequest> Registration::change_address(std::string address) {
  HANSA_ASSIGN_OR_RETURN(auto server, impl_->server());
  if (address.empty() || address.size() > kMaxAddressBytes) {
    return Error(FaultCode::kInvalidRequest, "server address is empty or too long");
  }
  std::string target = address;
  return impl_->send(management::RequestBody::address_change(server, std::move(address)),
                     std::move(target), std::nullopt);
}

Result<SentRequest> Registration::change_owner(const ids::MemberId& new_owner) {
  HANSA_ASSIGN_OR_RETURN(auto server, impl_->server());
  HANSA_ASSIGN_OR_RETURN(auto entry, impl_->client_entry(ids::ClientId(new_owner)));
  (void)entry;
  if (new_owner == server.owner()) {
    return Error(FaultCode::kInvalidRequest, "the member already owns this server");
  }
  return impl_->send(management::RequestBody::owner_change(server, new_owner),
                     new_owner.to_string(), std::nullopt);
}

Result<SyncResult> Registration::sync_with_global_conf() {
  SyncResult result;
  auto c = impl_->configuration ? impl_->configuration() : nullptr;
  const auto snap = impl_->store.snapshot();
  if (c == nullptr || !snap->server().has_value()) {
    return result;
  }
  const ids::SecurityServerId& server = *snap->server();
  const globalconf::SecurityServer* entry = c->security_server(server);

  for (const auto& cert : impl_->signer.certificates()) {
    if (cert.usage != signer::KeyUsage::kAuthentication) {
      continue;
    }
    const bool listed = entry != nullptr && c->is_auth_cert_of_server(cert.certificate, server);
    if (listed && cert.status != signer::CertStatus::kRegistered &&
        cert.status != signer::CertStatus::kDeletionInProgress) {
      HANSA_RETURN_IF_ERROR(
          impl_->signer.set_cert_status(cert.id, signer::CertStatus::kRegistered));
      result.certs_registered.push_back(cert.id);
    } else if (!listed && cert.status == signer::CertStatus::kDeletionInProgress) {
      HANSA_RETURN_IF_ERROR(impl_->signer.set_cert_status(cert.id, signer::CertStatus::kSaved));
      result.certs_deleted.push_back(cert.id);
    }
  }

  using serverconf::RegistrationState;
  for (const auto& client : snap->clients()) {
    const bool listed = entry != nullptr && server_lists_client(*entry, client.id);
    if (listed && client.state != RegistrationState::kRegistered &&
        client.state != RegistrationState::kDeletionInProgress) {
      HANSA_RETURN_IF_ERROR(
          impl_->store.set_registration_state(client.id, RegistrationState::kRegistered));
      result.clients_registered.push_back(client.id);
    } else if (!listed && client.state == RegistrationState::kRegistered) {
      HANSA_RETURN_IF_ERROR(
          impl_->store.set_registration_state(client.id, RegistrationState::kGlobalError));
      result.clients_missing.push_back(client.id);
    }
  }
  for (const auto& id : result.certs_registered) {
    spdlog::info("registration: authentication certificate {} is registered", id);
  }
  for (const auto& id : result.clients_registered) {
    spdlog::info("registration: client {} is registered", id.to_string());
  }
  for (const auto& id : result.clients_missing) {
    spdlog::warn("registration: client {} is missing from the global configuration",
                 id.to_string());
  }
  return result;
}

Result<std::vector<SentRequest>> Registration::sent_requests(std::size_t limit) const {
  std::vector<SentRequest> out;
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(
      auto rows, tx.execute("SELECT id, type, target, central_request_id, message_id, sent_at FROM "
                            "registration_requests ORDER BY id DESC LIMIT $1",
                            {static_cast<std::int64_t>(std::min<std::size_t>(limit, 100'000))}));
  for (const auto& row : rows) {
    SentRequest r;
    HANSA_ASSIGN_OR_RETURN(r.id, row.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto type, row.text(1));
    auto parsed = management::request_type_from_name(type);
    if (!parsed.has_value()) {
      return Error(FaultCode::kDatabaseError, "unknown request type in the log: " + type);
    }
    r.type = *parsed;
    HANSA_ASSIGN_OR_RETURN(r.target, row.text(2));
    HANSA_ASSIGN_OR_RETURN(r.central_request_id, row.int64(3));
    HANSA_ASSIGN_OR_RETURN(r.message_id, row.text(4));
    HANSA_ASSIGN_OR_RETURN(r.sent_at, row.int64(5));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace hansa::registration
