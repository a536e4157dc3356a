#pragma once

// XAdES signatures as X-Road makes them (reference section 4; X-Road's SignatureBuilder and
// SignatureVerifier): an `asic:XAdESSignatures` document holding one `ds:Signature` with
//  - SignedInfo: C14N 1.0 (exclusive C14N accepted when verifying), RSA-SHA512 (or another
//    RSA/ECDSA algorithm), one Reference per signed part ("/message.xml", "/attachmentN", raw
//    bytes, no transforms) or a single Reference to "/sig-hashchainresult.xml" for a batch
//    signature, and a Reference to "#signed-properties" (Type SignedProperties);
//  - SignedProperties: SigningTime, SigningCertificate (digest + issuer serial), the signature
//    policy urn:oid:1.3.6.1.4.1.3516.16.2, a DataObjectFormat per data reference;
//  - KeyInfo with the signing certificate;
//  - UnsignedProperties: EncapsulatedOCSPValue (the signing certificate's OCSP response) and,
//    optionally, SignatureTimeStamp (imprint = SHA-512 of the raw SignatureValue bytes).
//
// Creation never sees a private key: the caller passes a Signer callback (token, HSM, software).
// Verification reports X-Road's codes: MalformedSignature (structure, references missing or extra,
// hash chain problems as MalformedSignature.<hash chain code>), InvalidSignatureValue (digest or
// signature mismatch), CertValidation (chain, OCSP), IncorrectCertificate, TimestampValidation.
//
// Threading: free functions over values, thread-safe (the Signer is called on the calling thread).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/certificate.h"
#include "core/crypto/digest.h"
#include "core/crypto/key.h"
#include "core/errors/errors.h"
#include "core/globalconf/snapshot.h"
#include "core/hashchain/hashchain.h"
#include "core/ids/ids.h"
#include "core/ocsp/response.h"
#include "core/timestamp/timestamp.h"
#include "core/xml/xml.h"

