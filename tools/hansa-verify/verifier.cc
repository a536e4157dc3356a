#include "tools/hansa-verify/verifier.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/crypto/encoding.h"
#include "core/globalconf/signed_directory.h"
#include "core/globalconf/xml_codec.h"
#include "core/ids/rest_form.h"
#include "core/ids/xml_parse.h"
#include "core/xml/xml.h"

namespace hansa::verify {
namespace {

constexpr std::string_view kSoapNamespace = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr std::string_view kXroadNamespace = "http://x-road.eu/xsd/xroad.xsd";
constexpr std::size_t kMaxConfigFileBytes = 32 * 1024 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return Error(FaultCode::kIoError, "Cannot read " + path.string(), ec.message());
  }
  if (size > max) {
    return Error(FaultCode::kLimitExceeded, "File too large", path.string());
  }
  std::ifstream in(path, std::ios::binary);
  std::string data(static_cast<std::size_t>(size), '\0');
  if (!in.read(data.data(), static_cast<std::streamsize>(size))) {
    return Error(FaultCode::kIoError, "Cannot read " + path.string());
  }
  return data;
}

std::string describe(const Error& e) {
  return e.detail.empty() ? e.message : e.message + " (" + e.detail + ")";
}

Result<MessageParties> read_soap(std::string_view message) {
  HANSA_ASSIGN_OR_RETURN(xml::Document doc, xml::Document::parse(message));
  xml::Element env = doc.root();
  if (!env.is(kSoapNamespace, "Envelope")) {
    return Error(FaultCode::kInvalidSoap, "message.xml is not a SOAP envelope");
  }
  xml::Element header = env.first_child(kSoapNamespace, "Header");
  xml::Element body = env.first_child(kSoapNamespace, "Body");
  if (!header || !body) {
    return Error(FaultCode::kInvalidSoap, "SOAP message without Header or Body");
  }
  MessageParties p;
  xml::Element client = header.first_child(kXroadNamespace, "client");
  xml::Element service = header.first_child(kXroadNamespace, "service");
  if (!client || !service) {
    return Error(FaultCode::kMissingHeaderField, "SOAP header lacks client or service");
  }
  HANSA_ASSIGN_OR_RETURN(ids::ClientId c, ids::client_from_xml(client));
  HANSA_ASSIGN_OR_RETURN(ids::ServiceId s, ids::service_from_xml(service));
  p.client = std::move(c);
  p.service = std::move(s);
  if (xml::Element id = header.first_child(kXroadNamespace, "id")) {
    p.query_id = std::string(trim(id.text()));
  }
  xml::Element first = body.first_child();
  p.response = first && first.local_name().ends_with("Response");
  return p;
}

Result<MessageParties> read_rest(std::string_view message) {
  MessageParties p;
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < message.size() && lines.size() < 1024) {
    std::size_t end = message.find('\n', pos);
    if (end == std::string_view::npos) {
      end = message.size();
    }
    lines.push_back(trim(message.substr(pos, end - pos)));
    pos = end + 1;
  }
  if (lines.empty() || lines[0].empty()) {
    return Error(FaultCode::kInvalidRest, "Empty REST message");
  }
  p.response = std::all_of(lines[0].begin(), lines[0].end(),
                           [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto colon = lines[i].find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string name = lower(trim(lines[i].substr(0, colon)));
    std::string_view value = trim(lines[i].substr(colon + 1));
    if (name == "x-road-client") {
      HANSA_ASSIGN_OR_RETURN(ids::ClientId c, ids::parse_rest_client(value));
      p.client = std::move(c);
    } else if (name == "x-road-service") {
      HANSA_ASSIGN_OR_RETURN(ids::ServiceId s, ids::parse_rest_service(value));
      p.service = std::move(s);
    } else if (name == "x-road-id") {
      p.query_id = std::string(value);
    }
  }
  // A request head names its service in the target line ("/r1/INST/CLASS/MEMBER/SUB/CODE..."),
  // not in a header (PR-MESSTRANSP REST header part).
  if (!p.service && !p.response && lines.size() > 1) {
    HANSA_ASSIGN_OR_RETURN(ids::RestRequestTarget target, ids::parse_rest_request_target(lines[1]));
    p.service = std::move(target.service);
  }
  if (!p.client || !p.service) {
    return Error(FaultCode::kMissingHeaderField,
                 "REST message lacks x-road-client or its service (x-road-service or the target)");
  }
  return p;
}

