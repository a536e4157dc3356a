#pragma once

// X-Road identifiers (PR-MESS 1.3, 2.1 and 2.7): members, subsystems, clients, services, security
// servers, global groups and local groups, with their string form ("SUBSYSTEM:EE/GOV/123/xroad").
//
// Every identifier is built through a validating factory (create/parse), so a value of one of
// these types always holds parts that obey the character rules of PR-MESS 2.7 / PR-REST 4.8
// (A-Z a-z 0-9 ' ( ) + , - . = ?), are non-empty and at most kMaxPartLength bytes long.
// Failures return the fault code of the identifier's kind: InvalidClientIdentifier (members,
// subsystems, clients), InvalidServiceIdentifier (services), InvalidSecurityServer (security
// servers) and InvalidIdentifier (groups, unknown object types); the message names the part.
//
// REST forms are in core/ids/rest_form.h, the XML form in core/ids/xml_print.h (printing) and
// core/ids/xml_parse.h (parsing, needs core/xml).
//
// Threading: immutable values, share freely.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

#include "core/errors/errors.h"

namespace hansa::ids {

// Longest accepted identifier part (instance, class, code, ...), in bytes.
inline constexpr std::size_t kMaxPartLength = 255;
// Longest accepted string form ("TYPE:C1/C2/..."); longer input is rejected before splitting.
inline constexpr std::size_t kMaxStringFormLength = 2048;

// The objectType attribute values of the identifiers schema (PR-MESS Annex A).
enum class ObjectType : std::uint8_t {
  kMember,
  kSubsystem,
  kServer,
  kGlobalGroup,
  kLocalGroup,
  kService,
};

// "MEMBER", "SUBSYSTEM", "SERVER", "GLOBALGROUP", "LOCALGROUP", "SERVICE".
[[nodiscard]] std::string_view object_type_name(ObjectType type) noexcept;
// Inverse of object_type_name (exact, case-sensitive); nullopt for anything else.
[[nodiscard]] std::optional<ObjectType> object_type_from_name(std::string_view name) noexcept;

// The parts an identifier is made of, named after their XML elements in error messages.
enum class Part : std::uint8_t {
  kInstance,        // xRoadInstance
  kMemberClass,     // memberClass
  kMemberCode,      // memberCode
  kSubsystemCode,   // subsystemCode
  kGroupCode,       // groupCode
  kServiceCode,     // serviceCode
  kServiceVersion,  // serviceVersion
  kServerCode,      // serverCode
};

// The XML element name of a part: "xRoadInstance", "memberClass", ...
[[nodiscard]] std::string_view part_name(Part part) noexcept;

// True when `c` may appear in an identifier part (PR-MESS 2.7).
[[nodiscard]] bool is_identifier_char(char c) noexcept;

// Checks one part against the character rules, emptiness and kMaxPartLength. Fails with `code`
// and a message naming `part` (and the offending character and its position).
[[nodiscard]] Status validate_part(Part part, std::string_view value, FaultCode code);

// MEMBER:instance/memberClass/memberCode.
class MemberId final {
 public:
  // Fails with InvalidClientIdentifier naming the bad part.
  [[nodiscard]] static Result<MemberId> create(std::string_view instance,
                                               std::string_view member_class,
                                               std::string_view member_code);
  // Parses "MEMBER:EE/GOV/70000310". Fails with InvalidClientIdentifier.
  [[nodiscard]] static Result<MemberId> parse(std::string_view text);

  [[nodiscard]] const std::string& instance() const noexcept { return instance_; }
  [[nodiscard]] const std::string& member_class() const noexcept { return member_class_; }
  [[nodiscard]] const std::string& member_code() const noexcept { return member_code_; }

  // "MEMBER:EE/GOV/70000310".
  [[nodiscard]] std::string to_string() const;
  // "EE/GOV/70000310" (no type, no encoding).
  [[nodiscard]] std::string to_short_string() const;

  friend bool operator==(const MemberId&, const MemberId&) = default;
  friend auto operator<=>(const MemberId&, const MemberId&) = default;

 private:
  MemberId(std::string instance, std::string member_class, std::string member_code)
      : instance_(std::move(instance)),
        member_class_(std::move(member_class)),
        member_code_(std::move(member_code)) {}

