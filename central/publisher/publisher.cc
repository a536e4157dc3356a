#include "central/publisher/publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/random.h"
#include "core/globalconf/signed_directory.h"
#include "core/globalconf/xml_codec.h"
#include "core/http/server.h"

namespace hansa::central {

namespace {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

constexpr std::string_view kComponent = "central_publisher";
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

std::int64_t to_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint from_millis(std::int64_t ms) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms)));
}

const std::vector<db::Migration>& migration_list() {
  static const std::vector<db::Migration> list = [] {
    std::vector<db::Migration> v;
    db::Migration m;
    m.version = 1;
    m.name = "signing keys, files and signed directories";
    const std::string tables = R"(
CREATE TABLE publisher_signing_keys (
  %ID%,
  cert_der %BLOB% NOT NULL,
  cert_sha256 TEXT NOT NULL UNIQUE,
  key_file TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE publisher_files (
  content_location TEXT PRIMARY KEY,
  content_identifier TEXT NOT NULL,
  content %BLOB% NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE publisher_directories (
  %ID%,
  format_version INTEGER NOT NULL,
  generated_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  registry_change_version BIGINT NOT NULL,
  signing_key_id BIGINT NOT NULL,
  content_key TEXT NOT NULL,
  content_locations TEXT NOT NULL,
  content_type TEXT NOT NULL,
  body %BLOB% NOT NULL
);
)";
    auto render = [&](std::string_view id, std::string_view blob) {
      std::string s = tables;
      for (auto [from, to] : {std::pair<std::string_view, std::string_view>{"%ID%", id},
                              std::pair<std::string_view, std::string_view>{"%BLOB%", blob}}) {
        for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos)) {
          s.replace(pos, from.size(), to);
        }
      }
      return s;
    };
    m.sqlite_sql = render("id INTEGER PRIMARY KEY", "BLOB");
    m.postgres_sql = render("id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BYTEA");
    m.sql = m.sqlite_sql;
    v.push_back(std::move(m));
    return v;
  }();
  return list;
}

std::optional<SigningKeyRecord::State> state_from_text(std::string_view s) {
  if (s == "standby") {
    return SigningKeyRecord::State::kStandby;
  }
  if (s == "active") {
    return SigningKeyRecord::State::kActive;
  }
  if (s == "retired") {
    return SigningKeyRecord::State::kRetired;
  }
  return std::nullopt;
}

// "http://host[:port]" -> "host[:port]"; error for anything else.
Result<std::string> source_address(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return Error(FaultCode::kInvalidConfiguration, "public URL must start with http:// or https://",
                 std::string(url));
  }
  while (rest.ends_with('/')) {
    rest.remove_suffix(1);
  }
  if (rest.empty() || rest.find_first_of("/?#@ \t\r\n") != std::string_view::npos) {
    return Error(FaultCode::kInvalidConfiguration,
                 "public URL must be scheme://host[:port] without a path", std::string(url));
  }
  return std::string(rest);
}

Result<std::string> read_small_file(const std::filesystem::path& path, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(FaultCode::kIoError, "cannot read file", path.string());
  }
  std::string data;
  data.resize(max + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  if (data.size() > max) {
    return Error(FaultCode::kLimitExceeded, "file too large", path.string());
  }
  return data;
}

crypto::SignatureAlgorithm algorithm_for(const crypto::PrivateKey& key) {
  return key.type() == crypto::KeyType::kEc ? crypto::SignatureAlgorithm::kEcdsaSha512
                                            : crypto::SignatureAlgorithm::kRsaSha512;
}

Result<crypto::PrivateKey> load_key_matching(const std::filesystem::path& key_file,
                                             const crypto::Certificate& cert) {
  HANSA_ASSIGN_OR_RETURN(auto pem, read_small_file(key_file, kMaxKeyFileBytes));
  auto key = crypto::PrivateKey::from_pem(pem);
  if (!key.ok()) {
    return Error(FaultCode::kInvalidKey, "configuration-signing key does not load",
                 key_file.string() + ": " + key.error().message);
  }
  if (!(key->public_key() == cert.public_key())) {
    return Error(FaultCode::kInvalidKey, "configuration-signing key does not match its certificate",
                 key_file.string());
  }
  return std::move(key).value();
}