std::string format_time(TimePoint t) { return globalconf::format_utc(t); }

}  // namespace

std::optional<ids::ClientId> MessageParties::expected_signer() const {
  if (response) {
    return service ? std::optional<ids::ClientId>(service->provider()) : std::nullopt;
  }
  return client;
}

Result<MessageParties> read_message_parties(std::string_view message_xml) {
  std::string_view t = trim(message_xml);
  if (!t.empty() && t.front() == '<') {
    return read_soap(message_xml);
  }
  return read_rest(message_xml);
}

bool ArchiveReport::ok() const {
  if (linking_error || structure_error) {
    return false;
  }
  return std::all_of(containers.begin(), containers.end(),
                     [](const ContainerReport& c) { return c.ok(); });
}

Verifier::Verifier(std::shared_ptr<const globalconf::GlobalConfSnapshot> conf,
                   VerifierOptions options)
    : conf_(std::move(conf)), options_(std::move(options)) {
  HANSA_CHECK(conf_ != nullptr);
}

ContainerReport Verifier::verify_container(std::string_view bytes, std::string_view name) const {
  ContainerReport r;
  r.name = std::string(name);
  auto pass = [&](std::string check, std::string detail) {
    r.checks.push_back({std::move(check), true, std::move(detail), {}});
  };
  auto fail = [&](std::string check, const Error& e) {
    r.checks.push_back({std::move(check), false, describe(e), e.fault_code()});
    if (!r.error) {
      r.error = e;
    }
  };

  asic::ReadLimits limits = options_.container_limits;
  limits.strict_mimetype = options_.strict_mimetype;
  auto container = asic::read_container(bytes, limits);
  if (!container.ok()) {
    fail("structure", container.error());
    return r;
  }
  auto contents = asic::contents_of(*container);
  if (!contents.ok()) {
    fail("structure", contents.error());
    return r;
  }
  r.notes = container->notes;
  for (const auto& e : contents->other_entries) {
    r.notes.push_back("unexpected entry " + e.name);
  }
  pass("structure", std::to_string(container->entries.size()) + " entries");

  auto parties = read_message_parties(contents->message);
  if (parties.ok()) {
    r.message_kind = parties->response ? "response" : "request";
    r.query_id = parties->query_id;
    if (auto who = parties->expected_signer()) {
      r.expected_signer = who->to_string();
    }
  }

  auto parsed = signature::parse_signature(contents->signature, options_.signature_limits);
  if (!parsed.ok()) {
    fail("references", parsed.error());
    return r;
  }
  if (parsed->signing_time) {
    r.signing_time = format_time(*parsed->signing_time);
  }
  signature::SignedData data;
  for (const auto& e : contents->other_entries) {
    data.files["/" + e.name] = e.data;
  }
  data.files["/message.xml"] = contents->message;
  data.required["/message.xml"] = std::nullopt;
  for (std::size_t i = 0; i < contents->attachments.size(); ++i) {
    data.files[signature::attachment_uri(i + 1)] = contents->attachments[i];
    data.required[signature::attachment_uri(i + 1)] = std::nullopt;
  }
  if (!contents->sig_hash_chain_result.empty()) {
    data.files["/sig-hashchainresult.xml"] = contents->sig_hash_chain_result;
    data.files["/sig-hashchain.xml"] = contents->sig_hash_chain;
  }
  if (parsed->is_batch() && contents->sig_hash_chain_result.empty()) {
    fail("references", Error(FaultCode::kMalformedSignature,
                             "Batch signature without sig-hashchainresult.xml in the container"));
    return r;
  }
  if (auto st = signature::verify_references(*parsed, data, options_.hash_chain_limits); !st.ok()) {
    fail("references", st.error());
    return r;
  }
  pass("references", parsed->is_batch()
                         ? "sig hash chain consumes message.xml and attachments"
                         : std::to_string(parsed->data_references().size()) + " data references");

  // Time-stamp: over the SignatureValue, or a batch token over ts-hashchainresult.xml.
  std::optional<TimePoint> at;
  if (parsed->timestamp) {
    auto ts = signature::verify_signature_timestamp(*parsed, *conf_);
    if (!ts.ok()) {
      fail("timestamp", ts.error());
      return r;
    }
    at = ts->gen_time;
    r.timestamp = format_time(ts->gen_time) + " (SignatureTimeStamp)";
    pass("timestamp", r.timestamp);
  } else if (!contents->timestamp.empty()) {
    if (contents->ts_hash_chain_result.empty() || contents->ts_hash_chain.empty()) {
      fail("timestamp",
           Error(FaultCode::kTimestampValidation, "timestamp.tst without the ts hash chain files"));
      return r;
    }
    auto resolver = [&](std::string_view uri) -> std::optional<std::string> {
      if (uri == "/ts-hashchain.xml") {
        return contents->ts_hash_chain;
      }
      if (uri == "/META-INF/signatures.xml") {
        return contents->signature;
      }
      return std::nullopt;
    };
    hashchain::RequiredInputs required{{"/META-INF/signatures.xml", std::nullopt}};
    if (auto st = hashchain::verify_hash_chain(contents->ts_hash_chain_result, resolver, required,
                                               options_.hash_chain_limits);
        !st.ok()) {
      fail("timestamp", st.error().wrapped(FaultCode::kTimestampValidation));
      return r;
    }
    auto token = timestamp::TimestampToken::parse(contents->timestamp);
    if (!token.ok()) {
      fail("timestamp", token.error());
      return r;
    }
    timestamp::VerifyOptions opts;
    for (const auto& tsa : conf_->approved_tsas()) {
      opts.tsa_certs.push_back(tsa.cert.der());
    }
    auto ts = timestamp::verify(*token, contents->ts_hash_chain_result, opts);
    if (!ts.ok()) {
      fail("timestamp", ts.error());
      return r;
    }
    at = ts->gen_time;
    r.timestamp = format_time(ts->gen_time) + " (batch, ts hash chain)";
    pass("timestamp", r.timestamp);
  } else {
    fail("timestamp", Error(FaultCode::kTimestampValidation, "The container has no time-stamp"));
    return r;
  }

  if (auto st = signature::verify_signature_value(*parsed); !st.ok()) {
    fail("signature-value", st.error());
    return r;
  }
  pass("signature-value", std::string(crypto::signature_uri(parsed->algorithm)));

  if (!contents->ts_hash_chain_result.empty()) {
    const std::string* manifest = container->find(asic::kAsicManifestEntry);
    Error bad(FaultCode::kAsicMalformed, "ASiCManifest does not match the time-stamp files");
    bool ok = false;
    if (manifest != nullptr) {
      auto doc = xml::Document::parse(*manifest);
      if (doc.ok() && doc->root().is(asic::kAsicManifestNamespace, "ASiCManifest")) {
        xml::Element sig_ref =
            doc->root().first_child(asic::kAsicManifestNamespace, "SigReference");
        xml::Element data_ref =
            doc->root().first_child(asic::kAsicManifestNamespace, "DataObjectReference");
        if (sig_ref && data_ref && sig_ref.attribute("URI") == asic::kTimestampEntry &&
            data_ref.attribute("URI") == asic::kTsHashChainResultEntry) {
          xml::Element dm = data_ref.first_child(signature::kDsigNamespace, "DigestMethod");
          xml::Element dv = data_ref.first_child(signature::kDsigNamespace, "DigestValue");
          auto alg =
              dm ? crypto::digest_from_uri(dm.attribute("Algorithm").value_or("")) : std::nullopt;
          auto digest = dv ? crypto::base64_decode(dv.text()) : Result<std::string>(bad);
          ok =
              alg && digest.ok() && *digest == crypto::digest(*alg, contents->ts_hash_chain_result);
        }
      }
    } else {
      bad.message = "META-INF/ASiCManifest.xml is missing";
    }
    if (!ok) {
      fail("asic-manifest", bad);
      return r;
    }
    pass("asic-manifest", "names timestamp.tst and ts-hashchainresult.xml");
  }

  auto cert = signature::verify_certificate(*parsed, *conf_, *at);
  if (!cert.ok()) {
    fail("certificate", cert.error());
    return r;
  }
  const crypto::Certificate& signer_cert = parsed->certificates.front();
  r.signer = cert->member.to_string();
  r.signer_certificate = signer_cert.subject();
  r.signer_serial = signer_cert.serial_decimal();
  r.ca = cert->ca_name;
  r.ocsp = std::string(ocsp::cert_status_name(cert->ocsp_status)) + ", produced " +
           format_time(cert->ocsp_produced_at) + " by " + cert->ocsp_responder;
  pass("certificate", "chain to " + cert->ca_name + " and OCSP good at " + format_time(*at));

  if (!parties.ok()) {
    fail("signer", parties.error());
    return r;
  }
  auto expected = parties->expected_signer();
  if (!expected || !(expected->member() == cert->member)) {
    fail("signer", Error(FaultCode::kIncorrectCertificate,
                         "Name in the signing certificate does not match the message",
                         cert->member.to_string() + " signed, " +
                             (expected ? expected->to_string() : std::string("nobody")) +
                             " expected (" + r.message_kind + ")"));
    return r;
  }
  pass("signer",
       cert->member.to_string() + " is the " + (parties->response ? "service provider" : "client"));
  return r;
}

