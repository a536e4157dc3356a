// The node's configuration client (PR-GCONF 2.2-2.7) against an in-process configuration source:
// X-Road's vector directory, Hansa-built directories, key rotation, every hostile case of issue 5
// (the last good configuration is kept and the status says why), restart from disk, atomic
// persistence and readers racing refreshes.

#include "node/globalconf/configuration_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/globalconf/signed_directory.h"
#include "core/globalconf/xml_codec.h"
#include "core/http/server.h"
#include "node/globalconf/configuration_store.h"
#include "tests/unit/core/globalconf/test_files.h"

namespace hansa::confclient {
namespace {

namespace fs = std::filesystem;
namespace gc = globalconf;
using gc::testing::pki_cert;
using gc::testing::pki_key;
using gc::testing::vector_file;

TimePoint at(std::string_view text) { return gc::parse_utc(text).value(); }

// A fresh temporary directory per test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("hansa-confclient-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A configuration source: serves a directory at /internalconf and files at their locations.
class FakeCentral {
 public:
  FakeCentral() {
    server_ = http::Server::create({}).value();
    server_->route("GET", "/internalconf", [this](const http::Request& req, http::Response& res) {
      std::unique_lock lock(mu_);
      ++directory_hits_;
      last_version_query_ = req.query("version").value_or("");
      if (hang_) {
        cv_.wait_for(lock, std::chrono::seconds(20), [&] { return !hang_; });
      }
      if (directory_status_ != 200) {
        res.status = directory_status_;
        return;
      }
      if (req.query("version") != std::to_string(served_version_)) {
        res.status = 404;
        return;
      }
      res.set_body(directory_body_, directory_type_);
    });
    server_->route("GET", "/V6/*", [this](const http::Request& req, http::Response& res) {
      std::lock_guard lock(mu_);
      ++file_hits_;
      auto it = files_.find(std::string(req.path()));
      if (it == files_.end()) {
        res.status = 404;
        return;
      }
      res.set_body(it->second, "application/octet-stream");
    });
    EXPECT_TRUE(server_->start().ok());
  }
  ~FakeCentral() { stop(); }

  void stop() {
    set_hang(false);
    server_->stop();
  }

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/internalconf";
  }

  void serve_directory(std::string content_type, std::string body) {
    std::lock_guard lock(mu_);
    directory_type_ = std::move(content_type);
    directory_body_ = std::move(body);
  }
  // A stored directory file ("Content-Type: ...\r\n\r\n" + body).
  void serve_directory_file(std::string_view file) {
    std::size_t split = file.find("\r\n\r\n");
    ASSERT_NE(split, std::string_view::npos);
    std::string_view header = file.substr(0, split);
    ASSERT_TRUE(header.starts_with("Content-Type: "));
    serve_directory(std::string(header.substr(14)), std::string(file.substr(split + 4)));
  }
  void serve_file(std::string location, std::string bytes) {
    std::lock_guard lock(mu_);
    files_[std::move(location)] = std::move(bytes);
  }
  void remove_file(const std::string& location) {
    std::lock_guard lock(mu_);
    files_.erase(location);
  }
  void set_hang(bool hang) {
    {
      std::lock_guard lock(mu_);
      hang_ = hang;
    }
    cv_.notify_all();
  }
  void set_directory_status(int status) {
    std::lock_guard lock(mu_);
    directory_status_ = status;
  }
  void set_served_version(int version) {
    std::lock_guard lock(mu_);
    served_version_ = version;
  }
  [[nodiscard]] int directory_hits() const {
    std::lock_guard lock(mu_);
    return directory_hits_;
  }
  [[nodiscard]] int file_hits() const {
    std::lock_guard lock(mu_);
    return file_hits_;
  }
  [[nodiscard]] std::string last_version_query() const {
    std::lock_guard lock(mu_);
    return last_version_query_;
  }

 private:
  std::unique_ptr<http::Server> server_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string directory_type_;
  std::string directory_body_;
  std::map<std::string, std::string> files_;
  bool hang_ = false;
  int directory_status_ = 200;
  int served_version_ = 6;
  int directory_hits_ = 0;
  int file_hits_ = 0;
  std::string last_version_query_;
};

// A clock tests move by hand.
class TestClock {
 public:
  explicit TestClock(TimePoint t) : now_(t.time_since_epoch().count()) {}
  [[nodiscard]] TimePoint now() const { return TimePoint(TimePoint::duration(now_.load())); }
  void set(TimePoint t) { now_ = t.time_since_epoch().count(); }
  [[nodiscard]] std::function<TimePoint()> fn() {
    return [this] { return now(); };
  }

