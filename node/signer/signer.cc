#include "node/signer/signer.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "core/crypto/csr.h"
#include "core/crypto/encoding.h"
#include "core/crypto/native.h"
#include "core/crypto/openssl_ptr.h"
#include "core/crypto/random.h"
#include "core/db/migrate.h"
#include "core/ocsp/response.h"
#include "node/signer/internal.h"

namespace hansa::signer {
namespace {

constexpr std::string_view kComponent = "node_signer";
constexpr std::size_t kMaxChainDepth = 8;
constexpr std::size_t kChainsKept = 256;

constexpr std::string_view kSchemaV1 = R"(
CREATE TABLE signer_keys (
  id TEXT PRIMARY KEY,
  token_id TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  usage TEXT,
  member_id TEXT,
  public_key @BLOB@ NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE signer_csrs (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES signer_keys(id),
  usage TEXT NOT NULL,
  member_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  der @BLOB@ NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX signer_csrs_key ON signer_csrs(key_id);
CREATE TABLE signer_certs (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES signer_keys(id),
  usage TEXT NOT NULL,
  member_id TEXT,
  der @BLOB@ NOT NULL,
  status TEXT NOT NULL,
  active INTEGER NOT NULL,
  imported_at BIGINT NOT NULL
);
CREATE INDEX signer_certs_key ON signer_certs(key_id);
CREATE TABLE signer_state (
  id INTEGER PRIMARY KEY,
  version BIGINT NOT NULL
);
INSERT INTO signer_state (id, version) VALUES (1, 0);
)";

std::string with_blob(std::string_view sql, std::string_view blob) {
  std::string s(sql);
  for (auto pos = s.find("@BLOB@"); pos != std::string::npos; pos = s.find("@BLOB@")) {
    s.replace(pos, 6, blob);
  }
  return s;
}

std::vector<db::Migration> migrations() {
  db::Migration m;
  m.version = 1;
  m.name = "keys, csrs, certificates";
  m.sqlite_sql = with_blob(kSchemaV1, "BLOB");
  m.postgres_sql = with_blob(kSchemaV1, "BYTEA");
  m.sql = m.sqlite_sql;
  return {m};
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Result<ids::MemberId> parse_member(std::string_view text) {
  auto m = ids::MemberId::parse(text);
  if (!m.ok()) {
    return Error(FaultCode::kDatabaseError, "stored member id does not parse", std::string(text));
  }
  return m;
}

Error not_found_key(std::string_view id) {
  return Error(FaultCode::kKeyNotFound, "no such key", std::string(id));
}
Error not_found_cert(std::string_view id) {
  return Error(FaultCode::kCertNotFound, "no such certificate", std::string(id));
}

}  // namespace

std::string_view key_usage_name(KeyUsage usage) noexcept {
  return usage == KeyUsage::kAuthentication ? "AUTHENTICATION" : "SIGNING";
}

Result<KeyUsage> key_usage_from_name(std::string_view name) {
  if (name == "AUTHENTICATION") {
    return KeyUsage::kAuthentication;
  }
  if (name == "SIGNING") {
    return KeyUsage::kSigning;
  }
  return Error(FaultCode::kInvalidRequest, "unknown key usage (AUTHENTICATION, SIGNING)",
               std::string(name));
}

std::string_view cert_status_name(CertStatus status) noexcept {
  switch (status) {
    case CertStatus::kSaved:
      return "SAVED";
    case CertStatus::kRegistrationInProgress:
      return "REGISTRATION_IN_PROGRESS";
    case CertStatus::kRegistered:
      return "REGISTERED";
    case CertStatus::kDeletionInProgress:
      return "DELETION_IN_PROGRESS";
  }
  return "UNKNOWN";
}

Result<CertStatus> cert_status_from_name(std::string_view name) {
  for (CertStatus s : {CertStatus::kSaved, CertStatus::kRegistrationInProgress,
                       CertStatus::kRegistered, CertStatus::kDeletionInProgress}) {
    if (cert_status_name(s) == name) {
      return s;
    }
  }
  return Error(FaultCode::kInvalidRequest, "unknown certificate status", std::string(name));
}

// The registry as committed in the database. Immutable once built.
struct Signer::State {
  std::int64_t version = -1;
  std::map<std::string, KeyInfo, std::less<>> keys;
  std::map<std::string, CsrInfo, std::less<>> csrs;
  std::map<std::string, CertInfo, std::less<>> certs;
};

struct Signer::Impl {
  Impl(db::Database& d, SignerOptions o, MemberDirectory m, ClockFn c)
      : db(d), options(std::move(o)), members(std::move(m)), clock(std::move(c)) {}

  db::Database& db;
  SignerOptions options;
  MemberDirectory members;
  ClockFn clock;
  std::unique_ptr<ocsp::OcspCache> cache;

  std::mutex write_mu;  // serializes writers (then mu for the swap)
  mutable std::mutex mu;
  std::map<std::string, std::unique_ptr<Token>, std::less<>> tokens;
  std::shared_ptr<const State> state = std::make_shared<State>();
  std::vector<crypto::Certificate> cas;
  std::uint64_t cas_generation = 0;  // bumped whenever `cas` changes
  // chain_of() results by certificate DER, for the current `cas`: every signed message needs the
  // signing certificate's chain, and finding it costs a signature check per CA.
  mutable std::map<std::string, std::vector<crypto::Certificate>, std::less<>> chains;
  std::map<std::string, std::string, std::less<>> tracked;  // cert id -> OCSP hash
  std::map<std::string, Error, std::less<>> ocsp_errors;    // cert id -> last error

  std::shared_ptr<const State> snapshot() const {
    std::lock_guard lock(mu);
    return state;
  }

  Token* find_token(std::string_view id) const {
    std::lock_guard lock(mu);
    auto it = tokens.find(id);
    return it == tokens.end() ? nullptr : it->second.get();
  }

  std::optional<crypto::Certificate> issuer_of(const crypto::Certificate& cert) const {
    std::lock_guard lock(mu);
    for (const auto& ca : cas) {
      if (cert.is_issued_by(ca)) {
        return ca;
      }
    }
    return std::nullopt;
  }

  std::vector<crypto::Certificate> chain_of(const crypto::Certificate& cert) const {
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(mu);
      if (auto it = chains.find(cert.der()); it != chains.end()) {
        return it->second;
      }
      generation = cas_generation;
    }
    std::vector<crypto::Certificate> chain = find_chain(cert);
    std::lock_guard lock(mu);
    if (generation == cas_generation) {
      if (chains.size() >= kChainsKept) {
        chains.clear();
      }
      chains.emplace(cert.der(), chain);
    }
    return chain;
  }

  std::vector<crypto::Certificate> find_chain(const crypto::Certificate& cert) const {
    std::vector<crypto::Certificate> chain;
    crypto::Certificate cur = cert;
    while (chain.size() < kMaxChainDepth && !cur.is_self_signed()) {
      auto issuer = issuer_of(cur);
      if (!issuer) {
        break;
      }
      chain.push_back(*issuer);
      cur = *issuer;
    }
    return chain;
  }

  static Result<State> load(db::Transaction& tx) {
    State st;
    HANSA_ASSIGN_OR_RETURN(auto ver, tx.query_one("SELECT version FROM signer_state WHERE id = 1"));
    if (!ver) {
      return Error(FaultCode::kDatabaseError, "signer_state row missing");
    }
    HANSA_ASSIGN_OR_RETURN(st.version, ver->int64(0));
    HANSA_ASSIGN_OR_RETURN(
        auto keys, tx.execute("SELECT id, token_id, friendly_name, usage, member_id, public_key, "
                              "created_at FROM signer_keys"));
    for (const auto& r : keys) {
      KeyInfo k{.public_key = crypto::PublicKey(nullptr)};
      HANSA_ASSIGN_OR_RETURN(k.id, r.text(0));
      HANSA_ASSIGN_OR_RETURN(k.token_id, r.text(1));
      HANSA_ASSIGN_OR_RETURN(k.friendly_name, r.text(2));
      HANSA_ASSIGN_OR_RETURN(auto usage, r.optional_text(3));
      if (usage) {
        HANSA_ASSIGN_OR_RETURN(k.usage, key_usage_from_name(*usage));
      }
      HANSA_ASSIGN_OR_RETURN(auto member, r.optional_text(4));
      if (member) {
        HANSA_ASSIGN_OR_RETURN(k.member, parse_member(*member));
      }
      HANSA_ASSIGN_OR_RETURN(auto pub, r.blob(5));
      HANSA_ASSIGN_OR_RETURN(k.public_key, crypto::PublicKey::from_der(pub));
      HANSA_ASSIGN_OR_RETURN(k.created_at, r.int64(6));
      st.keys.emplace(k.id, std::move(k));
    }
    HANSA_ASSIGN_OR_RETURN(
        auto csrs,
        tx.execute(
            "SELECT id, key_id, usage, member_id, subject, der, created_at FROM signer_csrs"));
    for (const auto& r : csrs) {
      HANSA_ASSIGN_OR_RETURN(auto member_text, r.text(3));
      HANSA_ASSIGN_OR_RETURN(auto member, parse_member(member_text));
      CsrInfo c{.member = member};
      HANSA_ASSIGN_OR_RETURN(c.id, r.text(0));
      HANSA_ASSIGN_OR_RETURN(c.key_id, r.text(1));
      HANSA_ASSIGN_OR_RETURN(auto usage, r.text(2));
      HANSA_ASSIGN_OR_RETURN(c.usage, key_usage_from_name(usage));
      HANSA_ASSIGN_OR_RETURN(c.subject, r.text(4));
      HANSA_ASSIGN_OR_RETURN(c.der, r.blob(5));
      HANSA_ASSIGN_OR_RETURN(auto req, crypto::CertificateRequest::from_der(c.der));
      c.pem = req.pem();
      HANSA_ASSIGN_OR_RETURN(c.created_at, r.int64(6));
      st.csrs.emplace(c.id, std::move(c));
    }
    HANSA_ASSIGN_OR_RETURN(auto certs,
                           tx.execute("SELECT id, key_id, usage, member_id, der, status, active, "
                                      "imported_at FROM signer_certs"));
    for (const auto& r : certs) {
      HANSA_ASSIGN_OR_RETURN(auto der, r.blob(4));
      HANSA_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::from_der(der));
      CertInfo c{.certificate = cert};
      HANSA_ASSIGN_OR_RETURN(c.id, r.text(0));
      HANSA_ASSIGN_OR_RETURN(c.key_id, r.text(1));
      HANSA_ASSIGN_OR_RETURN(auto usage, r.text(2));
      HANSA_ASSIGN_OR_RETURN(c.usage, key_usage_from_name(usage));
      HANSA_ASSIGN_OR_RETURN(auto member, r.optional_text(3));
      if (member) {
        HANSA_ASSIGN_OR_RETURN(c.member, parse_member(*member));
      }
      HANSA_ASSIGN_OR_RETURN(auto status, r.text(5));
      HANSA_ASSIGN_OR_RETURN(c.status, cert_status_from_name(status));
      HANSA_ASSIGN_OR_RETURN(auto active, r.int64(6));
      c.active = active != 0;
      HANSA_ASSIGN_OR_RETURN(c.imported_at, r.int64(7));
      st.certs.emplace(c.id, std::move(c));
    }
    return st;
  }