ArchiveReport Verifier::verify_archive(std::string_view bytes,
                                       const std::optional<std::string>& previous_digest) const {
  ArchiveReport r;
  auto archive = asic::read_archive(bytes, options_.archive_limits);
  if (!archive.ok()) {
    r.structure_error = archive.error();
    return r;
  }
  r.previous_digest = archive->linking.previous_digest;
  if (!options_.linking_only) {
    for (const auto& c : archive->containers) {
      r.containers.push_back(verify_container(c.container, c.name));
    }
  }
  auto last = asic::verify_linking(*archive, previous_digest);
  if (last.ok()) {
    r.last_digest = *last;
  } else {
    r.linking_error = last.error();
  }
  return r;
}

Result<std::shared_ptr<const globalconf::GlobalConfSnapshot>> load_shared_params(
    const std::vector<std::filesystem::path>& files) {
  std::vector<globalconf::SharedParameters> shared;
  for (const auto& f : files) {
    HANSA_ASSIGN_OR_RETURN(std::string xml_text, read_file(f, kMaxConfigFileBytes));
    auto parsed = globalconf::parse_shared_parameters(xml_text);
    if (!parsed.ok()) {
      Error e = parsed.error();
      e.detail = f.string() + ": " + e.detail;
      return e;
    }
    shared.push_back(std::move(parsed).value());
  }
  if (shared.empty()) {
    return Error(FaultCode::kInvalidConfiguration, "No shared parameters given");
  }
  // Verification is offline and about the past: the configuration's own expiry does not apply.
  return globalconf::GlobalConfSnapshot::create(std::nullopt, std::move(shared), TimePoint::max());
}

