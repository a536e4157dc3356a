#pragma once

// Test helper shared by the central registry and admin API tests: a fresh database per test, on
// SQLite always and on PostgreSQL (own schema per test) when HANSA_TEST_PG_URI is set.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "core/crypto/certificate.h"
#include "core/db/database.h"

namespace hansa::central::testing {

inline std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(getpid()) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007) +
         "_" + std::to_string(counter++);
}

// Owns one throw-away database for a test.
class TestDatabase final {
 public:
  // Returns false (and sets `skip_reason`) when the backend is not available.
  bool create(db::Backend backend, std::string& skip_reason) {
    if (backend == db::Backend::kPostgres) {
      const char* base = std::getenv("HANSA_TEST_PG_URI");
      if (base == nullptr || *base == '\0') {
        skip_reason = "HANSA_TEST_PG_URI is not set: PostgreSQL tests skipped";
        return false;
      }
      db::DbConfig admin_config;
      admin_config.uri = base;
      admin_config.pool_size = 1;
      auto admin = db::Database::open(admin_config);
      EXPECT_TRUE(admin.ok()) << admin.error().to_string();
      if (!admin.ok()) {
        skip_reason = "cannot open PostgreSQL";
        return false;
      }
      admin_ = std::move(admin).value();
      schema_ = "reg_" + unique_suffix();
      exec_admin("CREATE SCHEMA " + schema_);
      const std::string b(base);
      uri_ = b.find("://") != std::string::npos
                 ? b + (b.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
                       schema_
                 : b + " options='-csearch_path=" + schema_ + "'";
    } else {
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "hansa-registry-XXXXXX").string();
      EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      uri_ = "sqlite://" + (dir_ / "central.db").string();
    }
    db::DbConfig config;
    config.uri = uri_;
    auto db = db::Database::open(config);
    EXPECT_TRUE(db.ok()) << db.error().to_string();
    if (!db.ok()) {
      skip_reason = "cannot open the database";
      return false;
    }
    db_ = std::move(db).value();
    return true;
  }

  ~TestDatabase() {
    db_.reset();
    if (admin_ != nullptr && !schema_.empty()) {
      exec_admin("DROP SCHEMA " + schema_ + " CASCADE");
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  db::Database& db() { return *db_; }
  const std::string& uri() const { return uri_; }

 private:
  void exec_admin(const std::string& sql) {
    auto tx = admin_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    auto r = tx->execute_script(sql);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(tx->commit().ok());
  }

  std::unique_ptr<db::Database> admin_;
  std::unique_ptr<db::Database> db_;
  std::string schema_;
  std::filesystem::path dir_;
  std::string uri_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A certificate of the development PKI (HANSA_TEST_PKI_DIR), e.g. "ca/root.pem".
inline crypto::Certificate pki_cert(const std::string& relative) {
  const std::string path = std::string(HANSA_TEST_PKI_DIR) + "/" + relative;
  auto cert = crypto::Certificate::from_pem(read_text(path));
  if (!cert.ok()) {
    ADD_FAILURE() << "cannot read " << path << ": " << cert.error().to_string()
                  << " (run the dev_pki fixture: ctest -R dev_pki)";
    std::abort();
  }
  return std::move(cert).value();
}

}  // namespace hansa::central::testing
