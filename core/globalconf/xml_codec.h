#pragma once

// XML form of the global configuration (PR-GCONF Annex B, C, E): parsing shared-params.xml,
// private-params.xml and configuration anchors into the model of core/globalconf/model.h, and
// writing them back.
//
// Parsing is hardened (core/xml: no DOCTYPE, no entities, no network, size and depth limits),
// then the document is validated against Hansa's own schemas in schemas/globalconf/ (compiled
// into the library), then read into the model, checking identifiers, base64 certificates and
// references (owner and client IDREFs). The schemas accept X-Road's files of versions 2 to 6
// (same namespace and root element; later versions only add optional elements).
//
// Fault codes: MalformedGlobalConf (not XML, DOCTYPE/entities, schema violation, bad base64 or
// certificate), InvalidGlobalConf (well-formed but inconsistent: a reference to an unknown member,
// a member of another instance, a broken identifier), LimitExceeded with the path
// MalformedGlobalConf (a GlobalConfLimits or core/xml ParseLimits field).
//
// Writing is deterministic: the same model always gives the same bytes (elements in schema order,
// members/subsystems given ids "id0", "id1", ... in model order, 4-space indentation, LF line
// ends). Output validates against the same schemas. Writing fails with InvalidGlobalConf when the
// model cannot be expressed (a server client that is not among the members, an owner that is not
// a member, a member of another instance).
//
// Threading: pure functions; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/crypto/digest.h"
#include "core/errors/errors.h"
#include "core/globalconf/model.h"

namespace hansa::globalconf {

// Limits on untrusted configuration files. Defaults fit the largest real X-Road instances with a
// wide margin.
struct GlobalConfLimits {
  // One XML file (shared or private parameters, anchor), in bytes.
  std::size_t max_file_bytes = 32 * 1024 * 1024;
  // Element nesting depth (the format needs 6).
  std::size_t max_depth = 32;
  // Elements in one file.
  std::size_t max_elements = 2'000'000;
  // One text node (a base64 certificate is a few kB).
  std::size_t max_text_bytes = 1024 * 1024;
};

// Parses and validates shared-params.xml. See the file comment for codes.
[[nodiscard]] Result<SharedParameters> parse_shared_parameters(std::string_view xml,
                                                               const GlobalConfLimits& limits = {});
// Parses and validates private-params.xml.
[[nodiscard]] Result<PrivateParameters> parse_private_parameters(
    std::string_view xml, const GlobalConfLimits& limits = {});
// Parses and validates a configuration anchor file (root configurationAnchor; generatedAt is
// optional, as in X-Road's schema).
[[nodiscard]] Result<ConfigurationAnchor> parse_configuration_anchor(
    std::string_view xml, const GlobalConfLimits& limits = {});

// Writes shared-params.xml (UTF-8, with XML declaration). InvalidGlobalConf when the model is
// inconsistent (see file comment).
[[nodiscard]] Result<std::string> write_shared_parameters(const SharedParameters& params);
// Writes private-params.xml.
[[nodiscard]] Result<std::string> write_private_parameters(const PrivateParameters& params);
// Writes a configuration anchor file. InvalidGlobalConf without generated_at or sources.
[[nodiscard]] Result<std::string> write_configuration_anchor(const ConfigurationAnchor& anchor);

// The hash of an anchor file as distributed out of band with it (PR-GCONF 2.2): the digest of the
// file bytes, upper-case hex in colon-separated pairs ("AB:CD:..."), as X-Road shows it. X-Road
// uses SHA-224 for anchors.
[[nodiscard]] std::string configuration_anchor_hash(
    std::string_view anchor_file, crypto::DigestAlgorithm alg = crypto::DigestAlgorithm::kSha224);

// ISO 8601 UTC with milliseconds when not whole seconds ("2025-11-05T22:10:45.770Z",
// "2035-11-11T03:07:40Z"): the form of generatedAt and the directory's Expire-date.
[[nodiscard]] std::string format_utc(TimePoint time);
// Parses xs:dateTime in UTC ("Z" or "+00:00"; other offsets are converted; fractions kept to
// milliseconds). MalformedGlobalConf on bad input.
[[nodiscard]] Result<TimePoint> parse_utc(std::string_view text);

}  // namespace hansa::globalconf
