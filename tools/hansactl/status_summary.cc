#include "tools/hansactl/status_summary.h"

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace hansa::hansactl {

namespace {

using Json = nlohmann::json;

std::string str(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

// Sums the samples of `family` in Prometheus text by the value of label `label`.
std::map<std::string, double> sum_by(std::string_view text, std::string_view family,
                                     std::string_view label) {
  std::map<std::string, double> out;
  std::istringstream in{std::string(text)};
  std::string line;
  const std::string prefix = std::string(family) + "{";
  const std::string key = std::string(label) + "=\"";
  while (std::getline(in, line)) {
    if (!line.starts_with(prefix)) {
      continue;
    }
    const auto close = line.rfind('}');
    if (close == std::string::npos) {
      continue;
    }
    std::string value;
    if (auto p = line.find(key); p != std::string::npos && p < close) {
      const auto start = p + key.size();
      value = line.substr(start, line.find('"', start) - start);
    }
    try {
      out[value] += std::stod(line.substr(close + 1));
    } catch (...) {
      // not a number: skipped
    }
  }
  return out;
}

}  // namespace

void print_ops_summary(std::ostream& out, central::AdminClient& client, bool node) {
  auto health = client.request("GET", "/health", "");
  if (!health.ok()) {
    out << "health: unreachable (" << health.error().message << ")\n";
  } else {
    Json j = Json::parse(health->body, nullptr, false);
    if (!j.is_object()) {
      out << "health: HTTP " << health->status << " (no health report)\n";
    } else {
      out << "health: " << str(j, "status") << " (HTTP " << health->status << ")\n";
      for (const auto& c : j.value("checks", Json::array())) {
        const std::string st = str(c, "status");
        if (st == "ok" && str(c, "name") != "messagelog") {
          continue;
        }
        if (st == "ok") {  // the message log line below says it
          continue;
        }
        out << "  " << str(c, "name") << ": " << st << ": " << str(c, "message") << "\n";
      }
      for (const auto& c : j.value("checks", Json::array())) {
        const auto& d = c.value("details", Json::object());
        if (str(c, "name") == "messagelog") {
          out << "message log: time-stamp backlog " << str(d, "backlog") << ", not archived "
              << str(d, "unarchived") << "\n";
        }
        if (str(c, "name") == "globalconf" && node) {
          out << "global configuration: " << str(c, "status") << ", instance " << str(d, "instance")
              << ", version " << str(d, "version") << ", age " << str(d, "age") << ", expires in "
              << str(d, "expires_in") << "\n";
        }
        if (str(c, "name") == "publish") {
          out << "last publish: age " << str(d, "age") << ", expires in " << str(d, "expires_in")
              << "\n";
        }
      }
    }
  }
  if (node) {
    auto env = client.request("GET", "/api/v1/environment", "");
    if (env.ok() && env->status == 200) {
      Json j = Json::parse(env->body, nullptr, false);
      if (j.is_object()) {
        for (const auto& c : j.value("certificates", Json::array())) {
          if (!c.value("active", false)) {
            continue;
          }
          const auto not_after = c.value("notAfter", std::int64_t{0});
          out << "certificate: " << str(c, "usage") << " " << str(c, "status") << ", OCSP "
              << str(c, "ocspStatus") << ", expires at unix " << not_after << " ("
              << str(c, "subject") << ")\n";
        }
      }
    }
  }
  auto metrics = client.request("GET", "/metrics", "");
  if (metrics.ok() && metrics->status == 200 && node) {
    const auto by_outcome = sum_by(metrics->body, "hansa_node_calls_total", "outcome");
    double ok = 0;
    double failed = 0;
    for (const auto& [outcome, n] : by_outcome) {
      (outcome == "ok" ? ok : failed) += n;
    }
    const auto by_side = sum_by(metrics->body, "hansa_node_calls_total", "side");
    auto side = [&](const char* s) {
      auto it = by_side.find(s);
      return it == by_side.end() ? 0.0 : it->second;
    };
    out << "calls since start: " << static_cast<long long>(ok) << " ok, "
        << static_cast<long long>(failed) << " failed (as client "
        << static_cast<long long>(side("client")) << ", as provider "
        << static_cast<long long>(side("producer")) << ")\n";
  }
}

}  // namespace hansa::hansactl
