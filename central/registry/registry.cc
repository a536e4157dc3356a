#include "central/registry/registry.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/crypto/cert_profile.h"
#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/random.h"

namespace hansa::central {

namespace {

using db::Access;
using db::Row;
using db::Transaction;
using db::Value;

constexpr std::string_view kTokenPrefix = "hansa_";
constexpr std::size_t kMaxTokenLength = 128;

std::int64_t to_epoch(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
TimePoint from_epoch(std::int64_t s) { return TimePoint(std::chrono::seconds(s)); }

std::string sub_col(const ids::ClientId& c) { return c.subsystem_code().value_or(""); }

Error invalid(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidRequest, std::move(message), std::move(detail));
}
Error conflict(std::string message, std::string detail = {}) {
  return Error(FaultCode::kConflict, std::move(message), std::move(detail));
}
Error not_found(std::string message, std::string detail = {}) {
  return Error(FaultCode::kNotFound, std::move(message), std::move(detail));
}

// A client identifier from its stored columns.
Result<ids::ClientId> client_from_columns(const std::string& instance, const std::string& cls,
                                          const std::string& code, const std::string& sub) {
  if (sub.empty()) {
    return ids::ClientId::create(instance, cls, code);
  }
  return ids::ClientId::create(instance, cls, code, sub);
}

std::string hash_hex(std::string_view raw) { return crypto::hex_encode(raw); }

std::string b64(const crypto::Certificate& c) { return crypto::base64_encode(c.der()); }

Result<crypto::Certificate> cert_from_b64(const std::string& text) {
  return crypto::Certificate::from_base64(text);
}

nlohmann::json ca_cert_to_json(const CaCertificate& c) {
  nlohmann::json ocsp = nlohmann::json::array();
  for (const auto& o : c.ocsp) {
    ocsp.push_back({{"url", o.url}, {"cert", o.cert ? nlohmann::json(b64(*o.cert)) : nullptr}});
  }
  return {{"cert", b64(c.cert)}, {"ocsp", ocsp}};
}

Result<CaCertificate> ca_cert_from_json(const nlohmann::json& j) {
  HANSA_ASSIGN_OR_RETURN(auto cert, cert_from_b64(j.at("cert").get<std::string>()));
  CaCertificate out{std::move(cert), {}};
  for (const auto& o : j.at("ocsp")) {
    OcspResponder r{o.at("url").get<std::string>(), std::nullopt};
    if (!o.at("cert").is_null()) {
      HANSA_ASSIGN_OR_RETURN(r.cert, cert_from_b64(o.at("cert").get<std::string>()));
    }
    out.ocsp.push_back(std::move(r));
  }
  return out;
}

std::string ca_body(const ApprovedCa& ca) {
  nlohmann::json inter = nlohmann::json::array();
  for (const auto& i : ca.intermediate_cas) {
    inter.push_back(ca_cert_to_json(i));
  }
  return nlohmann::json{{"top", ca_cert_to_json(ca.top_ca)},
                        {"intermediates", inter},
                        {"profile", ca.certificate_profile_info},
                        {"authentication_only", ca.authentication_only}}
      .dump();
}

Result<ApprovedCa> ca_from_row(const Row& row) {
  HANSA_ASSIGN_OR_RETURN(auto id, row.int64(0));
  HANSA_ASSIGN_OR_RETURN(auto name, row.text(1));
  HANSA_ASSIGN_OR_RETURN(auto body, row.text(2));
  try {
    const auto j = nlohmann::json::parse(body);
    HANSA_ASSIGN_OR_RETURN(auto top, ca_cert_from_json(j.at("top")));
    ApprovedCa ca{id,
                  std::move(name),
                  std::move(top),
                  {},
                  j.at("profile").get<std::string>(),
                  j.at("authentication_only").get<bool>()};
    for (const auto& i : j.at("intermediates")) {
      HANSA_ASSIGN_OR_RETURN(auto c, ca_cert_from_json(i));
      ca.intermediate_cas.push_back(std::move(c));
    }
    return ca;
  } catch (const std::exception& e) {
    return Error(FaultCode::kDatabaseError, "stored CA record is unreadable", e.what());
  }
}

std::string make_secret() {
  std::string s = crypto::base64_encode(crypto::random_bytes(32));
  std::string out(kTokenPrefix);
  for (char c : s) {
    if (c == '+') {
      out += '-';
    } else if (c == '/') {
      out += '_';
    } else if (c != '=') {
      out += c;
    }
  }
  return out;
}

std::string secret_hash(std::string_view secret) {
  return crypto::hex_encode(crypto::digest(crypto::DigestAlgorithm::kSha256, secret));
}

}  // namespace

std::string_view admin_role_name(AdminRole role) noexcept {
  return role == AdminRole::kOperator ? "operator" : "read-only";
}

std::optional<AdminRole> admin_role_from_name(std::string_view name) noexcept {
  if (name == "operator") {
    return AdminRole::kOperator;
  }
  if (name == "read-only") {
    return AdminRole::kReadOnly;
  }
  return std::nullopt;
}

struct Registry::Impl {
  Impl(db::Database& d, RegistryOptions o) : db(d), opt(std::move(o)) {}

  db::Database& db;
  RegistryOptions opt;
  std::mutex listeners_mu;
  std::map<std::uint64_t, ChangeListener> listeners;
  std::uint64_t next_handle = 1;

  TimePoint now() const { return opt.clock(); }

  std::size_t cap(std::size_t limit) const {
    return (limit == 0 || limit > opt.max_page_size) ? opt.max_page_size : limit;
  }

  // --- validation helpers ---

  Status check_text(std::string_view field, std::string_view value, bool allow_empty) const {
    if (!allow_empty && value.empty()) {
      return invalid(std::string(field) + " must not be empty");
    }
    if (value.size() > opt.max_text_length) {
      return Error(FaultCode::kLimitExceeded, std::string(field) + " is too long",
                   std::to_string(value.size()) + " > " + std::to_string(opt.max_text_length));
    }
    for (unsigned char c : value) {
      if (c < 0x20 || c == 0x7f) {
        return invalid(std::string(field) + " contains a control character");
      }
    }
    return ok_status();
  }

  Status check_url(std::string_view field, std::string_view url) const {
    HANSA_RETURN_IF_ERROR(check_text(field, url, false));
    if (!(url.starts_with("http://") || url.starts_with("https://")) || url.find(' ') != url.npos) {
      return invalid(std::string(field) + " must be an http:// or https:// URL", std::string(url));
    }
    return ok_status();
  }

  Result<std::string> instance(Transaction& tx) const {
    HANSA_ASSIGN_OR_RETURN(
        auto row, tx.query_one("SELECT instance_identifier FROM registry_state WHERE id = 1"));
    if (!row || row->is_null(0)) {
      return Error(FaultCode::kInvalidConfiguration, "the registry has no instance identifier yet");
    }
    return row->text(0);
  }

  Status check_instance(Transaction& tx, const std::string& instance_of, FaultCode code,
                        const std::string& what) const {
    HANSA_ASSIGN_OR_RETURN(auto inst, instance(tx));
    if (instance_of != inst) {
      return Error(code, what + " belongs to instance '" + instance_of + "', not '" + inst + "'");
    }
    return ok_status();
  }

  Result<bool> exists(Transaction& tx, std::string_view sql, std::initializer_list<Value> params) {
    HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one(sql, params));
    return row.has_value();
  }

  Result<bool> member_exists(Transaction& tx, const ids::MemberId& m) {
    return exists(tx, "SELECT 1 FROM registry_members WHERE member_class = $1 AND member_code = $2",
                  {m.member_class(), m.member_code()});
  }

  Result<bool> client_exists(Transaction& tx, const ids::ClientId& c) {
    if (c.is_member()) {
      return member_exists(tx, c.member());
    }
    return exists(tx,
                  "SELECT 1 FROM registry_subsystems WHERE member_class = $1 AND member_code = $2 "
                  "AND subsystem_code = $3",
                  {c.member_class(), c.member_code(), *c.subsystem_code()});
  }

  Status require_client(Transaction& tx, const ids::ClientId& c) {
    HANSA_RETURN_IF_ERROR(
        check_instance(tx, c.instance(), FaultCode::kInvalidClientIdentifier, c.to_string()));
    HANSA_ASSIGN_OR_RETURN(bool ok, client_exists(tx, c));
    if (!ok) {
      return invalid("no such " + std::string(c.is_member() ? "member" : "subsystem"),
                     c.to_string());
    }
    return ok_status();
  }

  Result<std::optional<std::int64_t>> server_row(Transaction& tx, const ids::SecurityServerId& s) {
    HANSA_ASSIGN_OR_RETURN(
        auto row, tx.query_one("SELECT id FROM registry_servers WHERE owner_class = $1 AND "
                               "owner_code = $2 AND server_code = $3",
                               {s.member_class(), s.member_code(), s.server_code()}));
    if (!row) {
      return std::optional<std::int64_t>();
    }
    HANSA_ASSIGN_OR_RETURN(auto id, row->int64(0));
    return std::optional<std::int64_t>(id);
  }

  Result<std::int64_t> require_server(Transaction& tx, const ids::SecurityServerId& s) {
    HANSA_RETURN_IF_ERROR(
        check_instance(tx, s.instance(), FaultCode::kInvalidSecurityServer, s.to_string()));
    HANSA_ASSIGN_OR_RETURN(auto id, server_row(tx, s));
    if (!id) {
      return not_found("no such security server", s.to_string());
    }
    return *id;
  }

  // Certificate sanity for CA certificates.
  Status check_ca_cert(const crypto::Certificate& c, const std::string& what) const {
    if (!c.is_ca()) {
      return Error(FaultCode::kInvalidCertificate, what + " is not a CA certificate", c.subject());
    }
    if (!c.valid_at(now())) {
      return Error(FaultCode::kInvalidCertificate, what + " is expired or not yet valid",
                   c.subject());
    }
    return ok_status();
  }

