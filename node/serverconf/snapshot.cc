#include "node/serverconf/snapshot.h"

#include <algorithm>
#include <variant>

namespace hansa::serverconf {

ServerConfSnapshot::ServerConfSnapshot(SnapshotData data) : data_(std::move(data)) {
  for (std::size_t i = 0; i < data_.clients.size(); ++i) {
    client_index_.emplace(data_.clients[i].id, i);
  }
  for (std::size_t i = 0; i < data_.descriptions.size(); ++i) {
    description_index_.emplace(data_.descriptions[i].id, i);
  }
  for (std::size_t i = 0; i < data_.services.size(); ++i) {
    const auto& s = data_.services[i];
    service_index_.emplace(s.id, i);
    services_by_code_[{s.id.provider(), s.id.service_code()}].push_back(i);
  }
  std::sort(data_.endpoints.begin(), data_.endpoints.end(),
            [](const EndpointEntry& a, const EndpointEntry& b) { return a.id < b.id; });
  for (std::size_t i = 0; i < data_.endpoints.size(); ++i) {
    const auto& e = data_.endpoints[i];
    endpoints_by_code_[{e.provider, e.service_code}].push_back(i);
  }
  for (std::size_t i = 0; i < data_.local_groups.size(); ++i) {
    const auto& g = data_.local_groups[i];
    group_index_.emplace(CodeKey{g.client, g.code}, i);
  }
}

const ClientEntry* ServerConfSnapshot::find_client(const ids::ClientId& client) const {
  const auto it = client_index_.find(client);
  return it == client_index_.end() ? nullptr : &data_.clients[it->second];
}

bool ServerConfSnapshot::is_registered_client(const ids::ClientId& client) const {
  const ClientEntry* c = find_client(client);
  return c != nullptr && c->state == RegistrationState::kRegistered;
}

bool ServerConfSnapshot::is_cert_registered(const ids::ClientId& client,
                                            std::string_view sha256_hex) const {
  const ClientEntry* c = find_client(client);
  return c != nullptr && c->is_cert_sha256_hex.contains(std::string(sha256_hex));
}

const DescriptionEntry* ServerConfSnapshot::find_description(std::int64_t id) const {
  const auto it = description_index_.find(id);
  return it == description_index_.end() ? nullptr : &data_.descriptions[it->second];
}

const ServiceEntry* ServerConfSnapshot::find_service(const ids::ServiceId& service) const {
  if (const auto it = service_index_.find(service); it != service_index_.end()) {
    return &data_.services[it->second];
  }
  if (!service.service_version()) {
    const auto it = services_by_code_.find({service.provider(), service.service_code()});
    if (it != services_by_code_.end() && it->second.size() == 1) {
      return &data_.services[it->second.front()];
    }
  }
  return nullptr;
}

std::vector<const ServiceEntry*> ServerConfSnapshot::services_by_code(
    const ids::ClientId& provider, std::string_view service_code) const {
  std::vector<const ServiceEntry*> out;
  const auto it = services_by_code_.find({provider, std::string(service_code)});
  if (it != services_by_code_.end()) {
    for (std::size_t i : it->second) {
      out.push_back(&data_.services[i]);
    }
  }
  return out;
}

std::vector<const ServiceEntry*> ServerConfSnapshot::services_of(
    const ids::ClientId& provider) const {
  std::vector<const ServiceEntry*> out;
  for (const auto& s : data_.services) {
    if (s.id.provider() == provider) {
      out.push_back(&s);
    }
  }
  return out;
}

std::vector<const EndpointEntry*> ServerConfSnapshot::endpoints_of(
    const ids::ClientId& provider, std::string_view service_code) const {
  std::vector<const EndpointEntry*> out;
  const auto it = endpoints_by_code_.find({provider, std::string(service_code)});
  if (it != endpoints_by_code_.end()) {
    for (std::size_t i : it->second) {
      out.push_back(&data_.endpoints[i]);
    }
  }
  return out;
}

const EndpointEntry* ServerConfSnapshot::match_endpoint(const ids::ServiceId& service,
                                                        std::string_view method,
                                                        std::string_view path) const {
  const EndpointEntry* best = nullptr;
  for (const EndpointEntry* e : endpoints_of(service.provider(), service.service_code())) {
    if (!e->pattern.matches(method, path)) {
      continue;
    }
    if (best == nullptr || best->pattern.specificity() < e->pattern.specificity()) {
      best = e;
    }
  }
  return best;
}

bool ServerConfSnapshot::subject_allows(const AccessSubject& subject, const ids::ClientId& provider,
                                        const ids::ClientId& client,
                                        std::span<const ids::GlobalGroupId> global_groups) const {
  if (const auto* c = std::get_if<ids::ClientId>(&subject)) {
    return *c == client;
  }
  if (const auto* g = std::get_if<ids::GlobalGroupId>(&subject)) {
    return std::find(global_groups.begin(), global_groups.end(), *g) != global_groups.end();
  }
  const auto& local = std::get<ids::LocalGroupId>(subject);
  return is_local_group_member(provider, local.group_code(), client);
}

bool ServerConfSnapshot::is_allowed(const ids::ClientId& client, const ids::ServiceId& service,
                                    std::optional<std::string_view> method,
                                    std::optional<std::string_view> path,
                                    std::span<const ids::GlobalGroupId> global_groups) const {
  const bool rest = method.has_value();
  for (const EndpointEntry* e : endpoints_of(service.provider(), service.service_code())) {
    const bool applies =
        rest ? e->pattern.matches(*method, path.value_or("/")) : e->key() == kServiceEndpoint;
    if (!applies) {
      continue;
    }
    for (const auto& subject : e->subjects) {
      if (subject_allows(subject, service.provider(), client, global_groups)) {
        return true;
      }
    }
  }
  return false;
}

bool ServerConfSnapshot::is_local_group_member(const ids::ClientId& provider,
                                               std::string_view group_code,
                                               const ids::ClientId& client) const {
  const LocalGroupEntry* g = find_local_group(provider, group_code);
  return g != nullptr && g->members.contains(client);
}

const LocalGroupEntry* ServerConfSnapshot::find_local_group(const ids::ClientId& provider,
                                                            std::string_view group_code) const {
  const auto it = group_index_.find({provider, std::string(group_code)});
  return it == group_index_.end() ? nullptr : &data_.local_groups[it->second];
}

std::vector<AccessSubject> ServerConfSnapshot::subjects_of_endpoint(
    const ids::ClientId& provider, std::string_view service_code,
    const EndpointKey& endpoint) const {
  for (const EndpointEntry* e : endpoints_of(provider, service_code)) {
    if (e->key() == endpoint) {
      return e->subjects;
    }
  }
  return {};
}

}  // namespace hansa::serverconf