namespace hansa::signature {

using TimePoint = std::chrono::system_clock::time_point;

inline constexpr std::string_view kXadesNamespace = "http://uri.etsi.org/01903/v1.3.2#";
inline constexpr std::string_view kDsigNamespace = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr std::string_view kAsicNamespace = "http://uri.etsi.org/02918/v1.2.1#";
inline constexpr std::string_view kSignedPropertiesType =
    "http://uri.etsi.org/01903#SignedProperties";
inline constexpr std::string_view kPolicyIdentifier = "urn:oid:1.3.6.1.4.1.3516.16.2";
inline constexpr std::string_view kMessageUri = "/message.xml";
inline constexpr std::string_view kSigHashChainResultUri = "/sig-hashchainresult.xml";
inline constexpr std::string_view kSigHashChainUri = "/sig-hashchain.xml";

// "/attachment1" for index 1.
[[nodiscard]] std::string attachment_uri(std::size_t index);

// One signed data object: its URI and the digest of its raw bytes.
struct DataReference {
  std::string uri;
  crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512;
  std::string digest;  // raw bytes
  // xades:DataObjectFormat MimeType ("text/xml", "application/octet-stream",
  // "application/hash-chain-result").
  std::string mime_type = "text/xml";
};

// Signs `data` (the canonical SignedInfo) with the key of the signing certificate. RSA returns
// PKCS#1 bytes; ECDSA may return DER SEQUENCE{r,s} or the plain r||s form.
using Signer =
    std::function<Result<std::string>(crypto::SignatureAlgorithm algorithm, std::string_view data)>;

struct SignOptions {
  crypto::SignatureAlgorithm algorithm = crypto::SignatureAlgorithm::kRsaSha512;
  crypto::DigestAlgorithm digest = crypto::DigestAlgorithm::kSha512;  // references, cert digest
  // SigningTime; the wall clock when unset.
  std::optional<TimePoint> signing_time;
  // Certificates added to KeyInfo after the signing certificate (X-Road adds none).
  std::vector<crypto::Certificate> extra_certs;
  // An RFC 3161 token to embed as SignatureTimeStamp right away (see add_signature_timestamp).
  std::optional<std::string> timestamp_der;
};

// Creates signatures.xml over `references` (URI + digest each; at least one). `ocsp_der` is the
// signing certificate's OCSP response (may be empty only for tests of the verifier). Fails with
// InvalidRequest (no references, bad URI), UnsupportedSignAlgorithm (algorithm does not fit the
// certificate key), or what the signer returns.
[[nodiscard]] Result<std::string> create_signature(const std::vector<DataReference>& references,
                                                   const crypto::Certificate& signing_cert,
                                                   std::string_view ocsp_der, const Signer& signer,
                                                   const SignOptions& options = {});

// Adds a SignatureTimeStamp holding `token_der` to the UnsignedSignatureProperties of
// `signature_xml` (replacing none; MalformedSignature when one is present already or the document
// is not a signature).
[[nodiscard]] Result<std::string> add_signature_timestamp(std::string_view signature_xml,
                                                          std::string_view token_der);

// --- Batch signing (X-Road's BatchSigner with hash chains) ---

// One message of a batch: the digest of message.xml and of each attachment (in order).
struct BatchItem {
  std::string message_digest;  // raw bytes, SignOptions::digest
  std::vector<std::string> attachment_digests;
};

// What each message of a batch gets.
struct BatchSignature {
  std::string signature_xml;      // the same signatures.xml for every message of a multi-item batch
  std::string hash_chain_result;  // sig-hashchainresult.xml; empty for a direct signature
  std::string hash_chain;         // this message's sig-hashchain.xml; empty for a direct signature
};

struct BatchOptions {
  SignOptions sign;
  // A single item is signed directly (references to /message.xml and /attachmentN) unless this is
  // set, as X-Road does.
  bool always_hash_chain = false;
  std::size_t max_items = 10'000;
};

// Signs `items` with ONE call of `signer`: several items get a hash chain over
// (message, attachments) digests and one signature over "/sig-hashchainresult.xml". Fails with
// InvalidRequest (no items, bad digest size), LimitExceeded (more than max_items).
[[nodiscard]] Result<std::vector<BatchSignature>> sign_batch(
    const std::vector<BatchItem>& items, const crypto::Certificate& signing_cert,
    std::string_view ocsp_der, const Signer& signer, const BatchOptions& options = {});

// --- Parsing and verification ---

struct ParseLimits {
  xml::ParseLimits xml = {.max_document_bytes = 4 * 1024 * 1024, .max_depth = 32};
  std::size_t max_references = 1024;       // ds:Reference elements in SignedInfo
  std::size_t max_certificates = 16;       // X509Certificate elements in KeyInfo
  std::size_t max_ocsp_responses = 16;     // EncapsulatedOCSPValue elements
  std::size_t max_base64_bytes = 1 << 20;  // one certificate, OCSP response or token (decoded)
};

// One ds:Reference of SignedInfo.
struct Reference {
  std::string id;
  std::string uri;
  std::string type;
  crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512;
  std::string digest;                        // raw bytes
  std::optional<xml::C14nMethod> transform;  // a c14n Transform (SignedProperties only)
};

// A parsed signatures.xml: what the verifier needs, with the canonical forms computed once.
// Threading: a plain value.
struct ParsedSignature {
  bool xades_wrapper = true;  // root asic:XAdESSignatures (false: a bare ds:Signature)
  xml::C14nMethod c14n = xml::C14nMethod::kC14n10;
  crypto::SignatureAlgorithm algorithm = crypto::SignatureAlgorithm::kRsaSha512;
  std::string signed_info_c14n;
  std::string signature_value;  // raw bytes as in the XML (ECDSA: r||s)
  std::vector<Reference> references;
  std::string signed_properties_c14n;             // the target of the SignedProperties reference
  std::vector<crypto::Certificate> certificates;  // KeyInfo, signing certificate first
  std::optional<TimePoint> signing_time;
  crypto::DigestAlgorithm cert_digest_algorithm = crypto::DigestAlgorithm::kSha512;
  std::string cert_digest;  // SigningCertificate CertDigest (raw), empty when absent
  std::vector<std::string> ocsp_responses;  // EncapsulatedOCSPValue DER
  std::optional<std::string> timestamp;     // SignatureTimeStamp token DER
  // The data references (all but SignedProperties) in document order.
  [[nodiscard]] std::vector<const Reference*> data_references() const;
  // True when the signature covers "/sig-hashchainresult.xml".
  [[nodiscard]] bool is_batch() const;
};

// Parses signatures.xml (or a bare ds:Signature). MalformedSignature for structural problems,
// LimitExceeded / InvalidXml from the parser, IncorrectCertificate for a bad KeyInfo cert.
[[nodiscard]] Result<ParsedSignature> parse_signature(std::string_view signature_xml,
                                                      const ParseLimits& limits = {});

// The decoded SignatureValue bytes of signatures.xml: what a SignatureTimeStamp is taken over
// (imprint = SHA-512 of these bytes).
[[nodiscard]] Result<std::string> signature_value_bytes(std::string_view signature_xml);

// The signed data: container files by URI ("/message.xml", "/attachment1", "/sig-hashchain.xml",
// "/sig-hashchainresult.xml") and the inputs the signature must cover, by URI, with a known
// digest where the data is absent (an attachment known only by its digest).
struct SignedData {
  std::map<std::string, std::string, std::less<>> files;
  hashchain::RequiredInputs required;
};

// Checks the references against the data: a batch signature must have exactly one data reference
// "/sig-hashchainresult.xml", whose chain must consume every required input (errors
// MalformedSignature.<code>); otherwise the data references must be exactly the required URIs
// (MalformedSignature when one is missing or extra). Digest mismatch: InvalidSignatureValue.
[[nodiscard]] Status verify_references(const ParsedSignature& signature, const SignedData& data,
                                       const hashchain::VerifyLimits& limits = {});

// Checks the SignedProperties digest, the SigningCertificate digest against the KeyInfo
// certificate and the signature value over the canonical SignedInfo. InvalidSignatureValue.
[[nodiscard]] Status verify_signature_value(const ParsedSignature& signature);

// What the certificate check established.
struct CertificateCheck {
  std::vector<crypto::Certificate> chain;  // signing certificate first, approved CA last
  ids::MemberId member;                    // from the certificate via the CA's profile
  std::string ca_name;
  ocsp::CertStatus ocsp_status = ocsp::CertStatus::kGood;
  TimePoint ocsp_produced_at;
  TimePoint ocsp_this_update;
  std::string ocsp_responder;
};

// Verifies the signing certificate at `at` against the approved CAs of `conf` with the embedded
// OCSP response (X-Road's CertChainVerifier): CertValidation when the CA is not approved, the chain
// fails, the OCSP response is missing, not about this certificate, not fresh or not good;
// IncorrectCertificate when the subject does not fit the CA's certificate profile.
[[nodiscard]] Result<CertificateCheck> verify_certificate(
    const ParsedSignature& signature, const globalconf::GlobalConfSnapshot& conf, TimePoint at);

// Verifies the embedded SignatureTimeStamp over the SignatureValue with the approved TSAs of
// `conf`. TimestampValidation (also when there is none).
[[nodiscard]] Result<timestamp::VerifiedTimestamp> verify_signature_timestamp(
    const ParsedSignature& signature, const globalconf::GlobalConfSnapshot& conf);

struct VerifyOptions {
  ParseLimits parse;
  hashchain::VerifyLimits hash_chain;
  // Verification time for the certificate and OCSP; when unset, the embedded SignatureTimeStamp's
  // genTime, else the SigningTime.
  std::optional<TimePoint> at;
  // When set, the member from the certificate must be this client's member (IncorrectCertificate
  // otherwise, as X-Road's signer name check).
  std::optional<ids::ClientId> expected_signer;
};

struct VerifiedSignature {
  // Shared with the memo of checked signatures: the messages of a batch carry one signature.
  std::shared_ptr<const ParsedSignature> parsed;
  CertificateCheck certificate;
  TimePoint verified_at;
  std::optional<timestamp::VerifiedTimestamp> timestamp;
};

// parse_signature, verify_references, verify_signature_value, the SignatureTimeStamp when there is
// one, verify_certificate and the expected signer, in that order; the first failure is returned.
[[nodiscard]] Result<VerifiedSignature> verify(std::string_view signature_xml,
                                               const SignedData& data,
                                               const globalconf::GlobalConfSnapshot& conf,
                                               const VerifyOptions& options = {});

}  // namespace hansa::signature