  Status check_ocsp(const std::vector<OcspResponder>& list, const std::string& what) const {
    if (list.size() > opt.max_ocsp_responders) {
      return Error(FaultCode::kLimitExceeded, "too many OCSP responders for " + what);
    }
    for (const auto& o : list) {
      HANSA_RETURN_IF_ERROR(check_url("OCSP responder URL", o.url));
      if (o.cert && !o.cert->valid_at(now())) {
        return Error(FaultCode::kInvalidCertificate,
                     "OCSP responder certificate is expired or not yet valid", o.url);
      }
    }
    return ok_status();
  }

  Status check_ca(const ApprovedCa& ca) const {
    HANSA_RETURN_IF_ERROR(check_text("CA name", ca.name, false));
    HANSA_RETURN_IF_ERROR(check_ca_cert(ca.top_ca.cert, "top CA certificate"));
    HANSA_RETURN_IF_ERROR(check_ocsp(ca.top_ca.ocsp, "the top CA"));
    if (ca.intermediate_cas.size() > opt.max_intermediate_cas) {
      return Error(FaultCode::kLimitExceeded, "too many intermediate CAs");
    }
    std::vector<crypto::Certificate> chained{ca.top_ca.cert};
    std::vector<const CaCertificate*> pending;
    for (const auto& i : ca.intermediate_cas) {
      HANSA_RETURN_IF_ERROR(check_ca_cert(i.cert, "intermediate CA certificate"));
      HANSA_RETURN_IF_ERROR(check_ocsp(i.ocsp, "an intermediate CA"));
      pending.push_back(&i);
    }
    // Every intermediate must chain up to the top CA, possibly through other intermediates.
    bool progress = true;
    while (!pending.empty() && progress) {
      progress = false;
      for (auto it = pending.begin(); it != pending.end();) {
        const bool linked = std::any_of(chained.begin(), chained.end(), [&](const auto& parent) {
          return (*it)->cert.is_issued_by(parent);
        });
        if (linked) {
          chained.push_back((*it)->cert);
          it = pending.erase(it);
          progress = true;
        } else {
          ++it;
        }
      }
    }
    if (!pending.empty()) {
      return Error(FaultCode::kInvalidCertificate,
                   "intermediate CA certificate does not chain to the top CA",
                   pending.front()->cert.subject());
    }
    auto profile = crypto::certificate_profile_from_name(ca.certificate_profile_info);
    if (!profile.ok()) {
      return invalid("unknown certificate profile", ca.certificate_profile_info);
    }
    return ok_status();
  }

  Status check_tsa(const ApprovedTsa& tsa) const {
    HANSA_RETURN_IF_ERROR(check_text("TSA name", tsa.name, false));
    HANSA_RETURN_IF_ERROR(check_url("TSA URL", tsa.url));
    if (!tsa.cert.has_extended_key_usage(crypto::ExtendedKeyUsage::kTimeStamping)) {
      return Error(FaultCode::kInvalidCertificate,
                   "TSA certificate lacks the timeStamping extended key usage", tsa.cert.subject());
    }
    if (!tsa.cert.valid_at(now())) {
      return Error(FaultCode::kInvalidCertificate, "TSA certificate is expired or not yet valid",
                   tsa.cert.subject());
    }
    return ok_status();
  }

  // --- audit and the mutation frame ---

  Status insert_audit(Transaction& tx, const AuditContext& ctx, std::string_view action,
                      std::string_view target, std::string_view summary, const Error* refusal) {
    const std::string result = refusal ? std::string(fault_name(refusal->code)) : "ok";
    const std::string detail =
        refusal ? refusal->message + (refusal->detail.empty() ? "" : " (" + refusal->detail + ")")
                : "";
    return tx.execute(
                 "INSERT INTO registry_audit_log (at, actor, source, action, target, summary, "
                 "result, "
                 "detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                 {to_epoch(now()), ctx.actor, ctx.source, action, target, summary, result, detail})
                   .ok()
               ? ok_status()
               : Status(Error(FaultCode::kDatabaseError, "cannot write the audit log"));
  }

  Status record(const AuditContext& ctx, std::string_view action, std::string_view target,
                std::string_view summary, const Error* refusal) {
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin());
    HANSA_RETURN_IF_ERROR(insert_audit(tx, ctx, action, target, summary, refusal));
    return tx.commit();
  }

  void notify(std::int64_t version) {
    std::vector<ChangeListener> copy;
    {
      std::lock_guard lock(listeners_mu);
      for (const auto& [h, l] : listeners) {
        copy.push_back(l);
      }
    }
    for (const auto& l : copy) {
      l(version);
    }
  }

  // Runs `body` in one read-write transaction together with the audit entry and (when `bump`) the
  // change_version increment; records a refusal in its own transaction on failure.
  Status mutate(const AuditContext& ctx, std::string_view action, const std::string& target,
                const std::string& summary, bool bump,
                const std::function<Status(Transaction&)>& body) {
    std::int64_t version = 0;
    Status st = [&]() -> Status {
      HANSA_ASSIGN_OR_RETURN(auto tx, db.begin());
      // The state row's lock serializes registry writers, also across processes sharing one
      // PostgreSQL database: later statements see everything committed before.
      HANSA_ASSIGN_OR_RETURN(
          auto row,
          tx.query_one("UPDATE registry_state SET change_version = change_version + $1 WHERE id "
                       "= 1 RETURNING change_version",
                       {bump ? 1 : 0}));
      if (!row) {
        return Error(FaultCode::kDatabaseError, "registry state row is missing");
      }
      HANSA_ASSIGN_OR_RETURN(version, row->int64(0));
      HANSA_RETURN_IF_ERROR(body(tx));
      HANSA_RETURN_IF_ERROR(insert_audit(tx, ctx, action, target, summary, nullptr));
      if (ctx.in_transaction) {
        HANSA_RETURN_IF_ERROR(ctx.in_transaction(tx));
      }
      return tx.commit();
    }();
    if (!st.ok()) {
      if (st.error().code != FaultCode::kCommitOutcomeUnknown) {
        (void)record(ctx, action, target, summary, &st.error());
      }
      return st;
    }
    if (bump) {
      notify(version);
    }
    return st;
  }

  // --- readers ---

  Result<Member> load_member(Transaction& tx, const std::string& inst, const Row& row) {
    HANSA_ASSIGN_OR_RETURN(auto cls, row.text(0));
    HANSA_ASSIGN_OR_RETURN(auto code, row.text(1));
    HANSA_ASSIGN_OR_RETURN(auto name, row.text(2));
    HANSA_ASSIGN_OR_RETURN(auto id, ids::MemberId::create(inst, cls, code));
    Member m{id, std::move(name), {}};
    HANSA_ASSIGN_OR_RETURN(
        auto subs, tx.execute("SELECT subsystem_code, name FROM registry_subsystems WHERE "
                              "member_class = $1 AND member_code = $2 ORDER BY subsystem_code",
                              {cls, code}));
    for (const auto& s : subs) {
      HANSA_ASSIGN_OR_RETURN(auto sc, s.text(0));
      HANSA_ASSIGN_OR_RETURN(auto sn, s.text(1));
      HANSA_ASSIGN_OR_RETURN(auto sid, ids::SubsystemId::create(id, sc));
      m.subsystems.push_back(Subsystem{std::move(sid), std::move(sn)});
    }
    return m;
  }

  Result<std::vector<ids::ClientId>> load_clients(Transaction& tx, const std::string& inst,
                                                  std::string_view sql, const Value& key) {
    HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute(sql, {key}));
    std::vector<ids::ClientId> out;
    for (const auto& r : rows) {
      HANSA_ASSIGN_OR_RETURN(auto cls, r.text(0));
      HANSA_ASSIGN_OR_RETURN(auto code, r.text(1));
      HANSA_ASSIGN_OR_RETURN(auto sub, r.text(2));
      HANSA_ASSIGN_OR_RETURN(auto c, client_from_columns(inst, cls, code, sub));
      out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  Result<SecurityServer> load_server(Transaction& tx, const std::string& inst, const Row& row) {
    HANSA_ASSIGN_OR_RETURN(auto rid, row.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto cls, row.text(1));
    HANSA_ASSIGN_OR_RETURN(auto code, row.text(2));
    HANSA_ASSIGN_OR_RETURN(auto sc, row.text(3));
    HANSA_ASSIGN_OR_RETURN(auto address, row.text(4));
    HANSA_ASSIGN_OR_RETURN(auto id, ids::SecurityServerId::create(inst, cls, code, sc));
    SecurityServer s{std::move(id), std::move(address), {}, {}};
    HANSA_ASSIGN_OR_RETURN(auto certs,
                           tx.execute("SELECT hash_hex, cert FROM registry_auth_certs WHERE "
                                      "server_id = $1 ORDER BY hash_hex",
                                      {rid}));
    for (const auto& c : certs) {
      HANSA_ASSIGN_OR_RETURN(auto hx, c.text(0));
      HANSA_ASSIGN_OR_RETURN(auto raw, crypto::hex_decode(hx));
      AuthCert ac{std::move(raw), std::nullopt};
      HANSA_ASSIGN_OR_RETURN(auto der, c.optional_blob(1));
      if (der) {
        HANSA_ASSIGN_OR_RETURN(ac.cert, crypto::Certificate::from_der(*der));
      }
      s.auth_certs.push_back(std::move(ac));
    }
    HANSA_ASSIGN_OR_RETURN(s.clients, load_clients(tx, inst,
                                                   "SELECT member_class, member_code, "
                                                   "subsystem_code FROM registry_server_clients "
                                                   "WHERE server_id = $1",
                                                   Value(rid)));
    return s;
  }

  Result<GlobalGroup> load_group(Transaction& tx, const std::string& inst, const Row& row) {
    HANSA_ASSIGN_OR_RETURN(auto code, row.text(0));
    HANSA_ASSIGN_OR_RETURN(auto desc, row.text(1));
    HANSA_ASSIGN_OR_RETURN(auto id, ids::GlobalGroupId::create(inst, code));
    GlobalGroup g{std::move(id), std::move(desc), {}};
    HANSA_ASSIGN_OR_RETURN(g.members, load_clients(tx, inst,
                                                   "SELECT member_class, member_code, "
                                                   "subsystem_code FROM registry_group_members "
                                                   "WHERE group_code = $1",
                                                   Value(code)));
    return g;
  }

  Result<ApprovedTsa> load_tsa(const Row& row) {
    HANSA_ASSIGN_OR_RETURN(auto id, row.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto name, row.text(1));
    HANSA_ASSIGN_OR_RETURN(auto url, row.text(2));
    HANSA_ASSIGN_OR_RETURN(auto der, row.blob(3));
    HANSA_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::from_der(der));
    return ApprovedTsa{id, std::move(name), std::move(url), std::move(cert)};
  }

