#include "core/conf/reader.h"

#include <toml++/toml.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace hansa::conf {

// What a root reader and the readers derived from it share.
struct ReaderState {
  std::string source_name;
  std::filesystem::path base_dir;
  LoadLimits limits;
  toml::table root;
  std::vector<std::string> problems;
  std::set<std::string> read_keys;  // full keys that were read (or ignored)
  std::set<std::string> ignored;    // full keys whose subtrees are not checked
  bool unknown_reported = false;    // finish() has added the unknown keys
};

struct ConfReader::Impl {
  std::shared_ptr<ReaderState> state;
  const toml::table* table = nullptr;  // nullptr: an absent (or mistyped) table
  std::string prefix;
};

namespace {

bool is_bare_key(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  for (char c : key) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Untrusted text in a problem: quoted, escaped and cut at 64 bytes.
std::string quote_text(std::string_view key) {
  std::string out = "\"";
  for (std::size_t i = 0; i < key.size() && i < 64; ++i) {
    auto c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (key.size() > 64) {
    out += "...";
  }
  out += '"';
  return out;
}

// A document key as it is written in problems: bare when possible, else quoted.
std::string display_key(std::string_view key) {
  return is_bare_key(key) ? std::string(key) : quote_text(key);
}

std::string join(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) {
    return std::string(key);
  }
  if (key.empty()) {
    return std::string(prefix);
  }
  return std::string(prefix) + "." + std::string(key);
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

std::string seconds_text(std::chrono::milliseconds ms) {
  auto count = ms.count();
  if (count % 1000 == 0) {
    return std::to_string(count / 1000);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(count) / 1000.0);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') {
    s.pop_back();
  }
  return s;
}

// Reads at most `max_bytes` + 1 bytes of `file`; false with `why` on failure.
bool read_limited(const std::filesystem::path& file, std::size_t max_bytes, std::string& out,
                  std::string& why) {
  std::error_code ec;
  auto status = std::filesystem::status(file, ec);
  if (ec) {
    why = "cannot read " + file.string() + ": " + ec.message();
    return false;
  }
  if (!std::filesystem::is_regular_file(status)) {
    why = file.string() + " is not a regular file";
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    why = "cannot open " + file.string();
    return false;
  }
  out.clear();
  char buf[16384];
  while (in) {
    in.read(buf, sizeof buf);
    out.append(buf, static_cast<std::size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      why = file.string() + " is larger than " + std::to_string(max_bytes) + " bytes";
      return false;
    }
  }
  if (in.bad()) {
    why = "cannot read " + file.string();
    return false;
  }
  return true;
}

}  // namespace

// --- construction ---

ConfReader::ConfReader(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
ConfReader::ConfReader(ConfReader&&) noexcept = default;
ConfReader& ConfReader::operator=(ConfReader&&) noexcept = default;
ConfReader::~ConfReader() = default;

Result<ConfReader> ConfReader::from_string(std::string_view toml_text, std::string_view source_name,
                                           std::filesystem::path base_dir,
                                           const LoadLimits& limits) {
  if (toml_text.size() > limits.max_config_bytes) {
    return Error(FaultCode::kInvalidConfiguration, std::string(source_name) + ": larger than " +
                                                       std::to_string(limits.max_config_bytes) +
                                                       " bytes");
  }
  auto state = std::make_shared<ReaderState>();
  state->source_name = std::string(source_name);
  state->base_dir = std::move(base_dir);
  state->limits = limits;
  try {
    state->root = toml::parse(toml_text, std::string_view(state->source_name));
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Error(FaultCode::kInvalidConfiguration,
                 state->source_name + ":" + std::to_string(where.line) + ":" +
                     std::to_string(where.column) + ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return Error(FaultCode::kInvalidConfiguration,
                 state->source_name + ": cannot parse: " + std::string(e.what()));
  }
  auto impl = std::make_unique<Impl>();
  impl->table = &state->root;
  impl->state = std::move(state);
  return ConfReader(std::move(impl));
}

Result<ConfReader> ConfReader::from_file(const std::filesystem::path& file,
                                         const LoadLimits& limits) {
  std::string text;
  std::string why;
  if (!read_limited(file, limits.max_config_bytes, text, why)) {
    return Error(FaultCode::kInvalidConfiguration, "configuration file " + why);
  }
  return from_string(text, file.string(), file.parent_path(), limits);
}

// --- lookup helpers ---

namespace {

// Finds `key` (possibly dotted) under `table`, recording problems for non-table intermediates.
const toml::node* find_node(const toml::table* table, std::string_view prefix, std::string_view key,
                            std::vector<std::string>& problems, std::set<std::string>& read_keys) {
  if (table == nullptr) {
    return nullptr;
  }
  std::string walked(prefix);
  const toml::table* current = table;
  while (true) {
    auto dot = key.find('.');
    std::string_view part = key.substr(0, dot);
    const toml::node* node = current->get(part);
    walked = join(walked, part);
    if (node == nullptr) {
      return nullptr;
    }
    if (dot == std::string_view::npos) {
      read_keys.insert(walked);
      return node;
    }
    if (!node->is_table()) {
      read_keys.insert(walked);
      problems.push_back(walked + ": expected a table, got " + std::string(type_name(*node)));
      return nullptr;
    }
    current = node->as_table();
    key.remove_prefix(dot + 1);
  }
}

}  // namespace

const std::string& ConfReader::prefix() const noexcept { return impl_->prefix; }

bool ConfReader::has(std::string_view key) const {
  if (impl_->table == nullptr) {
    return false;
  }
  return impl_->table->at_path(key).node() != nullptr;
}

void ConfReader::add_problem(std::string_view key, std::string_view message) {
  impl_->state->problems.push_back(join(impl_->prefix, key) + ": " + std::string(message));
}

const std::vector<std::string>& ConfReader::problems() const noexcept {
  return impl_->state->problems;
}

void ConfReader::ignore(std::string_view key) {
  std::string full = join(impl_->prefix, key);
  impl_->state->read_keys.insert(full);
  impl_->state->ignored.insert(full);
}

// --- scalars ---

std::optional<std::string> ConfReader::get_optional_string(std::string_view key) {
  auto& st = *impl_->state;
  const toml::node* node = find_node(impl_->table, impl_->prefix, key, st.problems, st.read_keys);
  if (node == nullptr) {
    return std::nullopt;
  }
  if (!node->is_string()) {
    add_problem(key, "expected a string, got " + std::string(type_name(*node)));
    return std::nullopt;
  }
  return node->as_string()->get();
}

std::string ConfReader::get_string(std::string_view key, std::string_view fallback) {
  auto v = get_optional_string(key);
  return v ? std::move(*v) : std::string(fallback);
}

std::string ConfReader::require_string(std::string_view key) {
  if (!has(key)) {
    add_problem(key, "missing required key");
    return {};
  }
  return get_string(key, "");
}

std::string ConfReader::get_choice(std::string_view key, std::string_view fallback,
                                   const std::vector<std::string_view>& choices) {
  auto v = get_optional_string(key);
  if (!v) {
    return std::string(fallback);
  }
  for (auto c : choices) {
    if (*v == c) {
      return std::move(*v);
    }
  }
  std::string list;
  for (auto c : choices) {
    list += list.empty() ? "" : ", ";
    list += c;
  }
  add_problem(key, "must be one of " + list + ", got " + quote_text(*v));
  return std::string(fallback);
}

std::int64_t ConfReader::get_integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                     std::int64_t max) {
  auto& st = *impl_->state;
  const toml::node* node = find_node(impl_->table, impl_->prefix, key, st.problems, st.read_keys);
  if (node == nullptr) {
    return fallback;
  }
  if (!node->is_integer()) {
    add_problem(key, "expected an integer, got " + std::string(type_name(*node)));
    return fallback;
  }
  std::int64_t v = node->as_integer()->get();
  if (v < min || v > max) {
    add_problem(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                         ", got " + std::to_string(v));
    return fallback;
  }
  return v;
}

std::int64_t ConfReader::require_integer(std::string_view key, std::int64_t min, std::int64_t max) {
  if (!has(key)) {
    add_problem(key, "missing required key");
    return min;
  }
  return get_integer(key, min, min, max);
}

bool ConfReader::get_bool(std::string_view key, bool fallback) {
  auto& st = *impl_->state;
  const toml::node* node = find_node(impl_->table, impl_->prefix, key, st.problems, st.read_keys);
  if (node == nullptr) {
    return fallback;
  }
  if (!node->is_boolean()) {
    add_problem(key, "expected a boolean, got " + std::string(type_name(*node)));
    return fallback;
  }
  return node->as_boolean()->get();
}

std::chrono::milliseconds ConfReader::get_duration(std::string_view key,
                                                   std::chrono::milliseconds fallback,
                                                   std::chrono::milliseconds min,
                                                   std::chrono::milliseconds max) {
  auto& st = *impl_->state;
  const toml::node* node = find_node(impl_->table, impl_->prefix, key, st.problems, st.read_keys);
  if (node == nullptr) {
    return fallback;
  }
  double seconds = 0;
  std::string shown;
  if (node->is_integer()) {
    seconds = static_cast<double>(node->as_integer()->get());
    shown = std::to_string(node->as_integer()->get());
  } else if (node->is_floating_point()) {
    seconds = node->as_floating_point()->get();
    std::ostringstream os;
    os << seconds;
    shown = os.str();
  } else {
    add_problem(key, "expected a duration in seconds, got " + std::string(type_name(*node)));
    return fallback;
  }
  // Compared in milliseconds as doubles first, so huge or non-finite values cannot overflow.
  double ms = seconds * 1000.0;
  if (!std::isfinite(ms) || ms < static_cast<double>(min.count()) ||
      ms > static_cast<double>(max.count())) {
    add_problem(key, "must be between " + seconds_text(min) + " and " + seconds_text(max) +
                         " seconds, got " + shown);
    return fallback;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

std::filesystem::path ConfReader::get_path(std::string_view key,
                                           const std::filesystem::path& fallback) {
  auto resolve = [this](std::filesystem::path p) {
    if (p.is_relative() && !impl_->state->base_dir.empty()) {
      return impl_->state->base_dir / p;
    }
    return p;
  };
  auto v = get_optional_string(key);
  if (!v) {
    return fallback.empty() ? fallback : resolve(fallback);
  }
  if (v->empty()) {
    add_problem(key, "must not be empty");
    return fallback;
  }
  if (v->find('\0') != std::string::npos) {
    add_problem(key, "must not contain a NUL character");
    return fallback;
  }
  return resolve(std::filesystem::path(*v));
}

std::filesystem::path ConfReader::require_path(std::string_view key) {
  if (!has(key)) {
    add_problem(key, "missing required key");
    return {};
  }
  return get_path(key, {});
}

std::optional<Secret> ConfReader::get_optional_secret(std::string_view key) {
  std::string file_key = std::string(key) + "_file";
  bool inline_present = has(key);
  bool file_present = has(file_key);
  if (inline_present && file_present) {
    // Mark both as read so they are not also reported as unknown.
    (void)get_optional_string(key);
    (void)get_optional_string(file_key);
    add_problem(key, "give either " + join(impl_->prefix, key) + " or " +
                         join(impl_->prefix, file_key) + ", not both");
    return std::nullopt;
  }
  if (inline_present) {
    auto& st = *impl_->state;
    const toml::node* node = find_node(impl_->table, impl_->prefix, key, st.problems, st.read_keys);
    if (node == nullptr) {
      return std::nullopt;
    }
    if (!node->is_string()) {
      // The type is safe to report; the value is not.
      add_problem(key, "expected a string, got " + std::string(type_name(*node)));
      return std::nullopt;
    }
    Secret s(node->as_string()->get());
    if (s.empty()) {
      add_problem(key, "must not be empty");
      return std::nullopt;
    }
    return s;
  }
  if (file_present) {
    std::filesystem::path file = get_path(file_key, {});
    if (file.empty()) {
      return std::nullopt;  // get_path recorded the problem
    }
    if (impl_->state->limits.require_private_secret_files) {
      namespace fs = std::filesystem;
      std::error_code ec;
      auto perms = fs::status(file, ec).permissions();
      if (!ec && (perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
        add_problem(file_key, file.string() +
                                  " is open to group or others; make it readable by the service "
                                  "user only (chmod 600)");
        return std::nullopt;
      }
    }
    std::string text;
    std::string why;
    if (!read_limited(file, impl_->state->limits.max_secret_file_bytes, text, why)) {
      add_problem(file_key, why);
      return std::nullopt;
    }
    if (!text.empty() && text.back() == '\n') {
      text.pop_back();
      if (!text.empty() && text.back() == '\r') {
        text.pop_back();
      }
    }
    Secret s(std::move(text));
    if (s.empty()) {
      add_problem(file_key, file.string() + " holds an empty secret");
      return std::nullopt;
    }
    return s;
  }
  return std::nullopt;
}

Secret ConfReader::require_secret(std::string_view key) {
  std::string file_key = std::string(key) + "_file";
  if (!has(key) && !has(file_key)) {
    add_problem(key, "missing required key (or " + join(impl_->prefix, file_key) + ")");
    return Secret();
  }
  auto s = get_optional_secret(key);
  return s ? std::move(*s) : Secret();
}

// --- arrays ---

std::vector<std::string> ConfReader::get_string_array(std::string_view key,
                                                      std::vector<std::string> fallback) {
  auto& st = *impl_->state;
  const toml::node* node = find_node(impl_->table, impl_->prefix, key, st.problems, st.read_keys);
  if (node == nullptr) {
    return fallback;
  }
  const toml::array* arr = node->as_array();
  if (arr == nullptr) {
    add_problem(key, "expected an array of strings, got " + std::string(type_name(*node)));
    return fallback;
  }
  if (arr->size() > st.limits.max_array_items) {
    add_problem(key, "has more than " + std::to_string(st.limits.max_array_items) + " items");
    return fallback;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& item = *arr->get(i);
    if (!item.is_string()) {
      add_problem(std::string(key) + "[" + std::to_string(i) + "]",
                  "expected a string, got " + std::string(type_name(item)));
      ok = false;
      continue;
    }
    out.push_back(item.as_string()->get());
  }
  return ok ? out : fallback;
}

std::vector<std::int64_t> ConfReader::get_integer_array(std::string_view key,
                                                        std::vector<std::int64_t> fallback,
                                                        std::int64_t min, std::int64_t max) {
  auto& st = *impl_->state;
  const toml::node* node = find_node(impl_->table, impl_->prefix, key, st.problems, st.read_keys);
  if (node == nullptr) {
    return fallback;
  }
  const toml::array* arr = node->as_array();
  if (arr == nullptr) {
    add_problem(key, "expected an array of integers, got " + std::string(type_name(*node)));
    return fallback;
  }
  if (arr->size() > st.limits.max_array_items) {
    add_problem(key, "has more than " + std::to_string(st.limits.max_array_items) + " items");
    return fallback;
  }
  std::vector<std::int64_t> out;
  bool ok = true;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& item = *arr->get(i);
    std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (!item.is_integer()) {
      add_problem(item_key, "expected an integer, got " + std::string(type_name(item)));
      ok = false;
      continue;
    }
    std::int64_t v = item.as_integer()->get();
    if (v < min || v > max) {
      add_problem(item_key, "must be between " + std::to_string(min) + " and " +
                                std::to_string(max) + ", got " + std::to_string(v));
      ok = false;
      continue;
    }
    out.push_back(v);
  }
  return ok ? out : fallback;
}

// --- tables ---

ConfReader ConfReader::table(std::string_view key) {
  auto& st = *impl_->state;
  auto impl = std::make_unique<Impl>();
  impl->state = impl_->state;
  impl->prefix = join(impl_->prefix, key);
  const toml::node* node = find_node(impl_->table, impl_->prefix, key, st.problems, st.read_keys);
  if (node != nullptr) {
    if (node->is_table()) {
      impl->table = node->as_table();
    } else {
      add_problem(key, "expected a table, got " + std::string(type_name(*node)));
    }
  }
  return ConfReader(std::move(impl));
}

std::vector<ConfReader> ConfReader::table_array(std::string_view key) {
  auto& st = *impl_->state;
  std::vector<ConfReader> out;
  const toml::node* node = find_node(impl_->table, impl_->prefix, key, st.problems, st.read_keys);
  if (node == nullptr) {
    return out;
  }
  const toml::array* arr = node->as_array();
  if (arr == nullptr) {
    add_problem(key, "expected an array of tables, got " + std::string(type_name(*node)));
    return out;
  }
  if (arr->size() > st.limits.max_array_items) {
    add_problem(key, "has more than " + std::to_string(st.limits.max_array_items) + " items");
    return out;
  }
  std::string full = join(impl_->prefix, key);
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& item = *arr->get(i);
    std::string item_prefix = full + "[" + std::to_string(i) + "]";
    if (!item.is_table()) {
      st.problems.push_back(item_prefix + ": expected a table, got " +
                            std::string(type_name(item)));
      continue;
    }
    auto impl = std::make_unique<Impl>();
    impl->state = impl_->state;
    impl->prefix = item_prefix;
    impl->table = item.as_table();
    out.push_back(ConfReader(std::move(impl)));
  }
  return out;
}

// --- finish ---

namespace {

bool anything_read_under(const std::set<std::string>& read_keys, const std::string& full) {
  for (const std::string& sep : {full + ".", full + "["}) {
    auto it = read_keys.lower_bound(sep);
    if (it != read_keys.end() && it->compare(0, sep.size(), sep) == 0) {
      return true;
    }
  }
  return false;
}

void report_unknown(const toml::table& table, const std::string& prefix, const ReaderState& st,
                    std::vector<std::string>& out);

void report_unknown_node(const toml::node& node, const std::string& full, const ReaderState& st,
                         std::vector<std::string>& out) {
  if (st.ignored.count(full) != 0) {
    return;
  }
  bool read = st.read_keys.count(full) != 0;
  if (node.is_table()) {
    if (read || anything_read_under(st.read_keys, full)) {
      report_unknown(*node.as_table(), full, st, out);
    } else {
      out.push_back(full + ": unknown key");
    }
    return;
  }
  if (node.is_array() && read) {
    // Items of an array of tables were read through table_array(): check inside them.
    const toml::array& arr = *node.as_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (arr.get(i)->is_table()) {
        report_unknown(*arr.get(i)->as_table(), full + "[" + std::to_string(i) + "]", st, out);
      }
    }
    return;
  }
  if (!read) {
    out.push_back(full + ": unknown key");
  }
}

void report_unknown(const toml::table& table, const std::string& prefix, const ReaderState& st,
                    std::vector<std::string>& out) {
  for (auto&& [k, v] : table) {
    report_unknown_node(v, join(prefix, display_key(k.str())), st, out);
  }
}

}  // namespace

Status ConfReader::finish() {
  auto& st = *impl_->state;
  if (!st.unknown_reported) {
    report_unknown(st.root, "", st, st.problems);
    st.unknown_reported = true;
  }
  if (st.problems.empty()) {
    return ok_status();
  }
  std::string message = "configuration " + st.source_name + " has " +
                        std::to_string(st.problems.size()) +
                        (st.problems.size() == 1 ? " problem:" : " problems:");
  for (const auto& p : st.problems) {
    message += "\n  ";
    message += p;
  }
  return Error(FaultCode::kInvalidConfiguration, std::move(message), st.source_name);
}

}  // namespace hansa::conf
