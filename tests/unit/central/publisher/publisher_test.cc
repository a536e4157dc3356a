// Tests of the global-configuration publisher (PR-GCONF 2.3-2.7) on SQLite and, when
// HANSA_TEST_PG_URI is set, PostgreSQL (each PostgreSQL test in its own schema).

#include "central/publisher/publisher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "central/registry/registry.h"
#include "core/crypto/digest.h"
#include "core/db/database.h"
#include "core/globalconf/signed_directory.h"
#include "core/globalconf/xml_codec.h"
#include "core/http/client.h"
#include "core/http/server.h"
#include "core/mime/content_type.h"

namespace hansa::central {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

constexpr const char* kPgEnv = "HANSA_TEST_PG_URI";

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

std::string with_search_path(const std::string& uri, const std::string& schema) {
  if (uri.find("://") != std::string::npos) {
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema;
  }
  return uri + " options='-csearch_path=" + schema + "'";
}

ids::MemberId member_id(std::string_view code) {
  return ids::MemberId::create("EE", "GOV", code).value();
}

// A clock tests move by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<std::int64_t>> ms = std::make_shared<std::atomic<std::int64_t>>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
          .count());
  std::function<Clock::time_point()> fn() const {
    auto p = ms;
    return [p] { return Clock::time_point(std::chrono::milliseconds(p->load())); };
  }
  void advance(std::chrono::milliseconds d) { *ms += d.count(); }
  Clock::time_point now() const { return Clock::time_point(std::chrono::milliseconds(ms->load())); }
};

class PublisherTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hansa-pub-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    if (GetParam() == db::Backend::kPostgres) {
      const char* base = std::getenv(kPgEnv);
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << kPgEnv << " is not set: PostgreSQL tests skipped";
      }
      schema_ = "pub_" + unique_suffix();
      db::DbConfig admin_config;
      admin_config.uri = base;
      admin_config.pool_size = 1;
      admin_ = db::Database::open(admin_config).value();
      exec_admin("CREATE SCHEMA " + schema_);
      uri_ = with_search_path(base, schema_);
    } else {
      uri_ = "sqlite://" + (dir_ / "central.db").string();
    }
    db::DbConfig config;
    config.uri = uri_;
    auto db = db::Database::open(config);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_ = std::move(db).value();
    auto reg = Registry::open(*db_);
    ASSERT_TRUE(reg.ok()) << reg.error().to_string();
    registry_ = std::move(reg).value();
    ASSERT_TRUE(registry_->initialize(ctx_, "EE").ok());
    ASSERT_TRUE(registry_->add_member_class(ctx_, {"GOV", "Government"}).ok());
    ASSERT_TRUE(registry_->add_member(ctx_, member_id("CENTRAL"), "Central operator").ok());
    auto provider = ids::SubsystemId::create(member_id("CENTRAL"), "MANAGEMENT").value();
    ASSERT_TRUE(registry_->add_subsystem(ctx_, provider).ok());
    auto settings = registry_->settings().value();
    settings.management_service_provider = ids::ClientId(provider);
    settings.management_service_address = "https://127.0.0.1:4001/managementservice/";
    auto st = registry_->update_settings(ctx_, settings);
    ASSERT_TRUE(st.ok()) << st.error().to_string();

    auto key = generate_signing_key(dir_ / "k1.pem", dir_ / "c1.pem", "Hansa EE conf signing 1",
                                    SigningKeyType::kRsa2048);
    ASSERT_TRUE(key.ok()) << key.error().to_string();
    cert1_.emplace(key->cert);
  }

  void TearDown() override {
    publishers_.clear();
    registry_.reset();
    db_.reset();
    if (admin_ != nullptr && !schema_.empty()) {
      exec_admin("DROP SCHEMA " + schema_ + " CASCADE");
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void exec_admin(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    ASSERT_TRUE(tx->execute_script(sql).ok());
    ASSERT_TRUE(tx->commit().ok());
  }

  PublisherOptions options() {
    PublisherOptions o;
    o.public_url = "http://127.0.0.1:18080";
    o.clock = clock_.fn();
    return o;
  }

  Publisher* open_publisher(PublisherOptions o, bool add_key = true) {
    auto p = Publisher::open(*db_, *registry_, std::move(o));
    EXPECT_TRUE(p.ok()) << p.error().to_string();
    if (!p.ok()) {
      return nullptr;
    }
    publishers_.push_back(std::move(p).value());
    Publisher* pub = publishers_.back().get();
    if (add_key && pub->signing_keys()->empty()) {
      auto id = pub->add_signing_key(ctx_, dir_ / "k1.pem", *cert1_);
      EXPECT_TRUE(id.ok()) << id.error().to_string();
    }
    return pub;
  }

  // Verifies `dir` against `anchor` at the fake clock's time and returns it.
  Result<globalconf::SignedDirectory> verify(const PublishedDirectory& dir,
                                             const globalconf::ConfigurationAnchor& anchor) {
    auto ct = mime::ContentType::parse(dir.content_type);
    if (!ct.ok()) {
      return std::move(ct).error();
    }
    globalconf::DirectoryVerifyOptions vo;
    vo.now = clock_.now();
    return globalconf::verify_signed_directory(*ct, dir.body, anchor, vo);
  }

  std::string shared_params_of(Publisher& pub, const globalconf::SignedDirectory& verified) {
    auto entries = verified.find(globalconf::kSharedParametersContentId);
    EXPECT_EQ(entries.size(), 1u);
    if (entries.empty()) {
      return {};
    }
    auto f = pub.file(entries[0]->content_location);
    EXPECT_TRUE(f.ok() && f->has_value());
    EXPECT_TRUE(globalconf::verify_file(*entries[0], (*f)->content).ok());
    return (*f)->content;
  }

  AuditContext ctx_;
  FakeClock clock_;
  std::filesystem::path dir_;
  std::string schema_;
  std::string uri_;
  std::unique_ptr<db::Database> admin_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<Registry> registry_;
  std::vector<std::unique_ptr<Publisher>> publishers_;
  std::optional<crypto::Certificate> cert1_;
};

TEST_P(PublisherTest, PublishesDirectoryThatVerifiesWithTheAnchorAndValidates) {
  auto server = ids::SecurityServerId::create(member_id("CENTRAL"), "ss1").value();
  ASSERT_TRUE(registry_->add_server(ctx_, server, "ss1.example.org").ok());
  const std::string hash = crypto::digest(crypto::DigestAlgorithm::kSha256, "auth cert");
  ASSERT_TRUE(registry_->register_auth_cert_hash(ctx_, server, hash).ok());

  PublisherOptions o = options();
  o.configuration_validity = 600s;
  Publisher* pub = open_publisher(o);
  ASSERT_NE(pub, nullptr);
  auto dir = pub->publish();
  ASSERT_TRUE(dir.ok()) << dir.error().to_string();
  EXPECT_EQ(dir->version, 6);
  EXPECT_EQ(dir->expires_at, clock_.now() + 600s);
  ASSERT_EQ(dir->content_locations.size(), 2u);

  auto anchor = pub->anchor();
  ASSERT_TRUE(anchor.ok()) << anchor.error().to_string();
  ASSERT_EQ(anchor->sources.size(), 1u);
  EXPECT_EQ(anchor->sources[0].download_url, "http://127.0.0.1:18080/internalconf");
  auto verified = verify(*dir, *anchor);
  ASSERT_TRUE(verified.ok()) << verified.error().to_string();
  EXPECT_EQ(verified->version, 6);

  // Both files validate against the schemas (the parsers validate) and hold the registry state.
  auto shared = globalconf::parse_shared_parameters(shared_params_of(*pub, *verified));
  ASSERT_TRUE(shared.ok()) << shared.error().to_string();
  EXPECT_EQ(shared->instance_identifier, "EE");
  ASSERT_EQ(shared->sources.size(), 1u);
  EXPECT_EQ(shared->sources[0].address, "127.0.0.1:18080");
  ASSERT_EQ(shared->sources[0].internal_verification_certs.size(), 1u);
  EXPECT_EQ(shared->sources[0].internal_verification_certs[0], *cert1_);
  ASSERT_EQ(shared->security_servers.size(), 1u);
  EXPECT_EQ(shared->security_servers[0].id, server);
  ASSERT_EQ(shared->security_servers[0].auth_cert_hashes.size(), 1u);
  EXPECT_EQ(shared->security_servers[0].auth_cert_hashes[0], hash);

  auto priv_entries = verified->find(globalconf::kPrivateParametersContentId, "EE");
  ASSERT_EQ(priv_entries.size(), 1u);
  auto pf = pub->file(priv_entries[0]->content_location);
  ASSERT_TRUE(pf.ok() && pf->has_value());
  ASSERT_TRUE(globalconf::verify_file(*priv_entries[0], (*pf)->content).ok());
  auto priv = globalconf::parse_private_parameters((*pf)->content);
  ASSERT_TRUE(priv.ok()) << priv.error().to_string();
  EXPECT_EQ(priv->management_service.auth_cert_reg_service_address,
            "https://127.0.0.1:4001/managementservice/");
  EXPECT_EQ(priv->time_stamping_interval_seconds, 60);

  // The anchor file round-trips through the schema-validating parser.
  auto xml = pub->anchor_xml();
  ASSERT_TRUE(xml.ok()) << xml.error().to_string();
  auto parsed = globalconf::parse_configuration_anchor(*xml);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->instance_identifier, "EE");
}

