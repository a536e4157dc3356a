#pragma once

// File helpers for the software token (node/signer .cc files only). Thread-safe.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/errors/errors.h"

namespace hansa::signer::internal {

// Writes `data` to `path` with mode 0600 through a temporary file, fsync and rename, so readers
// see the old or the new content, never a mix. Fails with IoError.
[[nodiscard]] Status write_file_atomic(const std::filesystem::path& path, std::string_view data);

// Reads a whole file of at most `max_bytes`. Fails with IoError / LimitExceeded.
[[nodiscard]] Result<std::string> read_file(const std::filesystem::path& path,
                                            std::size_t max_bytes);

}  // namespace hansa::signer::internal