// yyyyMMddHHmmssSSS plus six random digits: unique per generation, also across instances.
std::string file_stamp(TimePoint t) {
  const std::time_t secs = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  const auto ms = to_millis(t) % 1000;
  const std::string rnd = crypto::random_bytes(4);
  std::uint32_t r = 0;
  for (unsigned char c : rnd) {
    r = (r << 8) | c;
  }
  char tail[16];
  std::snprintf(tail, sizeof tail, "%03d%06u", static_cast<int>(ms), r % 1000000U);
  return std::string(buf) + tail;
}

std::string join_lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) {
      out += '\n';
    }
    out += s;
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto nl = s.find('\n');
    out.emplace_back(s.substr(0, nl));
    if (nl == std::string_view::npos) {
      break;
    }
    s.remove_prefix(nl + 1);
  }
  return out;
}

Result<SigningKeyRecord> key_from_row(const db::Row& row) {
  HANSA_ASSIGN_OR_RETURN(auto id, row.int64(0));
  HANSA_ASSIGN_OR_RETURN(auto der, row.blob(1));
  auto cert = crypto::Certificate::from_der(der);
  if (!cert.ok()) {
    return Error(FaultCode::kDatabaseError, "stored signing certificate does not parse",
                 cert.error().message);
  }
  HANSA_ASSIGN_OR_RETURN(auto file, row.text(2));
  HANSA_ASSIGN_OR_RETURN(auto state, row.text(3));
  auto st = state_from_text(state);
  if (!st) {
    return Error(FaultCode::kDatabaseError, "unknown signing key state", state);
  }
  HANSA_ASSIGN_OR_RETURN(auto created, row.int64(4));
  return SigningKeyRecord{.id = id,
                          .cert = std::move(cert).value(),
                          .key_file = file,
                          .state = *st,
                          .created_at = from_millis(created)};
}

constexpr std::string_view kSelectKeys =
    "SELECT id, cert_der, key_file, state, created_at FROM publisher_signing_keys ORDER BY id";
constexpr std::string_view kSelectDirectory =
    "SELECT id, format_version, generated_at, expires_at, registry_change_version, "
    "signing_key_id, content_locations, content_type, body, content_key "
    "FROM publisher_directories ";

Result<PublishedDirectory> directory_from_row(const db::Row& row, std::string* content_key) {
  PublishedDirectory d;
  HANSA_ASSIGN_OR_RETURN(d.id, row.int64(0));
  HANSA_ASSIGN_OR_RETURN(auto version, row.int64(1));
  d.version = static_cast<int>(version);
  HANSA_ASSIGN_OR_RETURN(auto gen, row.int64(2));
  d.generated_at = from_millis(gen);
  HANSA_ASSIGN_OR_RETURN(auto exp, row.int64(3));
  d.expires_at = from_millis(exp);
  HANSA_ASSIGN_OR_RETURN(d.registry_change_version, row.int64(4));
  HANSA_ASSIGN_OR_RETURN(d.signing_key_id, row.int64(5));
  HANSA_ASSIGN_OR_RETURN(auto locations, row.text(6));
  d.content_locations = split_lines(locations);
  HANSA_ASSIGN_OR_RETURN(d.content_type, row.text(7));
  HANSA_ASSIGN_OR_RETURN(d.body, row.blob(8));
  if (content_key != nullptr) {
    HANSA_ASSIGN_OR_RETURN(*content_key, row.text(9));
  }
  return d;
}

Result<std::vector<SigningKeyRecord>> read_keys(db::Transaction& tx) {
  HANSA_ASSIGN_OR_RETURN(auto rows, tx.execute(kSelectKeys));
  std::vector<SigningKeyRecord> keys;
  for (const auto& row : rows) {
    HANSA_ASSIGN_OR_RETURN(auto k, key_from_row(row));
    keys.push_back(std::move(k));
  }
  return keys;
}

