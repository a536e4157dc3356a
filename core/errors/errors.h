#pragma once

// Error values for expected failures, carrying X-Road 7 fault codes.
//
// Input from peers, the network, databases, certificates, signatures and trust services fails
// expectedly and is returned as a Result<T>. A broken invariant is a bug and aborts (HANSA_CHECK).
// Threading: plain values, share freely once built.

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hansa {

// The X-Road 7 fault vocabulary (ErrorCodes, PascalCase spelling), plus the few codes Hansa needs
// for conditions X-Road folds into InternalError. The spelling returned by fault_name() is the one
// that appears on the wire (SOAP faultcode, REST "type", X-Road-Error header).
enum class FaultCode : std::uint16_t {
  // General.
  kIoError,
  kNetworkError,
  kInternalError,
  kBadRequest,
  kDatabaseError,
  kCommitOutcomeUnknown,  // a database commit may or may not have happened (connection lost)
  kInvalidRequest,
  kLimitExceeded,
  kTimeout,
  kNotFound,
  kConflict,
  kUnauthorized,
  kForbidden,
  kInvalidConfiguration,
  // Identifiers.
  kInvalidClientIdentifier,
  kInvalidServiceIdentifier,
  kInvalidSecurityServer,
  kInvalidIdentifier,
  // Certificates, signatures, hash chains, time-stamps.
  kCertValidation,
  kIncorrectCertificate,
  kInvalidSignatureValue,
  kMalformedSignature,
  kInvalidHashChain,
  kMalformedHashChain,
  kHashChainUnusedInputs,
  kInvalidHashChainRef,
  kTimestampValidation,
  kTimestamperFailed,
  kTimestampingFailed,
  kOcspFailed,
  kCryptoError,
  kInvalidCertificate,
  kInvalidKey,
  // Message handling.
  kSslAuthenticationFailed,
  kLoggingFailed,
  kInvalidContentType,
  kMimeParsingFailed,
  kMissingHeader,
  kMissingHeaderField,
  kDuplicateHeaderField,
  kMissingBody,
  kInconsistentHeaders,
  kInconsistentResponse,
  kMissingSoap,
  kInvalidSoap,
  kInvalidXml,
  kMissingRest,
  kInvalidRest,
  kAccessDenied,
  kServiceDisabled,
  kServiceFailed,
  kMissingSignature,
  kUnknownService,
  kUnknownMember,
  kInvalidProtocolVersion,
  kServiceType,
  kClientProxyVersionNotSupported,
  kServiceMissingUrl,
  kMaintenanceMode,
  // Global configuration.
  kMalformedGlobalConf,
  kOutdatedGlobalConf,
  kInvalidGlobalConf,
  // Message log archives.
  kAsicContainerNotFound,
  kAsicMalformed,
  kArchiveLinkMismatch,
  // Signer, tokens and keys.
  kHsmNonOperational,
  kTokenNotFound,
  kTokenNotActive,
  kTokenNotAvailable,
  kTokenPinPolicyFailure,
  kPinIncorrect,
  kKeyNotFound,
  kKeyNotAvailable,
  kCertNotFound,
  kCsrNotFound,
  kWrongCertUsage,
  kUnsupportedSignAlgorithm,
};

// The wire spelling of a code, e.g. "AccessDenied", "OutdatedGlobalConf", "IOError".
[[nodiscard]] std::string_view fault_name(FaultCode code) noexcept;

// Parses a wire spelling back into a code; nullopt for unknown names.
[[nodiscard]] std::optional<FaultCode> fault_from_name(std::string_view name) noexcept;

// Where a fault was raised; rendered as the leading part of the fault code.
enum class Origin : std::uint8_t {
  kNone,         // no prefix (component-internal errors)
  kClient,       // "Client." : the caller sent something wrong
  kServer,       // "Server."
  kClientProxy,  // "Server.ClientProxy."
  kServerProxy,  // "Server.ServerProxy."
  kSigner,       // "Signer."
};

[[nodiscard]] std::string_view origin_prefix(Origin origin) noexcept;

// An expected failure. `code` is the innermost fault; `path` holds the wrapping codes between the
// origin and it (X-Road's "ServiceFailed.MissingBody", "MalformedSignature.HashChainUnusedInputs").
// `message` is for people; `detail` is optional technical context (a key, a position, a peer).
struct Error {
  FaultCode code = FaultCode::kInternalError;
  std::string message;
  std::string detail;
  std::string path;

  Error() = default;
  Error(FaultCode c, std::string msg, std::string det = {})
      : code(c), message(std::move(msg)), detail(std::move(det)) {}

  // Returns a copy wrapped in an outer code:
  // Error{HashChainUnusedInputs}.wrapped(MalformedSignature) renders as
  // "MalformedSignature.HashChainUnusedInputs".
  [[nodiscard]] Error wrapped(FaultCode outer) const&;
  [[nodiscard]] Error wrapped(FaultCode outer) &&;

  // "MalformedSignature.HashChainUnusedInputs" (the path and the code, no origin).
  [[nodiscard]] std::string fault_code() const;

  // "Server.ServerProxy.AccessDenied": the full code as X-Road renders it for `origin`.
  [[nodiscard]] std::string render(Origin origin) const;

  // "AccessDenied: message (detail)" for logs and command-line tools.
  [[nodiscard]] std::string to_string() const;
};

// Holds either a T or an Error. Construct from a T for success or from an Error for failure.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // Accessing the value of a failed Result (or the error of a good one) is a bug: it aborts.
  [[nodiscard]] T& value() & { return std::get<0>(checked_value()); }
  [[nodiscard]] const T& value() const& { return std::get<0>(checked_value()); }
  [[nodiscard]] T&& value() && { return std::get<0>(std::move(checked_value())); }
  [[nodiscard]] const Error& error() const& { return std::get<1>(checked_error()); }
  [[nodiscard]] Error&& error() && { return std::get<1>(std::move(checked_error())); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or `fallback` when this holds an error.
  [[nodiscard]] T value_or(T fallback) const& {
    return ok() ? std::get<0>(v_) : std::move(fallback);
  }

 private:
  std::variant<T, Error>& checked_value() {
    if (!ok()) std::abort();
    return v_;
  }
  const std::variant<T, Error>& checked_value() const {
    if (!ok()) std::abort();
    return v_;
  }
  std::variant<T, Error>& checked_error() {
    if (ok()) std::abort();
    return v_;
  }
  const std::variant<T, Error>& checked_error() const {
    if (ok()) std::abort();
    return v_;
  }

  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] const Error& error() const& {
    if (ok()) std::abort();
    return *error_;
  }
  [[nodiscard]] Error&& error() && {
    if (ok()) std::abort();
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

// Success value for Status-returning functions: `return ok_status();`
inline Status ok_status() { return {}; }

// Aborts with a message when a program invariant is broken (never for bad input).
[[noreturn]] void invariant_failed(const char* expr, const char* file, int line) noexcept;

}  // namespace hansa

#define HANSA_CHECK(expr) \
  ((expr) ? static_cast<void>(0) : ::hansa::invariant_failed(#expr, __FILE__, __LINE__))

#define HANSA_CONCAT_INNER(a, b) a##b
#define HANSA_CONCAT(a, b) HANSA_CONCAT_INNER(a, b)

// Returns the error of a failed Status or Result from the enclosing function.
#define HANSA_RETURN_IF_ERROR(expr)                                   \
  do {                                                                \
    auto&& hansa_status_ = (expr);                                    \
    if (!hansa_status_.ok()) return std::move(hansa_status_).error(); \
  } while (false)

// `HANSA_ASSIGN_OR_RETURN(auto cert, Certificate::from_pem(pem));`
#define HANSA_ASSIGN_OR_RETURN(lhs, expr) \
  HANSA_ASSIGN_OR_RETURN_IMPL(HANSA_CONCAT(hansa_result_, __LINE__), lhs, expr)
#define HANSA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).error();     \
  lhs = std::move(tmp).value()
