#include "central/management/management_service.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "core/crypto/cert_profile.h"
#include "core/crypto/certificate.h"
#include "core/crypto/digest.h"
#include "core/crypto/trust_store.h"
#include "core/ocsp/response.h"

namespace hansa::central {

namespace {

using db::Transaction;
using db::Value;
using management::ParsedRequest;
using management::RequestBody;
using management::RequestType;

constexpr std::string_view kComponent = "central_management";
constexpr std::string_view kActor = "management";
constexpr std::string_view kAutoApproval = "auto-approval";

constexpr const char* kSchemaV1 = R"SQL(
CREATE TABLE management_requests (
  id {ID},
  type TEXT NOT NULL,
  state TEXT NOT NULL,
  message_id TEXT NOT NULL UNIQUE,
  soap_hash {BLOB} NOT NULL UNIQUE,
  server_id TEXT NOT NULL,
  client_id TEXT,
  subsystem_name TEXT,
  address TEXT,
  auth_cert {BLOB},
  signer TEXT NOT NULL,
  origin TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  decided_at BIGINT,
  decided_by TEXT NOT NULL,
  comment TEXT NOT NULL,
  soap TEXT NOT NULL,
  owner_signature {BLOB} NOT NULL,
  owner_cert {BLOB} NOT NULL,
  owner_ocsp {BLOB} NOT NULL
);
CREATE INDEX management_requests_state ON management_requests (state, id);
CREATE INDEX management_requests_server ON management_requests (server_id, client_id, state);
)SQL";

std::string expand(std::string text, std::string_view id, std::string_view blob) {
  auto replace_all = [&](std::string_view from, std::string_view to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
      text.replace(pos, from.size(), to);
      pos += to.size();
    }
  };
  replace_all("{ID}", id);
  replace_all("{BLOB}", blob);
  return text;
}

const std::vector<db::Migration>& all_migrations() {
  static const std::vector<db::Migration> list = [] {
    db::Migration m;
    m.version = 1;
    m.name = "management requests";
    m.sql = expand(kSchemaV1, "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BYTEA");
    m.sqlite_sql = expand(kSchemaV1, "INTEGER PRIMARY KEY", "BLOB");
    return std::vector<db::Migration>{m};
  }();
  return list;
}

std::int64_t to_epoch(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint from_epoch(std::int64_t s) { return TimePoint(std::chrono::seconds(s)); }

Error with_prefix(Error e, std::string_view prefix) {
  e.message = std::string(prefix) + e.message;
  return e;
}

std::string summary_of(const RequestBody& body, std::string_view message_id) {
  std::string s = "type=" + std::string(management::request_type_name(body.type));
  if (body.client) {
    s += " client=" + body.client->to_string();
  }
  if (body.address) {
    s += " address=" + *body.address;
  }
  if (!message_id.empty()) {
    s += " message_id=" + std::string(message_id);
  }
  return s;
}

// Columns read by load_request(), in order.
constexpr std::string_view kColumns =
    "id, type, state, message_id, server_id, client_id, subsystem_name, address, auth_cert, "
    "signer, origin, received_at, decided_at, decided_by, comment";

Result<ManagementRequest> load_request(const db::Row& row) {
  HANSA_ASSIGN_OR_RETURN(auto id, row.int64(0));
  HANSA_ASSIGN_OR_RETURN(auto type_name, row.text(1));
  HANSA_ASSIGN_OR_RETURN(auto state_name, row.text(2));
  HANSA_ASSIGN_OR_RETURN(auto message_id, row.text(3));
  HANSA_ASSIGN_OR_RETURN(auto server_text, row.text(4));
  HANSA_ASSIGN_OR_RETURN(auto client_text, row.optional_text(5));
  HANSA_ASSIGN_OR_RETURN(auto subsystem_name, row.optional_text(6));
  HANSA_ASSIGN_OR_RETURN(auto address, row.optional_text(7));
  HANSA_ASSIGN_OR_RETURN(auto auth_cert, row.optional_blob(8));
  HANSA_ASSIGN_OR_RETURN(auto signer_text, row.text(9));
  HANSA_ASSIGN_OR_RETURN(auto origin, row.text(10));
  HANSA_ASSIGN_OR_RETURN(auto received, row.int64(11));
  HANSA_ASSIGN_OR_RETURN(auto decided, row.optional_int64(12));
  HANSA_ASSIGN_OR_RETURN(auto decided_by, row.text(13));
  HANSA_ASSIGN_OR_RETURN(auto comment, row.text(14));
  auto type = management::request_type_from_name(type_name);
  auto state = request_state_from_name(state_name);
  if (!type || !state) {
    return Error(FaultCode::kDatabaseError, "stored management request has an unknown type/state",
                 std::to_string(id));
  }
  HANSA_ASSIGN_OR_RETURN(auto server, ids::SecurityServerId::parse(server_text));
  std::optional<ids::ClientId> client;
  if (client_text) {
    HANSA_ASSIGN_OR_RETURN(auto any, ids::parse_any(*client_text));
    if (auto* m = std::get_if<ids::MemberId>(&any)) {
      client = ids::ClientId(*m);
    } else if (auto* s = std::get_if<ids::SubsystemId>(&any)) {
      client = ids::ClientId(*s);
    } else {
      return Error(FaultCode::kDatabaseError, "stored client is not a member or subsystem");
    }
  }
  HANSA_ASSIGN_OR_RETURN(auto signer, ids::MemberId::parse(signer_text));
  RequestBody body{*type,
                   std::move(server),
                   std::move(client),
                   std::move(subsystem_name),
                   std::move(address),
                   auth_cert.value_or("")};
  ManagementRequest r{id,
                      std::move(body),
                      *state,
                      std::move(message_id),
                      std::move(signer),
                      std::move(origin),
                      from_epoch(received),
                      decided ? std::optional<TimePoint>(from_epoch(*decided)) : std::nullopt,
                      std::move(decided_by),
                      std::move(comment)};
  return r;
}

}  // namespace

