#include "core/signature/signature.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>

#include "core/crypto/cert_profile.h"
#include "core/crypto/encoding.h"
#include "core/crypto/parse_memo.h"
#include "core/crypto/trust_store.h"
#include "core/globalconf/xml_codec.h"

namespace hansa::signature {
namespace {

using crypto::DigestAlgorithm;

constexpr std::string_view kSignedPropertiesId = "signed-properties";
constexpr std::string_view kSpDigestPlaceholder = "@@HANSA-SIGNED-PROPERTIES-DIGEST@@";
constexpr std::string_view kSigValuePlaceholder = "@@HANSA-SIGNATURE-VALUE@@";
// SHA-512 of the policy document X-Road names (https://repo.cyber.ee/dsig-profile-1.2.pdf), as
// X-Road writes it into SigPolicyHash.
constexpr std::string_view kPolicyHash =
    "BuO0EDNfkxSVlUbxCzmQPzX1AUF1/xx9ytWHk3/6SAOePxQiniEfDYk+90QeYb3lWpV3Izhuz9fKaYyE+lTcXw==";

Error malformed(std::string message, std::string detail = {}) {
  return Error(FaultCode::kMalformedSignature, std::move(message), std::move(detail));
}

Error invalid_value(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidSignatureValue, std::move(message), std::move(detail));
}

void replace_once(std::string& s, std::string_view what, std::string_view with) {
  auto pos = s.find(what);
  HANSA_CHECK(pos != std::string::npos);
  s.replace(pos, what.size(), with);
}

bool valid_uri(std::string_view uri) {
  if (uri.empty() || uri.size() > 1024) {
    return false;
  }
  return std::none_of(uri.begin(), uri.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x21 || c == '"' || c == '<' || c == '>' || c == '&' ||
           c == '#';
  });
}

std::size_t ec_field_size(const crypto::Certificate& cert) {
  return static_cast<std::size_t>((cert.public_key().bits() + 7) / 8);
}

// The two signed parts of the document, SignedInfo and SignedProperties, are written either as
// the document's bytes or as their canonical form (inclusive C14N 1.0 of the element alone), which
// is what their digest and the signature value are computed over. The canonical form differs only
// in three ways: the apex element declares every namespace in scope (asic, ds and xades, in that
// order), empty elements have end tags, and text is escaped as C14N escapes it. Writing both from
// one template spares parsing the document and canonicalizing it, which cost more than the rest
// of a batch signature together (the RSA operation aside).
enum class Form { kDocument, kCanonical };

