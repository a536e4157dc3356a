// The node's global configuration client (PR-GCONF 2.2-2.7). See configuration_client.h.

#include "node/globalconf/configuration_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "core/crypto/certificate.h"
#include "core/globalconf/signed_directory.h"
#include "core/globalconf/xml_codec.h"
#include "core/mime/content_type.h"
#include "node/globalconf/configuration_store.h"

namespace hansa::confclient {
namespace {

namespace fs = std::filesystem;
namespace gc = globalconf;

constexpr std::string_view kAnchorFile = "configuration-anchor.xml";
constexpr std::string_view kConfDir = "conf";

// An http(s) URL split into the origin a Client connects to and the request target.
struct SplitUrl {
  std::string origin;  // "http://host[:port]"
  std::string target;  // "/path[?query]"
  bool https = false;
};

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') {
      a = static_cast<char>(a - 'A' + 'a');
    }
    if (a != prefix[i]) {
      return false;
    }
  }
  return true;
}

Result<SplitUrl> split_url(std::string_view url) {
  SplitUrl out;
  std::size_t scheme_len = 0;
  if (istarts_with(url, "http://")) {
    scheme_len = 7;
  } else if (istarts_with(url, "https://")) {
    scheme_len = 8;
    out.https = true;
  } else {
    return Error(FaultCode::kInvalidGlobalConf, "configuration URL is not http or https",
                 std::string(url));
  }
  std::string_view rest = url.substr(scheme_len);
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.empty() || authority.find('@') != std::string_view::npos ||
      authority.find_first_of(" \t\r\n") != std::string_view::npos) {
    return Error(FaultCode::kInvalidGlobalConf, "configuration URL has a bad host",
                 std::string(url));
  }
  out.origin = std::string(url.substr(0, scheme_len)) + std::string(authority);
  std::string_view target = end == std::string_view::npos ? "/" : rest.substr(end);
  if (std::size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  if (target.empty() || target[0] != '/') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

// PR-GCONF 2.4/2.7: the directory is asked for in the version this node supports.
std::string with_version(std::string target) {
  target += target.find('?') == std::string::npos ? "?version=" : "&version=";
  target += std::to_string(gc::kConfigurationVersion);
  return target;
}

// Content-location: an absolute URL, a path on the source's host, or a path relative to the
// directory's.
Result<SplitUrl> resolve_location(const SplitUrl& directory_url, std::string_view location) {
  if (istarts_with(location, "http://") || istarts_with(location, "https://")) {
    return split_url(location);
  }
  if (location.empty() || location.find_first_of(" \t\r\n") != std::string_view::npos) {
    return Error(FaultCode::kInvalidGlobalConf, "bad Content-location", std::string(location));
  }
  SplitUrl out = directory_url;
  if (location[0] == '/') {
    out.target = std::string(location);
  } else {
    std::string path = directory_url.target.substr(0, directory_url.target.find('?'));
    out.target = path.substr(0, path.rfind('/') + 1) + std::string(location);
  }
  return out;
}

// The anchor with every extra certificate added to each of its sources.
gc::ConfigurationAnchor with_extra_certs(gc::ConfigurationAnchor anchor,
                                         const std::vector<crypto::Certificate>& extra) {
  for (auto& source : anchor.sources) {
    for (const auto& cert : extra) {
      if (std::find(source.verification_certs.begin(), source.verification_certs.end(), cert) ==
          source.verification_certs.end()) {
        source.verification_certs.push_back(cert);
      }
    }
  }
  return anchor;
}

// Key rotation: the internal verification certificates the verified shared parameters of the own
// instance announce.
std::vector<crypto::Certificate> announced_certs(const gc::GlobalConfSnapshot* snapshot) {
  std::vector<crypto::Certificate> out;
  if (snapshot == nullptr) {
    return out;
  }
  for (const auto& source : snapshot->shared_parameters().sources) {
    for (const auto& cert : source.internal_verification_certs) {
      out.push_back(cert);
    }
  }
  return out;
}

Error with_context(Error e, std::string_view context) {
  e.message = std::string(context) + ": " + e.message;
  return e;
}

// A verified configuration ready to publish.
struct Loaded {
  std::shared_ptr<const gc::GlobalConfSnapshot> snapshot;
  int version = 0;
  TimePoint expires_at;
  std::vector<gc::DirectoryEntry> entries;
  StoredConfiguration stored;
};

// Parses the files of a verified directory (hashes already checked) into a snapshot
// (PR-GCONF 2.6 step 5).
Result<std::shared_ptr<const gc::GlobalConfSnapshot>> build_snapshot(
    const gc::SignedDirectory& dir, const std::vector<std::string>& files,
    const std::string& instance, const gc::GlobalConfLimits& limits) {
  std::optional<gc::PrivateParameters> priv;
  std::vector<gc::SharedParameters> shared;
  for (std::size_t i = 0; i < dir.entries.size(); ++i) {
    const gc::DirectoryEntry& entry = dir.entries[i];
    if (entry.content_identifier == gc::kPrivateParametersContentId) {
      auto parsed = gc::parse_private_parameters(files[i], limits);
      if (!parsed.ok()) {
        return with_context(std::move(parsed).error(), "private parameters");
      }
      if (parsed->instance_identifier != instance || priv.has_value()) {
        return Error(FaultCode::kInvalidGlobalConf, "directory lists unexpected private parameters",
                     parsed->instance_identifier);
      }
      priv = std::move(parsed).value();
    } else if (entry.content_identifier == gc::kSharedParametersContentId) {
      auto parsed = gc::parse_shared_parameters(files[i], limits);
      if (!parsed.ok()) {
        return with_context(std::move(parsed).error(), "shared parameters");
      }
      if ((entry.instance && *entry.instance != parsed->instance_identifier) ||
          std::any_of(shared.begin(), shared.end(), [&](const gc::SharedParameters& s) {
            return s.instance_identifier == parsed->instance_identifier;
          })) {
        return Error(FaultCode::kInvalidGlobalConf,
                     "shared parameters do not match their directory entry",
                     parsed->instance_identifier);
      }
      shared.push_back(std::move(parsed).value());
    }
    // Other content identifiers (monitoring parameters and the like) are not used by the node.
  }
  if (!priv) {
    return Error(FaultCode::kInvalidGlobalConf,
                 "directory lists no private parameters for the node's instance", instance);
  }
  if (std::none_of(shared.begin(), shared.end(), [&](const gc::SharedParameters& s) {
        return s.instance_identifier == instance;
      })) {
    return Error(FaultCode::kInvalidGlobalConf,
                 "directory lists no shared parameters for the node's instance", instance);
  }
  // Own instance first.
  std::stable_partition(shared.begin(), shared.end(), [&](const gc::SharedParameters& s) {
    return s.instance_identifier == instance;
  });
  return gc::GlobalConfSnapshot::create(std::move(priv), std::move(shared), dir.expires_at);
}

}  // namespace

