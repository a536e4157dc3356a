#pragma once

// What a message contributes to its signature and to the message log (reference section 4,
// PR-MESSTRANSP 3.2/3.3): the SOAP part (or the REST head) is "/message.xml" and each attachment
// (or the REST body) is "/attachmentN" (N from 1), digested with SHA-512 unless told otherwise,
// with the URIs of core/signature. The proxy hands the BatchItem to its batch signer and the
// SignedData to signature::verify.
//
// Threading: free functions over values, thread-safe.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/digest.h"
#include "core/signature/signature.h"
#include "node/message/soap.h"
#include "node/message/transport.h"

namespace hansa::message {

// The signed parts of one message: the message part and its attachments, in order.
struct SignedParts {
  std::string_view message;                   // SOAP part or serialized REST head
  std::vector<std::string_view> attachments;  // SOAP attachments, or the REST body (if any)
};

// The parts of a parsed SOAP message.
[[nodiscard]] SignedParts signed_parts(const SoapMessage& message);
// The parts of a REST message: the head, and the body when present and non-empty.
[[nodiscard]] SignedParts signed_parts(std::string_view rest_head,
                                       std::optional<std::string_view> rest_body);
// The parts of a decoded transport message (SOAP or REST by its kind).
[[nodiscard]] SignedParts signed_parts(const DecodedTransport& transport);

// The BatchItem to sign: digest of the message part and of every attachment.
[[nodiscard]] signature::BatchItem batch_item(
    const SignedParts& parts, crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512);

// The DataReferences of a direct signature ("/message.xml" text/xml, "/attachmentN"
// application/octet-stream), for signature::create_signature.
[[nodiscard]] std::vector<signature::DataReference> data_references(
    const SignedParts& parts, crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512);

// The SignedData for signature::verify: file "/message.xml" (required input, its bytes present),
// "/attachmentN" as required inputs known by their `algorithm` digest (no copy of the bytes), and
// for a batch signature the files "/sig-hashchainresult.xml" and "/sig-hashchain.xml".
[[nodiscard]] signature::SignedData signed_data(
    const SignedParts& parts, std::string_view hash_chain_result = {},
    std::string_view hash_chain = {},
    crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::kSha512);
// The same for a decoded transport message (its parts, hash chain parts and x-hash-algorithm).
[[nodiscard]] signature::SignedData signed_data(const DecodedTransport& transport);

// The message and attachment fields of a messagelog::LogRecord (copies: the record owns them).
struct LogContent {
  std::string message;
  std::vector<std::string> attachments;
};
[[nodiscard]] LogContent log_content(const SignedParts& parts);

}  // namespace hansa::message