  // Reads the registry and swaps it in; then keeps OCSP tracking in line with the certificates.
  Status refresh_state() {
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin(db::Access::kReadOnly));
    HANSA_ASSIGN_OR_RETURN(auto st, load(tx));
    tx.rollback();
    auto next = std::make_shared<const State>(std::move(st));
    {
      std::lock_guard lock(mu);
      state = next;
    }
    sync_ocsp(*next);
    return ok_status();
  }

  void sync_ocsp(const State& st) {
    std::map<std::string, std::string, std::less<>> tracked_now;
    std::map<std::string, Error, std::less<>> errors;
    for (const auto& [id, c] : st.certs) {
      auto issuer = issuer_of(c.certificate);
      if (!issuer) {
        errors.emplace(
            id, Error(FaultCode::kOcspFailed, "the certificate's issuer is not among the known CAs",
                      c.certificate.issuer()));
        continue;
      }
      std::string url;
      {
        std::lock_guard lock(mu);
        if (auto it = options.ocsp_responders.find(issuer->subject());
            it != options.ocsp_responders.end()) {
          url = it->second;
        }
      }
      if (url.empty()) {
        auto urls = c.certificate.ocsp_urls();
        if (urls.empty()) {
          errors.emplace(id, Error(FaultCode::kOcspFailed,
                                   "no OCSP responder: none configured for the issuer and the "
                                   "certificate has no authorityInfoAccess OCSP URL"));
          continue;
        }
        url = urls.front();
      }
      auto hash = cache->track(ocsp::TrackedCert{c.certificate.der(), issuer->der(), url});
      if (!hash.ok()) {
        errors.emplace(id, hash.error());
        continue;
      }
      tracked_now.emplace(id, *hash);
    }
    std::lock_guard lock(mu);
    for (const auto& [id, hash] : tracked) {
      if (tracked_now.count(id) == 0) {
        cache->untrack(hash);
      }
    }
    tracked = std::move(tracked_now);
    for (auto& [id, e] : errors) {
      ocsp_errors.insert_or_assign(id, std::move(e));
    }
    for (auto it = ocsp_errors.begin(); it != ocsp_errors.end();) {
      it = st.certs.count(it->first) == 0 ? ocsp_errors.erase(it) : std::next(it);
    }
  }

