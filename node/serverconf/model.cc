#include "node/serverconf/model.h"

#include <array>
#include <utility>

namespace hansa::serverconf {
namespace {

template <typename E, std::size_t N>
std::optional<E> from_name(const std::array<std::pair<E, std::string_view>, N>& table,
                           std::string_view name) {
  for (const auto& [value, n] : table) {
    if (n == name) {
      return value;
    }
  }
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view to_name(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, n] : table) {
    if (v == value) {
      return n;
    }
  }
  return "unknown";
}

constexpr std::array<std::pair<RegistrationState, std::string_view>, 5> kStates = {{
    {RegistrationState::kSaved, "saved"},
    {RegistrationState::kRegistrationInProgress, "registration_in_progress"},
    {RegistrationState::kRegistered, "registered"},
    {RegistrationState::kDeletionInProgress, "deletion_in_progress"},
    {RegistrationState::kGlobalError, "global_error"},
}};

constexpr std::array<std::pair<IsConnectionType, std::string_view>, 3> kConnections = {{
    {IsConnectionType::kHttp, "http"},
    {IsConnectionType::kHttps, "https"},
    {IsConnectionType::kHttpsAuth, "https_auth"},
}};

constexpr std::array<std::pair<DescriptionType, std::string_view>, 3> kDescriptionTypes = {{
    {DescriptionType::kWsdl, "wsdl"},
    {DescriptionType::kOpenApi, "openapi3"},
    {DescriptionType::kRest, "rest"},
}};

}  // namespace

std::string_view registration_state_name(RegistrationState state) noexcept {
  return to_name(kStates, state);
}
std::optional<RegistrationState> registration_state_from_name(std::string_view name) noexcept {
  return from_name(kStates, name);
}
std::string_view is_connection_name(IsConnectionType type) noexcept {
  return to_name(kConnections, type);
}
std::optional<IsConnectionType> is_connection_from_name(std::string_view name) noexcept {
  return from_name(kConnections, name);
}
std::string_view description_type_name(DescriptionType type) noexcept {
  return to_name(kDescriptionTypes, type);
}
std::optional<DescriptionType> description_type_from_name(std::string_view name) noexcept {
  return from_name(kDescriptionTypes, name);
}

Result<AccessSubject> parse_subject(std::string_view text) {
  HANSA_ASSIGN_OR_RETURN(ids::AnyId any, ids::parse_any(text));
  if (auto* m = std::get_if<ids::MemberId>(&any)) {
    return AccessSubject(ids::ClientId(std::move(*m)));
  }
  if (auto* s = std::get_if<ids::SubsystemId>(&any)) {
    return AccessSubject(ids::ClientId(std::move(*s)));
  }
  if (auto* g = std::get_if<ids::GlobalGroupId>(&any)) {
    return AccessSubject(std::move(*g));
  }
  if (auto* l = std::get_if<ids::LocalGroupId>(&any)) {
    return AccessSubject(std::move(*l));
  }
  return Error(FaultCode::kInvalidIdentifier,
               "an access right subject must be a member, subsystem, global group or local group",
               std::string(text));
}

std::string subject_to_string(const AccessSubject& subject) {
  return std::visit([](const auto& id) { return id.to_string(); }, subject);
}

}  // namespace hansa::serverconf
