#include "node/message/signing.h"

namespace hansa::message {

SignedParts signed_parts(const SoapMessage& message) {
  SignedParts parts;
  parts.message = message.soap_part;
  parts.attachments.reserve(message.attachments.size());
  for (const auto& a : message.attachments) {
    parts.attachments.push_back(a.data);
  }
  return parts;
}

SignedParts signed_parts(std::string_view rest_head, std::optional<std::string_view> rest_body) {
  SignedParts parts;
  parts.message = rest_head;
  if (rest_body && !rest_body->empty()) {
    parts.attachments.push_back(*rest_body);
  }
  return parts;
}

SignedParts signed_parts(const DecodedTransport& transport) {
  if (transport.meta.kind == MessageKind::kRest) {
    return signed_parts(transport.rest_head, transport.rest_body);
  }
  SignedParts parts;
  parts.message = transport.soap_part;
  parts.attachments.reserve(transport.attachments.size());
  for (const auto& a : transport.attachments) {
    parts.attachments.push_back(a.data);
  }
  return parts;
}

signature::BatchItem batch_item(const SignedParts& parts, crypto::DigestAlgorithm algorithm) {
  signature::BatchItem item;
  item.message_digest = crypto::digest(algorithm, parts.message);
  item.attachment_digests.reserve(parts.attachments.size());
  for (std::string_view a : parts.attachments) {
    item.attachment_digests.push_back(crypto::digest(algorithm, a));
  }
  return item;
}

std::vector<signature::DataReference> data_references(const SignedParts& parts,
                                                      crypto::DigestAlgorithm algorithm) {
  std::vector<signature::DataReference> refs;
  refs.reserve(parts.attachments.size() + 1);
  refs.push_back({std::string(signature::kMessageUri), algorithm,
                  crypto::digest(algorithm, parts.message), "text/xml"});
  for (std::size_t i = 0; i < parts.attachments.size(); ++i) {
    refs.push_back({signature::attachment_uri(i + 1), algorithm,
                    crypto::digest(algorithm, parts.attachments[i]), "application/octet-stream"});
  }
  return refs;
}

signature::SignedData signed_data(const SignedParts& parts, std::string_view hash_chain_result,
                                  std::string_view hash_chain, crypto::DigestAlgorithm algorithm) {
  signature::SignedData data;
  data.files.emplace(std::string(signature::kMessageUri), std::string(parts.message));
  data.required.emplace(std::string(signature::kMessageUri), std::nullopt);
  for (std::size_t i = 0; i < parts.attachments.size(); ++i) {
    const std::string uri = signature::attachment_uri(i + 1);
    // Attachments are known by their digest: no copy of (possibly large) attachment bytes.
    data.required.emplace(
        uri, hashchain::DigestValue{algorithm, crypto::digest(algorithm, parts.attachments[i])});
  }
  if (!hash_chain_result.empty()) {
    data.files.emplace(std::string(signature::kSigHashChainResultUri),
                       std::string(hash_chain_result));
    data.files.emplace(std::string(signature::kSigHashChainUri), std::string(hash_chain));
  }
  return data;
}

signature::SignedData signed_data(const DecodedTransport& transport) {
  return signed_data(signed_parts(transport), transport.hash_chain_result, transport.hash_chain,
                     transport.meta.hash_algorithm);
}

LogContent log_content(const SignedParts& parts) {
  LogContent c;
  c.message = std::string(parts.message);
  c.attachments.reserve(parts.attachments.size());
  for (std::string_view a : parts.attachments) {
    c.attachments.emplace_back(a);
  }
  return c;
}

}  // namespace hansa::message