  // Bumps the version and commits, then publishes the new state.
  Status commit(db::Transaction& tx) {
    HANSA_RETURN_IF_ERROR(tx.execute("UPDATE signer_state SET version = version + 1 WHERE id = 1"));
    HANSA_RETURN_IF_ERROR(tx.commit());
    // The change is durable now: a failed re-read must not turn it into a reported failure (the
    // caller would undo token-side work). The snapshot stays older until reload() succeeds.
    (void)refresh_state();
    return ok_status();
  }

  bool usable_sign_cert(const CertInfo& c, const State& st) const {
    return c.usage == KeyUsage::kSigning && c.active && c.status == CertStatus::kRegistered &&
           c.certificate.valid_at(clock()) && st.keys.count(c.key_id) != 0;
  }

  // The member's signing certificate (the one valid longest).
  Result<CertInfo> sign_cert_for(const ids::MemberId& member) const {
    auto st = snapshot();
    const CertInfo* best = nullptr;
    for (const auto& [id, c] : st->certs) {
      if (c.member == member && usable_sign_cert(c, *st) &&
          (best == nullptr || c.certificate.not_after() > best->certificate.not_after())) {
        best = &c;
      }
    }
    if (best == nullptr) {
      return Error(FaultCode::kCertNotFound,
                   "member " + member.to_string() +
                       " has no active, registered, currently valid signing certificate");
    }
    return *best;
  }

  // The token holding a registered key, logged in.
  Result<Token*> usable_token(std::string_view key_id) const {
    auto st = snapshot();
    auto it = st->keys.find(key_id);
    if (it == st->keys.end()) {
      return not_found_key(key_id);
    }
    Token* token = find_token(it->second.token_id);
    if (token == nullptr) {
      return Error(FaultCode::kKeyNotAvailable,
                   "the token holding key " + std::string(key_id) + " is not available",
                   it->second.token_id);
    }
    if (!token->status().logged_in) {
      return Error(FaultCode::kKeyNotAvailable,
                   "the token holding key " + std::string(key_id) + " is not logged in",
                   it->second.token_id);
    }
    return token;
  }

  // Attaches the certificate's OCSP response (cached; fetched when none is), recording the error
  // of a failed fetch for ocsp_status().
  void attach_ocsp(const std::string& cert_id, SigningInfo& info);