  Result<Settings> load_settings(Transaction& tx, const std::string* inst) {
    Settings s;
    HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute("SELECT name, value FROM registry_settings"));
    for (const auto& r : rows) {
      HANSA_ASSIGN_OR_RETURN(auto name, r.text(0));
      HANSA_ASSIGN_OR_RETURN(auto value, r.text(1));
      auto as_int = [&](std::int64_t& out) -> Status {
        try {
          out = std::stoll(value);
        } catch (const std::exception&) {
          return Error(FaultCode::kDatabaseError, "bad stored setting", name);
        }
        return ok_status();
      };
      if (name == "ocsp_freshness_seconds") {
        HANSA_RETURN_IF_ERROR(as_int(s.ocsp_freshness_seconds));
      } else if (name == "time_stamping_interval_seconds") {
        HANSA_RETURN_IF_ERROR(as_int(s.time_stamping_interval_seconds));
      } else if (name == "configuration_validity_seconds") {
        HANSA_RETURN_IF_ERROR(as_int(s.configuration_validity_seconds));
      } else if (name == "management_service_address") {
        s.management_service_address = value;
      } else if (name == "management_service_cert") {
        HANSA_ASSIGN_OR_RETURN(s.management_service_cert, cert_from_b64(value));
      } else if (name == "management_service_provider") {
        HANSA_ASSIGN_OR_RETURN(s.management_service_provider, ids::ClientId::parse(value));
      }
    }
    (void)inst;
    return s;
  }

  // Deletes every reference to a client (server registrations, group memberships). For a member
  // this includes its subsystems.
  Status delete_client_references(Transaction& tx, const ids::ClientId& c) {
    for (const char* table : {"registry_server_clients", "registry_group_members"}) {
      if (c.is_member()) {
        HANSA_RETURN_IF_ERROR(tx.execute(
            std::string("DELETE FROM ") + table + " WHERE member_class = $1 AND member_code = $2",
            {c.member_class(), c.member_code()}));
      } else {
        HANSA_RETURN_IF_ERROR(tx.execute(std::string("DELETE FROM ") + table +
                                             " WHERE member_class = $1 AND member_code = $2 AND "
                                             "subsystem_code = $3",
                                         {c.member_class(), c.member_code(), *c.subsystem_code()}));
      }
    }
    return ok_status();
  }

  Result<std::int64_t> count_references(Transaction& tx, const ids::ClientId& c) {
    std::int64_t total = 0;
    for (const char* table : {"registry_server_clients", "registry_group_members"}) {
      Result<std::optional<Row>> row =
          c.is_member() ? tx.query_one(std::string("SELECT COUNT(*) FROM ") + table +
                                           " WHERE member_class = $1 AND member_code = $2",
                                       {c.member_class(), c.member_code()})
                        : tx.query_one(std::string("SELECT COUNT(*) FROM ") + table +
                                           " WHERE member_class = $1 AND member_code = $2 AND "
                                           "subsystem_code = $3",
                                       {c.member_class(), c.member_code(), *c.subsystem_code()});
      if (!row.ok()) {
        return std::move(row).error();
      }
      HANSA_ASSIGN_OR_RETURN(auto n, (*row)->int64(0));
      total += n;
    }
    return total;
  }

  Status insert_auth_cert(Transaction& tx, std::int64_t rid, const std::string& hash,
                          const std::optional<crypto::Certificate>& cert) {
    HANSA_ASSIGN_OR_RETURN(
        bool dup,
        exists(tx, "SELECT 1 FROM registry_auth_certs WHERE hash_hex = $1", {hash_hex(hash)}));
    if (dup) {
      return conflict("the authentication certificate is registered already", hash_hex(hash));
    }
    HANSA_ASSIGN_OR_RETURN(
        auto count,
        tx.query_one("SELECT COUNT(*) FROM registry_auth_certs WHERE server_id = $1", {rid}));
    HANSA_ASSIGN_OR_RETURN(auto n, count->int64(0));
    if (static_cast<std::size_t>(n) >= opt.max_auth_certs_per_server) {
      return Error(FaultCode::kLimitExceeded, "too many authentication certificates on the server");
    }
    HANSA_RETURN_IF_ERROR(tx.execute(
        "INSERT INTO registry_auth_certs (hash_hex, server_id, cert) VALUES ($1, $2, $3)",
        {hash_hex(hash), rid, cert ? Value::blob(cert->der()) : Value(nullptr)}));
    return ok_status();
  }

  template <typename T>
  Result<T> read(const std::function<Result<T>(Transaction&)>& body) const {
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin(Access::kReadOnly));
    return body(tx);
  }
};

Registry::Registry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Registry::~Registry() = default;

Result<std::unique_ptr<Registry>> Registry::open(db::Database& db, RegistryOptions options) {
  HANSA_RETURN_IF_ERROR(db::migrate(db, "central_registry", migrations()));
  if (options.max_page_size == 0) {
    options.max_page_size = 1;
  }
  return std::unique_ptr<Registry>(new Registry(std::make_unique<Impl>(db, std::move(options))));
}

// --- Instance and change tracking ---

Status Registry::initialize(const AuditContext& ctx, std::string_view instance_identifier) {
  const std::string inst(instance_identifier);
  HANSA_RETURN_IF_ERROR(
      ids::validate_part(ids::Part::kInstance, inst, FaultCode::kInvalidIdentifier));
  // Idempotent for the same value: no change, no audit entry.
  {
    HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
    auto current = impl_->instance(tx);
    if (current.ok() && *current == inst) {
      return ok_status();
    }
  }
  return impl_->mutate(ctx, "instance.initialize", inst, "", true, [&](Transaction& tx) -> Status {
    auto current = impl_->instance(tx);
    if (current.ok()) {
      if (*current == inst) {
        return ok_status();
      }
      return conflict("the instance identifier is already set", *current);
    }
    return tx.execute("UPDATE registry_state SET instance_identifier = $1 WHERE id = 1", {inst})
                   .ok()
               ? ok_status()
               : Status(Error(FaultCode::kDatabaseError, "cannot set the instance identifier"));
  });
}

Result<std::string> Registry::instance_identifier() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  return impl_->instance(tx);
}

Result<std::int64_t> Registry::change_version() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row,
                         tx.query_one("SELECT change_version FROM registry_state WHERE id = 1"));
  if (!row) {
    return Error(FaultCode::kDatabaseError, "registry state row is missing");
  }
  return row->int64(0);
}

std::uint64_t Registry::subscribe(ChangeListener listener) {
  std::lock_guard lock(impl_->listeners_mu);
  const auto h = impl_->next_handle++;
  impl_->listeners.emplace(h, std::move(listener));
  return h;
}

void Registry::unsubscribe(std::uint64_t handle) {
  std::lock_guard lock(impl_->listeners_mu);
  impl_->listeners.erase(handle);
}

// --- Member classes ---

Status Registry::add_member_class(const AuditContext& ctx, const MemberClass& mc) {
  return impl_->mutate(
      ctx, "member_class.create", mc.code, "description=" + mc.description, true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(
            ids::validate_part(ids::Part::kMemberClass, mc.code, FaultCode::kInvalidIdentifier));
        HANSA_RETURN_IF_ERROR(impl_->check_text("description", mc.description, true));
        HANSA_ASSIGN_OR_RETURN(
            bool dup,
            impl_->exists(tx, "SELECT 1 FROM registry_member_classes WHERE code = $1", {mc.code}));
        if (dup) {
          return conflict("member class exists", mc.code);
        }
        HANSA_RETURN_IF_ERROR(
            tx.execute("INSERT INTO registry_member_classes (code, description) VALUES ($1, $2)",
                       {mc.code, mc.description}));
        return ok_status();
      });
}

Status Registry::update_member_class(const AuditContext& ctx, std::string_view code,
                                     std::string_view description) {
  const std::string c(code);
  return impl_->mutate(ctx, "member_class.update", c, "description=" + std::string(description),
                       true, [&](Transaction& tx) -> Status {
                         HANSA_RETURN_IF_ERROR(impl_->check_text("description", description, true));
                         HANSA_ASSIGN_OR_RETURN(auto rows,
                                                tx.execute("UPDATE registry_member_classes SET "
                                                           "description = $1 WHERE code = $2",
                                                           {description, c}));
                         if (rows.affected_rows() == 0) {
                           return not_found("no such member class", c);
                         }
                         return ok_status();
                       });
}

