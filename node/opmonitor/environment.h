#pragma once

// Environmental data of the node (X-Road's getSecurityServerMetrics / environmental monitoring):
// operating system, CPU, memory, disk, open files, uptime, Hansa version and the node's
// certificates. Read from /proc, uname(2), statvfs(3) and getrlimit(2); a value that cannot be
// read is left unset rather than failing the whole collection.
//
// Threading: the functions are thread-safe (no shared state).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hansa::signer {
class Signer;
}

namespace hansa::opmonitor {

// One certificate of the node (signing or authentication) with its OCSP state.
struct CertificateSummary {
  std::string id;     // SHA-1 hash (hex), as node/signer names it
  std::string usage;  // "SIGNING" / "AUTHENTICATION"
  std::string subject;
  std::string issuer;
  std::string serial;
  std::int64_t not_before = 0;  // unix seconds
  std::int64_t not_after = 0;
  bool active = false;
  std::string status;       // node/signer's state: "REGISTERED", ...
  std::string ocsp_status;  // "good", "revoked", "unknown" or "none"
  std::optional<std::int64_t> ocsp_this_update;
  std::string ocsp_error;  // why there is no fresh response, when there is none
};

// A disk the node writes to (database, archive, state directories).
struct DiskUsage {
  std::string path;
  std::uint64_t total_bytes = 0;
  std::uint64_t free_bytes = 0;  // available to unprivileged users
};

struct EnvironmentData {
  std::int64_t collected_at = 0;  // unix seconds
  std::string hansa_version;
  // Operating system (uname).
  std::string os_name;     // "Linux"
  std::string os_release;  // kernel release
  std::string os_version;  // PRETTY_NAME of /etc/os-release when readable
  std::string architecture;
  std::string hostname;
  // CPU
  std::uint32_t cpu_count = 0;
  std::optional<double> load_average_1m;
  std::optional<double> load_average_5m;
  std::optional<double> load_average_15m;
  std::optional<double> process_cpu_seconds;  // user + system time of this process
  // Memory (bytes)
  std::optional<std::uint64_t> memory_total;
  std::optional<std::uint64_t> memory_available;
  std::optional<std::uint64_t> swap_total;
  std::optional<std::uint64_t> swap_free;
  std::optional<std::uint64_t> process_resident;
  std::optional<std::uint64_t> process_virtual;
  // Files
  std::optional<std::uint64_t> open_files;
  std::optional<std::uint64_t> max_open_files;
  // Uptime (seconds)
  std::optional<double> system_uptime;
  double process_uptime = 0;
  std::vector<DiskUsage> disks;
  std::vector<CertificateSummary> certificates;

  // {"collectedAt":..., "hansaVersion":..., "os":{...}, "cpu":{...}, "memory":{...},
  //  "files":{...}, "uptime":{...}, "disks":[...], "certificates":[...]}
  [[nodiscard]] std::string to_json() const;
};

// What collect_environment() looks at.
struct EnvironmentOptions {
  // Directories whose file system usage is reported.
  std::vector<std::string> disk_paths;
  // When this process started (for process_uptime).
  std::chrono::steady_clock::time_point process_start = std::chrono::steady_clock::now();
  // The node's signer (certificates); may be null.
  const signer::Signer* signer = nullptr;
  // Root of /proc (tests point it elsewhere).
  std::string proc_root = "/proc";
};

// Collects the data now.
[[nodiscard]] EnvironmentData collect_environment(const EnvironmentOptions& options);

// The node's certificates from the signer (OCSP state included).
[[nodiscard]] std::vector<CertificateSummary> certificate_summaries(const signer::Signer& signer);

// Disk usage of `path` (statvfs); nullopt when it cannot be read.
[[nodiscard]] std::optional<DiskUsage> disk_usage(const std::string& path);

// The Hansa version this binary was built from.
[[nodiscard]] std::string hansa_version();

}  // namespace hansa::opmonitor
