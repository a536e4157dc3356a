#include "certs/hansa-trust/revocation_store.h"

#include <openssl/asn1.h>

#include <array>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "core/crypto/openssl_ptr.h"

namespace hansa::trust {
namespace {

constexpr std::array<std::pair<RevocationReason, std::string_view>, 10> kReasons{{
    {RevocationReason::kUnspecified, "unspecified"},
    {RevocationReason::kKeyCompromise, "keyCompromise"},
    {RevocationReason::kCaCompromise, "CACompromise"},
    {RevocationReason::kAffiliationChanged, "affiliationChanged"},
    {RevocationReason::kSuperseded, "superseded"},
    {RevocationReason::kCessationOfOperation, "cessationOfOperation"},
    {RevocationReason::kCertificateHold, "certificateHold"},
    {RevocationReason::kRemoveFromCrl, "removeFromCRL"},
    {RevocationReason::kPrivilegeWithdrawn, "privilegeWithdrawn"},
    {RevocationReason::kAaCompromise, "AACompromise"},
}};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Result<std::string> read_bounded(const std::filesystem::path& path, std::size_t max,
                                 bool* missing) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    if (missing != nullptr && !std::filesystem::exists(path)) {
      *missing = true;
      return std::string();
    }
    return Error(FaultCode::kIoError, "cannot read file", path.string() + ": " + ec.message());
  }
  if (size > max) {
    return Error(FaultCode::kLimitExceeded, "file too large", path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(FaultCode::kIoError, "cannot open file", path.string());
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// `openssl ca` revocation field: "YYMMDDHHMMSSZ[,reason]".
std::optional<CertStatus> parse_revoked_field(std::string_view field) {
  CertStatus status;
  status.state = CertState::kRevoked;
  auto comma = field.find(',');
  std::string time_text(field.substr(0, comma));
  if (comma != std::string_view::npos) {
    status.reason =
        reason_from_name(field.substr(comma + 1)).value_or(RevocationReason::kUnspecified);
  }
  crypto::Asn1TimePtr t(ASN1_TIME_new());
  std::tm tm{};
  if (!t || ASN1_TIME_set_string(t.get(), time_text.c_str()) != 1 ||
      ASN1_TIME_to_tm(t.get(), &tm) != 1) {
    return std::nullopt;
  }
  status.revocation_time = timegm(&tm);
  return status;
}

Result<nlohmann::json> read_state(const std::filesystem::path& path, std::size_t max) {
  bool missing = false;
  HANSA_ASSIGN_OR_RETURN(std::string text, read_bounded(path, max, &missing));
  if (missing || text.empty()) {
    return nlohmann::json::object();
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return Error(FaultCode::kIoError, "state file is not a JSON object", path.string());
  }
  return json;
}

Status write_state(const std::filesystem::path& path, const nlohmann::json& json) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << json.dump(2) << "\n";
    if (!out) {
      return Error(FaultCode::kIoError, "cannot write state file", tmp.string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return Error(FaultCode::kIoError, "cannot replace state file",
                 path.string() + ": " + ec.message());
  }
  return ok_status();
}

}  // namespace

std::optional<RevocationReason> reason_from_name(std::string_view name) {
  for (const auto& [reason, spelling] : kReasons) {
    if (iequal(name, spelling)) {
      return reason;
    }
  }
  return std::nullopt;
}

std::string_view reason_name(RevocationReason reason) {
  for (const auto& [r, spelling] : kReasons) {
    if (r == reason) {
      return spelling;
    }
  }
  return "unspecified";
}

Result<std::string> normalize_serial(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) {
    text.remove_prefix(2);
  }
  std::string hex;
  for (char c : text) {
    if (c == ':') {
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c)) || hex.size() >= 80) {
      return Error(FaultCode::kInvalidRequest, "serial number must be hex (at most 40 bytes)",
                   std::string(text.substr(0, 100)));
    }
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.empty()) {
    return Error(FaultCode::kInvalidRequest, "empty serial number");
  }
  auto first = hex.find_first_not_of('0');
  return first == std::string::npos ? std::string("0") : hex.substr(first);
}

RevocationStore::RevocationStore(std::filesystem::path state_file, std::filesystem::path index_file,
                                 RevocationStoreLimits limits)
    : state_file_(std::move(state_file)), index_file_(std::move(index_file)), limits_(limits) {}

Result<CertStatus> RevocationStore::lookup(std::string_view serial_hex) const {
  HANSA_ASSIGN_OR_RETURN(std::string serial, normalize_serial(serial_hex));
  HANSA_ASSIGN_OR_RETURN(nlohmann::json state, read_state(state_file_, limits_.max_file_bytes));
  if (auto it = state.find(serial); it != state.end() && it->is_object()) {
    CertStatus status;
    if (it->value("revoked", false)) {
      status.state = CertState::kRevoked;
      status.revocation_time = it->value("time", std::int64_t{0});
      status.reason = reason_from_name(it->value("reason", std::string("unspecified")))
                          .value_or(RevocationReason::kUnspecified);
    } else {
      status.state = CertState::kGood;
    }
    return status;
  }
  if (index_file_.empty()) {
    return CertStatus{};
  }
  HANSA_ASSIGN_OR_RETURN(std::string index,
                         read_bounded(index_file_, limits_.max_file_bytes, nullptr));
  // `openssl ca` database: status \t expiry \t revocation \t serial \t file \t subject.
  std::istringstream lines(index);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string_view> fields;
    std::string_view rest(line);
    while (true) {
      auto tab = rest.find('\t');
      fields.push_back(rest.substr(0, tab));
      if (tab == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(tab + 1);
    }
    if (fields.size() < 4) {
      continue;
    }
    auto line_serial = normalize_serial(fields[3]);
    if (!line_serial.ok() || *line_serial != serial) {
      continue;
    }
    if (fields[0] == "R") {
      auto revoked = parse_revoked_field(fields[2]);
      if (!revoked) {
        return Error(FaultCode::kIoError, "bad revocation field in index", index_file_.string());
      }
      return *revoked;
    }
    CertStatus status;
    status.state = fields[0] == "V" || fields[0] == "E" ? CertState::kGood : CertState::kUnknown;
    return status;
  }
  return CertStatus{};
}

Status RevocationStore::revoke(std::string_view serial, RevocationReason reason,
                               std::time_t when) const {
  HANSA_ASSIGN_OR_RETURN(std::string normalized, normalize_serial(serial));
  HANSA_ASSIGN_OR_RETURN(nlohmann::json state, read_state(state_file_, limits_.max_file_bytes));
  state[normalized] = {{"revoked", true},
                       {"time", static_cast<std::int64_t>(when)},
                       {"reason", std::string(reason_name(reason))}};
  return write_state(state_file_, state);
}

Status RevocationStore::unrevoke(std::string_view serial) const {
  HANSA_ASSIGN_OR_RETURN(std::string normalized, normalize_serial(serial));
  HANSA_ASSIGN_OR_RETURN(nlohmann::json state, read_state(state_file_, limits_.max_file_bytes));
  state[normalized] = {{"revoked", false}};
  return write_state(state_file_, state);
}

}  // namespace hansa::trust