Status Registry::delete_member_class(const AuditContext& ctx, std::string_view code) {
  const std::string c(code);
  return impl_->mutate(ctx, "member_class.delete", c, "", true, [&](Transaction& tx) -> Status {
    HANSA_ASSIGN_OR_RETURN(
        bool used,
        impl_->exists(tx, "SELECT 1 FROM registry_members WHERE member_class = $1 LIMIT 1", {c}));
    if (used) {
      return conflict("members of this class exist", c);
    }
    HANSA_ASSIGN_OR_RETURN(auto rows,
                           tx.execute("DELETE FROM registry_member_classes WHERE code = $1", {c}));
    if (rows.affected_rows() == 0) {
      return not_found("no such member class", c);
    }
    return ok_status();
  });
}

Result<std::vector<MemberClass>> Registry::member_classes() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(
      auto rows, tx.execute("SELECT code, description FROM registry_member_classes ORDER BY code"));
  std::vector<MemberClass> out;
  for (const auto& r : rows) {
    HANSA_ASSIGN_OR_RETURN(auto code, r.text(0));
    HANSA_ASSIGN_OR_RETURN(auto desc, r.text(1));
    out.push_back(MemberClass{std::move(code), std::move(desc)});
  }
  return out;
}

// --- Members and subsystems ---

Status Registry::add_member(const AuditContext& ctx, const ids::MemberId& id,
                            std::string_view name) {
  return impl_->mutate(
      ctx, "member.create", id.to_string(), "name=" + std::string(name), true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_text("member name", name, false));
        HANSA_RETURN_IF_ERROR(impl_->check_instance(
            tx, id.instance(), FaultCode::kInvalidClientIdentifier, id.to_string()));
        HANSA_ASSIGN_OR_RETURN(
            bool cls, impl_->exists(tx, "SELECT 1 FROM registry_member_classes WHERE code = $1",
                                    {id.member_class()}));
        if (!cls) {
          return invalid("no such member class", id.member_class());
        }
        HANSA_ASSIGN_OR_RETURN(bool dup, impl_->member_exists(tx, id));
        if (dup) {
          return conflict("member exists", id.to_string());
        }
        HANSA_RETURN_IF_ERROR(tx.execute(
            "INSERT INTO registry_members (member_class, member_code, name) VALUES ($1, $2, $3)",
            {id.member_class(), id.member_code(), name}));
        return ok_status();
      });
}

Status Registry::rename_member(const AuditContext& ctx, const ids::MemberId& id,
                               std::string_view name) {
  return impl_->mutate(ctx, "member.update", id.to_string(), "name=" + std::string(name), true,
                       [&](Transaction& tx) -> Status {
                         HANSA_RETURN_IF_ERROR(impl_->check_text("member name", name, false));
                         HANSA_ASSIGN_OR_RETURN(
                             auto rows, tx.execute("UPDATE registry_members SET name = $1 WHERE "
                                                   "member_class = $2 AND member_code = $3",
                                                   {name, id.member_class(), id.member_code()}));
                         if (rows.affected_rows() == 0) {
                           return not_found("no such member", id.to_string());
                         }
                         return ok_status();
                       });
}

Status Registry::delete_member(const AuditContext& ctx, const ids::MemberId& id, bool cascade) {
  return impl_->mutate(
      ctx, "member.delete", id.to_string(), cascade ? "cascade=true" : "cascade=false", true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_instance(
            tx, id.instance(), FaultCode::kInvalidClientIdentifier, id.to_string()));
        HANSA_ASSIGN_OR_RETURN(bool present, impl_->member_exists(tx, id));
        if (!present) {
          return not_found("no such member", id.to_string());
        }
        HANSA_ASSIGN_OR_RETURN(
            auto owned, tx.execute("SELECT id FROM registry_servers WHERE owner_class = $1 AND "
                                   "owner_code = $2",
                                   {id.member_class(), id.member_code()}));
        HANSA_ASSIGN_OR_RETURN(auto refs, impl_->count_references(tx, ids::ClientId(id)));
        if (!cascade && (!owned.empty() || refs > 0)) {
          return conflict(
              "member owns security servers or is referenced (use cascade)",
              std::to_string(owned.size()) + " servers, " + std::to_string(refs) + " references");
        }
        for (const auto& r : owned) {
          HANSA_ASSIGN_OR_RETURN(auto sid, r.int64(0));
          HANSA_RETURN_IF_ERROR(tx.execute("DELETE FROM registry_servers WHERE id = $1", {sid}));
        }
        HANSA_RETURN_IF_ERROR(impl_->delete_client_references(tx, ids::ClientId(id)));
        HANSA_RETURN_IF_ERROR(
            tx.execute("DELETE FROM registry_members WHERE member_class = $1 AND member_code = $2",
                       {id.member_class(), id.member_code()}));
        return ok_status();
      });
}

Result<Member> Registry::member(const ids::MemberId& id) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto inst, impl_->instance(tx));
  HANSA_ASSIGN_OR_RETURN(
      auto row, tx.query_one("SELECT member_class, member_code, name FROM registry_members WHERE "
                             "member_class = $1 AND member_code = $2",
                             {id.member_class(), id.member_code()}));
  if (!row || inst != id.instance()) {
    return not_found("no such member", id.to_string());
  }
  return impl_->load_member(tx, inst, *row);
}

Result<Page<Member>> Registry::members(PageRequest page) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto inst, impl_->instance(tx));
  HANSA_ASSIGN_OR_RETURN(auto total_row, tx.query_one("SELECT COUNT(*) FROM registry_members"));
  Page<Member> out;
  HANSA_ASSIGN_OR_RETURN(out.total, total_row->int64(0));
  HANSA_ASSIGN_OR_RETURN(
      auto rows, tx.execute("SELECT member_class, member_code, name FROM registry_members ORDER BY "
                            "member_class, member_code LIMIT $1 OFFSET $2",
                            {impl_->cap(page.limit), page.offset}));
  for (const auto& r : rows) {
    HANSA_ASSIGN_OR_RETURN(auto m, impl_->load_member(tx, inst, r));
    out.items.push_back(std::move(m));
  }
  return out;
}

Status Registry::add_subsystem(const AuditContext& ctx, const ids::SubsystemId& id,
                               std::string_view name) {
  return impl_->mutate(
      ctx, "subsystem.create", id.to_string(), "name=" + std::string(name), true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_text("subsystem name", name, true));
        HANSA_RETURN_IF_ERROR(impl_->require_client(tx, ids::ClientId(id.member())));
        HANSA_ASSIGN_OR_RETURN(bool dup, impl_->client_exists(tx, ids::ClientId(id)));
        if (dup) {
          return conflict("subsystem exists", id.to_string());
        }
        HANSA_RETURN_IF_ERROR(
            tx.execute("INSERT INTO registry_subsystems (member_class, member_code, "
                       "subsystem_code, name) VALUES ($1, $2, $3, $4)",
                       {id.member_class(), id.member_code(), id.subsystem_code(), name}));
        return ok_status();
      });
}

Status Registry::delete_subsystem(const AuditContext& ctx, const ids::SubsystemId& id,
                                  bool cascade) {
  return impl_->mutate(
      ctx, "subsystem.delete", id.to_string(), cascade ? "cascade=true" : "cascade=false", true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_instance(
            tx, id.instance(), FaultCode::kInvalidClientIdentifier, id.to_string()));
        HANSA_ASSIGN_OR_RETURN(bool present, impl_->client_exists(tx, ids::ClientId(id)));
        if (!present) {
          return not_found("no such subsystem", id.to_string());
        }
        HANSA_ASSIGN_OR_RETURN(auto refs, impl_->count_references(tx, ids::ClientId(id)));
        if (!cascade && refs > 0) {
          return conflict("subsystem is referenced (use cascade)",
                          std::to_string(refs) + " references");
        }
        HANSA_RETURN_IF_ERROR(impl_->delete_client_references(tx, ids::ClientId(id)));
        HANSA_RETURN_IF_ERROR(
            tx.execute("DELETE FROM registry_subsystems WHERE member_class = $1 AND member_code = "
                       "$2 AND subsystem_code = $3",
                       {id.member_class(), id.member_code(), id.subsystem_code()}));
        return ok_status();
      });
}

// --- Security servers ---

Status Registry::add_server(const AuditContext& ctx, const ids::SecurityServerId& id,
                            std::string_view address) {
  return impl_->mutate(
      ctx, "server.create", id.to_string(), "address=" + std::string(address), true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_text("address", address, true));
        HANSA_RETURN_IF_ERROR(impl_->check_instance(
            tx, id.instance(), FaultCode::kInvalidSecurityServer, id.to_string()));
        HANSA_ASSIGN_OR_RETURN(bool owner, impl_->member_exists(tx, id.owner()));
        if (!owner) {
          return invalid("the owner member does not exist", id.owner().to_string());
        }
        HANSA_ASSIGN_OR_RETURN(auto existing, impl_->server_row(tx, id));
        if (existing) {
          return conflict("security server exists", id.to_string());
        }
        HANSA_RETURN_IF_ERROR(
            tx.execute("INSERT INTO registry_servers (owner_class, owner_code, server_code, "
                       "address) VALUES ($1, $2, $3, $4)",
                       {id.member_class(), id.member_code(), id.server_code(), address}));
        return ok_status();
      });
}

Status Registry::set_server_address(const AuditContext& ctx, const ids::SecurityServerId& id,
                                    std::string_view address) {
  return impl_->mutate(
      ctx, "server.address", id.to_string(), "address=" + std::string(address), true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_text("address", address, true));
        HANSA_ASSIGN_OR_RETURN(auto rid, impl_->require_server(tx, id));
        HANSA_RETURN_IF_ERROR(
            tx.execute("UPDATE registry_servers SET address = $1 WHERE id = $2", {address, rid}));
        return ok_status();
      });
}

