#include "core/ids/ids.h"

#include <array>
#include <initializer_list>
#include <span>
#include <vector>

#include "core/ids/internal.h"

namespace hansa::ids {
namespace {

constexpr std::array<std::string_view, 6> kObjectTypeNames{
    "MEMBER", "SUBSYSTEM", "SERVER", "GLOBALGROUP", "LOCALGROUP", "SERVICE",
};

constexpr std::array<std::string_view, 8> kPartNames{
    "xRoadInstance", "memberClass", "memberCode",     "subsystemCode",
    "groupCode",     "serviceCode", "serviceVersion", "serverCode",
};

// Joins `parts` into one string, allocated once: identifiers are rendered several times per call
// (log records, operational records, transport headers).
std::string concat(std::span<const std::string_view> parts) {
  std::size_t size = 0;
  for (std::string_view p : parts) {
    size += p.size();
  }
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) {
    out.append(p);
  }
  return out;
}

std::string concat(std::initializer_list<std::string_view> parts) {
  return concat(std::span<const std::string_view>(parts.begin(), parts.size()));
}

// The string form of `client` in parts: "TYPE:" when `type` is not empty, then the short form.
std::array<std::string_view, 9> client_parts(const ClientId& client, std::string_view type) {
  const std::optional<std::string>& sub = client.subsystem_code();
  return {type,
          type.empty() ? "" : ":",
          client.instance(),
          "/",
          client.member_class(),
          "/",
          client.member_code(),
          sub ? "/" : "",
          sub ? std::string_view(*sub) : std::string_view()};
}

// The string form of `service` in parts, as client_parts.
std::array<std::string_view, 14> service_parts(const ServiceId& service, std::string_view type) {
  const auto c = client_parts(service.provider(), type);
  const std::optional<std::string>& version = service.service_version();
  return {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8],
          // A member's versioned service keeps an empty subsystem slot (see the class comment).
          version && service.provider().is_member() ? "/" : "", "/", service.service_code(),
          version ? "/" : "", version ? std::string_view(*version) : std::string_view()};
}

// The parts of a string form "TYPE:C1/C2/...", split but not yet validated.
struct SplitForm {
  ObjectType type;
  std::vector<std::string_view> parts;
  bool too_many = false;  // more than max_parts parts; `parts` holds the first max_parts
};

// Splits a string form. At most `max_parts` parts are accepted so hostile input with thousands of
// separators is rejected without building a large vector.
Result<SplitForm> split_form(std::string_view text, FaultCode code, std::size_t max_parts) {
  if (text.size() > kMaxStringFormLength) {
    return Error(code, std::string(kind_label(code)) + ": longer than " +
                           std::to_string(kMaxStringFormLength) + " bytes");
  }
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error(code, std::string(kind_label(code)) + ": missing object type prefix in " +
                           quote_for_message(text));
  }
  auto type = object_type_from_name(text.substr(0, colon));
  if (!type) {
    return Error(code, std::string(kind_label(code)) + ": unknown object type " +
                           quote_for_message(text.substr(0, colon)));
  }
  SplitForm out{*type, {}};
  std::string_view rest = text.substr(colon + 1);
  while (true) {
    if (out.parts.size() == max_parts) {
      out.too_many = true;
      break;
    }
    auto slash = rest.find('/');
    out.parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  return out;
}

Error wrong_type(FaultCode code, ObjectType got, std::string_view expected) {
  return Error(code, std::string(kind_label(code)) + ": object type " +
                         std::string(object_type_name(got)) + " where " + std::string(expected) +
                         " is expected");
}

Error wrong_count(FaultCode code, const SplitForm& form, std::string_view expected) {
  std::string head =
      std::string(kind_label(code)) + ": " + std::string(object_type_name(form.type));
  if (form.too_many) {
    return Error(code, head + " has too many parts (needs " + std::string(expected) + ")");
  }
  return Error(code, head + " needs " + std::string(expected) + " parts, got " +
                         std::to_string(form.parts.size()));
}

}  // namespace

// --- internal helpers (core/ids/internal.h) ---