TEST_P(PublisherTest, ManagementServiceOverridesFromOptions) {
  PublisherOptions o = options();
  o.management_service_address = "https://cs.example.org:4001/";
  o.management_service_cert = *cert1_;
  Publisher* pub = open_publisher(o);
  ASSERT_NE(pub, nullptr);
  auto dir = pub->publish();
  ASSERT_TRUE(dir.ok()) << dir.error().to_string();
  auto pf = pub->file(dir->content_locations[1]);
  ASSERT_TRUE(pf.ok() && pf->has_value());
  auto priv = globalconf::parse_private_parameters((*pf)->content);
  ASSERT_TRUE(priv.ok()) << priv.error().to_string();
  EXPECT_EQ(priv->management_service.auth_cert_reg_service_address, "https://cs.example.org:4001/");
  ASSERT_TRUE(priv->management_service.auth_cert_reg_service_cert.has_value());
  EXPECT_EQ(*priv->management_service.auth_cert_reg_service_cert, *cert1_);
}

TEST_P(PublisherTest, ServesDirectoryAndFilesOverHttpHonouringVersion) {
  Publisher* pub = open_publisher(options());
  ASSERT_NE(pub, nullptr);
  auto server = http::Server::create({}).value();
  pub->register_routes(*server);
  ASSERT_TRUE(server->start().ok());
  auto client = http::Client::create("http://127.0.0.1:" + std::to_string(server->port())).value();

  // Nothing published yet.
  auto none = client->get("/internalconf");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->status, 404);

  auto dir = pub->publish();
  ASSERT_TRUE(dir.ok()) << dir.error().to_string();
  for (const char* target : {"/internalconf", "/internalconf?version=6"}) {
    auto r = client->get(target);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->status, 200) << target;
    EXPECT_EQ(r->body, dir->body);
    ASSERT_TRUE(r->header("Content-Type").has_value());
    auto ct = mime::ContentType::parse(*r->header("Content-Type"));
    ASSERT_TRUE(ct.ok());
    globalconf::DirectoryVerifyOptions vo;
    vo.now = clock_.now();
    auto verified = globalconf::verify_signed_directory(*ct, r->body, pub->anchor().value(), vo);
    EXPECT_TRUE(verified.ok()) << verified.error().to_string();
  }
  for (const char* target : {"/internalconf?version=5", "/internalconf?version=2",
                             "/internalconf?version=7", "/internalconf?version=abc"}) {
    auto r = client->get(target);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 404) << target;
  }
  for (const auto& loc : dir->content_locations) {
    auto r = client->get(loc);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << loc;
    EXPECT_EQ(r->body, pub->file(loc).value()->content);
  }
  auto missing = client->get("/V6/19700101000000000000000/shared-params.xml");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  server->stop();
}

TEST_P(PublisherTest, ExpiryRefreshReusesFilesAndContentChangeWritesNewOnes) {
  Publisher* pub = open_publisher(options());
  ASSERT_NE(pub, nullptr);
  auto first = pub->publish();
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  clock_.advance(60s);
  auto refreshed = pub->publish();
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().to_string();
  EXPECT_GT(refreshed->id, first->id);
  EXPECT_EQ(refreshed->expires_at, first->expires_at + 60s);
  EXPECT_EQ(refreshed->content_locations, first->content_locations);
  EXPECT_EQ(refreshed->registry_change_version, first->registry_change_version);

  ASSERT_TRUE(registry_->add_member(ctx_, member_id("70000001"), "New member").ok());
  clock_.advance(1s);
  auto changed = pub->publish();
  ASSERT_TRUE(changed.ok()) << changed.error().to_string();
  EXPECT_NE(changed->content_locations, first->content_locations);
  EXPECT_GT(changed->registry_change_version, first->registry_change_version);
  // A node that fetched the previous directory can still download its files.
  EXPECT_TRUE(pub->file(first->content_locations[0]).value().has_value());
  auto latest = pub->latest();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->id, changed->id);
  EXPECT_EQ((*latest)->body, changed->body);
}

