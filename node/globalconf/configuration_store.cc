#include "node/globalconf/configuration_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>
#include <utility>

namespace hansa::confclient {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCurrentFile = "current";
constexpr std::string_view kGenerationPrefix = "gen-";
constexpr std::string_view kDirectoryFile = "directory.mime";
constexpr std::string_view kVerifiedByFile = "verified-by.pem";
constexpr std::string_view kSourceUrlFile = "source-url";
constexpr std::string_view kEntryPrefix = "entry-";
constexpr std::size_t kMaxSmallFile = 64 * 1024;

Error io_error(std::string message, const fs::path& path, int err = 0) {
  std::string detail = path.string();
  if (err != 0) {
    detail += ": ";
    detail += std::strerror(err);
  }
  return Error(FaultCode::kIoError, std::move(message), std::move(detail));
}

Status fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    return io_error("cannot open for fsync", path, errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return io_error("fsync failed", path, err);
  }
  return ok_status();
}

// Writes and fsyncs a new file (truncating one left by an interrupted save).
Status write_new_file(const fs::path& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return io_error("cannot create file", path, errno);
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      ::close(fd);
      return io_error("write failed", path, err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return io_error("fsync failed", path, err);
  }
  if (::close(fd) != 0) {
    return io_error("close failed", path, errno);
  }
  return ok_status();
}

std::optional<std::uint64_t> generation_number(std::string_view name) {
  if (!name.starts_with(kGenerationPrefix)) {
    return std::nullopt;
  }
  name.remove_prefix(kGenerationPrefix.size());
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec != std::errc() || ptr != name.data() + name.size() || name.empty()) {
    return std::nullopt;
  }
  return n;
}

std::string entry_name(std::size_t i) { return std::string(kEntryPrefix) + std::to_string(i); }

}  // namespace

ConfigurationStore::ConfigurationStore(std::filesystem::path dir, StoreLimits limits)
    : dir_(std::move(dir)), limits_(limits) {}

Status ConfigurationStore::write_file_atomic(const std::filesystem::path& path,
                                             std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp";
  HANSA_RETURN_IF_ERROR(write_new_file(tmp, data));
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return io_error("rename failed", path, ec.value());
  }
  return fsync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path(), true);
}

Result<std::string> ConfigurationStore::read_file(const std::filesystem::path& path,
                                                  std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return io_error("cannot open file", path, errno);
  }
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      ::close(fd);
      return io_error("read failed", path, err);
    }
    if (n == 0) {
      break;
    }
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      ::close(fd);
      return Error(FaultCode::kLimitExceeded, "stored file is too large", path.string());
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Status ConfigurationStore::save(const StoredConfiguration& conf) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return io_error("cannot create the configuration directory", dir_, ec.value());
  }
  // The next generation number is above every one present, finished or not.
  std::uint64_t next = 1;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (auto n = generation_number(e.path().filename().string())) {
      next = std::max(next, *n + 1);
    }
  }
  if (ec) {
    return io_error("cannot list the configuration directory", dir_, ec.value());
  }
  std::string gen_name = std::string(kGenerationPrefix) + std::to_string(next);
  fs::path gen = dir_ / gen_name;
  fs::create_directory(gen, ec);
  if (ec) {
    return io_error("cannot create a configuration generation", gen, ec.value());
  }
  HANSA_RETURN_IF_ERROR(write_new_file(gen / kDirectoryFile, conf.directory));
  for (std::size_t i = 0; i < conf.files.size(); ++i) {
    HANSA_RETURN_IF_ERROR(write_new_file(gen / entry_name(i), conf.files[i]));
  }
  HANSA_RETURN_IF_ERROR(write_new_file(gen / kVerifiedByFile, conf.verified_by_pem));
  HANSA_RETURN_IF_ERROR(write_new_file(gen / kSourceUrlFile, conf.source_url));
  HANSA_RETURN_IF_ERROR(fsync_path(gen, true));
  HANSA_RETURN_IF_ERROR(fsync_path(dir_, true));
  // The commit point.
  HANSA_RETURN_IF_ERROR(write_file_atomic(dir_ / kCurrentFile, gen_name));
  // Older generations and debris of interrupted saves; failures here are harmless.
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (name != gen_name && name != kCurrentFile) {
      std::error_code ignored;
      fs::remove_all(e.path(), ignored);
    }
  }
  return ok_status();
}

Result<std::optional<StoredConfiguration>> ConfigurationStore::load() const {
  std::error_code ec;
  if (!fs::exists(dir_ / kCurrentFile, ec)) {
    return std::optional<StoredConfiguration>();
  }
  HANSA_ASSIGN_OR_RETURN(std::string gen_name, read_file(dir_ / kCurrentFile, kMaxSmallFile));
  if (!generation_number(gen_name)) {
    return io_error("the current-configuration pointer is corrupt", dir_ / kCurrentFile);
  }
  fs::path gen = dir_ / gen_name;
  StoredConfiguration conf;
  HANSA_ASSIGN_OR_RETURN(conf.directory,
                         read_file(gen / kDirectoryFile, limits_.max_directory_bytes + 4096));
  HANSA_ASSIGN_OR_RETURN(conf.verified_by_pem, read_file(gen / kVerifiedByFile, kMaxSmallFile));
  HANSA_ASSIGN_OR_RETURN(conf.source_url, read_file(gen / kSourceUrlFile, kMaxSmallFile));
  for (std::size_t i = 0;; ++i) {
    fs::path p = gen / entry_name(i);
    if (!fs::exists(p, ec)) {
      break;
    }
    if (i >= limits_.max_files) {
      return Error(FaultCode::kLimitExceeded, "too many stored configuration files", gen.string());
    }
    HANSA_ASSIGN_OR_RETURN(std::string bytes, read_file(p, limits_.max_file_bytes));
    conf.files.push_back(std::move(bytes));
  }
  return std::optional<StoredConfiguration>(std::move(conf));
}

Status ConfigurationStore::clear() {
  std::error_code ec;
  fs::remove(dir_ / kCurrentFile, ec);
  if (ec) {
    return io_error("cannot remove the stored configuration", dir_ / kCurrentFile, ec.value());
  }
  fs::remove_all(dir_, ec);
  if (ec) {
    return io_error("cannot remove the stored configuration", dir_, ec.value());
  }
  return ok_status();
}

}  // namespace hansa::confclient