std::string_view kind_label(FaultCode code) noexcept {
  switch (code) {
    case FaultCode::kInvalidClientIdentifier:
      return "client identifier";
    case FaultCode::kInvalidServiceIdentifier:
      return "service identifier";
    case FaultCode::kInvalidSecurityServer:
      return "security server identifier";
    default:
      return "identifier";
  }
}

std::string quote_for_message(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (text.size() > kMaxShown) {
    out += "...";
  }
  return out;
}

Result<MemberId> make_member(std::string_view instance, std::string_view member_class,
                             std::string_view member_code, FaultCode code) {
  HANSA_RETURN_IF_ERROR(validate_part(Part::kInstance, instance, code));
  HANSA_RETURN_IF_ERROR(validate_part(Part::kMemberClass, member_class, code));
  HANSA_RETURN_IF_ERROR(validate_part(Part::kMemberCode, member_code, code));
  return MemberId::create(instance, member_class, member_code);
}

Result<ClientId> make_client(std::string_view instance, std::string_view member_class,
                             std::string_view member_code,
                             std::optional<std::string_view> subsystem_code, FaultCode code) {
  HANSA_ASSIGN_OR_RETURN(MemberId member, make_member(instance, member_class, member_code, code));
  if (!subsystem_code) {
    return ClientId(std::move(member));
  }
  HANSA_RETURN_IF_ERROR(validate_part(Part::kSubsystemCode, *subsystem_code, code));
  return ClientId(SubsystemId::create(std::move(member), *subsystem_code).value());
}

// --- public API ---

std::string_view object_type_name(ObjectType type) noexcept {
  auto i = static_cast<std::size_t>(type);
  return i < kObjectTypeNames.size() ? kObjectTypeNames[i] : std::string_view("?");
}

std::optional<ObjectType> object_type_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kObjectTypeNames.size(); ++i) {
    if (kObjectTypeNames[i] == name) {
      return static_cast<ObjectType>(i);
    }
  }
  return std::nullopt;
}

std::string_view part_name(Part part) noexcept {
  auto i = static_cast<std::size_t>(part);
  return i < kPartNames.size() ? kPartNames[i] : std::string_view("?");
}

bool is_identifier_char(char c) noexcept {
  // PR-MESS 2.7 / PR-REST 4.8: letters, digits and ' ( ) + , - . = ?
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '\'':
    case '(':
    case ')':
    case '+':
    case ',':
    case '-':
    case '.':
    case '=':
    case '?':
      return true;
    default:
      return false;
  }
}

Status validate_part(Part part, std::string_view value, FaultCode code) {
  // The message is built only on failure: identifiers are checked several times per call.
  auto failed = [&](std::initializer_list<std::string_view> what) {
    std::string message = concat({kind_label(code), ": ", part_name(part)});
    for (std::string_view piece : what) {
      message += piece;
    }
    return Error(code, std::move(message));
  };
  if (value.empty()) {
    return failed({" is empty"});
  }
  if (value.size() > kMaxPartLength) {
    return failed({" is longer than ", std::to_string(kMaxPartLength), " bytes"});
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!is_identifier_char(value[i])) {
      return failed({" ", quote_for_message(value), " has an illegal character ",
                     quote_for_message(value.substr(i, 1)), " at position ", std::to_string(i)});
    }
  }
  return ok_status();
}

// MemberId

Result<MemberId> MemberId::create(std::string_view instance, std::string_view member_class,
                                  std::string_view member_code) {
  constexpr FaultCode kCode = FaultCode::kInvalidClientIdentifier;
  HANSA_RETURN_IF_ERROR(validate_part(Part::kInstance, instance, kCode));
  HANSA_RETURN_IF_ERROR(validate_part(Part::kMemberClass, member_class, kCode));
  HANSA_RETURN_IF_ERROR(validate_part(Part::kMemberCode, member_code, kCode));
  return MemberId(std::string(instance), std::string(member_class), std::string(member_code));
}

Result<MemberId> MemberId::parse(std::string_view text) {
  constexpr FaultCode kCode = FaultCode::kInvalidClientIdentifier;
  HANSA_ASSIGN_OR_RETURN(SplitForm form, split_form(text, kCode, 3));
  if (form.type != ObjectType::kMember) {
    return wrong_type(kCode, form.type, "MEMBER");
  }
  if (form.too_many || form.parts.size() != 3) {
    return wrong_count(kCode, form, "3");
  }
  return create(form.parts[0], form.parts[1], form.parts[2]);
}