// Text content as the document writes it, or as C14N escapes it (&, <, > and CR, the latter as
// &#xD;; a quote stays as it is).
std::string escape(Form form, std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += form == Form::kDocument ? "&quot;" : "\"";
        break;
      case '\r':
        out += form == Form::kDocument ? "&#13;" : "&#xD;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The namespaces every element of the document has in scope, as the root declares them.
void namespace_declarations(std::string& x) {
  x += " xmlns:asic=\"";
  x += kAsicNamespace;
  x += "\" xmlns:ds=\"";
  x += kDsigNamespace;
  x += "\" xmlns:xades=\"";
  x += kXadesNamespace;
  x += '"';
}

// `<name attribute="value"/>`; `value` needs no escaping (an algorithm URI).
void empty_element(std::string& x, Form form, std::string_view name, std::string_view attribute,
                   std::string_view value) {
  x += '<';
  x += name;
  x += ' ';
  x += attribute;
  x += "=\"";
  x += value;
  if (form == Form::kDocument) {
    x += "\"/>";
  } else {
    x += "\"></";
    x += name;
    x += '>';
  }
}

// The start tag of a signed part: in canonical form with the namespaces in scope declared on it.
void start_tag(std::string& x, Form form, std::string_view name) {
  x += '<';
  x += name;
  if (form == Form::kCanonical) {
    namespace_declarations(x);
  }
}

// SignedInfo, with a placeholder for the SignedProperties digest.
std::string signed_info(const std::vector<DataReference>& references, const SignOptions& options,
                        Form form) {
  std::string x;
  start_tag(x, form, "ds:SignedInfo");
  x += ">\n";
  empty_element(x, form, "ds:CanonicalizationMethod", "Algorithm",
                xml::c14n_uri(xml::C14nMethod::kC14n10));
  x += '\n';
  empty_element(x, form, "ds:SignatureMethod", "Algorithm",
                crypto::signature_uri(options.algorithm));
  x += '\n';
  for (std::size_t i = 0; i < references.size(); ++i) {
    const DataReference& r = references[i];
    // valid_uri() leaves nothing in a URI that either form escapes.
    x += "<ds:Reference Id=\"signature-reference-" + std::to_string(i) + "\" URI=\"" + r.uri +
         "\">\n";
    empty_element(x, form, "ds:DigestMethod", "Algorithm", crypto::digest_uri(r.algorithm));
    x += "\n<ds:DigestValue>" + crypto::base64_encode(r.digest) +
         "</ds:DigestValue>\n</ds:Reference>\n";
  }
  x += "<ds:Reference Id=\"signature-reference-" + std::to_string(references.size()) + "\" Type=\"";
  x += kSignedPropertiesType;
  x += "\" URI=\"#";
  x += kSignedPropertiesId;
  x += "\">\n";
  empty_element(x, form, "ds:DigestMethod", "Algorithm", crypto::digest_uri(options.digest));
  x += "\n<ds:DigestValue>";
  x += kSpDigestPlaceholder;
  x += "</ds:DigestValue>\n</ds:Reference>\n</ds:SignedInfo>";
  return x;
}

// What SignedProperties says of the signing certificate, read from it once per signature.
struct CertFields {
  std::string digest;  // base64, with SignOptions::digest
  std::string issuer;
  std::string serial;  // decimal
};

// Qualifying properties (XAdES 1.3.2), laid out as X-Road's SignatureBuilder does.
std::string signed_properties(const std::vector<DataReference>& references, const CertFields& cert,
                              const SignOptions& options, TimePoint when, Form form) {
  const std::string_view digest_uri = crypto::digest_uri(options.digest);
  std::string x;
  start_tag(x, form, "xades:SignedProperties");
  x += " Id=\"";
  x += kSignedPropertiesId;
  x += "\"><xades:SignedSignatureProperties><xades:SigningTime>" + globalconf::format_utc(when) +
       "</xades:SigningTime><xades:SigningCertificate><xades:Cert><xades:CertDigest>";
  empty_element(x, form, "ds:DigestMethod", "Algorithm", digest_uri);
  x += "<ds:DigestValue>" + cert.digest +
       "</ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>" +
       escape(form, cert.issuer) + "</ds:X509IssuerName><ds:X509SerialNumber>" + cert.serial +
       "</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert></xades:SigningCertificate>";
  x += "<xades:SignaturePolicyIdentifier><xades:SignaturePolicyId><xades:SigPolicyId>"
       "<xades:Identifier Qualifier=\"OIDAsURN\">";
  x += kPolicyIdentifier;
  x += "</xades:Identifier><xades:Description>Profile for High Performance Digital Signatures "
       "(version 1.2)</xades:Description></xades:SigPolicyId><xades:SigPolicyHash>";
  empty_element(x, form, "ds:DigestMethod", "Algorithm", "http://www.w3.org/2001/04/xmlenc#sha512");
  x += "<ds:DigestValue>";
  x += kPolicyHash;
  x +=
      "</ds:DigestValue></xades:SigPolicyHash><xades:SigPolicyQualifiers><xades:SigPolicyQualifier>"
      "<xades:SPURI>https://repo.cyber.ee/dsig-profile-1.2.pdf</xades:SPURI>"
      "</xades:SigPolicyQualifier></xades:SigPolicyQualifiers></xades:SignaturePolicyId>"
      "</xades:SignaturePolicyIdentifier></xades:SignedSignatureProperties>"
      "<xades:SignedDataObjectProperties>";
  for (std::size_t i = 0; i < references.size(); ++i) {
    x += "<xades:DataObjectFormat ObjectReference=\"#signature-reference-" + std::to_string(i) +
         "\"><xades:MimeType>" + escape(form, references[i].mime_type) +
         "</xades:MimeType></xades:DataObjectFormat>";
  }
  x += "</xades:SignedDataObjectProperties></xades:SignedProperties>";
  return x;
}

// The whole document around its SignedProperties, with placeholders for the SignedProperties
// digest and the signature value.
std::string build_document(const std::vector<DataReference>& references,
                           const crypto::Certificate& cert, std::string_view ocsp_der,
                           const SignOptions& options, std::string_view signed_properties_xml) {
  std::string x;
  x += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>";
  x += "<asic:XAdESSignatures";
  namespace_declarations(x);
  x += "><ds:Signature Id=\"signature\">\n";
  x += signed_info(references, options, Form::kDocument);
  x += "\n<ds:SignatureValue Id=\"signature-value\">";
  x += kSigValuePlaceholder;
  x += "</ds:SignatureValue>\n<ds:KeyInfo>\n<ds:X509Data>\n";
  x += "<ds:X509Certificate>" + crypto::base64_encode(cert.der()) + "</ds:X509Certificate>\n";
  for (const auto& extra : options.extra_certs) {
    x += "<ds:X509Certificate>" + crypto::base64_encode(extra.der()) + "</ds:X509Certificate>\n";
  }
  x += "</ds:X509Data>\n</ds:KeyInfo>\n";
  x += "<ds:Object><xades:QualifyingProperties Target=\"#signature\">";
  x += signed_properties_xml;
  x += "<xades:UnsignedProperties><xades:UnsignedSignatureProperties>";
  if (options.timestamp_der) {
    x += "<xades:SignatureTimeStamp><xades:EncapsulatedTimeStamp>" +
         crypto::base64_encode(*options.timestamp_der) +
         "</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>";
  }
  x += "<xades:RevocationValues><xades:OCSPValues><xades:EncapsulatedOCSPValue "
       "Id=\"ocsp-response-1\">" +
       crypto::base64_encode(ocsp_der) +
       "</xades:EncapsulatedOCSPValue></xades:OCSPValues>"
       "</xades:RevocationValues></xades:UnsignedSignatureProperties></xades:UnsignedProperties>"
       "</xades:QualifyingProperties></ds:Object>\n</ds:Signature></asic:XAdESSignatures>";
  return x;
}

// Whether `s` is UTF-8 made of characters XML 1.0 allows.
bool xml_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    std::size_t n = 0;
    if (b < 0x80) {
      cp = b;
      n = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      cp = b & 0x1Fu;
      n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      cp = b & 0x0Fu;
      n = 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
      cp = b & 0x07u;
      n = 4;
    } else {
      return false;
    }
    if (i + n > s.size()) {
      return false;
    }
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0u) != 0x80u) {
        return false;
      }
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const bool shortest =
        n == 1 || (n == 2 && cp >= 0x80) || (n == 3 && cp >= 0x800) || (n == 4 && cp >= 0x10000);
    const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!shortest || !allowed) {
      return false;
    }
    i += n;
  }
  return true;
}