  // The active authentication certificate (its id, the SHA-1 hash, and what signing with it
  // needs).
  struct AuthCert {
    std::string id;
    SigningInfo info;
  };
  Result<AuthCert> auth() const {
    auto st = snapshot();
    const CertInfo* best = nullptr;
    for (const auto& [id, c] : st->certs) {
      if (c.usage != KeyUsage::kAuthentication || !c.active || !c.certificate.valid_at(clock()) ||
          c.status == CertStatus::kDeletionInProgress) {
        continue;
      }
      bool better =
          best == nullptr ||
          (c.status == CertStatus::kRegistered && best->status != CertStatus::kRegistered) ||
          (c.status == best->status && c.certificate.not_after() > best->certificate.not_after());
      if (better) {
        best = &c;
      }
    }
    if (best == nullptr) {
      return Error(FaultCode::kCertNotFound, "the node has no active authentication certificate");
    }
    HANSA_RETURN_IF_ERROR(usable_token(best->key_id));
    return AuthCert{best->id, SigningInfo{best->key_id, best->certificate,
                                          chain_of(best->certificate), std::nullopt}};
  }
};

// Access for use_auth_key (internal.h).
struct SignerAccess {
  static Result<std::pair<SigningInfo, crypto::PrivateKey>> auth_key(const Signer& s) {
    HANSA_ASSIGN_OR_RETURN(auto auth, s.impl_->auth());
    SigningInfo& info = auth.info;
    HANSA_ASSIGN_OR_RETURN(Token * token, s.impl_->usable_token(info.key_id));
    HANSA_ASSIGN_OR_RETURN(auto key, token_key_handle(*token, info.key_id));
    return std::make_pair(std::move(info), std::move(key));
  }
};

Signer::Signer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Signer::~Signer() {
  if (impl_ && impl_->cache) {
    impl_->cache->stop();
  }
}

Result<std::unique_ptr<Signer>> Signer::create(db::Database& db, SignerOptions options,
                                               MemberDirectory members,
                                               ocsp::OcspCache::Fetcher fetcher, ClockFn clock) {
  if (!clock) {
    clock = [] { return std::chrono::system_clock::now(); };
  }
  if (!members) {
    members = [](const ids::MemberId&) { return std::optional<std::string>(); };
  }
  auto m = migrations();
  HANSA_RETURN_IF_ERROR(db::migrate(db, kComponent, m));
  auto impl = std::make_unique<Impl>(db, std::move(options), std::move(members), clock);
  if (fetcher) {
    impl->cache =
        std::make_unique<ocsp::OcspCache>(std::move(fetcher), impl->options.ocsp_cache, clock);
  } else {
    impl->cache = std::make_unique<ocsp::OcspCache>(ocsp::OcspClient(impl->options.ocsp_client),
                                                    impl->options.ocsp_cache, clock);
  }
  HANSA_RETURN_IF_ERROR(impl->refresh_state());
  return std::unique_ptr<Signer>(new Signer(std::move(impl)));
}

Status Signer::add_token(std::unique_ptr<Token> token) {
  HANSA_CHECK(token != nullptr);
  std::lock_guard lock(impl_->mu);
  std::string id = token->id();
  if (impl_->tokens.count(id) != 0) {
    return Error(FaultCode::kConflict, "a token with this id is already added", id);
  }
  impl_->tokens.emplace(std::move(id), std::move(token));
  return ok_status();
}

std::vector<TokenInfo> Signer::tokens() const {
  std::lock_guard lock(impl_->mu);
  std::vector<TokenInfo> out;
  for (const auto& [id, t] : impl_->tokens) {
    out.push_back(TokenInfo{id, t->kind(), t->label(), t->status()});
  }
  return out;
}

Status Signer::login(std::string_view token_id, std::string_view pin) {
  Token* t = impl_->find_token(token_id);
  if (t == nullptr) {
    return Error(FaultCode::kTokenNotFound, "no such token", std::string(token_id));
  }
  return t->login(pin);
}

Status Signer::logout(std::string_view token_id) {
  Token* t = impl_->find_token(token_id);
  if (t == nullptr) {
    return Error(FaultCode::kTokenNotFound, "no such token", std::string(token_id));
  }
  t->logout();
  return ok_status();
}

Result<KeyInfo> Signer::generate_key(std::string_view token_id, KeyAlgorithm alg,
                                     std::string_view friendly_name) {
  std::lock_guard wlock(impl_->write_mu);
  Token* t = impl_->find_token(token_id);
  if (t == nullptr) {
    return Error(FaultCode::kTokenNotFound, "no such token", std::string(token_id));
  }
  if (impl_->snapshot()->keys.size() >= impl_->options.max_entries) {
    return Error(FaultCode::kLimitExceeded, "the registry holds the most keys allowed");
  }
  HANSA_ASSIGN_OR_RETURN(auto tk, t->generate_key(alg, friendly_name));
  const std::int64_t now = unix_seconds(impl_->clock());
  auto store = [&]() -> Status {
    HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin());
    HANSA_RETURN_IF_ERROR(tx.execute(
        "INSERT INTO signer_keys (id, token_id, friendly_name, usage, member_id, public_key, "
        "created_at) VALUES ($1, $2, $3, NULL, NULL, $4, $5)",
        {tk.id, std::string(token_id), std::string(friendly_name),
         db::Value::blob(tk.public_key.to_der()), now}));
    return impl_->commit(tx);
  };
  Status st = store();
  if (!st.ok()) {
    if (st.error().code != FaultCode::kCommitOutcomeUnknown) {
      (void)t->delete_key(tk.id);  // nothing half-stored
    }
    return std::move(st).error();
  }
  return key(tk.id);
}