struct ConfigurationClient::Impl {
  explicit Impl(ConfigurationClientOptions o)
      : options(std::move(o)),
        store(
            options.state_dir / kConfDir,
            StoreLimits{options.max_directory_bytes, options.max_file_bytes, options.max_entries}) {
  }

  ConfigurationClientOptions options;

  // Readers load it without locks; refresh and import store it.
  //
  // A mutex-guarded pointer copy rather than std::atomic<std::shared_ptr>: libstdc++ 12's atomic
  // shared_ptr unlocks with a relaxed store after load(), which ThreadSanitizer reports as a race
  // with the next store(). The lock only covers a pointer copy (never a download), so readers
  // wait at most for another pointer copy.
  class SnapshotSlot {
   public:
    [[nodiscard]] std::shared_ptr<const gc::GlobalConfSnapshot> load() const {
      std::lock_guard lock(mu_);
      return ptr_;
    }
    void store(std::shared_ptr<const gc::GlobalConfSnapshot> next) {
      std::shared_ptr<const gc::GlobalConfSnapshot> old;
      {
        std::lock_guard lock(mu_);
        old = std::exchange(ptr_, std::move(next));
      }
      // The old snapshot, when this was its last holder, is destroyed outside the lock.
    }

   private:
    mutable std::mutex mu_;
    std::shared_ptr<const gc::GlobalConfSnapshot> ptr_;
  };
  SnapshotSlot snapshot;