xml::Element child(const xml::Element& e, std::string_view ns, std::string_view name) {
  return e ? e.first_child(ns, name) : xml::Element();
}

// The element whose Id attribute is `id` (exactly one), for same-document references.
Result<xml::Element> find_by_id(const xml::Element& root, std::string_view id) {
  if (id.empty() || id.size() > 256 || !std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      })) {
    return malformed("Unsupported same-document reference", std::string(id));
  }
  // Every element of the document whose Id attribute (without namespace) is `id`, as XPath
  // //*[@Id='id'] selects them, in one walk of the tree (an XPath evaluation cost several times
  // more on every signature verified).
  xml::Element found;
  std::size_t count = 0;
  xml::Element e = root;
  while (e) {
    if (auto v = e.attribute("Id"); v && *v == id) {
      found = e;
      ++count;
    }
    if (xml::Element c = e.first_child()) {
      e = c;
      continue;
    }
    while (e != root && !e.next_sibling()) {
      e = e.parent();
    }
    e = e == root ? xml::Element() : e.next_sibling();
  }
  if (count != 1) {
    return malformed("Reference #" + std::string(id) + " must name exactly one element",
                     std::to_string(count) + " found");
  }
  return found;
}

Result<std::string> decode_b64(const xml::Element& e, std::size_t max, std::string_view what) {
  std::string text = e.text();
  if (text.size() > max * 2 + 64) {
    return Error(FaultCode::kLimitExceeded, std::string(what) + " is too large");
  }
  auto bytes = crypto::base64_decode(text);
  if (!bytes.ok()) {
    return malformed(std::string(what) + " is not valid base64");
  }
  return std::move(bytes).value();
}

Result<crypto::DigestAlgorithm> digest_method(const xml::Element& parent) {
  xml::Element dm = child(parent, kDsigNamespace, "DigestMethod");
  if (!dm) {
    return malformed("DigestMethod missing");
  }
  auto alg = crypto::digest_from_uri(dm.attribute("Algorithm").value_or(""));
  if (!alg || *alg == DigestAlgorithm::kSha1) {
    return malformed("Unsupported digest method", dm.attribute("Algorithm").value_or(""));
  }
  return *alg;
}

// verify_certificate() results, by configuration snapshot, signing certificate and OCSP
// responses, with the verification times for which every time-dependent check (certificate
// validity, OCSP freshness, clock skew, nextUpdate, responder validity) gives the same answer.
// The same signers and OCSP responses come with every message, and the chain and OCSP checks cost
// several public-key operations.
struct RememberedCheck {
  CertificateCheck check;
  ocsp::StableWindow window;
};

constexpr std::size_t kCertificateChecksKept = 1024;

crypto::ParseMemo<RememberedCheck>& remembered_checks() {
  static crypto::ParseMemo<RememberedCheck> memo(kCertificateChecksKept);
  return memo;
}

std::string check_key(const ParsedSignature& signature,
                      const globalconf::GlobalConfSnapshot& conf) {
  std::string key;
  crypto::append_key_number(key, conf.generation());
  crypto::append_key_number(key, signature.certificates.size());
  for (const auto& c : signature.certificates) {
    crypto::append_key_part(key, c.der());
  }
  for (const auto& r : signature.ocsp_responses) {
    crypto::append_key_part(key, r);
  }
  return key;
}

// Signatures already parsed whose signature value verified, by their XML and the parse limits. A
// batch signature is shared by every message of its batch: each message then costs only its own
// reference and hash-chain checks.
constexpr std::size_t kCheckedSignaturesKept = 256;

crypto::ParseMemo<ParsedSignature>& checked_signatures() {
  static crypto::ParseMemo<ParsedSignature> memo(kCheckedSignaturesKept);
  return memo;
}

