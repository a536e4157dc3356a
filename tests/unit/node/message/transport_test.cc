#include "node/message/transport.h"

#include <gtest/gtest.h>

#include <string>

#include "core/mime/content_type.h"
#include "core/mime/reader.h"
#include "node/message/rest.h"
#include "tests/unit/node/message/test_data.h"

namespace hansa::message {
namespace {

using testing::read_data;

constexpr std::string_view kSwaType =
    "multipart/related; type=\"text/xml\"; start=\"<soap-root>\"; boundary=hansa-swa-boundary";

std::optional<std::string> header(const HeaderFields& h, std::string_view name) {
  for (const auto& [n, v] : h) {
    if (mime::iequals(n, name)) return v;
  }
  return std::nullopt;
}

// The Content-Type of every top-level part, in order.
std::vector<std::string> part_types(const EncodedTransport& e) {
  auto ct = mime::ContentType::parse(e.content_type);
  EXPECT_TRUE(ct.ok());
  auto mp = mime::parse_multipart(e.body, *ct);
  EXPECT_TRUE(mp.ok()) << mp.error().to_string();
  std::vector<std::string> out;
  for (const auto& p : mp->parts) {
    out.emplace_back(p.content_type()->mime_type());
  }
  return out;
}

OutgoingTransport soap_request(std::string_view soap) {
  OutgoingTransport m;
  m.meta.kind = MessageKind::kSoap;
  m.meta.request_id = "11111111-2222-4333-8444-555555555555";
  m.meta.original_content_type = "text/xml; charset=UTF-8";
  m.meta.original_soap_action = "\"urn:getPerson\"";
  m.ocsp_responses = {"ocsp-der-1", "ocsp-der-2"};
  m.soap_part = soap;
  m.signature = "<signatures/>";
  return m;
}

FaultCode decode_code(const HeaderFields& h, std::string body, bool request = true,
                      MessageKind kind = MessageKind::kSoap, const TransportLimits& limits = {}) {
  auto r = request ? decode_request(h, std::move(body), limits)
                   : decode_response(h, std::move(body), kind, limits);
  EXPECT_FALSE(r.ok());
  return r.ok() ? FaultCode::kInternalError : r.error().code;
}

TEST(TransportTest, SoapRequestRoundTrip) {
  const std::string soap = read_data("request.xml");
  auto enc = encode_request(soap_request(soap));
  ASSERT_TRUE(enc.ok()) << enc.error().to_string();
  EXPECT_TRUE(enc->content_type.starts_with("multipart/mixed"));
  EXPECT_EQ(header(enc->headers, "Content-Type"), enc->content_type);
  EXPECT_EQ(header(enc->headers, "x-road-request-id"), "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(header(enc->headers, "x-hash-algorithm"), "SHA-512");
  EXPECT_EQ(header(enc->headers, "x-original-content-type"), "text/xml; charset=UTF-8");
  EXPECT_EQ(header(enc->headers, "x-proxy-version"), std::string(kHansaProxyVersion));
  EXPECT_EQ(header(enc->headers, "x-original-soapaction"), "\"urn:getPerson\"");
  EXPECT_FALSE(header(enc->headers, "x-road-message-type").has_value());
  EXPECT_EQ(part_types(*enc),
            (std::vector<std::string>{"application/ocsp-response", "application/ocsp-response",
                                      "text/xml", "signature/bdoc-1.0/ts"}));

  auto dec = decode_request(enc->headers, enc->body);
  ASSERT_TRUE(dec.ok()) << dec.error().to_string();
  EXPECT_EQ(dec->meta.kind, MessageKind::kSoap);
  EXPECT_EQ(dec->meta.request_id, "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(dec->meta.hash_algorithm, crypto::DigestAlgorithm::kSha512);
  EXPECT_EQ(dec->meta.original_content_type, "text/xml; charset=UTF-8");
  EXPECT_EQ(dec->meta.original_soap_action, "\"urn:getPerson\"");
  ASSERT_EQ(dec->ocsp_responses.size(), 2u);
  EXPECT_EQ(dec->ocsp_responses[1], "ocsp-der-2");
  EXPECT_EQ(dec->soap_part, soap);
  EXPECT_TRUE(dec->attachments.empty());
  EXPECT_TRUE(dec->hash_chain.empty());
  EXPECT_EQ(dec->signature, "<signatures/>");
  EXPECT_FALSE(dec->fault.has_value());

  auto msg = soap_message(*dec);
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  EXPECT_EQ(msg->header->id, "0f6d2c8e-6a43-4c55-9d8e-3b1f2a7c9e10");
}

TEST(TransportTest, SoapWithAttachmentsAndBatchSignature) {
  auto original = parse_soap(kSwaType, read_data("swa_request.mime"));
  ASSERT_TRUE(original.ok());
  OutgoingTransport m = soap_request(original->soap_part);
  m.meta.original_content_type = std::string(kSwaType);
  m.attachments = original->attachments;
  m.hash_chain_result = "<hashchainresult/>";
  m.hash_chain = "<hashchain/>";
  auto enc = encode_request(m);
  ASSERT_TRUE(enc.ok()) << enc.error().to_string();
  EXPECT_EQ(part_types(*enc), (std::vector<std::string>{
                                  "application/ocsp-response", "application/ocsp-response",
                                  "text/xml", "multipart/mixed", "application/hash-chain-result",
                                  "application/hash-chain", "signature/bdoc-1.0/ts"}));
  auto dec = decode_request(enc->headers, enc->body);
  ASSERT_TRUE(dec.ok()) << dec.error().to_string();
  ASSERT_EQ(dec->attachments.size(), 2u);
  EXPECT_EQ(dec->attachments[0].data, original->attachments[0].data);
  EXPECT_EQ(dec->attachments[0].content_id, "photo.jpg");
  EXPECT_EQ(dec->attachments[0].headers.get("Content-Disposition"),
            "attachment; filename=\"photo.jpg\"");
  EXPECT_EQ(dec->attachments[1].data, "A second attachment.");
  EXPECT_EQ(dec->hash_chain_result, "<hashchainresult/>");
  EXPECT_EQ(dec->hash_chain, "<hashchain/>");
  auto msg = soap_message(*dec);
  ASSERT_TRUE(msg.ok()) << msg.error().to_string();
  EXPECT_EQ(msg->packaging, SoapPackaging::kSwa);
  EXPECT_EQ(msg->content_type, kSwaType);
  // The provider's node can rebuild the IS package with the original boundary.
  auto pkg = build_soap_package(msg->content_type, msg->soap_part_content_type, msg->soap_part,
                                msg->attachments);
  ASSERT_TRUE(pkg.ok());
  auto reparsed = parse_soap(pkg->content_type, pkg->body);
  ASSERT_TRUE(reparsed.ok()) << reparsed.error().to_string();
  EXPECT_EQ(reparsed->attachments.size(), 2u);
}

TEST(TransportTest, RestRequestAndResponseRoundTrip) {
  RestRequestHead head{
      "POST", "/r1/HANSA/GOV/2002/registry/people", {{"X-Road-Client", "HANSA/GOV/1001"}}};
  const std::string head_bytes = serialize_rest_request_head(head);
  OutgoingTransport m;
  m.meta.kind = MessageKind::kRest;
  m.meta.request_id = "req-1";
  m.meta.original_content_type = "application/json";
  m.ocsp_responses = {"ocsp"};
  m.rest_head = head_bytes;
  m.rest_body = "{\"name\":\"x\"}";
  m.signature = "<sig/>";
  auto enc = encode_request(m);
  ASSERT_TRUE(enc.ok()) << enc.error().to_string();
  EXPECT_EQ(header(enc->headers, "x-road-message-type"), "REST");
  EXPECT_FALSE(header(enc->headers, "x-original-soapaction").has_value());
  EXPECT_EQ(part_types(*enc), (std::vector<std::string>{
                                  "application/ocsp-response", "application/x-road-rest-request",
                                  "application/x-road-rest-body", "signature/bdoc-1.0/ts"}));
  auto dec = decode_request(enc->headers, enc->body);
  ASSERT_TRUE(dec.ok()) << dec.error().to_string();
  EXPECT_EQ(dec->meta.kind, MessageKind::kRest);
  EXPECT_EQ(dec->rest_head, head_bytes);
  EXPECT_EQ(dec->rest_body, "{\"name\":\"x\"}");
  EXPECT_TRUE(dec->soap_part.empty());

  // A response without a body, batch-signed.
  const std::string resp_head =
      serialize_rest_response_head({204, "No Content", {{"X-Road-Id", "q"}}});
  OutgoingTransport r;
  r.meta.kind = MessageKind::kRest;
  r.meta.request_id = "req-1";
  r.rest_head = resp_head;
  r.hash_chain_result = "<r/>";
  r.hash_chain = "<c/>";
  r.signature = "<sig/>";
  auto renc = encode_response(r);
  ASSERT_TRUE(renc.ok());
  EXPECT_EQ(
      part_types(*renc),
      (std::vector<std::string>{"application/x-road-rest-response", "application/hash-chain-result",
                                "application/hash-chain", "signature/bdoc-1.0/ts"}));
  EXPECT_FALSE(header(renc->headers, "x-proxy-version").has_value());
  auto rdec = decode_response(renc->headers, renc->body, MessageKind::kRest);
  ASSERT_TRUE(rdec.ok()) << rdec.error().to_string();
  EXPECT_EQ(rdec->rest_head, resp_head);
  EXPECT_FALSE(rdec->rest_body.has_value());
  EXPECT_EQ(rdec->hash_chain, "<c/>");
}

TEST(TransportTest, ResponseWithFaultAsLastPart) {
  OutgoingTransport r;
  r.meta.kind = MessageKind::kSoap;
  r.soap_part = "<soap/>";
  const std::string fault =
      build_fault(SoapFault{"Server.ServerProxy.X", "signing failed", {}, {}});
  r.trailing_fault = fault;
  auto enc = encode_response(r);
  ASSERT_TRUE(enc.ok()) << enc.error().to_string();
  EXPECT_EQ(part_types(*enc), (std::vector<std::string>{"text/xml", "text/xml"}));
  auto dec = decode_response(enc->headers, enc->body, MessageKind::kSoap);
  ASSERT_TRUE(dec.ok()) << dec.error().to_string();
  EXPECT_FALSE(dec->early_fault);
  ASSERT_TRUE(dec->fault.has_value());
  EXPECT_EQ(*dec->fault, fault);
  EXPECT_TRUE(dec->signature.empty());
  EXPECT_EQ(parse_fault(*dec->fault)->string, "signing failed");
}

TEST(TransportTest, EarlyFaultResponse) {
  const std::string fault =
      build_fault(Error(FaultCode::kAccessDenied, "no"), Origin::kServerProxy, "detail-1");
  EncodedTransport enc = encode_fault_response(fault);
  EXPECT_EQ(enc.content_type, "text/xml; charset=UTF-8");
  auto dec = decode_response(enc.headers, enc.body, MessageKind::kRest);
  ASSERT_TRUE(dec.ok());
  EXPECT_TRUE(dec->early_fault);
  EXPECT_EQ(dec->fault, fault);
  EXPECT_EQ(parse_fault(*dec->fault)->code, "Server.ServerProxy.AccessDenied");
  // A request is never a bare fault.
  EXPECT_EQ(decode_code(enc.headers, enc.body), FaultCode::kInvalidContentType);
}

// PR-MESSTRANSP 4.4 layout, written by hand (as a peer would send it).
TEST(TransportTest, DecodesHandWrittenAnnexLayout) {
  const std::string body =
      "--xtopABC\r\nContent-Type: application/ocsp-response\r\n\r\nOCSP\r\n"
      "--xtopABC\r\nContent-Type: text/xml; charset=UTF-8\r\n\r\n" +
      read_data("request.xml") +
      "\r\n--xtopABC\r\nContent-Type: multipart/mixed; charset=UTF-8; boundary=xattDEF\r\n\r\n"
      "--xattDEF\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Location: "
      "attachment.txt\r\n\r\nattachment data\r\n"
      "--xattDEF\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: "
      "base64\r\nContent-Id: <data.bin>\r\n\r\nZGF0YQ==\r\n--xattDEF--\r\n"
      "\r\n--xtopABC\r\ncontent-type: application/hash-chain-result\r\n\r\n<hcr/>\r\n"
      "--xtopABC\r\ncontent-type: application/hash-chain\r\n\r\n<hc/>\r\n"
      "--xtopABC\r\nContent-Type: signature/bdoc-1.0/ts\r\n\r\n<sig/>\r\n--xtopABC--\r\n";
  HeaderFields h = {{"Content-Type", "multipart/mixed; charset=UTF-8; boundary=xtopABC"},
                    {"x-road-request-id", "r"},
                    {"x-hash-algorithm", "http://www.w3.org/2001/04/xmlenc#sha512"}};
  auto dec = decode_request(h, body);
  ASSERT_TRUE(dec.ok()) << dec.error().to_string();
  ASSERT_EQ(dec->attachments.size(), 2u);
  EXPECT_EQ(dec->attachments[0].data, "attachment data");
  EXPECT_EQ(dec->attachments[1].content_id, "data.bin");
  EXPECT_EQ(dec->attachments[1].data, "ZGF0YQ==");
  EXPECT_EQ(dec->signature, "<sig/>");
  EXPECT_EQ(dec->ocsp_responses.size(), 1u);
}

TEST(TransportTest, DecodeFailures) {
  auto enc = encode_request(soap_request(read_data("request.xml")));
  ASSERT_TRUE(enc.ok());
  const HeaderFields h = enc->headers;
  const std::string boundary(*mime::ContentType::parse(enc->content_type)->boundary());
  auto with = [&](std::string_view name, std::optional<std::string> value) {
    HeaderFields out;
    for (const auto& f : h) {
      if (!mime::iequals(f.first, name)) out.push_back(f);
    }
    if (value) out.emplace_back(std::string(name), *value);
    return out;
  };
  auto ct = [&](const std::string& b) { return "multipart/mixed; boundary=" + b; };
  auto part = [&](std::string_view type, std::string_view data) {
    return "--" + boundary + "\r\nContent-Type: " + std::string(type) + "\r\n\r\n" +
           std::string(data) + "\r\n";
  };
  const std::string close = "--" + boundary + "--\r\n";

  EXPECT_EQ(decode_code(with("Content-Type", "application/json"), enc->body),
            FaultCode::kInvalidContentType);
  EXPECT_EQ(decode_code(with("Content-Type", std::nullopt), enc->body),
            FaultCode::kInvalidContentType);
  EXPECT_EQ(decode_code(h, enc->body.substr(0, enc->body.size() - 20)),
            FaultCode::kMimeParsingFailed);
  EXPECT_EQ(decode_code(with("x-road-request-id", std::nullopt), enc->body),
            FaultCode::kMissingHeaderField);
  EXPECT_EQ(decode_code(with("x-hash-algorithm", std::nullopt), enc->body),
            FaultCode::kMissingHeaderField);
  EXPECT_EQ(decode_code(with("x-hash-algorithm", "MD5"), enc->body), FaultCode::kInvalidRequest);
  EXPECT_EQ(decode_code(with("x-hash-algorithm", "SHA-1"), enc->body), FaultCode::kInvalidRequest);
  EXPECT_EQ(decode_code(with("x-road-message-type", "SOAP2"), enc->body),
            FaultCode::kInvalidRequest);
  // REST announced, SOAP sent.
  EXPECT_EQ(decode_code(with("x-road-message-type", "REST"), enc->body), FaultCode::kMissingRest);

  const HeaderFields hb = with("Content-Type", ct(boundary));
  // No signature.
  EXPECT_EQ(decode_code(hb, part("text/xml", "<x/>") + close), FaultCode::kMissingSignature);
  // Only OCSP.
  EXPECT_EQ(decode_code(hb, part("application/ocsp-response", "o") + close),
            FaultCode::kMissingSoap);
  // Signature where the message should be.
  EXPECT_EQ(decode_code(hb, part("signature/bdoc-1.0/ts", "s") + close), FaultCode::kMissingSoap);
  // Hash chain without result, result without chain.
  EXPECT_EQ(decode_code(hb, part("text/xml", "<x/>") + part("application/hash-chain", "c") +
                                part("signature/bdoc-1.0/ts", "s") + close),
            FaultCode::kMalformedSignature);
  EXPECT_EQ(decode_code(hb, part("text/xml", "<x/>") + part("application/hash-chain-result", "r") +
                                part("signature/bdoc-1.0/ts", "s") + close),
            FaultCode::kMalformedSignature);
  // Something after the signature.
  EXPECT_EQ(decode_code(hb, part("text/xml", "<x/>") + part("signature/bdoc-1.0/ts", "s") +
                                part("text/plain", "x") + close),
            FaultCode::kInvalidContentType);
  // A part without Content-Type.
  EXPECT_EQ(decode_code(hb, "--" + boundary + "\r\n\r\nx\r\n" + close),
            FaultCode::kInvalidContentType);
  // OCSP responses in a response.
  EXPECT_EQ(decode_code(hb,
                        part("application/ocsp-response", "o") + part("text/xml", "<x/>") +
                            part("signature/bdoc-1.0/ts", "s") + close,
                        false),
            FaultCode::kInvalidContentType);
  // SOAP expected, REST head sent (response).
  EXPECT_EQ(decode_code(hb,
                        part("application/x-road-rest-response", "200\r\nOK\r\n") +
                            part("signature/bdoc-1.0/ts", "s") + close,
                        false, MessageKind::kSoap),
            FaultCode::kMissingSoap);
  // A nested multipart nested again is refused.
  EXPECT_EQ(decode_code(hb, part("text/xml", "<x/>") +
                                part("multipart/mixed; boundary=in",
                                     "--in\r\nContent-Type: multipart/mixed; "
                                     "boundary=in2\r\n\r\n--in2\r\nContent-Type: a/b\r\n\r\nx\r\n"
                                     "--in2--\r\n--in--") +
                                part("signature/bdoc-1.0/ts", "s") + close),
            FaultCode::kLimitExceeded);
}

TEST(TransportTest, DecodeLimits) {
  const std::string soap = read_data("request.xml");
  OutgoingTransport m = soap_request(soap);
  auto original = parse_soap(kSwaType, read_data("swa_request.mime"));
  ASSERT_TRUE(original.ok());
  m.attachments = original->attachments;
  auto enc = encode_request(m);
  ASSERT_TRUE(enc.ok());
  auto code_with = [&](auto set) {
    TransportLimits l;
    set(l);
    return decode_code(enc->headers, enc->body, true, MessageKind::kSoap, l);
  };
  EXPECT_EQ(code_with([](TransportLimits& l) { l.max_body_bytes = 100; }),
            FaultCode::kLimitExceeded);
  EXPECT_EQ(code_with([](TransportLimits& l) { l.max_ocsp_responses = 1; }),
            FaultCode::kLimitExceeded);
  EXPECT_EQ(code_with([](TransportLimits& l) { l.max_ocsp_bytes = 4; }), FaultCode::kLimitExceeded);
  EXPECT_EQ(code_with([](TransportLimits& l) { l.max_message_bytes = 100; }),
            FaultCode::kLimitExceeded);
  EXPECT_EQ(code_with([](TransportLimits& l) { l.max_attachments = 1; }),
            FaultCode::kLimitExceeded);
  EXPECT_EQ(code_with([](TransportLimits& l) { l.max_part_bytes = 10; }),
            FaultCode::kLimitExceeded);
  EXPECT_EQ(code_with([](TransportLimits& l) { l.max_signature_bytes = 4; }),
            FaultCode::kLimitExceeded);
  EXPECT_EQ(code_with([](TransportLimits& l) { l.max_parts = 2; }), FaultCode::kLimitExceeded);
  EXPECT_EQ(code_with([](TransportLimits& l) { l.max_header_value_bytes = 4; }),
            FaultCode::kLimitExceeded);
}

TEST(TransportTest, EncodeRefusesIncompleteMessages) {
  OutgoingTransport no_sig = soap_request("<x/>");
  no_sig.signature = {};
  EXPECT_EQ(encode_request(no_sig).error().code, FaultCode::kInvalidRequest);
  OutgoingTransport no_soap = soap_request("");
  EXPECT_EQ(encode_request(no_soap).error().code, FaultCode::kInvalidRequest);
  OutgoingTransport half_chain = soap_request("<x/>");
  half_chain.hash_chain = "c";
  EXPECT_EQ(encode_request(half_chain).error().code, FaultCode::kInvalidRequest);
  OutgoingTransport fault_request = soap_request("<x/>");
  fault_request.trailing_fault = "<f/>";
  EXPECT_EQ(encode_request(fault_request).error().code, FaultCode::kInvalidRequest);
  OutgoingTransport no_id = soap_request("<x/>");
  no_id.meta.request_id.clear();
  EXPECT_EQ(encode_request(no_id).error().code, FaultCode::kInvalidRequest);
  OutgoingTransport rest;
  rest.meta.kind = MessageKind::kRest;
  rest.meta.request_id = "r";
  rest.signature = "s";
  EXPECT_EQ(encode_request(rest).error().code, FaultCode::kInvalidRequest);
}

TEST(TransportTest, LargeAttachmentRoundTrip) {
  // 8 MiB of binary data crosses the codec unchanged, without quadratic work.
  std::string big(8 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>((i * 7919) >> 3);
  }
  Attachment a;
  a.headers.add("Content-Type", "application/octet-stream");
  a.content_type = "application/octet-stream";
  a.data = big;
  const std::string soap = read_data("request.xml");
  OutgoingTransport m = soap_request(soap);
  m.attachments = std::span<const Attachment>(&a, 1);
  auto enc = encode_request(m);
  ASSERT_TRUE(enc.ok()) << enc.error().to_string();
  auto dec = decode_request(enc->headers, std::move(enc->body));
  ASSERT_TRUE(dec.ok()) << dec.error().to_string();
  ASSERT_EQ(dec->attachments.size(), 1u);
  EXPECT_TRUE(dec->attachments[0].data == big);
  TransportLimits small;
  small.max_part_bytes = 1024 * 1024;
  auto enc2 = encode_request(m);
  ASSERT_TRUE(enc2.ok());
  EXPECT_EQ(decode_request(enc2->headers, std::move(enc2->body), small).error().code,
            FaultCode::kLimitExceeded);
}

}  // namespace
}  // namespace hansa::message
