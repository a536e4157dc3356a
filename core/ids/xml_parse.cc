#include "core/ids/xml_parse.h"

#include <array>
#include <optional>
#include <string>

#include "core/ids/internal.h"
#include "core/ids/xml_print.h"

namespace hansa::ids {
namespace {

constexpr std::size_t kPartCount = 8;
using PartValues = std::array<std::optional<std::string>, kPartCount>;

std::optional<Part> part_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kPartCount; ++i) {
    if (part_name(static_cast<Part>(i)) == name) {
      return static_cast<Part>(i);
    }
  }
  return std::nullopt;
}

Error fail(FaultCode code, std::string what) {
  return Error(code, std::string(kind_label(code)) + ": " + what);
}

// Reads the objectType attribute.
Result<ObjectType> read_type(const xml::Element& element, FaultCode code) {
  if (!element) {
    return fail(code, "no element");
  }
  auto attr = element.attribute(kIdentifiersNamespace, "objectType");
  if (!attr) {
    return fail(code, "element " + quote_for_message(element.local_name()) +
                          " has no id:objectType attribute");
  }
  auto type = object_type_from_name(*attr);
  if (!type) {
    return fail(code, "unknown objectType " + quote_for_message(*attr));
  }
  return *type;
}

// Reads the part elements, checking namespace, order, duplicates and content (PR-MESS Annex A
// XRoadIdentifierType sequence).
Result<PartValues> read_parts(const xml::Element& element, FaultCode code) {
  if (element.has_non_blank_text_child()) {
    return fail(code, "text outside the identifier part elements");
  }
  PartValues values;
  int last = -1;
  for (xml::Element child = element.first_child(); child; child = child.next_sibling()) {
    if (child.namespace_uri() != kIdentifiersNamespace) {
      return fail(code, "unexpected element " + quote_for_message(child.local_name()) +
                            " (not in the identifiers namespace)");
    }
    auto part = part_from_name(child.local_name());
    if (!part) {
      return fail(code, "unexpected element " + quote_for_message(child.local_name()));
    }
    int index = static_cast<int>(*part);
    if (index == last) {
      return fail(code, std::string(part_name(*part)) + " appears twice");
    }
    if (index < last) {
      return fail(code, std::string(part_name(*part)) + " is out of order");
    }
    last = index;
    if (child.first_child()) {
      return fail(code, std::string(part_name(*part)) + " must hold text only");
    }
    values[static_cast<std::size_t>(index)] = child.text();
  }
  return values;
}

// Checks that exactly the parts in `required` plus any in `optional` are present.
Status check_parts(const PartValues& values, std::initializer_list<Part> required,
                   std::initializer_list<Part> optional, ObjectType type, FaultCode code) {
  for (Part p : required) {
    if (!values[static_cast<std::size_t>(p)]) {
      return fail(code,
                  std::string(object_type_name(type)) + " is missing " + std::string(part_name(p)));
    }
  }
  for (std::size_t i = 0; i < kPartCount; ++i) {
    if (!values[i]) {
      continue;
    }
    auto p = static_cast<Part>(i);
    bool allowed = false;
    for (Part r : required) {
      allowed = allowed || r == p;
    }
    for (Part o : optional) {
      allowed = allowed || o == p;
    }
    if (!allowed) {
      return fail(code, std::string(object_type_name(type)) + " must not have " +
                            std::string(part_name(p)));
    }
  }
  return ok_status();
}

const std::string& get(const PartValues& v, Part p) { return *v[static_cast<std::size_t>(p)]; }

std::optional<std::string_view> get_opt(const PartValues& v, Part p) {
  const auto& o = v[static_cast<std::size_t>(p)];
  return o ? std::optional<std::string_view>(*o) : std::nullopt;
}

Result<ClientId> client_parts(const PartValues& v, ObjectType type, FaultCode code) {
  if (type == ObjectType::kMember) {
    HANSA_RETURN_IF_ERROR(
        check_parts(v, {Part::kInstance, Part::kMemberClass, Part::kMemberCode}, {}, type, code));
  } else {
    HANSA_RETURN_IF_ERROR(check_parts(
        v, {Part::kInstance, Part::kMemberClass, Part::kMemberCode, Part::kSubsystemCode}, {}, type,
        code));
  }
  return make_client(get(v, Part::kInstance), get(v, Part::kMemberClass), get(v, Part::kMemberCode),
                     get_opt(v, Part::kSubsystemCode), code);
}

Error wrong_type(FaultCode code, ObjectType got, std::string_view expected) {
  return fail(code, "objectType " + std::string(object_type_name(got)) + " where " +
                        std::string(expected) + " is expected");
}

}  // namespace

