#include "node/signer/software_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "core/crypto/encoding.h"
#include "core/crypto/random.h"
#include "node/signer/file_util.h"
#include "node/signer/internal.h"

namespace hansa::signer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kMaxMetaBytes = 4 << 20;
constexpr std::size_t kMaxKeyFileBytes = 64 << 10;
constexpr std::string_view kMetaFile = "token.json";
constexpr std::string_view kVerifierContext = "hansa-soft-token-pin-verifier";
constexpr std::string_view kPassphraseContext = "hansa-soft-token-key-passphrase";

// A string that is wiped when it goes away.
struct Secret {
  std::string value;
  ~Secret() { OPENSSL_cleanse(value.data(), value.size()); }
};

// PBKDF2-HMAC-SHA256(pin, context || salt), 32 bytes.
std::string derive(std::string_view pin, std::string_view context, std::string_view salt,
                   int iterations) {
  std::string s(context);
  s.append(salt);
  std::string out(32, '\0');
  int rc = PKCS5_PBKDF2_HMAC(
      pin.data(), static_cast<int>(pin.size()), reinterpret_cast<const unsigned char*>(s.data()),
      static_cast<int>(s.size()), iterations, EVP_sha256(), static_cast<int>(out.size()),
      reinterpret_cast<unsigned char*>(out.data()));
  HANSA_CHECK(rc == 1);
  return out;
}

Status check_policy(const SoftwareTokenOptions& options, std::string_view pin) {
  if (pin.size() < options.min_pin_length) {
    return Error(
        FaultCode::kTokenPinPolicyFailure,
        "the PIN must have at least " + std::to_string(options.min_pin_length) + " characters");
  }
  if (pin.size() > options.max_pin_length) {
    return Error(
        FaultCode::kTokenPinPolicyFailure,
        "the PIN must have at most " + std::to_string(options.max_pin_length) + " characters");
  }
  return ok_status();
}

std::string new_key_id() { return crypto::hex_encode(crypto::random_bytes(16)); }

}  // namespace

struct SoftwareToken::Meta {
  std::string label;
  std::string salt;
  std::string verifier;
  int iterations = 0;
  std::int64_t generation = 0;
  std::vector<TokenKey> keys;

  [[nodiscard]] fs::path key_path(const fs::path& dir, std::string_view id,
                                  std::int64_t gen) const {
    return dir / "keys" / (std::string(id) + "." + std::to_string(gen) + ".p8.pem");
  }

  [[nodiscard]] std::string to_json(std::string_view token_id) const {
    json j;
    j["version"] = 1;
    j["id"] = token_id;
    j["label"] = label;
    j["kdf"] = "pbkdf2-hmac-sha256";
    j["iterations"] = iterations;
    j["salt"] = crypto::base64_encode(salt);
    j["verifier"] = crypto::base64_encode(verifier);
    j["generation"] = generation;
    j["keys"] = json::array();
    for (const auto& k : keys) {
      j["keys"].push_back({{"id", k.id},
                           {"label", k.label},
                           {"public_key", crypto::base64_encode(k.public_key.to_der())}});
    }
    return j.dump(2);
  }

  static Result<std::unique_ptr<Meta>> from_json(std::string_view text) {
    Error bad(FaultCode::kTokenNotAvailable, "the software token's token.json is corrupt");
    try {
      json j = json::parse(text);
      auto m = std::make_unique<Meta>();
      m->label = j.at("label").get<std::string>();
      m->iterations = j.at("iterations").get<int>();
      m->generation = j.at("generation").get<std::int64_t>();
      auto salt = crypto::base64_decode(j.at("salt").get<std::string>());
      auto ver = crypto::base64_decode(j.at("verifier").get<std::string>());
      if (!salt.ok() || !ver.ok() || m->iterations < 1 || j.at("kdf") != "pbkdf2-hmac-sha256") {
        return bad;
      }
      m->salt = *salt;
      m->verifier = *ver;
      for (const auto& k : j.at("keys")) {
        auto der = crypto::base64_decode(k.at("public_key").get<std::string>());
        if (!der.ok()) {
          return bad;
        }
        auto pub = crypto::PublicKey::from_der(*der);
        if (!pub.ok()) {
          return bad;
        }
        std::string id = k.at("id").get<std::string>();
        if (id.empty() || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
          return bad;
        }
        m->keys.push_back(TokenKey{id, k.at("label").get<std::string>(), *pub});
      }
      return m;
    } catch (const json::exception& e) {
      bad.detail = e.what();
      return bad;
    }
  }
};