std::string signature_key(std::string_view signature_xml, const ParseLimits& limits) {
  const std::size_t numbers[] = {
      limits.xml.max_document_bytes, limits.xml.max_depth,
      limits.xml.max_text_bytes,     limits.xml.max_attributes_per_element,
      limits.xml.max_elements,       limits.max_references,
      limits.max_certificates,       limits.max_ocsp_responses,
      limits.max_base64_bytes};
  std::string key(reinterpret_cast<const char*>(numbers), sizeof numbers);
  key.append(signature_xml);
  return key;
}

}  // namespace

std::string attachment_uri(std::size_t index) { return "/attachment" + std::to_string(index); }

Result<std::string> create_signature(const std::vector<DataReference>& references,
                                     const crypto::Certificate& signing_cert,
                                     std::string_view ocsp_der, const Signer& signer,
                                     const SignOptions& options) {
  if (references.empty()) {
    return Error(FaultCode::kInvalidRequest, "A signature needs at least one data reference");
  }
  for (const auto& r : references) {
    if (!valid_uri(r.uri) || !xml_text(r.uri)) {
      return Error(FaultCode::kInvalidRequest, "Invalid reference URI", r.uri);
    }
    if (!xml_text(r.mime_type)) {
      return Error(FaultCode::kInvalidRequest, "Reference MIME type is not XML text", r.uri);
    }
    if (r.digest.size() != crypto::digest_size(r.algorithm)) {
      return Error(FaultCode::kInvalidRequest, "Digest of wrong size", r.uri);
    }
  }
  const crypto::KeyType key_type = signing_cert.public_key().type();
  if (crypto::signature_key_type(options.algorithm) != key_type) {
    return Error(FaultCode::kUnsupportedSignAlgorithm,
                 "Signature algorithm does not fit the signing certificate's key",
                 std::string(crypto::signature_uri(options.algorithm)));
  }
  const CertFields cert{signing_cert.fingerprint_base64(options.digest), signing_cert.issuer(),
                        signing_cert.serial_decimal()};
  if (!xml_text(cert.issuer)) {
    return Error(FaultCode::kInvalidRequest,
                 "The signing certificate's issuer name is not XML text", cert.issuer);
  }
  const TimePoint when = options.signing_time.value_or(std::chrono::system_clock::now());
  const std::string sp_digest = crypto::base64_encode(crypto::digest(
      options.digest, signed_properties(references, cert, options, when, Form::kCanonical)));
  std::string si_c14n = signed_info(references, options, Form::kCanonical);
  replace_once(si_c14n, kSpDigestPlaceholder, sp_digest);
  HANSA_ASSIGN_OR_RETURN(std::string sig, signer(options.algorithm, si_c14n));
  if (key_type == crypto::KeyType::kEc && !sig.empty() && sig[0] == 0x30) {
    HANSA_ASSIGN_OR_RETURN(sig, crypto::ecdsa_der_to_plain(sig, ec_field_size(signing_cert)));
  }
  std::string x =
      build_document(references, signing_cert, ocsp_der, options,
                     signed_properties(references, cert, options, when, Form::kDocument));
  replace_once(x, kSpDigestPlaceholder, sp_digest);
  replace_once(x, kSigValuePlaceholder, crypto::base64_encode(sig));
  return x;
}

Result<std::string> add_signature_timestamp(std::string_view signature_xml,
                                            std::string_view token_der) {
  HANSA_ASSIGN_OR_RETURN(ParsedSignature parsed, parse_signature(signature_xml));
  if (parsed.timestamp) {
    return malformed("The signature already has a SignatureTimeStamp");
  }
  constexpr std::string_view kAnchor = "<xades:UnsignedSignatureProperties>";
  std::string out(signature_xml);
  auto pos = out.find(kAnchor);
  if (pos == std::string::npos) {
    return malformed("No xades:UnsignedSignatureProperties to add a time-stamp to");
  }
  out.insert(pos + kAnchor.size(), "<xades:SignatureTimeStamp><xades:EncapsulatedTimeStamp>" +
                                       crypto::base64_encode(token_der) +
                                       "</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>");
  return out;
}