Status Registry::delete_server(const AuditContext& ctx, const ids::SecurityServerId& id) {
  return impl_->mutate(
      ctx, "server.delete", id.to_string(), "", true, [&](Transaction& tx) -> Status {
        HANSA_ASSIGN_OR_RETURN(auto rid, impl_->require_server(tx, id));
        HANSA_RETURN_IF_ERROR(tx.execute("DELETE FROM registry_servers WHERE id = $1", {rid}));
        return ok_status();
      });
}

Result<SecurityServer> Registry::server(const ids::SecurityServerId& id) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto inst, impl_->instance(tx));
  HANSA_ASSIGN_OR_RETURN(
      auto row,
      tx.query_one("SELECT id, owner_class, owner_code, server_code, address FROM registry_servers "
                   "WHERE owner_class = $1 AND owner_code = $2 AND server_code = $3",
                   {id.member_class(), id.member_code(), id.server_code()}));
  if (!row || inst != id.instance()) {
    return not_found("no such security server", id.to_string());
  }
  return impl_->load_server(tx, inst, *row);
}

Result<Page<SecurityServer>> Registry::servers(PageRequest page) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto inst, impl_->instance(tx));
  HANSA_ASSIGN_OR_RETURN(auto total_row, tx.query_one("SELECT COUNT(*) FROM registry_servers"));
  Page<SecurityServer> out;
  HANSA_ASSIGN_OR_RETURN(out.total, total_row->int64(0));
  HANSA_ASSIGN_OR_RETURN(
      auto rows, tx.execute("SELECT id, owner_class, owner_code, server_code, address FROM "
                            "registry_servers ORDER BY owner_class, owner_code, server_code "
                            "LIMIT $1 OFFSET $2",
                            {impl_->cap(page.limit), page.offset}));
  for (const auto& r : rows) {
    HANSA_ASSIGN_OR_RETURN(auto s, impl_->load_server(tx, inst, r));
    out.items.push_back(std::move(s));
  }
  return out;
}

Result<std::optional<ids::SecurityServerId>> Registry::server_by_auth_cert_hash(
    std::string_view sha256) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto inst, impl_->instance(tx));
  HANSA_ASSIGN_OR_RETURN(
      auto row, tx.query_one("SELECT s.owner_class, s.owner_code, s.server_code FROM "
                             "registry_auth_certs a JOIN registry_servers s ON s.id = a.server_id "
                             "WHERE a.hash_hex = $1",
                             {hash_hex(sha256)}));
  if (!row) {
    return std::optional<ids::SecurityServerId>();
  }
  HANSA_ASSIGN_OR_RETURN(auto cls, row->text(0));
  HANSA_ASSIGN_OR_RETURN(auto code, row->text(1));
  HANSA_ASSIGN_OR_RETURN(auto sc, row->text(2));
  HANSA_ASSIGN_OR_RETURN(auto id, ids::SecurityServerId::create(inst, cls, code, sc));
  return std::optional<ids::SecurityServerId>(std::move(id));
}

Status Registry::register_auth_cert(const AuditContext& ctx, const ids::SecurityServerId& server,
                                    const crypto::Certificate& cert, std::string_view address) {
  const std::string hash = cert.fingerprint(crypto::DigestAlgorithm::kSha256);
  return impl_->mutate(
      ctx, "server.auth_cert.register", server.to_string(),
      "sha256=" + hash_hex(hash) + " address=" + std::string(address), true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_text("address", address, true));
        if (cert.is_ca()) {
          return Error(FaultCode::kInvalidCertificate,
                       "a CA certificate is not an authentication certificate", cert.subject());
        }
        if (!cert.valid_at(impl_->now())) {
          return Error(FaultCode::kInvalidCertificate,
                       "the authentication certificate is expired or not yet valid",
                       cert.subject());
        }
        HANSA_RETURN_IF_ERROR(impl_->check_instance(
            tx, server.instance(), FaultCode::kInvalidSecurityServer, server.to_string()));
        HANSA_ASSIGN_OR_RETURN(auto rid, impl_->server_row(tx, server));
        if (!rid) {
          HANSA_ASSIGN_OR_RETURN(bool owner, impl_->member_exists(tx, server.owner()));
          if (!owner) {
            return invalid("the owner member does not exist", server.owner().to_string());
          }
          HANSA_ASSIGN_OR_RETURN(
              auto row,
              tx.query_one(
                  "INSERT INTO registry_servers (owner_class, owner_code, server_code, "
                  "address) VALUES ($1, $2, $3, $4) RETURNING id",
                  {server.member_class(), server.member_code(), server.server_code(), address}));
          HANSA_ASSIGN_OR_RETURN(auto id, row->int64(0));
          rid = id;
        } else if (!address.empty()) {
          HANSA_RETURN_IF_ERROR(tx.execute("UPDATE registry_servers SET address = $1 WHERE id = $2",
                                           {address, *rid}));
        }
        return impl_->insert_auth_cert(tx, *rid, hash, cert);
      });
}

Status Registry::register_auth_cert_hash(const AuditContext& ctx,
                                         const ids::SecurityServerId& server,
                                         std::string_view sha256) {
  const std::string hash(sha256);
  return impl_->mutate(ctx, "server.auth_cert.register", server.to_string(),
                       "sha256=" + hash_hex(hash), true, [&](Transaction& tx) -> Status {
                         if (hash.size() != crypto::digest_size(crypto::DigestAlgorithm::kSha256)) {
                           return invalid("an auth certificate hash is 32 bytes (SHA-256)");
                         }
                         HANSA_ASSIGN_OR_RETURN(auto rid, impl_->require_server(tx, server));
                         return impl_->insert_auth_cert(tx, rid, hash, std::nullopt);
                       });
}

Status Registry::delete_auth_cert(const AuditContext& ctx, const ids::SecurityServerId& server,
                                  std::string_view sha256) {
  const std::string hash(sha256);
  return impl_->mutate(
      ctx, "server.auth_cert.delete", server.to_string(), "sha256=" + hash_hex(hash), true,
      [&](Transaction& tx) -> Status {
        HANSA_ASSIGN_OR_RETURN(auto rid, impl_->require_server(tx, server));
        HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute("DELETE FROM registry_auth_certs WHERE "
                                                     "server_id = $1 AND hash_hex = $2",
                                                     {rid, hash_hex(hash)}));
        if (rows.affected_rows() == 0) {
          return not_found("no such authentication certificate on the server", hash_hex(hash));
        }
        return ok_status();
      });
}

Status Registry::add_server_client(const AuditContext& ctx, const ids::SecurityServerId& server,
                                   const ids::ClientId& client, bool create_missing_subsystem) {
  return impl_->mutate(
      ctx, "server.client.add", server.to_string(), "client=" + client.to_string(), true,
      [&](Transaction& tx) -> Status {
        HANSA_ASSIGN_OR_RETURN(auto rid, impl_->require_server(tx, server));
        HANSA_RETURN_IF_ERROR(impl_->check_instance(
            tx, client.instance(), FaultCode::kInvalidClientIdentifier, client.to_string()));
        HANSA_ASSIGN_OR_RETURN(bool present, impl_->client_exists(tx, client));
        if (!present) {
          HANSA_ASSIGN_OR_RETURN(bool member, impl_->member_exists(tx, client.member()));
          if (!member || client.is_member() || !create_missing_subsystem) {
            return invalid("no such client", client.to_string());
          }
          HANSA_RETURN_IF_ERROR(
              tx.execute("INSERT INTO registry_subsystems (member_class, member_code, "
                         "subsystem_code, name) VALUES ($1, $2, $3, '')",
                         {client.member_class(), client.member_code(), *client.subsystem_code()}));
        }
        HANSA_ASSIGN_OR_RETURN(
            bool dup,
            impl_->exists(tx,
                          "SELECT 1 FROM registry_server_clients WHERE server_id = $1 "
                          "AND member_class = $2 AND member_code = $3 AND "
                          "subsystem_code = $4",
                          {rid, client.member_class(), client.member_code(), sub_col(client)}));
        if (dup) {
          return conflict("the client is registered on the server already", client.to_string());
        }
        HANSA_ASSIGN_OR_RETURN(
            auto count,
            tx.query_one("SELECT COUNT(*) FROM registry_server_clients WHERE server_id = $1",
                         {rid}));
        HANSA_ASSIGN_OR_RETURN(auto n, count->int64(0));
        if (static_cast<std::size_t>(n) >= impl_->opt.max_server_clients) {
          return Error(FaultCode::kLimitExceeded, "too many clients on the server");
        }
        HANSA_RETURN_IF_ERROR(
            tx.execute("INSERT INTO registry_server_clients (server_id, member_class, "
                       "member_code, subsystem_code) VALUES ($1, $2, $3, $4)",
                       {rid, client.member_class(), client.member_code(), sub_col(client)}));
        return ok_status();
      });
}

Status Registry::remove_server_client(const AuditContext& ctx, const ids::SecurityServerId& server,
                                      const ids::ClientId& client) {
  return impl_->mutate(
      ctx, "server.client.remove", server.to_string(), "client=" + client.to_string(), true,
      [&](Transaction& tx) -> Status {
        HANSA_ASSIGN_OR_RETURN(auto rid, impl_->require_server(tx, server));
        HANSA_ASSIGN_OR_RETURN(
            auto rows,
            tx.execute("DELETE FROM registry_server_clients WHERE server_id = $1 AND "
                       "member_class = $2 AND member_code = $3 AND subsystem_code = $4",
                       {rid, client.member_class(), client.member_code(), sub_col(client)}));
        if (rows.affected_rows() == 0) {
          return not_found("the client is not registered on the server", client.to_string());
        }
        return ok_status();
      });
}