 private:
  std::atomic<TimePoint::rep> now_;
};

ConfigurationClientOptions fast_options(const fs::path& dir, TestClock& clock) {
  ConfigurationClientOptions o;
  o.state_dir = dir;
  o.connect_timeout = std::chrono::milliseconds(1'000);
  o.read_timeout = std::chrono::milliseconds(500);
  o.total_timeout = std::chrono::milliseconds(1'500);
  o.clock = clock.fn();
  return o;
}

std::string anchor_xml(std::string instance, std::vector<std::string> urls,
                       std::vector<crypto::Certificate> certs) {
  gc::ConfigurationAnchor a;
  a.generated_at = at("2026-01-01T00:00:00Z");
  a.instance_identifier = std::move(instance);
  for (auto& url : urls) {
    a.sources.push_back(gc::AnchorSource{std::move(url), certs});
  }
  return gc::write_configuration_anchor(a).value();
}

// --- X-Road's vector directory ---

class XRoadVector : public ::testing::Test {
 protected:
  void SetUp() override {
    central_.serve_directory_file(vector_file("gconf-v6-internalconf.mime"));
    central_.serve_file("/V6/20251110170000548026000/shared-params.xml",
                        vector_file("gconf-v6-shared-params.xml"));
    central_.serve_file("/V6/20251110170000548026000/private-params.xml",
                        vector_file("gconf-v6-private-params.xml"));
    // X-Road's anchor with its download URLs pointing at the test source (the certificates and
    // instance are X-Road's).
    auto anchor = gc::parse_configuration_anchor(vector_file("gconf-v6-configuration-anchor.xml"));
    ASSERT_TRUE(anchor.ok()) << anchor.error().to_string();
    ASSERT_EQ(anchor->sources.size(), 2u);
    for (auto& source : anchor->sources) {
      source.download_url = central_.url();
    }
    anchor_ = gc::write_configuration_anchor(*anchor).value();
  }

  TempDir dir_;
  FakeCentral central_;
  std::string anchor_;
};

TEST_F(XRoadVector, LoadsAndVerifiesTheVectorDirectory) {
  TestClock clock(at("2026-01-01T00:00:00Z"));
  auto client = ConfigurationClient::open(fast_options(dir_.path(), clock)).value();
  auto imported = client->import_anchor(anchor_);
  ASSERT_TRUE(imported.ok()) << imported.error().to_string();
  EXPECT_EQ(imported->instance_identifier, "DEV");

  auto st = client->refresh();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(central_.last_version_query(), "6");
  auto snap = client->current();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->instance_identifier(), "DEV");
  EXPECT_EQ(snap->server_address(ids::SecurityServerId::parse("SERVER:DEV/COM/1234/SS0").value()),
            "ss0");
  EXPECT_EQ(snap->management_service()->auth_cert_reg_service_address,
            "https://cs:4001/managementservice/");

  ConfigurationStatus status = client->status();
  EXPECT_TRUE(status.usable);
  EXPECT_EQ(status.instance_identifier, "DEV");
  EXPECT_EQ(status.version, 6);
  EXPECT_EQ(gc::format_utc(*status.expires_at), "2035-11-11T03:07:40Z");
  EXPECT_EQ(status.source_url, central_.url());
  EXPECT_EQ(status.last_success, clock.now());
  EXPECT_FALSE(status.last_error.has_value());

  EXPECT_TRUE(client->check_usable(at("2035-11-11T03:07:39Z")).ok());
  EXPECT_EQ(client->check_usable(at("2035-11-11T03:07:40Z")).error().code,
            FaultCode::kOutdatedGlobalConf);
  // Time passes on the client's own clock too.
  clock.set(at("2035-11-12T00:00:00Z"));
  EXPECT_EQ(client->check_usable().error().code, FaultCode::kOutdatedGlobalConf);
  EXPECT_FALSE(client->status().usable);
}

TEST_F(XRoadVector, AfterItsExpiryTheVectorIsOutdated) {
  TestClock clock(at("2035-11-11T03:07:40Z"));
  auto client = ConfigurationClient::open(fast_options(dir_.path(), clock)).value();
  ASSERT_TRUE(client->import_anchor(anchor_).ok());
  auto st = client->refresh();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kOutdatedGlobalConf);
  EXPECT_EQ(client->current(), nullptr);
  EXPECT_EQ(client->check_usable().error().code, FaultCode::kOutdatedGlobalConf);
  ConfigurationStatus status = client->status();
  ASSERT_TRUE(status.last_error.has_value());
  EXPECT_EQ(status.last_error->code, FaultCode::kOutdatedGlobalConf);
  EXPECT_FALSE(status.last_success.has_value());
  EXPECT_FALSE(status.usable);
}

// --- Hansa-built directories (development PKI) ---

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rsa_ = gc::SigningKey{pki_key("central/conf-signing.key"), pki_cert("central/conf-signing.pem"),
                          crypto::SignatureAlgorithm::kRsaSha512};
    ec_ = gc::SigningKey{pki_key("untrusted/sign.key"), pki_cert("untrusted/sign.pem"),
                         crypto::SignatureAlgorithm::kEcdsaSha512};
    shared_ = gc::parse_shared_parameters(vector_file("gconf-v6-shared-params.xml")).value();
    private_ = gc::parse_private_parameters(vector_file("gconf-v6-private-params.xml")).value();
    shared_.sources[0].internal_verification_certs = {rsa_->cert};
  }

  // Builds and serves a configuration; `stamp` makes the file locations unique.
  struct Published {
    std::string directory_file;
    std::string shared_location;
    std::string shared_xml;
    std::string private_location;
    std::string private_xml;
  };
  Published publish(const gc::SigningKey& key, TimePoint expires, int version = 6,
                    std::string stamp = "20260101000000000000000") {
    Published p;
    p.shared_xml = gc::write_shared_parameters(shared_).value();
    p.private_xml = gc::write_private_parameters(*private_).value();
    p.shared_location = "/V6/" + stamp + "/shared-params.xml";
    p.private_location = "/V6/" + stamp + "/private-params.xml";
    std::vector<gc::DirectoryFile> files = {
        {std::string(gc::kPrivateParametersContentId), "DEV", p.private_location, p.private_xml},
        {std::string(gc::kSharedParametersContentId), "DEV", p.shared_location, p.shared_xml},
    };
    gc::DirectoryBuildOptions build;
    build.expires_at = expires;
    build.version = version;
    auto built = gc::build_signed_directory(files, key, build);
    EXPECT_TRUE(built.ok()) << built.error().to_string();
    p.directory_file = built->to_file();
    central_.serve_file(p.shared_location, p.shared_xml);
    central_.serve_file(p.private_location, p.private_xml);
    central_.serve_directory(built->content_type.to_string(), built->body);
    return p;
  }

  std::unique_ptr<ConfigurationClient> open_client() {
    auto client = ConfigurationClient::open(fast_options(dir_.path(), clock_));
    EXPECT_TRUE(client.ok()) << client.error().to_string();
    return std::move(client).value();
  }

  // A client holding a good configuration (expires 10 minutes after the clock).
  std::unique_ptr<ConfigurationClient> loaded_client() {
    publish(*rsa_, clock_.now() + std::chrono::minutes(10));
    auto client = open_client();
    EXPECT_TRUE(client->import_anchor(anchor_xml("DEV", {central_.url()}, {rsa_->cert})).ok());
    auto st = client->refresh();
    EXPECT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_NE(client->current(), nullptr);
    return client;
  }

  // After a refused download: the old snapshot is still current, the stored copy unchanged and
  // the status names the error.
  void expect_kept(ConfigurationClient& client,
                   const std::shared_ptr<const gc::GlobalConfSnapshot>& before, FaultCode code,
                   bool after_download = true) {
    EXPECT_EQ(client.current(), before);
    EXPECT_TRUE(client.check_usable().ok());
    ConfigurationStatus status = client.status();
    EXPECT_TRUE(status.usable);
    ASSERT_TRUE(status.last_error.has_value());
    EXPECT_EQ(status.last_error->code, code) << status.last_error->to_string();
    EXPECT_EQ(status.expires_at, before->expires_at());
    if (after_download) {
      EXPECT_GE(status.consecutive_failures, 1u);
      EXPECT_LT(*status.last_success, *status.last_attempt);
    }
    // The stored copy is still the good one: a restart loads it.
    auto reopened = ConfigurationClient::open(fast_options(dir_.path(), clock_)).value();
    ASSERT_NE(reopened->current(), nullptr);
    EXPECT_EQ(reopened->current()->expires_at(), before->expires_at());
  }

  Status refresh_later(ConfigurationClient& client) {
    clock_.set(clock_.now() + std::chrono::seconds(1));
    return client.refresh();
  }

  TestClock clock_{at("2026-01-01T00:00:00Z")};
  TempDir dir_;
  FakeCentral central_;
  std::optional<gc::SigningKey> rsa_;
  std::optional<gc::SigningKey> ec_;
  gc::SharedParameters shared_;
  std::optional<gc::PrivateParameters> private_;
};