Result<std::vector<BatchSignature>> sign_batch(const std::vector<BatchItem>& items,
                                               const crypto::Certificate& signing_cert,
                                               std::string_view ocsp_der, const Signer& signer,
                                               const BatchOptions& options) {
  if (items.empty()) {
    return Error(FaultCode::kInvalidRequest, "Nothing to sign");
  }
  if (items.size() > options.max_items) {
    return Error(FaultCode::kLimitExceeded, "Too many messages in one batch",
                 std::to_string(items.size()));
  }
  const DigestAlgorithm alg = options.sign.digest;
  if (items.size() == 1 && !options.always_hash_chain) {
    std::vector<DataReference> refs;
    refs.push_back({std::string(kMessageUri), alg, items[0].message_digest, "text/xml"});
    for (std::size_t i = 0; i < items[0].attachment_digests.size(); ++i) {
      refs.push_back(
          {attachment_uri(i + 1), alg, items[0].attachment_digests[i], "application/octet-stream"});
    }
    HANSA_ASSIGN_OR_RETURN(std::string xml_text,
                           create_signature(refs, signing_cert, ocsp_der, signer, options.sign));
    return std::vector<BatchSignature>{BatchSignature{std::move(xml_text), {}, {}}};
  }
  std::vector<hashchain::ChainInput> inputs;
  inputs.reserve(items.size());
  for (const auto& item : items) {
    inputs.push_back({item.message_digest, item.attachment_digests});
  }
  hashchain::BuildOptions build;
  build.algorithm = alg;
  build.hash_chain_uri = std::string(kSigHashChainUri);
  build.data_uri = std::string(kMessageUri);
  build.max_inputs = options.max_items;
  HANSA_ASSIGN_OR_RETURN(hashchain::BuiltHashChains chains,
                         hashchain::build_hash_chains(inputs, build));
  std::vector<DataReference> refs{{std::string(kSigHashChainResultUri), alg,
                                   crypto::digest(alg, chains.result_xml),
                                   "application/hash-chain-result"}};
  HANSA_ASSIGN_OR_RETURN(std::string xml_text,
                         create_signature(refs, signing_cert, ocsp_der, signer, options.sign));
  std::vector<BatchSignature> out;
  out.reserve(items.size());
  for (auto& chain : chains.chain_xmls) {
    out.push_back({xml_text, chains.result_xml, std::move(chain)});
  }
  return out;
}

std::vector<const Reference*> ParsedSignature::data_references() const {
  std::vector<const Reference*> out;
  for (const auto& r : references) {
    if (r.type != kSignedPropertiesType) {
      out.push_back(&r);
    }
  }
  return out;
}

bool ParsedSignature::is_batch() const {
  auto refs = data_references();
  return refs.size() == 1 && refs[0]->uri == kSigHashChainResultUri;
}