std::string_view request_state_name(RequestState state) noexcept {
  switch (state) {
    case RequestState::kPending:
      return "pending";
    case RequestState::kApproved:
      return "approved";
    case RequestState::kRejected:
      return "rejected";
    case RequestState::kRevoked:
      return "revoked";
  }
  return "pending";
}

std::optional<RequestState> request_state_from_name(std::string_view name) noexcept {
  for (auto s : {RequestState::kPending, RequestState::kApproved, RequestState::kRejected,
                 RequestState::kRevoked}) {
    if (request_state_name(s) == name) {
      return s;
    }
  }
  return std::nullopt;
}

struct ManagementService::Impl {
  db::Database& db;
  Registry& registry;
  ManagementServiceOptions opt;

  TimePoint now() const { return opt.clock(); }

  // The outcome of verification: who signed.
  struct Verified {
    ids::MemberId signer;
  };

  // --- verification (see the header) ---

  Result<Verified> verify(const ParsedRequest& p, TimePoint at) const {
    const auto& req = p.request;
    HANSA_ASSIGN_OR_RETURN(auto instance, registry.instance_identifier());
    HANSA_ASSIGN_OR_RETURN(auto settings, registry.settings());
    if (req.body.server.instance() != instance) {
      return Error(FaultCode::kInvalidSecurityServer,
                   "security server " + req.body.server.to_string() + " is not of this instance (" +
                       instance + ")");
    }
    if (req.body.client && req.body.client->instance() != instance) {
      return Error(
          FaultCode::kInvalidClientIdentifier,
          "client " + req.body.client->to_string() + " is not of this instance (" + instance + ")");
    }
    if (settings.management_service_provider &&
        req.header.service.provider() != *settings.management_service_provider) {
      return Error(FaultCode::kUnknownService,
                   "request addressed to " + req.header.service.to_string() +
                       ", but the management service provider is " +
                       settings.management_service_provider->to_string());
    }
    HANSA_ASSIGN_OR_RETURN(auto cas, registry.cas());

    // The owner's signature and certificate.
    auto owner_cert = crypto::Certificate::from_der(p.owner_cert_der);
    if (!owner_cert.ok()) {
      return with_prefix(std::move(owner_cert).error(), "owner's signing certificate: ");
    }
    if (auto st = owner_cert->public_key().verify(p.owner_signature.algorithm, p.soap,
                                                  p.owner_signature.value);
        !st.ok()) {
      return Error(FaultCode::kInvalidSignatureValue,
                   "the owner's signature does not verify with the owner's signing certificate",
                   st.error().message);
    }
    crypto::TrustStore sign_store;
    for (const auto& ca : cas) {
      if (ca.authentication_only) {
        continue;
      }
      sign_store.add_anchor(ca.top_ca.cert);
      for (const auto& i : ca.intermediate_cas) {
        sign_store.add_intermediate(i.cert);
      }
    }
    auto chain = sign_store.verify(*owner_cert, at, crypto::CertPurpose::kSigning);
    if (!chain.ok()) {
      return with_prefix(std::move(chain).error(),
                         "owner's signing certificate is not trusted (approved CAs): ");
    }
    if (chain->size() < 2) {
      return Error(FaultCode::kCertValidation,
                   "owner's signing certificate is a CA certificate itself", owner_cert->subject());
    }
    const crypto::Certificate& anchor = chain->back();
    const ApprovedCa* ca = nullptr;
    for (const auto& c : cas) {
      if (!c.authentication_only && c.top_ca.cert == anchor) {
        ca = &c;
        break;
      }
    }
    if (ca == nullptr) {
      return Error(FaultCode::kInternalError, "verified chain ends at an unknown CA");
    }

    // OCSP: signed by the issuer or a responder it authorised, fresh, good.
    auto response = ocsp::OcspResponse::parse(p.owner_ocsp_der, opt.limits.max_ocsp_bytes);
    if (!response.ok()) {
      return with_prefix(std::move(response).error(),
                         "OCSP response of the owner's signing certificate: ");
    }
    ocsp::VerifyOptions vo;
    vo.ocsp_freshness_seconds = settings.ocsp_freshness_seconds;
    auto add_responders = [&](const CaCertificate& c) {
      for (const auto& r : c.ocsp) {
        if (r.cert) {
          vo.trusted_responders.push_back(r.cert->der());
        }
      }
    };
    add_responders(ca->top_ca);
    for (const auto& i : ca->intermediate_cas) {
      add_responders(i);
    }
    const crypto::Certificate& issuer = (*chain)[1];
    if (auto st = ocsp::verify(*response, owner_cert->der(), issuer.der(), at, vo); !st.ok()) {
      return with_prefix(std::move(st).error(), "owner's signing certificate: ");
    }

    // The member in the certificate is the member the request is for.
    HANSA_ASSIGN_OR_RETURN(auto profile,
                           crypto::certificate_profile_from_name(ca->certificate_profile_info));
    HANSA_ASSIGN_OR_RETURN(auto signer,
                           crypto::member_id_from_sign_cert(profile, *owner_cert, instance));
    const ids::MemberId expected = req.body.signing_member();
    if (signer != expected) {
      return Error(
          FaultCode::kAccessDenied,
          "the request is signed by " + signer.to_string() + ", but " +
              std::string(management::request_type_name(req.body.type)) + " for " +
              (req.body.client ? req.body.client->to_string() : req.body.server.to_string()) +
              " must be signed by " + expected.to_string());
    }

    if (req.body.type == RequestType::kAuthCertReg) {
      HANSA_RETURN_IF_ERROR(verify_auth_cert(p, cas, at));
    }
    return Verified{std::move(signer)};
  }