TEST_F(ClientTest, DownloadsVerifiesAndRefreshes) {
  auto client = loaded_client();
  auto first = client->current();
  EXPECT_EQ(client->status().expires_at, clock_.now() + std::chrono::minutes(10));
  // The next directory (later expiry, new files) replaces it; holders of the old one keep it.
  clock_.set(clock_.now() + std::chrono::minutes(1));
  publish(*rsa_, clock_.now() + std::chrono::minutes(10), 6, "20260101000100000000000");
  ASSERT_TRUE(client->refresh().ok());
  auto second = client->current();
  EXPECT_NE(first, second);
  EXPECT_EQ(second->expires_at(), clock_.now() + std::chrono::minutes(10));
  EXPECT_EQ(first->expires_at(), clock_.now() + std::chrono::minutes(9));
  EXPECT_EQ(first->instance_identifier(), "DEV");
}

TEST_F(ClientTest, UnchangedFilesAreNotDownloadedAgain) {
  auto client = loaded_client();
  EXPECT_EQ(central_.file_hits(), 2);
  // Central re-signs the same files with a later expiry (its usual interval refresh).
  clock_.set(clock_.now() + std::chrono::minutes(1));
  publish(*rsa_, clock_.now() + std::chrono::minutes(10));
  ASSERT_TRUE(client->refresh().ok());
  EXPECT_EQ(central_.file_hits(), 2);
  EXPECT_EQ(client->current()->expires_at(), clock_.now() + std::chrono::minutes(10));
  // A changed file is fetched; the unchanged one is not.
  private_->time_stamping_interval_seconds = 120;
  publish(*rsa_, clock_.now() + std::chrono::minutes(11), 6, "20260101000100000000000");
  ASSERT_TRUE(client->refresh().ok());
  EXPECT_EQ(central_.file_hits(), 3);
  EXPECT_EQ(client->current()->time_stamping_interval_seconds(), 120);
  // The stored copy holds every file.
  auto reopened = open_client();
  ASSERT_NE(reopened->current(), nullptr);
  EXPECT_EQ(reopened->current()->time_stamping_interval_seconds(), 120);
}