Result<ids::SecurityServerId> Registry::change_server_owner(const AuditContext& ctx,
                                                            const ids::SecurityServerId& server,
                                                            const ids::MemberId& new_owner) {
  auto new_id = ids::SecurityServerId::create(new_owner, server.server_code());
  if (!new_id.ok()) {
    return std::move(new_id).error();
  }
  Status st = impl_->mutate(
      ctx, "server.owner.change", server.to_string(), "new_owner=" + new_owner.to_string(), true,
      [&](Transaction& tx) -> Status {
        HANSA_ASSIGN_OR_RETURN(auto rid, impl_->require_server(tx, server));
        HANSA_RETURN_IF_ERROR(impl_->require_client(tx, ids::ClientId(new_owner)));
        HANSA_ASSIGN_OR_RETURN(
            bool is_client,
            impl_->exists(tx,
                          "SELECT 1 FROM registry_server_clients WHERE server_id = $1 AND "
                          "member_class = $2 AND member_code = $3 AND subsystem_code = ''",
                          {rid, new_owner.member_class(), new_owner.member_code()}));
        if (!is_client) {
          return invalid("the new owner must be a member client of the server",
                         new_owner.to_string());
        }
        HANSA_ASSIGN_OR_RETURN(auto taken, impl_->server_row(tx, *new_id));
        if (taken) {
          return conflict("the new owner has a server with this code already", new_id->to_string());
        }
        // The old owner stays a client of the server.
        const ids::ClientId old_owner(server.owner());
        HANSA_ASSIGN_OR_RETURN(
            bool old_is_client,
            impl_->exists(tx,
                          "SELECT 1 FROM registry_server_clients WHERE server_id = $1 AND "
                          "member_class = $2 AND member_code = $3 AND subsystem_code = ''",
                          {rid, server.member_class(), server.member_code()}));
        if (!old_is_client) {
          HANSA_RETURN_IF_ERROR(
              tx.execute("INSERT INTO registry_server_clients (server_id, member_class, "
                         "member_code, subsystem_code) VALUES ($1, $2, $3, '')",
                         {rid, server.member_class(), server.member_code()}));
        }
        HANSA_RETURN_IF_ERROR(tx.execute(
            "UPDATE registry_servers SET owner_class = $1, owner_code = $2 WHERE id = $3",
            {new_owner.member_class(), new_owner.member_code(), rid}));
        return ok_status();
      });
  if (!st.ok()) {
    return std::move(st).error();
  }
  return std::move(new_id).value();
}

// --- Global groups ---

Status Registry::add_group(const AuditContext& ctx, const ids::GlobalGroupId& id,
                           std::string_view description) {
  return impl_->mutate(
      ctx, "group.create", id.to_string(), "description=" + std::string(description), true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_text("description", description, true));
        HANSA_RETURN_IF_ERROR(impl_->check_instance(tx, id.instance(),
                                                    FaultCode::kInvalidIdentifier, id.to_string()));
        HANSA_ASSIGN_OR_RETURN(
            bool dup, impl_->exists(tx, "SELECT 1 FROM registry_groups WHERE group_code = $1",
                                    {id.group_code()}));
        if (dup) {
          return conflict("global group exists", id.to_string());
        }
        HANSA_RETURN_IF_ERROR(
            tx.execute("INSERT INTO registry_groups (group_code, description) VALUES ($1, $2)",
                       {id.group_code(), description}));
        return ok_status();
      });
}

Status Registry::update_group(const AuditContext& ctx, const ids::GlobalGroupId& id,
                              std::string_view description) {
  return impl_->mutate(
      ctx, "group.update", id.to_string(), "description=" + std::string(description), true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_text("description", description, true));
        HANSA_RETURN_IF_ERROR(impl_->check_instance(tx, id.instance(),
                                                    FaultCode::kInvalidIdentifier, id.to_string()));
        HANSA_ASSIGN_OR_RETURN(
            auto rows,
            tx.execute("UPDATE registry_groups SET description = $1 WHERE group_code = $2",
                       {description, id.group_code()}));
        if (rows.affected_rows() == 0) {
          return not_found("no such global group", id.to_string());
        }
        return ok_status();
      });
}

Status Registry::delete_group(const AuditContext& ctx, const ids::GlobalGroupId& id) {
  return impl_->mutate(
      ctx, "group.delete", id.to_string(), "", true, [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_instance(tx, id.instance(),
                                                    FaultCode::kInvalidIdentifier, id.to_string()));
        HANSA_ASSIGN_OR_RETURN(
            auto rows,
            tx.execute("DELETE FROM registry_groups WHERE group_code = $1", {id.group_code()}));
        if (rows.affected_rows() == 0) {
          return not_found("no such global group", id.to_string());
        }
        return ok_status();
      });
}

Status Registry::add_group_member(const AuditContext& ctx, const ids::GlobalGroupId& id,
                                  const ids::ClientId& client) {
  return impl_->mutate(
      ctx, "group.member.add", id.to_string(), "client=" + client.to_string(), true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_instance(tx, id.instance(),
                                                    FaultCode::kInvalidIdentifier, id.to_string()));
        HANSA_ASSIGN_OR_RETURN(
            bool group, impl_->exists(tx, "SELECT 1 FROM registry_groups WHERE group_code = $1",
                                      {id.group_code()}));
        if (!group) {
          return not_found("no such global group", id.to_string());
        }
        HANSA_RETURN_IF_ERROR(impl_->require_client(tx, client));
        HANSA_ASSIGN_OR_RETURN(
            bool dup,
            impl_->exists(
                tx,
                "SELECT 1 FROM registry_group_members WHERE group_code = $1 AND "
                "member_class = $2 AND member_code = $3 AND subsystem_code = $4",
                {id.group_code(), client.member_class(), client.member_code(), sub_col(client)}));
        if (dup) {
          return conflict("the client is a member of the group already", client.to_string());
        }
        HANSA_ASSIGN_OR_RETURN(
            auto count,
            tx.query_one("SELECT COUNT(*) FROM registry_group_members WHERE group_code = $1",
                         {id.group_code()}));
        HANSA_ASSIGN_OR_RETURN(auto n, count->int64(0));
        if (static_cast<std::size_t>(n) >= impl_->opt.max_group_members) {
          return Error(FaultCode::kLimitExceeded, "too many members in the group");
        }
        HANSA_RETURN_IF_ERROR(tx.execute(
            "INSERT INTO registry_group_members (group_code, member_class, "
            "member_code, subsystem_code) VALUES ($1, $2, $3, $4)",
            {id.group_code(), client.member_class(), client.member_code(), sub_col(client)}));
        return ok_status();
      });
}

Status Registry::remove_group_member(const AuditContext& ctx, const ids::GlobalGroupId& id,
                                     const ids::ClientId& client) {
  return impl_->mutate(
      ctx, "group.member.remove", id.to_string(), "client=" + client.to_string(), true,
      [&](Transaction& tx) -> Status {
        HANSA_ASSIGN_OR_RETURN(
            auto rows, tx.execute("DELETE FROM registry_group_members WHERE group_code = $1 AND "
                                  "member_class = $2 AND member_code = $3 AND subsystem_code = $4",
                                  {id.group_code(), client.member_class(), client.member_code(),
                                   sub_col(client)}));
        if (rows.affected_rows() == 0) {
          return not_found("the client is not a member of the group", client.to_string());
        }
        return ok_status();
      });
}

Result<GlobalGroup> Registry::group(const ids::GlobalGroupId& id) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto inst, impl_->instance(tx));
  HANSA_ASSIGN_OR_RETURN(auto row,
                         tx.query_one("SELECT group_code, description FROM registry_groups WHERE "
                                      "group_code = $1",
                                      {id.group_code()}));
  if (!row || inst != id.instance()) {
    return not_found("no such global group", id.to_string());
  }
  return impl_->load_group(tx, inst, *row);
}

Result<Page<GlobalGroup>> Registry::groups(PageRequest page) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto inst, impl_->instance(tx));
  HANSA_ASSIGN_OR_RETURN(auto total_row, tx.query_one("SELECT COUNT(*) FROM registry_groups"));
  Page<GlobalGroup> out;
  HANSA_ASSIGN_OR_RETURN(out.total, total_row->int64(0));
  HANSA_ASSIGN_OR_RETURN(auto rows,
                         tx.execute("SELECT group_code, description FROM registry_groups ORDER BY "
                                    "group_code LIMIT $1 OFFSET $2",
                                    {impl_->cap(page.limit), page.offset}));
  for (const auto& r : rows) {
    HANSA_ASSIGN_OR_RETURN(auto g, impl_->load_group(tx, inst, r));
    out.items.push_back(std::move(g));
  }
  return out;
}

// --- Approved CAs and TSAs ---

Result<std::int64_t> Registry::add_ca(const AuditContext& ctx, const ApprovedCa& ca) {
  std::int64_t id = 0;
  const std::string top_hash = ca.top_ca.cert.fingerprint_hex(crypto::DigestAlgorithm::kSha256);
  Status st = impl_->mutate(
      ctx, "ca.create", "ca:" + ca.name, "top_sha256=" + top_hash, true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_ca(ca));
        HANSA_ASSIGN_OR_RETURN(
            bool dup,
            impl_->exists(tx, "SELECT 1 FROM registry_cas WHERE name = $1 OR top_hash = $2",
                          {ca.name, top_hash}));
        if (dup) {
          return conflict("a CA with this name or top certificate exists", ca.name);
        }
        HANSA_ASSIGN_OR_RETURN(
            auto row, tx.query_one("INSERT INTO registry_cas (name, top_hash, body) VALUES ($1, "
                                   "$2, $3) RETURNING id",
                                   {ca.name, top_hash, ca_body(ca)}));
        HANSA_ASSIGN_OR_RETURN(id, row->int64(0));
        return ok_status();
      });
  if (!st.ok()) {
    return std::move(st).error();
  }
  return id;
}

