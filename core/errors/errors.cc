#include "core/errors/errors.h"

#include <array>
#include <cstdio>

namespace hansa {
namespace {

struct FaultEntry {
  FaultCode code;
  std::string_view name;
};

// Wire spellings. X-Road's own codes keep X-Road's spelling exactly (IOError, HSMNonOperational).
constexpr std::array kFaults{
    FaultEntry{FaultCode::kIoError, "IOError"},
    FaultEntry{FaultCode::kNetworkError, "NetworkError"},
    FaultEntry{FaultCode::kInternalError, "InternalError"},
    FaultEntry{FaultCode::kBadRequest, "BadRequest"},
    FaultEntry{FaultCode::kDatabaseError, "DatabaseError"},
    FaultEntry{FaultCode::kCommitOutcomeUnknown, "CommitOutcomeUnknown"},
    FaultEntry{FaultCode::kInvalidRequest, "InvalidRequest"},
    FaultEntry{FaultCode::kLimitExceeded, "LimitExceeded"},
    FaultEntry{FaultCode::kTimeout, "Timeout"},
    FaultEntry{FaultCode::kNotFound, "NotFound"},
    FaultEntry{FaultCode::kConflict, "Conflict"},
    FaultEntry{FaultCode::kUnauthorized, "Unauthorized"},
    FaultEntry{FaultCode::kForbidden, "Forbidden"},
    FaultEntry{FaultCode::kInvalidConfiguration, "InvalidConfiguration"},
    FaultEntry{FaultCode::kInvalidClientIdentifier, "InvalidClientIdentifier"},
    FaultEntry{FaultCode::kInvalidServiceIdentifier, "InvalidServiceIdentifier"},
    FaultEntry{FaultCode::kInvalidSecurityServer, "InvalidSecurityServer"},
    FaultEntry{FaultCode::kInvalidIdentifier, "InvalidIdentifier"},
    FaultEntry{FaultCode::kCertValidation, "CertValidation"},
    FaultEntry{FaultCode::kIncorrectCertificate, "IncorrectCertificate"},
    FaultEntry{FaultCode::kInvalidSignatureValue, "InvalidSignatureValue"},
    FaultEntry{FaultCode::kMalformedSignature, "MalformedSignature"},
    FaultEntry{FaultCode::kInvalidHashChain, "InvalidHashChain"},
    FaultEntry{FaultCode::kMalformedHashChain, "MalformedHashChain"},
    FaultEntry{FaultCode::kHashChainUnusedInputs, "HashChainUnusedInputs"},
    FaultEntry{FaultCode::kInvalidHashChainRef, "InvalidHashChainRef"},
    FaultEntry{FaultCode::kTimestampValidation, "TimestampValidation"},
    FaultEntry{FaultCode::kTimestamperFailed, "TimestamperFailed"},
    FaultEntry{FaultCode::kTimestampingFailed, "TimestampingFailed"},
    FaultEntry{FaultCode::kOcspFailed, "OcspFailed"},
    FaultEntry{FaultCode::kCryptoError, "CryptoError"},
    FaultEntry{FaultCode::kInvalidCertificate, "InvalidCertificate"},
    FaultEntry{FaultCode::kInvalidKey, "InvalidKey"},
    FaultEntry{FaultCode::kSslAuthenticationFailed, "SslAuthenticationFailed"},
    FaultEntry{FaultCode::kLoggingFailed, "LoggingFailed"},
    FaultEntry{FaultCode::kInvalidContentType, "InvalidContentType"},
    FaultEntry{FaultCode::kMimeParsingFailed, "MimeParsingFailed"},
    FaultEntry{FaultCode::kMissingHeader, "MissingHeader"},
    FaultEntry{FaultCode::kMissingHeaderField, "MissingHeaderField"},
    FaultEntry{FaultCode::kDuplicateHeaderField, "DuplicateHeaderField"},
    FaultEntry{FaultCode::kMissingBody, "MissingBody"},
    FaultEntry{FaultCode::kInconsistentHeaders, "InconsistentHeaders"},
    FaultEntry{FaultCode::kInconsistentResponse, "InconsistentResponse"},
    FaultEntry{FaultCode::kMissingSoap, "MissingSoap"},
    FaultEntry{FaultCode::kInvalidSoap, "InvalidSoap"},
    FaultEntry{FaultCode::kInvalidXml, "InvalidXml"},
    FaultEntry{FaultCode::kMissingRest, "MissingRest"},
    FaultEntry{FaultCode::kInvalidRest, "InvalidRest"},
    FaultEntry{FaultCode::kAccessDenied, "AccessDenied"},
    FaultEntry{FaultCode::kServiceDisabled, "ServiceDisabled"},
    FaultEntry{FaultCode::kServiceFailed, "ServiceFailed"},
    FaultEntry{FaultCode::kMissingSignature, "MissingSignature"},
    FaultEntry{FaultCode::kUnknownService, "UnknownService"},
    FaultEntry{FaultCode::kUnknownMember, "UnknownMember"},
    FaultEntry{FaultCode::kInvalidProtocolVersion, "InvalidProtocolVersion"},
    FaultEntry{FaultCode::kServiceType, "ServiceType"},
    FaultEntry{FaultCode::kClientProxyVersionNotSupported, "ClientProxyVersionNotSupported"},
    FaultEntry{FaultCode::kServiceMissingUrl, "ServiceMissingUrl"},
    FaultEntry{FaultCode::kMaintenanceMode, "MaintenanceMode"},
    FaultEntry{FaultCode::kMalformedGlobalConf, "MalformedGlobalConf"},
    FaultEntry{FaultCode::kOutdatedGlobalConf, "OutdatedGlobalConf"},
    FaultEntry{FaultCode::kInvalidGlobalConf, "InvalidGlobalConf"},
    FaultEntry{FaultCode::kAsicContainerNotFound, "AsicContainerNotFound"},
    FaultEntry{FaultCode::kAsicMalformed, "AsicMalformed"},
    FaultEntry{FaultCode::kArchiveLinkMismatch, "ArchiveLinkMismatch"},
    FaultEntry{FaultCode::kHsmNonOperational, "HSMNonOperational"},
    FaultEntry{FaultCode::kTokenNotFound, "TokenNotFound"},
    FaultEntry{FaultCode::kTokenNotActive, "TokenNotActive"},
    FaultEntry{FaultCode::kTokenNotAvailable, "TokenNotAvailable"},
    FaultEntry{FaultCode::kTokenPinPolicyFailure, "TokenPinPolicyFailure"},
    FaultEntry{FaultCode::kPinIncorrect, "PinIncorrect"},
    FaultEntry{FaultCode::kKeyNotFound, "KeyNotFound"},
    FaultEntry{FaultCode::kKeyNotAvailable, "KeyNotAvailable"},
    FaultEntry{FaultCode::kCertNotFound, "CertNotFound"},
    FaultEntry{FaultCode::kCsrNotFound, "CsrNotFound"},
    FaultEntry{FaultCode::kWrongCertUsage, "WrongCertUsage"},
    FaultEntry{FaultCode::kUnsupportedSignAlgorithm, "UnsupportedSignAlgorithm"},
};

// Every enumerator has exactly one entry, in declaration order, so lookup by index is direct.
constexpr bool table_in_order() {
  for (std::size_t i = 0; i < kFaults.size(); ++i) {
    if (static_cast<std::size_t>(kFaults[i].code) != i) return false;
  }
  return static_cast<std::size_t>(FaultCode::kUnsupportedSignAlgorithm) + 1 == kFaults.size();
}
static_assert(table_in_order(), "kFaults must list every FaultCode in declaration order");

}  // namespace

std::string_view fault_name(FaultCode code) noexcept {
  const auto index = static_cast<std::size_t>(code);
  return index < kFaults.size() ? kFaults[index].name : std::string_view("InternalError");
}

std::optional<FaultCode> fault_from_name(std::string_view name) noexcept {
  for (const auto& entry : kFaults) {
    if (entry.name == name) return entry.code;
  }
  return std::nullopt;
}

std::string_view origin_prefix(Origin origin) noexcept {
  switch (origin) {
    case Origin::kNone:
      return "";
    case Origin::kClient:
      return "Client";
    case Origin::kServer:
      return "Server";
    case Origin::kClientProxy:
      return "Server.ClientProxy";
    case Origin::kServerProxy:
      return "Server.ServerProxy";
    case Origin::kSigner:
      return "Signer";
  }
  return "";
}

Error Error::wrapped(FaultCode outer) const& {
  Error copy = *this;
  return std::move(copy).wrapped(outer);
}

Error Error::wrapped(FaultCode outer) && {
  std::string outer_name(fault_name(outer));
  path = path.empty() ? std::move(outer_name) : outer_name + "." + path;
  return std::move(*this);
}

std::string Error::fault_code() const {
  std::string out = path;
  if (!out.empty()) out += '.';
  out += fault_name(code);
  return out;
}

std::string Error::render(Origin origin) const {
  std::string out(origin_prefix(origin));
  if (!out.empty()) out += '.';
  out += fault_code();
  return out;
}

std::string Error::to_string() const {
  std::string out = fault_code();
  if (!message.empty()) out += ": " + message;
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

void invariant_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "hansa: invariant failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace hansa