  // Serializes refresh(), import_anchor() and the store.
  std::mutex refresh_mu;
  ConfigurationStore store;

  // Guards anchor_, status_ and preferred_source_.
  mutable std::mutex mu;
  std::optional<gc::ConfigurationAnchor> anchor_;
  ConfigurationStatus status_;
  std::size_t preferred_source_ = 0;
  // The files of the configuration in use by digest (algorithm id + raw hash), so unchanged files
  // are not downloaded again. Only touched under refresh_mu.
  std::map<std::string, std::string> file_cache_;

  // Worker.
  std::mutex worker_mu;
  std::condition_variable worker_cv;
  bool stopping = false;
  std::thread worker;
  // Set by stop() so a download in progress gives up between requests.
  std::atomic<bool> cancelled{false};

  Status check_cancelled() const {
    if (cancelled.load()) {
      return Error(FaultCode::kNetworkError, "download cancelled: the client is stopping");
    }
    return ok_status();
  }

  gc::DirectoryVerifyOptions verify_options() const {
    gc::DirectoryVerifyOptions o;
    o.now = options.clock();
    o.accepted_versions = {gc::kConfigurationVersion};
    o.max_directory_bytes = options.max_directory_bytes;
    o.max_entries = options.max_entries;
    o.mime_limits.max_part_count = options.max_entries + 2;
    o.mime_limits.max_part_size = options.max_directory_bytes;
    o.mime_limits.max_total_size = options.max_directory_bytes;
    return o;
  }

  gc::GlobalConfLimits file_limits() const {
    gc::GlobalConfLimits l;
    l.max_file_bytes = options.max_file_bytes;
    return l;
  }

  http::ClientOptions client_options(std::size_t max_body, bool https) const {
    http::ClientOptions o;
    o.connect_timeout = options.connect_timeout;
    o.read_timeout = options.read_timeout;
    o.write_timeout = options.read_timeout;
    o.total_timeout = options.total_timeout;
    o.max_response_body_bytes = max_body;
    o.keep_alive = true;
    if (https && options.https_tls) {
      o.tls = *options.https_tls;
    }
    return o;
  }

  // Verifies a signed directory (signature, version, expiry, instance; PR-GCONF 2.6 step 3).
  Result<gc::SignedDirectory> verify_directory(const gc::ConfigurationAnchor& trusted,
                                               std::string_view directory_file) const {
    auto dir = gc::verify_signed_directory_file(directory_file, trusted, verify_options());
    if (!dir.ok()) {
      Error e = std::move(dir).error();
      if (e.message == "unsupported configuration version") {
        e.message = "configuration version " + e.detail + " is not supported (this node reads " +
                    std::to_string(gc::kConfigurationVersion) + ")";
      }
      return with_context(std::move(e), "signed directory");
    }
    return dir;
  }

  // Checks the files of a verified directory against their hashes (step 4) and builds the
  // snapshot.
  Result<Loaded> verify_files(const gc::SignedDirectory& dir, const std::string& instance,
                              std::string directory_file, std::vector<std::string> files,
                              std::string source_url) const {
    if (files.size() != dir.entries.size()) {
      return Error(FaultCode::kInvalidGlobalConf, "directory and files do not match");
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (auto st = gc::verify_file(dir.entries[i], files[i]); !st.ok()) {
        return with_context(std::move(st).error(), dir.entries[i].content_location);
      }
    }
    HANSA_ASSIGN_OR_RETURN(auto snap, build_snapshot(dir, files, instance, file_limits()));
    Loaded out;
    out.snapshot = std::move(snap);
    out.version = dir.version;
    out.expires_at = dir.expires_at;
    out.entries = dir.entries;
    out.stored.directory = std::move(directory_file);
    out.stored.files = std::move(files);
    out.stored.verified_by_pem = dir.verification_cert ? dir.verification_cert->pem() : "";
    out.stored.source_url = std::move(source_url);
    return out;
  }