Result<ParsedSignature> parse_signature(std::string_view signature_xml, const ParseLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(xml::Document doc, xml::Document::parse(signature_xml, limits.xml));
  ParsedSignature out;
  xml::Element root = doc.root();
  xml::Element sig;
  if (root.is(kAsicNamespace, "XAdESSignatures")) {
    auto sigs = root.children(kDsigNamespace, "Signature");
    if (sigs.size() != 1 || root.children().size() != 1) {
      return malformed("XAdESSignatures must hold exactly one ds:Signature");
    }
    sig = sigs[0];
  } else if (root.is(kDsigNamespace, "Signature")) {
    out.xades_wrapper = false;
    sig = root;
  } else {
    return malformed("Not a signature document", std::string(root.local_name()));
  }
  xml::Element si = child(sig, kDsigNamespace, "SignedInfo");
  if (!si) {
    return malformed("SignedInfo missing");
  }
  auto c14n = xml::c14n_from_uri(
      child(si, kDsigNamespace, "CanonicalizationMethod").attribute("Algorithm").value_or(""));
  if (!c14n) {
    return malformed("Unsupported canonicalization method");
  }
  out.c14n = *c14n;
  std::string sm_uri =
      child(si, kDsigNamespace, "SignatureMethod").attribute("Algorithm").value_or("");
  auto alg = crypto::signature_from_uri(sm_uri);
  if (!alg) {
    return malformed("Unsupported signature method", sm_uri);
  }
  out.algorithm = *alg;
  HANSA_ASSIGN_OR_RETURN(out.signed_info_c14n, xml::canonicalize(si, out.c14n));

  auto refs = si.children(kDsigNamespace, "Reference");
  if (refs.size() > limits.max_references) {
    return Error(FaultCode::kLimitExceeded, "Too many references in SignedInfo");
  }
  std::size_t signed_properties_refs = 0;
  for (const auto& re : refs) {
    Reference r;
    r.id = re.attribute("Id").value_or("");
    auto uri = re.attribute("URI");
    if (!uri) {
      return malformed("Reference without URI");
    }
    r.uri = *uri;
    r.type = re.attribute("Type").value_or("");
    HANSA_ASSIGN_OR_RETURN(r.algorithm, digest_method(re));
    xml::Element dv = child(re, kDsigNamespace, "DigestValue");
    if (!dv) {
      return malformed("DigestValue missing", r.uri);
    }
    HANSA_ASSIGN_OR_RETURN(r.digest, decode_b64(dv, 1024, "DigestValue"));
    if (xml::Element tr = child(re, kDsigNamespace, "Transforms")) {
      auto ts = tr.children();
      if (ts.size() != 1 || !ts[0].is(kDsigNamespace, "Transform")) {
        return malformed("Unsupported transforms", r.uri);
      }
      auto m = xml::c14n_from_uri(ts[0].attribute("Algorithm").value_or(""));
      if (!m) {
        return malformed("Unsupported transform", ts[0].attribute("Algorithm").value_or(""));
      }
      r.transform = *m;
    }
    if (r.type == kSignedPropertiesType) {
      ++signed_properties_refs;
      if (r.uri.size() < 2 || r.uri[0] != '#') {
        return malformed("SignedProperties reference must be same-document", r.uri);
      }
      HANSA_ASSIGN_OR_RETURN(xml::Element target,
                             find_by_id(root, std::string_view(r.uri).substr(1)));
      if (!target.is(kXadesNamespace, "SignedProperties")) {
        return malformed("SignedProperties reference names another element", r.uri);
      }
      HANSA_ASSIGN_OR_RETURN(
          out.signed_properties_c14n,
          xml::canonicalize(target, r.transform.value_or(xml::C14nMethod::kC14n10)));
    } else {
      if (r.transform) {
        return malformed("Data references carry no transforms", r.uri);
      }
      if (r.uri.empty() || r.uri[0] == '#') {
        return malformed("Unsupported data reference", r.uri);
      }
    }
    out.references.push_back(std::move(r));
  }
  if (signed_properties_refs != 1) {
    return malformed("Exactly one SignedProperties reference is required");
  }
  if (out.data_references().empty()) {
    return malformed("The signature references no data");
  }
  xml::Element sv = child(sig, kDsigNamespace, "SignatureValue");
  if (!sv) {
    return malformed("SignatureValue missing");
  }
  HANSA_ASSIGN_OR_RETURN(out.signature_value, decode_b64(sv, 4096, "SignatureValue"));

  xml::Element x509 = child(child(sig, kDsigNamespace, "KeyInfo"), kDsigNamespace, "X509Data");
  auto certs =
      x509 ? x509.children(kDsigNamespace, "X509Certificate") : std::vector<xml::Element>{};
  if (certs.empty()) {
    return malformed("KeyInfo holds no X509Certificate");
  }
  if (certs.size() > limits.max_certificates) {
    return Error(FaultCode::kLimitExceeded, "Too many certificates in KeyInfo");
  }
  for (const auto& ce : certs) {
    HANSA_ASSIGN_OR_RETURN(std::string der,
                           decode_b64(ce, limits.max_base64_bytes, "X509Certificate"));
    HANSA_ASSIGN_OR_RETURN(crypto::Certificate cert, crypto::Certificate::from_der(der));
    out.certificates.push_back(std::move(cert));
  }

  xml::Element qp;
  for (xml::Element obj = child(sig, kDsigNamespace, "Object"); obj && !qp;
       obj = obj.next_sibling(kDsigNamespace, "Object")) {
    qp = child(obj, kXadesNamespace, "QualifyingProperties");
  }
  if (!qp) {
    return malformed("QualifyingProperties missing");
  }
  xml::Element ssp = child(child(qp, kXadesNamespace, "SignedProperties"), kXadesNamespace,
                           "SignedSignatureProperties");
  if (xml::Element st = child(ssp, kXadesNamespace, "SigningTime")) {
    auto t = globalconf::parse_utc(st.text());
    if (!t.ok()) {
      return malformed("Bad SigningTime", st.text());
    }
    out.signing_time = *t;
  }
  xml::Element cd =
      child(child(child(ssp, kXadesNamespace, "SigningCertificate"), kXadesNamespace, "Cert"),
            kXadesNamespace, "CertDigest");
  if (cd) {
    HANSA_ASSIGN_OR_RETURN(out.cert_digest_algorithm, digest_method(cd));
    HANSA_ASSIGN_OR_RETURN(
        out.cert_digest, decode_b64(child(cd, kDsigNamespace, "DigestValue"), 1024, "CertDigest"));
  }
  xml::Element usp = child(child(qp, kXadesNamespace, "UnsignedProperties"), kXadesNamespace,
                           "UnsignedSignatureProperties");
  if (usp) {
    auto tss = usp.children(kXadesNamespace, "SignatureTimeStamp");
    if (tss.size() > 1) {
      return malformed("More than one SignatureTimeStamp");
    }
    if (tss.size() == 1) {
      xml::Element et = child(tss[0], kXadesNamespace, "EncapsulatedTimeStamp");
      if (!et) {
        return malformed("SignatureTimeStamp without EncapsulatedTimeStamp");
      }
      HANSA_ASSIGN_OR_RETURN(std::string tst,
                             decode_b64(et, limits.max_base64_bytes, "EncapsulatedTimeStamp"));
      out.timestamp = std::move(tst);
    }
    xml::Element ov =
        child(child(usp, kXadesNamespace, "RevocationValues"), kXadesNamespace, "OCSPValues");
    auto ocsps =
        ov ? ov.children(kXadesNamespace, "EncapsulatedOCSPValue") : std::vector<xml::Element>{};
    if (ocsps.size() > limits.max_ocsp_responses) {
      return Error(FaultCode::kLimitExceeded, "Too many OCSP responses");
    }
    for (const auto& oe : ocsps) {
      HANSA_ASSIGN_OR_RETURN(std::string der,
                             decode_b64(oe, limits.max_base64_bytes, "EncapsulatedOCSPValue"));
      out.ocsp_responses.push_back(std::move(der));
    }
  }
  return out;
}

Result<std::string> signature_value_bytes(std::string_view signature_xml) {
  HANSA_ASSIGN_OR_RETURN(ParsedSignature parsed, parse_signature(signature_xml));
  return std::move(parsed.signature_value);
}