TEST_F(ClientTest, WithoutAnchorNothingIsUsable) {
  auto client = open_client();
  EXPECT_EQ(client->refresh().error().code, FaultCode::kInvalidConfiguration);
  EXPECT_EQ(client->check_usable().error().code, FaultCode::kOutdatedGlobalConf);
  EXPECT_FALSE(client->anchor().has_value());
  EXPECT_EQ(client->status().last_error->code, FaultCode::kInvalidConfiguration);
}

TEST_F(ClientTest, MalformedAnchorsAreRefused) {
  auto client = open_client();
  EXPECT_EQ(client->import_anchor("<not xml").error().code, FaultCode::kMalformedGlobalConf);
  EXPECT_EQ(client->import_anchor(anchor_xml("DEV", {"ftp://cs/internalconf"}, {rsa_->cert}))
                .error()
                .code,
            FaultCode::kInvalidGlobalConf);
  EXPECT_EQ(client->import_anchor(std::string(2 * 1024 * 1024, ' ')).error().code,
            FaultCode::kLimitExceeded);
  EXPECT_FALSE(client->anchor().has_value());
  EXPECT_FALSE(fs::exists(dir_.path() / "configuration-anchor.xml"));
}

// Hostile: an anchor for another instance.
TEST_F(ClientTest, AnchorOfAnotherInstanceIsRefusedUnlessReplacing) {
  auto client = loaded_client();
  auto before = client->current();
  std::string other = anchor_xml("EE", {central_.url()}, {rsa_->cert});
  auto refused = client->import_anchor(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, FaultCode::kConflict);
  EXPECT_EQ(client->anchor()->instance_identifier, "DEV");
  expect_kept(*client, before, FaultCode::kConflict, /*after_download=*/false);

  // Replacing explicitly drops the old instance's configuration; DEV's directory is then refused.
  auto replaced = client->import_anchor(other, /*replace_instance=*/true);
  ASSERT_TRUE(replaced.ok()) << replaced.error().to_string();
  EXPECT_EQ(client->current(), nullptr);
  EXPECT_EQ(client->status().instance_identifier, "EE");
  EXPECT_EQ(client->refresh().error().code, FaultCode::kInvalidGlobalConf);
  EXPECT_EQ(client->current(), nullptr);
  auto reopened = open_client();
  EXPECT_EQ(reopened->anchor()->instance_identifier, "EE");
  EXPECT_EQ(reopened->current(), nullptr);
}

