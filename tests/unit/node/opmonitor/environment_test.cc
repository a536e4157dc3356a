#include "node/opmonitor/environment.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace hansa::opmonitor {
namespace {

TEST(EnvironmentTest, CollectsFromTheRealSystem) {
  EnvironmentOptions o;
  o.disk_paths = {std::filesystem::temp_directory_path().string(), "/nonexistent/path"};
  o.process_start = std::chrono::steady_clock::now() - std::chrono::seconds(5);
  auto e = collect_environment(o);
  EXPECT_EQ(e.os_name, "Linux");
  EXPECT_FALSE(e.architecture.empty());
  EXPECT_GT(e.cpu_count, 0u);
  ASSERT_TRUE(e.memory_total.has_value());
  EXPECT_GT(*e.memory_total, 1u << 20);
  ASSERT_TRUE(e.process_resident.has_value());
  EXPECT_GT(*e.process_resident, 0u);
  ASSERT_TRUE(e.open_files.has_value());
  EXPECT_GE(*e.open_files, 3u);
  EXPECT_GE(e.process_uptime, 5.0);
  ASSERT_EQ(e.disks.size(), 1u);  // the missing path is left out
  EXPECT_GT(e.disks[0].total_bytes, 0u);
  EXPECT_EQ(e.hansa_version, hansa_version());
  EXPECT_FALSE(e.hansa_version.empty());
  auto j = nlohmann::json::parse(e.to_json());
  EXPECT_EQ(j["os"]["name"], "Linux");
  EXPECT_GT(j["memory"]["totalBytes"].get<std::uint64_t>(), 0u);
  EXPECT_TRUE(j["certificates"].is_array());
  EXPECT_EQ(j["disks"].size(), 1u);
}

TEST(EnvironmentTest, GarbageProcFilesLeaveValuesUnset) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hansa-proc-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  std::filesystem::path root(tmpl);
  std::filesystem::create_directories(root / "self");
  std::ofstream(root / "loadavg") << "not numbers at all";
  std::ofstream(root / "meminfo") << "MemTotal: lots kB\nMemAvailable\n:\n"
                                  << std::string(200000, 'x');
  std::ofstream(root / "uptime") << "";
  std::ofstream(root / "self" / "status") << "VmRSS:\t 12 kB\n";
  EnvironmentOptions o;
  o.proc_root = root.string();
  auto e = collect_environment(o);
  EXPECT_FALSE(e.load_average_1m.has_value());
  EXPECT_FALSE(e.memory_total.has_value());
  EXPECT_FALSE(e.memory_available.has_value());
  EXPECT_FALSE(e.system_uptime.has_value());
  EXPECT_FALSE(e.open_files.has_value());  // no fd directory
  ASSERT_TRUE(e.process_resident.has_value());
  EXPECT_EQ(*e.process_resident, 12u * 1024);
  EXPECT_TRUE(nlohmann::json::accept(e.to_json()));
  std::filesystem::remove_all(root);
}

TEST(EnvironmentTest, DiskUsage) {
  EXPECT_FALSE(disk_usage("").has_value());
  EXPECT_FALSE(disk_usage("/definitely/not/here").has_value());
  auto d = disk_usage("/");
  ASSERT_TRUE(d.has_value());
  EXPECT_LE(d->free_bytes, d->total_bytes);
}

}  // namespace
}  // namespace hansa::opmonitor