  Status verify_auth_cert(const ParsedRequest& p, const std::vector<ApprovedCa>& cas,
                          TimePoint at) const {
    if (!p.auth_signature) {
      return Error(FaultCode::kMissingSignature, "authCertReg has no proof of possession");
    }
    auto auth_cert = crypto::Certificate::from_der(p.auth_cert_der);
    if (!auth_cert.ok()) {
      return with_prefix(std::move(auth_cert).error(), "authentication certificate: ");
    }
    if (auto st = auth_cert->public_key().verify(p.auth_signature->algorithm, p.soap,
                                                 p.auth_signature->value);
        !st.ok()) {
      return Error(FaultCode::kInvalidSignatureValue,
                   "the proof of possession does not verify with the authentication certificate",
                   st.error().message);
    }
    crypto::TrustStore auth_store;
    for (const auto& ca : cas) {
      auth_store.add_anchor(ca.top_ca.cert);
      for (const auto& i : ca.intermediate_cas) {
        auth_store.add_intermediate(i.cert);
      }
    }
    auto chain = auth_store.verify(*auth_cert, at, crypto::CertPurpose::kAuthentication);
    if (!chain.ok()) {
      return with_prefix(std::move(chain).error(),
                         "authentication certificate is not trusted (approved CAs): ");
    }
    return ok_status();
  }