Result<KeyInfo> Signer::register_key(std::string_view token_id, std::string_view key_id,
                                     std::string_view friendly_name) {
  std::lock_guard wlock(impl_->write_mu);
  Token* t = impl_->find_token(token_id);
  if (t == nullptr) {
    return Error(FaultCode::kTokenNotFound, "no such token", std::string(token_id));
  }
  auto st = impl_->snapshot();
  if (st->keys.count(key_id) != 0) {
    return Error(FaultCode::kConflict, "the key is already registered", std::string(key_id));
  }
  if (st->keys.size() >= impl_->options.max_entries) {
    return Error(FaultCode::kLimitExceeded, "the registry holds the most keys allowed");
  }
  HANSA_ASSIGN_OR_RETURN(auto pub, t->public_key(key_id));
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin());
  HANSA_RETURN_IF_ERROR(tx.execute(
      "INSERT INTO signer_keys (id, token_id, friendly_name, usage, member_id, public_key, "
      "created_at) VALUES ($1, $2, $3, NULL, NULL, $4, $5)",
      {std::string(key_id), std::string(token_id), std::string(friendly_name),
       db::Value::blob(pub.to_der()), unix_seconds(impl_->clock())}));
  HANSA_RETURN_IF_ERROR(impl_->commit(tx));
  return key(key_id);
}

Result<CsrInfo> Signer::generate_csr(const CsrRequest& request) {
  std::lock_guard wlock(impl_->write_mu);
  auto st = impl_->snapshot();
  auto kit = st->keys.find(request.key_id);
  if (kit == st->keys.end()) {
    return not_found_key(request.key_id);
  }
  const KeyInfo& key = kit->second;
  if (key.usage && *key.usage != request.usage) {
    return Error(FaultCode::kWrongCertUsage,
                 "key " + key.id + " is an " + std::string(key_usage_name(*key.usage)) +
                     " key; a " + std::string(key_usage_name(request.usage)) +
                     " CSR needs another key");
  }
  if (request.usage == KeyUsage::kSigning && key.member && *key.member != request.member) {
    return Error(FaultCode::kWrongCertUsage,
                 "key " + key.id + " belongs to member " + key.member->to_string());
  }
  auto name = impl_->members(request.member);
  if (!name) {
    return Error(FaultCode::kUnknownMember,
                 "member " + request.member.to_string() +
                     " is not known to this node (add it as the owner or a client first)");
  }
  if (st->csrs.size() >= impl_->options.max_entries) {
    return Error(FaultCode::kLimitExceeded, "the registry holds the most CSRs allowed");
  }
  const auto& m = request.member;
  crypto::DistinguishedName subject;
  switch (impl_->options.profile) {
    case crypto::CertificateProfile::kHansaDefault:
      if (request.usage == KeyUsage::kSigning) {
        subject = {{"O", *name},
                   {"CN", m.member_code()},
                   {"serialNumber", m.instance() + "/" + m.member_class() + "/" + m.member_code()}};
      } else {
        if (request.server_code.empty()) {
          return Error(FaultCode::kInvalidRequest,
                       "an authentication CSR needs the node's server code");
        }
        subject = {{"O", *name},
                   {"CN", request.server_code},
                   {"serialNumber", m.instance() + "/" + m.member_class() + "/" + m.member_code() +
                                        "/" + request.server_code}};
      }
      break;
    case crypto::CertificateProfile::kEjbca:
      subject = {
          {"C", m.instance()},
          {"O", m.member_class()},
          {"CN", request.usage == KeyUsage::kSigning ? m.member_code() : request.server_code}};
      break;
    default:
      return Error(FaultCode::kInvalidRequest,
                   "CSR subjects are written for the Hansa default and EJBCA profiles only",
                   std::string(crypto::certificate_profile_name(impl_->options.profile)));
  }
  HANSA_ASSIGN_OR_RETURN(Token * token, impl_->usable_token(key.id));
  HANSA_ASSIGN_OR_RETURN(auto handle, token_key_handle(*token, key.id));
  HANSA_ASSIGN_OR_RETURN(auto req, crypto::CertificateRequest::create(subject, handle));
  if (!(req.public_key() == key.public_key)) {
    return Error(FaultCode::kInternalError, "the token's key differs from the registered key");
  }
  CsrInfo csr{.member = m};
  csr.id = crypto::hex_encode(crypto::random_bytes(16));
  csr.key_id = key.id;
  csr.usage = request.usage;
  csr.subject = req.subject();
  csr.der = req.der();
  csr.pem = req.pem();
  csr.created_at = unix_seconds(impl_->clock());

  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin());
  HANSA_RETURN_IF_ERROR(
      tx.execute("INSERT INTO signer_csrs (id, key_id, usage, member_id, subject, der, created_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                 {csr.id, csr.key_id, key_usage_name(csr.usage), m.to_string(), csr.subject,
                  db::Value::blob(csr.der), csr.created_at}));
  std::optional<std::string> member_col;
  if (request.usage == KeyUsage::kSigning) {
    member_col = m.to_string();
  }
  HANSA_RETURN_IF_ERROR(
      tx.execute("UPDATE signer_keys SET usage = $1, member_id = COALESCE(member_id, $2) "
                 "WHERE id = $3",
                 {key_usage_name(request.usage), member_col, key.id}));
  HANSA_RETURN_IF_ERROR(impl_->commit(tx));
  return csr;
}

