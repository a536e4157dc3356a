#pragma once

// Certificate profiles: how a member identifier is read out of a signing certificate's subject
// (reference section 4; X-Road's CertificateProfileInfoProvider implementations). A CA approved in
// the global configuration names its profile by the class name X-Road puts into shared-params'
// certificateProfileInfo; Hansa maps those names to the profiles below.
// Threading: free functions over immutable values, thread-safe.

#include <string_view>

#include "core/crypto/certificate.h"
#include "core/errors/errors.h"
#include "core/ids/ids.h"

namespace hansa::crypto {

enum class CertificateProfile {
  // Hansa's own (dev PKI): O=<member name>, CN=<member code>,
  // serialNumber=<instance>/<member class>/<member code>; CN must equal the member code.
  kHansaDefault,
  // X-Road Basic and BasicACME: businessCategory=<member class>, serialNumber=<member code>;
  // the instance is the global configuration's.
  kBasic,
  // X-Road EJBCA: C=<instance>, O=<member class>, CN=<member code>.
  kEjbca,
  // X-Road FiVRK (Finland): C=FI, O present, CN=<member code>,
  // serialNumber=<instance>/<server code>/<member class>. Without serialNumber: with OU the legacy
  // form C=FI, O=<instance>, OU=<member class>, CN=<member code>; without OU the EJBCA form.
  kFiVrk,
  // X-Road Faroe Islands: C=FO, O=<instance>, OU=<member class>, CN=<member code>, serialNumber
  // present.
  kFo,
  // X-Road Iceland: as kFo with C=IS; without serialNumber and OU the EJBCA form.
  kIs,
  // X-Road SK Klass3 (Estonia): organizationIdentifier NTREE-/GO:EE-/NP:EE-<code> -> COM/GOV/NGO
  // (other prefixes: NEE with the whole identifier as code); else an 8-digit serialNumber whose
  // first digit gives the class (1-6 COM, 7 GOV, 8-9 NGO).
  kSkKlass3,
  // X-Road SK ESTEID (deprecated): class PERSON, code = serialNumber.
  kSkEsteId,
};

// The name Hansa writes for its own profile into certificateProfileInfo.
inline constexpr std::string_view kHansaDefaultProfileName = "hansa.DefaultCertificateProfile";

// Maps a certificateProfileInfo class name (e.g.
// "ee.ria.xroad.common.certificateprofile.impl.FiVRKCertificateProfileInfoProvider") to a profile.
// Fails with InvalidConfiguration for empty or unknown names.
[[nodiscard]] Result<CertificateProfile> certificate_profile_from_name(std::string_view name);

// The canonical certificateProfileInfo name of a profile (X-Road's class name, or
// kHansaDefaultProfileName).
[[nodiscard]] std::string_view certificate_profile_name(CertificateProfile profile) noexcept;

// Reads the member identifier from a signing certificate under `profile`. `instance` is the
// X-Road instance of the global configuration that approved the CA (profiles that do not encode
// the instance use it). Fails with IncorrectCertificate when the subject does not fit the profile
// or yields an invalid identifier.
[[nodiscard]] Result<ids::MemberId> member_id_from_sign_cert(CertificateProfile profile,
                                                             const Certificate& cert,
                                                             std::string_view instance);

}  // namespace hansa::crypto