std::string MemberId::to_short_string() const {
  return concat({instance_, "/", member_class_, "/", member_code_});
}

std::string MemberId::to_string() const {
  return concat({"MEMBER:", instance_, "/", member_class_, "/", member_code_});
}

// SubsystemId

Result<SubsystemId> SubsystemId::create(MemberId member, std::string_view subsystem_code) {
  HANSA_RETURN_IF_ERROR(
      validate_part(Part::kSubsystemCode, subsystem_code, FaultCode::kInvalidClientIdentifier));
  return SubsystemId(std::move(member), std::string(subsystem_code));
}

Result<SubsystemId> SubsystemId::create(std::string_view instance, std::string_view member_class,
                                        std::string_view member_code,
                                        std::string_view subsystem_code) {
  HANSA_ASSIGN_OR_RETURN(MemberId member, MemberId::create(instance, member_class, member_code));
  return create(std::move(member), subsystem_code);
}

Result<SubsystemId> SubsystemId::parse(std::string_view text) {
  constexpr FaultCode kCode = FaultCode::kInvalidClientIdentifier;
  HANSA_ASSIGN_OR_RETURN(SplitForm form, split_form(text, kCode, 4));
  if (form.type != ObjectType::kSubsystem) {
    return wrong_type(kCode, form.type, "SUBSYSTEM");
  }
  if (form.too_many || form.parts.size() != 4) {
    return wrong_count(kCode, form, "4");
  }
  return create(form.parts[0], form.parts[1], form.parts[2], form.parts[3]);
}

std::string SubsystemId::to_short_string() const {
  return member_.to_short_string() + '/' + subsystem_code_;
}

std::string SubsystemId::to_string() const { return "SUBSYSTEM:" + to_short_string(); }

// ClientId

Result<ClientId> ClientId::create(std::string_view instance, std::string_view member_class,
                                  std::string_view member_code,
                                  std::optional<std::string_view> subsystem_code) {
  return make_client(instance, member_class, member_code, subsystem_code,
                     FaultCode::kInvalidClientIdentifier);
}

Result<ClientId> ClientId::parse(std::string_view text) {
  constexpr FaultCode kCode = FaultCode::kInvalidClientIdentifier;
  HANSA_ASSIGN_OR_RETURN(SplitForm form, split_form(text, kCode, 4));
  if (form.type == ObjectType::kMember) {
    if (form.too_many || form.parts.size() != 3) {
      return wrong_count(kCode, form, "3");
    }
    return create(form.parts[0], form.parts[1], form.parts[2]);
  }
  if (form.type == ObjectType::kSubsystem) {
    if (form.too_many || form.parts.size() != 4) {
      return wrong_count(kCode, form, "4");
    }
    return create(form.parts[0], form.parts[1], form.parts[2], form.parts[3]);
  }
  return wrong_type(kCode, form.type, "MEMBER or SUBSYSTEM");
}

std::optional<SubsystemId> ClientId::as_subsystem() const {
  if (!subsystem_code_) {
    return std::nullopt;
  }
  return SubsystemId(member_, *subsystem_code_);
}

std::string ClientId::to_short_string() const { return concat(client_parts(*this, "")); }

std::string ClientId::to_string() const {
  return concat(client_parts(*this, object_type_name(object_type())));
}

// ServiceId

Result<ServiceId> ServiceId::create(ClientId provider, std::string_view service_code,
                                    std::optional<std::string_view> service_version) {
  constexpr FaultCode kCode = FaultCode::kInvalidServiceIdentifier;
  HANSA_RETURN_IF_ERROR(validate_part(Part::kServiceCode, service_code, kCode));
  std::optional<std::string> version;
  if (service_version) {
    HANSA_RETURN_IF_ERROR(validate_part(Part::kServiceVersion, *service_version, kCode));
    version.emplace(*service_version);
  }
  return ServiceId(std::move(provider), std::string(service_code), std::move(version));
}

