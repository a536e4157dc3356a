#pragma once

// The schemas of schemas/globalconf/, compiled into the library (internal to core/globalconf).
// Threading: the returned schemas are immutable and loaded once; share freely.

#include <string_view>

#include "core/xml/xml.h"

namespace hansa::globalconf::internal {

extern const std::string_view kSharedParametersXsd;
extern const std::string_view kPrivateParametersXsd;
extern const std::string_view kConfigurationAnchorXsd;

// Compiled once on first use; a schema that does not compile is a build defect (aborts).
[[nodiscard]] const xml::Schema& shared_parameters_schema();
[[nodiscard]] const xml::Schema& private_parameters_schema();
[[nodiscard]] const xml::Schema& configuration_anchor_schema();

}  // namespace hansa::globalconf::internal
