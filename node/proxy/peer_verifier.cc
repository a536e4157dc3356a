#include "node/proxy/peer_verifier.h"

#include <utility>

#include <algorithm>

#include "core/crypto/parse_memo.h"
#include "core/crypto/trust_store.h"
#include "core/ocsp/response.h"

namespace hansa::proxy {

namespace {

Error ssl_failed(std::string message, const Error& cause) {
  return Error(FaultCode::kSslAuthenticationFailed, std::move(message), cause.to_string());
}

Error ssl_failed(std::string message, std::string detail = {}) {
  return Error(FaultCode::kSslAuthenticationFailed, std::move(message), std::move(detail));
}

constexpr std::size_t kPeersKept = 256;

// OCSP verification options for `issuer`'s certificates under `conf`.
ocsp::VerifyOptions ocsp_options(const crypto::Certificate& issuer,
                                 const globalconf::GlobalConfSnapshot& conf) {
  ocsp::VerifyOptions opts;
  opts.ocsp_freshness_seconds = conf.ocsp_freshness_seconds();
  for (const auto& responder : conf.ocsp_responders(issuer)) {
    if (responder.cert) {
      opts.trusted_responders.push_back(responder.cert->der());
    }
  }
  return opts;
}

std::string peer_key(const http::CertChain& chain, const std::vector<std::string>& ocsp_der,
                     const globalconf::GlobalConfSnapshot& conf) {
  std::string key;
  crypto::append_key_number(key, conf.generation());
  crypto::append_key_number(key, chain.size());
  for (const auto& der : chain) {
    crypto::append_key_part(key, der);
  }
  for (const auto& der : ocsp_der) {
    crypto::append_key_part(key, der);
  }
  return key;
}

}  // namespace

struct PeerVerifier::OcspDecision {
  std::size_t index = 0;
  ocsp::OcspResponse response;
  std::string signer_der;
  ocsp::VerifyOptions options;
};

struct PeerVerifier::Memo {
  struct Entry {
    PeerIdentity identity;
    ocsp::StableWindow window;
  };
  crypto::ParseMemo<Entry> entries{kPeersKept};
};

std::shared_ptr<const PeerIdentity> PeerVerifier::remembered(const std::string& key,
                                                             TimePoint at) const {
  auto entry = memo_->entries.find(key);
  if (entry == nullptr || !entry->window.contains(at)) {
    return nullptr;
  }
  return std::shared_ptr<const PeerIdentity>(entry, &entry->identity);
}

void PeerVerifier::remember(const std::string& key, const PeerIdentity& identity,
                            const OcspDecision& decision) const {
  if (decision.index != 0) {
    return;  // an earlier response may decide differently at another time: not remembered
  }
  auto entry = std::make_shared<Memo::Entry>(
      Memo::Entry{identity, ocsp::stable_window(decision.response, decision.options,
                                                decision.signer_der, identity.chain)});
  memo_->entries.insert(key, std::move(entry));
}

PeerVerifier::PeerVerifier(GlobalConfSource conf, PeerVerifierOptions options)
    : conf_(std::move(conf)), options_(std::move(options)), memo_(std::make_shared<Memo>()) {
  HANSA_CHECK(conf_ != nullptr);
  if (!options_.clock) {
    options_.clock = [] { return std::chrono::system_clock::now(); };
  }
}

Result<std::shared_ptr<const globalconf::GlobalConfSnapshot>> PeerVerifier::usable_conf(
    TimePoint at) const {
  auto conf = conf_();
  if (conf == nullptr) {
    return Error(FaultCode::kOutdatedGlobalConf, "No global configuration is loaded");
  }
  HANSA_RETURN_IF_ERROR(conf->check_valid(at));
  return conf;
}

Result<PeerIdentity> PeerVerifier::check_chain(const http::CertChain& chain,
                                               const globalconf::GlobalConfSnapshot& conf,
                                               TimePoint at) const {
  if (chain.empty()) {
    return ssl_failed("The peer did not present a TLS certificate");
  }
  if (chain.size() > options_.max_chain_certs) {
    return ssl_failed("The peer's TLS certificate chain is too long",
                      std::to_string(chain.size()) + " certificates");
  }
  std::vector<crypto::Certificate> certs;
  certs.reserve(chain.size());
  for (const auto& der : chain) {
    auto cert = crypto::Certificate::from_der(der);
    if (!cert.ok()) {
      return ssl_failed("The peer's TLS certificate does not parse", cert.error());
    }
    certs.push_back(std::move(cert).value());
  }
  const crypto::Certificate& leaf = certs.front();
  if (conf.approved_ca_for(leaf) == nullptr) {
    return ssl_failed("The peer's authentication certificate is not issued by an approved CA",
                      leaf.issuer());
  }
  crypto::TrustStore store;
  for (auto& ca : conf.ca_certificates()) {
    store.add_anchor(ca);
  }
  std::vector<crypto::Certificate> extra(certs.begin() + 1, certs.end());
  auto verified = store.verify(leaf, at, crypto::CertPurpose::kAuthentication, extra);
  if (!verified.ok()) {
    return ssl_failed("The peer's authentication certificate chain does not verify",
                      verified.error());
  }
  auto server = conf.server_by_auth_cert(leaf);
  if (!server) {
    return ssl_failed(
        "The peer's authentication certificate is not registered for any security server",
        leaf.subject());
  }
  return PeerIdentity{std::move(*server), leaf, std::move(verified).value()};
}

Result<PeerIdentity> PeerVerifier::handshake_check(const http::CertChain& chain) const {
  TimePoint at = options_.clock();
  HANSA_ASSIGN_OR_RETURN(auto conf, usable_conf(at));
  return check_chain(chain, *conf, at);
}

http::PeerVerifier PeerVerifier::handshake_hook() const {
  return [this](const http::CertChain& chain) -> Status {
    auto identity = handshake_check(chain);
    if (!identity.ok()) {
      return std::move(identity).error();
    }
    return ok_status();
  };
}

Result<PeerVerifier::OcspDecision> PeerVerifier::decide_ocsp(
    const crypto::Certificate& cert, const crypto::Certificate& issuer,
    const std::vector<std::string>& ocsp_der, const globalconf::GlobalConfSnapshot& conf,
    TimePoint at, std::size_t max_responses) {
  if (ocsp_der.empty()) {
    return Error(FaultCode::kCertValidation, "No OCSP response for the certificate",
                 cert.subject());
  }
  ocsp::VerifyOptions opts = ocsp_options(issuer, conf);
  std::optional<Error> first_error;
  const std::size_t looked_at = std::min(ocsp_der.size(), max_responses);
  for (std::size_t i = 0; i < looked_at; ++i) {
    auto response = ocsp::OcspResponse::parse(ocsp_der[i]);
    if (!response.ok()) {
      if (!first_error) {
        first_error = Error(FaultCode::kCertValidation, "OCSP response does not parse",
                            response.error().to_string());
      }
      continue;
    }
    // Several responses may come (one per chain certificate): find the one about `cert`.
    auto signer = ocsp::verify_validity(*response, cert.der(), issuer.der(), at, opts);
    if (!signer.ok()) {
      if (!first_error) {
        first_error = signer.error();
      }
      continue;
    }
    switch (response->status()) {
      case ocsp::CertStatus::kGood:
        return OcspDecision{i, std::move(response).value(), std::move(signer).value(),
                            std::move(opts)};
      case ocsp::CertStatus::kRevoked:
        return Error(FaultCode::kCertValidation, "The certificate is revoked", cert.subject());
      case ocsp::CertStatus::kUnknown:
        return Error(FaultCode::kCertValidation, "OCSP status of the certificate is unknown",
                     cert.subject());
    }
  }
  Error e = first_error.value_or(
      Error(FaultCode::kCertValidation, "No usable OCSP response for the certificate"));
  e.code = FaultCode::kCertValidation;
  return e;
}

Status PeerVerifier::check_ocsp(const crypto::Certificate& cert, const crypto::Certificate& issuer,
                                const std::vector<std::string>& ocsp_der,
                                const globalconf::GlobalConfSnapshot& conf, TimePoint at,
                                std::size_t max_responses) {
  auto decision = decide_ocsp(cert, issuer, ocsp_der, conf, at, max_responses);
  if (!decision.ok()) {
    return std::move(decision).error();
  }
  return ok_status();
}

Result<PeerIdentity> PeerVerifier::verify_client_node(
    const http::CertChain& chain, const ids::ClientId& client,
    const std::vector<std::string>& ocsp_der) const {
  TimePoint at = options_.clock();
  HANSA_ASSIGN_OR_RETURN(auto conf, usable_conf(at));
  const std::string key = peer_key(chain, ocsp_der, *conf);
  bool known = false;
  HANSA_ASSIGN_OR_RETURN(PeerIdentity identity, peer_identity(chain, *conf, at, key, known));
  if (!conf->is_auth_cert_of_client_server(identity.auth_cert, client)) {
    return ssl_failed(
        "The peer's authentication certificate is not registered for a security "
        "server hosting the client",
        client.to_string() + " (peer " + identity.server.to_string() + ")");
  }
  if (!known) {
    if (ocsp_der.empty()) {
      return ssl_failed("Cannot verify TLS certificate, corresponding OCSP response is missing");
    }
    HANSA_ASSIGN_OR_RETURN(auto decision, check_peer_ocsp(identity, ocsp_der, *conf, at));
    remember(key, identity, decision);
  }
  return identity;
}

Result<PeerIdentity> PeerVerifier::verify_service_node(
    const http::CertChain& chain, const ids::SecurityServerId& target,
    const std::vector<std::string>& ocsp_der) const {
  TimePoint at = options_.clock();
  HANSA_ASSIGN_OR_RETURN(auto conf, usable_conf(at));
  const std::string key = peer_key(chain, ocsp_der, *conf);
  bool known = false;
  HANSA_ASSIGN_OR_RETURN(PeerIdentity identity, peer_identity(chain, *conf, at, key, known));
  if (!conf->is_auth_cert_of_server(identity.auth_cert, target)) {
    return ssl_failed(
        "The peer's authentication certificate is not registered for the target security server",
        target.to_string() + " (certificate of " + identity.server.to_string() + ")");
  }
  if (!known) {
    HANSA_ASSIGN_OR_RETURN(auto decision, check_peer_ocsp(identity, ocsp_der, *conf, at));
    remember(key, identity, decision);
  }
  return identity;
}

Result<PeerIdentity> PeerVerifier::peer_identity(const http::CertChain& chain,
                                                 const globalconf::GlobalConfSnapshot& conf,
                                                 TimePoint at, const std::string& key,
                                                 bool& known) const {
  if (auto identity = remembered(key, at)) {
    known = true;
    return *identity;
  }
  known = false;
  return check_chain(chain, conf, at);
}

Result<PeerVerifier::OcspDecision> PeerVerifier::check_peer_ocsp(
    const PeerIdentity& identity, const std::vector<std::string>& ocsp_der,
    const globalconf::GlobalConfSnapshot& conf, TimePoint at) const {
  if (identity.chain.size() < 2) {
    return ssl_failed("No issuer for the peer's authentication certificate");
  }
  auto decision = decide_ocsp(identity.auth_cert, identity.chain[1], ocsp_der, conf, at,
                              options_.max_ocsp_responses);
  if (!decision.ok()) {
    return ssl_failed("The peer's authentication certificate failed the OCSP check",
                      decision.error());
  }
  return decision;
}

}  // namespace hansa::proxy
