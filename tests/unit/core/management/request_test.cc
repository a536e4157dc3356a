// PR-MSERV request codec: build -> parse round trips for every request type, responses and
// faults, and hostile multipart / SOAP input.

#include "core/management/request.h"

#include <gtest/gtest.h>

#include <string>

#include "core/crypto/key.h"
#include "core/mime/content_type.h"
#include "core/mime/reader.h"

namespace hansa::management {
namespace {

using crypto::PrivateKey;
using crypto::SignatureAlgorithm;

const PrivateKey& owner_key() {
  static const PrivateKey key = PrivateKey::generate_rsa(2048).value();
  return key;
}
const PrivateKey& auth_key() {
  static const PrivateKey key = PrivateKey::generate_ec().value();
  return key;
}

ids::SecurityServerId server_id() {
  return ids::SecurityServerId::create("DEV", "GOV", "1234", "SS1").value();
}
ids::ClientId provider() {
  return ids::SubsystemId::create("DEV", "GOV", "0000", "management").value();
}

RequestToSign to_sign(RequestBody body) {
  RequestToSign in{std::move(body), provider(), "", {}, "owner-cert-der", "owner-ocsp-der", {}};
  in.owner = SigningParty{SignatureAlgorithm::kRsaSha512, key_signer(owner_key())};
  if (in.body.type == RequestType::kAuthCertReg) {
    in.auth = SigningParty{SignatureAlgorithm::kEcdsaSha256, key_signer(auth_key())};
  }
  return in;
}

ParsedRequest round_trip(const RequestBody& body) {
  auto built = build_request(to_sign(body));
  EXPECT_TRUE(built.ok()) << built.error().to_string();
  auto parsed = parse_request(built->content_type, built->body);
  EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->soap, built->soap);
  EXPECT_EQ(parsed->request.header.id, built->message_id);
  EXPECT_EQ(parsed->request.header.client, ids::ClientId(server_id().owner()));
  EXPECT_EQ(parsed->request.header.service.provider(), provider());
  EXPECT_EQ(parsed->request.header.service.service_code(), request_type_name(body.type));
  EXPECT_EQ(parsed->request.body.type, body.type);
  EXPECT_EQ(parsed->request.body.server, body.server);
  EXPECT_EQ(parsed->request.body.client, body.client);
  EXPECT_EQ(parsed->request.body.subsystem_name, body.subsystem_name);
  EXPECT_EQ(parsed->request.body.address, body.address);
  EXPECT_EQ(parsed->request.body.auth_cert_der, body.auth_cert_der);
  EXPECT_EQ(parsed->owner_cert_der, "owner-cert-der");
  EXPECT_EQ(parsed->owner_ocsp_der, "owner-ocsp-der");
  // The owner's signature covers the exact SOAP bytes.
  EXPECT_EQ(parsed->owner_signature.algorithm, SignatureAlgorithm::kRsaSha512);
  EXPECT_TRUE(
      owner_key()
          .public_key()
          .verify(SignatureAlgorithm::kRsaSha512, parsed->soap, parsed->owner_signature.value)
          .ok());
  return std::move(parsed).value();
}

TEST(ManagementRequest, TypeNames) {
  for (auto t : {RequestType::kAuthCertReg, RequestType::kClientReg, RequestType::kClientDeletion,
                 RequestType::kOwnerChange, RequestType::kAddressChange}) {
    EXPECT_EQ(request_type_from_name(request_type_name(t)), t);
  }
  EXPECT_FALSE(request_type_from_name("clientDisable").has_value());
}

TEST(ManagementRequest, AuthCertRegRoundTrip) {
  auto p = round_trip(RequestBody::auth_cert_reg(
      server_id(), std::string("\x30\x82\x01\x00 der", 8), "ss1.example.org"));
  ASSERT_TRUE(p.auth_signature.has_value());
  EXPECT_EQ(p.auth_signature->algorithm, SignatureAlgorithm::kEcdsaSha256);
  EXPECT_TRUE(auth_key()
                  .public_key()
                  .verify(SignatureAlgorithm::kEcdsaSha256, p.soap, p.auth_signature->value)
                  .ok());
  EXPECT_EQ(p.auth_cert_der, p.request.body.auth_cert_der);
  EXPECT_EQ(p.request.body.signing_member(), server_id().owner());
}

TEST(ManagementRequest, AuthCertRegWithoutAddressRoundTrip) {
  auto p = round_trip(RequestBody::auth_cert_reg(server_id(), "cert"));
  EXPECT_FALSE(p.request.body.address.has_value());
}

TEST(ManagementRequest, ClientRegRoundTrip) {
  auto client = ids::SubsystemId::create("DEV", "COM", "4321", "sub-1").value();
  auto p = round_trip(RequestBody::client_reg(server_id(), client, "Subsystem <one> & co"));
  EXPECT_FALSE(p.auth_signature.has_value());
  // The client's member signs clientReg.
  EXPECT_EQ(p.request.body.signing_member(), client.member());
}

TEST(ManagementRequest, ClientRegMemberWithoutNameRoundTrip) {
  round_trip(
      RequestBody::client_reg(server_id(), ids::MemberId::create("DEV", "COM", "4321").value()));
}

TEST(ManagementRequest, ClientDeletionRoundTrip) {
  round_trip(RequestBody::client_deletion(
      server_id(), ids::SubsystemId::create("DEV", "COM", "4321", "sub-1").value()));
}

TEST(ManagementRequest, OwnerChangeRoundTrip) {
  auto p = round_trip(
      RequestBody::owner_change(server_id(), ids::MemberId::create("DEV", "COM", "4321").value()));
  EXPECT_EQ(p.request.body.signing_member().member_code(), "4321");
}

TEST(ManagementRequest, AddressChangeRoundTrip) {
  round_trip(RequestBody::address_change(server_id(), "10.0.0.7"));
}

TEST(ManagementRequest, BuildRefusesIncompleteInput) {
  auto no_auth = to_sign(RequestBody::auth_cert_reg(server_id(), "cert"));
  no_auth.auth.reset();
  EXPECT_EQ(build_request(no_auth).error().code, FaultCode::kInvalidRequest);
  auto no_cert = to_sign(RequestBody::address_change(server_id(), "h"));
  no_cert.owner_ocsp_der.clear();
  EXPECT_EQ(build_request(no_cert).error().code, FaultCode::kInvalidRequest);
  EXPECT_EQ(build_request(to_sign(RequestBody::address_change(server_id(), ""))).error().code,
            FaultCode::kInvalidRequest);
  auto subsystem_owner = to_sign(RequestBody::client_reg(
      server_id(), ids::SubsystemId::create("DEV", "COM", "1", "s").value()));
  subsystem_owner.body.type = RequestType::kOwnerChange;
  EXPECT_EQ(build_request(subsystem_owner).error().code, FaultCode::kInvalidRequest);
}

TEST(ManagementRequest, SignerErrorsPropagate) {
  auto in = to_sign(RequestBody::address_change(server_id(), "h"));
  in.owner.sign = [](SignatureAlgorithm, std::string_view) -> Result<std::string> {
    return Error(FaultCode::kTokenNotActive, "token is logged out");
  };
  EXPECT_EQ(build_request(in).error().code, FaultCode::kTokenNotActive);
}

TEST(ManagementRequest, ExplicitMessageIdIsUsed) {
  auto in = to_sign(RequestBody::address_change(server_id(), "h"));
  in.message_id = "fixed-id-1";
  auto built = build_request(in);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->message_id, "fixed-id-1");
  EXPECT_EQ(parse_request(built->content_type, built->body)->request.header.id, "fixed-id-1");
}