  // --- storage ---

  // Refuses a replay: same message id or same SOAP bytes as a stored request.
  Status check_replay(const ParsedRequest& p, const std::string& soap_hash) const {
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin(db::Access::kReadOnly));
    HANSA_ASSIGN_OR_RETURN(
        auto row, tx.query_one("SELECT id FROM management_requests WHERE message_id = $1 OR "
                               "soap_hash = $2 ORDER BY id LIMIT 1",
                               {p.request.header.id, Value::blob(soap_hash)}));
    if (row) {
      HANSA_ASSIGN_OR_RETURN(auto id, row->int64(0));
      return Error(FaultCode::kConflict,
                   "replayed management request: message id " + p.request.header.id +
                       " (or the same signed content) was received already as request " +
                       std::to_string(id));
    }
    return ok_status();
  }

  // Refuses a second authCertReg for the same certificate, or a second clientReg for the same
  // server and client, while the first one is pending (an operator would approve both).
  Status check_duplicate_pending(const RequestBody& b) const {
    std::string sql;
    std::vector<Value> params;
    if (b.type == RequestType::kAuthCertReg) {
      sql =
          "SELECT id FROM management_requests WHERE type = 'authCertReg' AND state = 'pending' "
          "AND auth_cert = $1 ORDER BY id LIMIT 1";
      params = {Value::blob(b.auth_cert_der)};
    } else if (b.type == RequestType::kClientReg) {
      sql =
          "SELECT id FROM management_requests WHERE type = 'clientReg' AND state = 'pending' "
          "AND server_id = $1 AND client_id = $2 ORDER BY id LIMIT 1";
      params = {b.server.to_string(), b.client->to_string()};
    } else {
      return ok_status();
    }
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin(db::Access::kReadOnly));
    HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one(sql, params));
    if (row) {
      HANSA_ASSIGN_OR_RETURN(auto id, row->int64(0));
      return Error(FaultCode::kConflict,
                   "an equal " + std::string(management::request_type_name(b.type)) +
                       " request is pending already (request " + std::to_string(id) + ")");
    }
    return ok_status();
  }

  Result<std::int64_t> insert(Transaction& tx, const ParsedRequest& p, const std::string& soap_hash,
                              const ids::MemberId& signer, std::string_view source,
                              RequestState state, std::string_view decided_by,
                              std::string_view comment) const {
    const auto& b = p.request.body;
    const std::int64_t t = to_epoch(now());
    const bool decided = state != RequestState::kPending;
    std::vector<Value> params = {
        std::string(management::request_type_name(b.type)),
        std::string(request_state_name(state)),
        p.request.header.id,
        Value::blob(soap_hash),
        b.server.to_string(),
        b.client ? Value(b.client->to_string()) : Value(nullptr),
        b.subsystem_name ? Value(*b.subsystem_name) : Value(nullptr),
        b.address ? Value(*b.address) : Value(nullptr),
        b.type == RequestType::kAuthCertReg ? Value::blob(b.auth_cert_der) : Value(nullptr),
        signer.to_string(),
        std::string(source),
        t,
        decided ? Value(t) : Value(nullptr),
        std::string(decided_by),
        std::string(comment),
        p.soap,
        Value::blob(p.owner_signature.value),
        Value::blob(p.owner_cert_der),
        Value::blob(p.owner_ocsp_der),
    };
    HANSA_ASSIGN_OR_RETURN(
        auto row,
        tx.query_one("INSERT INTO management_requests (type, state, message_id, soap_hash, "
                     "server_id, client_id, subsystem_name, address, auth_cert, signer, origin, "
                     "received_at, decided_at, decided_by, comment, soap, owner_signature, "
                     "owner_cert, owner_ocsp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                     "$11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
                     params));
    if (!row) {
      return Error(FaultCode::kDatabaseError, "INSERT returned no id");
    }
    return row->int64(0);
  }

  // Marks pending clientReg requests for the same server and client Revoked.
  Status revoke_pending_client_reg(Transaction& tx, const RequestBody& deletion) const {
    auto r = tx.execute(
        "UPDATE management_requests SET state = 'revoked', decided_at = $1, decided_by = $2, "
        "comment = 'revoked by a clientDeletion request' WHERE type = 'clientReg' AND state = "
        "'pending' AND server_id = $3 AND client_id = $4",
        {to_epoch(now()), std::string(kActor), deletion.server.to_string(),
         deletion.client->to_string()});
    return r.ok() ? ok_status() : Status(std::move(r).error());
  }

  // Applies a request's change through the registry.
  Status apply(const AuditContext& ctx, const RequestBody& b) const {
    switch (b.type) {
      case RequestType::kAuthCertReg: {
        HANSA_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::from_der(b.auth_cert_der));
        return registry.register_auth_cert(ctx, b.server, cert, b.address.value_or(""));
      }
      case RequestType::kClientReg:
        return registry.add_server_client(ctx, b.server, *b.client,
                                          /*create_missing_subsystem=*/true);
      case RequestType::kClientDeletion:
        return registry.remove_server_client(ctx, b.server, *b.client);
      case RequestType::kOwnerChange: {
        auto r = registry.change_server_owner(ctx, b.server, b.client->member());
        return r.ok() ? ok_status() : Status(std::move(r).error());
      }
      case RequestType::kAddressChange:
        return registry.set_server_address(ctx, b.server, b.address.value_or(""));
    }
    return Error(FaultCode::kInternalError, "unknown request type");
  }

  bool auto_approves(const RequestBody& b) const {
    switch (b.type) {
      case RequestType::kAuthCertReg:
        return opt.auto_approve_auth_cert_reg && registry.member(b.server.owner()).ok();
      case RequestType::kClientReg:
        // The owner's signature is always verified, so only the member's existence is left.
        return opt.auto_approve_client_reg && registry.member(b.client->member()).ok();
      case RequestType::kOwnerChange:
        return opt.auto_approve_owner_change && registry.member(b.client->member()).ok();
      case RequestType::kClientDeletion:
      case RequestType::kAddressChange:
        return true;
    }
    return false;
  }

  void audit_refusal(std::string_view source, std::string_view action, std::string_view target,
                     std::string_view summary, const Error& error) const {
    AuditContext ctx;
    ctx.actor = std::string(kActor);
    ctx.source = std::string(source);
    (void)registry.record_audit(ctx, action, target, summary, &error);
  }

  Result<SubmitResult> submit(std::string_view content_type, std::string_view body,
                              std::string_view source) {
    auto parsed = management::parse_request(content_type, body, opt.limits);
    if (!parsed.ok()) {
      audit_refusal(source, "management.request.refused", "-",
                    "unparsable request (" + std::to_string(body.size()) + " bytes)",
                    parsed.error());
      return std::move(parsed).error();
    }
    const ParsedRequest& p = *parsed;
    const std::string target = p.request.body.server.to_string();
    const std::string summary = summary_of(p.request.body, p.request.header.id);
    auto result = accept(p, source);
    if (!result.ok()) {
      audit_refusal(source, "management.request.refused", target, summary, result.error());
    }
    return result;
  }

  Result<SubmitResult> accept(const ParsedRequest& p, std::string_view source) {
    const TimePoint at = now();
    const std::string soap_hash = crypto::digest(crypto::DigestAlgorithm::kSha256, p.soap);
    HANSA_RETURN_IF_ERROR(check_replay(p, soap_hash));
    HANSA_ASSIGN_OR_RETURN(auto verified, verify(p, at));
    const RequestBody& b = p.request.body;
    HANSA_RETURN_IF_ERROR(check_duplicate_pending(b));

    AuditContext ctx;
    ctx.actor = std::string(kActor);
    ctx.source = std::string(source);
    std::int64_t id = 0;

    if (b.type == RequestType::kClientDeletion) {
      // Applied on arrival; revokes a pending registration of the same client.
      ctx.in_transaction = [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(revoke_pending_client_reg(tx, b));
        HANSA_ASSIGN_OR_RETURN(id, insert(tx, p, soap_hash, verified.signer, source,
                                          RequestState::kApproved, kActor, ""));
        return ok_status();
      };
      Status st = apply(ctx, b);
      if (!st.ok() && st.error().code == FaultCode::kNotFound) {
        // Not registered: only a pending registration can be withdrawn.
        HANSA_ASSIGN_OR_RETURN(auto tx, db.begin());
        HANSA_ASSIGN_OR_RETURN(
            auto rows,
            tx.execute("SELECT id FROM management_requests WHERE type = 'clientReg' AND state = "
                       "'pending' AND server_id = $1 AND client_id = $2",
                       {b.server.to_string(), b.client->to_string()}));
        if (rows.empty()) {
          return std::move(st).error();
        }
        HANSA_RETURN_IF_ERROR(ctx.in_transaction(tx));
        HANSA_RETURN_IF_ERROR(tx.commit());
        (void)registry.record_audit(ctx, "management.clientDeletion", b.server.to_string(),
                                    summary_of(b, p.request.header.id), nullptr);
        st = ok_status();
      }
      HANSA_RETURN_IF_ERROR(st);
      return respond(p, id, RequestState::kApproved);
    }

    std::string comment;
    if (auto_approves(b)) {
      const std::string_view by = b.type == RequestType::kAddressChange ? kActor : kAutoApproval;
      ctx.in_transaction = [&](Transaction& tx) -> Status {
        HANSA_ASSIGN_OR_RETURN(
            id, insert(tx, p, soap_hash, verified.signer, source, RequestState::kApproved, by, ""));
        return ok_status();
      };
      Status st = apply(ctx, b);
      if (st.ok()) {
        return respond(p, id, RequestState::kApproved);
      }
      if (b.type == RequestType::kAddressChange || st.error().code == FaultCode::kDatabaseError ||
          st.error().code == FaultCode::kCommitOutcomeUnknown ||
          st.error().code == FaultCode::kConflict) {
        // A change that needs no approval and was refused, or a storage failure / a replay that
        // raced us: refused as a whole.
        return std::move(st).error();
      }
      comment = "auto-approval refused: " + st.error().to_string();
    }
    {
      HANSA_ASSIGN_OR_RETURN(auto tx, db.begin());
      HANSA_ASSIGN_OR_RETURN(id, insert(tx, p, soap_hash, verified.signer, source,
                                        RequestState::kPending, "", comment));
      HANSA_RETURN_IF_ERROR(tx.commit());
    }
    (void)registry.record_audit(
        ctx, "management." + std::string(management::request_type_name(b.type)) + ".received",
        b.server.to_string(), summary_of(b, p.request.header.id), nullptr);
    return respond(p, id, RequestState::kPending);
  }

  SubmitResult respond(const ParsedRequest& p, std::int64_t id, RequestState state) const {
    return SubmitResult{id, state, management::build_response(p.request, id)};
  }

  Result<ManagementRequest> get(std::int64_t id) const {
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin(db::Access::kReadOnly));
    HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT " + std::string(kColumns) +
                                                      " FROM management_requests WHERE id = $1",
                                                  {id}));
    if (!row) {
      return Error(FaultCode::kNotFound, "no management request " + std::to_string(id));
    }
    return load_request(*row);
  }

  Result<Page<ManagementRequest>> list(const ManagementRequestQuery& q) const {
    std::size_t limit =
        q.page.limit == 0 ? opt.max_page_size : std::min(q.page.limit, opt.max_page_size);
    const std::string state = q.state ? std::string(request_state_name(*q.state)) : "";
    const std::string type =
        q.type ? std::string(management::request_type_name(*q.type)) : std::string();
    const std::string where =
        " FROM management_requests WHERE ($1 = '' OR state = $1) AND "
        "($2 = '' OR type = $2)";
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin(db::Access::kReadOnly));
    HANSA_ASSIGN_OR_RETURN(auto count, tx.query_one("SELECT COUNT(*)" + where, {state, type}));
    Page<ManagementRequest> page;
    HANSA_ASSIGN_OR_RETURN(page.total, count->int64(0));
    HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute("SELECT " + std::string(kColumns) + where +
                                                     " ORDER BY id DESC LIMIT $3 OFFSET $4",
                                                 {state, type, static_cast<std::int64_t>(limit),
                                                  static_cast<std::int64_t>(q.page.offset)}));
    for (const auto& r : rows) {
      HANSA_ASSIGN_OR_RETURN(auto item, load_request(r));
      page.items.push_back(std::move(item));
    }
    return page;
  }

  Status approve(const AuditContext& caller, std::int64_t id) {
    const std::string target = "management_request:" + std::to_string(id);
    auto refuse = [&](Error e) -> Status {
      (void)registry.record_audit(caller, "management.request.approve", target, "", &e);
      return e;
    };
    auto req = get(id);
    if (!req.ok()) {
      return refuse(std::move(req).error());
    }
    if (req->state != RequestState::kPending) {
      return refuse(Error(FaultCode::kConflict,
                          "management request " + std::to_string(id) + " is " +
                              std::string(request_state_name(req->state)) + ", not pending"));
    }
    AuditContext ctx = caller;
    ctx.in_transaction = [&](Transaction& tx) -> Status {
      if (caller.in_transaction) {
        HANSA_RETURN_IF_ERROR(caller.in_transaction(tx));
      }
      HANSA_ASSIGN_OR_RETURN(
          auto rows,
          tx.execute("UPDATE management_requests SET state = 'approved', decided_at = $1, "
                     "decided_by = $2 WHERE id = $3 AND state = 'pending'",
                     {to_epoch(now()), caller.actor, id}));
      if (rows.affected_rows() != 1) {
        return Error(FaultCode::kConflict,
                     "management request " + std::to_string(id) + " was decided meanwhile");
      }
      return ok_status();
    };
    Status st = apply(ctx, req->body);
    if (!st.ok()) {
      return refuse(std::move(st).error());
    }
    (void)registry.record_audit(caller, "management.request.approve", target,
                                summary_of(req->body, req->message_id), nullptr);
    return ok_status();
  }

  Status reject(const AuditContext& ctx, std::int64_t id, std::string_view reason) {
    const std::string target = "management_request:" + std::to_string(id);
    Status st = [&]() -> Status {
      HANSA_ASSIGN_OR_RETURN(auto tx, db.begin());
      HANSA_ASSIGN_OR_RETURN(
          auto rows,
          tx.execute("UPDATE management_requests SET state = 'rejected', decided_at = $1, "
                     "decided_by = $2, comment = $3 WHERE id = $4 AND state = 'pending'",
                     {to_epoch(now()), ctx.actor, std::string(reason), id}));
      if (rows.affected_rows() != 1) {
        HANSA_ASSIGN_OR_RETURN(
            auto row, tx.query_one("SELECT state FROM management_requests WHERE id = $1", {id}));
        if (!row) {
          return Error(FaultCode::kNotFound, "no management request " + std::to_string(id));
        }
        HANSA_ASSIGN_OR_RETURN(auto state, row->text(0));
        return Error(FaultCode::kConflict,
                     "management request " + std::to_string(id) + " is " + state + ", not pending");
      }
      if (ctx.in_transaction) {
        HANSA_RETURN_IF_ERROR(ctx.in_transaction(tx));
      }
      return tx.commit();
    }();
    (void)registry.record_audit(ctx, "management.request.reject", target,
                                "reason=" + std::string(reason), st.ok() ? nullptr : &st.error());
    return st;
  }
};