std::vector<crypto::Certificate> announced_certs(const std::vector<SigningKeyRecord>& keys) {
  std::vector<crypto::Certificate> certs;
  // The active key first, then standby keys in the order they were added.
  for (const auto& k : keys) {
    if (k.state == SigningKeyRecord::State::kActive) {
      certs.push_back(k.cert);
    }
  }
  for (const auto& k : keys) {
    if (k.state == SigningKeyRecord::State::kStandby) {
      certs.push_back(k.cert);
    }
  }
  return certs;
}

}  // namespace

std::string_view signing_key_state_name(SigningKeyRecord::State state) noexcept {
  switch (state) {
    case SigningKeyRecord::State::kStandby:
      return "standby";
    case SigningKeyRecord::State::kActive:
      return "active";
    case SigningKeyRecord::State::kRetired:
      return "retired";
  }
  return "standby";
}

struct Publisher::Impl {
  db::Database& db;
  Registry& registry;
  PublisherOptions options;
  std::string address;       // shared-params source address
  std::string download_url;  // anchor downloadURL

  // Worker state, guarded by mu.
  std::mutex mu;
  std::condition_variable cv;
  bool running = false;
  bool stopping = false;
  bool change_pending = false;
  std::optional<std::uint64_t> subscription;
  std::thread worker;
  // Serializes publish() within this process (other instances are serialized by the database).
  std::mutex publish_mu;

  Impl(db::Database& d, Registry& r, PublisherOptions o)
      : db(d), registry(r), options(std::move(o)) {}

  Status audit(const AuditContext& ctx, std::string_view action, std::string_view target,
               std::string_view summary, const Error* refusal) {
    auto st = registry.record_audit(ctx, action, target, summary, refusal);
    if (!st.ok()) {
      spdlog::warn("publisher: audit log write failed: {}", st.error().to_string());
    }
    return st;
  }

  Result<PublishedDirectory> publish();
  void run();
};

Publisher::Publisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Publisher::~Publisher() { stop(); }

std::span<const db::Migration> Publisher::migrations() { return migration_list(); }

Result<std::unique_ptr<Publisher>> Publisher::open(db::Database& db, Registry& registry,
                                                   PublisherOptions options) {
  HANSA_ASSIGN_OR_RETURN(auto address, source_address(options.public_url));
  if (options.regeneration_interval <= std::chrono::milliseconds(0)) {
    return Error(FaultCode::kInvalidConfiguration, "regeneration interval must be positive");
  }
  if (options.configuration_validity && options.configuration_validity->count() <= 0) {
    return Error(FaultCode::kInvalidConfiguration, "configuration validity must be positive");
  }
  if (options.keep_directories == 0) {
    return Error(FaultCode::kInvalidConfiguration, "keep_directories must be at least 1");
  }
  auto migrated = db::migrate(db, kComponent, migration_list());
  if (!migrated.ok()) {
    return std::move(migrated).error();
  }
  std::string url = options.public_url;
  while (url.ends_with('/')) {
    url.pop_back();
  }
  auto impl = std::make_unique<Impl>(db, registry, std::move(options));
  impl->address = std::move(address);
  impl->download_url = url + "/internalconf";
  return std::unique_ptr<Publisher>(new Publisher(std::move(impl)));
}

// --- Signing keys ---

