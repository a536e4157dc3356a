#pragma once

// Parsing of service description documents into services and endpoints.
//
// WSDL 1.1 (PR-MESS 3.2): document/literal wrapped; every operation of a SOAP binding is one
// service whose code is the operation name and whose version is its xrd:version; the title is
// portType/operation/documentation/xrd:title; the provider URL is the first soap:address.
// OpenAPI 3.x (JSON or YAML; PR-REST, security server user guide 6.7): one REST service; one
// endpoint per path and HTTP method; the provider URL is servers[0].url (variables replaced by
// their defaults).
//
// Untrusted input: every document is checked against DescriptionLimits before any parser sees it
// (size first, then nesting depth and node count), and nothing here touches the network.
// Threading: plain functions, safe to call concurrently.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/errors/errors.h"
#include "node/serverconf/model.h"

namespace hansa::serverconf {

// Limits on description documents and on fetching them. Every field has a safe default.
struct DescriptionLimits {
  // Documents larger than this are refused (LimitExceeded) before parsing or while downloading.
  std::size_t max_document_bytes = 10 * 1024 * 1024;
  // Deepest nesting of XML elements (WSDL) or of JSON/YAML collections (OpenAPI).
  std::size_t max_depth = 64;
  // Most JSON/YAML values walked in one OpenAPI document (bounds YAML alias expansion too).
  std::size_t max_nodes = 1'000'000;
  // Most XML elements in one WSDL.
  std::size_t max_xml_elements = 500'000;
  // Most services in one WSDL and most endpoints in one OpenAPI document.
  std::size_t max_services = 10'000;
  std::size_t max_endpoints = 10'000;
  // Bounds on fetching a document from a URL: connecting, and the whole download.
  std::chrono::milliseconds fetch_connect_timeout{5'000};
  std::chrono::milliseconds fetch_timeout{30'000};
};

// Parses a WSDL. Fails with LimitExceeded (size, depth, element count, too many operations),
// InvalidXml (not well-formed, DOCTYPE) or InvalidRequest with a message saying what is wrong
// (not a WSDL 1.1 document, no SOAP binding, no operations, rpc style or encoded use, bad or
// duplicate service code/version, no soap:address and no `url_override`). `url_override`, when
// given, replaces the soap:address as the provider URL of every service.
[[nodiscard]] Result<ParsedDescription> parse_wsdl(
    std::string_view document, const DescriptionLimits& limits = {},
    const std::optional<std::string>& url_override = std::nullopt);

// Parses an OpenAPI 3 document (JSON when it starts with "{", YAML otherwise) into one REST
// service with code `service_code`. Fails with LimitExceeded (size, depth, node count, too many
// endpoints) or InvalidRequest (syntax error, not OpenAPI 3.x, no paths, a path not starting with
// "/", an unknown method under a path, no usable servers[0].url and no `url_override`).
[[nodiscard]] Result<ParsedDescription> parse_openapi(
    std::string_view document, std::string_view service_code, const DescriptionLimits& limits = {},
    const std::optional<std::string>& url_override = std::nullopt);

// A REST service given by its base URL: one service, the `* **` endpoint only. Fails with
// InvalidRequest for a URL that is not http(s)://host... .
[[nodiscard]] Result<ParsedDescription> rest_description(std::string_view service_code,
                                                         std::string_view base_url);

// Checks a provider or description URL: http:// or https:// with a host, no whitespace or control
// characters, at most 2048 bytes. InvalidRequest otherwise.
[[nodiscard]] Status validate_url(std::string_view url);

// Downloads a description document. Must honour the limits (size cap, timeouts) and fail with
// LimitExceeded, Timeout, NetworkError or InvalidRequest (non-2xx status, bad URL).
using DescriptionFetcher =
    std::function<Result<std::string>(std::string_view url, const DescriptionLimits& limits)>;

// Options of the HTTP fetcher: trust settings for https:// description URLs.
struct FetchTlsOptions {
  std::string ca_pem;  // trust anchors for https://; without them https URLs are refused
  bool verify_hostname = true;
};

// A DescriptionFetcher over core/http (GET, no redirects followed).
[[nodiscard]] DescriptionFetcher make_http_fetcher(FetchTlsOptions tls = {});

}  // namespace hansa::serverconf
