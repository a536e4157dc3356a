#pragma once

// The node's on-disk copy of the last good global configuration (see configuration_client.h for
// the layout). Saving writes a complete new generation directory (every file written to a
// temporary name, fsynced and renamed, the directory fsynced) and only then switches the
// `current` pointer file with an atomic rename; a crash at any point leaves the previous copy in
// use. Loading reads the generation `current` names and ignores any debris of unfinished saves.
//
// Threading: one owner (the configuration client serializes saves and loads).

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"

namespace hansa::confclient {

// One stored configuration: the signed directory in its file form ("Content-Type: ...\r\n\r\n"
// followed by the body), the files it lists in directory order, the certificate (PEM) that
// verified it and the URL it was downloaded from. Plain value.
struct StoredConfiguration {
  std::string directory;
  std::vector<std::string> files;
  std::string verified_by_pem;
  std::string source_url;
};

// Limits on what load() reads back.
struct StoreLimits {
  std::size_t max_directory_bytes = 1024 * 1024;
  std::size_t max_file_bytes = 32 * 1024 * 1024;
  std::size_t max_files = 64;
};

class ConfigurationStore final {
 public:
  // A store under `dir` (created on the first save).
  explicit ConfigurationStore(std::filesystem::path dir, StoreLimits limits = {});

  // Writes `conf` as a new generation and makes it current; removes older generations and debris
  // afterwards. IoError on any write failure (the previous copy stays current).
  [[nodiscard]] Status save(const StoredConfiguration& conf);
  // The current copy; nullopt when none was ever saved. IoError / LimitExceeded when the current
  // generation cannot be read (missing or oversized files).
  [[nodiscard]] Result<std::optional<StoredConfiguration>> load() const;
  // Removes every stored copy. IoError.
  [[nodiscard]] Status clear();

  // Writes `data` to `path` through a temporary file in the same directory, fsync and rename, and
  // fsyncs the directory. IoError.
  [[nodiscard]] static Status write_file_atomic(const std::filesystem::path& path,
                                                std::string_view data);
  // Reads a whole file of at most `max_bytes`. IoError, LimitExceeded.
  [[nodiscard]] static Result<std::string> read_file(const std::filesystem::path& path,
                                                     std::size_t max_bytes);

 private:
  std::filesystem::path dir_;
  StoreLimits limits_;
};

}  // namespace hansa::confclient