Result<ServiceId> ServiceId::parse(std::string_view text) {
  constexpr FaultCode kCode = FaultCode::kInvalidServiceIdentifier;
  HANSA_ASSIGN_OR_RETURN(SplitForm form, split_form(text, kCode, 6));
  if (form.type != ObjectType::kService) {
    return wrong_type(kCode, form.type, "SERVICE");
  }
  if (form.too_many) {
    return wrong_count(kCode, form, "4 to 6");
  }
  const auto& p = form.parts;
  std::optional<std::string_view> subsystem;
  std::string_view code;
  std::optional<std::string_view> version;
  switch (p.size()) {
    case 4:  // member's service
      code = p[3];
      break;
    case 5:  // subsystem's service
      subsystem = p[3];
      code = p[4];
      break;
    case 6:  // versioned; an empty subsystem slot marks a member's versioned service
      if (!p[3].empty()) {
        subsystem = p[3];
      }
      code = p[4];
      version = p[5];
      break;
    default:
      return wrong_count(kCode, form, "4 to 6");
  }
  HANSA_ASSIGN_OR_RETURN(ClientId provider, make_client(p[0], p[1], p[2], subsystem, kCode));
  return create(std::move(provider), code, version);
}

ServiceId ServiceId::without_version() const { return ServiceId(provider_, service_code_, {}); }

std::string ServiceId::to_short_string() const { return concat(service_parts(*this, "")); }

std::string ServiceId::to_string() const { return concat(service_parts(*this, "SERVICE")); }

// SecurityServerId

Result<SecurityServerId> SecurityServerId::create(MemberId owner, std::string_view server_code) {
  HANSA_RETURN_IF_ERROR(
      validate_part(Part::kServerCode, server_code, FaultCode::kInvalidSecurityServer));
  return SecurityServerId(std::move(owner), std::string(server_code));
}

Result<SecurityServerId> SecurityServerId::create(std::string_view instance,
                                                  std::string_view member_class,
                                                  std::string_view member_code,
                                                  std::string_view server_code) {
  HANSA_ASSIGN_OR_RETURN(MemberId owner, make_member(instance, member_class, member_code,
                                                     FaultCode::kInvalidSecurityServer));
  return create(std::move(owner), server_code);
}

Result<SecurityServerId> SecurityServerId::parse(std::string_view text) {
  constexpr FaultCode kCode = FaultCode::kInvalidSecurityServer;
  HANSA_ASSIGN_OR_RETURN(SplitForm form, split_form(text, kCode, 4));
  if (form.type != ObjectType::kServer) {
    return wrong_type(kCode, form.type, "SERVER");
  }
  if (form.too_many || form.parts.size() != 4) {
    return wrong_count(kCode, form, "4");
  }
  return create(form.parts[0], form.parts[1], form.parts[2], form.parts[3]);
}

std::string SecurityServerId::to_short_string() const {
  return owner_.to_short_string() + '/' + server_code_;
}

std::string SecurityServerId::to_string() const { return "SERVER:" + to_short_string(); }

// GlobalGroupId

Result<GlobalGroupId> GlobalGroupId::create(std::string_view instance,
                                            std::string_view group_code) {
  constexpr FaultCode kCode = FaultCode::kInvalidIdentifier;
  HANSA_RETURN_IF_ERROR(validate_part(Part::kInstance, instance, kCode));
  HANSA_RETURN_IF_ERROR(validate_part(Part::kGroupCode, group_code, kCode));
  return GlobalGroupId(std::string(instance), std::string(group_code));
}

Result<GlobalGroupId> GlobalGroupId::parse(std::string_view text) {
  constexpr FaultCode kCode = FaultCode::kInvalidIdentifier;
  HANSA_ASSIGN_OR_RETURN(SplitForm form, split_form(text, kCode, 2));
  if (form.type != ObjectType::kGlobalGroup) {
    return wrong_type(kCode, form.type, "GLOBALGROUP");
  }
  if (form.too_many || form.parts.size() != 2) {
    return wrong_count(kCode, form, "2");
  }
  return create(form.parts[0], form.parts[1]);
}

std::string GlobalGroupId::to_short_string() const { return instance_ + '/' + group_code_; }