  std::string instance_;
  std::string member_class_;
  std::string member_code_;
};

// SUBSYSTEM:instance/memberClass/memberCode/subsystemCode.
class SubsystemId final {
 public:
  // Fails with InvalidClientIdentifier naming the bad part.
  [[nodiscard]] static Result<SubsystemId> create(MemberId member, std::string_view subsystem_code);
  [[nodiscard]] static Result<SubsystemId> create(std::string_view instance,
                                                  std::string_view member_class,
                                                  std::string_view member_code,
                                                  std::string_view subsystem_code);
  // Parses "SUBSYSTEM:EE/GOV/70000310/xroad". Fails with InvalidClientIdentifier.
  [[nodiscard]] static Result<SubsystemId> parse(std::string_view text);

  [[nodiscard]] const MemberId& member() const noexcept { return member_; }
  [[nodiscard]] const std::string& instance() const noexcept { return member_.instance(); }
  [[nodiscard]] const std::string& member_class() const noexcept { return member_.member_class(); }
  [[nodiscard]] const std::string& member_code() const noexcept { return member_.member_code(); }
  [[nodiscard]] const std::string& subsystem_code() const noexcept { return subsystem_code_; }

  // "SUBSYSTEM:EE/GOV/70000310/xroad".
  [[nodiscard]] std::string to_string() const;
  // "EE/GOV/70000310/xroad".
  [[nodiscard]] std::string to_short_string() const;

  friend bool operator==(const SubsystemId&, const SubsystemId&) = default;
  friend auto operator<=>(const SubsystemId&, const SubsystemId&) = default;

 private:
  SubsystemId(MemberId member, std::string subsystem_code)
      : member_(std::move(member)), subsystem_code_(std::move(subsystem_code)) {}
  friend class ClientId;

  MemberId member_;
  std::string subsystem_code_;
};

// A service client or provider: a member or one of its subsystems (XRoadClientIdentifierType).
// This is the type the proxies, access rights and server configuration use. A ClientId converts
// implicitly from MemberId and SubsystemId. Ordering puts a member before its subsystems.
class ClientId final {
 public:
  ClientId(MemberId member) : member_(std::move(member)) {}  // NOLINT: implicit by design
  ClientId(SubsystemId subsystem)                            // NOLINT: implicit by design
      : member_(std::move(subsystem.member_)),
        subsystem_code_(std::move(subsystem.subsystem_code_)) {}

  // A member when `subsystem_code` is nullopt, else a subsystem. Fails with
  // InvalidClientIdentifier naming the bad part.
  [[nodiscard]] static Result<ClientId> create(
      std::string_view instance, std::string_view member_class, std::string_view member_code,
      std::optional<std::string_view> subsystem_code = std::nullopt);
  // Parses "MEMBER:..." or "SUBSYSTEM:...". Fails with InvalidClientIdentifier (also for other
  // object types).
  [[nodiscard]] static Result<ClientId> parse(std::string_view text);

  [[nodiscard]] ObjectType object_type() const noexcept {
    return subsystem_code_ ? ObjectType::kSubsystem : ObjectType::kMember;
  }
  [[nodiscard]] bool is_subsystem() const noexcept { return subsystem_code_.has_value(); }
  [[nodiscard]] bool is_member() const noexcept { return !subsystem_code_.has_value(); }

  // The member itself, or the member owning the subsystem.
  [[nodiscard]] const MemberId& member() const noexcept { return member_; }
  [[nodiscard]] const std::string& instance() const noexcept { return member_.instance(); }
  [[nodiscard]] const std::string& member_class() const noexcept { return member_.member_class(); }
  [[nodiscard]] const std::string& member_code() const noexcept { return member_.member_code(); }
  // The subsystem code, nullopt for a member.
  [[nodiscard]] const std::optional<std::string>& subsystem_code() const noexcept {
    return subsystem_code_;
  }
  // The subsystem, nullopt for a member.
  [[nodiscard]] std::optional<SubsystemId> as_subsystem() const;

  // "MEMBER:EE/GOV/70000310" or "SUBSYSTEM:EE/GOV/70000310/xroad".
  [[nodiscard]] std::string to_string() const;
  // "EE/GOV/70000310[/xroad]".
  [[nodiscard]] std::string to_short_string() const;

  friend bool operator==(const ClientId&, const ClientId&) = default;
  friend auto operator<=>(const ClientId&, const ClientId&) = default;