TEST_P(PublisherTest, OldDirectoriesAndTheirFilesArePruned) {
  PublisherOptions o = options();
  o.keep_directories = 2;
  Publisher* pub = open_publisher(o);
  ASSERT_NE(pub, nullptr);
  auto first = pub->publish();
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        registry_
            ->add_member(ctx_, member_id("M" + std::to_string(i)), "Member " + std::to_string(i))
            .ok());
    clock_.advance(1s);
    ASSERT_TRUE(pub->publish().ok());
  }
  EXPECT_FALSE(pub->file(first->content_locations[0]).value().has_value());
  EXPECT_FALSE(pub->file(first->content_locations[1]).value().has_value());
}

TEST_P(PublisherTest, RegeneratesOnRegistryChangeAndOnInterval) {
  PublisherOptions o = options();
  o.clock = [] { return Clock::now(); };
  o.regeneration_interval = 200ms;
  Publisher* pub = open_publisher(o);
  ASSERT_NE(pub, nullptr);
  ASSERT_TRUE(pub->start().ok());
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 200; ++i) {
      auto l = pub->latest();
      if (l.ok() && l->has_value() && pred(**l)) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  };
  ASSERT_TRUE(wait_for([](const PublishedDirectory&) { return true; }));
  const auto before = pub->latest().value().value();
  // The interval refreshes the expiry.
  EXPECT_TRUE(
      wait_for([&](const PublishedDirectory& d) { return d.expires_at > before.expires_at; }));
  // A change reaches the published configuration.
  ASSERT_TRUE(registry_->add_member(ctx_, member_id("70000002"), "Changed").ok());
  const auto version = registry_->change_version().value();
  EXPECT_TRUE(
      wait_for([&](const PublishedDirectory& d) { return d.registry_change_version == version; }));
  pub->stop();
  pub->stop();
}

TEST_P(PublisherTest, KeyRotationAnnouncesThenSwitchesSigningKey) {
  Publisher* pub = open_publisher(options());
  ASSERT_NE(pub, nullptr);
  auto key2 = generate_signing_key(dir_ / "k2.pem", dir_ / "c2.pem", "Hansa EE conf signing 2",
                                   SigningKeyType::kEcP256);
  ASSERT_TRUE(key2.ok()) << key2.error().to_string();
  auto id2 = pub->add_signing_key(ctx_, dir_ / "k2.pem", key2->cert);
  ASSERT_TRUE(id2.ok()) << id2.error().to_string();
  auto keys = pub->signing_keys().value();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].state, SigningKeyRecord::State::kActive);
  EXPECT_EQ(keys[1].state, SigningKeyRecord::State::kStandby);

  // Announced in the anchor and in shared-params before it signs.
  auto both = pub->anchor().value();
  ASSERT_EQ(both.sources[0].verification_certs.size(), 2u);
  auto dir1 = pub->publish().value();
  EXPECT_EQ(dir1.signing_key_id, keys[0].id);
  auto v1 = verify(dir1, both);
  ASSERT_TRUE(v1.ok()) << v1.error().to_string();
  auto shared = globalconf::parse_shared_parameters(shared_params_of(*pub, *v1)).value();
  EXPECT_EQ(shared.sources[0].internal_verification_certs.size(), 2u);

  // Switch: the new key signs; an anchor holding both certificates verifies it, an anchor
  // holding only the old certificate does not.
  ASSERT_TRUE(pub->activate_signing_key(ctx_, *id2).ok());
  clock_.advance(1s);
  auto dir2 = pub->publish();
  ASSERT_TRUE(dir2.ok()) << dir2.error().to_string();
  EXPECT_EQ(dir2->signing_key_id, *id2);
  auto v2 = verify(*dir2, both);
  ASSERT_TRUE(v2.ok()) << v2.error().to_string();
  EXPECT_EQ(*v2->verification_cert, key2->cert);
  globalconf::ConfigurationAnchor old_only = both;
  old_only.sources[0].verification_certs = {*cert1_};
  auto refused = verify(*dir2, old_only);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, FaultCode::kInvalidGlobalConf);

  // The active key cannot be retired; the old one can, and is no longer announced.
  auto st = pub->retire_signing_key(ctx_, *id2);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, FaultCode::kInvalidRequest);
  ASSERT_TRUE(pub->retire_signing_key(ctx_, keys[0].id).ok());
  auto after = pub->anchor().value();
  ASSERT_EQ(after.sources[0].verification_certs.size(), 1u);
  EXPECT_EQ(after.sources[0].verification_certs[0], key2->cert);
  auto activate_retired = pub->activate_signing_key(ctx_, keys[0].id);
  ASSERT_FALSE(activate_retired.ok());
  EXPECT_EQ(activate_retired.error().code, FaultCode::kInvalidRequest);
  EXPECT_EQ(pub->activate_signing_key(ctx_, 9999).error().code, FaultCode::kNotFound);

  // Key changes are audited.
  AuditQuery q;
  q.action_prefix = "signing_key.";
  auto audit = registry_->audit_log(q);
  ASSERT_TRUE(audit.ok()) << audit.error().to_string();
  EXPECT_GE(audit->total, 6);
}

