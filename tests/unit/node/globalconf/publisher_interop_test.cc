// The configuration client against Hansa's own central publisher (central/publisher) serving
// over core/http: the anchor it exports, its directories and files, and a signing-key rotation
// announced through shared parameters.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "central/publisher/publisher.h"
#include "central/registry/registry.h"
#include "core/db/database.h"
#include "core/globalconf/xml_codec.h"
#include "core/http/server.h"
#include "node/globalconf/configuration_client.h"

namespace hansa::confclient {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class PublisherInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("hansa-confclient-pub-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    db::DbConfig config;
    config.uri = "sqlite://" + (dir_ / "central.db").string();
    db_ = db::Database::open(config).value();
    registry_ = central::Registry::open(*db_).value();
    auto member = ids::MemberId::create("EE", "GOV", "CENTRAL").value();
    ASSERT_TRUE(registry_->initialize(ctx_, "EE").ok());
    ASSERT_TRUE(registry_->add_member_class(ctx_, {"GOV", "Government"}).ok());
    ASSERT_TRUE(registry_->add_member(ctx_, member, "Central operator").ok());
    auto provider = ids::SubsystemId::create(member, "MANAGEMENT").value();
    ASSERT_TRUE(registry_->add_subsystem(ctx_, provider).ok());
    auto settings = registry_->settings().value();
    settings.management_service_provider = ids::ClientId(provider);
    settings.management_service_address = "https://127.0.0.1:4001/managementservice/";
    ASSERT_TRUE(registry_->update_settings(ctx_, settings).ok());

    central::PublisherOptions o;
    o.public_url = "http://127.0.0.1:1";  // the anchor's URL is pointed at the real port below
    o.configuration_validity = 600s;
    publisher_ = central::Publisher::open(*db_, *registry_, o).value();
    auto key1 = central::generate_signing_key(dir_ / "k1.pem", dir_ / "c1.pem", "conf signing 1",
                                              central::SigningKeyType::kRsa2048);
    ASSERT_TRUE(key1.ok()) << key1.error().to_string();
    ASSERT_TRUE(publisher_->add_signing_key(ctx_, dir_ / "k1.pem", key1->cert).ok());

    server_ = http::Server::create({}).value();
    publisher_->register_routes(*server_);
    ASSERT_TRUE(server_->start().ok());
  }

  void TearDown() override {
    server_->stop();
    publisher_.reset();
    registry_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The publisher's anchor with its download URL on the test server's port.
  std::string anchor_xml() {
    auto anchor = publisher_->anchor().value();
    for (auto& source : anchor.sources) {
      source.download_url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/internalconf";
    }
    return globalconf::write_configuration_anchor(anchor).value();
  }

  std::unique_ptr<ConfigurationClient> open_client() {
    ConfigurationClientOptions o;
    o.state_dir = dir_ / "node";
    o.read_timeout = 2s;
    o.total_timeout = 5s;
    return ConfigurationClient::open(o).value();
  }

  central::AuditContext ctx_;
  fs::path dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<central::Registry> registry_;
  std::unique_ptr<central::Publisher> publisher_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(PublisherInterop, DownloadsWhatCentralPublishesAndFollowsItsKeyRotation) {
  ASSERT_TRUE(publisher_->publish().ok());
  auto client = open_client();
  // The anchor knows only the first key.
  ASSERT_TRUE(client->import_anchor(anchor_xml()).ok());
  auto st = client->refresh();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  auto snap = client->current();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->instance_identifier(), "EE");
  EXPECT_EQ(snap->member_name(ids::ClientId(ids::MemberId::create("EE", "GOV", "CENTRAL").value())),
            "Central operator");
  EXPECT_EQ(snap->management_service()->auth_cert_reg_service_address,
            "https://127.0.0.1:4001/managementservice/");
  EXPECT_TRUE(client->check_usable().ok());

  // Central adds a second key (announced in shared parameters), the node picks it up, then
  // central activates it.
  auto key2 = central::generate_signing_key(dir_ / "k2.pem", dir_ / "c2.pem", "conf signing 2",
                                            central::SigningKeyType::kEcP256);
  ASSERT_TRUE(key2.ok());
  auto id2 = publisher_->add_signing_key(ctx_, dir_ / "k2.pem", key2->cert);
  ASSERT_TRUE(id2.ok());
  ASSERT_TRUE(publisher_->publish().ok());
  ASSERT_TRUE(client->refresh().ok());
  ASSERT_TRUE(publisher_->activate_signing_key(ctx_, *id2).ok());
  ASSERT_TRUE(publisher_->publish().ok());
  st = client->refresh();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_NE(client->current(), snap);

  // A node that never saw the announcement refuses the new key's directory.
  std::error_code ec;
  fs::remove_all(dir_ / "node", ec);
  auto fresh = open_client();
  auto old_anchor = globalconf::parse_configuration_anchor(anchor_xml()).value();
  for (auto& source : old_anchor.sources) {
    std::erase(source.verification_certs, key2->cert);
  }
  ASSERT_TRUE(
      fresh->import_anchor(globalconf::write_configuration_anchor(old_anchor).value()).ok());
  EXPECT_EQ(fresh->refresh().error().code, FaultCode::kInvalidGlobalConf);
  EXPECT_EQ(fresh->current(), nullptr);
}

}  // namespace
}  // namespace hansa::confclient