Result<CertInfo> Signer::import_certificate(std::string_view pem_or_der) {
  std::lock_guard wlock(impl_->write_mu);
  const auto& limits = impl_->options.cert_limits;
  Result<crypto::Certificate> parsed = pem_or_der.find("-----BEGIN") != std::string_view::npos
                                           ? crypto::Certificate::from_pem(pem_or_der, limits)
                                           : crypto::Certificate::from_der(pem_or_der, limits);
  if (!parsed.ok()) {
    if (parsed.error().code == FaultCode::kLimitExceeded) {
      return std::move(parsed).error();
    }
    return Error(FaultCode::kIncorrectCertificate,
                 "the input is not an X.509 certificate (PEM or DER)", parsed.error().message);
  }
  const crypto::Certificate cert = std::move(parsed).value();
  if (cert.is_ca()) {
    return Error(FaultCode::kIncorrectCertificate, "a CA certificate cannot be imported for a key",
                 cert.subject());
  }
  auto st = impl_->snapshot();
  const std::string id = cert.fingerprint_hex(crypto::DigestAlgorithm::kSha1);
  if (st->certs.count(id) != 0) {
    return Error(FaultCode::kConflict, "this certificate is already imported", id);
  }
  if (st->certs.size() >= impl_->options.max_entries) {
    return Error(FaultCode::kLimitExceeded, "the registry holds the most certificates allowed");
  }
  const crypto::PublicKey pub = cert.public_key();
  const KeyInfo* key = nullptr;
  for (const auto& [kid, k] : st->keys) {
    if (k.public_key == pub) {
      key = &k;
      break;
    }
  }
  if (key == nullptr) {
    return Error(FaultCode::kKeyNotFound,
                 "no key of this node matches the certificate's public key "
                 "(was the CSR made on this node?)",
                 cert.subject());
  }
  // Which usage the certificate allows: signing needs nonRepudiation, authentication
  // digitalSignature (and, with extendedKeyUsage, clientAuth or serverAuth).
  const bool can_sign = cert.has_key_usage(crypto::KeyUsage::kNonRepudiation);
  const bool can_auth = cert.has_key_usage(crypto::KeyUsage::kDigitalSignature) &&
                        (!cert.has_extended_key_usage_extension() ||
                         cert.has_extended_key_usage(crypto::ExtendedKeyUsage::kClientAuth) ||
                         cert.has_extended_key_usage(crypto::ExtendedKeyUsage::kServerAuth));
  KeyUsage usage;
  if (key->usage) {
    usage = *key->usage;
    if ((usage == KeyUsage::kSigning && !can_sign) ||
        (usage == KeyUsage::kAuthentication && !can_auth)) {
      return Error(FaultCode::kWrongCertUsage,
                   "the certificate's key usage does not allow " +
                       std::string(usage == KeyUsage::kSigning ? "signing (nonRepudiation)"
                                                               : "authentication "
                                                                 "(digitalSignature, TLS)") +
                       ", which key " + key->id + " is for",
                   cert.subject());
    }
  } else if (can_sign) {
    usage = KeyUsage::kSigning;
  } else if (can_auth) {
    usage = KeyUsage::kAuthentication;
  } else {
    return Error(FaultCode::kWrongCertUsage,
                 "the certificate's key usage allows neither signing (nonRepudiation) nor "
                 "authentication (digitalSignature)",
                 cert.subject());
  }
  std::optional<ids::MemberId> member = key->member;
  if (usage == KeyUsage::kSigning) {
    const std::string instance = key->member ? key->member->instance() : std::string();
    auto from_cert = crypto::member_id_from_sign_cert(impl_->options.profile, cert, instance);
    if (!from_cert.ok()) {
      return Error(FaultCode::kIncorrectCertificate,
                   "the signing certificate's subject does not name a member under the "
                   "certificate profile",
                   from_cert.error().message);
    }
    if (key->member && *key->member != *from_cert) {
      return Error(FaultCode::kIncorrectCertificate,
                   "the certificate names member " + from_cert->to_string() + " but key " +
                       key->id + " belongs to " + key->member->to_string());
    }
    if (!impl_->members(*from_cert)) {
      return Error(FaultCode::kUnknownMember,
                   "member " + from_cert->to_string() + " is not known to this node");
    }
    member = *from_cert;
  }
  {
    bool have_cas;
    {
      std::lock_guard lock(impl_->mu);
      have_cas = !impl_->cas.empty();
    }
    if (have_cas && !impl_->issuer_of(cert)) {
      return Error(FaultCode::kCertValidation,
                   "the certificate's issuer is not an approved certification authority",
                   cert.issuer());
    }
  }
  const bool is_sign = usage == KeyUsage::kSigning;
  CertInfo info{.member = member, .certificate = cert};
  info.id = id;
  info.key_id = key->id;
  info.usage = usage;
  info.status = is_sign ? CertStatus::kRegistered : CertStatus::kSaved;
  info.active = is_sign;
  info.imported_at = unix_seconds(impl_->clock());
  std::optional<std::string> member_col;
  if (member) {
    member_col = member->to_string();
  }
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin());
  HANSA_RETURN_IF_ERROR(tx.execute(
      "INSERT INTO signer_certs (id, key_id, usage, member_id, der, status, active, imported_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {info.id, info.key_id, key_usage_name(usage), member_col, db::Value::blob(cert.der()),
       cert_status_name(info.status), info.active ? 1 : 0, info.imported_at}));
  HANSA_RETURN_IF_ERROR(tx.execute(
      "UPDATE signer_keys SET usage = $1, member_id = $2 WHERE id = $3",
      {key_usage_name(usage), is_sign ? member_col : std::optional<std::string>(), key->id}));
  HANSA_RETURN_IF_ERROR(tx.execute("DELETE FROM signer_csrs WHERE key_id = $1", {key->id}));
  HANSA_RETURN_IF_ERROR(impl_->commit(tx));
  return info;
}

