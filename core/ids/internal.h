#pragma once

// Helpers shared by the files of core/ids; not for use outside the component.
// Threading: pure functions, thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "core/errors/errors.h"
#include "core/ids/ids.h"

namespace hansa::ids {

// "client identifier", "service identifier", ... for the start of error messages.
[[nodiscard]] std::string_view kind_label(FaultCode code) noexcept;

// Quotes untrusted text for an error message: at most 64 bytes, non-printables as \xNN.
[[nodiscard]] std::string quote_for_message(std::string_view text);

// Builds a member or client, reporting bad parts with `code` (the kind of the enclosing
// identifier: a service's provider fails with InvalidServiceIdentifier).
[[nodiscard]] Result<MemberId> make_member(std::string_view instance, std::string_view member_class,
                                           std::string_view member_code, FaultCode code);
[[nodiscard]] Result<ClientId> make_client(std::string_view instance, std::string_view member_class,
                                           std::string_view member_code,
                                           std::optional<std::string_view> subsystem_code,
                                           FaultCode code);

}  // namespace hansa::ids