  // Downloads from one source (PR-GCONF 2.6).
  Result<Loaded> download_from(const gc::ConfigurationAnchor& trusted,
                               const gc::AnchorSource& source) const {
    HANSA_ASSIGN_OR_RETURN(SplitUrl url, split_url(source.download_url));
    if (url.https && !options.https_tls) {
      return Error(FaultCode::kInvalidConfiguration,
                   "no TLS trust configured for https configuration sources");
    }
    HANSA_ASSIGN_OR_RETURN(
        auto dir_client,
        http::Client::create(url.origin, client_options(options.max_directory_bytes, url.https)));
    HANSA_ASSIGN_OR_RETURN(auto response, dir_client->get(with_version(url.target)));
    if (response.status == 404) {
      return Error(FaultCode::kInvalidGlobalConf,
                   "the source does not serve configuration version " +
                       std::to_string(gc::kConfigurationVersion),
                   "HTTP 404");
    }
    if (response.status != 200) {
      return Error(FaultCode::kNetworkError,
                   "the source answered HTTP " + std::to_string(response.status));
    }
    auto content_type = response.header("Content-Type");
    if (!content_type || content_type->find_first_of("\r\n") != std::string_view::npos) {
      return Error(FaultCode::kMalformedGlobalConf, "the directory has no Content-Type");
    }
    std::string directory_file =
        "Content-Type: " + std::string(*content_type) + "\r\n\r\n" + response.body;

    // The signature and entries are checked before any file is fetched.
    HANSA_ASSIGN_OR_RETURN(gc::SignedDirectory dir, verify_directory(trusted, directory_file));
    std::vector<std::string> files;
    std::size_t total = 0;
    // Files go through a separate client so their larger cap does not apply to directories.
    std::map<std::string, std::unique_ptr<http::Client>> file_clients;
    for (const auto& entry : dir.entries) {
      if (auto cached = file_cache_.find(cache_key(entry)); cached != file_cache_.end()) {
        total += cached->second.size();
        files.push_back(cached->second);
        continue;
      }
      HANSA_RETURN_IF_ERROR(check_cancelled());
      HANSA_ASSIGN_OR_RETURN(SplitUrl loc, resolve_location(url, entry.content_location));
      auto it = file_clients.find(loc.origin);
      if (it == file_clients.end()) {
        if (loc.https && !options.https_tls) {
          return Error(FaultCode::kInvalidConfiguration,
                       "no TLS trust configured for https configuration sources", loc.origin);
        }
        HANSA_ASSIGN_OR_RETURN(
            auto c,
            http::Client::create(loc.origin, client_options(options.max_file_bytes, loc.https)));
        it = file_clients.emplace(loc.origin, std::move(c)).first;
      }
      auto file = it->second->get(loc.target);
      if (!file.ok()) {
        return with_context(std::move(file).error(), entry.content_location);
      }
      if (file->status != 200) {
        return Error(FaultCode::kNetworkError,
                     "the source answered HTTP " + std::to_string(file->status),
                     entry.content_location);
      }
      total += file->body.size();
      if (total > options.max_total_bytes) {
        return Error(FaultCode::kLimitExceeded, "configuration files exceed max_total_bytes");
      }
      files.push_back(std::move(file->body));
    }
    return verify_files(dir, trusted.instance_identifier, std::move(directory_file),
                        std::move(files), source.download_url);
  }

  static std::string cache_key(const gc::DirectoryEntry& entry) {
    return std::string(crypto::digest_id(entry.hash_algorithm)) + " " + entry.hash;
  }