Result<std::int64_t> Publisher::add_signing_key(const AuditContext& ctx,
                                                const std::filesystem::path& key_file,
                                                const crypto::Certificate& cert) {
  const std::string target =
      "signing_key:" + cert.fingerprint_hex(crypto::DigestAlgorithm::kSha256);
  auto refuse = [&](Error e) -> Result<std::int64_t> {
    (void)impl_->audit(ctx, "signing_key.add", target, key_file.string(), &e);
    return e;
  };
  const auto now = impl_->options.clock();
  if (!cert.valid_at(now)) {
    return refuse(Error(FaultCode::kInvalidCertificate,
                        "configuration-signing certificate is not valid now", cert.subject()));
  }
  if (cert.is_ca()) {
    return refuse(Error(FaultCode::kInvalidCertificate,
                        "configuration-signing certificate must not be a CA certificate"));
  }
  auto key = load_key_matching(std::filesystem::absolute(key_file), cert);
  if (!key.ok()) {
    return refuse(std::move(key).error());
  }
  auto tx = impl_->db.begin();
  if (!tx.ok()) {
    return std::move(tx).error();
  }
  auto count =
      tx->query_one("SELECT COUNT(*) FROM publisher_signing_keys WHERE state = 'active'", {});
  if (!count.ok()) {
    return std::move(count).error();
  }
  const bool first = (*count)->int64(0).value_or(0) == 0;
  auto row = tx->query_one(
      "INSERT INTO publisher_signing_keys (cert_der, cert_sha256, key_file, state, created_at) "
      "VALUES ($1, $2, $3, $4, $5) RETURNING id",
      {db::Value::blob(cert.der()), cert.fingerprint_hex(crypto::DigestAlgorithm::kSha256),
       std::filesystem::absolute(key_file).string(),
       first ? std::string("active") : std::string("standby"), to_millis(now)});
  if (!row.ok()) {
    if (row.error().code == FaultCode::kConflict) {
      tx->rollback();
      return refuse(Error(FaultCode::kConflict, "this signing certificate is already recorded"));
    }
    return std::move(row).error();
  }
  auto id = (*row)->int64(0);
  if (!id.ok()) {
    return std::move(id).error();
  }
  HANSA_RETURN_IF_ERROR(tx->commit());
  (void)impl_->audit(ctx, "signing_key.add", "signing_key:" + std::to_string(*id),
                     std::string(first ? "active " : "standby ") + cert.subject(), nullptr);
  {
    std::lock_guard lock(impl_->mu);
    impl_->change_pending = true;
  }
  impl_->cv.notify_all();
  return *id;
}

Status Publisher::activate_signing_key(const AuditContext& ctx, std::int64_t id) {
  const std::string target = "signing_key:" + std::to_string(id);
  auto refuse = [&](Error e) -> Status {
    (void)impl_->audit(ctx, "signing_key.activate", target, "", &e);
    return e;
  };
  auto tx = impl_->db.begin();
  if (!tx.ok()) {
    return std::move(tx).error();
  }
  auto row = tx->query_one(
      "SELECT id, cert_der, key_file, state, created_at FROM publisher_signing_keys WHERE id = $1",
      {id});
  if (!row.ok()) {
    return std::move(row).error();
  }
  if (!row->has_value()) {
    tx->rollback();
    return refuse(Error(FaultCode::kNotFound, "no such signing key", target));
  }
  HANSA_ASSIGN_OR_RETURN(auto rec, key_from_row(**row));
  if (rec.state == SigningKeyRecord::State::kRetired) {
    tx->rollback();
    return refuse(Error(FaultCode::kInvalidRequest, "a retired signing key cannot be activated"));
  }
  // The key must still load: activating an unusable key would stop publication.
  auto key = load_key_matching(rec.key_file, rec.cert);
  if (!key.ok()) {
    tx->rollback();
    return refuse(std::move(key).error());
  }
  HANSA_RETURN_IF_ERROR(tx->execute(
      "UPDATE publisher_signing_keys SET state = 'standby' WHERE state = 'active' AND id <> $1",
      {id}));
  HANSA_RETURN_IF_ERROR(
      tx->execute("UPDATE publisher_signing_keys SET state = 'active' WHERE id = $1", {id}));
  HANSA_RETURN_IF_ERROR(tx->commit());
  (void)impl_->audit(ctx, "signing_key.activate", target, rec.cert.subject(), nullptr);
  {
    std::lock_guard lock(impl_->mu);
    impl_->change_pending = true;
  }
  impl_->cv.notify_all();
  return ok_status();
}

