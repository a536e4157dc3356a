#include "core/globalconf/model.h"

namespace hansa::globalconf {

std::string_view cost_type_name(CostType type) noexcept {
  switch (type) {
    case CostType::kFree:
      return "FREE";
    case CostType::kPaid:
      return "PAID";
    case CostType::kUndefined:
      break;
  }
  return "UNDEFINED";
}

std::optional<CostType> cost_type_from_name(std::string_view name) noexcept {
  if (name == "FREE") {
    return CostType::kFree;
  }
  if (name == "PAID") {
    return CostType::kPaid;
  }
  if (name == "UNDEFINED") {
    return CostType::kUndefined;
  }
  return std::nullopt;
}

std::string_view csr_format_name(CsrFormat format) noexcept {
  return format == CsrFormat::kDer ? "DER" : "PEM";
}

std::optional<CsrFormat> csr_format_from_name(std::string_view name) noexcept {
  if (name == "PEM") {
    return CsrFormat::kPem;
  }
  if (name == "DER") {
    return CsrFormat::kDer;
  }
  return std::nullopt;
}

}  // namespace hansa::globalconf