Status Signer::set_cert_status(std::string_view cert_id, CertStatus status) {
  std::lock_guard wlock(impl_->write_mu);
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin());
  HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute("UPDATE signer_certs SET status = $1 WHERE id = $2",
                                               {cert_status_name(status), std::string(cert_id)}));
  if (rows.affected_rows() == 0) {
    return not_found_cert(cert_id);
  }
  return impl_->commit(tx);
}

Status Signer::set_cert_active(std::string_view cert_id, bool active) {
  std::lock_guard wlock(impl_->write_mu);
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin());
  HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute("UPDATE signer_certs SET active = $1 WHERE id = $2",
                                               {active ? 1 : 0, std::string(cert_id)}));
  if (rows.affected_rows() == 0) {
    return not_found_cert(cert_id);
  }
  return impl_->commit(tx);
}

Status Signer::delete_certificate(std::string_view cert_id) {
  std::lock_guard wlock(impl_->write_mu);
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin());
  HANSA_ASSIGN_OR_RETURN(
      auto rows, tx.execute("DELETE FROM signer_certs WHERE id = $1", {std::string(cert_id)}));
  if (rows.affected_rows() == 0) {
    return not_found_cert(cert_id);
  }
  return impl_->commit(tx);
}

Status Signer::delete_csr(std::string_view csr_id) {
  std::lock_guard wlock(impl_->write_mu);
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin());
  HANSA_ASSIGN_OR_RETURN(
      auto rows, tx.execute("DELETE FROM signer_csrs WHERE id = $1", {std::string(csr_id)}));
  if (rows.affected_rows() == 0) {
    return Error(FaultCode::kCsrNotFound, "no such CSR", std::string(csr_id));
  }
  return impl_->commit(tx);
}

Status Signer::delete_key(std::string_view key_id) {
  std::lock_guard wlock(impl_->write_mu);
  auto st = impl_->snapshot();
  auto it = st->keys.find(key_id);
  if (it == st->keys.end()) {
    return not_found_key(key_id);
  }
  Token* token = impl_->find_token(it->second.token_id);
  if (token != nullptr && !token->status().logged_in) {
    return Error(FaultCode::kTokenNotActive,
                 "log in to token " + it->second.token_id + " to delete its key");
  }
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin());
  const std::string id(key_id);
  HANSA_RETURN_IF_ERROR(tx.execute("DELETE FROM signer_certs WHERE key_id = $1", {id}));
  HANSA_RETURN_IF_ERROR(tx.execute("DELETE FROM signer_csrs WHERE key_id = $1", {id}));
  HANSA_RETURN_IF_ERROR(tx.execute("DELETE FROM signer_keys WHERE id = $1", {id}));
  HANSA_RETURN_IF_ERROR(impl_->commit(tx));
  if (token != nullptr) {
    Status del = token->delete_key(key_id);
    if (!del.ok() && del.error().code != FaultCode::kKeyNotFound) {
      Error e = std::move(del).error();
      e.message = "the key's registration was removed but the token kept the key: " + e.message;
      return e;
    }
  }
  return ok_status();
}

std::vector<KeyInfo> Signer::keys() const {
  auto st = impl_->snapshot();
  std::vector<KeyInfo> out;
  for (const auto& [id, k] : st->keys) {
    out.push_back(k);
  }
  return out;
}

Result<KeyInfo> Signer::key(std::string_view key_id) const {
  auto st = impl_->snapshot();
  auto it = st->keys.find(key_id);
  if (it == st->keys.end()) {
    return not_found_key(key_id);
  }
  return it->second;
}

std::vector<CsrInfo> Signer::csrs() const {
  auto st = impl_->snapshot();
  std::vector<CsrInfo> out;
  for (const auto& [id, c] : st->csrs) {
    out.push_back(c);
  }
  return out;
}

std::vector<CertInfo> Signer::certificates() const {
  auto st = impl_->snapshot();
  std::vector<CertInfo> out;
  for (const auto& [id, c] : st->certs) {
    out.push_back(c);
  }
  return out;
}

Result<CertInfo> Signer::certificate(std::string_view cert_id) const {
  auto st = impl_->snapshot();
  auto it = st->certs.find(cert_id);
  if (it == st->certs.end()) {
    return not_found_cert(cert_id);
  }
  return it->second;
}

Result<bool> Signer::reload() {
  std::lock_guard wlock(impl_->write_mu);
  {
    HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(db::Access::kReadOnly));
    HANSA_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT version FROM signer_state WHERE id = 1"));
    if (!row) {
      return Error(FaultCode::kDatabaseError, "signer_state row missing");
    }
    HANSA_ASSIGN_OR_RETURN(auto version, row->int64(0));
    if (version == impl_->snapshot()->version) {
      return false;
    }
  }
  HANSA_RETURN_IF_ERROR(impl_->refresh_state());
  return true;
}