Status Publisher::retire_signing_key(const AuditContext& ctx, std::int64_t id) {
  const std::string target = "signing_key:" + std::to_string(id);
  auto refuse = [&](Error e) -> Status {
    (void)impl_->audit(ctx, "signing_key.retire", target, "", &e);
    return e;
  };
  auto tx = impl_->db.begin();
  if (!tx.ok()) {
    return std::move(tx).error();
  }
  auto row = tx->query_one("SELECT state FROM publisher_signing_keys WHERE id = $1", {id});
  if (!row.ok()) {
    return std::move(row).error();
  }
  if (!row->has_value()) {
    tx->rollback();
    return refuse(Error(FaultCode::kNotFound, "no such signing key", target));
  }
  HANSA_ASSIGN_OR_RETURN(auto state, (*row)->text(0));
  if (state == "active") {
    tx->rollback();
    return refuse(Error(FaultCode::kInvalidRequest,
                        "the active signing key cannot be retired; activate another key first"));
  }
  HANSA_RETURN_IF_ERROR(
      tx->execute("UPDATE publisher_signing_keys SET state = 'retired' WHERE id = $1", {id}));
  HANSA_RETURN_IF_ERROR(tx->commit());
  (void)impl_->audit(ctx, "signing_key.retire", target, "", nullptr);
  {
    std::lock_guard lock(impl_->mu);
    impl_->change_pending = true;
  }
  impl_->cv.notify_all();
  return ok_status();
}

Result<std::vector<SigningKeyRecord>> Publisher::signing_keys() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(db::Access::kReadOnly));
  return read_keys(tx);
}

// --- Generation ---

Result<PublishedDirectory> Publisher::publish() { return impl_->publish(); }

