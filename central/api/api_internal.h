#pragma once

// Internals of the admin API shared by its source files (not a public header).

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "central/api/admin_api.h"
#include "central/registry/registry.h"
#include "core/errors/errors.h"
#include "core/http/server.h"

namespace hansa::central::api_internal {

using Json = nlohmann::json;

// Thrown inside the API's handlers only (never across the component boundary): the dispatcher
// turns it into an error answer. `audited` is true when the registry already wrote the audit
// entry for the refusal.
struct ApiError {
  Error error;
  bool audited = false;
};

[[noreturn]] inline void fail(FaultCode code, std::string message, std::string detail = {}) {
  throw ApiError{Error(code, std::move(message), std::move(detail)), false};
}

// The value of a registry read, or a thrown ApiError.
template <typename T>
T value_or_throw(Result<T> result) {
  if (!result.ok()) {
    throw ApiError{std::move(result).error(), false};
  }
  return std::move(result).value();
}

// For registry mutations: their refusals are audited by the registry already.
inline void check_mutation(Status status) {
  if (!status.ok()) {
    throw ApiError{std::move(status).error(), true};
  }
}
template <typename T>
T check_mutation(Result<T> result) {
  if (!result.ok()) {
    throw ApiError{std::move(result).error(), true};
  }
  return std::move(result).value();
}

// A JSON request body that must be an object with only the allowed fields.
class Fields final {
 public:
  Fields(const Json& body, std::initializer_list<std::string_view> allowed);

  [[nodiscard]] bool has(std::string_view name) const;
  [[nodiscard]] std::string str(std::string_view name) const;  // required string
  [[nodiscard]] std::optional<std::string> opt_str(std::string_view name) const;
  [[nodiscard]] bool boolean(std::string_view name, bool fallback) const;
  [[nodiscard]] std::optional<std::int64_t> opt_int(std::string_view name) const;
  [[nodiscard]] const Json& raw(std::string_view name) const;  // present (checked by has())

 private:
  Json body_;  // a copy: callers pass temporaries
};

struct Reply {
  int status = 200;
  Json body;
};

// One request in flight.
struct Call {
  const http::Request& request;
  std::vector<std::string> params;  // the `{name}` path segments, in order
  AuditContext ctx;
  std::size_t max_json_depth = 16;
  std::size_t default_page_size = 100;
  std::size_t max_page_size = 500;

  // The body parsed as JSON (an empty body is `{}`); 400 for malformed or too deep JSON.
  [[nodiscard]] Json json() const;
  // `?limit=&offset=`; 400 for non-numbers, limits above the cap.
  [[nodiscard]] PageRequest page() const;
  // A query parameter that is "true" / "false" (absent = fallback); 400 otherwise.
  [[nodiscard]] bool flag(std::string_view name, bool fallback) const;
};

using Handler = std::function<Reply(Call&)>;

// Identifier parsing from path segments ("GOV:1234", "GOV:1234:sub", "GOV:1234:SS1") and JSON.
ids::MemberId member_from_path(const Registry& registry, std::string_view text);
ids::ClientId client_from_path(const Registry& registry, std::string_view text);
ids::SecurityServerId server_from_path(const Registry& registry, std::string_view text);
ids::GlobalGroupId group_from_path(const Registry& registry, std::string_view text);
std::int64_t int_from_path(std::string_view text);

std::string format_time(TimePoint t);

// Management-request and publisher routes (implemented in central/api/services.cc).
void add_service_routes(std::vector<std::tuple<std::string, std::string, Handler>>& routes,
                        Registry& registry, const AdminApiServices& services);

}  // namespace hansa::central::api_internal
