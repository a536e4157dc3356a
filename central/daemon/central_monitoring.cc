#include "central/daemon/central_monitoring.h"

#include <fstream>

#include "central/publisher/publisher.h"
#include "core/crypto/certificate.h"
#include "core/crypto/key.h"
#include "core/db/database.h"

namespace hansa::central {

namespace {

using Clock = std::chrono::system_clock;
using metrics::CheckResult;
using metrics::HealthState;

constexpr std::size_t kMaxKeyFileBytes = 256 * 1024;

std::int64_t epoch_s(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::optional<std::string> read_small(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::string data(kMaxKeyFileBytes + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  if (data.size() > kMaxKeyFileBytes) {
    return std::nullopt;
  }
  return data;
}

}  // namespace

struct CentralMonitoring::Impl {
  db::Database& db;
  Publisher& publisher;
  CentralMonitoringOptions options;
  metrics::Health health{"central"};

  Impl(db::Database& d, Publisher& p, CentralMonitoringOptions o)
      : db(d), publisher(p), options(std::move(o)) {}

  Clock::time_point now() const { return options.clock ? options.clock() : Clock::now(); }

  CheckResult check_database() const {
    auto tx = db.begin(db::Access::kReadOnly);
    if (!tx.ok()) {
      return CheckResult::failed("cannot start a transaction: " + tx.error().to_string());
    }
    auto row = tx->query_one("SELECT 1");
    if (!row.ok()) {
      return CheckResult::failed("query failed: " + row.error().to_string());
    }
    return std::move(
        CheckResult::ok("reachable").with("backend", std::string(db::backend_name(db.backend()))));
  }

  CheckResult check_signing_key() const {
    auto keys = publisher.signing_keys();
    if (!keys.ok()) {
      return CheckResult::failed("cannot read the signing keys: " + keys.error().to_string());
    }
    const SigningKeyRecord* active = nullptr;
    for (const auto& k : *keys) {
      if (k.state == SigningKeyRecord::State::kActive) {
        active = &k;
      }
    }
    if (active == nullptr) {
      return CheckResult::failed("no active configuration-signing key");
    }
    CheckResult r = CheckResult::ok("usable");
    r.with("key_id", std::to_string(active->id));
    r.with("not_after", std::to_string(epoch_s(active->cert.not_after())));
    auto pem = read_small(active->key_file);
    if (!pem) {
      r.state = HealthState::kFailed;
      r.message = "the signing key file cannot be read";
      r.with("key_file", active->key_file.string());
      return r;
    }
    auto key = crypto::PrivateKey::from_pem(*pem);
    if (!key.ok()) {
      r.state = HealthState::kFailed;
      r.message = "the signing key file does not hold a usable key";
      return r;
    }
    if (!(key->public_key() == active->cert.public_key())) {
      r.state = HealthState::kFailed;
      r.message = "the signing key does not match its certificate";
      return r;
    }
    const auto t = now();
    if (active->cert.not_after() <= t) {
      r.state = HealthState::kFailed;
      r.message = "the signing certificate has expired";
    } else if (active->cert.not_after() - t < options.certificate_expiry_warning) {
      r.state = HealthState::kDegraded;
      r.message = "the signing certificate expires soon";
    }
    return r;
  }

  CheckResult check_publish() const {
    auto latest = publisher.latest();
    if (!latest.ok()) {
      return CheckResult::failed("cannot read the published configuration: " +
                                 latest.error().to_string());
    }
    if (!latest->has_value()) {
      return CheckResult::degraded("nothing published yet");
    }
    const auto& d = **latest;
    const auto t = now();
    const auto age = epoch_s(t) - epoch_s(d.generated_at);
    CheckResult r = CheckResult::ok("published");
    r.with("age", std::to_string(age) + " s");
    r.with("expires_in", std::to_string(epoch_s(d.expires_at) - epoch_s(t)) + " s");
    if (d.expires_at <= t) {
      r.state = HealthState::kFailed;
      r.message = "the newest published configuration has expired";
    } else if (t - d.generated_at > options.max_publish_age) {
      r.state = HealthState::kDegraded;
      r.message = "the configuration has not been published recently";
    }
    return r;
  }
};

CentralMonitoring::CentralMonitoring(db::Database& db, Publisher& publisher,
                                     CentralMonitoringOptions options, metrics::Registry& registry)
    : impl_(std::make_unique<Impl>(db, publisher, std::move(options))) {
  Impl* m = impl_.get();
  m->health.add_check("database", [m] { return m->check_database(); });
  m->health.add_check("signing_key", [m] { return m->check_signing_key(); });
  m->health.add_check("publish", [m] { return m->check_publish(); });

  using metrics::Sample;
  registry.callback_gauge(
      "hansa_central_last_publish_age_seconds",
      "Seconds since the newest configuration directory was generated", {}, [m] {
        auto latest = m->publisher.latest();
        std::vector<Sample> out;
        if (latest.ok() && latest->has_value()) {
          out.push_back(
              {{}, std::chrono::duration<double>(m->now() - (*latest)->generated_at).count()});
        }
        return out;
      });
  registry.callback_gauge(
      "hansa_central_configuration_expiry_timestamp_seconds",
      "When the newest published configuration expires (unix seconds)", {}, [m] {
        auto latest = m->publisher.latest();
        std::vector<Sample> out;
        if (latest.ok() && latest->has_value()) {
          out.push_back({{}, static_cast<double>(epoch_s((*latest)->expires_at))});
        }
        return out;
      });
  registry.callback_gauge(
      "hansa_central_signing_certificate_expiry_timestamp_seconds",
      "When each announced configuration-signing certificate expires (unix seconds)",
      {"key_id", "state"}, [m] {
        std::vector<Sample> out;
        auto keys = m->publisher.signing_keys();
        if (keys.ok()) {
          for (const auto& k : *keys) {
            if (k.state != SigningKeyRecord::State::kRetired) {
              out.push_back({{std::to_string(k.id), std::string(signing_key_state_name(k.state))},
                             static_cast<double>(epoch_s(k.cert.not_after()))});
            }
          }
        }
        return out;
      });
  registry.callback_gauge("hansa_central_db_connections",
                          "Database pool connections by state (open, in_use, max)", {"state"}, [m] {
                            const auto s = m->db.stats();
                            return std::vector<Sample>{{{"open"}, static_cast<double>(s.open)},
                                                       {{"in_use"}, static_cast<double>(s.in_use)},
                                                       {{"max"}, static_cast<double>(s.max)}};
                          });
}

CentralMonitoring::~CentralMonitoring() = default;

metrics::Health& CentralMonitoring::health() noexcept { return impl_->health; }

}  // namespace hansa::central