Result<PublishedDirectory> Publisher::Impl::publish() {
  std::lock_guard publish_lock(publish_mu);
  const TimePoint now = options.clock();

  HANSA_ASSIGN_OR_RETURN(auto exported, registry.export_globalconf());
  const std::string instance = exported.shared.instance_identifier;
  if (instance.empty()) {
    return Error(FaultCode::kInvalidConfiguration,
                 "the registry has no instance identifier yet (run hansa-central init)");
  }

  std::vector<SigningKeyRecord> keys;
  {
    HANSA_ASSIGN_OR_RETURN(auto tx, db.begin(db::Access::kReadOnly));
    HANSA_ASSIGN_OR_RETURN(keys, read_keys(tx));
  }
  const SigningKeyRecord* active = nullptr;
  for (const auto& k : keys) {
    if (k.state == SigningKeyRecord::State::kActive) {
      active = &k;
    }
  }
  if (active == nullptr) {
    return Error(FaultCode::kInvalidConfiguration, "no active configuration-signing key");
  }
  HANSA_ASSIGN_OR_RETURN(auto private_key, load_key_matching(active->key_file, active->cert));
  globalconf::SigningKey signing_key{
      .key = private_key, .cert = active->cert, .algorithm = algorithm_for(private_key)};

  // Shared parameters: the registry's content plus this configuration source (PR-GCONF Annex B).
  globalconf::SharedParameters shared = std::move(exported.shared);
  globalconf::ConfigurationSource source;
  source.address = address;
  source.internal_verification_certs = announced_certs(keys);
  shared.sources = {std::move(source)};
  HANSA_ASSIGN_OR_RETURN(auto shared_xml, globalconf::write_shared_parameters(shared));

  std::optional<std::string> private_xml;
  if (exported.private_params) {
    globalconf::PrivateParameters priv = std::move(*exported.private_params);
    if (options.management_service_address) {
      priv.management_service.auth_cert_reg_service_address = *options.management_service_address;
    }
    if (options.management_service_cert) {
      priv.management_service.auth_cert_reg_service_cert = *options.management_service_cert;
    }
    HANSA_ASSIGN_OR_RETURN(auto xml, globalconf::write_private_parameters(priv));
    private_xml = std::move(xml);
  } else {
    spdlog::warn(
        "publisher: the management service provider is not set in the registry settings; "
        "publishing shared parameters only");
  }
  if (shared_xml.size() > options.max_file_bytes ||
      (private_xml && private_xml->size() > options.max_file_bytes)) {
    return Error(FaultCode::kLimitExceeded, "generated configuration file exceeds max_file_bytes");
  }
  // What nodes will do with the files: parse and validate them against the schemas.
  {
    auto check = globalconf::parse_shared_parameters(shared_xml);
    if (!check.ok()) {
      return Error(FaultCode::kInternalError, "generated shared parameters do not validate",
                   check.error().to_string());
    }
    if (private_xml) {
      auto pcheck = globalconf::parse_private_parameters(*private_xml);
      if (!pcheck.ok()) {
        return Error(FaultCode::kInternalError, "generated private parameters do not validate",
                     pcheck.error().to_string());
      }
    }
  }

  // The content key decides whether the stored files can be reused.
  crypto::Digester hasher(crypto::DigestAlgorithm::kSha256);
  hasher.update(shared_xml);
  hasher.update(std::string(1, '\0'));
  hasher.update(private_xml.value_or(std::string()));
  const std::string content_key = crypto::hex_encode(hasher.finish());

  std::chrono::seconds validity = options.configuration_validity.value_or(
      std::chrono::seconds(exported.settings.configuration_validity_seconds));
  if (validity.count() <= 0) {
    validity = std::chrono::seconds(600);
  }
  const TimePoint expires_at = now + validity;

  HANSA_ASSIGN_OR_RETURN(auto tx, db.begin());
  HANSA_ASSIGN_OR_RETURN(auto last_row,
                         tx.query_one(std::string(kSelectDirectory) + "ORDER BY id DESC LIMIT 1"));
  std::vector<std::string> locations;
  if (last_row) {
    std::string last_key;
    HANSA_ASSIGN_OR_RETURN(auto last, directory_from_row(*last_row, &last_key));
    const std::size_t expected = private_xml ? 2 : 1;
    if (last_key == content_key && last.content_locations.size() == expected) {
      locations = last.content_locations;
    }
  }
  const int version = globalconf::kConfigurationVersion;
  if (locations.empty()) {
    const std::string prefix = "/V" + std::to_string(version) + "/" + file_stamp(now) + "/";
    locations.push_back(prefix + "shared-params.xml");
    if (private_xml) {
      locations.push_back(prefix + "private-params.xml");
    }
    HANSA_RETURN_IF_ERROR(tx.execute(
        "INSERT INTO publisher_files (content_location, content_identifier, content, created_at) "
        "VALUES ($1, $2, $3, $4)",
        {locations[0], std::string(globalconf::kSharedParametersContentId),
         db::Value::blob(shared_xml), to_millis(now)}));
    if (private_xml) {
      HANSA_RETURN_IF_ERROR(tx.execute(
          "INSERT INTO publisher_files (content_location, content_identifier, content, created_at) "
          "VALUES ($1, $2, $3, $4)",
          {locations[1], std::string(globalconf::kPrivateParametersContentId),
           db::Value::blob(*private_xml), to_millis(now)}));
    }
  }

  // PR-GCONF 2.5: private parameters first (X-Road's order), then shared parameters.
  std::vector<globalconf::DirectoryFile> files;
  if (private_xml) {
    files.push_back({.content_identifier = std::string(globalconf::kPrivateParametersContentId),
                     .instance = instance,
                     .content_location = locations[1],
                     .content = *private_xml});
  }
  files.push_back({.content_identifier = std::string(globalconf::kSharedParametersContentId),
                   .instance = instance,
                   .content_location = locations[0],
                   .content = shared_xml});
  globalconf::DirectoryBuildOptions build_options;
  build_options.expires_at = expires_at;
  build_options.version = version;
  HANSA_ASSIGN_OR_RETURN(auto built,
                         globalconf::build_signed_directory(files, signing_key, build_options));

  PublishedDirectory out;
  out.version = version;
  out.generated_at = now;
  out.expires_at = expires_at;
  out.registry_change_version = exported.change_version;
  out.signing_key_id = active->id;
  out.content_type = built.content_type.to_string();
  out.body = std::move(built.body);
  out.content_locations = locations;

  HANSA_ASSIGN_OR_RETURN(
      auto id_row,
      tx.query_one(
          "INSERT INTO publisher_directories (format_version, generated_at, expires_at, "
          "registry_change_version, signing_key_id, content_key, content_locations, content_type, "
          "body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
          {version, to_millis(now), to_millis(expires_at), out.registry_change_version,
           out.signing_key_id, content_key, join_lines(locations), out.content_type,
           db::Value::blob(out.body)}));
  HANSA_CHECK(id_row.has_value());
  HANSA_ASSIGN_OR_RETURN(out.id, id_row->int64(0));

  // Prune: keep the newest directories and the files they list.
  HANSA_RETURN_IF_ERROR(tx.execute(
      "DELETE FROM publisher_directories WHERE id < (SELECT id FROM publisher_directories "
      "ORDER BY id DESC LIMIT 1 OFFSET $1)",
      {static_cast<std::int64_t>(options.keep_directories - 1)}));
  HANSA_ASSIGN_OR_RETURN(auto kept, tx.execute("SELECT content_locations FROM "
                                               "publisher_directories"));
  std::vector<std::string> referenced;
  for (const auto& row : kept) {
    HANSA_ASSIGN_OR_RETURN(auto text, row.text(0));
    for (auto& l : split_lines(text)) {
      referenced.push_back(std::move(l));
    }
  }
  std::sort(referenced.begin(), referenced.end());
  HANSA_ASSIGN_OR_RETURN(auto stored, tx.execute("SELECT content_location FROM publisher_files"));
  for (const auto& row : stored) {
    HANSA_ASSIGN_OR_RETURN(auto loc, row.text(0));
    if (!std::binary_search(referenced.begin(), referenced.end(), loc)) {
      HANSA_RETURN_IF_ERROR(
          tx.execute("DELETE FROM publisher_files WHERE content_location = $1", {loc}));
    }
  }
  HANSA_RETURN_IF_ERROR(tx.commit());
  spdlog::debug("publisher: directory {} (registry version {}, expires {})", out.id,
                out.registry_change_version, globalconf::format_utc(expires_at));
  return out;
}