TEST_P(PublisherTest, RefusesMismatchedOrDuplicateSigningKeys) {
  Publisher* pub = open_publisher(options());
  ASSERT_NE(pub, nullptr);
  auto key2 =
      generate_signing_key(dir_ / "k2.pem", dir_ / "c2.pem", "Other", SigningKeyType::kEcP256);
  ASSERT_TRUE(key2.ok());
  auto mismatch = pub->add_signing_key(ctx_, dir_ / "k2.pem", *cert1_);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, FaultCode::kInvalidKey);
  auto dup = pub->add_signing_key(ctx_, dir_ / "k1.pem", *cert1_);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, FaultCode::kConflict);
  auto missing = pub->add_signing_key(ctx_, dir_ / "nope.pem", key2->cert);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(pub->signing_keys().value().size(), 1u);
}

TEST_P(PublisherTest, WithoutSigningKeyNothingIsPublished) {
  Publisher* pub = open_publisher(options(), /*add_key=*/false);
  ASSERT_NE(pub, nullptr);
  auto dir = pub->publish();
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, FaultCode::kInvalidConfiguration);
  EXPECT_FALSE(pub->anchor().ok());
  EXPECT_FALSE(pub->latest().value().has_value());
}

TEST_P(PublisherTest, InstancesSharingTheDatabaseServeTheSameFiles) {
  Publisher* a = open_publisher(options());
  ASSERT_NE(a, nullptr);
  Publisher* b = open_publisher(options());
  ASSERT_NE(b, nullptr);
  auto dir = a->publish();
  ASSERT_TRUE(dir.ok()) << dir.error().to_string();
  auto seen = b->latest();
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->body, dir->body);
  EXPECT_EQ(b->file(dir->content_locations[0]).value()->content,
            a->file(dir->content_locations[0]).value()->content);
}

INSTANTIATE_TEST_SUITE_P(Backends, PublisherTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         [](const ::testing::TestParamInfo<db::Backend>& info) {
                           return info.param == db::Backend::kSqlite ? std::string("Sqlite")
                                                                     : std::string("Postgres");
                         });

TEST(PublisherOpen, RefusesBadOptions) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hansa-pub-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  db::DbConfig config;
  config.uri = "sqlite://" + tmpl + "/c.db";
  auto db = db::Database::open(config).value();
  auto registry = Registry::open(*db).value();
  for (const char* url : {"", "ftp://x", "http://", "http://host/path", "http://a b"}) {
    PublisherOptions o;
    o.public_url = url;
    auto p = Publisher::open(*db, *registry, o);
    ASSERT_FALSE(p.ok()) << url;
    EXPECT_EQ(p.error().code, FaultCode::kInvalidConfiguration);
  }
  PublisherOptions o;
  o.public_url = "http://cs.example.org/";
  o.regeneration_interval = 0ms;
  EXPECT_FALSE(Publisher::open(*db, *registry, o).ok());
  std::filesystem::remove_all(tmpl);
}

TEST(SelfSignedCertificate, CarriesTheRequestedNamesAndUsages) {
  auto key = crypto::PrivateKey::generate_ec().value();
  auto tls = make_self_signed_certificate(key, "central", 3600s, "127.0.0.1");
  ASSERT_TRUE(tls.ok()) << tls.error().to_string();
  EXPECT_TRUE(tls->is_self_signed());
  EXPECT_FALSE(tls->is_ca());
  EXPECT_TRUE(tls->has_extended_key_usage(crypto::ExtendedKeyUsage::kServerAuth));
  EXPECT_TRUE(tls->valid_at(Clock::now()));
  EXPECT_FALSE(tls->valid_at(Clock::now() + 7200s));
  EXPECT_FALSE(make_self_signed_certificate(key, "", 3600s).ok());
}

}  // namespace
}  // namespace hansa::central