Status Registry::update_ca(const AuditContext& ctx, const ApprovedCa& ca) {
  const std::string top_hash = ca.top_ca.cert.fingerprint_hex(crypto::DigestAlgorithm::kSha256);
  return impl_->mutate(
      ctx, "ca.update", "ca:" + std::to_string(ca.id), "name=" + ca.name, true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_ca(ca));
        HANSA_ASSIGN_OR_RETURN(
            bool present, impl_->exists(tx, "SELECT 1 FROM registry_cas WHERE id = $1", {ca.id}));
        if (!present) {
          return not_found("no such CA", std::to_string(ca.id));
        }
        HANSA_ASSIGN_OR_RETURN(
            bool dup,
            impl_->exists(
                tx, "SELECT 1 FROM registry_cas WHERE (name = $1 OR top_hash = $2) AND id <> $3",
                {ca.name, top_hash, ca.id}));
        if (dup) {
          return conflict("another CA has this name or top certificate", ca.name);
        }
        HANSA_RETURN_IF_ERROR(
            tx.execute("UPDATE registry_cas SET name = $1, top_hash = $2, body = $3 WHERE id = $4",
                       {ca.name, top_hash, ca_body(ca), ca.id}));
        return ok_status();
      });
}

Status Registry::delete_ca(const AuditContext& ctx, std::int64_t id) {
  return impl_->mutate(ctx, "ca.delete", "ca:" + std::to_string(id), "", true,
                       [&](Transaction& tx) -> Status {
                         HANSA_ASSIGN_OR_RETURN(
                             auto rows, tx.execute("DELETE FROM registry_cas WHERE id = $1", {id}));
                         if (rows.affected_rows() == 0) {
                           return not_found("no such CA", std::to_string(id));
                         }
                         return ok_status();
                       });
}

Result<ApprovedCa> Registry::ca(std::int64_t id) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(
      auto row, tx.query_one("SELECT id, name, body FROM registry_cas WHERE id = $1", {id}));
  if (!row) {
    return not_found("no such CA", std::to_string(id));
  }
  return ca_from_row(*row);
}

Result<std::vector<ApprovedCa>> Registry::cas() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto rows,
                         tx.execute("SELECT id, name, body FROM registry_cas ORDER BY id"));
  std::vector<ApprovedCa> out;
  for (const auto& r : rows) {
    HANSA_ASSIGN_OR_RETURN(auto ca, ca_from_row(r));
    out.push_back(std::move(ca));
  }
  return out;
}

Result<std::int64_t> Registry::add_tsa(const AuditContext& ctx, const ApprovedTsa& tsa) {
  std::int64_t id = 0;
  Status st = impl_->mutate(
      ctx, "tsa.create", "tsa:" + tsa.name, "url=" + tsa.url, true, [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_tsa(tsa));
        HANSA_ASSIGN_OR_RETURN(
            bool dup, impl_->exists(tx, "SELECT 1 FROM registry_tsas WHERE name = $1 OR url = $2",
                                    {tsa.name, tsa.url}));
        if (dup) {
          return conflict("a TSA with this name or URL exists", tsa.name);
        }
        HANSA_ASSIGN_OR_RETURN(
            auto row, tx.query_one("INSERT INTO registry_tsas (name, url, cert) VALUES ($1, $2, "
                                   "$3) RETURNING id",
                                   {tsa.name, tsa.url, Value::blob(tsa.cert.der())}));
        HANSA_ASSIGN_OR_RETURN(id, row->int64(0));
        return ok_status();
      });
  if (!st.ok()) {
    return std::move(st).error();
  }
  return id;
}

Status Registry::update_tsa(const AuditContext& ctx, const ApprovedTsa& tsa) {
  return impl_->mutate(
      ctx, "tsa.update", "tsa:" + std::to_string(tsa.id), "url=" + tsa.url, true,
      [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_tsa(tsa));
        HANSA_ASSIGN_OR_RETURN(
            bool present, impl_->exists(tx, "SELECT 1 FROM registry_tsas WHERE id = $1", {tsa.id}));
        if (!present) {
          return not_found("no such TSA", std::to_string(tsa.id));
        }
        HANSA_ASSIGN_OR_RETURN(
            bool dup,
            impl_->exists(tx,
                          "SELECT 1 FROM registry_tsas WHERE (name = $1 OR url = $2) AND id <> $3",
                          {tsa.name, tsa.url, tsa.id}));
        if (dup) {
          return conflict("another TSA has this name or URL", tsa.name);
        }
        HANSA_RETURN_IF_ERROR(
            tx.execute("UPDATE registry_tsas SET name = $1, url = $2, cert = $3 WHERE id = $4",
                       {tsa.name, tsa.url, Value::blob(tsa.cert.der()), tsa.id}));
        return ok_status();
      });
}

Status Registry::delete_tsa(const AuditContext& ctx, std::int64_t id) {
  return impl_->mutate(
      ctx, "tsa.delete", "tsa:" + std::to_string(id), "", true, [&](Transaction& tx) -> Status {
        HANSA_ASSIGN_OR_RETURN(auto rows,
                               tx.execute("DELETE FROM registry_tsas WHERE id = $1", {id}));
        if (rows.affected_rows() == 0) {
          return not_found("no such TSA", std::to_string(id));
        }
        return ok_status();
      });
}

Result<ApprovedTsa> Registry::tsa(std::int64_t id) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(
      auto row, tx.query_one("SELECT id, name, url, cert FROM registry_tsas WHERE id = $1", {id}));
  if (!row) {
    return not_found("no such TSA", std::to_string(id));
  }
  return impl_->load_tsa(*row);
}

Result<std::vector<ApprovedTsa>> Registry::tsas() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto rows,
                         tx.execute("SELECT id, name, url, cert FROM registry_tsas ORDER BY id"));
  std::vector<ApprovedTsa> out;
  for (const auto& r : rows) {
    HANSA_ASSIGN_OR_RETURN(auto t, impl_->load_tsa(r));
    out.push_back(std::move(t));
  }
  return out;
}

// --- Settings ---

Result<Settings> Registry::settings() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  return impl_->load_settings(tx, nullptr);
}

Status Registry::update_settings(const AuditContext& ctx, const Settings& s) {
  std::string summary =
      "ocsp_freshness_seconds=" + std::to_string(s.ocsp_freshness_seconds) +
      " time_stamping_interval_seconds=" + std::to_string(s.time_stamping_interval_seconds) +
      " configuration_validity_seconds=" + std::to_string(s.configuration_validity_seconds) +
      " management_service_address=" + s.management_service_address;
  if (s.management_service_provider) {
    summary += " management_service_provider=" + s.management_service_provider->to_string();
  }
  return impl_->mutate(
      ctx, "settings.update", "settings", summary, true, [&](Transaction& tx) -> Status {
        constexpr std::int64_t kMaxSeconds = 10LL * 365 * 24 * 3600;
        for (const auto& [name, v] :
             {std::pair<const char*, std::int64_t>{"ocsp_freshness_seconds",
                                                   s.ocsp_freshness_seconds},
              {"time_stamping_interval_seconds", s.time_stamping_interval_seconds},
              {"configuration_validity_seconds", s.configuration_validity_seconds}}) {
          if (v <= 0 || v > kMaxSeconds) {
            return invalid(std::string(name) + " must be between 1 and " +
                           std::to_string(kMaxSeconds));
          }
        }
        HANSA_RETURN_IF_ERROR(
            impl_->check_text("management_service_address", s.management_service_address, true));
        if (s.management_service_provider) {
          HANSA_RETURN_IF_ERROR(impl_->require_client(tx, *s.management_service_provider));
        }
        if (s.management_service_cert && !s.management_service_cert->valid_at(impl_->now())) {
          return Error(FaultCode::kInvalidCertificate,
                       "the management service certificate is expired or not yet valid");
        }
        HANSA_RETURN_IF_ERROR(tx.execute("DELETE FROM registry_settings"));
        std::vector<std::pair<std::string, std::string>> values = {
            {"ocsp_freshness_seconds", std::to_string(s.ocsp_freshness_seconds)},
            {"time_stamping_interval_seconds", std::to_string(s.time_stamping_interval_seconds)},
            {"configuration_validity_seconds", std::to_string(s.configuration_validity_seconds)},
            {"management_service_address", s.management_service_address}};
        if (s.management_service_cert) {
          values.emplace_back("management_service_cert", b64(*s.management_service_cert));
        }
        if (s.management_service_provider) {
          values.emplace_back("management_service_provider",
                              s.management_service_provider->to_string());
        }
        for (const auto& [k, v] : values) {
          HANSA_RETURN_IF_ERROR(
              tx.execute("INSERT INTO registry_settings (name, value) VALUES ($1, $2)", {k, v}));
        }
        return ok_status();
      });
}

// --- Audit log ---