Result<std::optional<PublishedDirectory>> Publisher::latest() const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row,
                         tx.query_one(std::string(kSelectDirectory) + "ORDER BY id DESC LIMIT 1"));
  if (!row) {
    return std::optional<PublishedDirectory>();
  }
  HANSA_ASSIGN_OR_RETURN(auto d, directory_from_row(*row, nullptr));
  return std::optional<PublishedDirectory>(std::move(d));
}

Result<std::optional<PublishedFile>> Publisher::file(std::string_view content_location) const {
  HANSA_ASSIGN_OR_RETURN(auto tx, impl_->db.begin(db::Access::kReadOnly));
  HANSA_ASSIGN_OR_RETURN(auto row,
                         tx.query_one("SELECT content_identifier, content FROM publisher_files "
                                      "WHERE content_location = $1",
                                      {content_location}));
  if (!row) {
    return std::optional<PublishedFile>();
  }
  PublishedFile f;
  f.content_location = std::string(content_location);
  HANSA_ASSIGN_OR_RETURN(f.content_identifier, row->text(0));
  HANSA_ASSIGN_OR_RETURN(f.content, row->blob(1));
  return std::optional<PublishedFile>(std::move(f));
}

// --- Anchor ---

Result<globalconf::ConfigurationAnchor> Publisher::anchor() const {
  HANSA_ASSIGN_OR_RETURN(auto instance, impl_->registry.instance_identifier());
  HANSA_ASSIGN_OR_RETURN(auto keys, signing_keys());
  auto certs = announced_certs(keys);
  if (certs.empty()) {
    return Error(FaultCode::kInvalidConfiguration, "no configuration-signing key recorded");
  }
  globalconf::ConfigurationAnchor anchor;
  anchor.generated_at = impl_->options.clock();
  anchor.instance_identifier = instance;
  anchor.sources.push_back(
      {.download_url = impl_->download_url, .verification_certs = std::move(certs)});
  return anchor;
}