Result<std::shared_ptr<const globalconf::GlobalConfSnapshot>> load_signed_directory(
    const std::filesystem::path& directory_file, const std::filesystem::path& anchor_file,
    const std::filesystem::path& files_dir) {
  HANSA_ASSIGN_OR_RETURN(std::string anchor_text, read_file(anchor_file, kMaxConfigFileBytes));
  HANSA_ASSIGN_OR_RETURN(globalconf::ConfigurationAnchor anchor,
                         globalconf::parse_configuration_anchor(anchor_text));
  HANSA_ASSIGN_OR_RETURN(std::string dir_text, read_file(directory_file, kMaxConfigFileBytes));
  globalconf::DirectoryVerifyOptions opts;
  opts.accepted_versions = {2, 3, 4, 5, 6};
  opts.allow_missing_version = true;
  HANSA_ASSIGN_OR_RETURN(globalconf::SignedDirectory dir,
                         globalconf::verify_signed_directory_file(dir_text, anchor, opts));
  std::vector<globalconf::SharedParameters> shared;
  for (const auto* entry : dir.find(globalconf::kSharedParametersContentId)) {
    std::vector<std::filesystem::path> candidates;
    if (entry->content_file_name) {
      candidates.push_back(files_dir / *entry->content_file_name);
    }
    std::string loc = entry->content_location;
    if (auto q = loc.find_first_of("?#"); q != std::string::npos) {
      loc.resize(q);
    }
    if (auto slash = loc.rfind('/'); slash != std::string::npos) {
      candidates.push_back(files_dir / loc.substr(slash + 1));
    }
    if (loc.find("://") == std::string::npos && loc.find("..") == std::string::npos) {
      candidates.push_back(files_dir / std::filesystem::path(loc).relative_path());
    }
    std::optional<std::string> bytes;
    for (const auto& c : candidates) {
      if (std::filesystem::is_regular_file(c)) {
        HANSA_ASSIGN_OR_RETURN(std::string b, read_file(c, kMaxConfigFileBytes));
        bytes = std::move(b);
        break;
      }
    }
    if (!bytes) {
      return Error(FaultCode::kInvalidConfiguration, "Shared parameters file not found",
                   entry->content_location);
    }
    HANSA_RETURN_IF_ERROR(globalconf::verify_file(*entry, *bytes));
    HANSA_ASSIGN_OR_RETURN(globalconf::SharedParameters sp,
                           globalconf::parse_shared_parameters(*bytes));
    if (sp.instance_identifier == anchor.instance_identifier) {
      shared.insert(shared.begin(), std::move(sp));
    } else {
      shared.push_back(std::move(sp));
    }
  }
  if (shared.empty()) {
    return Error(FaultCode::kInvalidConfiguration, "The directory lists no shared parameters");
  }
  return globalconf::GlobalConfSnapshot::create(std::nullopt, std::move(shared), TimePoint::max());
}