Result<Page<AuditEntry>> Registry::audit_log(const AuditQuery& query) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  const std::string where = " WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR substr(action, 1, " +
                            std::to_string(query.action_prefix.size()) + ") = $2)";
  Page<AuditEntry> out;
  HANSA_ASSIGN_OR_RETURN(auto total_row,
                         tx.query_one("SELECT COUNT(*) FROM registry_audit_log" + where,
                                      {query.actor, query.action_prefix}));
  HANSA_ASSIGN_OR_RETURN(out.total, total_row->int64(0));
  HANSA_ASSIGN_OR_RETURN(
      auto rows, tx.execute("SELECT id, at, actor, source, action, target, summary, result, "
                            "detail FROM registry_audit_log" +
                                where + " ORDER BY id DESC LIMIT $3 OFFSET $4",
                            {query.actor, query.action_prefix, impl_->cap(query.page.limit),
                             query.page.offset}));
  for (const auto& r : rows) {
    AuditEntry e;
    HANSA_ASSIGN_OR_RETURN(e.id, r.int64(0));
    HANSA_ASSIGN_OR_RETURN(auto at, r.int64(1));
    e.at = from_epoch(at);
    HANSA_ASSIGN_OR_RETURN(e.actor, r.text(2));
    HANSA_ASSIGN_OR_RETURN(e.source, r.text(3));
    HANSA_ASSIGN_OR_RETURN(e.action, r.text(4));
    HANSA_ASSIGN_OR_RETURN(e.target, r.text(5));
    HANSA_ASSIGN_OR_RETURN(e.summary, r.text(6));
    HANSA_ASSIGN_OR_RETURN(e.result, r.text(7));
    HANSA_ASSIGN_OR_RETURN(e.detail, r.text(8));
    out.items.push_back(std::move(e));
  }
  return out;
}

Status Registry::record_audit(const AuditContext& ctx, std::string_view action,
                              std::string_view target, std::string_view summary,
                              const Error* refusal) {
  return impl_->record(ctx, action, target, summary, refusal);
}

// --- Admin tokens ---

Result<CreatedToken> Registry::create_token(const AuditContext& ctx, std::string_view name,
                                            AdminRole role) {
  CreatedToken out;
  out.secret = make_secret();
  out.token.name = std::string(name);
  out.token.role = role;
  out.token.created_at = from_epoch(to_epoch(impl_->now()));
  Status st = impl_->mutate(
      ctx, "token.create", "token:" + std::string(name),
      "role=" + std::string(admin_role_name(role)), false, [&](Transaction& tx) -> Status {
        HANSA_RETURN_IF_ERROR(impl_->check_text("token name", name, false));
        HANSA_ASSIGN_OR_RETURN(
            auto row,
            tx.query_one("INSERT INTO registry_admin_tokens (name, role, secret_hash, created_at, "
                         "revoked) VALUES ($1, $2, $3, $4, 0) RETURNING id",
                         {name, admin_role_name(role), secret_hash(out.secret),
                          to_epoch(out.token.created_at)}));
        HANSA_ASSIGN_OR_RETURN(out.token.id, row->int64(0));
        return ok_status();
      });
  if (!st.ok()) {
    return std::move(st).error();
  }
  return out;
}

namespace {
Result<AdminToken> token_from_row(const Row& r) {
  AdminToken t;
  HANSA_ASSIGN_OR_RETURN(t.id, r.int64(0));
  HANSA_ASSIGN_OR_RETURN(t.name, r.text(1));
  HANSA_ASSIGN_OR_RETURN(auto role, r.text(2));
  auto parsed = admin_role_from_name(role);
  if (!parsed) {
    return Error(FaultCode::kDatabaseError, "stored token has an unknown role", role);
  }
  t.role = *parsed;
  HANSA_ASSIGN_OR_RETURN(auto at, r.int64(3));
  t.created_at = from_epoch(at);
  HANSA_ASSIGN_OR_RETURN(t.revoked, r.boolean(4));
  return t;
}
}  // namespace

Result<std::vector<AdminToken>> Registry::tokens() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute("SELECT id, name, role, created_at, revoked FROM "
                                               "registry_admin_tokens ORDER BY id"));
  std::vector<AdminToken> out;
  for (const auto& r : rows) {
    HANSA_ASSIGN_OR_RETURN(auto t, token_from_row(r));
    out.push_back(std::move(t));
  }
  return out;
}

Status Registry::revoke_token(const AuditContext& ctx, std::int64_t id) {
  return impl_->mutate(ctx, "token.revoke", "token:" + std::to_string(id), "", false,
                       [&](Transaction& tx) -> Status {
                         HANSA_ASSIGN_OR_RETURN(
                             auto rows, tx.execute("UPDATE registry_admin_tokens SET revoked = 1 "
                                                   "WHERE id = $1",
                                                   {id}));
                         if (rows.affected_rows() == 0) {
                           return not_found("no such token", std::to_string(id));
                         }
                         return ok_status();
                       });
}

Result<AdminToken> Registry::authenticate(std::string_view secret) const {
  const Error refused(FaultCode::kUnauthorized, "invalid or revoked token");
  if (!secret.starts_with(kTokenPrefix) || secret.size() > kMaxTokenLength) {
    return refused;
  }
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT id, name, role, created_at, revoked FROM "
                                                "registry_admin_tokens WHERE secret_hash = $1",
                                                {secret_hash(secret)}));
  if (!row) {
    return refused;
  }
  HANSA_ASSIGN_OR_RETURN(auto t, token_from_row(*row));
  if (t.revoked) {
    return refused;
  }
  return t;
}

// --- Global configuration export (PR-GCONF Annex B and C) ---

Result<GlobalConfExport> Registry::export_globalconf() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto inst, impl_->instance(tx));
  HANSA_ASSIGN_OR_RETURN(auto vrow,
                         tx.query_one("SELECT change_version FROM registry_state WHERE id = 1"));
  HANSA_ASSIGN_OR_RETURN(auto version, vrow->int64(0));
  HANSA_ASSIGN_OR_RETURN(auto settings, impl_->load_settings(tx, &inst));

  globalconf::SharedParameters shared;
  shared.instance_identifier = inst;

  // Approved CAs.
  HANSA_ASSIGN_OR_RETURN(auto ca_rows,
                         tx.execute("SELECT id, name, body FROM registry_cas ORDER BY id"));
  auto to_ca_info = [](const CaCertificate& c) {
    globalconf::CaInfo info{c.cert, {}};
    for (const auto& o : c.ocsp) {
      info.ocsp.push_back(globalconf::OcspResponder{o.url, o.cert, std::nullopt});
    }
    return info;
  };
  for (const auto& r : ca_rows) {
    HANSA_ASSIGN_OR_RETURN(auto ca, ca_from_row(r));
    globalconf::ApprovedCa g{ca.name,     ca.authentication_only,      to_ca_info(ca.top_ca),
                             {},          ca.certificate_profile_info, std::nullopt,
                             std::nullopt};
    for (const auto& i : ca.intermediate_cas) {
      g.intermediate_cas.push_back(to_ca_info(i));
    }
    shared.approved_cas.push_back(std::move(g));
  }

  // Approved TSAs.
  HANSA_ASSIGN_OR_RETURN(auto tsa_rows,
                         tx.execute("SELECT id, name, url, cert FROM registry_tsas ORDER BY id"));
  for (const auto& r : tsa_rows) {
    HANSA_ASSIGN_OR_RETURN(auto t, impl_->load_tsa(r));
    shared.approved_tsas.push_back(globalconf::ApprovedTsa{t.name, t.url, t.cert, std::nullopt});
  }

  // Member classes, members and subsystems.
  HANSA_ASSIGN_OR_RETURN(
      auto class_rows,
      tx.execute("SELECT code, description FROM registry_member_classes ORDER BY code"));
  std::map<std::string, std::string> class_desc;
  for (const auto& r : class_rows) {
    HANSA_ASSIGN_OR_RETURN(auto code, r.text(0));
    HANSA_ASSIGN_OR_RETURN(auto desc, r.text(1));
    class_desc[code] = desc;
    shared.global_settings.member_classes.push_back(globalconf::MemberClass{code, desc});
  }
  shared.global_settings.ocsp_freshness_seconds = settings.ocsp_freshness_seconds;

  HANSA_ASSIGN_OR_RETURN(auto member_rows,
                         tx.execute("SELECT member_class, member_code, name FROM registry_members "
                                    "ORDER BY member_class, member_code"));
  for (const auto& r : member_rows) {
    HANSA_ASSIGN_OR_RETURN(auto m, impl_->load_member(tx, inst, r));
    globalconf::Member g{m.id, class_desc[m.id.member_class()], m.name, {}};
    for (const auto& s : m.subsystems) {
      g.subsystems.push_back(globalconf::Subsystem{
          s.id, s.name.empty() ? std::nullopt : std::optional<std::string>(s.name)});
    }
    shared.members.push_back(std::move(g));
  }

  // Security servers.
  HANSA_ASSIGN_OR_RETURN(
      auto server_rows,
      tx.execute("SELECT id, owner_class, owner_code, server_code, address FROM registry_servers "
                 "ORDER BY owner_class, owner_code, server_code"));
  for (const auto& r : server_rows) {
    HANSA_ASSIGN_OR_RETURN(auto s, impl_->load_server(tx, inst, r));
    globalconf::SecurityServer g{
        s.id,
        s.address.empty() ? std::nullopt : std::optional<std::string>(s.address),
        {},
        s.clients,
        std::nullopt};
    for (const auto& a : s.auth_certs) {
      g.auth_cert_hashes.push_back(a.hash);
    }
    shared.security_servers.push_back(std::move(g));
  }

  // Global groups.
  HANSA_ASSIGN_OR_RETURN(
      auto group_rows,
      tx.execute("SELECT group_code, description FROM registry_groups ORDER BY group_code"));
  for (const auto& r : group_rows) {
    HANSA_ASSIGN_OR_RETURN(auto g, impl_->load_group(tx, inst, r));
    shared.global_groups.push_back(globalconf::GlobalGroup{g.id, g.description, g.members});
  }

  std::optional<globalconf::PrivateParameters> priv;
  if (settings.management_service_provider) {
    priv = globalconf::PrivateParameters{
        inst,
        {},
        globalconf::ManagementService{settings.management_service_address,
                                      settings.management_service_cert,
                                      *settings.management_service_provider},
        settings.time_stamping_interval_seconds};
  }
  return GlobalConfExport{version, std::move(settings), std::move(shared), std::move(priv)};
}

}  // namespace hansa::central