// Hostile: a directory whose signature does not verify.
TEST_F(ClientTest, BadSignatureKeepsTheLastGoodConfiguration) {
  auto client = loaded_client();
  auto before = client->current();
  // Signed by a key the anchor and the configuration do not know.
  publish(*ec_, clock_.now() + std::chrono::minutes(20), 6, "20260101000200000000000");
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kInvalidGlobalConf);
  expect_kept(*client, before, FaultCode::kInvalidGlobalConf);

  // Signed by the right key, then changed (a later Expire-date).
  Published p =
      publish(*rsa_, clock_.now() + std::chrono::minutes(20), 6, "20260101000300000000000");
  std::string file = p.directory_file;
  std::string expire = "Expire-date: " + gc::format_utc(clock_.now() + std::chrono::minutes(20));
  std::size_t pos = file.find(expire);
  ASSERT_NE(pos, std::string::npos);
  file.replace(pos, expire.size(),
               "Expire-date: " + gc::format_utc(clock_.now() + std::chrono::hours(24 * 365)));
  central_.serve_directory_file(file);
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kInvalidGlobalConf);
  expect_kept(*client, before, FaultCode::kInvalidGlobalConf);
}

// Hostile: a file whose hash does not match.
TEST_F(ClientTest, HashMismatchKeepsTheLastGoodConfiguration) {
  auto client = loaded_client();
  auto before = client->current();
  // New content, so the file is downloaded (unchanged files are reused).
  shared_.global_settings.ocsp_freshness_seconds = 1234;
  Published p =
      publish(*rsa_, clock_.now() + std::chrono::minutes(20), 6, "20260101000200000000000");
  std::string changed = p.shared_xml;
  changed[changed.find("ss0")] = 'x';
  central_.serve_file(p.shared_location, changed);
  auto st = refresh_later(*client);
  EXPECT_EQ(st.error().code, FaultCode::kInvalidGlobalConf);
  EXPECT_NE(st.error().message.find("shared-params.xml"), std::string::npos) << st.error().message;
  expect_kept(*client, before, FaultCode::kInvalidGlobalConf);
}

// Hostile: truncated downloads (directory and file).
TEST_F(ClientTest, TruncatedDownloadsKeepTheLastGoodConfiguration) {
  auto client = loaded_client();
  auto before = client->current();
  private_->time_stamping_interval_seconds = 90;
  Published p =
      publish(*rsa_, clock_.now() + std::chrono::minutes(20), 6, "20260101000200000000000");
  central_.serve_directory_file(p.directory_file.substr(0, p.directory_file.size() / 2));
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kMalformedGlobalConf);
  expect_kept(*client, before, FaultCode::kMalformedGlobalConf);

  central_.serve_directory_file(p.directory_file);
  central_.serve_file(p.private_location, p.private_xml.substr(0, p.private_xml.size() - 10));
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kInvalidGlobalConf);
  expect_kept(*client, before, FaultCode::kInvalidGlobalConf);

  // A listed file missing from the source.
  central_.remove_file(p.private_location);
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kNetworkError);
  expect_kept(*client, before, FaultCode::kNetworkError);

  // Once the source serves the whole configuration again, it is taken.
  central_.serve_file(p.private_location, p.private_xml);
  ASSERT_TRUE(refresh_later(*client).ok());
  EXPECT_EQ(client->current()->time_stamping_interval_seconds(), 90);
}

// Hostile: an expired configuration.
TEST_F(ClientTest, ExpiredDirectoryKeepsTheLastGoodConfiguration) {
  auto client = loaded_client();
  auto before = client->current();
  publish(*rsa_, clock_.now() - std::chrono::seconds(1), 6, "20260101000200000000000");
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kOutdatedGlobalConf);
  expect_kept(*client, before, FaultCode::kOutdatedGlobalConf);

  // Once the kept copy expires too, message exchange is refused.
  clock_.set(before->expires_at());
  EXPECT_EQ(client->check_usable().error().code, FaultCode::kOutdatedGlobalConf);
  EXPECT_FALSE(client->status().usable);
}

// Hostile: a configuration two versions newer than the node reads.
TEST_F(ClientTest, NewerVersionIsRefusedClearly) {
  auto client = loaded_client();
  auto before = client->current();
  publish(*rsa_, clock_.now() + std::chrono::minutes(20), 8, "20260101000200000000000");
  auto st = refresh_later(*client);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kInvalidGlobalConf);
  EXPECT_NE(st.error().message.find("version 8 is not supported"), std::string::npos)
      << st.error().message;
  expect_kept(*client, before, FaultCode::kInvalidGlobalConf);

  // A source that only serves version 8 answers ?version=6 with 404.
  central_.set_served_version(8);
  st = refresh_later(*client);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kInvalidGlobalConf);
  EXPECT_NE(st.error().message.find("does not serve configuration version 6"), std::string::npos)
      << st.error().message;
  expect_kept(*client, before, FaultCode::kInvalidGlobalConf);
}