TEST(ManagementResponse, RoundTrip) {
  auto client = ids::SubsystemId::create("DEV", "COM", "4321", "sub-1").value();
  auto built = build_request(to_sign(RequestBody::client_reg(server_id(), client, "name")));
  ASSERT_TRUE(built.ok());
  auto req = parse_request(built->content_type, built->body);
  ASSERT_TRUE(req.ok());
  std::string soap = build_response(req->request, 394);
  auto resp = parse_response(soap);
  ASSERT_TRUE(resp.ok()) << resp.error().to_string();
  EXPECT_EQ(resp->request_id, 394);
  EXPECT_EQ(resp->request.body.type, RequestType::kClientReg);
  EXPECT_EQ(resp->request.body.client, ids::ClientId(client));
  EXPECT_EQ(resp->request.header.id, built->message_id);
}

TEST(ManagementResponse, AuthCertRegRoundTrip) {
  auto built = build_request(to_sign(RequestBody::auth_cert_reg(server_id(), "cert", "a.b")));
  auto req = parse_request(built->content_type, built->body);
  ASSERT_TRUE(req.ok());
  auto resp = parse_response(build_response(req->request, 7));
  ASSERT_TRUE(resp.ok()) << resp.error().to_string();
  EXPECT_EQ(resp->request_id, 7);
  EXPECT_EQ(resp->request.body.auth_cert_der, "cert");
}