SoftwareToken::SoftwareToken(SoftwareTokenOptions options, std::unique_ptr<Meta> meta)
    : options_(std::move(options)), meta_(std::move(meta)) {}

SoftwareToken::~SoftwareToken() { logout(); }

Result<std::unique_ptr<SoftwareToken>> SoftwareToken::initialize(
    const SoftwareTokenOptions& options, std::string_view pin, std::string_view label) {
  HANSA_RETURN_IF_ERROR(check_policy(options, pin));
  std::error_code ec;
  if (fs::exists(options.dir / kMetaFile, ec)) {
    return Error(FaultCode::kConflict, "a software token already exists in this directory",
                 options.dir.string());
  }
  fs::create_directories(options.dir / "keys", ec);
  if (ec) {
    return Error(FaultCode::kIoError, "cannot create the token directory",
                 options.dir.string() + ": " + ec.message());
  }
  ::chmod(options.dir.c_str(), 0700);
  ::chmod((options.dir / "keys").c_str(), 0700);
  auto meta = std::make_unique<Meta>();
  meta->label = std::string(label);
  meta->iterations = options.kdf_iterations;
  meta->salt = crypto::random_bytes(16);
  meta->verifier = derive(pin, kVerifierContext, meta->salt, meta->iterations);
  meta->generation = 1;
  HANSA_RETURN_IF_ERROR(
      internal::write_file_atomic(options.dir / kMetaFile, meta->to_json(options.id)));
  return std::unique_ptr<SoftwareToken>(new SoftwareToken(options, std::move(meta)));
}

Result<std::unique_ptr<SoftwareToken>> SoftwareToken::open(const SoftwareTokenOptions& options) {
  std::error_code ec;
  if (!fs::exists(options.dir / kMetaFile, ec)) {
    return Error(FaultCode::kTokenNotFound, "no software token in this directory",
                 options.dir.string());
  }
  auto text = internal::read_file(options.dir / kMetaFile, kMaxMetaBytes);
  if (!text.ok()) {
    return Error(FaultCode::kTokenNotAvailable, "cannot read the software token",
                 text.error().detail);
  }
  HANSA_ASSIGN_OR_RETURN(auto meta, Meta::from_json(*text));
  // Remove files an interrupted operation left behind (keys of another generation, temp files).
  std::set<std::string> wanted;
  for (const auto& k : meta->keys) {
    wanted.insert(meta->key_path(options.dir, k.id, meta->generation).filename().string());
  }
  for (const auto& entry : fs::directory_iterator(options.dir / "keys", ec)) {
    if (wanted.count(entry.path().filename().string()) == 0) {
      fs::remove(entry.path(), ec);
    }
  }
  return std::unique_ptr<SoftwareToken>(new SoftwareToken(options, std::move(meta)));
}

std::string SoftwareToken::label() const {
  std::lock_guard lock(mu_);
  return meta_->label;
}

TokenStatus SoftwareToken::status() const {
  std::lock_guard lock(mu_);
  return TokenStatus{true, passphrase_.has_value()};
}

Status SoftwareToken::check_pin(std::string_view pin) const {
  if (pin.size() > options_.max_pin_length) {
    return Error(FaultCode::kPinIncorrect, "incorrect PIN");
  }
  Secret v{derive(pin, kVerifierContext, meta_->salt, meta_->iterations)};
  if (v.value.size() != meta_->verifier.size() ||
      CRYPTO_memcmp(v.value.data(), meta_->verifier.data(), v.value.size()) != 0) {
    return Error(FaultCode::kPinIncorrect, "incorrect PIN for token " + options_.id);
  }
  return ok_status();
}