Status verify_references(const ParsedSignature& signature, const SignedData& data,
                         const hashchain::VerifyLimits& limits) {
  auto refs = signature.data_references();
  auto check_digest = [&](const Reference& r) -> Status {
    auto file = data.files.find(r.uri);
    std::string actual;
    if (file != data.files.end()) {
      actual = crypto::digest(r.algorithm, file->second);
    } else {
      auto req = data.required.find(r.uri);
      if (req == data.required.end() || !req->second) {
        return malformed("Signed data is missing", r.uri);
      }
      if (req->second->algorithm != r.algorithm) {
        return malformed("Digest algorithm of the reference differs from the known digest", r.uri);
      }
      actual = req->second->digest;
    }
    if (actual != r.digest) {
      return invalid_value("Digest of " + r.uri + " does not match the signature", r.uri);
    }
    return ok_status();
  };
  if (signature.is_batch()) {
    // As X-Road's verifier: the hash chain first, then the signed result's digest.
    if (!data.files.contains(kSigHashChainResultUri)) {
      return malformed("Batch signature without sig-hashchainresult.xml");
    }
    auto resolver = [&](std::string_view uri) -> std::optional<std::string> {
      auto it = data.files.find(uri);
      if (it == data.files.end()) {
        return std::nullopt;
      }
      return it->second;
    };
    auto st = hashchain::verify_hash_chain(data.files.find(kSigHashChainResultUri)->second,
                                           resolver, data.required, limits);
    if (!st.ok()) {
      return st.error().wrapped(FaultCode::kMalformedSignature);
    }
    return check_digest(*refs[0]);
  }
  std::set<std::string, std::less<>> seen;
  for (const Reference* r : refs) {
    if (!seen.insert(r->uri).second) {
      return malformed("Data referenced twice", r->uri);
    }
    if (!data.required.contains(r->uri)) {
      return malformed("The signature references unexpected data", r->uri);
    }
  }
  for (const auto& [uri, digest] : data.required) {
    if (!seen.contains(uri)) {
      return malformed("The signature does not cover " + uri, uri);
    }
  }
  for (const Reference* r : refs) {
    HANSA_RETURN_IF_ERROR(check_digest(*r));
  }
  return ok_status();
}

Status verify_signature_value(const ParsedSignature& signature) {
  const Reference* sp = nullptr;
  for (const auto& r : signature.references) {
    if (r.type == kSignedPropertiesType) {
      sp = &r;
    }
  }
  if (sp == nullptr || signature.certificates.empty()) {
    return malformed("No SignedProperties reference or no signing certificate");
  }
  if (crypto::digest(sp->algorithm, signature.signed_properties_c14n) != sp->digest) {
    return invalid_value("SignedProperties digest does not match");
  }
  const crypto::Certificate& cert = signature.certificates.front();
  if (!signature.cert_digest.empty() &&
      cert.fingerprint(signature.cert_digest_algorithm) != signature.cert_digest) {
    return invalid_value("SigningCertificate digest does not match the KeyInfo certificate");
  }
  std::string value = signature.signature_value;
  if (crypto::signature_key_type(signature.algorithm) == crypto::KeyType::kEc) {
    auto der = crypto::ecdsa_plain_to_der(value);
    if (!der.ok()) {
      return invalid_value("Malformed ECDSA signature value");
    }
    value = std::move(der).value();
  }
  auto st = cert.public_key().verify(signature.algorithm, signature.signed_info_c14n, value);
  if (!st.ok()) {
    if (st.error().code == FaultCode::kUnsupportedSignAlgorithm) {
      return malformed("Signature method does not fit the certificate key");
    }
    return invalid_value("Signature value does not verify", st.error().message);
  }
  return ok_status();
}