TEST(ManagementResponse, FaultBecomesError) {
  auto r =
      parse_response(build_fault("Client.InvalidSignatureValue", "owner signature <bad>", "u"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInvalidSignatureValue);
  EXPECT_EQ(r.error().message, "owner signature <bad>");
  auto unknown = parse_response(build_fault("Server.SomethingNew", "x", "u"));
  EXPECT_EQ(unknown.error().code, FaultCode::kServiceFailed);
}

TEST(ManagementResponse, GarbageIsInvalidSoap) {
  EXPECT_EQ(parse_response("not xml").error().code, FaultCode::kInvalidSoap);
  EXPECT_EQ(parse_response("<a/>").error().code, FaultCode::kInvalidSoap);
}

// --- hostile input ---

struct Built {
  std::string content_type;
  std::string body;
  std::string soap;
};

Built built_client_reg() {
  auto b = build_request(to_sign(RequestBody::client_reg(
                             server_id(), ids::MemberId::create("DEV", "COM", "4321").value())))
               .value();
  return {b.content_type, b.body, b.soap};
}

std::string boundary_of(const std::string& content_type) {
  return std::string(*mime::ContentType::parse(content_type)->boundary());
}

// Rebuilds a body from raw parts with the given SOAP replacing the original one.
std::string with_soap(const Built& b, const std::string& soap) {
  std::string body = b.body;
  auto pos = body.find(b.soap);
  EXPECT_NE(pos, std::string::npos);
  body.replace(pos, b.soap.size(), soap);
  return body;
}

TEST(ManagementRequestHostile, TruncatedMultipart) {
  auto b = built_client_reg();
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, b.body.size() / 2, b.body.size() - 5}) {
    auto r = parse_request(b.content_type, b.body.substr(0, cut));
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.error().code, FaultCode::kMimeParsingFailed) << r.error().to_string();
  }
}

TEST(ManagementRequestHostile, GarbageBody) {
  auto r = parse_request("multipart/related; boundary=abc", "\x01\x02garbage\xff");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kMimeParsingFailed);
}

TEST(ManagementRequestHostile, WrongContentType) {
  auto b = built_client_reg();
  EXPECT_EQ(parse_request("text/xml", b.body).error().code, FaultCode::kInvalidContentType);
  EXPECT_EQ(parse_request("multipart/related", b.body).error().code,
            FaultCode::kInvalidContentType);
  EXPECT_EQ(parse_request(";;;", b.body).error().code, FaultCode::kInvalidContentType);
}

TEST(ManagementRequestHostile, TenMegabyteBody) {
  std::string big(10 * 1024 * 1024, 'a');
  auto r = parse_request("multipart/related; boundary=abc", big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kLimitExceeded);
}

TEST(ManagementRequestHostile, TooManyParts) {
  auto b = built_client_reg();
  const std::string boundary = boundary_of(b.content_type);
  std::string body = b.body;
  auto close = body.rfind("--" + boundary + "--");
  std::string extra;
  for (int i = 0; i < 10; ++i) {
    extra += "--" + boundary + "\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n";
  }
  body.insert(close, extra);
  auto r = parse_request(b.content_type, body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kLimitExceeded);
}

TEST(ManagementRequestHostile, MissingPart) {
  auto b = built_client_reg();
  const std::string boundary = boundary_of(b.content_type);
  // Drop the last part (the OCSP response).
  auto last = b.body.rfind("\r\n--" + boundary + "\r\n");
  std::string body = b.body.substr(0, last) + "\r\n--" + boundary + "--\r\n";
  auto r = parse_request(b.content_type, body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kMimeParsingFailed);
  EXPECT_NE(r.error().message.find("4 MIME parts"), std::string::npos) << r.error().message;
}