  // Publishes a verified configuration and records the success. Called under refresh_mu.
  void publish(Loaded loaded, std::optional<std::size_t> source_index) {
    TimePoint now = options.clock();
    file_cache_.clear();
    for (std::size_t i = 0; i < loaded.entries.size() && i < loaded.stored.files.size(); ++i) {
      file_cache_[cache_key(loaded.entries[i])] = loaded.stored.files[i];
    }
    snapshot.store(loaded.snapshot);
    std::lock_guard lock(mu);
    status_.last_attempt = now;
    status_.last_success = now;
    status_.last_error.reset();
    status_.consecutive_failures = 0;
    status_.version = loaded.version;
    status_.expires_at = loaded.expires_at;
    status_.source_url = loaded.stored.source_url;
    if (source_index) {
      preferred_source_ = *source_index;
    }
  }

  void record_failure(const Error& error) {
    TimePoint now = options.clock();
    std::lock_guard lock(mu);
    status_.last_attempt = now;
    status_.last_error = error;
    ++status_.consecutive_failures;
  }

  // Reads and verifies the stored copy (on open).
  void load_from_disk() {
    std::optional<gc::ConfigurationAnchor> anchor;
    {
      std::lock_guard lock(mu);
      anchor = anchor_;
    }
    if (!anchor) {
      return;
    }
    auto stored = store.load();
    if (!stored.ok()) {
      Error e = with_context(std::move(stored).error(), "stored configuration");
      spdlog::warn("globalconf: {}", e.to_string());
      record_failure(e);
      return;
    }
    if (!stored->has_value()) {
      return;
    }
    StoredConfiguration conf = std::move(**stored);
    std::vector<crypto::Certificate> extra;
    if (!conf.verified_by_pem.empty()) {
      auto cert = crypto::Certificate::from_pem(conf.verified_by_pem);
      if (cert.ok()) {
        extra.push_back(std::move(cert).value());
      }
    }
    auto dir = verify_directory(with_extra_certs(*anchor, extra), conf.directory);
    Result<Loaded> loaded =
        dir.ok() ? verify_files(*dir, anchor->instance_identifier, std::move(conf.directory),
                                std::move(conf.files), std::move(conf.source_url))
                 : Result<Loaded>(dir.error());
    if (!loaded.ok()) {
      Error e = with_context(std::move(loaded).error(), "stored configuration");
      spdlog::warn("globalconf: {}", e.to_string());
      record_failure(e);
      return;
    }
    spdlog::info("globalconf: loaded the stored configuration of {} (version {}, expires {})",
                 anchor->instance_identifier, loaded->version, gc::format_utc(loaded->expires_at));
    publish(std::move(loaded).value(), std::nullopt);
  }

  Status refresh() {
    std::lock_guard refresh_lock(refresh_mu);
    std::optional<gc::ConfigurationAnchor> anchor;
    std::size_t preferred = 0;
    {
      std::lock_guard lock(mu);
      anchor = anchor_;
      preferred = preferred_source_;
    }
    if (!anchor) {
      Error e(FaultCode::kInvalidConfiguration, "no configuration anchor has been imported");
      record_failure(e);
      return e;
    }
    auto current = snapshot.load();
    gc::ConfigurationAnchor trusted = with_extra_certs(*anchor, announced_certs(current.get()));

    std::vector<std::size_t> order;
    if (preferred < anchor->sources.size()) {
      order.push_back(preferred);
    }
    for (std::size_t i = 0; i < anchor->sources.size(); ++i) {
      if (i != preferred) {
        order.push_back(i);
      }
    }
    std::optional<Error> first_error;
    std::string failures;
    for (std::size_t i : order) {
      if (auto st = check_cancelled(); !st.ok()) {
        if (!first_error) {
          first_error = st.error();
        }
        break;
      }
      const auto& source = trusted.sources[i];
      auto loaded = download_from(trusted, source);
      if (!loaded.ok()) {
        const Error& e = loaded.error();
        spdlog::warn("globalconf: download from {} failed, keeping the current configuration: {}",
                     source.download_url, e.to_string());
        if (!failures.empty()) {
          failures += "; ";
        }
        failures += source.download_url + ": " + e.to_string();
        if (!first_error) {
          first_error = e;
        }
        continue;
      }
      // Persist first: the stored copy is never older than what is in use after a restart.
      if (auto st = store.save(loaded->stored); !st.ok()) {
        spdlog::error("globalconf: saving the configuration failed: {}", st.error().to_string());
        publish(std::move(loaded).value(), i);
        Error e = with_context(st.error(), "configuration is in use but could not be saved");
        record_failure(e);
        return e;
      }
      spdlog::debug("globalconf: configuration of {} from {} (version {}, expires {})",
                    anchor->instance_identifier, source.download_url, loaded->version,
                    gc::format_utc(loaded->expires_at));
      publish(std::move(loaded).value(), i);
      return ok_status();
    }
    Error e = *first_error;
    if (order.size() > 1) {
      e.detail = failures;
    }
    record_failure(e);
    return e;
  }

