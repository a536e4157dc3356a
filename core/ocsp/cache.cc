#include "core/ocsp/cache.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace hansa::ocsp {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

OcspCache::OcspCache(Fetcher fetcher, CacheOptions options, ClockFn clock)
    : fetcher_(std::move(fetcher)), options_(std::move(options)), clock_(std::move(clock)) {
  HANSA_CHECK(fetcher_ != nullptr);
  HANSA_CHECK(clock_ != nullptr);
}

OcspCache::OcspCache(OcspClient client, CacheOptions options, ClockFn clock)
    : OcspCache(
          [client](const TrackedCert& t) {
            return client.fetch(t.responder_url, t.cert, t.issuer);
          },
          std::move(options), std::move(clock)) {}

OcspCache::~OcspCache() { stop(); }

Result<std::string> OcspCache::track(TrackedCert tracked) {
  HANSA_ASSIGN_OR_RETURN(std::string hash, cert_hash(tracked.cert));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(hash);
  if (it != entries_.end()) {
    it->second.tracked = std::move(tracked);
    return hash;
  }
  if (entries_.size() >= options_.max_entries) {
    return Error(FaultCode::kLimitExceeded, "OCSP cache is full",
                 "max_entries " + std::to_string(options_.max_entries));
  }
  Entry entry;
  entry.tracked = std::move(tracked);
  entries_.emplace(hash, std::move(entry));
  return hash;
}

void OcspCache::untrack(std::string_view cert_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(lower(cert_hash));
  if (it != entries_.end()) {
    entries_.erase(it);
  }
}

std::size_t OcspCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

TimePoint OcspCache::stale_time(const OcspResponse& response) const {
  TimePoint stale =
      response.this_update() + std::chrono::seconds(options_.verify.ocsp_freshness_seconds);
  if (options_.verify.verify_next_update && response.next_update()) {
    stale = std::min(stale, *response.next_update());
  }
  return stale;
}

bool OcspCache::due(const Entry& entry, TimePoint now) const {
  if (now < entry.retry_after) {
    return false;
  }
  return !entry.response || now >= entry.stale_at - options_.refresh_margin;
}

std::optional<OcspResponse> OcspCache::get(std::string_view cert_hash) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(lower(cert_hash));
  if (it == entries_.end() || !it->second.response || clock_() >= it->second.stale_at) {
    return std::nullopt;
  }
  return it->second.response;
}

Result<OcspResponse> OcspCache::get_or_fetch(std::string_view cert_hash) {
  std::string hash = lower(cert_hash);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(hash);
    if (it == entries_.end()) {
      return Error(FaultCode::kNotFound, "certificate is not tracked by the OCSP cache", hash);
    }
    TimePoint now = clock_();
    if (it->second.response && now < it->second.stale_at - options_.refresh_margin) {
      return *it->second.response;
    }
  }
  Status refreshed = refresh_one(hash);
  if (auto cached = get(hash)) {
    return *cached;  // a fresh one, or the old one still usable after a failed refresh
  }
  if (!refreshed.ok()) {
    return std::move(refreshed).error();
  }
  return Error(FaultCode::kCertValidation, "no usable OCSP response", hash);
}

Status OcspCache::refresh_one(const std::string& hash) {
  TrackedCert tracked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(hash);
    if (it == entries_.end()) {
      return Error(FaultCode::kNotFound, "certificate is not tracked by the OCSP cache", hash);
    }
    tracked = it->second.tracked;
  }
  Result<OcspResponse> fetched = fetcher_(tracked);
  TimePoint now = clock_();
  Status outcome = ok_status();
  if (!fetched.ok()) {
    outcome = fetched.error();
  } else {
    auto valid = verify_validity(*fetched, tracked.cert, tracked.issuer, now, options_.verify);
    if (!valid.ok()) {
      outcome = valid.error();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(hash);
  if (it == entries_.end()) {
    return outcome;  // untracked meanwhile
  }
  Entry& entry = it->second;
  if (outcome.ok()) {
    // Never replace a response with an older one (a slow fetch racing a newer one).
    if (!entry.response || fetched->this_update() >= entry.response->this_update()) {
      entry.stale_at = stale_time(*fetched);
      entry.response = std::move(fetched).value();
    }
    entry.last_error.reset();
    entry.retry_after = TimePoint{};
  } else {
    entry.last_error = outcome.error();
    entry.retry_after = now + options_.retry_delay;
  }
  return outcome;
}

std::size_t OcspCache::refresh_due() {
  std::vector<std::string> due_hashes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    TimePoint now = clock_();
    for (const auto& [hash, entry] : entries_) {
      if (due(entry, now)) {
        due_hashes.push_back(hash);
      }
    }
  }
  std::size_t refreshed = 0;
  for (const std::string& hash : due_hashes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        break;
      }
    }
    if (refresh_one(hash).ok()) {
      ++refreshed;
    }
  }
  return refreshed;
}

void OcspCache::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) {
    return;
  }
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void OcspCache::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void OcspCache::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    refresh_due();
    lock.lock();
    wake_.wait_for(lock, options_.refresh_interval, [this] { return stopping_; });
  }
}

}  // namespace hansa::ocsp