TEST(ManagementRequestHostile, MissingSignatureAlgorithm) {
  auto b = built_client_reg();
  std::string body = b.body;
  auto pos = body.find("signature-algorithm-id: SHA512withRSA\r\n");
  ASSERT_NE(pos, std::string::npos);
  body.erase(pos, std::string("signature-algorithm-id: SHA512withRSA\r\n").size());
  EXPECT_EQ(parse_request(b.content_type, body).error().code, FaultCode::kMimeParsingFailed);
  std::string unknown = b.body;
  unknown.replace(unknown.find("SHA512withRSA"), 13, "MD5withRSA000");
  EXPECT_EQ(parse_request(b.content_type, unknown).error().code, FaultCode::kInvalidRequest);
}

TEST(ManagementRequestHostile, NotXml) {
  auto b = built_client_reg();
  auto r = parse_request(b.content_type, with_soap(b, "<notclosed"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInvalidSoap);
}

TEST(ManagementRequestHostile, DoctypeRefused) {
  auto b = built_client_reg();
  std::string soap = b.soap;
  soap.insert(soap.find("<SOAP-ENV:Envelope"), "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>\n");
  EXPECT_EQ(parse_request(b.content_type, with_soap(b, soap)).error().code,
            FaultCode::kInvalidSoap);
}

TEST(ManagementRequestHostile, ServiceCodeMustNameBody) {
  auto b = built_client_reg();
  std::string soap = b.soap;
  soap.replace(soap.find("<id:serviceCode>clientReg"), 25, "<id:serviceCode>ownerChange");
  auto r = parse_request(b.content_type, with_soap(b, soap));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInconsistentHeaders);
}

TEST(ManagementRequestHostile, SenderMustOwnServer) {
  auto b = built_client_reg();
  std::string soap = b.soap;
  // The header client (first memberCode 1234) becomes another member.
  soap.replace(soap.find("<id:memberCode>1234"), 19, "<id:memberCode>9999");
  auto r = parse_request(b.content_type, with_soap(b, soap));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInvalidRequest);
  EXPECT_NE(r.error().message.find("not the owner"), std::string::npos);
}

TEST(ManagementRequestHostile, UnknownRequestAndWrongVersion) {
  auto b = built_client_reg();
  std::string soap = b.soap;
  soap.replace(soap.find("<id:serviceCode>clientReg"), 25, "<id:serviceCode>clientDisable");
  for (std::string from : {"<xroad:clientReg>", "</xroad:clientReg>"}) {
    std::string to = from;
    to.replace(to.find("clientReg"), 9, "clientDisable");
    soap.replace(soap.find(from), from.size(), to);
  }
  EXPECT_EQ(parse_request(b.content_type, with_soap(b, soap)).error().code,
            FaultCode::kUnknownService);
  std::string v = b.soap;
  v.replace(v.find(">4.0<"), 5, ">3.1<");
  EXPECT_EQ(parse_request(b.content_type, with_soap(b, v)).error().code,
            FaultCode::kInvalidProtocolVersion);
}

TEST(ManagementRequestHostile, DuplicateAndUnknownBodyFields) {
  auto b = built_client_reg();
  std::string soap = b.soap;
  soap.insert(soap.find("</xroad:clientReg>"), "<xroad:bogus>1</xroad:bogus>");
  EXPECT_EQ(parse_request(b.content_type, with_soap(b, soap)).error().code,
            FaultCode::kInvalidSoap);
  std::string dup = b.soap;
  auto s = dup.find("<xroad:server");
  auto e = dup.find("</xroad:server>") + 15;
  dup.insert(e, dup.substr(s, e - s));
  EXPECT_EQ(parse_request(b.content_type, with_soap(b, dup)).error().code, FaultCode::kInvalidSoap);
}

TEST(ManagementRequestHostile, AuthCertPartMustMatchBody) {
  auto built = build_request(to_sign(RequestBody::auth_cert_reg(server_id(), "CERT-A"))).value();
  std::string body = built.body;
  auto pos = body.find("\r\n\r\nCERT-A\r\n");
  ASSERT_NE(pos, std::string::npos);
  body.replace(pos + 4, 6, "CERT-B");
  auto r = parse_request(built.content_type, body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInvalidRequest);
}

TEST(ManagementRequestHostile, BadIdentifierInHeader) {
  auto b = built_client_reg();
  std::string soap = b.soap;
  soap.replace(soap.find("<id:memberCode>1234"), 19, "<id:memberCode>12 4");
  auto r = parse_request(b.content_type, with_soap(b, soap));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInvalidClientIdentifier);
}

}  // namespace
}  // namespace hansa::management