Result<CertificateCheck> verify_certificate(const ParsedSignature& signature,
                                            const globalconf::GlobalConfSnapshot& conf,
                                            TimePoint at) {
  if (signature.certificates.empty()) {
    return malformed("No signing certificate");
  }
  const std::string key = check_key(signature, conf);
  if (auto known = remembered_checks().find(key); known != nullptr && known->window.contains(at)) {
    return known->check;
  }
  const crypto::Certificate& cert = signature.certificates.front();
  const globalconf::ApprovedCa* ca = conf.approved_ca_for(cert);
  if (ca == nullptr) {
    return Error(FaultCode::kCertValidation,
                 "Signing certificate is not issued by an approved certification authority",
                 cert.issuer());
  }
  crypto::TrustStore store;
  for (auto& c : conf.ca_certificates()) {
    store.add_anchor(c);
  }
  std::vector<crypto::Certificate> extra(signature.certificates.begin() + 1,
                                         signature.certificates.end());
  HANSA_ASSIGN_OR_RETURN(std::vector<crypto::Certificate> chain,
                         store.verify(cert, at, crypto::CertPurpose::kSigning, extra));
  const globalconf::CaInfo* issuer_info = conf.issuer_ca_info(cert);
  if (chain.size() < 2 && issuer_info == nullptr) {
    return Error(FaultCode::kCertValidation, "No issuer certificate for the signing certificate");
  }
  const crypto::Certificate& issuer = chain.size() > 1 ? chain[1] : issuer_info->cert;
  if (signature.ocsp_responses.empty()) {
    return Error(FaultCode::kCertValidation, "No OCSP response for the signing certificate");
  }
  ocsp::VerifyOptions opts;
  opts.ocsp_freshness_seconds = conf.ocsp_freshness_seconds();
  for (const auto& r : conf.ocsp_responders(issuer)) {
    if (r.cert) {
      opts.trusted_responders.push_back(r.cert->der());
    }
  }
  std::optional<Error> first_error;
  for (std::size_t i = 0; i < signature.ocsp_responses.size(); ++i) {
    auto resp = ocsp::OcspResponse::parse(signature.ocsp_responses[i]);
    if (!resp.ok()) {
      first_error = Error(FaultCode::kCertValidation, "Embedded OCSP response does not parse",
                          resp.error().to_string());
      continue;
    }
    auto responder = ocsp::verify_validity(*resp, cert.der(), issuer.der(), at, opts);
    if (responder.ok() && resp->status() != ocsp::CertStatus::kGood) {
      // ocsp::verify() names the status, the revocation time and reason.
      responder = ocsp::verify(*resp, cert.der(), issuer.der(), at, opts).error();
    }
    if (!responder.ok()) {
      if (!first_error) {
        first_error = responder.error();
      }
      continue;
    }
    HANSA_ASSIGN_OR_RETURN(crypto::CertificateProfile profile,
                           crypto::certificate_profile_from_name(ca->certificate_profile_info));
    HANSA_ASSIGN_OR_RETURN(ids::MemberId member, crypto::member_id_from_sign_cert(
                                                     profile, cert, conf.instance_identifier()));
    CertificateCheck check{std::move(chain), std::move(member),   ca->name,
                           resp->status(),   resp->produced_at(), resp->this_update(),
                           resp->responder()};
    // Remembered only when the first response decided: a later time could otherwise let an
    // earlier response decide, with other OCSP details.
    if (i == 0) {
      auto remembered = std::make_shared<RememberedCheck>(
          RememberedCheck{check, ocsp::stable_window(*resp, opts, *responder, check.chain)});
      remembered_checks().insert(key, std::move(remembered));
    }
    return check;
  }
  Error e = *first_error;
  if (e.code != FaultCode::kCertValidation) {
    e = Error(FaultCode::kCertValidation, e.message, e.detail);
  }
  return e;
}

Result<timestamp::VerifiedTimestamp> verify_signature_timestamp(
    const ParsedSignature& signature, const globalconf::GlobalConfSnapshot& conf) {
  if (!signature.timestamp) {
    return Error(FaultCode::kTimestampValidation, "The signature has no SignatureTimeStamp");
  }
  HANSA_ASSIGN_OR_RETURN(timestamp::TimestampToken token,
                         timestamp::TimestampToken::parse(*signature.timestamp));
  timestamp::VerifyOptions opts;
  for (const auto& tsa : conf.approved_tsas()) {
    opts.tsa_certs.push_back(tsa.cert.der());
  }
  return timestamp::verify(token, signature.signature_value, opts);
}

Result<VerifiedSignature> verify(std::string_view signature_xml, const SignedData& data,
                                 const globalconf::GlobalConfSnapshot& conf,
                                 const VerifyOptions& options) {
  const std::string key = signature_key(signature_xml, options.parse);
  std::shared_ptr<const ParsedSignature> shared = checked_signatures().find(key);
  if (shared) {
    HANSA_RETURN_IF_ERROR(verify_references(*shared, data, options.hash_chain));
  } else {
    HANSA_ASSIGN_OR_RETURN(ParsedSignature fresh, parse_signature(signature_xml, options.parse));
    HANSA_RETURN_IF_ERROR(verify_references(fresh, data, options.hash_chain));
    HANSA_RETURN_IF_ERROR(verify_signature_value(fresh));
    shared = std::make_shared<const ParsedSignature>(std::move(fresh));
    checked_signatures().insert(key, shared);
  }
  const ParsedSignature& parsed = *shared;
  std::optional<timestamp::VerifiedTimestamp> ts;
  if (parsed.timestamp) {
    HANSA_ASSIGN_OR_RETURN(timestamp::VerifiedTimestamp v,
                           verify_signature_timestamp(parsed, conf));
    ts = std::move(v);
  }
  TimePoint at = options.at ? *options.at
                 : ts       ? ts->gen_time
                            : parsed.signing_time.value_or(std::chrono::system_clock::now());
  HANSA_ASSIGN_OR_RETURN(CertificateCheck check, verify_certificate(parsed, conf, at));
  if (options.expected_signer && !(options.expected_signer->member() == check.member)) {
    return Error(
        FaultCode::kIncorrectCertificate,
        "Name in the signing certificate does not match the expected signer",
        check.member.to_string() + " is not " + options.expected_signer->member().to_string());
  }
  return VerifiedSignature{std::move(shared), std::move(check), at, std::move(ts)};
}

}  // namespace hansa::signature