std::string to_text(const ContainerReport& r) {
  std::ostringstream o;
  o << "Container " << (r.name.empty() ? "(input)" : r.name) << ": "
    << (r.ok() ? "VALID" : "INVALID " + r.error->fault_code()) << "\n";
  for (const auto& c : r.checks) {
    o << "  [" << (c.ok ? " ok " : "FAIL") << "] " << c.name << ": " << c.detail;
    if (!c.ok) {
      o << "  -> " << c.fault;
    }
    o << "\n";
  }
  auto line = [&](const char* label, const std::string& v) {
    if (!v.empty()) {
      o << "  " << label << ": " << v << "\n";
    }
  };
  line("message", r.message_kind + (r.query_id.empty() ? "" : " " + r.query_id));
  line("expected signer", r.expected_signer);
  line("signer", r.signer);
  line("signer certificate", r.signer_certificate.empty()
                                 ? ""
                                 : r.signer_certificate + " (serial " + r.signer_serial + ")");
  line("certification authority", r.ca);
  line("OCSP", r.ocsp);
  line("signing time", r.signing_time);
  line("time-stamp", r.timestamp);
  for (const auto& n : r.notes) {
    line("note", n);
  }
  return o.str();
}

std::string to_text(const ArchiveReport& r) {
  std::ostringstream o;
  if (r.structure_error) {
    o << "Archive: INVALID " << r.structure_error->fault_code() << ": "
      << describe(*r.structure_error) << "\n";
    return o.str();
  }
  for (const auto& c : r.containers) {
    o << to_text(c);
  }
  if (r.linking_error) {
    o << "Linking: INVALID " << r.linking_error->fault_code() << ": " << describe(*r.linking_error)
      << "\n";
  } else {
    o << "Linking: VALID (previous " << (r.previous_digest.empty() ? "-" : r.previous_digest)
      << ")\nLast digest: " << r.last_digest << "\n";
  }
  o << "Archive: " << (r.ok() ? "VALID" : "INVALID") << " (" << r.containers.size()
    << " containers)\n";
  return o.str();
}