Status SoftwareToken::login(std::string_view pin) {
  std::lock_guard lock(mu_);
  HANSA_RETURN_IF_ERROR(check_pin(pin));
  Secret pass{crypto::hex_encode(derive(pin, kPassphraseContext, meta_->salt, meta_->iterations))};
  std::map<std::string, crypto::PrivateKey, std::less<>> keys;
  for (const auto& k : meta_->keys) {
    auto pem = internal::read_file(meta_->key_path(options_.dir, k.id, meta_->generation),
                                   kMaxKeyFileBytes);
    if (!pem.ok()) {
      return Error(FaultCode::kTokenNotAvailable, "a key file of the software token is missing",
                   pem.error().detail);
    }
    Secret pem_text{std::move(pem).value()};
    auto key = crypto::PrivateKey::from_pem(pem_text.value, pass.value);
    if (!key.ok()) {
      return Error(FaultCode::kTokenNotAvailable, "a key file of the software token is corrupt",
                   k.id);
    }
    keys.emplace(k.id, *key);
  }
  keys_ = std::move(keys);
  passphrase_ = pass.value;
  return ok_status();
}

void SoftwareToken::logout() {
  std::lock_guard lock(mu_);
  keys_.clear();
  if (passphrase_) {
    OPENSSL_cleanse(passphrase_->data(), passphrase_->size());
    passphrase_.reset();
  }
}

Result<TokenKey> SoftwareToken::store_key(const crypto::PrivateKey& key, std::string_view label) {
  // needs mu_
  if (!passphrase_) {
    return Error(FaultCode::kTokenNotActive, "token " + options_.id + " is not logged in");
  }
  if (meta_->keys.size() >= options_.max_keys) {
    return Error(FaultCode::kLimitExceeded, "the token holds the most keys allowed",
                 std::to_string(options_.max_keys));
  }
  HANSA_ASSIGN_OR_RETURN(auto pem, key.to_pem(*passphrase_));
  Secret pem_text{std::move(pem)};
  TokenKey info{new_key_id(), std::string(label), key.public_key()};
  const fs::path path = meta_->key_path(options_.dir, info.id, meta_->generation);
  HANSA_RETURN_IF_ERROR(internal::write_file_atomic(path, pem_text.value));
  Meta next = *meta_;
  next.keys.push_back(info);
  Status st = internal::write_file_atomic(options_.dir / kMetaFile, next.to_json(options_.id));
  if (!st.ok()) {
    std::error_code ec;
    fs::remove(path, ec);
    return std::move(st).error();
  }
  *meta_ = std::move(next);
  keys_.emplace(info.id, key);
  return info;
}

Result<TokenKey> SoftwareToken::generate_key(KeyAlgorithm alg, std::string_view label) {
  std::lock_guard lock(mu_);
  if (!passphrase_) {
    return Error(FaultCode::kTokenNotActive, "token " + options_.id + " is not logged in");
  }
  Result<crypto::PrivateKey> key =
      alg == KeyAlgorithm::kEcP256
          ? crypto::PrivateKey::generate_ec(crypto::EcCurve::kP256)
          : crypto::PrivateKey::generate_rsa(alg == KeyAlgorithm::kRsa3072 ? 3072 : 2048);
  if (!key.ok()) {
    return std::move(key).error();
  }
  return store_key(*key, label);
}

Result<TokenKey> SoftwareToken::import_key(const crypto::PrivateKey& key, std::string_view label) {
  std::lock_guard lock(mu_);
  return store_key(key, label);
}

Result<std::vector<TokenKey>> SoftwareToken::list_keys() const {
  std::lock_guard lock(mu_);
  return meta_->keys;
}

Result<crypto::PublicKey> SoftwareToken::public_key(std::string_view key_id) const {
  std::lock_guard lock(mu_);
  for (const auto& k : meta_->keys) {
    if (k.id == key_id) {
      return k.public_key;
    }
  }
  return Error(FaultCode::kKeyNotFound, "no such key on token " + options_.id, std::string(key_id));
}

Status SoftwareToken::delete_key(std::string_view key_id) {
  std::lock_guard lock(mu_);
  if (!passphrase_) {
    return Error(FaultCode::kTokenNotActive, "token " + options_.id + " is not logged in");
  }
  Meta next = *meta_;
  auto it = std::find_if(next.keys.begin(), next.keys.end(),
                         [&](const TokenKey& k) { return k.id == key_id; });
  if (it == next.keys.end()) {
    return Error(FaultCode::kKeyNotFound, "no such key on token " + options_.id,
                 std::string(key_id));
  }
  next.keys.erase(it);
  HANSA_RETURN_IF_ERROR(
      internal::write_file_atomic(options_.dir / kMetaFile, next.to_json(options_.id)));
  std::error_code ec;
  fs::remove(meta_->key_path(options_.dir, key_id, meta_->generation), ec);
  *meta_ = std::move(next);
  if (auto k = keys_.find(key_id); k != keys_.end()) {
    keys_.erase(k);
  }
  return ok_status();
}