 private:
  MemberId member_;
  std::optional<std::string> subsystem_code_;
};

// SERVICE:provider/serviceCode[/serviceVersion] (XRoadServiceIdentifierType). The provider is a
// member or a subsystem. Access rights ignore the version: compare without_version() results.
//
// String form: "SERVICE:EE/GOV/70000310/xroad/getPerson/v1" (subsystem, versioned),
// "SERVICE:EE/GOV/70000310/xroad/getPerson" (subsystem), "SERVICE:EE/GOV/70000310/getPerson"
// (member). Five parts are read as a subsystem's unversioned service, so a member's versioned
// service is written with an empty subsystem slot, "SERVICE:EE/GOV/70000310//getPerson/v1", which
// keeps printing and parsing exact inverses (PR-MESS 1.3 leaves that case ambiguous).
class ServiceId final {
 public:
  // Fails with InvalidServiceIdentifier naming the bad part.
  [[nodiscard]] static Result<ServiceId> create(
      ClientId provider, std::string_view service_code,
      std::optional<std::string_view> service_version = std::nullopt);
  // Parses the string form above. Fails with InvalidServiceIdentifier.
  [[nodiscard]] static Result<ServiceId> parse(std::string_view text);

  [[nodiscard]] const ClientId& provider() const noexcept { return provider_; }
  [[nodiscard]] const std::string& instance() const noexcept { return provider_.instance(); }
  [[nodiscard]] const std::string& member_class() const noexcept {
    return provider_.member_class();
  }
  [[nodiscard]] const std::string& member_code() const noexcept { return provider_.member_code(); }
  [[nodiscard]] const std::optional<std::string>& subsystem_code() const noexcept {
    return provider_.subsystem_code();
  }
  [[nodiscard]] const std::string& service_code() const noexcept { return service_code_; }
  [[nodiscard]] const std::optional<std::string>& service_version() const noexcept {
    return service_version_;
  }

  // The same service with no version (what access rights are granted on).
  [[nodiscard]] ServiceId without_version() const;

  [[nodiscard]] std::string to_string() const;
  // The string form without the "SERVICE:" prefix.
  [[nodiscard]] std::string to_short_string() const;

  friend bool operator==(const ServiceId&, const ServiceId&) = default;
  friend auto operator<=>(const ServiceId&, const ServiceId&) = default;

 private:
  ServiceId(ClientId provider, std::string service_code, std::optional<std::string> version)
      : provider_(std::move(provider)),
        service_code_(std::move(service_code)),
        service_version_(std::move(version)) {}

  ClientId provider_;
  std::string service_code_;
  std::optional<std::string> service_version_;
};

// SERVER:instance/memberClass/memberCode/serverCode (XRoadSecurityServerIdentifierType).
class SecurityServerId final {
 public:
  // Fails with InvalidSecurityServer naming the bad part.
  [[nodiscard]] static Result<SecurityServerId> create(MemberId owner,
                                                       std::string_view server_code);
  [[nodiscard]] static Result<SecurityServerId> create(std::string_view instance,
                                                       std::string_view member_class,
                                                       std::string_view member_code,
                                                       std::string_view server_code);
  // Parses "SERVER:EE/GOV/70000310/ss1". Fails with InvalidSecurityServer.
  [[nodiscard]] static Result<SecurityServerId> parse(std::string_view text);

  [[nodiscard]] const MemberId& owner() const noexcept { return owner_; }
  [[nodiscard]] const std::string& instance() const noexcept { return owner_.instance(); }
  [[nodiscard]] const std::string& member_class() const noexcept { return owner_.member_class(); }
  [[nodiscard]] const std::string& member_code() const noexcept { return owner_.member_code(); }
  [[nodiscard]] const std::string& server_code() const noexcept { return server_code_; }

  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] std::string to_short_string() const;

  friend bool operator==(const SecurityServerId&, const SecurityServerId&) = default;
  friend auto operator<=>(const SecurityServerId&, const SecurityServerId&) = default;

 private:
  SecurityServerId(MemberId owner, std::string server_code)
      : owner_(std::move(owner)), server_code_(std::move(server_code)) {}

  MemberId owner_;
  std::string server_code_;
};

// GLOBALGROUP:instance/groupCode (XRoadGlobalGroupIdentifierType).
class GlobalGroupId final {
 public:
  // Fails with InvalidIdentifier naming the bad part.
  [[nodiscard]] static Result<GlobalGroupId> create(std::string_view instance,
                                                    std::string_view group_code);
  // Parses "GLOBALGROUP:EE/security-server-owners". Fails with InvalidIdentifier.
  [[nodiscard]] static Result<GlobalGroupId> parse(std::string_view text);

  [[nodiscard]] const std::string& instance() const noexcept { return instance_; }
  [[nodiscard]] const std::string& group_code() const noexcept { return group_code_; }

  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] std::string to_short_string() const;

  friend bool operator==(const GlobalGroupId&, const GlobalGroupId&) = default;
  friend auto operator<=>(const GlobalGroupId&, const GlobalGroupId&) = default;

 private:
  GlobalGroupId(std::string instance, std::string group_code)
      : instance_(std::move(instance)), group_code_(std::move(group_code)) {}

  std::string instance_;
  std::string group_code_;
};

