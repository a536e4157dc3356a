#include "core/crypto/cert_profile.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace hansa::crypto {
namespace {

constexpr std::string_view kXRoadPackage = "ee.ria.xroad.common.certificateprofile.impl.";

struct ProfileName {
  std::string_view class_name;  // without kXRoadPackage for X-Road's own
  CertificateProfile profile;
};

constexpr std::array kProfileNames{
    ProfileName{"BasicCertificateProfileInfoProvider", CertificateProfile::kBasic},
    ProfileName{"BasicACMECertificateProfileInfoProvider", CertificateProfile::kBasic},
    ProfileName{"EjbcaCertificateProfileInfoProvider", CertificateProfile::kEjbca},
    ProfileName{"FiVRKCertificateProfileInfoProvider", CertificateProfile::kFiVrk},
    ProfileName{"FoCertificateProfileInfoProvider", CertificateProfile::kFo},
    ProfileName{"IsCertificateProfileInfoProvider", CertificateProfile::kIs},
    ProfileName{"SkKlass3CertificateProfileInfoProvider", CertificateProfile::kSkKlass3},
    ProfileName{"SkEsteIdCertificateProfileInfoProvider", CertificateProfile::kSkEsteId},
};

Error incorrect(std::string message, const Certificate& cert) {
  return Error(FaultCode::kIncorrectCertificate, std::move(message), cert.subject());
}

// The first value of a subject attribute, as X-Road's getRDNValue reads it.
Result<std::string> required(const Certificate& cert, std::string_view field,
                             std::string_view what) {
  auto v = cert.subject_field(field);
  if (!v) {
    return incorrect("certificate subject name does not contain " + std::string(what), cert);
  }
  return std::move(*v);
}

Result<ids::MemberId> make_member(const Certificate& cert, std::string_view instance,
                                  std::string_view member_class, std::string_view member_code) {
  auto id = ids::MemberId::create(instance, member_class, member_code);
  if (!id.ok()) {
    return incorrect(
        "certificate subject yields an invalid member identifier: " + id.error().message, cert);
  }
  return std::move(id).value();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// C=<instance>, O=<member class>, CN=<member code> (X-Road's CertSubjectUtils).
Result<ids::MemberId> ejbca(const Certificate& cert) {
  HANSA_ASSIGN_OR_RETURN(auto c, required(cert, "C", "country code"));
  HANSA_ASSIGN_OR_RETURN(auto o, required(cert, "O", "organization"));
  HANSA_ASSIGN_OR_RETURN(auto cn, required(cert, "CN", "common name"));
  return make_member(cert, c, o, cn);
}

// C=<country>, O=<instance>, OU=<member class>, CN=<member code>, serialNumber present.
Result<ids::MemberId> country_ou(const Certificate& cert, std::string_view country) {
  if (cert.subject_field("C") != std::string(country)) {
    return incorrect("certificate subject name does not contain valid country code", cert);
  }
  HANSA_ASSIGN_OR_RETURN(auto o, required(cert, "O", "organization"));
  HANSA_ASSIGN_OR_RETURN(auto ou, required(cert, "OU", "organization unit"));
  HANSA_ASSIGN_OR_RETURN(auto cn, required(cert, "CN", "common name"));
  HANSA_RETURN_IF_ERROR(required(cert, "serialNumber", "serial number"));
  return make_member(cert, o, ou, cn);
}

Result<ids::MemberId> hansa_default(const Certificate& cert) {
  HANSA_ASSIGN_OR_RETURN(auto sn, required(cert, "serialNumber", "serial number"));
  auto parts = split(sn, '/');
  if (parts.size() != 3) {
    return incorrect("serialNumber must be <instance>/<member class>/<member code>", cert);
  }
  HANSA_ASSIGN_OR_RETURN(auto cn, required(cert, "CN", "common name"));
  if (cn != parts[2]) {
    return incorrect("common name does not equal the member code in serialNumber", cert);
  }
  return make_member(cert, parts[0], parts[1], parts[2]);
}

Result<ids::MemberId> basic(const Certificate& cert, std::string_view instance) {
  HANSA_ASSIGN_OR_RETURN(auto bc, required(cert, "businessCategory", "business category"));
  HANSA_ASSIGN_OR_RETURN(auto sn, required(cert, "serialNumber", "serial number"));
  return make_member(cert, instance, bc, sn);
}

Result<ids::MemberId> fivrk(const Certificate& cert) {
  if (!cert.subject_field("serialNumber")) {
    if (!cert.subject_field("OU")) return ejbca(cert);
    // Legacy form: C=FI, O=<instance>, OU=<member class>, CN=<member code>.
    if (cert.subject_field("C") != std::string("FI")) {
      return incorrect("certificate subject name does not contain valid country code", cert);
    }
    HANSA_ASSIGN_OR_RETURN(auto o, required(cert, "O", "organization"));
    HANSA_ASSIGN_OR_RETURN(auto ou, required(cert, "OU", "organization unit"));
    HANSA_ASSIGN_OR_RETURN(auto cn, required(cert, "CN", "common name"));
    return make_member(cert, o, ou, cn);
  }
  if (cert.subject_field("C") != std::string("FI")) {
    return incorrect("certificate subject name does not contain valid country code", cert);
  }
  HANSA_RETURN_IF_ERROR(required(cert, "O", "organization"));
  HANSA_ASSIGN_OR_RETURN(auto cn, required(cert, "CN", "common name"));
  HANSA_ASSIGN_OR_RETURN(auto sn, required(cert, "serialNumber", "serial number"));
  auto parts = split(sn, '/');
  if (parts.size() != 3) {
    return incorrect("certificate subject name's attribute serialNumber has invalid value", cert);
  }
  // parts: instance, server code (unused), member class.
  return make_member(cert, parts[0], parts[2], cn);
}

Result<ids::MemberId> is_profile(const Certificate& cert) {
  if (!cert.subject_field("serialNumber") && !cert.subject_field("OU")) return ejbca(cert);
  return country_ou(cert, "IS");
}

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

Result<ids::MemberId> sk_klass3(const Certificate& cert, std::string_view instance) {
  constexpr std::size_t kPrefixLength = 6;
  auto org_id = cert.subject_field("organizationIdentifier");
  if (org_id && !org_id->empty()) {
    std::string_view id = *org_id;
    std::string_view code = id.size() > kPrefixLength ? id.substr(kPrefixLength) : "";
    if (id.starts_with("NTREE-")) return make_member(cert, instance, "COM", code);
    if (id.starts_with("GO:EE-")) return make_member(cert, instance, "GOV", code);
    if (id.starts_with("NP:EE-")) return make_member(cert, instance, "NGO", code);
    // Non-Estonian organisations keep the whole identifier, so codes stay unique.
    return make_member(cert, instance, "NEE", id);
  }
  auto sn = cert.subject_field("serialNumber");
  if (!sn || sn->empty()) return incorrect("subject name does not contain serial number", cert);
  if (!all_digits(*sn)) return incorrect("serial number is not an integer", cert);
  if (sn->size() != 8) return incorrect("serial number must be 8 digits long", cert);
  char first = (*sn)[0];
  std::string_view member_class;
  if (first >= '1' && first <= '6') {
    member_class = "COM";
  } else if (first == '7') {
    member_class = "GOV";
  } else if (first == '8' || first == '9') {
    member_class = "NGO";
  } else {
    return incorrect("malformed serial number", cert);
  }
  return make_member(cert, instance, member_class, *sn);
}

Result<ids::MemberId> sk_esteid(const Certificate& cert, std::string_view instance) {
  auto sn = cert.subject_field("serialNumber");
  if (!sn || sn->empty()) return incorrect("subject name does not contain serial number", cert);
  return make_member(cert, instance, "PERSON", *sn);
}

}  // namespace

Result<CertificateProfile> certificate_profile_from_name(std::string_view name) {
  if (name == kHansaDefaultProfileName) return CertificateProfile::kHansaDefault;
  if (name.starts_with(kXRoadPackage)) {
    std::string_view simple = name.substr(kXRoadPackage.size());
    for (const auto& p : kProfileNames) {
      if (p.class_name == simple) return p.profile;
    }
  }
  return Error(FaultCode::kInvalidConfiguration, "unknown certificate profile",
               std::string(name.substr(0, 256)));
}

std::string_view certificate_profile_name(CertificateProfile profile) noexcept {
  switch (profile) {
    case CertificateProfile::kHansaDefault:
      return kHansaDefaultProfileName;
    case CertificateProfile::kBasic:
      return "ee.ria.xroad.common.certificateprofile.impl.BasicCertificateProfileInfoProvider";
    case CertificateProfile::kEjbca:
      return "ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider";
    case CertificateProfile::kFiVrk:
      return "ee.ria.xroad.common.certificateprofile.impl.FiVRKCertificateProfileInfoProvider";
    case CertificateProfile::kFo:
      return "ee.ria.xroad.common.certificateprofile.impl.FoCertificateProfileInfoProvider";
    case CertificateProfile::kIs:
      return "ee.ria.xroad.common.certificateprofile.impl.IsCertificateProfileInfoProvider";
    case CertificateProfile::kSkKlass3:
      return "ee.ria.xroad.common.certificateprofile.impl.SkKlass3CertificateProfileInfoProvider";
    case CertificateProfile::kSkEsteId:
      return "ee.ria.xroad.common.certificateprofile.impl.SkEsteIdCertificateProfileInfoProvider";
  }
  return kHansaDefaultProfileName;
}

Result<ids::MemberId> member_id_from_sign_cert(CertificateProfile profile, const Certificate& cert,
                                               std::string_view instance) {
  switch (profile) {
    case CertificateProfile::kHansaDefault:
      return hansa_default(cert);
    case CertificateProfile::kBasic:
      return basic(cert, instance);
    case CertificateProfile::kEjbca:
      return ejbca(cert);
    case CertificateProfile::kFiVrk:
      return fivrk(cert);
    case CertificateProfile::kFo:
      return country_ou(cert, "FO");
    case CertificateProfile::kIs:
      return is_profile(cert);
    case CertificateProfile::kSkKlass3:
      return sk_klass3(cert, instance);
    case CertificateProfile::kSkEsteId:
      return sk_esteid(cert, instance);
  }
  return incorrect("unknown certificate profile", cert);
}

}  // namespace hansa::crypto