void Signer::set_ca_certificates(std::vector<crypto::Certificate> cas) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->cas = std::move(cas);
    ++impl_->cas_generation;
    impl_->chains.clear();
  }
  impl_->sync_ocsp(*impl_->snapshot());
}

std::size_t Signer::refresh_ocsp() {
  std::map<std::string, std::string, std::less<>> tracked;
  {
    std::lock_guard lock(impl_->mu);
    tracked = impl_->tracked;
  }
  std::size_t ok = 0;
  for (const auto& [id, hash] : tracked) {
    auto r = impl_->cache->get_or_fetch(hash);
    std::lock_guard lock(impl_->mu);
    if (r.ok()) {
      impl_->ocsp_errors.erase(id);
      ++ok;
    } else {
      impl_->ocsp_errors.insert_or_assign(id, r.error());
    }
  }
  return ok;
}

Result<OcspInfo> Signer::ocsp_status(std::string_view cert_id) const {
  auto st = impl_->snapshot();
  if (st->certs.count(cert_id) == 0) {
    return not_found_cert(cert_id);
  }
  OcspInfo info;
  std::lock_guard lock(impl_->mu);
  if (auto it = impl_->tracked.find(cert_id); it != impl_->tracked.end()) {
    if (auto resp = impl_->cache->get(it->second)) {
      info.response_der = resp->der();
      info.status = resp->status();
      info.this_update = resp->this_update();
    }
  }
  if (auto it = impl_->ocsp_errors.find(cert_id); it != impl_->ocsp_errors.end()) {
    info.last_error = it->second;
  } else if (!info.response_der) {
    info.last_error = Error(FaultCode::kOcspFailed, "no OCSP response fetched yet");
  }
  return info;
}

Result<std::string> Signer::sign(const ids::MemberId& member, crypto::SignatureAlgorithm alg,
                                 std::string_view data) {
  HANSA_ASSIGN_OR_RETURN(auto cert, impl_->sign_cert_for(member));
  HANSA_ASSIGN_OR_RETURN(Token * token, impl_->usable_token(cert.key_id));
  return token->sign(cert.key_id, alg, data);
}

Result<std::string> Signer::sign_digest(const ids::MemberId& member, crypto::SignatureAlgorithm alg,
                                        std::string_view digest) {
  HANSA_ASSIGN_OR_RETURN(auto cert, impl_->sign_cert_for(member));
  HANSA_ASSIGN_OR_RETURN(Token * token, impl_->usable_token(cert.key_id));
  return token->sign_digest(cert.key_id, alg, digest);
}

Result<std::string> Signer::sign_with_key(std::string_view key_id, crypto::SignatureAlgorithm alg,
                                          std::string_view data) {
  HANSA_ASSIGN_OR_RETURN(Token * token, impl_->usable_token(key_id));
  return token->sign(key_id, alg, data);
}

void Signer::Impl::attach_ocsp(const std::string& cert_id, SigningInfo& info) {
  Impl& impl = *this;
  std::string hash;
  {
    std::lock_guard lock(impl.mu);
    if (auto it = impl.tracked.find(cert_id); it != impl.tracked.end()) {
      hash = it->second;
    }
  }
  if (!hash.empty()) {
    auto resp = impl.cache->get_or_fetch(hash);
    std::lock_guard lock(impl.mu);
    if (resp.ok()) {
      info.ocsp_der = resp->der();
      impl.ocsp_errors.erase(cert_id);
    } else {
      impl.ocsp_errors.insert_or_assign(cert_id, resp.error());
    }
  }
}

Result<SigningInfo> Signer::signing_info(const ids::MemberId& member) {
  HANSA_ASSIGN_OR_RETURN(auto cert, impl_->sign_cert_for(member));
  HANSA_RETURN_IF_ERROR(impl_->usable_token(cert.key_id));
  SigningInfo info{cert.key_id, cert.certificate, impl_->chain_of(cert.certificate), std::nullopt};
  impl_->attach_ocsp(cert.id, info);
  return info;
}

Result<SigningInfo> Signer::auth_info() {
  HANSA_ASSIGN_OR_RETURN(auto auth, impl_->auth());
  // Peers require the auth certificate's OCSP response (PR-MESSTRANSP 3.2).
  impl_->attach_ocsp(auth.id, auth.info);
  return std::move(auth.info);
}

Status use_auth_key(const Signer& signer, SSL_CTX* ctx) {
  HANSA_CHECK(ctx != nullptr);
  HANSA_ASSIGN_OR_RETURN(auto pair, SignerAccess::auth_key(signer));
  const auto& [info, key] = pair;
  if (SSL_CTX_use_certificate(ctx, crypto::native_x509(info.certificate)) != 1) {
    return crypto::openssl_error(FaultCode::kCryptoError, "cannot use the auth certificate");
  }
  for (const auto& c : info.chain) {
    if (c.is_self_signed()) {
      continue;  // peers hold the root
    }
    if (SSL_CTX_add1_chain_cert(ctx, crypto::native_x509(c)) != 1) {
      return crypto::openssl_error(FaultCode::kCryptoError, "cannot add a chain certificate");
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, crypto::native_pkey(key)) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return crypto::openssl_error(FaultCode::kCryptoError, "cannot use the auth key");
  }
  return ok_status();
}

}  // namespace hansa::signer