// Hostile: a central that hangs.
TEST_F(ClientTest, HangingCentralTimesOutAndKeepsTheLastGoodConfiguration) {
  auto client = loaded_client();
  auto before = client->current();
  central_.set_hang(true);
  auto started = std::chrono::steady_clock::now();
  auto st = refresh_later(*client);
  auto took = std::chrono::steady_clock::now() - started;
  central_.set_hang(false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kTimeout) << st.error().to_string();
  EXPECT_LT(took, std::chrono::seconds(5));
  // Readers were never blocked meanwhile (checked in ConcurrentReaders); the copy is kept.
  expect_kept(*client, before, FaultCode::kTimeout);
}

TEST_F(ClientTest, CentralDownOrFailingKeepsTheLastGoodConfiguration) {
  auto client = loaded_client();
  auto before = client->current();
  central_.set_directory_status(503);
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kNetworkError);
  expect_kept(*client, before, FaultCode::kNetworkError);
  central_.stop();
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kNetworkError);
  expect_kept(*client, before, FaultCode::kNetworkError);
  EXPECT_EQ(client->status().consecutive_failures, 2u);
}

TEST_F(ClientTest, OversizedDirectoryHitsTheLimit) {
  publish(*rsa_, clock_.now() + std::chrono::minutes(10));
  ConfigurationClientOptions o = fast_options(dir_.path(), clock_);
  o.max_directory_bytes = 512;
  auto client = ConfigurationClient::open(o).value();
  ASSERT_TRUE(client->import_anchor(anchor_xml("DEV", {central_.url()}, {rsa_->cert})).ok());
  EXPECT_EQ(client->refresh().error().code, FaultCode::kLimitExceeded);
  o.max_directory_bytes = 1024 * 1024;
  o.max_file_bytes = 1024;
  auto client2 = ConfigurationClient::open(o).value();
  EXPECT_EQ(client2->refresh().error().code, FaultCode::kLimitExceeded);
}

TEST_F(ClientTest, SourcesAreTriedInOrderAndTheWorkingOneIsRemembered) {
  FakeCentral broken;
  broken.set_directory_status(500);
  publish(*rsa_, clock_.now() + std::chrono::minutes(10));
  auto client = open_client();
  ASSERT_TRUE(
      client->import_anchor(anchor_xml("DEV", {broken.url(), central_.url()}, {rsa_->cert})).ok());
  ASSERT_TRUE(client->refresh().ok());
  EXPECT_EQ(broken.directory_hits(), 1);
  EXPECT_EQ(client->status().source_url, central_.url());
  ASSERT_TRUE(client->refresh().ok());
  EXPECT_EQ(broken.directory_hits(), 1);
  EXPECT_EQ(central_.directory_hits(), 2);
  // When every source fails, the status lists each.
  central_.set_directory_status(500);
  auto st = client->refresh();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().detail.find(broken.url()), std::string::npos);
  EXPECT_NE(st.error().detail.find(central_.url()), std::string::npos);
}

TEST_F(ClientTest, HttpsSourcesNeedTlsTrust) {
  publish(*rsa_, clock_.now() + std::chrono::minutes(10));
  auto client = open_client();
  ASSERT_TRUE(client
                  ->import_anchor(anchor_xml(
                      "DEV", {"https://127.0.0.1:1/internalconf", central_.url()}, {rsa_->cert}))
                  .ok());
  ASSERT_TRUE(client->refresh().ok());
  EXPECT_EQ(client->status().source_url, central_.url());
}

// Key rotation: a key announced in shared-params is accepted for the next download, also after
// a restart.
TEST_F(ClientTest, AnnouncedSigningKeyIsAcceptedNextTime) {
  shared_.sources[0].internal_verification_certs = {rsa_->cert, ec_->cert};
  auto client = loaded_client();
  clock_.set(clock_.now() + std::chrono::minutes(1));
  publish(*ec_, clock_.now() + std::chrono::minutes(10), 6, "20260101000100000000000");
  auto st = client->refresh();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(client->status().expires_at, clock_.now() + std::chrono::minutes(10));
  // The stored copy signed by the new key loads at restart with the old anchor.
  auto reopened = open_client();
  ASSERT_NE(reopened->current(), nullptr);
  EXPECT_EQ(reopened->current()->expires_at(), clock_.now() + std::chrono::minutes(10));
  // The old key is retired by the next configuration; a directory it signs is then refused.
  shared_.sources[0].internal_verification_certs = {ec_->cert};
  clock_.set(clock_.now() + std::chrono::minutes(1));
  publish(*ec_, clock_.now() + std::chrono::minutes(10), 6, "20260101000200000000000");
  ASSERT_TRUE(reopened->refresh().ok());
  // The anchor still names the RSA key, so it stays trusted (as the operator configured it).
  publish(*rsa_, clock_.now() + std::chrono::minutes(11), 6, "20260101000300000000000");
  EXPECT_TRUE(reopened->refresh().ok());
}