Result<std::string> Publisher::anchor_xml() const {
  HANSA_ASSIGN_OR_RETURN(auto a, anchor());
  return globalconf::write_configuration_anchor(a);
}

// --- HTTP ---

void Publisher::register_routes(http::Server& server) {
  Impl* impl = impl_.get();
  Publisher* self = this;
  server.route("GET", "/internalconf", [self](const http::Request& req, http::Response& res) {
    // PR-GCONF 2.7: an unsupported ?version is answered 404.
    if (auto v = req.query("version")) {
      bool supported = false;
      for (int s : kSupportedConfigurationVersions) {
        if (*v == std::to_string(s)) {
          supported = true;
        }
      }
      if (!supported) {
        res.set_error(Error(FaultCode::kNotFound, "configuration version not supported", *v));
        return;
      }
    }
    auto latest = self->latest();
    if (!latest.ok()) {
      spdlog::error("publisher: reading the directory failed: {}", latest.error().to_string());
      res.set_error(Error(FaultCode::kInternalError, "configuration not available"));
      return;
    }
    if (!latest->has_value()) {
      res.set_error(Error(FaultCode::kNotFound, "no configuration published yet"));
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_body(std::move((*latest)->body), (*latest)->content_type);
  });
  for (int v : kSupportedConfigurationVersions) {
    server.route("GET", "/V" + std::to_string(v) + "/*",
                 [self](const http::Request& req, http::Response& res) {
                   auto f = self->file(req.path());
                   if (!f.ok()) {
                     spdlog::error("publisher: reading a file failed: {}", f.error().to_string());
                     res.set_error(Error(FaultCode::kInternalError, "file not available"));
                     return;
                   }
                   if (!f->has_value()) {
                     res.set_error(Error(FaultCode::kNotFound, "no such configuration file"));
                     return;
                   }
                   res.set_body(std::move((*f)->content), "application/octet-stream");
                 });
  }
  (void)impl;
}

// --- Worker ---

void Publisher::Impl::run() {
  std::int64_t last_seen_change = -1;
  std::unique_lock lock(mu);
  bool first = true;
  while (!stopping) {
    if (!first) {
      cv.wait_for(lock, options.regeneration_interval, [&] { return stopping || change_pending; });
    }
    first = false;
    if (stopping) {
      break;
    }
    change_pending = false;
    lock.unlock();
    auto published = publish();
    if (!published.ok()) {
      spdlog::error("publisher: generating the global configuration failed: {}",
                    published.error().to_string());
    } else if (published->registry_change_version != last_seen_change) {
      last_seen_change = published->registry_change_version;
      spdlog::info("publisher: published directory {} for registry version {}", published->id,
                   last_seen_change);
    }
    lock.lock();
  }
}

Status Publisher::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->running) {
    return ok_status();
  }
  Impl* impl = impl_.get();
  impl->subscription = impl->registry.subscribe([impl](std::int64_t) {
    {
      std::lock_guard l(impl->mu);
      impl->change_pending = true;
    }
    impl->cv.notify_all();
  });
  impl->stopping = false;
  impl->running = true;
  impl->worker = std::thread([impl] { impl->run(); });
  return ok_status();
}

void Publisher::stop() {
  std::thread worker;
  std::optional<std::uint64_t> subscription;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->running) {
      return;
    }
    impl_->stopping = true;
    impl_->running = false;
    worker = std::move(impl_->worker);
    subscription = impl_->subscription;
    impl_->subscription.reset();
  }
  impl_->cv.notify_all();
  if (subscription) {
    impl_->registry.unsubscribe(*subscription);
  }
  if (worker.joinable()) {
    worker.join();
  }
}

}  // namespace hansa::central
