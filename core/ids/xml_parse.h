#pragma once

// Parsing X-Road identifiers from their XML form (PR-MESS 2.1 and Annex A) out of a core/xml
// element: the wrapping element (xroad:client, xroad:service, ...) whose id:objectType attribute
// names the kind and whose children in http://x-road.eu/xsd/identifiers hold the parts.
//
// Strict: objectType must be present and fit the requested kind (MEMBER with a subsystemCode, or
// SUBSYSTEM without one, is rejected), child elements must be in the identifiers namespace, in
// schema order, each at most once, with text only (no nested elements); non-blank text directly
// in the wrapping element is rejected; part values obey the rules of core/ids/ids.h (no
// whitespace trimming). Codes: InvalidClientIdentifier, InvalidServiceIdentifier,
// InvalidSecurityServer, InvalidIdentifier (groups, unknown objectType in parse_any_xml).
//
// Threading: pure functions; safe as long as the element's document is not modified meanwhile.

#include "core/errors/errors.h"
#include "core/ids/ids.h"
#include "core/xml/xml.h"

namespace hansa::ids {

// objectType MEMBER or SUBSYSTEM (XRoadClientIdentifierType).
[[nodiscard]] Result<ClientId> client_from_xml(const xml::Element& element);
// objectType SERVICE (XRoadServiceIdentifierType).
[[nodiscard]] Result<ServiceId> service_from_xml(const xml::Element& element);
// objectType SERVER (XRoadSecurityServerIdentifierType).
[[nodiscard]] Result<SecurityServerId> security_server_from_xml(const xml::Element& element);
// objectType GLOBALGROUP.
[[nodiscard]] Result<GlobalGroupId> global_group_from_xml(const xml::Element& element);
// objectType LOCALGROUP.
[[nodiscard]] Result<LocalGroupId> local_group_from_xml(const xml::Element& element);
// Any of the above, chosen by objectType (MEMBER gives a MemberId, SUBSYSTEM a SubsystemId).
[[nodiscard]] Result<AnyId> any_from_xml(const xml::Element& element);

}  // namespace hansa::ids
