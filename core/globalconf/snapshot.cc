#include "core/globalconf/snapshot.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/crypto/digest.h"

namespace hansa::globalconf {

namespace {

std::uint64_t next_generation() {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

Error invalid(std::string message, std::string detail = {}) {
  return Error(FaultCode::kInvalidGlobalConf, std::move(message), std::move(detail));
}

// Digest algorithms of authCertHash values, told apart by length.
constexpr std::array<crypto::DigestAlgorithm, 4> kAuthHashAlgorithms = {
    crypto::DigestAlgorithm::kSha1, crypto::DigestAlgorithm::kSha256,
    crypto::DigestAlgorithm::kSha384, crypto::DigestAlgorithm::kSha512};
}  // namespace

struct GlobalConfSnapshot::Index {
  std::unordered_map<std::string, const SharedParameters*> by_instance;
  std::unordered_map<ids::MemberId, const Member*> members;
  std::unordered_map<ids::SubsystemId, const Subsystem*> subsystems;
  std::unordered_map<ids::SecurityServerId, const SecurityServer*> servers;
  // Client (or owner) -> servers serving it, in file order.
  std::unordered_map<ids::ClientId, std::vector<ids::SecurityServerId>> hosting;
  // Server -> clients it serves (owner included).
  std::unordered_map<ids::SecurityServerId, std::unordered_set<ids::ClientId>> served;
  // Raw authCertHash -> servers it is registered for.
  std::unordered_map<std::string, std::vector<ids::SecurityServerId>> auth_hashes;
  std::vector<crypto::DigestAlgorithm> auth_hash_algorithms;
  // CA subject (RFC 2253) -> candidate issuers.
  std::unordered_map<std::string, std::vector<std::pair<const ApprovedCa*, const CaInfo*>>>
      ca_by_subject;
  // CA certificate DER -> its entry.
  std::unordered_map<std::string, const CaInfo*> ca_by_der;
  std::unordered_map<std::string, const ApprovedTsa*> tsa_by_der;
  std::unordered_map<ids::GlobalGroupId, const GlobalGroup*> groups;
  std::unordered_map<ids::GlobalGroupId, std::unordered_set<ids::ClientId>> group_members;
  std::unordered_map<ids::ClientId, std::vector<ids::GlobalGroupId>> groups_of;
};

GlobalConfSnapshot::GlobalConfSnapshot(std::optional<PrivateParameters> private_parameters,
                                       std::vector<SharedParameters> shared, TimePoint expires_at)
    : private_(std::move(private_parameters)),
      shared_(std::move(shared)),
      expires_at_(expires_at),
      generation_(next_generation()) {}

GlobalConfSnapshot::~GlobalConfSnapshot() = default;

Result<std::shared_ptr<const GlobalConfSnapshot>> GlobalConfSnapshot::create(
    std::optional<PrivateParameters> private_parameters, std::vector<SharedParameters> shared,
    TimePoint expires_at) {
  if (shared.empty()) {
    return invalid("a global configuration snapshot needs shared parameters");
  }
  if (private_parameters) {
    auto own = std::find_if(shared.begin(), shared.end(), [&](const SharedParameters& s) {
      return s.instance_identifier == private_parameters->instance_identifier;
    });
    if (own == shared.end()) {
      return invalid("no shared parameters for the private parameters' instance",
                     private_parameters->instance_identifier);
    }
    // The own instance first.
    std::rotate(shared.begin(), own, own + 1);
  }
  std::shared_ptr<GlobalConfSnapshot> snap(
      new GlobalConfSnapshot(std::move(private_parameters), std::move(shared), expires_at));
  auto index = std::make_unique<Index>();
  Index& ix = *index;

  for (const SharedParameters& sp : snap->shared_) {
    const std::string& instance = sp.instance_identifier;
    if (!ix.by_instance.emplace(instance, &sp).second) {
      return invalid("shared parameters of one instance given twice", instance);
    }
    for (const Member& m : sp.members) {
      if (m.id.instance() != instance) {
        return invalid("member of another instance in shared parameters", m.id.to_string());
      }
      ix.members.emplace(m.id, &m);
      for (const Subsystem& s : m.subsystems) {
        if (s.id.member() != m.id) {
          return invalid("subsystem listed under another member", s.id.to_string());
        }
        ix.subsystems.emplace(s.id, &s);
      }
    }
    for (const SecurityServer& s : sp.security_servers) {
      if (s.id.instance() != instance) {
        return invalid("security server of another instance", s.id.to_string());
      }
      if (!ix.servers.emplace(s.id, &s).second) {
        return invalid("security server listed twice", s.id.to_string());
      }
      auto& served = ix.served[s.id];
      auto serve = [&](const ids::ClientId& client) {
        if (served.insert(client).second) {
          ix.hosting[client].push_back(s.id);
        }
      };
      serve(ids::ClientId(s.id.owner()));
      for (const ids::ClientId& c : s.clients) {
        if (c.instance() != instance) {
          return invalid("security server client of another instance", c.to_string());
        }
        serve(c);
      }
      for (const std::string& h : s.auth_cert_hashes) {
        ix.auth_hashes[h].push_back(s.id);
        for (crypto::DigestAlgorithm alg : kAuthHashAlgorithms) {
          if (crypto::digest_size(alg) == h.size() &&
              std::find(ix.auth_hash_algorithms.begin(), ix.auth_hash_algorithms.end(), alg) ==
                  ix.auth_hash_algorithms.end()) {
            ix.auth_hash_algorithms.push_back(alg);
          }
        }
      }
    }
    for (const ApprovedCa& ca : sp.approved_cas) {
      auto add = [&](const CaInfo& info) {
        ix.ca_by_subject[info.cert.subject()].emplace_back(&ca, &info);
        ix.ca_by_der.emplace(info.cert.der(), &info);
      };
      add(ca.top_ca);
      for (const CaInfo& i : ca.intermediate_cas) {
        add(i);
      }
    }
    for (const ApprovedTsa& t : sp.approved_tsas) {
      ix.tsa_by_der.emplace(t.cert.der(), &t);
    }
    for (const GlobalGroup& g : sp.global_groups) {
      if (g.id.instance() != instance) {
        return invalid("global group of another instance", g.id.to_string());
      }
      if (!ix.groups.emplace(g.id, &g).second) {
        return invalid("global group listed twice", g.id.to_string());
      }
      auto& members = ix.group_members[g.id];
      for (const ids::ClientId& c : g.members) {
        if (members.insert(c).second) {
          ix.groups_of[c].push_back(g.id);
        }
      }
    }
  }
  snap->index_ = std::move(index);
  return std::shared_ptr<const GlobalConfSnapshot>(std::move(snap));
}

const std::string& GlobalConfSnapshot::instance_identifier() const noexcept {
  return shared_.front().instance_identifier;
}

const std::optional<PrivateParameters>& GlobalConfSnapshot::private_parameters() const noexcept {
  return private_;
}

const std::vector<SharedParameters>& GlobalConfSnapshot::all_shared_parameters() const noexcept {
  return shared_;
}

const SharedParameters& GlobalConfSnapshot::shared_parameters() const noexcept {
  return shared_.front();
}

const SharedParameters* GlobalConfSnapshot::shared_parameters(std::string_view instance) const {
  auto it = index_->by_instance.find(std::string(instance));
  return it == index_->by_instance.end() ? nullptr : it->second;
}

std::vector<std::string> GlobalConfSnapshot::instances() const {
  std::vector<std::string> out;
  for (const SharedParameters& s : shared_) {
    out.push_back(s.instance_identifier);
  }
  return out;
}

TimePoint GlobalConfSnapshot::expires_at() const noexcept { return expires_at_; }
std::uint64_t GlobalConfSnapshot::generation() const noexcept { return generation_; }

Status GlobalConfSnapshot::check_valid(TimePoint now) const {
  if (now >= expires_at_) {
    return Error(FaultCode::kOutdatedGlobalConf, "global configuration has expired");
  }
  return ok_status();
}

bool GlobalConfSnapshot::client_exists(const ids::ClientId& client) const {
  if (auto sub = client.as_subsystem()) {
    return index_->subsystems.contains(*sub);
  }
  return index_->members.contains(client.member());
}

std::optional<std::string> GlobalConfSnapshot::member_name(const ids::ClientId& client) const {
  auto it = index_->members.find(client.member());
  if (it == index_->members.end()) {
    return std::nullopt;
  }
  return it->second->name;
}

std::optional<std::string> GlobalConfSnapshot::subsystem_name(
    const ids::SubsystemId& subsystem) const {
  auto it = index_->subsystems.find(subsystem);
  if (it == index_->subsystems.end()) {
    return std::nullopt;
  }
  return it->second->name;
}

const Member* GlobalConfSnapshot::member(const ids::MemberId& member) const {
  auto it = index_->members.find(member);
  return it == index_->members.end() ? nullptr : it->second;
}

std::vector<ids::ClientId> GlobalConfSnapshot::clients(std::string_view instance) const {
  std::vector<ids::ClientId> out;
  if (const SharedParameters* sp = shared_parameters(instance)) {
    for (const Member& m : sp->members) {
      out.emplace_back(m.id);
      for (const Subsystem& s : m.subsystems) {
        out.emplace_back(s.id);
      }
    }
  }
  return out;
}

const SecurityServer* GlobalConfSnapshot::security_server(
    const ids::SecurityServerId& server) const {
  auto it = index_->servers.find(server);
  return it == index_->servers.end() ? nullptr : it->second;
}

std::span<const ids::SecurityServerId> GlobalConfSnapshot::servers_hosting(
    const ids::ClientId& client) const {
  auto it = index_->hosting.find(client);
  if (it == index_->hosting.end()) {
    return {};
  }
  return it->second;
}

std::vector<ids::SecurityServerId> GlobalConfSnapshot::servers_owned_by(
    const ids::MemberId& owner) const {
  std::vector<ids::SecurityServerId> out;
  if (const SharedParameters* sp = shared_parameters(owner.instance())) {
    for (const SecurityServer& s : sp->security_servers) {
      if (s.id.owner() == owner) {
        out.push_back(s.id);
      }
    }
  }
  return out;
}

std::optional<std::string> GlobalConfSnapshot::server_address(
    const ids::SecurityServerId& server) const {
  const SecurityServer* s = security_server(server);
  if (s == nullptr) {
    return std::nullopt;
  }
  return s->address;
}

std::optional<ids::SecurityServerId> GlobalConfSnapshot::server_by_auth_cert(
    const crypto::Certificate& auth_cert) const {
  for (crypto::DigestAlgorithm alg : index_->auth_hash_algorithms) {
    auto it = index_->auth_hashes.find(auth_cert.fingerprint(alg));
    if (it != index_->auth_hashes.end() && !it->second.empty()) {
      return it->second.front();
    }
  }
  return std::nullopt;
}

bool GlobalConfSnapshot::is_auth_cert_of_client_server(const crypto::Certificate& auth_cert,
                                                       const ids::ClientId& client) const {
  for (crypto::DigestAlgorithm alg : index_->auth_hash_algorithms) {
    auto it = index_->auth_hashes.find(auth_cert.fingerprint(alg));
    if (it == index_->auth_hashes.end()) {
      continue;
    }
    for (const ids::SecurityServerId& server : it->second) {
      auto served = index_->served.find(server);
      if (served != index_->served.end() && served->second.contains(client)) {
        return true;
      }
    }
  }
  return false;
}

bool GlobalConfSnapshot::is_auth_cert_of_server(const crypto::Certificate& auth_cert,
                                                const ids::SecurityServerId& server) const {
  for (crypto::DigestAlgorithm alg : index_->auth_hash_algorithms) {
    auto it = index_->auth_hashes.find(auth_cert.fingerprint(alg));
    if (it != index_->auth_hashes.end() &&
        std::find(it->second.begin(), it->second.end(), server) != it->second.end()) {
      return true;
    }
  }
  return false;
}

bool GlobalConfSnapshot::in_maintenance_mode(const ids::SecurityServerId& server) const {
  const SecurityServer* s = security_server(server);
  return s != nullptr && s->maintenance_mode.has_value();
}

const CaInfo* GlobalConfSnapshot::issuer_ca_info(const crypto::Certificate& cert) const {
  auto it = index_->ca_by_subject.find(cert.issuer());
  if (it == index_->ca_by_subject.end()) {
    return nullptr;
  }
  for (const auto& [ca, info] : it->second) {
    if (cert.is_issued_by(info->cert)) {
      return info;
    }
  }
  return nullptr;
}

const ApprovedCa* GlobalConfSnapshot::approved_ca_for(const crypto::Certificate& cert) const {
  auto it = index_->ca_by_subject.find(cert.issuer());
  if (it == index_->ca_by_subject.end()) {
    return nullptr;
  }
  for (const auto& [ca, info] : it->second) {
    if (cert.is_issued_by(info->cert)) {
      return ca;
    }
  }
  return nullptr;
}

std::span<const OcspResponder> GlobalConfSnapshot::ocsp_responders(
    const crypto::Certificate& ca_cert) const {
  auto it = index_->ca_by_der.find(ca_cert.der());
  if (it == index_->ca_by_der.end()) {
    return {};
  }
  return it->second->ocsp;
}

std::vector<crypto::Certificate> GlobalConfSnapshot::ca_certificates() const {
  std::vector<crypto::Certificate> out;
  for (const SharedParameters& sp : shared_) {
    for (const ApprovedCa& ca : sp.approved_cas) {
      out.push_back(ca.top_ca.cert);
      for (const CaInfo& i : ca.intermediate_cas) {
        out.push_back(i.cert);
      }
    }
  }
  return out;
}

std::vector<crypto::Certificate> GlobalConfSnapshot::ocsp_responder_certificates() const {
  std::vector<crypto::Certificate> out;
  auto add = [&](const CaInfo& info) {
    for (const OcspResponder& o : info.ocsp) {
      if (o.cert && !(*o.cert == info.cert) &&
          std::find(out.begin(), out.end(), *o.cert) == out.end()) {
        out.push_back(*o.cert);
      }
    }
  };
  for (const SharedParameters& sp : shared_) {
    for (const ApprovedCa& ca : sp.approved_cas) {
      add(ca.top_ca);
      for (const CaInfo& i : ca.intermediate_cas) {
        add(i);
      }
    }
  }
  return out;
}

std::int64_t GlobalConfSnapshot::ocsp_freshness_seconds() const noexcept {
  return shared_.front().global_settings.ocsp_freshness_seconds;
}

std::span<const ApprovedTsa> GlobalConfSnapshot::approved_tsas() const noexcept {
  return shared_.front().approved_tsas;
}

const ApprovedTsa* GlobalConfSnapshot::approved_tsa_by_cert(const crypto::Certificate& cert) const {
  auto it = index_->tsa_by_der.find(cert.der());
  return it == index_->tsa_by_der.end() ? nullptr : it->second;
}

std::int64_t GlobalConfSnapshot::time_stamping_interval_seconds() const noexcept {
  return private_ ? private_->time_stamping_interval_seconds : 60;
}

bool GlobalConfSnapshot::is_global_group_member(const ids::GlobalGroupId& group,
                                                const ids::ClientId& client) const {
  auto it = index_->group_members.find(group);
  return it != index_->group_members.end() && it->second.contains(client);
}

const GlobalGroup* GlobalConfSnapshot::global_group(const ids::GlobalGroupId& group) const {
  auto it = index_->groups.find(group);
  return it == index_->groups.end() ? nullptr : it->second;
}

std::vector<ids::GlobalGroupId> GlobalConfSnapshot::global_groups_of(
    const ids::ClientId& client) const {
  auto it = index_->groups_of.find(client);
  if (it == index_->groups_of.end()) {
    return {};
  }
  return it->second;
}

const ManagementService* GlobalConfSnapshot::management_service() const noexcept {
  return private_ ? &private_->management_service : nullptr;
}

std::span<const MemberClass> GlobalConfSnapshot::member_classes() const noexcept {
  return shared_.front().global_settings.member_classes;
}

}  // namespace hansa::globalconf
