// PR-GCONF 2.3 (signed configuration), 2.4 (directory), 2.5 (content identifiers), 2.6
// (verification), 2.7 (versioning).

#include "core/globalconf/signed_directory.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "core/crypto/encoding.h"
#include "core/globalconf/xml_codec.h"
#include "core/mime/headers.h"
#include "core/mime/reader.h"
#include "core/mime/writer.h"

namespace hansa::globalconf {
namespace {

constexpr std::string_view kExpireDate = "Expire-date";
constexpr std::string_view kVersion = "Version";
constexpr std::string_view kContentType = "Content-type";
constexpr std::string_view kContentTransferEncoding = "Content-transfer-encoding";
constexpr std::string_view kContentIdentifier = "Content-identifier";
constexpr std::string_view kContentLocation = "Content-location";
constexpr std::string_view kContentFileName = "Content-file-name";
constexpr std::string_view kHashAlgorithmId = "Hash-algorithm-id";
constexpr std::string_view kSignatureAlgorithmId = "Signature-algorithm-id";
constexpr std::string_view kVerificationCertHash = "Verification-certificate-hash";
constexpr std::string_view kOctetStream = "application/octet-stream";

Error malformed(std::string message, std::string detail = {}) {
  return Error(FaultCode::kMalformedGlobalConf, std::move(message), std::move(detail));
}

Error invalid(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidGlobalConf, std::move(message), std::move(detail));
}

// Malformed MIME becomes MalformedGlobalConf; limit overruns keep their code under that path.
Error from_mime(const Error& e) {
  if (e.code == FaultCode::kLimitExceeded) {
    return Error(e).wrapped(FaultCode::kMalformedGlobalConf);
  }
  return malformed("signed directory is not a valid multipart: " + e.message, e.detail);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// "value; name=x; other='y'" -> value and parameters (names lower-cased). Quotes ' and " are
// both accepted: X-Road writes instance='DEV', PR-GCONF 2.5 shows instance="EE".
struct HeaderValue {
  std::string value;
  std::vector<std::pair<std::string, std::string>> params;

  [[nodiscard]] std::optional<std::string> param(std::string_view name) const {
    for (const auto& [n, v] : params) {
      if (mime::iequals(n, name)) {
        return v;
      }
    }
    return std::nullopt;
  }
};

Result<HeaderValue> split_header_value(std::string_view text, std::string_view header) {
  HeaderValue out;
  std::size_t semi = text.find(';');
  out.value = std::string(trim(text.substr(0, semi)));
  while (semi != std::string_view::npos) {
    text.remove_prefix(semi + 1);
    std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) {
      if (trim(text).empty()) {
        break;  // a trailing ";"
      }
      return malformed("bad parameter in " + std::string(header), std::string(text));
    }
    std::string name(trim(text.substr(0, eq)));
    std::string_view rest = trim(text.substr(eq + 1));
    std::string value;
    if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
      char quote = rest.front();
      std::size_t close = rest.find(quote, 1);
      if (close == std::string_view::npos) {
        return malformed("unterminated quote in " + std::string(header), std::string(rest));
      }
      value = std::string(rest.substr(1, close - 1));
      std::string_view after = trim(rest.substr(close + 1));
      if (!after.empty() && after.front() != ';') {
        return malformed("bad parameter in " + std::string(header), std::string(rest));
      }
      semi = after.empty() ? std::string_view::npos : 0;
      text = after;
    } else {
      semi = rest.find(';');
      value = std::string(trim(rest.substr(0, semi)));
      text = rest;
    }
    if (name.empty()) {
      return malformed("empty parameter name in " + std::string(header));
    }
    out.params.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

Result<crypto::DigestAlgorithm> digest_algorithm(std::string_view id) {
  id = trim(id);
  if (auto alg = crypto::digest_from_uri(id)) {
    return *alg;
  }
  if (auto alg = crypto::digest_from_id(id)) {
    return *alg;
  }
  return malformed("unsupported hash algorithm", std::string(id));
}

Result<std::string> required(const mime::HeaderList& headers, std::string_view name,
                             std::string_view where) {
  auto v = headers.get(name);
  if (!v) {
    return malformed(std::string(where) + " lacks header " + std::string(name));
  }
  return std::string(*v);
}

Result<DirectoryEntry> read_entry(const mime::Part& part, std::size_t index) {
  std::string where = "directory entry " + std::to_string(index);
  const mime::HeaderList& h = part.headers;
  HANSA_ASSIGN_OR_RETURN(std::string type, required(h, kContentType, where));
  if (!mime::iequals(trim(type.substr(0, type.find(';'))), kOctetStream)) {
    return malformed(where + " is not application/octet-stream", type);
  }
  if (auto cte = h.get(kContentTransferEncoding); cte && !mime::iequals(trim(*cte), "base64")) {
    return malformed(where + " has an unsupported transfer encoding", std::string(*cte));
  }
  DirectoryEntry entry;
  HANSA_ASSIGN_OR_RETURN(entry.content_location, required(h, kContentLocation, where));
  if (entry.content_location.empty()) {
    return malformed(where + " has an empty Content-location");
  }
  HANSA_ASSIGN_OR_RETURN(std::string hash_id, required(h, kHashAlgorithmId, where));
  HANSA_ASSIGN_OR_RETURN(entry.hash_algorithm, digest_algorithm(hash_id));
  if (auto id = h.get(kContentIdentifier)) {
    HANSA_ASSIGN_OR_RETURN(auto value, split_header_value(*id, kContentIdentifier));
    entry.content_identifier = value.value;
    entry.instance = value.param("instance");
  }
  if (auto name = h.get(kContentFileName)) {
    entry.content_file_name = std::string(*name);
  }
  auto hash = crypto::base64_decode(part.body);
  if (!hash.ok() || hash->size() != crypto::digest_size(entry.hash_algorithm)) {
    return malformed(where + " does not hold a " +
                         std::string(crypto::digest_id(entry.hash_algorithm)) + " digest",
                     entry.content_location);
  }
  entry.hash = std::move(hash).value();
  return entry;
}

Result<int> parse_version(std::string_view text) {
  text = trim(text);
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return invalid("unknown configuration version", std::string(text));
  }
  return v;
}

bool has_crlf(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

}  // namespace

std::vector<const DirectoryEntry*> SignedDirectory::find(
    std::string_view content_identifier, std::optional<std::string_view> instance) const {
  std::vector<const DirectoryEntry*> out;
  for (const DirectoryEntry& e : entries) {
    if (e.content_identifier != content_identifier) {
      continue;
    }
    if (instance && (!e.instance || *e.instance != *instance)) {
      continue;
    }
    out.push_back(&e);
  }
  return out;
}

Result<SignedDirectory> verify_signed_directory(
    const mime::ContentType& content_type, std::string_view body,
    std::span<const crypto::Certificate> verification_certs,
    const DirectoryVerifyOptions& options) {
  if (body.size() > options.max_directory_bytes) {
    return Error(FaultCode::kLimitExceeded, "signed directory is too large",
                 std::to_string(body.size()) + " bytes")
        .wrapped(FaultCode::kMalformedGlobalConf);
  }
  if (!content_type.is_multipart()) {
    return malformed("signed directory is not a multipart", content_type.mime_type());
  }
  auto outer = mime::parse_multipart(body, content_type, options.mime_limits, true);
  if (!outer.ok()) {
    return from_mime(outer.error());
  }
  // PR-GCONF 2.3: exactly two parts, the directory and its signature.
  if (outer->parts.size() != 2) {
    return malformed("signed directory must have two parts",
                     std::to_string(outer->parts.size()) + " parts");
  }
  const mime::Part& dir_part = outer->parts[0];
  const mime::Part& sig_part = outer->parts[1];
  auto dir_type = dir_part.content_type();
  if (!dir_type.ok() || !dir_type->is("multipart/mixed") || dir_part.nested == nullptr) {
    return malformed("first part is not a multipart/mixed directory");
  }
  const std::vector<mime::Part>& items = dir_part.nested->parts;
  if (items.empty() || items.size() - 1 > options.max_entries) {
    return Error(FaultCode::kLimitExceeded, "directory entry count out of range",
                 std::to_string(items.size()))
        .wrapped(FaultCode::kMalformedGlobalConf);
  }

  // PR-GCONF 2.4: the header-only first entry.
  SignedDirectory dir;
  const mime::Part& first = items[0];
  if (!trim(first.body).empty()) {
    return malformed("the first directory entry must be header-only");
  }
  HANSA_ASSIGN_OR_RETURN(std::string expire_text,
                         required(first.headers, kExpireDate, "directory header"));
  auto expires = parse_utc(trim(expire_text));
  if (!expires.ok()) {
    return malformed("bad Expire-date", expire_text);
  }
  dir.expires_at = *expires;
  auto version_text = first.headers.get(kVersion);
  for (std::size_t i = 1; i < items.size(); ++i) {
    HANSA_ASSIGN_OR_RETURN(auto entry, read_entry(items[i], i));
    dir.entries.push_back(std::move(entry));
  }

  // PR-GCONF 2.3: the signature part.
  HANSA_ASSIGN_OR_RETURN(std::string alg_text,
                         required(sig_part.headers, kSignatureAlgorithmId, "signature part"));
  auto alg = crypto::signature_from_uri(trim(alg_text));
  if (!alg) {
    alg = crypto::signature_from_id(trim(alg_text));
  }
  if (!alg) {
    return malformed("unsupported signature algorithm", alg_text);
  }
  dir.signature_algorithm = *alg;
  HANSA_ASSIGN_OR_RETURN(std::string cert_hash_text,
                         required(sig_part.headers, kVerificationCertHash, "signature part"));
  HANSA_ASSIGN_OR_RETURN(auto cert_hash_value,
                         split_header_value(cert_hash_text, kVerificationCertHash));
  auto cert_hash_alg_id = cert_hash_value.param("hash-algorithm-id");
  if (!cert_hash_alg_id) {
    return malformed("Verification-certificate-hash lacks hash-algorithm-id", cert_hash_text);
  }
  HANSA_ASSIGN_OR_RETURN(auto cert_hash_alg, digest_algorithm(*cert_hash_alg_id));
  auto cert_hash = crypto::base64_decode(cert_hash_value.value);
  if (!cert_hash.ok() || cert_hash->size() != crypto::digest_size(cert_hash_alg)) {
    return malformed("Verification-certificate-hash is not a digest", cert_hash_text);
  }
  auto signature = crypto::base64_decode(sig_part.body);
  if (!signature.ok() || signature->empty()) {
    return malformed("signature is not base64");
  }

  // Key rotation: any certificate of the anchor may have signed.
  const crypto::Certificate* signer = nullptr;
  for (const crypto::Certificate& cert : verification_certs) {
    if (cert.fingerprint(cert_hash_alg) == *cert_hash) {
      signer = &cert;
      break;
    }
  }
  if (signer == nullptr) {
    return invalid("no verification certificate of the anchor matches the directory's",
                   cert_hash_value.value);
  }
  // The signed bytes: the raw first part body, from the inner opening boundary through the CRLF
  // after the inner closing boundary.
  if (auto st = signer->public_key().verify(*alg, dir_part.body, *signature); !st.ok()) {
    return invalid("directory signature does not verify: " + st.error().message, st.error().detail);
  }
  dir.verification_cert = *signer;

  // PR-GCONF 2.7.
  if (version_text) {
    HANSA_ASSIGN_OR_RETURN(dir.version, parse_version(*version_text));
    if (std::find(options.accepted_versions.begin(), options.accepted_versions.end(),
                  dir.version) == options.accepted_versions.end()) {
      return invalid("unsupported configuration version", std::string(*version_text));
    }
  } else if (!options.allow_missing_version) {
    return invalid("directory has no Version");
  }

  if (options.now >= dir.expires_at) {
    return Error(FaultCode::kOutdatedGlobalConf, "global configuration has expired",
                 "Expire-date " + format_utc(dir.expires_at));
  }
  return dir;
}

Result<SignedDirectory> verify_signed_directory(const mime::ContentType& content_type,
                                                std::string_view body,
                                                const ConfigurationAnchor& anchor,
                                                const DirectoryVerifyOptions& options) {
  std::vector<crypto::Certificate> certs;
  for (const AnchorSource& s : anchor.sources) {
    certs.insert(certs.end(), s.verification_certs.begin(), s.verification_certs.end());
  }
  HANSA_ASSIGN_OR_RETURN(auto dir, verify_signed_directory(content_type, body, certs, options));
  bool names_anchor_instance = false;
  for (const DirectoryEntry& e : dir.entries) {
    bool ours = e.instance && *e.instance == anchor.instance_identifier;
    names_anchor_instance = names_anchor_instance || ours;
    if (e.content_identifier == kPrivateParametersContentId && !ours) {
      return invalid("private parameters of another instance than the anchor's",
                     e.instance.value_or("(none)") + " != " + anchor.instance_identifier);
    }
  }
  if (!names_anchor_instance) {
    return invalid("directory lists nothing for the anchor's instance", anchor.instance_identifier);
  }
  return dir;
}

Result<SignedDirectory> verify_signed_directory_file(std::string_view file,
                                                     const ConfigurationAnchor& anchor,
                                                     const DirectoryVerifyOptions& options) {
  if (file.size() > options.max_directory_bytes + options.mime_limits.max_header_block_size) {
    return Error(FaultCode::kLimitExceeded, "signed directory file is too large",
                 std::to_string(file.size()) + " bytes")
        .wrapped(FaultCode::kMalformedGlobalConf);
  }
  auto entity = mime::parse_entity(file, options.mime_limits);
  if (!entity.ok()) {
    return from_mime(entity.error());
  }
  auto type_text = entity->headers.get("Content-Type");
  if (!type_text) {
    return malformed("signed directory file lacks Content-Type");
  }
  auto type = mime::ContentType::parse(*type_text);
  if (!type.ok()) {
    return malformed("bad Content-Type of signed directory", std::string(*type_text));
  }
  return verify_signed_directory(*type, entity->body, anchor, options);
}

Status verify_file(const DirectoryEntry& entry, std::string_view file_bytes) {
  if (crypto::digest(entry.hash_algorithm, file_bytes) != entry.hash) {
    return invalid("downloaded file does not match its directory hash", entry.content_location);
  }
  return ok_status();
}

std::vector<crypto::Certificate> SigningKeys::certificates() const {
  std::vector<crypto::Certificate> out;
  for (const SigningKey& k : keys) {
    out.push_back(k.cert);
  }
  return out;
}

std::string BuiltDirectory::to_file() const {
  return "Content-Type: " + content_type.to_string() + "\r\n\r\n" + body;
}

// PR-GCONF 2.3 and 2.4, laid out as X-Road's central server writes it.
Result<BuiltDirectory> build_signed_directory(std::span<const DirectoryFile> files,
                                              const SigningKey& key,
                                              const DirectoryBuildOptions& options) {
  std::vector<mime::OutgoingPart> items;
  items.push_back(mime::OutgoingPart{
      mime::HeaderList{{std::string(kExpireDate), format_utc(options.expires_at)},
                       {std::string(kVersion), std::to_string(options.version)}},
      {},
      true});
  for (const DirectoryFile& f : files) {
    if (f.content_identifier.empty() || f.content_location.empty()) {
      return invalid("directory file without content identifier or location", f.content_location);
    }
    if (has_crlf(f.content_identifier) || has_crlf(f.content_location) || has_crlf(f.instance) ||
        f.instance.find('\'') != std::string::npos ||
        f.content_identifier.find(';') != std::string::npos) {
      return invalid("directory file entry holds characters not allowed in a header",
                     f.content_location);
    }
    std::string identifier = f.content_identifier;
    if (!f.instance.empty()) {
      identifier += "; instance='" + f.instance + "'";
    }
    mime::HeaderList headers{
        {std::string(kContentType), std::string(kOctetStream)},
        {std::string(kContentTransferEncoding), "base64"},
        {std::string(kContentIdentifier), std::move(identifier)},
        {std::string(kContentLocation), f.content_location},
        {std::string(kHashAlgorithmId), std::string(crypto::digest_uri(options.hash_algorithm))}};
    items.push_back(mime::OutgoingPart{
        std::move(headers),
        crypto::base64_encode(crypto::digest(options.hash_algorithm, f.content)), false});
  }
  std::string inner_boundary = mime::random_boundary();
  auto inner = mime::write_multipart(inner_boundary, items);
  if (!inner.ok()) {
    return std::move(inner).error();
  }
  HANSA_ASSIGN_OR_RETURN(auto signature, key.key.sign(key.algorithm, *inner));

  mime::ContentType inner_type("multipart", "mixed");
  inner_type.set_param("charset", "UTF-8");
  inner_type.set_param("boundary", inner_boundary);
  std::string cert_hash = crypto::base64_encode(key.cert.fingerprint(options.cert_hash_algorithm)) +
                          "; hash-algorithm-id=\"" +
                          std::string(crypto::digest_uri(options.cert_hash_algorithm)) + "\"";
  std::vector<mime::OutgoingPart> parts;
  parts.push_back(mime::OutgoingPart{mime::HeaderList{{"Content-Type", inner_type.to_string()}},
                                     std::move(inner).value(), false});
  parts.push_back(mime::OutgoingPart{
      mime::HeaderList{
          {"Content-Type", std::string(kOctetStream)},
          {"Content-Transfer-Encoding", "base64"},
          {"Signature-Algorithm-Id", std::string(crypto::signature_uri(key.algorithm))},
          {std::string(kVerificationCertHash), std::move(cert_hash)}},
      crypto::base64_encode(signature), false});
  std::string outer_boundary = mime::random_boundary();
  auto outer = mime::write_multipart(outer_boundary, parts);
  if (!outer.ok()) {
    return std::move(outer).error();
  }
  BuiltDirectory built{mime::ContentType("multipart", "related"), std::move(outer).value()};
  built.content_type.set_param("charset", "UTF-8");
  built.content_type.set_param("boundary", outer_boundary);
  return built;
}

Result<BuiltDirectory> build_signed_directory(std::span<const DirectoryFile> files,
                                              const SigningKeys& keys,
                                              const DirectoryBuildOptions& options) {
  if (keys.current >= keys.keys.size()) {
    return Error(FaultCode::kInvalidConfiguration, "no current signing key",
                 std::to_string(keys.current) + " of " + std::to_string(keys.keys.size()));
  }
  return build_signed_directory(files, keys.keys[keys.current], options);
}

}  // namespace hansa::globalconf
