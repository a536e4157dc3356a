#pragma once

// Configuration loading: one TOML file per daemon, parsed once, validated completely, then frozen
// into the daemon's own immutable struct (DESIGN.md "Configuration").
//
// A daemon's loader reads every field through a ConfReader, which records each problem with its
// full key ("server.port: must be between 1 and 65535, got 0") instead of stopping at the first,
// and finish() returns the struct or one InvalidConfiguration error listing every problem, keys
// that nobody read ("unknown key") included:
//
//   Result<NodeConf> load_node_conf(const std::filesystem::path& file) {
//     HANSA_ASSIGN_OR_RETURN(auto reader, conf::ConfReader::from_file(file));
//     NodeConf c;
//     auto server = reader.table("server");
//     c.port = static_cast<std::uint16_t>(server.get_integer("port", 8080, 1, 65535));
//     c.token_pin = reader.require_secret("token.pin");   // or token.pin_file = "..."
//     return reader.finish(std::move(c));
//   }
//
// Keys may be dotted paths ("token.pin"); they are looked up through sub-tables and reported
// with their full path. toml++ stays inside reader.cc.
//
// Threading: a ConfReader and the readers derived from it (table(), table_array()) share one
// state and have one owner; use them from one thread, then drop them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/conf/secret.h"
#include "core/errors/errors.h"

namespace hansa::conf {

// Bounds for reading configuration input.
struct LoadLimits {
  // Largest configuration file or string accepted.
  std::size_t max_config_bytes = 1024 * 1024;
  // Largest file a secret is read from (`pin_file = "..."`).
  std::size_t max_secret_file_bytes = 64 * 1024;
  // Most items accepted in one array or array of tables.
  std::size_t max_array_items = 4096;
  // Refuse a secret file that group or others may read or write (mode must be 0600 or stricter),
  // so a PIN or password does not sit in a file every local user can read.
  bool require_private_secret_files = true;
};

class ConfReader final {
 public:
  // Parses TOML text. `source_name` names it in messages. Relative paths read with get_path()
  // and secret files resolve against `base_dir` (the current directory when empty). Fails with
  // InvalidConfiguration: oversized input, or malformed TOML ("name:LINE:COLUMN: what").
  [[nodiscard]] static Result<ConfReader> from_string(std::string_view toml,
                                                      std::string_view source_name = "<string>",
                                                      std::filesystem::path base_dir = {},
                                                      const LoadLimits& limits = {});

  // Reads and parses a file; relative paths in it resolve against the file's directory. Fails
  // with InvalidConfiguration when the file is missing, not a regular file, unreadable, larger
  // than limits.max_config_bytes, or malformed.
  [[nodiscard]] static Result<ConfReader> from_file(const std::filesystem::path& file,
                                                    const LoadLimits& limits = {});

  ConfReader(ConfReader&&) noexcept;
  ConfReader& operator=(ConfReader&&) noexcept;
  ConfReader(const ConfReader&) = delete;
  ConfReader& operator=(const ConfReader&) = delete;
  ~ConfReader();

  // The full key of this reader's table: "" at the root, "server", "peers[2]".
  [[nodiscard]] const std::string& prefix() const noexcept;

  // True when `key` is present (it is not marked as read).
  [[nodiscard]] bool has(std::string_view key) const;

  // --- Scalars. A missing key gives the fallback; a wrong type or range records a problem and
  // gives the fallback. require_* record "missing required key" when absent. ---

  [[nodiscard]] std::string get_string(std::string_view key, std::string_view fallback);
  [[nodiscard]] std::optional<std::string> get_optional_string(std::string_view key);
  [[nodiscard]] std::string require_string(std::string_view key);
  // A string that must be one of `choices`.
  [[nodiscard]] std::string get_choice(std::string_view key, std::string_view fallback,
                                       const std::vector<std::string_view>& choices);

  // An integer within [min, max].
  [[nodiscard]] std::int64_t get_integer(std::string_view key, std::int64_t fallback,
                                         std::int64_t min, std::int64_t max);
  [[nodiscard]] std::int64_t require_integer(std::string_view key, std::int64_t min,
                                             std::int64_t max);

  [[nodiscard]] bool get_bool(std::string_view key, bool fallback);

  // A duration written in seconds, integer or fractional (`timeout = 2.5`), within [min, max];
  // kept to millisecond precision.
  [[nodiscard]] std::chrono::milliseconds get_duration(std::string_view key,
                                                       std::chrono::milliseconds fallback,
                                                       std::chrono::milliseconds min,
                                                       std::chrono::milliseconds max);

  // A non-empty path; a relative one is resolved against the base directory. The fallback is
  // resolved the same way.
  [[nodiscard]] std::filesystem::path get_path(std::string_view key,
                                               const std::filesystem::path& fallback);
  [[nodiscard]] std::filesystem::path require_path(std::string_view key);

  // A secret given inline (`pin = "1234"`) or in a file named by `<key>_file`
  // (`pin_file = "/etc/hansa/pin"`; one trailing newline is dropped). Giving both is a problem;
  // so are an unreadable or oversized file, a file open to group or others (see LoadLimits) and
  // an empty secret. The value never appears in problems.
  [[nodiscard]] std::optional<Secret> get_optional_secret(std::string_view key);
  [[nodiscard]] Secret require_secret(std::string_view key);

  // --- Arrays (at most limits.max_array_items items; each item is checked). ---

  [[nodiscard]] std::vector<std::string> get_string_array(std::string_view key,
                                                          std::vector<std::string> fallback);
  [[nodiscard]] std::vector<std::int64_t> get_integer_array(std::string_view key,
                                                            std::vector<std::int64_t> fallback,
                                                            std::int64_t min, std::int64_t max);

  // --- Tables. ---

  // The sub-table `key`. When absent, the returned reader is empty (every get_* gives its
  // fallback, every require_* records a problem). A non-table value records a problem.
  [[nodiscard]] ConfReader table(std::string_view key);
  // The array of tables `key` (`[[peers]]`), one reader per element, prefixes "peers[0]", ...
  [[nodiscard]] std::vector<ConfReader> table_array(std::string_view key);

  // Marks `key` (and everything under it) as read without interpreting it, for sections handled
  // elsewhere.
  void ignore(std::string_view key);

  // Records a problem found by the caller's own checks (cross-field rules). `key` is relative
  // to this reader; empty for the table itself.
  void add_problem(std::string_view key, std::string_view message);

  // Every problem recorded so far, as "full.key: message", in the order found.
  [[nodiscard]] const std::vector<std::string>& problems() const noexcept;

  // Reports keys nobody read as "unknown key", then succeeds when there are no problems or
  // fails with InvalidConfiguration whose message lists all of them, one per line (the detail
  // is the source name). Call it after reading everything; any reader of the tree may call it,
  // and calling again gives the same answer.
  [[nodiscard]] Status finish();
  template <typename T>
  [[nodiscard]] Result<T> finish(T value) {
    auto st = finish();
    if (!st.ok()) {
      return std::move(st).error();
    }
    return Result<T>(std::move(value));
  }

 private:
  struct Impl;
  explicit ConfReader(std::unique_ptr<Impl> impl) noexcept;

  std::unique_ptr<Impl> impl_;
};

}  // namespace hansa::conf