// LOCALGROUP:groupCode (XRoadLocalGroupIdentifierType). Scoped to one security server client.
class LocalGroupId final {
 public:
  // Fails with InvalidIdentifier.
  [[nodiscard]] static Result<LocalGroupId> create(std::string_view group_code);
  // Parses "LOCALGROUP:admins". Fails with InvalidIdentifier.
  [[nodiscard]] static Result<LocalGroupId> parse(std::string_view text);

  [[nodiscard]] const std::string& group_code() const noexcept { return group_code_; }

  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] std::string to_short_string() const { return group_code_; }

  friend bool operator==(const LocalGroupId&, const LocalGroupId&) = default;
  friend auto operator<=>(const LocalGroupId&, const LocalGroupId&) = default;

 private:
  explicit LocalGroupId(std::string group_code) : group_code_(std::move(group_code)) {}

  std::string group_code_;
};

// Any identifier, for places that take several kinds (access-right subjects, audit records).
using AnyId =
    std::variant<MemberId, SubsystemId, ServiceId, SecurityServerId, GlobalGroupId, LocalGroupId>;

// Parses any string form, dispatching on the type prefix. An unknown or missing prefix fails with
// InvalidIdentifier; a known one fails with the code of its kind.
[[nodiscard]] Result<AnyId> parse_any(std::string_view text);
[[nodiscard]] ObjectType object_type(const AnyId& id) noexcept;
[[nodiscard]] std::string to_string(const AnyId& id);

// Stream output prints the string form.
std::ostream& operator<<(std::ostream& os, const MemberId& id);
std::ostream& operator<<(std::ostream& os, const SubsystemId& id);
std::ostream& operator<<(std::ostream& os, const ClientId& id);
std::ostream& operator<<(std::ostream& os, const ServiceId& id);
std::ostream& operator<<(std::ostream& os, const SecurityServerId& id);
std::ostream& operator<<(std::ostream& os, const GlobalGroupId& id);
std::ostream& operator<<(std::ostream& os, const LocalGroupId& id);

namespace detail {
// Hash of a sequence of parts with distinct separators so ("ab","c") and ("a","bc") differ.
[[nodiscard]] std::size_t hash_parts(std::initializer_list<const std::string*> parts) noexcept;
}  // namespace detail

}  // namespace hansa::ids

template <>
struct std::hash<hansa::ids::MemberId> {
  std::size_t operator()(const hansa::ids::MemberId& id) const noexcept {
    return hansa::ids::detail::hash_parts({&id.instance(), &id.member_class(), &id.member_code()});
  }
};

template <>
struct std::hash<hansa::ids::SubsystemId> {
  std::size_t operator()(const hansa::ids::SubsystemId& id) const noexcept {
    return hansa::ids::detail::hash_parts(
        {&id.instance(), &id.member_class(), &id.member_code(), &id.subsystem_code()});
  }
};

template <>
struct std::hash<hansa::ids::ClientId> {
  std::size_t operator()(const hansa::ids::ClientId& id) const noexcept {
    const std::string* sub = id.subsystem_code() ? &*id.subsystem_code() : nullptr;
    return hansa::ids::detail::hash_parts(
        {&id.instance(), &id.member_class(), &id.member_code(), sub});
  }
};

template <>
struct std::hash<hansa::ids::ServiceId> {
  std::size_t operator()(const hansa::ids::ServiceId& id) const noexcept {
    const std::string* sub = id.subsystem_code() ? &*id.subsystem_code() : nullptr;
    const std::string* ver = id.service_version() ? &*id.service_version() : nullptr;
    return hansa::ids::detail::hash_parts(
        {&id.instance(), &id.member_class(), &id.member_code(), sub, &id.service_code(), ver});
  }
};

template <>
struct std::hash<hansa::ids::SecurityServerId> {
  std::size_t operator()(const hansa::ids::SecurityServerId& id) const noexcept {
    return hansa::ids::detail::hash_parts(
        {&id.instance(), &id.member_class(), &id.member_code(), &id.server_code()});
  }
};

template <>
struct std::hash<hansa::ids::GlobalGroupId> {
  std::size_t operator()(const hansa::ids::GlobalGroupId& id) const noexcept {
    return hansa::ids::detail::hash_parts({&id.instance(), &id.group_code()});
  }
};

template <>
struct std::hash<hansa::ids::LocalGroupId> {
  std::size_t operator()(const hansa::ids::LocalGroupId& id) const noexcept {
    return hansa::ids::detail::hash_parts({&id.group_code()});
  }
};
