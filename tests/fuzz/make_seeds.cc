// Writes the structured seeds of the corpus that are easiest to make with Hansa's own writers:
// hash chains, global configuration files and signed directories, management requests, ASiC
// containers and archives, certificate requests. Not part of the test run; rerun it by hand when a
// format changes:
//
//   cmake --build build/debug --target hansa_fuzz_make_seeds
//   build/debug/tests/fuzz/hansa_fuzz_make_seeds tests/fuzz/corpus tests/fuzz/data
//
// Directories are signed with tests/fuzz/data/conf-signing.key, whose certificate is the fixed
// anchor of the globalconf_directory target. Output is deterministic except for signatures,
// random boundaries and message ids.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/asic/asic.h"
#include "core/crypto/certificate.h"
#include "core/crypto/csr.h"
#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"
#include "core/crypto/key.h"
#include "core/globalconf/signed_directory.h"
#include "core/globalconf/xml_codec.h"
#include "core/hashchain/hashchain.h"
#include "core/management/request.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace fs = std::filesystem;
namespace crypto = hansa::crypto;
namespace gc = hansa::globalconf;
namespace ids = hansa::ids;

fs::path g_corpus;

template <typename T>
T must(hansa::Result<T> result, const char* what) {
  if (!result.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, result.error().message.c_str());
    std::exit(1);
  }
  return std::move(result).value();
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string& target, const std::string& name, std::string_view bytes) {
  fs::create_directories(g_corpus / target);
  std::ofstream out(g_corpus / target / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string join(std::initializer_list<std::string_view> fields) {
  std::string out;
  bool first = true;
  for (auto field : fields) {
    if (!first) {
      out.append(hansa::fuzz::kFieldSeparator);
    }
    first = false;
    out.append(field);
  }
  return out;
}

void hash_chains() {
  const auto alg = crypto::DigestAlgorithm::kSha512;
  const std::string message = "<message/>";
  // One input that is the message, with and without attachments; a batch of three.
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<hansa::hashchain::ChainInput> inputs;
    hansa::hashchain::ChainInput first{crypto::digest(alg, message), {}};
    if (variant == 1) {
      first.attachment_digests.push_back(crypto::digest(alg, "attachment one"));
    }
    inputs.push_back(first);
    if (variant == 2) {
      inputs.push_back({crypto::digest(alg, "second"), {}});
      inputs.push_back({crypto::digest(alg, "third"), {}});
    }
    auto built = must(hansa::hashchain::build_hash_chains(inputs), "hash chains");
    write("hashchain", "valid-" + std::to_string(variant),
          join({built.result_xml, built.chain_xmls[0], message}));
    if (variant == 2) {
      write("hashchain", "wrong-message", join({built.result_xml, built.chain_xmls[0], "other"}));
      write("hashchain", "truncated-chain",
            join({built.result_xml, built.chain_xmls[0].substr(0, built.chain_xmls[0].size() / 2),
                  message}));
    }
  }
}

gc::SharedParameters shared_parameters(const crypto::Certificate& cert) {
  gc::SharedParameters p;
  p.instance_identifier = "FUZZ";
  p.sources.push_back({"cs.fuzz.invalid", {cert}, {cert}});
  gc::ApprovedCa ca{
      .name = "Fuzz CA",
      .authentication_only = std::nullopt,
      .top_ca = gc::CaInfo{cert, {{"http://ocsp.fuzz.invalid", std::nullopt, std::nullopt}}},
      .intermediate_cas = {},
      .certificate_profile_info =
          "ee.ria.xroad.common.certificateprofile.impl.BasicCertificateProfileInfoProvider",
      .default_csr_format = std::nullopt,
      .acme_server = std::nullopt};
  p.approved_cas.push_back(ca);
  p.approved_tsas.push_back({"Fuzz TSA", "http://tsa.fuzz.invalid", cert, std::nullopt});
  auto member = must(ids::MemberId::create("FUZZ", "GOV", "1234"), "member");
  gc::Member m{member, "Government", "Fuzz Agency", {}};
  m.subsystems.push_back({must(ids::SubsystemId::create(member, "sub"), "subsystem"), "Sub"});
  p.members.push_back(m);
  gc::SecurityServer server{
      .id = must(ids::SecurityServerId::create(member, "ss1"), "server"),
      .address = "ss1.fuzz.invalid",
      .auth_cert_hashes = {crypto::digest(crypto::DigestAlgorithm::kSha256, "auth")},
      .clients = {m.subsystems[0].id},
      .maintenance_mode = std::nullopt};
  p.security_servers.push_back(server);
  p.global_groups.push_back(
      {must(ids::GlobalGroupId::create("FUZZ", "owners"), "group"), "Owners", {member}});
  p.global_settings.member_classes.push_back({"GOV", "Government"});
  return p;
}

void global_configuration(const fs::path& data) {
  const auto cert = must(crypto::Certificate::from_pem(read(data / "conf-signing.pem")), "cert");
  const auto key = must(crypto::PrivateKey::from_pem(read(data / "conf-signing.key")), "key");
  const auto now = gc::TimePoint(std::chrono::seconds(1893456000));

  const auto shared = must(gc::write_shared_parameters(shared_parameters(cert)), "shared");
  write("globalconf_params", "shared-params", "0" + shared);

  gc::ConfigurationAnchor federated;
  federated.instance_identifier = "OTHER";
  federated.sources.push_back({"http://cs.other.invalid/internalconf", {cert}});
  gc::PrivateParameters priv{
      .instance_identifier = "FUZZ",
      .configuration_anchors = {federated},
      .management_service =
          gc::ManagementService{
              .auth_cert_reg_service_address = "https://cs.fuzz.invalid:4001/managementservice/",
              .auth_cert_reg_service_cert = cert,
              .management_request_service_provider_id =
                  must(ids::ClientId::create("FUZZ", "GOV", "1234", "management"), "provider")},
      .time_stamping_interval_seconds = 60};
  const auto private_xml = must(gc::write_private_parameters(priv), "private");
  write("globalconf_params", "private-params", "1" + private_xml);

  gc::ConfigurationAnchor anchor;
  anchor.generated_at = now;
  anchor.instance_identifier = "FUZZ";
  anchor.sources.push_back({"http://cs.fuzz.invalid/internalconf", {cert}});
  write("globalconf_params", "anchor",
        "2" + must(gc::write_configuration_anchor(anchor), "anchor"));

  const gc::SigningKey signing{key, cert, crypto::SignatureAlgorithm::kEcdsaSha512};
  gc::DirectoryBuildOptions options;
  options.expires_at = gc::TimePoint(std::chrono::seconds(4102444800));  // 2100-01-01
  std::vector<gc::DirectoryFile> files = {
      {std::string(gc::kPrivateParametersContentId), "FUZZ", "/V6/1/private-params.xml",
       private_xml},
      {std::string(gc::kSharedParametersContentId), "FUZZ", "/V6/1/shared-params.xml", shared},
  };
  auto built = must(gc::build_signed_directory(files, signing, options), "directory");
  write("globalconf_directory", "valid", built.to_file());
  // Shared parameters only (no private entry), an outdated one, a wrong instance.
  auto shared_only =
      must(gc::build_signed_directory(std::span(files).subspan(1), signing, options), "directory");
  write("globalconf_directory", "shared-only", shared_only.to_file());
  options.expires_at = gc::TimePoint(std::chrono::seconds(1800000000));
  write("globalconf_directory", "outdated",
        must(gc::build_signed_directory(files, signing, options), "directory").to_file());
  options.expires_at = gc::TimePoint(std::chrono::seconds(4102444800));
  files[0].instance = "OTHER";
  write("globalconf_directory", "wrong-instance",
        must(gc::build_signed_directory(files, signing, options), "directory").to_file());
  options.version = 2;
  write("globalconf_directory", "version-2",
        must(gc::build_signed_directory(files, signing, options), "directory").to_file());
  const auto file = built.to_file();
  write("globalconf_directory", "truncated", file.substr(0, file.size() * 2 / 3));

  // The signing certificate and a CSR for the crypto target.
  write("crypto_cert", "cert.der", cert.der());
  write("crypto_cert", "cert.pem", cert.pem());
  write("crypto_cert", "cert.b64", crypto::base64_encode(cert.der()));
  const crypto::DistinguishedName subject = {
      {"C", "EE"}, {"O", "Fuzz"}, {"serialNumber", "FUZZ/ss1/GOV"}, {"CN", "1234"}};
  auto csr = must(crypto::CertificateRequest::create(subject, key), "csr");
  write("crypto_cert", "csr.der", csr.der());
  write("crypto_cert", "csr.pem", csr.pem());
  write("crypto_cert", "bundle.pem", cert.pem() + "junk between\n" + cert.pem());
  const auto der = cert.der();
  write("crypto_cert", "cert-truncated.der", der.substr(0, der.size() - 7));
  write("crypto_cert", "cert-trailing.der", der + std::string("\0\0", 2));

  // Management requests signed with the same key (the certificate stands in for the owner's).
  const auto server = must(ids::SecurityServerId::create("FUZZ", "GOV", "1234", "ss1"), "server");
  const auto provider = must(ids::ClientId::create("FUZZ", "GOV", "1234", "management"), "p");
  auto sign = [&](hansa::management::RequestBody body, bool auth, const std::string& name) {
    hansa::management::RequestToSign input{
        .body = std::move(body),
        .service_provider = provider,
        .message_id = "fuzz-" + name,
        .owner = {crypto::SignatureAlgorithm::kEcdsaSha256, hansa::management::key_signer(key)},
        .owner_cert_der = cert.der(),
        .owner_ocsp_der = std::string("\x30\x03\x0a\x01\x00", 5),
        .auth = std::nullopt};
    if (auth) {
      input.auth = hansa::management::SigningParty{crypto::SignatureAlgorithm::kEcdsaSha256,
                                                   hansa::management::key_signer(key)};
    }
    auto built_request = must(hansa::management::build_request(input), "request");
    write("management", name, join({built_request.content_type, built_request.body}));
    return built_request;
  };
  namespace mgmt = hansa::management;
  auto member = must(ids::MemberId::create("FUZZ", "GOV", "1234"), "member");
  auto reg = sign(mgmt::RequestBody::client_reg(
                      server, must(ids::ClientId::create("FUZZ", "GOV", "1234", "sub"), "c"),
                      std::string("Sub")),
                  false, "client-reg");
  sign(mgmt::RequestBody::auth_cert_reg(server, cert.der(), std::string("ss1.fuzz.invalid")), true,
       "auth-cert-reg");
  sign(mgmt::RequestBody::client_deletion(server, member), false, "client-deletion");
  sign(mgmt::RequestBody::owner_change(server, member), false, "owner-change");
  sign(mgmt::RequestBody::address_change(server, "ss1.new.invalid"), false, "address-change");
  write("management", "truncated",
        join({reg.content_type, reg.body.substr(0, reg.body.size() / 2)}));
  const mgmt::Request request{
      .header = {member, must(ids::ServiceId::create(provider, "clientReg"), "service"), "fuzz-1",
                 "4.0"},
      .body = mgmt::RequestBody::client_reg(server, member)};
  write("management", "response", mgmt::build_response(request, 7));
  write("management", "fault",
        mgmt::build_fault("Server.ServerProxy.InvalidSignatureValue", "bad signature", "id-1"));
}

void asic_seeds() {
  namespace asic = hansa::asic;
  asic::ContainerContents contents;
  contents.message =
      "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"/>";
  contents.signature = "<asic:XAdESSignatures xmlns:asic=\"http://uri.etsi.org/02918/v1.2.1#\"/>";
  const auto plain = must(asic::write_container(contents), "container");
  write("asic", "container", plain);
  contents.attachments = {"attachment body", std::string("\0\1\2", 3)};
  contents.sig_hash_chain_result = "<result/>";
  contents.sig_hash_chain = "<chain/>";
  write("asic", "container-batch", must(asic::write_container(contents), "container"));
  contents.ts_hash_chain_result = "<ts-result/>";
  contents.ts_hash_chain = "<ts-chain/>";
  contents.timestamp = std::string("\x30\x00", 2);
  const auto full = must(asic::write_container(contents), "container");
  write("asic", "container-timestamped", full);
  write("asic", "container-truncated", full.substr(0, full.size() - 30));

  auto archive = must(
      asic::write_archive({{"q1-request-1.asice", plain}, {"q1-response-1.asice", full}}, "", ""),
      "archive");
  write("asic", "archive", archive.zip);
  auto linked = must(
      asic::write_archive({{"q2-request-1.asice", plain}}, archive.last_digest, "archive-1.zip"),
      "archive");
  write("asic", "archive-linked", linked.zip);
  auto info = must(asic::read_archive(archive.zip), "read archive");
  write("asic", "linkinginfo", asic::format_linking_info(info.linking));
  write(
      "asic", "zip-plain",
      must(asic::write_zip({{"a.txt", "hello", true}, {"dir/b.bin", std::string(300, 'x'), false}}),
           "zip"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR DATA_DIR\n", argv[0]);
    return 2;
  }
  g_corpus = argv[1];
  hash_chains();
  global_configuration(argv[2]);
  asic_seeds();
  return 0;
}
