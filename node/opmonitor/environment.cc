#include "node/opmonitor/environment.h"

#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/crypto/certificate.h"
#include "core/ocsp/response.h"
#include "node/signer/signer.h"

#ifndef HANSA_VERSION_STRING
#define HANSA_VERSION_STRING "unknown"
#endif

namespace hansa::opmonitor {

namespace {

using Json = nlohmann::json;

// Reads a small text file (at most 64 KiB); empty when unreadable.
std::string read_small(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {};
  }
  std::string out(64 * 1024, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

// "MemTotal:       16316412 kB" -> bytes.
std::optional<std::uint64_t> meminfo_bytes(const std::string& meminfo, std::string_view key) {
  std::istringstream in(meminfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':') {
      std::istringstream fields(line.substr(key.size() + 1));
      std::uint64_t v = 0;
      std::string unit;
      if (fields >> v) {
        fields >> unit;
        return unit == "kB" ? v * 1024 : v;
      }
    }
  }
  return std::nullopt;
}

std::int64_t epoch_s(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string os_pretty_name() {
  std::istringstream in(read_small("/etc/os-release"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("PRETTY_NAME=")) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        v = v.substr(1, v.size() - 2);
      }
      return v;
    }
  }
  return {};
}

template <typename T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

}  // namespace

std::string hansa_version() { return HANSA_VERSION_STRING; }

std::optional<DiskUsage> disk_usage(const std::string& path) {
  struct statvfs st {};
  if (path.empty() || ::statvfs(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  DiskUsage d;
  d.path = path;
  d.total_bytes = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
  d.free_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  return d;
}

std::vector<CertificateSummary> certificate_summaries(const signer::Signer& signer) {
  std::vector<CertificateSummary> out;
  for (const auto& c : signer.certificates()) {
    CertificateSummary s;
    s.id = c.id;
    s.usage = std::string(signer::key_usage_name(c.usage));
    s.subject = c.certificate.subject();
    s.issuer = c.certificate.issuer();
    s.serial = c.certificate.serial_hex();
    s.not_before = epoch_s(c.certificate.not_before());
    s.not_after = epoch_s(c.certificate.not_after());
    s.active = c.active;
    s.status = std::string(signer::cert_status_name(c.status));
    s.ocsp_status = "none";
    auto ocsp = signer.ocsp_status(c.id);
    if (ocsp.ok()) {
      if (ocsp->status) {
        s.ocsp_status = std::string(ocsp::cert_status_name(*ocsp->status));
      }
      if (ocsp->this_update) {
        s.ocsp_this_update = epoch_s(*ocsp->this_update);
      }
      if (ocsp->last_error) {
        s.ocsp_error = ocsp->last_error->to_string();
      }
    } else {
      s.ocsp_error = ocsp.error().to_string();
    }
    out.push_back(std::move(s));
  }
  return out;
}

EnvironmentData collect_environment(const EnvironmentOptions& options) {
  EnvironmentData e;
  e.collected_at = epoch_s(std::chrono::system_clock::now());
  e.hansa_version = hansa_version();
  struct utsname un {};
  if (::uname(&un) == 0) {
    e.os_name = un.sysname;
    e.os_release = un.release;
    e.architecture = un.machine;
    e.hostname = un.nodename;
  }
  e.os_version = os_pretty_name();
  e.cpu_count = std::thread::hardware_concurrency();

  const std::string& proc = options.proc_root;
  {
    std::istringstream in(read_small(proc + "/loadavg"));
    double a = 0, b = 0, c = 0;
    if (in >> a >> b >> c) {
      e.load_average_1m = a;
      e.load_average_5m = b;
      e.load_average_15m = c;
    }
  }
  {
    const std::string meminfo = read_small(proc + "/meminfo");
    e.memory_total = meminfo_bytes(meminfo, "MemTotal");
    e.memory_available = meminfo_bytes(meminfo, "MemAvailable");
    e.swap_total = meminfo_bytes(meminfo, "SwapTotal");
    e.swap_free = meminfo_bytes(meminfo, "SwapFree");
    const std::string status = read_small(proc + "/self/status");
    e.process_resident = meminfo_bytes(status, "VmRSS");
    e.process_virtual = meminfo_bytes(status, "VmSize");
  }
  {
    std::istringstream in(read_small(proc + "/uptime"));
    double up = 0;
    if (in >> up) {
      e.system_uptime = up;
    }
  }
  {
    struct rusage ru {};
    if (::getrusage(RUSAGE_SELF, &ru) == 0) {
      e.process_cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                              static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    }
  }
  {
    std::error_code ec;
    std::uint64_t n = 0;
    std::filesystem::directory_iterator it(proc + "/self/fd", ec);
    if (!ec) {
      for (; it != std::filesystem::directory_iterator() && n < (1u << 24); it.increment(ec)) {
        if (ec) {
          break;
        }
        ++n;
      }
      if (!ec) {
        e.open_files = n;
      }
    }
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
      e.max_open_files = static_cast<std::uint64_t>(rl.rlim_cur);
    }
  }
  e.process_uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - options.process_start)
          .count();
  for (const auto& p : options.disk_paths) {
    if (auto d = disk_usage(p)) {
      e.disks.push_back(*d);
    }
  }
  if (options.signer != nullptr) {
    e.certificates = certificate_summaries(*options.signer);
  }
  return e;
}

std::string EnvironmentData::to_json() const {
  Json j;
  j["collectedAt"] = collected_at;
  j["hansaVersion"] = hansa_version;
  j["os"] = {{"name", os_name},
             {"release", os_release},
             {"version", os_version},
             {"architecture", architecture},
             {"hostname", hostname}};
  j["cpu"] = {{"count", cpu_count},
              {"loadAverage1m", opt(load_average_1m)},
              {"loadAverage5m", opt(load_average_5m)},
              {"loadAverage15m", opt(load_average_15m)},
              {"processCpuSeconds", opt(process_cpu_seconds)}};
  j["memory"] = {{"totalBytes", opt(memory_total)},
                 {"availableBytes", opt(memory_available)},
                 {"swapTotalBytes", opt(swap_total)},
                 {"swapFreeBytes", opt(swap_free)},
                 {"processResidentBytes", opt(process_resident)},
                 {"processVirtualBytes", opt(process_virtual)}};
  j["files"] = {{"open", opt(open_files)}, {"max", opt(max_open_files)}};
  j["uptime"] = {{"systemSeconds", opt(system_uptime)}, {"processSeconds", process_uptime}};
  Json disks = Json::array();
  for (const auto& d : this->disks) {
    disks.push_back({{"path", d.path}, {"totalBytes", d.total_bytes}, {"freeBytes", d.free_bytes}});
  }
  j["disks"] = disks;
  Json certs = Json::array();
  for (const auto& c : certificates) {
    Json cj = {{"id", c.id},
               {"usage", c.usage},
               {"subject", c.subject},
               {"issuer", c.issuer},
               {"serial", c.serial},
               {"notBefore", c.not_before},
               {"notAfter", c.not_after},
               {"active", c.active},
               {"status", c.status},
               {"ocspStatus", c.ocsp_status},
               {"ocspThisUpdate", opt(c.ocsp_this_update)}};
    if (!c.ocsp_error.empty()) {
      cj["ocspError"] = c.ocsp_error;
    }
    certs.push_back(std::move(cj));
  }
  j["certificates"] = certs;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace hansa::opmonitor
