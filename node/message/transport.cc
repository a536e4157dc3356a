#include "node/message/transport.h"

#include "core/mime/content_type.h"
#include "core/mime/reader.h"
#include "core/mime/writer.h"
#include "node/message/internal.h"

namespace hansa::message {

namespace {

using internal::find_field;
using internal::trim;

Status encode_check(const OutgoingTransport& m, bool request) {
  if (m.meta.kind == MessageKind::kSoap && m.soap_part.empty()) {
    return Error(FaultCode::kInvalidRequest, "transport message without a SOAP part");
  }
  if (m.meta.kind == MessageKind::kRest && m.rest_head.empty()) {
    return Error(FaultCode::kInvalidRequest, "transport message without a REST head");
  }
  if (m.hash_chain.empty() != m.hash_chain_result.empty()) {
    return Error(FaultCode::kInvalidRequest, "hash chain and hash chain result go together");
  }
  if (request && m.trailing_fault) {
    return Error(FaultCode::kInvalidRequest, "a request cannot end with a fault");
  }
  if (m.signature.empty() && !m.trailing_fault) {
    return Error(FaultCode::kInvalidRequest, "transport message without a signature");
  }
  if (m.meta.request_id.empty() && request) {
    return Error(FaultCode::kInvalidRequest, "transport request without x-road-request-id");
  }
  return ok_status();
}

mime::HeaderList content_type_header(std::string_view type) {
  mime::HeaderList h;
  h.add("Content-Type", std::string(type));
  return h;
}

Result<EncodedTransport> encode(const OutgoingTransport& m, bool request) {
  HANSA_RETURN_IF_ERROR(encode_check(m, request));
  EncodedTransport out;
  std::size_t size = m.soap_part.size() + m.rest_head.size() + m.signature.size() +
                     m.hash_chain.size() + m.hash_chain_result.size() + 1024;
  if (m.rest_body) {
    size += m.rest_body->size();
  }
  for (auto o : m.ocsp_responses) {
    size += o.size() + 128;
  }
  for (const auto& a : m.attachments) {
    size += a.data.size() + 256;
  }
  out.body.reserve(size);

  const std::string boundary = mime::random_boundary();
  auto writer = mime::MultipartWriter::create(boundary, [&out](std::string_view d) {
    out.body.append(d);
    return ok_status();
  });
  if (!writer.ok()) {
    return std::move(writer).error();
  }
  mime::MultipartWriter& w = **writer;

  if (request) {
    for (std::string_view ocsp : m.ocsp_responses) {
      HANSA_RETURN_IF_ERROR(w.begin_part(content_type_header(kOcspResponseType)));
      HANSA_RETURN_IF_ERROR(w.write(ocsp));
    }
  }
  if (m.meta.kind == MessageKind::kSoap) {
    HANSA_RETURN_IF_ERROR(w.begin_part(content_type_header(
        m.soap_part_content_type.empty() ? kTextXmlContentType : m.soap_part_content_type)));
    HANSA_RETURN_IF_ERROR(w.write(m.soap_part));
    if (!m.attachments.empty()) {
      const std::string inner = mime::random_boundary();
      auto nested_ct = mime::ContentType::multipart("mixed", inner);
      nested_ct.set_param("charset", "UTF-8");
      HANSA_RETURN_IF_ERROR(w.begin_part(content_type_header(nested_ct.to_string())));
      auto nested = mime::MultipartWriter::create(inner, w.body_sink());
      if (!nested.ok()) {
        return std::move(nested).error();
      }
      for (const auto& a : m.attachments) {
        mime::HeaderList h = a.headers;
        if (!h.contains("Content-Type")) {
          h.add("Content-Type",
                a.content_type.empty() ? "application/octet-stream" : a.content_type);
        }
        HANSA_RETURN_IF_ERROR((*nested)->begin_part(h));
        HANSA_RETURN_IF_ERROR((*nested)->write(a.data));
      }
      HANSA_RETURN_IF_ERROR((*nested)->finish());
    }
  } else {
    HANSA_RETURN_IF_ERROR(
        w.begin_part(content_type_header(request ? kRestRequestType : kRestResponseType)));
    HANSA_RETURN_IF_ERROR(w.write(m.rest_head));
    if (m.rest_body && !m.rest_body->empty()) {
      HANSA_RETURN_IF_ERROR(w.begin_part(content_type_header(kRestBodyType)));
      HANSA_RETURN_IF_ERROR(w.write(*m.rest_body));
    }
  }
  if (!m.hash_chain_result.empty()) {
    HANSA_RETURN_IF_ERROR(w.begin_part(content_type_header(kHashChainResultType)));
    HANSA_RETURN_IF_ERROR(w.write(m.hash_chain_result));
    HANSA_RETURN_IF_ERROR(w.begin_part(content_type_header(kHashChainType)));
    HANSA_RETURN_IF_ERROR(w.write(m.hash_chain));
  }
  if (m.trailing_fault) {
    HANSA_RETURN_IF_ERROR(w.begin_part(content_type_header(kTextXmlContentType)));
    HANSA_RETURN_IF_ERROR(w.write(*m.trailing_fault));
  } else {
    HANSA_RETURN_IF_ERROR(w.begin_part(content_type_header(kSignatureType)));
    HANSA_RETURN_IF_ERROR(w.write(m.signature));
  }
  HANSA_RETURN_IF_ERROR(w.finish());

  auto ct = mime::ContentType::multipart("mixed", boundary);
  ct.set_param("charset", "UTF-8");
  out.content_type = ct.to_string();
  out.headers.emplace_back("Content-Type", out.content_type);
  if (!m.meta.request_id.empty()) {
    out.headers.emplace_back(std::string(kRequestIdHeader), m.meta.request_id);
  }
  out.headers.emplace_back(std::string(kHashAlgorithmHeader),
                           std::string(crypto::digest_id(m.meta.hash_algorithm)));
  if (!m.meta.original_content_type.empty()) {
    out.headers.emplace_back(std::string(kOriginalContentTypeHeader), m.meta.original_content_type);
  }
  if (request) {
    out.headers.emplace_back(std::string(kProxyVersionHeader), m.meta.proxy_version);
    if (m.meta.kind == MessageKind::kSoap && m.meta.original_soap_action) {
      out.headers.emplace_back(std::string(kOriginalSoapActionHeader),
                               *m.meta.original_soap_action);
    }
  }
  if (m.meta.kind == MessageKind::kRest) {
    out.headers.emplace_back(std::string(kMessageTypeHeader), std::string(kMessageTypeRest));
  }
  return out;
}

Error limit(std::string what, std::size_t max) {
  return Error(FaultCode::kLimitExceeded, std::move(what), std::to_string(max));
}

Error unexpected_part(std::string_view type) {
  return Error(FaultCode::kInvalidContentType, "Unexpected part in the transport message",
               std::string(type));
}

Status check_header_value(const HeaderFields& headers, std::string_view name,
                          const TransportLimits& limits) {
  if (auto v = find_field(headers, name); v && v->size() > limits.max_header_value_bytes) {
    return limit("HTTP header '" + std::string(name) + "' too long", limits.max_header_value_bytes);
  }
  return ok_status();
}

Result<TransportMeta> read_meta(const HeaderFields& headers, bool request,
                                const TransportLimits& limits) {
  for (std::string_view name :
       {kRequestIdHeader, kHashAlgorithmHeader, kOriginalContentTypeHeader, kProxyVersionHeader,
        kOriginalSoapActionHeader, kMessageTypeHeader}) {
    HANSA_RETURN_IF_ERROR(check_header_value(headers, name, limits));
  }
  TransportMeta meta;
  if (auto v = find_field(headers, kRequestIdHeader)) {
    meta.request_id = std::string(trim(*v));
  }
  if (request && meta.request_id.empty()) {
    return Error(FaultCode::kMissingHeaderField, "Missing HTTP header x-road-request-id");
  }
  if (auto v = find_field(headers, kHashAlgorithmHeader)) {
    const std::string_view id = trim(*v);
    auto alg = crypto::digest_from_id(id);
    if (!alg) {
      alg = crypto::digest_from_uri(id);
    }
    if (!alg || *alg == crypto::DigestAlgorithm::kSha1) {
      return Error(FaultCode::kInvalidRequest, "Unsupported hash algorithm", std::string(id));
    }
    meta.hash_algorithm = *alg;
  } else if (request) {
    return Error(FaultCode::kMissingHeaderField, "Missing HTTP header x-hash-algorithm");
  }
  if (auto v = find_field(headers, kOriginalContentTypeHeader)) {
    meta.original_content_type = std::string(trim(*v));
  }
  if (auto v = find_field(headers, kProxyVersionHeader)) {
    meta.proxy_version = std::string(trim(*v));
  } else {
    meta.proxy_version.clear();
  }
  if (auto v = find_field(headers, kOriginalSoapActionHeader)) {
    meta.original_soap_action = std::string(*v);
  }
  if (auto v = find_field(headers, kMessageTypeHeader)) {
    if (trim(*v) != kMessageTypeRest) {
      return Error(FaultCode::kInvalidRequest, "Unknown x-road-message-type", std::string(*v));
    }
    meta.kind = MessageKind::kRest;
  }
  return meta;
}

Result<mime::ContentType> part_type(const mime::Part& p) {
  auto ct = p.content_type();
  if (!ct.ok()) {
    return Error(FaultCode::kInvalidContentType, "Transport message part without a valid type",
                 std::string(p.headers.get("Content-Type").value_or("")));
  }
  return ct;
}

Status check_size(std::string_view data, std::size_t max, std::string_view what) {
  if (data.size() > max) {
    return limit(std::string(what) + " too large", max);
  }
  return ok_status();
}

Result<DecodedTransport> decode(const HeaderFields& http_headers, std::string body, bool request,
                                std::optional<MessageKind> expected_kind,
                                const TransportLimits& limits) {
  if (body.size() > limits.max_body_bytes) {
    return limit("Transport message too large", limits.max_body_bytes);
  }
  const auto ct_value = find_field(http_headers, "Content-Type");
  if (!ct_value) {
    return Error(FaultCode::kInvalidContentType, "Transport message without Content-Type");
  }
  auto ct = mime::ContentType::parse(*ct_value);
  if (!ct.ok()) {
    return Error(FaultCode::kInvalidContentType, "Invalid content type", std::string(*ct_value));
  }
  DecodedTransport out;
  out.buffer = std::make_shared<const std::string>(std::move(body));
  const std::string_view bytes = *out.buffer;

  if (!request && ct->is("text/xml")) {
    // PR-MESSTRANSP 3.2 step 6: the provider's node rejected the request early.
    if (bytes.size() > limits.max_message_bytes) {
      return limit("Fault message too large", limits.max_message_bytes);
    }
    out.early_fault = true;
    out.fault = bytes;
    if (expected_kind) {
      out.meta.kind = *expected_kind;
    }
    return out;
  }
  if (!ct->is("multipart/mixed")) {
    return Error(FaultCode::kInvalidContentType, "Invalid content type of a transport message",
                 ct->mime_type());
  }
  HANSA_ASSIGN_OR_RETURN(out.meta, read_meta(http_headers, request, limits));
  if (expected_kind && out.meta.kind != *expected_kind) {
    // Responses carry x-road-message-type only for REST; trust the request's kind.
    out.meta.kind = *expected_kind;
  }

  mime::MimeLimits ml;
  ml.max_part_count = std::max(limits.max_parts, limits.max_attachments);
  ml.max_headers_per_part = limits.max_part_headers;
  ml.max_header_line_length = limits.max_header_line;
  ml.max_part_size = limits.max_body_bytes;
  ml.max_total_size = limits.max_body_bytes;
  ml.max_nesting_depth = 1;
  auto mp = mime::parse_multipart(bytes, *ct, ml, /*parse_nested=*/true);
  if (!mp.ok()) {
    Error e = std::move(mp).error();
    if (e.code != FaultCode::kLimitExceeded) {
      e.code = FaultCode::kMimeParsingFailed;
    }
    return e;
  }
  if (mp->parts.size() > limits.max_parts) {
    return limit("Too many parts in the transport message", limits.max_parts);
  }
  const auto& parts = mp->parts;
  std::size_t i = 0;
  const std::size_t n = parts.size();

  // 1. OCSP responses (requests only).
  while (i < n) {
    HANSA_ASSIGN_OR_RETURN(auto t, part_type(parts[i]));
    if (!t.is(kOcspResponseType)) {
      break;
    }
    if (!request) {
      return unexpected_part(kOcspResponseType);
    }
    if (out.ocsp_responses.size() >= limits.max_ocsp_responses) {
      return limit("Too many OCSP responses", limits.max_ocsp_responses);
    }
    HANSA_RETURN_IF_ERROR(check_size(parts[i].body, limits.max_ocsp_bytes, "OCSP response"));
    out.ocsp_responses.push_back(parts[i].body);
    ++i;
  }

  // 2. The message.
  if (i >= n) {
    return Error(
        out.meta.kind == MessageKind::kSoap ? FaultCode::kMissingSoap : FaultCode::kMissingRest,
        "Transport message without a message part");
  }
  {
    HANSA_ASSIGN_OR_RETURN(auto t, part_type(parts[i]));
    if (out.meta.kind == MessageKind::kSoap) {
      if (!t.is("text/xml") && !t.is("application/xop+xml")) {
        return Error(FaultCode::kMissingSoap, "Transport message without a SOAP part",
                     t.mime_type());
      }
      HANSA_RETURN_IF_ERROR(check_size(parts[i].body, limits.max_message_bytes, "SOAP part"));
      out.soap_part = parts[i].body;
      out.soap_part_content_type = std::string(parts[i].headers.get("Content-Type").value_or(""));
      out.soap_part_headers = parts[i].headers;
      ++i;
      if (i < n) {
        HANSA_ASSIGN_OR_RETURN(auto at, part_type(parts[i]));
        if (at.is("multipart/mixed")) {
          const mime::Part& nested = parts[i];
          if (!nested.nested) {
            return Error(FaultCode::kMimeParsingFailed, "Attachment multipart not parsed");
          }
          if (nested.nested->parts.size() > limits.max_attachments) {
            return limit("Too many attachments", limits.max_attachments);
          }
          out.attachments.reserve(nested.nested->parts.size());
          for (const auto& a : nested.nested->parts) {
            HANSA_RETURN_IF_ERROR(check_size(a.body, limits.max_part_bytes, "Attachment"));
            out.attachments.push_back(internal::make_attachment(a.headers, a.body));
          }
          ++i;
        }
      }
    } else {
      const std::string_view head_type = request ? kRestRequestType : kRestResponseType;
      if (!t.is(head_type)) {
        return Error(FaultCode::kMissingRest, "Transport message without a REST head part",
                     t.mime_type());
      }
      HANSA_RETURN_IF_ERROR(check_size(parts[i].body, limits.max_message_bytes, "REST head"));
      out.rest_head = parts[i].body;
      ++i;
      if (i < n) {
        HANSA_ASSIGN_OR_RETURN(auto bt, part_type(parts[i]));
        if (bt.is(kRestBodyType)) {
          HANSA_RETURN_IF_ERROR(check_size(parts[i].body, limits.max_part_bytes, "REST body"));
          out.rest_body = parts[i].body;
          ++i;
        }
      }
    }
  }

  // 3. Hash chain parts of a batch signature.
  if (i < n) {
    HANSA_ASSIGN_OR_RETURN(auto t, part_type(parts[i]));
    if (t.is(kHashChainResultType)) {
      HANSA_RETURN_IF_ERROR(
          check_size(parts[i].body, limits.max_signature_bytes, "Hash chain result"));
      out.hash_chain_result = parts[i].body;
      ++i;
      if (i >= n) {
        return Error(FaultCode::kMalformedSignature, "Hash chain result without a hash chain");
      }
      HANSA_ASSIGN_OR_RETURN(auto t2, part_type(parts[i]));
      if (!t2.is(kHashChainType)) {
        return Error(FaultCode::kMalformedSignature, "Hash chain result without a hash chain",
                     t2.mime_type());
      }
      HANSA_RETURN_IF_ERROR(check_size(parts[i].body, limits.max_signature_bytes, "Hash chain"));
      out.hash_chain = parts[i].body;
      ++i;
    } else if (t.is(kHashChainType)) {
      return Error(FaultCode::kMalformedSignature, "Hash chain without a hash chain result");
    }
  }

  // 4. The signature, or (responses) a fault as the last part.
  if (i >= n) {
    return Error(FaultCode::kMissingSignature, "Transport message without a signature");
  }
  HANSA_ASSIGN_OR_RETURN(auto st, part_type(parts[i]));
  if (st.is(kSignatureType)) {
    HANSA_RETURN_IF_ERROR(check_size(parts[i].body, limits.max_signature_bytes, "Signature"));
    out.signature = parts[i].body;
  } else if (!request && st.is("text/xml")) {
    HANSA_RETURN_IF_ERROR(check_size(parts[i].body, limits.max_message_bytes, "Fault"));
    out.fault = parts[i].body;
  } else if (st.is("multipart/mixed") || st.is("text/xml") || st.is("application/xop+xml") ||
             st.is(kRestBodyType) || st.is(kOcspResponseType) || st.is(kRestRequestType) ||
             st.is(kRestResponseType)) {
    return unexpected_part(st.mime_type());
  } else {
    return Error(FaultCode::kMissingSignature, "Transport message without a signature",
                 st.mime_type());
  }
  ++i;
  if (i < n) {
    return unexpected_part(parts[i].headers.get("Content-Type").value_or(""));
  }
  return out;
}

}  // namespace

Result<EncodedTransport> encode_request(const OutgoingTransport& message) {
  return encode(message, true);
}

Result<EncodedTransport> encode_response(const OutgoingTransport& message) {
  return encode(message, false);
}

EncodedTransport encode_fault_response(std::string fault_xml) {
  EncodedTransport out;
  out.content_type = std::string(kTextXmlContentType);
  out.headers.emplace_back("Content-Type", out.content_type);
  out.body = std::move(fault_xml);
  return out;
}

Result<DecodedTransport> decode_request(const HeaderFields& http_headers, std::string body,
                                        const TransportLimits& limits) {
  return decode(http_headers, std::move(body), true, std::nullopt, limits);
}

Result<DecodedTransport> decode_response(const HeaderFields& http_headers, std::string body,
                                         MessageKind expected_kind, const TransportLimits& limits) {
  return decode(http_headers, std::move(body), false, expected_kind, limits);
}

Result<SoapMessage> soap_message(const DecodedTransport& transport,
                                 const SoapParseOptions& options) {
  if (transport.soap_part.empty()) {
    return Error(FaultCode::kMissingSoap, "Transport message without a SOAP part");
  }
  auto msg = parse_soap_part(transport.buffer, transport.meta.original_content_type,
                             transport.soap_part_content_type, transport.soap_part,
                             transport.attachments, options);
  if (msg.ok()) {
    msg->soap_part_headers = transport.soap_part_headers;
  }
  return msg;
}

}  // namespace hansa::message