  Result<gc::ConfigurationAnchor> import_anchor(std::string_view xml, bool replace_instance) {
    if (xml.size() > options.max_anchor_bytes) {
      return Error(FaultCode::kLimitExceeded, "anchor file is too large",
                   std::to_string(xml.size()) + " bytes");
    }
    gc::GlobalConfLimits limits;
    limits.max_file_bytes = options.max_anchor_bytes;
    auto parsed = gc::parse_configuration_anchor(xml, limits);
    if (!parsed.ok()) {
      Error e = with_context(std::move(parsed).error(), "configuration anchor");
      spdlog::warn("globalconf: anchor refused: {}", e.to_string());
      return e;
    }
    if (parsed->sources.empty()) {
      return Error(FaultCode::kInvalidGlobalConf, "configuration anchor lists no sources");
    }
    for (const auto& source : parsed->sources) {
      HANSA_RETURN_IF_ERROR(split_url(source.download_url));
      if (source.verification_certs.empty()) {
        return Error(FaultCode::kInvalidGlobalConf, "anchor source has no verification certificate",
                     source.download_url);
      }
    }
    std::lock_guard refresh_lock(refresh_mu);
    bool instance_changed = false;
    {
      std::lock_guard lock(mu);
      if (anchor_ && anchor_->instance_identifier != parsed->instance_identifier) {
        if (!replace_instance) {
          Error e(FaultCode::kConflict,
                  "the anchor is for instance " + parsed->instance_identifier +
                      " but this node belongs to " + anchor_->instance_identifier,
                  "import it explicitly as a replacement to change instance");
          spdlog::warn("globalconf: anchor refused: {}", e.to_string());
          status_.last_error = e;
          return e;
        }
        instance_changed = true;
      }
    }
    HANSA_RETURN_IF_ERROR(
        ConfigurationStore::write_file_atomic(options.state_dir / kAnchorFile, xml));
    if (instance_changed) {
      snapshot.store(nullptr);
      file_cache_.clear();
      if (auto st = store.clear(); !st.ok()) {
        spdlog::warn("globalconf: {}", st.error().to_string());
      }
    }
    std::lock_guard lock(mu);
    if (instance_changed) {
      status_ = ConfigurationStatus{};
    }
    anchor_ = *parsed;
    status_.instance_identifier = parsed->instance_identifier;
    preferred_source_ = 0;
    spdlog::info("globalconf: anchor of instance {} imported ({} sources, hash {})",
                 parsed->instance_identifier, parsed->sources.size(),
                 gc::configuration_anchor_hash(xml));
    return std::move(parsed).value();
  }

  void worker_loop() {
    std::unique_lock lock(worker_mu);
    while (!stopping) {
      lock.unlock();
      (void)refresh();
      lock.lock();
      worker_cv.wait_for(lock, options.refresh_interval, [&] { return stopping; });
    }
  }
};

ConfigurationClient::ConfigurationClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ConfigurationClient::~ConfigurationClient() { stop(); }