ManagementService::ManagementService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ManagementService::~ManagementService() = default;

std::span<const db::Migration> ManagementService::migrations() { return all_migrations(); }

Result<std::unique_ptr<ManagementService>> ManagementService::open(
    db::Database& db, Registry& registry, ManagementServiceOptions options) {
  HANSA_RETURN_IF_ERROR(db::migrate(db, kComponent, all_migrations()));
  if (!options.clock) {
    options.clock = [] { return std::chrono::system_clock::now(); };
  }
  if (options.max_page_size == 0) {
    options.max_page_size = 1;
  }
  return std::unique_ptr<ManagementService>(
      new ManagementService(std::make_unique<Impl>(Impl{db, registry, std::move(options)})));
}

Result<SubmitResult> ManagementService::submit(std::string_view content_type, std::string_view body,
                                               std::string_view source) {
  return impl_->submit(content_type, body, source);
}

Result<Page<ManagementRequest>> ManagementService::list(const ManagementRequestQuery& query) const {
  return impl_->list(query);
}

Result<ManagementRequest> ManagementService::get(std::int64_t id) const { return impl_->get(id); }

Status ManagementService::approve(const AuditContext& ctx, std::int64_t id) {
  return impl_->approve(ctx, id);
}

Status ManagementService::reject(const AuditContext& ctx, std::int64_t id,
                                 std::string_view reason) {
  return impl_->reject(ctx, id, reason);
}

}  // namespace hansa::central