Result<crypto::PrivateKey> SoftwareToken::loaded_key(std::string_view key_id) const {
  std::lock_guard lock(mu_);
  if (!passphrase_) {
    return Error(FaultCode::kTokenNotActive, "token " + options_.id + " is not logged in");
  }
  auto it = keys_.find(key_id);
  if (it == keys_.end()) {
    return Error(FaultCode::kKeyNotFound, "no such key on token " + options_.id,
                 std::string(key_id));
  }
  return it->second;
}

Result<crypto::PrivateKey> SoftwareToken::key_handle(std::string_view key_id) const {
  return loaded_key(key_id);
}

Result<std::string> SoftwareToken::sign(std::string_view key_id, crypto::SignatureAlgorithm alg,
                                        std::string_view data) const {
  HANSA_ASSIGN_OR_RETURN(auto key, loaded_key(key_id));
  return sign_with_handle(key, alg, data, false);
}

Result<std::string> SoftwareToken::sign_digest(std::string_view key_id,
                                               crypto::SignatureAlgorithm alg,
                                               std::string_view digest) const {
  HANSA_ASSIGN_OR_RETURN(auto key, loaded_key(key_id));
  return sign_with_handle(key, alg, digest, true);
}

Status SoftwareToken::change_pin(std::string_view old_pin, std::string_view new_pin) {
  std::lock_guard lock(mu_);
  HANSA_RETURN_IF_ERROR(check_pin(old_pin));
  HANSA_RETURN_IF_ERROR(check_policy(options_, new_pin));
  Secret old_pass{
      crypto::hex_encode(derive(old_pin, kPassphraseContext, meta_->salt, meta_->iterations))};
  Meta next = *meta_;
  next.iterations = options_.kdf_iterations;
  next.salt = crypto::random_bytes(16);
  next.verifier = derive(new_pin, kVerifierContext, next.salt, next.iterations);
  next.generation = meta_->generation + 1;
  Secret new_pass{
      crypto::hex_encode(derive(new_pin, kPassphraseContext, next.salt, next.iterations))};
  std::vector<fs::path> written;
  auto undo = [&] {
    std::error_code ec;
    for (const auto& p : written) {
      fs::remove(p, ec);
    }
  };
  for (const auto& k : meta_->keys) {
    auto pem = internal::read_file(meta_->key_path(options_.dir, k.id, meta_->generation),
                                   kMaxKeyFileBytes);
    if (!pem.ok()) {
      undo();
      return std::move(pem).error();
    }
    Secret old_text{std::move(pem).value()};
    auto key = crypto::PrivateKey::from_pem(old_text.value, old_pass.value);
    if (!key.ok()) {
      undo();
      return Error(FaultCode::kTokenNotAvailable, "a key file of the software token is corrupt",
                   k.id);
    }
    auto enc = key->to_pem(new_pass.value);
    if (!enc.ok()) {
      undo();
      return std::move(enc).error();
    }
    Secret new_text{std::move(enc).value()};
    const fs::path path = next.key_path(options_.dir, k.id, next.generation);
    Status st = internal::write_file_atomic(path, new_text.value);
    if (!st.ok()) {
      undo();
      return st;
    }
    written.push_back(path);
  }
  // The commit point: token.json names the new generation.
  Status st = internal::write_file_atomic(options_.dir / kMetaFile, next.to_json(options_.id));
  if (!st.ok()) {
    undo();
    return st;
  }
  std::error_code ec;
  for (const auto& k : meta_->keys) {
    fs::remove(meta_->key_path(options_.dir, k.id, meta_->generation), ec);
  }
  *meta_ = std::move(next);
  if (passphrase_) {
    OPENSSL_cleanse(passphrase_->data(), passphrase_->size());
    passphrase_ = new_pass.value;
  }
  return ok_status();
}

}  // namespace hansa::signer
