#include "node/signer/pkcs11_token.h"

#include <libp11.h>

#include <cstring>
#include <set>

#include "core/crypto/encoding.h"
#include "core/crypto/native.h"
#include "core/crypto/openssl_ptr.h"
#include "core/crypto/random.h"
#include "node/signer/internal.h"

namespace hansa::signer {
namespace {

std::string key_id_hex(const PKCS11_KEY& key) {
  return crypto::hex_encode(std::string_view(reinterpret_cast<const char*>(key.id), key.id_len));
}

}  // namespace

struct Pkcs11Token::Impl {
  PKCS11_CTX* ctx = nullptr;
  PKCS11_SLOT* slots = nullptr;
  unsigned int nslots = 0;
  PKCS11_SLOT* slot = nullptr;
  // Keys deleted through this handle: libp11 0.4.12 keeps them in its cached key list (and
  // crashes when the list is walked again after removing the public key too), so they are hidden
  // here until the token is reopened.
  std::set<std::string, std::less<>> deleted;

  ~Impl() {
    if (slots != nullptr) {
      PKCS11_release_all_slots(ctx, slots, nslots);
    }
    if (ctx != nullptr) {
      PKCS11_CTX_unload(ctx);
      PKCS11_CTX_free(ctx);
    }
  }

  // The private key object with CKA_ID `id_hex`, or nullptr.
  PKCS11_KEY* find_key(std::string_view id_hex, bool public_keys = false) const {
    PKCS11_KEY* keys = nullptr;
    unsigned int n = 0;
    int rc = public_keys ? PKCS11_enumerate_public_keys(slot->token, &keys, &n)
                         : PKCS11_enumerate_keys(slot->token, &keys, &n);
    if (rc != 0) {
      return nullptr;
    }
    if (deleted.count(std::string(id_hex)) != 0) {
      return nullptr;
    }
    for (unsigned int i = 0; i < n; ++i) {
      if (key_id_hex(keys[i]) == id_hex) {
        return &keys[i];
      }
    }
    return nullptr;
  }
};

Pkcs11Token::Pkcs11Token(Pkcs11TokenOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {
  id_ = options_.id.empty() ? "pkcs11:" + options_.token_label : options_.id;
}

Pkcs11Token::~Pkcs11Token() { logout(); }

Result<std::unique_ptr<Pkcs11Token>> Pkcs11Token::open(const Pkcs11TokenOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = PKCS11_CTX_new();
  if (impl->ctx == nullptr) {
    return Error(FaultCode::kHsmNonOperational, "cannot create a PKCS#11 context");
  }
  if (PKCS11_CTX_load(impl->ctx, options.module_path.c_str()) != 0) {
    PKCS11_CTX_free(impl->ctx);
    impl->ctx = nullptr;
    return crypto::openssl_error(FaultCode::kHsmNonOperational,
                                 "cannot load the PKCS#11 module " + options.module_path);
  }
  if (PKCS11_enumerate_slots(impl->ctx, &impl->slots, &impl->nslots) != 0) {
    impl->slots = nullptr;
    return crypto::openssl_error(FaultCode::kHsmNonOperational,
                                 "cannot list the PKCS#11 module's slots");
  }
  for (unsigned int i = 0; i < impl->nslots; ++i) {
    PKCS11_SLOT* s = &impl->slots[i];
    if (s->token != nullptr && s->token->initialized && s->token->label != nullptr &&
        options.token_label == s->token->label) {
      impl->slot = s;
      break;
    }
  }
  if (impl->slot == nullptr) {
    return Error(FaultCode::kTokenNotFound, "no PKCS#11 token with this label",
                 options.token_label);
  }
  return std::unique_ptr<Pkcs11Token>(new Pkcs11Token(options, std::move(impl)));
}

TokenStatus Pkcs11Token::status() const {
  std::lock_guard lock(mu_);
  return TokenStatus{impl_->slot->token != nullptr, logged_in_};
}

Status Pkcs11Token::login(std::string_view pin) {
  std::lock_guard lock(mu_);
  if (logged_in_) {
    return ok_status();
  }
  if (impl_->slot->token->userPinLocked) {
    return Error(FaultCode::kPinIncorrect, "the user PIN of PKCS#11 token " + id_ + " is locked");
  }
  // A read-write session: key generation and deletion need one.
  if (PKCS11_open_session(impl_->slot, 1) != 0) {
    return crypto::openssl_error(FaultCode::kHsmNonOperational,
                                 "cannot open a session on PKCS#11 token " + id_);
  }
  std::string p(pin);
  int rc = PKCS11_login(impl_->slot, 0, p.c_str());
  OPENSSL_cleanse(p.data(), p.size());
  if (rc != 0) {
    return crypto::openssl_error(FaultCode::kPinIncorrect,
                                 "login to PKCS#11 token " + id_ + " failed (incorrect PIN?)");
  }
  logged_in_ = true;
  return ok_status();
}

void Pkcs11Token::logout() {
  std::lock_guard lock(mu_);
  if (logged_in_) {
    (void)PKCS11_logout(impl_->slot);
    logged_in_ = false;
  }
}

Result<TokenKey> Pkcs11Token::generate_key(KeyAlgorithm alg, std::string_view label) {
  std::lock_guard lock(mu_);
  if (!logged_in_) {
    return Error(FaultCode::kTokenNotActive, "token " + id_ + " is not logged in");
  }
  if (alg == KeyAlgorithm::kEcP256) {
    return Error(FaultCode::kUnsupportedSignAlgorithm,
                 "EC key generation on PKCS#11 tokens is not supported (libp11 0.4.12 generates "
                 "RSA keys only)");
  }
  std::string id = crypto::random_bytes(16);
  std::string lab(label);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  int rc = PKCS11_generate_key(impl_->slot->token, EVP_PKEY_RSA,
                               alg == KeyAlgorithm::kRsa3072 ? 3072 : 2048, lab.data(),
                               reinterpret_cast<unsigned char*>(id.data()), id.size());
#pragma GCC diagnostic pop
  if (rc != 0) {
    return crypto::openssl_error(FaultCode::kHsmNonOperational,
                                 "key generation on PKCS#11 token " + id_ + " failed");
  }
  const std::string id_hex = crypto::hex_encode(id);
  PKCS11_KEY* key = impl_->find_key(id_hex);
  if (key == nullptr) {
    return Error(FaultCode::kHsmNonOperational, "the generated key is not on the token", id_hex);
  }
  crypto::EvpPkeyPtr pub(PKCS11_get_public_key(key));
  if (!pub) {
    return crypto::openssl_error(FaultCode::kHsmNonOperational, "cannot read the public key");
  }
  HANSA_ASSIGN_OR_RETURN(auto pk, crypto::PublicKey::from_der(
                                      crypto::public_key_from_native(std::move(pub)).to_der()));
  return TokenKey{id_hex, lab, pk};
}

Result<std::vector<TokenKey>> Pkcs11Token::list_keys() const {
  std::lock_guard lock(mu_);
  if (!logged_in_) {
    return Error(FaultCode::kTokenNotActive, "token " + id_ + " is not logged in");
  }
  PKCS11_KEY* keys = nullptr;
  unsigned int n = 0;
  if (PKCS11_enumerate_keys(impl_->slot->token, &keys, &n) != 0) {
    return crypto::openssl_error(FaultCode::kHsmNonOperational, "cannot list keys");
  }
  std::vector<TokenKey> out;
  for (unsigned int i = 0; i < n && out.size() < options_.max_keys; ++i) {
    if (impl_->deleted.count(key_id_hex(keys[i])) != 0) {
      continue;
    }
    crypto::EvpPkeyPtr pub(PKCS11_get_public_key(&keys[i]));
    if (!pub) {
      (void)crypto::drain_openssl_errors();
      continue;  // a private key without a public part: not usable for certificates
    }
    auto pk = crypto::PublicKey::from_der(crypto::public_key_from_native(std::move(pub)).to_der());
    if (!pk.ok()) {
      continue;
    }
    out.push_back(TokenKey{key_id_hex(keys[i]), keys[i].label ? keys[i].label : "", *pk});
  }
  return out;
}

Result<crypto::PublicKey> Pkcs11Token::public_key(std::string_view key_id) const {
  std::lock_guard lock(mu_);
  if (!logged_in_) {
    return Error(FaultCode::kTokenNotActive, "token " + id_ + " is not logged in");
  }
  PKCS11_KEY* key = impl_->find_key(key_id);
  if (key == nullptr) {
    return Error(FaultCode::kKeyNotFound, "no such key on token " + id_, std::string(key_id));
  }
  crypto::EvpPkeyPtr pub(PKCS11_get_public_key(key));
  if (!pub) {
    return crypto::openssl_error(FaultCode::kHsmNonOperational, "cannot read the public key");
  }
  return crypto::PublicKey::from_der(crypto::public_key_from_native(std::move(pub)).to_der());
}

Status Pkcs11Token::delete_key(std::string_view key_id) {
  std::lock_guard lock(mu_);
  if (!logged_in_) {
    return Error(FaultCode::kTokenNotActive, "token " + id_ + " is not logged in");
  }
  PKCS11_KEY* key = impl_->find_key(key_id);
  if (key == nullptr) {
    return Error(FaultCode::kKeyNotFound, "no such key on token " + id_, std::string(key_id));
  }
  if (PKCS11_remove_key(key) != 0) {
    return crypto::openssl_error(FaultCode::kHsmNonOperational, "cannot delete the key");
  }
  impl_->deleted.insert(std::string(key_id));
  return ok_status();
}

Result<crypto::PrivateKey> Pkcs11Token::handle_locked(std::string_view key_id) const {
  if (!logged_in_) {
    return Error(FaultCode::kTokenNotActive, "token " + id_ + " is not logged in");
  }
  PKCS11_KEY* key = impl_->find_key(key_id);
  if (key == nullptr) {
    return Error(FaultCode::kKeyNotFound, "no such key on token " + id_, std::string(key_id));
  }
  crypto::EvpPkeyPtr pkey(PKCS11_get_private_key(key));
  if (!pkey) {
    return crypto::openssl_error(FaultCode::kKeyNotAvailable, "cannot use the key on the token");
  }
  return crypto::private_key_from_native(std::move(pkey));
}

Result<crypto::PrivateKey> Pkcs11Token::key_handle(std::string_view key_id) const {
  std::lock_guard lock(mu_);
  return handle_locked(key_id);
}

Result<std::string> Pkcs11Token::sign(std::string_view key_id, crypto::SignatureAlgorithm alg,
                                      std::string_view data) const {
  std::lock_guard lock(mu_);
  HANSA_ASSIGN_OR_RETURN(auto key, handle_locked(key_id));
  return sign_with_handle(key, alg, data, false);
}

Result<std::string> Pkcs11Token::sign_digest(std::string_view key_id,
                                             crypto::SignatureAlgorithm alg,
                                             std::string_view digest) const {
  std::lock_guard lock(mu_);
  HANSA_ASSIGN_OR_RETURN(auto key, handle_locked(key_id));
  return sign_with_handle(key, alg, digest, true);
}

}  // namespace hansa::signer
