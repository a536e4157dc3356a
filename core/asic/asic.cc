#include "core/asic/asic.h"

#include <zip.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <set>

#include "core/crypto/encoding.h"

namespace hansa::asic {
namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct SourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};
struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;
using SourcePtr = std::unique_ptr<zip_source_t, SourceFree>;
using FilePtr = std::unique_ptr<zip_file_t, FileCloser>;

Error malformed(std::string message, std::string detail = {}) {
  return Error(FaultCode::kAsicMalformed, std::move(message), std::move(detail));
}

Status check_name(std::string_view name, std::size_t max) {
  if (name.empty() || name.size() > max) {
    return malformed("Entry name empty or too long", std::string(name.substr(0, 64)));
  }
  if (name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find(':') != std::string_view::npos) {
    return malformed("Entry name is an absolute path or uses backslashes", std::string(name));
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return malformed("Entry name holds control characters");
    }
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    std::string_view seg = name.substr(start, end - start);
    if (seg == ".." || seg == ".") {
      return malformed("Entry name escapes the container (path traversal)", std::string(name));
    }
    start = end + 1;
  }
  return ok_status();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::size_t> attachment_index(std::string_view name) {
  constexpr std::string_view kPrefix = "attachment";
  if (name.substr(0, kPrefix.size()) != kPrefix || name.size() == kPrefix.size() ||
      name.size() > kPrefix.size() + 6) {
    return std::nullopt;
  }
  std::size_t n = 0;
  auto tail = name.substr(kPrefix.size());
  auto [ptr, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), n);
  if (ec != std::errc() || ptr != tail.data() + tail.size() || n == 0 || tail[0] == '0') {
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::string attachment_entry(std::size_t index) { return "attachment" + std::to_string(index); }

const std::string* Container::find(std::string_view name) const {
  for (const auto& e : entries) {
    if (e.name == name) {
      return &e.data;
    }
  }
  return nullptr;
}

Result<std::vector<Entry>> read_zip(std::string_view zip_bytes, const ReadLimits& limits) {
  if (zip_bytes.size() > limits.max_zip_bytes) {
    return Error(FaultCode::kLimitExceeded, "Zip file too large", std::to_string(zip_bytes.size()));
  }
  zip_error_t err;
  zip_error_init(&err);
  SourcePtr src(zip_source_buffer_create(zip_bytes.data(), zip_bytes.size(), 0, &err));
  if (!src) {
    zip_error_fini(&err);
    return Error(FaultCode::kInternalError, "Cannot create zip source");
  }
  ZipPtr za(zip_open_from_source(src.get(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (!za) {
    std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    return malformed("Not a readable zip file", why);
  }
  zip_error_fini(&err);
  src.release();  // owned by the archive now
  zip_int64_t n = zip_get_num_entries(za.get(), 0);
  if (n < 0 || static_cast<std::size_t>(n) > limits.max_entries) {
    return Error(FaultCode::kLimitExceeded, "Too many zip entries", std::to_string(n));
  }
  std::vector<Entry> out;
  std::set<std::string, std::less<>> names;
  std::size_t total = 0;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za.get(), static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW, &st) != 0 ||
        !(st.valid & ZIP_STAT_NAME)) {
      return malformed("Unreadable zip entry", std::to_string(i));
    }
    std::string name = st.name;
    HANSA_RETURN_IF_ERROR(check_name(name, limits.max_name_bytes));
    if (!names.insert(name).second) {
      return malformed("Duplicate zip entry", name);
    }
    if (name.back() == '/') {
      continue;  // directory
    }
    if ((st.valid & ZIP_STAT_SIZE) && st.size > limits.max_entry_bytes) {
      return Error(FaultCode::kLimitExceeded, "Zip entry too large", name);
    }
    FilePtr f(zip_fopen_index(za.get(), static_cast<zip_uint64_t>(i), 0));
    if (!f) {
      return malformed("Cannot open zip entry", name + ": " + zip_strerror(za.get()));
    }
    Entry e;
    e.name = name;
    e.stored = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE;
    char buf[16384];
    for (;;) {
      zip_int64_t got = zip_fread(f.get(), buf, sizeof(buf));
      if (got < 0) {
        return malformed("Corrupt zip entry", name + ": " + zip_file_strerror(f.get()));
      }
      if (got == 0) {
        break;
      }
      e.data.append(buf, static_cast<std::size_t>(got));
      total += static_cast<std::size_t>(got);
      if (e.data.size() > limits.max_entry_bytes) {
        return Error(FaultCode::kLimitExceeded, "Zip entry too large when inflated", name);
      }
      if (total > limits.max_total_bytes) {
        return Error(FaultCode::kLimitExceeded, "Zip contents too large when inflated");
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<Container> read_container(std::string_view zip_bytes, const ReadLimits& limits) {
  Container c;
  HANSA_ASSIGN_OR_RETURN(c.entries, read_zip(zip_bytes, limits));
  auto it = std::find_if(c.entries.begin(), c.entries.end(),
                         [](const Entry& e) { return e.name == kMimeTypeEntry; });
  if (it == c.entries.end()) {
    return malformed("Container has no mimetype entry");
  }
  if (trim(it->data) != kMimeType) {
    return malformed("Container mimetype is not " + std::string(kMimeType), it->data.substr(0, 64));
  }
  if (it != c.entries.begin()) {
    if (limits.strict_mimetype) {
      return malformed("mimetype is not the first entry");
    }
    c.notes.push_back("mimetype is not the first entry");
  }
  if (!it->stored) {
    if (limits.strict_mimetype) {
      return malformed("mimetype is compressed");
    }
    c.notes.push_back("mimetype is compressed");
  }
  return c;
}

Result<ContainerContents> contents_of(const Container& container) {
  ContainerContents out;
  std::map<std::size_t, std::string> attachments;
  bool have_message = false;
  bool have_signature = false;
  for (const auto& e : container.entries) {
    const std::string& n = e.name;
    if (n == kMimeTypeEntry || n == kManifestEntry || n == kAsicManifestEntry) {
      continue;
    }
    if (n == kMessageEntry) {
      out.message = e.data;
      have_message = true;
    } else if (n == kSignatureEntry) {
      out.signature = e.data;
      have_signature = true;
    } else if (n == kSigHashChainResultEntry) {
      out.sig_hash_chain_result = e.data;
    } else if (n == kSigHashChainEntry) {
      out.sig_hash_chain = e.data;
    } else if (n == kTsHashChainResultEntry) {
      out.ts_hash_chain_result = e.data;
    } else if (n == kTsHashChainEntry) {
      out.ts_hash_chain = e.data;
    } else if (n == kTimestampEntry) {
      out.timestamp = e.data;
    } else if (auto idx = attachment_index(n)) {
      attachments[*idx] = e.data;
    } else {
      out.other_entries.push_back(e);
    }
  }
  if (!have_message) {
    return malformed("Container has no message.xml");
  }
  if (!have_signature) {
    return malformed("Container has no META-INF/signatures.xml");
  }
  std::size_t expect = 1;
  for (auto& [idx, data] : attachments) {
    if (idx != expect++) {
      return malformed("Attachments are not numbered 1..N", attachment_entry(idx));
    }
    out.attachments.push_back(std::move(data));
  }
  return out;
}

std::string make_manifest(const ContainerContents& c) {
  std::string m =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest:manifest "
      "xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" "
      "manifest:version=\"1.2\">\n";
  auto add = [&](std::string_view type, std::string_view path) {
    m += "    <manifest:file-entry manifest:media-type=\"";
    m += type;
    m += "\" manifest:full-path=\"";
    m += path;
    m += "\"/>\n";
  };
  add(kMimeType, "/");
  add(c.message_media_type, kMessageEntry);
  if (!c.sig_hash_chain_result.empty()) {
    add("text/xml", kSigHashChainResultEntry);
    add("text/xml", kSigHashChainEntry);
  }
  if (!c.ts_hash_chain_result.empty()) {
    add("text/xml", kTsHashChainResultEntry);
    add("text/xml", kTsHashChainEntry);
  }
  for (std::size_t i = 0; i < c.attachments.size(); ++i) {
    add("application/octet-stream", attachment_entry(i + 1));
  }
  m += "</manifest:manifest>";
  return m;
}

std::string make_asic_manifest(std::string_view ts_hash_chain_result) {
  std::string m = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<asic:ASiCManifest xmlns:asic=\"";
  m += kAsicManifestNamespace;
  m += "\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n";
  m +=
      "<asic:SigReference URI=\"META-INF/timestamp.tst\" MimeType=\"vnd.etsi.timestamp-token\"/>\n";
  m += "<asic:DataObjectReference URI=\"ts-hashchainresult.xml\" MimeType=\"text/xml\">\n";
  m +=
      "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha512\" />\n<ds:DigestValue>";
  m +=
      crypto::base64_encode(crypto::digest(crypto::DigestAlgorithm::kSha512, ts_hash_chain_result));
  m += "</ds:DigestValue>\n</asic:DataObjectReference>\n</asic:ASiCManifest>";
  return m;
}

Result<std::string> write_zip(const std::vector<Entry>& entries) {
  std::set<std::string, std::less<>> names;
  for (const auto& e : entries) {
    auto st = check_name(e.name, 512);
    if (!st.ok() || !names.insert(e.name).second) {
      return Error(FaultCode::kInvalidRequest, "Invalid or duplicate entry name", e.name);
    }
  }
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* raw = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (raw == nullptr) {
    zip_error_fini(&err);
    return Error(FaultCode::kInternalError, "Cannot create zip buffer");
  }
  SourcePtr src(raw);
  zip_source_keep(raw);
  zip_t* za = zip_open_from_source(raw, ZIP_TRUNCATE, &err);
  if (za == nullptr) {
    zip_error_fini(&err);
    return Error(FaultCode::kInternalError, "Cannot open zip for writing");
  }
  zip_error_fini(&err);
  ZipPtr guard(za);
  for (const auto& e : entries) {
    zip_source_t* s = zip_source_buffer(za, e.data.data(), e.data.size(), 0);
    if (s == nullptr) {
      return Error(FaultCode::kInternalError, "Cannot add zip entry", e.name);
    }
    zip_int64_t idx = zip_file_add(za, e.name.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(s);
      return Error(FaultCode::kInternalError, "Cannot add zip entry", e.name);
    }
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx),
                             e.stored ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0);
  }
  if (zip_close(guard.release()) != 0) {
    return Error(FaultCode::kInternalError, "Cannot write zip");
  }
  if (zip_source_open(raw) != 0) {
    return Error(FaultCode::kInternalError, "Cannot read written zip");
  }
  zip_source_seek(raw, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(raw);
  zip_source_seek(raw, 0, SEEK_SET);
  std::string out(static_cast<std::size_t>(std::max<zip_int64_t>(size, 0)), '\0');
  zip_int64_t got = size > 0 ? zip_source_read(raw, out.data(), out.size()) : 0;
  zip_source_close(raw);
  if (got != size) {
    return Error(FaultCode::kInternalError, "Short read of written zip");
  }
  return out;
}

Result<std::string> write_container(const ContainerContents& c) {
  if (c.message.empty() || c.signature.empty()) {
    return Error(FaultCode::kInvalidRequest, "A container needs message.xml and signatures.xml");
  }
  if (!c.ts_hash_chain_result.empty() && (c.timestamp.empty() || c.ts_hash_chain.empty())) {
    return Error(FaultCode::kInvalidRequest,
                 "A batch time-stamp needs the token and the ts hash chain");
  }
  if (c.sig_hash_chain_result.empty() != c.sig_hash_chain.empty()) {
    return Error(FaultCode::kInvalidRequest, "sig hash chain and its result go together");
  }
  std::vector<Entry> e;
  e.push_back({std::string(kMimeTypeEntry), std::string(kMimeType), true});
  e.push_back({std::string(kMessageEntry), c.message, false});
  for (std::size_t i = 0; i < c.attachments.size(); ++i) {
    e.push_back({attachment_entry(i + 1), c.attachments[i], false});
  }
  e.push_back({std::string(kSignatureEntry), c.signature, false});
  if (!c.sig_hash_chain_result.empty()) {
    e.push_back({std::string(kSigHashChainResultEntry), c.sig_hash_chain_result, false});
    e.push_back({std::string(kSigHashChainEntry), c.sig_hash_chain, false});
  }
  if (!c.ts_hash_chain_result.empty()) {
    e.push_back({std::string(kTsHashChainResultEntry), c.ts_hash_chain_result, false});
    e.push_back({std::string(kTsHashChainEntry), c.ts_hash_chain, false});
  }
  e.push_back({std::string(kManifestEntry), make_manifest(c), false});
  if (!c.ts_hash_chain_result.empty()) {
    e.push_back(
        {std::string(kAsicManifestEntry), make_asic_manifest(c.ts_hash_chain_result), false});
    e.push_back({std::string(kTimestampEntry), c.timestamp, false});
  }
  return write_zip(e);
}

Result<LinkingInfo> parse_linking_info(std::string_view text, std::size_t max_entries) {
  LinkingInfo info;
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = trim(text.substr(pos, end - pos));
    if (!line.empty()) {
      lines.push_back(line);
    }
    pos = end + 1;
  }
  if (lines.empty()) {
    return malformed("linkinginfo is empty");
  }
  if (lines.size() - 1 > max_entries) {
    return Error(FaultCode::kLimitExceeded, "Too many linkinginfo entries");
  }
  auto split = [](std::string_view line) {
    std::vector<std::string_view> parts;
    std::size_t p = 0;
    while (p < line.size()) {
      std::size_t e = line.find(' ', p);
      if (e == std::string_view::npos) {
        e = line.size();
      }
      if (e > p) {
        parts.push_back(line.substr(p, e - p));
      }
      p = e + 1;
    }
    return parts;
  };
  auto head = split(lines[0]);
  if (head.size() != 3) {
    return malformed("linkinginfo header must be '<prev|-> <prevFile|-> <ALG>'",
                     std::string(lines[0]));
  }
  auto alg = crypto::digest_from_id(head[2]);
  if (!alg || *alg == crypto::DigestAlgorithm::kSha1) {
    return malformed("Unsupported linkinginfo digest algorithm", std::string(head[2]));
  }
  info.algorithm = *alg;
  if (head[0] != "-") {
    if (!crypto::hex_decode(head[0]).ok()) {
      return malformed("linkinginfo previous digest is not hex");
    }
    info.previous_digest = std::string(head[0]);
  }
  if (head[1] != "-") {
    info.previous_file = std::string(head[1]);
  }
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto parts = split(lines[i]);
    if (parts.size() != 2 || !crypto::hex_decode(parts[0]).ok() ||
        parts[0].size() != 2 * crypto::digest_size(info.algorithm)) {
      return malformed("Bad linkinginfo line " + std::to_string(i + 1), std::string(lines[i]));
    }
    info.entries.push_back({std::string(parts[0]), std::string(parts[1])});
  }
  return info;
}

std::string format_linking_info(const LinkingInfo& info) {
  std::string out = (info.previous_digest.empty() ? "-" : info.previous_digest) + " " +
                    (info.previous_file.empty() ? "-" : info.previous_file) + " " +
                    std::string(crypto::digest_id(info.algorithm)) + "\n";
  for (const auto& e : info.entries) {
    out += e.digest_hex + " " + e.name + "\n";
  }
  return out;
}

std::string link_digest(crypto::DigestAlgorithm algorithm, std::string_view previous_hex,
                        std::string_view container) {
  std::string input(previous_hex);
  input += crypto::hex_encode(crypto::digest(algorithm, container));
  return crypto::hex_encode(crypto::digest(algorithm, input));
}

Result<Archive> read_archive(std::string_view zip_bytes, const ArchiveLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(std::vector<Entry> entries, read_zip(zip_bytes, limits.zip));
  Archive a;
  bool have_linking = false;
  for (auto& e : entries) {
    if (e.name == kLinkingInfoEntry) {
      HANSA_ASSIGN_OR_RETURN(a.linking, parse_linking_info(e.data, limits.zip.max_entries));
      have_linking = true;
    } else if (e.name.size() > 6 && e.name.ends_with(".asice") &&
               e.name.find('/') == std::string::npos) {
      a.containers.push_back({std::move(e.name), std::move(e.data)});
    } else {
      return malformed("Unexpected entry in archive", e.name);
    }
  }
  if (!have_linking) {
    return malformed("Archive has no linkinginfo");
  }
  return a;
}

Result<std::string> verify_linking(const Archive& archive,
                                   const std::optional<std::string>& previous_digest) {
  const LinkingInfo& li = archive.linking;
  std::string prev = li.previous_digest;
  if (previous_digest) {
    auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return s;
    };
    if (lower(*previous_digest) != lower(li.previous_digest)) {
      return Error(FaultCode::kArchiveLinkMismatch,
                   "Archive does not link to the expected previous archive",
                   "expected '" + *previous_digest + "', linkinginfo has '" +
                       (li.previous_digest.empty() ? "-" : li.previous_digest) + "'");
    }
    prev = *previous_digest;
  }
  std::map<std::string_view, const ArchiveEntry*> by_name;
  for (const auto& c : archive.containers) {
    by_name[c.name] = &c;
  }
  std::set<std::string_view> listed;
  for (std::size_t i = 0; i < li.entries.size(); ++i) {
    const LinkingEntry& le = li.entries[i];
    if (!listed.insert(le.name).second) {
      return malformed("Container listed twice in linkinginfo", le.name);
    }
    auto it = by_name.find(le.name);
    if (it == by_name.end()) {
      return Error(FaultCode::kArchiveLinkMismatch, "Container listed in linkinginfo is missing",
                   le.name);
    }
    std::string d = link_digest(li.algorithm, prev, it->second->container);
    std::string expected = le.digest_hex;
    std::transform(expected.begin(), expected.end(), expected.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (d != expected) {
      return Error(FaultCode::kArchiveLinkMismatch,
                   "Link " + std::to_string(i + 1) + " does not match (" + le.name + ")",
                   "recomputed " + d);
    }
    prev = d;
  }
  for (const auto& c : archive.containers) {
    if (!listed.contains(c.name)) {
      return malformed("Container is not listed in linkinginfo", c.name);
    }
  }
  return prev;
}

Result<WrittenArchive> write_archive(const std::vector<ArchiveEntry>& containers,
                                     std::string_view previous_digest,
                                     std::string_view previous_file,
                                     crypto::DigestAlgorithm algorithm) {
  if (containers.empty()) {
    return Error(FaultCode::kInvalidRequest, "An archive needs at least one container");
  }
  LinkingInfo li;
  li.previous_digest = std::string(previous_digest);
  li.previous_file = std::string(previous_file);
  li.algorithm = algorithm;
  if (li.previous_file.find_first_of(" \n\r") != std::string::npos) {
    return Error(FaultCode::kInvalidRequest, "Invalid previous archive name");
  }
  std::string prev(previous_digest);
  std::vector<Entry> entries;
  for (const auto& c : containers) {
    if (!c.name.ends_with(".asice") || c.name.find_first_of(" /\n\r") != std::string::npos) {
      return Error(FaultCode::kInvalidRequest, "Invalid container name", c.name);
    }
    prev = link_digest(algorithm, prev, c.container);
    li.entries.push_back({prev, c.name});
    entries.push_back({c.name, c.container, false});
  }
  entries.push_back({std::string(kLinkingInfoEntry), format_linking_info(li), false});
  HANSA_ASSIGN_OR_RETURN(std::string zip, write_zip(entries));
  return WrittenArchive{std::move(zip), std::move(prev)};
}

}  // namespace hansa::asic