Result<ClientId> client_from_xml(const xml::Element& element) {
  constexpr FaultCode kCode = FaultCode::kInvalidClientIdentifier;
  HANSA_ASSIGN_OR_RETURN(ObjectType type, read_type(element, kCode));
  if (type != ObjectType::kMember && type != ObjectType::kSubsystem) {
    return wrong_type(kCode, type, "MEMBER or SUBSYSTEM");
  }
  HANSA_ASSIGN_OR_RETURN(PartValues v, read_parts(element, kCode));
  return client_parts(v, type, kCode);
}

Result<ServiceId> service_from_xml(const xml::Element& element) {
  constexpr FaultCode kCode = FaultCode::kInvalidServiceIdentifier;
  HANSA_ASSIGN_OR_RETURN(ObjectType type, read_type(element, kCode));
  if (type != ObjectType::kService) {
    return wrong_type(kCode, type, "SERVICE");
  }
  HANSA_ASSIGN_OR_RETURN(PartValues v, read_parts(element, kCode));
  HANSA_RETURN_IF_ERROR(
      check_parts(v, {Part::kInstance, Part::kMemberClass, Part::kMemberCode, Part::kServiceCode},
                  {Part::kSubsystemCode, Part::kServiceVersion}, type, kCode));
  HANSA_ASSIGN_OR_RETURN(
      ClientId provider,
      make_client(get(v, Part::kInstance), get(v, Part::kMemberClass), get(v, Part::kMemberCode),
                  get_opt(v, Part::kSubsystemCode), kCode));
  return ServiceId::create(std::move(provider), get(v, Part::kServiceCode),
                           get_opt(v, Part::kServiceVersion));
}

Result<SecurityServerId> security_server_from_xml(const xml::Element& element) {
  constexpr FaultCode kCode = FaultCode::kInvalidSecurityServer;
  HANSA_ASSIGN_OR_RETURN(ObjectType type, read_type(element, kCode));
  if (type != ObjectType::kServer) {
    return wrong_type(kCode, type, "SERVER");
  }
  HANSA_ASSIGN_OR_RETURN(PartValues v, read_parts(element, kCode));
  HANSA_RETURN_IF_ERROR(
      check_parts(v, {Part::kInstance, Part::kMemberClass, Part::kMemberCode, Part::kServerCode},
                  {}, type, kCode));
  return SecurityServerId::create(get(v, Part::kInstance), get(v, Part::kMemberClass),
                                  get(v, Part::kMemberCode), get(v, Part::kServerCode));
}

Result<GlobalGroupId> global_group_from_xml(const xml::Element& element) {
  constexpr FaultCode kCode = FaultCode::kInvalidIdentifier;
  HANSA_ASSIGN_OR_RETURN(ObjectType type, read_type(element, kCode));
  if (type != ObjectType::kGlobalGroup) {
    return wrong_type(kCode, type, "GLOBALGROUP");
  }
  HANSA_ASSIGN_OR_RETURN(PartValues v, read_parts(element, kCode));
  HANSA_RETURN_IF_ERROR(check_parts(v, {Part::kInstance, Part::kGroupCode}, {}, type, kCode));
  return GlobalGroupId::create(get(v, Part::kInstance), get(v, Part::kGroupCode));
}

Result<LocalGroupId> local_group_from_xml(const xml::Element& element) {
  constexpr FaultCode kCode = FaultCode::kInvalidIdentifier;
  HANSA_ASSIGN_OR_RETURN(ObjectType type, read_type(element, kCode));
  if (type != ObjectType::kLocalGroup) {
    return wrong_type(kCode, type, "LOCALGROUP");
  }
  HANSA_ASSIGN_OR_RETURN(PartValues v, read_parts(element, kCode));
  HANSA_RETURN_IF_ERROR(check_parts(v, {Part::kGroupCode}, {}, type, kCode));
  return LocalGroupId::create(get(v, Part::kGroupCode));
}

Result<AnyId> any_from_xml(const xml::Element& element) {
  HANSA_ASSIGN_OR_RETURN(ObjectType type, read_type(element, FaultCode::kInvalidIdentifier));
  auto wrap = [](auto result) -> Result<AnyId> {
    if (!result.ok()) {
      return std::move(result).error();
    }
    return AnyId(std::move(result).value());
  };
  switch (type) {
    case ObjectType::kMember: {
      HANSA_ASSIGN_OR_RETURN(ClientId c, client_from_xml(element));
      return AnyId(c.member());
    }
    case ObjectType::kSubsystem: {
      HANSA_ASSIGN_OR_RETURN(ClientId c, client_from_xml(element));
      return AnyId(*c.as_subsystem());
    }
    case ObjectType::kService:
      return wrap(service_from_xml(element));
    case ObjectType::kServer:
      return wrap(security_server_from_xml(element));
    case ObjectType::kGlobalGroup:
      return wrap(global_group_from_xml(element));
    case ObjectType::kLocalGroup:
      return wrap(local_group_from_xml(element));
  }
  return Error(FaultCode::kInvalidIdentifier, "identifier: unknown objectType");
}

}  // namespace hansa::ids
