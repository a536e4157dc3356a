#include "core/http/tls_internal.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

namespace hansa::http::internal {

Result<std::vector<crypto::X509Ptr>> parse_pem_certs(std::string_view pem) {
  std::vector<crypto::X509Ptr> certs;
  crypto::BioPtr bio = crypto::memory_bio(pem);
  while (true) {
    crypto::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      break;
    }
    certs.push_back(std::move(cert));
  }
  ERR_clear_error();  // the loop ends with a "no start line" error
  if (certs.empty()) {
    return Error(FaultCode::kInvalidCertificate, "no PEM certificate found");
  }
  return certs;
}

Result<crypto::EvpPkeyPtr> parse_pem_key(std::string_view pem) {
  crypto::BioPtr bio = crypto::memory_bio(pem);
  crypto::EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return crypto::openssl_error(FaultCode::kInvalidKey, "cannot parse PEM private key");
  }
  return key;
}

Result<crypto::X509StorePtr> make_store(std::string_view ca_pem) {
  HANSA_ASSIGN_OR_RETURN(auto certs, parse_pem_certs(ca_pem));
  crypto::X509StorePtr store(X509_STORE_new());
  HANSA_CHECK(store != nullptr);
  for (auto& cert : certs) {
    if (X509_STORE_add_cert(store.get(), cert.get()) != 1) {
      return crypto::openssl_error(FaultCode::kInvalidCertificate, "cannot add CA certificate");
    }
  }
  return store;
}

Status use_cert_chain_and_key(SSL_CTX* ctx, std::string_view chain_pem, std::string_view key_pem) {
  HANSA_ASSIGN_OR_RETURN(auto certs, parse_pem_certs(chain_pem));
  HANSA_ASSIGN_OR_RETURN(auto key, parse_pem_key(key_pem));
  if (SSL_CTX_use_certificate(ctx, certs[0].get()) != 1) {
    return crypto::openssl_error(FaultCode::kInvalidCertificate, "cannot use certificate");
  }
  for (std::size_t i = 1; i < certs.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, certs[i].get()) != 1) {
      return crypto::openssl_error(FaultCode::kInvalidCertificate, "cannot add chain certificate");
    }
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return crypto::openssl_error(FaultCode::kInvalidKey, "private key does not match certificate");
  }
  return ok_status();
}

std::string to_der(X509* cert) {
  unsigned char* out = nullptr;
  int len = i2d_X509(cert, &out);
  if (len <= 0) {
    return {};
  }
  std::string der(reinterpret_cast<const char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return der;
}

namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

int verify_callback(X509_STORE_CTX* store_ctx, void* arg) {
  auto* policy = static_cast<VerifyPolicy*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  if (leaf == nullptr) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  if (policy->store) {
    if (!policy->host.empty()) {
      X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(store_ctx);
      if (is_ip_literal(policy->host)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, policy->host.c_str());
      } else {
        X509_VERIFY_PARAM_set1_host(param, policy->host.c_str(), policy->host.size());
      }
    }
    if (X509_verify_cert(store_ctx) != 1) {
      return 0;  // the store context carries OpenSSL's reason
    }
  }
  CertChain chain;
  chain.push_back(to_der(leaf));
  STACK_OF(X509)* untrusted = X509_STORE_CTX_get0_untrusted(store_ctx);
  for (int i = 0; untrusted != nullptr && i < sk_X509_num(untrusted); ++i) {
    X509* cert = sk_X509_value(untrusted, i);
    if (X509_cmp(cert, leaf) != 0) {
      chain.push_back(to_der(cert));
    }
  }
  if (!policy->pinned_der.empty()) {
    bool pinned = false;
    for (const auto& der : policy->pinned_der) {
      pinned = pinned || der == chain[0];
    }
    if (!pinned) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
      return 0;
    }
  }
  if (policy->hook) {
    Status status = policy->hook(chain);
    if (!status.ok()) {
      X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
      return 0;
    }
  }
  return 1;
}

}  // namespace

void install_verify_policy(SSL_CTX* ctx, VerifyPolicy* policy) {
  if (policy->store) {
    // The SSL_CTX keeps its own reference; the policy keeps the pointer as a "verify" flag.
    SSL_CTX_set1_cert_store(ctx, policy->store.get());
  }
  int mode = SSL_VERIFY_PEER;
  if (policy->server_side) {
    mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx, mode, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, verify_callback, policy);
}

}  // namespace hansa::http::internal