std::string GlobalGroupId::to_string() const { return "GLOBALGROUP:" + to_short_string(); }

// LocalGroupId

Result<LocalGroupId> LocalGroupId::create(std::string_view group_code) {
  HANSA_RETURN_IF_ERROR(validate_part(Part::kGroupCode, group_code, FaultCode::kInvalidIdentifier));
  return LocalGroupId(std::string(group_code));
}

Result<LocalGroupId> LocalGroupId::parse(std::string_view text) {
  constexpr FaultCode kCode = FaultCode::kInvalidIdentifier;
  HANSA_ASSIGN_OR_RETURN(SplitForm form, split_form(text, kCode, 1));
  if (form.type != ObjectType::kLocalGroup) {
    return wrong_type(kCode, form.type, "LOCALGROUP");
  }
  if (form.too_many) {
    return wrong_count(kCode, form, "1");
  }
  return create(form.parts[0]);
}

std::string LocalGroupId::to_string() const { return "LOCALGROUP:" + group_code_; }

// AnyId

Result<AnyId> parse_any(std::string_view text) {
  if (text.size() > kMaxStringFormLength) {
    return Error(FaultCode::kInvalidIdentifier,
                 "identifier: longer than " + std::to_string(kMaxStringFormLength) + " bytes");
  }
  auto colon = text.find(':');
  auto type =
      colon == std::string_view::npos ? std::nullopt : object_type_from_name(text.substr(0, colon));
  if (!type) {
    return Error(FaultCode::kInvalidIdentifier,
                 "identifier: missing or unknown object type in " + quote_for_message(text));
  }
  auto wrap = [](auto result) -> Result<AnyId> {
    if (!result.ok()) {
      return std::move(result).error();
    }
    return AnyId(std::move(result).value());
  };
  switch (*type) {
    case ObjectType::kMember:
      return wrap(MemberId::parse(text));
    case ObjectType::kSubsystem:
      return wrap(SubsystemId::parse(text));
    case ObjectType::kService:
      return wrap(ServiceId::parse(text));
    case ObjectType::kServer:
      return wrap(SecurityServerId::parse(text));
    case ObjectType::kGlobalGroup:
      return wrap(GlobalGroupId::parse(text));
    case ObjectType::kLocalGroup:
      return wrap(LocalGroupId::parse(text));
  }
  return Error(FaultCode::kInvalidIdentifier, "identifier: unknown object type");
}

ObjectType object_type(const AnyId& id) noexcept {
  switch (id.index()) {
    case 0:
      return ObjectType::kMember;
    case 1:
      return ObjectType::kSubsystem;
    case 2:
      return ObjectType::kService;
    case 3:
      return ObjectType::kServer;
    case 4:
      return ObjectType::kGlobalGroup;
    default:
      return ObjectType::kLocalGroup;
  }
}

std::string to_string(const AnyId& id) {
  return std::visit([](const auto& v) { return v.to_string(); }, id);
}

std::ostream& operator<<(std::ostream& os, const MemberId& id) { return os << id.to_string(); }
std::ostream& operator<<(std::ostream& os, const SubsystemId& id) { return os << id.to_string(); }
std::ostream& operator<<(std::ostream& os, const ClientId& id) { return os << id.to_string(); }
std::ostream& operator<<(std::ostream& os, const ServiceId& id) { return os << id.to_string(); }
std::ostream& operator<<(std::ostream& os, const SecurityServerId& id) {
  return os << id.to_string();
}
std::ostream& operator<<(std::ostream& os, const GlobalGroupId& id) { return os << id.to_string(); }
std::ostream& operator<<(std::ostream& os, const LocalGroupId& id) { return os << id.to_string(); }

namespace detail {

std::size_t hash_parts(std::initializer_list<const std::string*> parts) noexcept {
  // FNV-1a over the parts; an absent part and each separator hash as distinct bytes.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  for (const std::string* p : parts) {
    if (p == nullptr) {
      mix(0x01);
    } else {
      for (char c : *p) {
        mix(static_cast<unsigned char>(c));
      }
    }
    mix(0x00);
  }
  return static_cast<std::size_t>(h);
}

}  // namespace detail

}  // namespace hansa::ids