TEST_F(ClientTest, UnannouncedKeyIsRefused) {
  auto client = loaded_client();
  auto before = client->current();
  publish(*ec_, clock_.now() + std::chrono::minutes(10), 6, "20260101000100000000000");
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kInvalidGlobalConf);
  expect_kept(*client, before, FaultCode::kInvalidGlobalConf);
}

// Restart from disk while central is down.
TEST_F(ClientTest, RestartWorksWhileCentralIsDown) {
  auto expires = clock_.now() + std::chrono::minutes(10);
  loaded_client().reset();
  central_.stop();
  auto client = open_client();
  ASSERT_NE(client->current(), nullptr);
  EXPECT_TRUE(client->check_usable().ok());
  ConfigurationStatus status = client->status();
  EXPECT_EQ(status.expires_at, expires);
  EXPECT_EQ(status.version, 6);
  EXPECT_EQ(status.source_url, central_.url());
  EXPECT_EQ(client->anchor()->instance_identifier, "DEV");
  EXPECT_TRUE(client->current()
                  ->member_name(ids::ClientId::parse("MEMBER:DEV/COM/1234").value())
                  .has_value());
  EXPECT_EQ(refresh_later(*client).error().code, FaultCode::kNetworkError);
  EXPECT_NE(client->current(), nullptr);
  // An expired stored copy is not used.
  clock_.set(expires);
  auto later = open_client();
  EXPECT_EQ(later->current(), nullptr);
  EXPECT_EQ(later->status().last_error->code, FaultCode::kOutdatedGlobalConf);
}

// Atomic persistence: debris of an interrupted save is ignored, a corrupted copy is not used.
TEST_F(ClientTest, InterruptedSaveLeavesThePreviousCopy) {
  auto expires = clock_.now() + std::chrono::minutes(10);
  loaded_client().reset();
  fs::path conf = dir_.path() / "conf";
  // A crash while writing generation 99: half its files written, the pointer's temp file too.
  fs::create_directories(conf / "gen-99");
  {
    std::ofstream(conf / "gen-99" / "directory.mime") << "Content-Type: multipart/rel";
    std::ofstream(conf / "current.tmp") << "gen-";
  }
  auto client = open_client();
  ASSERT_NE(client->current(), nullptr);
  EXPECT_EQ(client->current()->expires_at(), expires);

  // The next save goes past the debris and cleans it up.
  clock_.set(clock_.now() + std::chrono::minutes(1));
  publish(*rsa_, clock_.now() + std::chrono::minutes(10), 6, "20260101000100000000000");
  ASSERT_TRUE(client->refresh().ok());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(conf)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"current", "gen-100"}));
}

TEST_F(ClientTest, CorruptedStoredCopyIsNotUsed) {
  loaded_client().reset();
  fs::path conf = dir_.path() / "conf";
  std::string gen = ConfigurationStore::read_file(conf / "current", 100).value();
  fs::resize_file(conf / gen / "entry-1", 100);
  auto client = open_client();
  EXPECT_EQ(client->current(), nullptr);
  ASSERT_TRUE(client->status().last_error.has_value());
  EXPECT_EQ(client->status().last_error->code, FaultCode::kInvalidGlobalConf);
  // A download repairs it.
  ASSERT_TRUE(client->refresh().ok());
  EXPECT_NE(client->current(), nullptr);
}