namespace {

nlohmann::json json_of(const ContainerReport& r) {
  nlohmann::json j;
  j["name"] = r.name;
  j["valid"] = r.ok();
  if (r.error) {
    j["fault"] = r.error->fault_code();
    j["message"] = describe(*r.error);
  }
  j["checks"] = nlohmann::json::array();
  for (const auto& c : r.checks) {
    nlohmann::json cj{{"check", c.name}, {"ok", c.ok}, {"detail", c.detail}};
    if (!c.ok) {
      cj["fault"] = c.fault;
    }
    j["checks"].push_back(cj);
  }
  j["message_kind"] = r.message_kind;
  j["query_id"] = r.query_id;
  j["expected_signer"] = r.expected_signer;
  j["signer"] = r.signer;
  j["signer_certificate"] = r.signer_certificate;
  j["signer_serial"] = r.signer_serial;
  j["ca"] = r.ca;
  j["ocsp"] = r.ocsp;
  j["signing_time"] = r.signing_time;
  j["timestamp"] = r.timestamp;
  j["notes"] = r.notes;
  return j;
}

}  // namespace

std::string to_json(const ContainerReport& r) { return json_of(r).dump(2) + "\n"; }

std::string to_json(const ArchiveReport& r) {
  nlohmann::json j;
  j["valid"] = r.ok();
  if (r.structure_error) {
    j["fault"] = r.structure_error->fault_code();
    j["message"] = describe(*r.structure_error);
  }
  j["containers"] = nlohmann::json::array();
  for (const auto& c : r.containers) {
    j["containers"].push_back(json_of(c));
  }
  j["linking"] = {{"valid", !r.linking_error && !r.structure_error},
                  {"previous_digest", r.previous_digest}};
  if (r.linking_error) {
    j["linking"]["fault"] = r.linking_error->fault_code();
    j["linking"]["message"] = describe(*r.linking_error);
  } else if (!r.structure_error) {
    j["last_digest"] = r.last_digest;
  }
  return j.dump(2) + "\n";
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"hansa-verify: verify message-log containers (.asice) and archives (.zip) offline"};
  std::vector<std::string> inputs;
  std::vector<std::string> shared_params;
  std::string directory;
  std::string anchor;
  std::string files_dir;
  std::string previous;
  bool json = false;
  bool strict = false;
  app.add_option("input", inputs,
                 "Container (.asice) or archive (.zip); several archives are verified as one "
                 "chain in the order given (each must link to the one before)")
      ->required();
  app.add_option("--shared-params", shared_params,
                 "Verification configuration: shared-params.xml file(s), own instance first");
  app.add_option("--directory", directory, "Verification configuration: signed directory file");
  app.add_option("--anchor", anchor, "Configuration anchor for --directory");
  app.add_option("--files", files_dir,
                 "Folder holding the files --directory lists (default: its folder)");
  app.add_option("--previous-digest", previous,
                 "Archives: last digest of the previous archive, or - for the first");
  app.add_flag("--json", json, "Print the report as JSON");
  app.add_flag("--strict-mimetype", strict, "Require mimetype first and stored");
  bool linking_only = false;
  VerifierOptions options;
  app.add_option("--max-entry-bytes", options.container_limits.max_entry_bytes,
                 "Largest uncompressed zip entry accepted (zip bomb guard)")
      ->capture_default_str();
  app.add_flag("--linking-only", linking_only,
               "Archives: check only the linking (as X-Road's archive verifier does); needs no "
               "verification configuration");
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  Result<std::shared_ptr<const globalconf::GlobalConfSnapshot>> conf =
      Error(FaultCode::kInvalidConfiguration, "Give --shared-params or --directory and --anchor");
  if (!shared_params.empty() && directory.empty()) {
    std::vector<std::filesystem::path> paths(shared_params.begin(), shared_params.end());
    conf = load_shared_params(paths);
  } else if (shared_params.empty() && !directory.empty() && !anchor.empty()) {
    std::filesystem::path dir_path(directory);
    conf = load_signed_directory(
        dir_path, anchor,
        files_dir.empty() ? dir_path.parent_path() : std::filesystem::path(files_dir));
  }
  if (!conf.ok() && linking_only && shared_params.empty() && directory.empty()) {
    globalconf::SharedParameters none;
    none.instance_identifier = "NONE";
    conf = globalconf::GlobalConfSnapshot::create(std::nullopt, {none}, TimePoint::max());
  }
  if (!conf.ok()) {
    err << "hansa-verify: verification configuration: " << conf.error().to_string() << "\n";
    return kExitUsage;
  }
  options.archive_limits.zip.max_entry_bytes = options.container_limits.max_entry_bytes;
  options.strict_mimetype = strict;
  options.linking_only = linking_only;
  Verifier verifier(*conf, options);
  std::optional<std::string> prev;
  if (previous == "-") {
    prev = std::string();
  } else if (!previous.empty()) {
    if (!crypto::hex_decode(previous).ok()) {
      err << "hansa-verify: --previous-digest must be hex or -\n";
      return kExitUsage;
    }
    prev = previous;
  }
  bool all_ok = true;
  nlohmann::json reports = nlohmann::json::array();
  std::string text;
  // Archives given together form one chain: each links to the last digest of the one before.
  std::optional<std::string> chain_previous = prev;
  std::string previous_archive;
  for (const auto& input : inputs) {
    auto bytes = read_file(input, std::size_t{1} << 31);
    if (!bytes.ok()) {
      err << "hansa-verify: " << bytes.error().to_string() << "\n";
      return kExitUsage;
    }
    // An archive is a zip holding linkinginfo; anything else is taken as a container.
    bool is_archive = false;
    {
      auto entries = asic::read_zip(*bytes, options.archive_limits.zip);
      if (entries.ok()) {
        is_archive = std::any_of(entries->begin(), entries->end(), [](const asic::Entry& e) {
          return e.name == asic::kLinkingInfoEntry;
        });
      }
    }
    const std::string file_name = std::filesystem::path(input).filename().string();
    std::string rendered;
    if (is_archive) {
      ArchiveReport report = verifier.verify_archive(*bytes, chain_previous);
      all_ok = all_ok && report.ok();
      rendered = json ? to_json(report) : to_text(report);
      if (inputs.size() > 1 && !previous_archive.empty() && report.linking_error) {
        rendered += json ? ""
                         : "Chain: " + file_name + " does not link to " + previous_archive +
                               " (archives missing, reordered or changed)\n";
      }
      // A broken link still lets the next archive be checked against what this one claims.
      if (report.last_digest.empty()) {
        chain_previous.reset();  // unknown: the next archive is checked against its own header
      } else {
        chain_previous = report.last_digest;
      }
      previous_archive = file_name;
    } else {
      ContainerReport report = verifier.verify_container(*bytes, file_name);
      all_ok = all_ok && report.ok();
      rendered = json ? to_json(report) : to_text(report);
    }
    if (inputs.size() == 1) {
      out << rendered;
      return all_ok ? kExitOk : kExitFailed;
    }
    if (json) {
      auto j = nlohmann::json::parse(rendered);
      j["file"] = file_name;
      reports.push_back(std::move(j));
    } else {
      text += "== " + file_name + "\n" + rendered;
    }
  }
  if (json) {
    nlohmann::json j = {{"valid", all_ok}, {"files", reports}};
    out << j.dump(2) << "\n";
  } else {
    out << text << (all_ok ? "All files VALID\n" : "Verification FAILED\n");
  }
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace hansa::verify