Result<std::unique_ptr<ConfigurationClient>> ConfigurationClient::open(
    ConfigurationClientOptions options) {
  if (options.state_dir.empty()) {
    return Error(FaultCode::kInvalidConfiguration, "globalconf state_dir is empty");
  }
  if (options.refresh_interval.count() <= 0 || options.connect_timeout.count() <= 0 ||
      options.read_timeout.count() <= 0 || options.total_timeout.count() <= 0 ||
      options.max_directory_bytes == 0 || options.max_file_bytes == 0 ||
      options.max_total_bytes == 0 || options.max_entries == 0 || options.max_anchor_bytes == 0 ||
      !options.clock) {
    return Error(FaultCode::kInvalidConfiguration,
                 "globalconf intervals, timeouts and limits must be positive");
  }
  std::error_code ec;
  fs::create_directories(options.state_dir, ec);
  if (ec) {
    return Error(FaultCode::kIoError, "cannot create the globalconf state directory",
                 options.state_dir.string() + ": " + ec.message());
  }
  auto impl = std::make_unique<Impl>(std::move(options));
  fs::path anchor_path = impl->options.state_dir / kAnchorFile;
  if (fs::exists(anchor_path, ec)) {
    auto xml = ConfigurationStore::read_file(anchor_path, impl->options.max_anchor_bytes);
    Result<gc::ConfigurationAnchor> anchor = xml.ok()
                                                 ? gc::parse_configuration_anchor(*xml)
                                                 : Result<gc::ConfigurationAnchor>(xml.error());
    if (!anchor.ok()) {
      // The operator has to import the anchor again; the node stays without configuration.
      Error e = with_context(std::move(anchor).error(), "stored configuration anchor");
      spdlog::error("globalconf: {}", e.to_string());
      impl->record_failure(e);
    } else {
      impl->status_.instance_identifier = anchor->instance_identifier;
      impl->anchor_ = std::move(anchor).value();
      impl->load_from_disk();
    }
  }
  return std::unique_ptr<ConfigurationClient>(new ConfigurationClient(std::move(impl)));
}

Result<gc::ConfigurationAnchor> ConfigurationClient::import_anchor(std::string_view anchor_xml,
                                                                   bool replace_instance) {
  return impl_->import_anchor(anchor_xml, replace_instance);
}

std::optional<gc::ConfigurationAnchor> ConfigurationClient::anchor() const {
  std::lock_guard lock(impl_->mu);
  return impl_->anchor_;
}

Status ConfigurationClient::refresh() { return impl_->refresh(); }

std::shared_ptr<const gc::GlobalConfSnapshot> ConfigurationClient::current() const noexcept {
  return impl_->snapshot.load();
}

Status ConfigurationClient::check_usable(TimePoint now) const {
  auto snap = impl_->snapshot.load();
  if (!snap) {
    return Error(FaultCode::kOutdatedGlobalConf, "no global configuration has been loaded");
  }
  return snap->check_valid(now);
}

Status ConfigurationClient::check_usable() const { return check_usable(impl_->options.clock()); }

ConfigurationStatus ConfigurationClient::status() const {
  TimePoint now = impl_->options.clock();
  auto snap = impl_->snapshot.load();
  std::lock_guard lock(impl_->mu);
  ConfigurationStatus out = impl_->status_;
  out.usable = snap != nullptr && snap->check_valid(now).ok();
  return out;
}

void ConfigurationClient::start() {
  std::lock_guard lock(impl_->worker_mu);
  if (impl_->worker.joinable()) {
    return;
  }
  impl_->stopping = false;
  impl_->cancelled = false;
  impl_->worker = std::thread([impl = impl_.get()] { impl->worker_loop(); });
}

void ConfigurationClient::stop() {
  std::thread worker;
  {
    std::lock_guard lock(impl_->worker_mu);
    impl_->stopping = true;
    if (impl_->worker.joinable()) {
      impl_->cancelled = true;
    }
    worker = std::move(impl_->worker);
  }
  impl_->worker_cv.notify_all();
  if (worker.joinable()) {
    worker.join();
    impl_->cancelled = false;
  }
}

}  // namespace hansa::confclient