TEST(ConfigurationStoreTest, SaveLoadAndReplace) {
  TempDir dir;
  ConfigurationStore store(dir.path() / "conf");
  EXPECT_FALSE(store.load()->has_value());
  StoredConfiguration a{"dir-a", {"one", "two"}, "pem-a", "http://a/internalconf"};
  ASSERT_TRUE(store.save(a).ok());
  auto loaded = store.load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->directory, "dir-a");
  EXPECT_EQ((*loaded)->files, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ((*loaded)->verified_by_pem, "pem-a");
  EXPECT_EQ((*loaded)->source_url, "http://a/internalconf");
  StoredConfiguration b{"dir-b", {"three"}, "pem-b", "http://b/internalconf"};
  ASSERT_TRUE(store.save(b).ok());
  EXPECT_EQ((*store.load())->files, (std::vector<std::string>{"three"}));
  EXPECT_FALSE(fs::exists(dir.path() / "conf" / "gen-1"));
  // A pointer that names a missing generation is an I/O error, not an empty store.
  ASSERT_TRUE(ConfigurationStore::write_file_atomic(dir.path() / "conf" / "current", "gen-7").ok());
  EXPECT_EQ(store.load().error().code, FaultCode::kIoError);
  ASSERT_TRUE(store.clear().ok());
  EXPECT_FALSE(store.load()->has_value());
}

// Readers take snapshots while refreshes swap them; a held snapshot never changes.
TEST_F(ClientTest, ConcurrentReadersDuringRefreshes) {
  auto client = loaded_client();
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> reads{0};
  std::vector<std::thread> readers;
  auto member = ids::ClientId::parse("MEMBER:DEV/COM/1234").value();
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto snap = client->current();
        ASSERT_NE(snap, nullptr);
        auto expires = snap->expires_at();
        (void)snap->member_name(member);
        (void)snap->instances();
        EXPECT_TRUE(client->check_usable().ok());
        (void)client->status();
        EXPECT_EQ(snap->expires_at(), expires);
        reads.fetch_add(1);
      }
    });
  }
  std::vector<std::shared_ptr<const gc::GlobalConfSnapshot>> held;
  for (int i = 1; i <= 15; ++i) {
    char stamp[32];
    std::snprintf(stamp, sizeof(stamp), "202601010000%02d000000000", i);
    publish(*rsa_, clock_.now() + std::chrono::minutes(10 + i), 6, stamp);
    held.push_back(client->current());
    ASSERT_TRUE(client->refresh().ok());
  }
  // A refresh that hangs does not hold readers up.
  central_.set_hang(true);
  std::thread hanging([&] { (void)client->refresh(); });
  auto before = reads.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_GT(reads.load(), before);
  central_.set_hang(false);
  hanging.join();
  done = true;
  for (auto& t : readers) {
    t.join();
  }
  for (std::size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(held[i]->expires_at(), clock_.now() + std::chrono::minutes(10 + i));
  }
  EXPECT_EQ(client->current()->expires_at(), clock_.now() + std::chrono::minutes(25));
}

TEST_F(ClientTest, BackgroundRefreshFollowsCentralAndStopsPromptly) {
  publish(*rsa_, clock_.now() + std::chrono::minutes(10));
  ConfigurationClientOptions o = fast_options(dir_.path(), clock_);
  o.refresh_interval = std::chrono::milliseconds(50);
  auto client = ConfigurationClient::open(o).value();
  ASSERT_TRUE(client->import_anchor(anchor_xml("DEV", {central_.url()}, {rsa_->cert})).ok());
  client->start();
  client->start();  // idempotent
  auto wait_for = [&](TimePoint expires) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto snap = client->current();
      if (snap && snap->expires_at() == expires) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  EXPECT_TRUE(wait_for(clock_.now() + std::chrono::minutes(10)));
  publish(*rsa_, clock_.now() + std::chrono::minutes(30), 6, "20260101000100000000000");
  EXPECT_TRUE(wait_for(clock_.now() + std::chrono::minutes(30)));
  auto started = std::chrono::steady_clock::now();
  client->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  client->stop();
}

TEST_F(ClientTest, StopDuringAHangingDownloadEndsWithinTheTimeout) {
  auto client = loaded_client();
  central_.set_hang(true);
  client->start();
  // Let the worker reach the hanging request.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (central_.directory_hits() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto started = std::chrono::steady_clock::now();
  client->stop();
  // Bounded by total_timeout (1.5 s here).
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2'500));
  EXPECT_NE(client->current(), nullptr);
  // A stopped client still refreshes on demand.
  central_.set_hang(false);
  EXPECT_TRUE(client->refresh().ok());
}

TEST(ConfigurationClientOptionsTest, BadOptionsAreRefused) {
  ConfigurationClientOptions o;
  EXPECT_EQ(ConfigurationClient::open(o).error().code, FaultCode::kInvalidConfiguration);
  TempDir dir;
  o.state_dir = dir.path();
  o.refresh_interval = std::chrono::milliseconds(0);
  EXPECT_EQ(ConfigurationClient::open(o).error().code, FaultCode::kInvalidConfiguration);
}

}  // namespace
}  // namespace hansa::confclient
