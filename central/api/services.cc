// Admin API routes served by other central components: management requests
// (central/management) and the published global configuration's status (central/publisher).
// Built without them (HANSA_CENTRAL_API_WITH_SERVICES unset) the routes exist and answer 503.

#include <tuple>

#include "central/api/api_internal.h"
#include "core/crypto/digest.h"
#include "core/crypto/encoding.h"

#ifdef HANSA_CENTRAL_API_WITH_SERVICES
#include "central/management/management_service.h"
#include "central/publisher/publisher.h"
#include "core/management/request.h"
#endif

namespace hansa::central::api_internal {

namespace {

[[noreturn]] void unavailable(std::string_view what) {
  fail(FaultCode::kServiceDisabled, std::string(what) + " is not available on this server");
}

#ifdef HANSA_CENTRAL_API_WITH_SERVICES

Json request_json(const ManagementRequest& r) {
  Json j = {{"id", r.id},
            {"type", management::request_type_name(r.body.type)},
            {"state", request_state_name(r.state)},
            {"server", r.body.server.to_string()},
            {"message_id", r.message_id},
            {"signer", r.signer.to_string()},
            {"origin", r.origin},
            {"received_at", format_time(r.received_at)},
            {"decided_at", r.decided_at ? Json(format_time(*r.decided_at)) : Json(nullptr)},
            {"decided_by", r.decided_by},
            {"comment", r.comment}};
  if (r.body.client) {
    j["client"] = r.body.client->to_string();
  }
  if (r.body.subsystem_name) {
    j["subsystem_name"] = *r.body.subsystem_name;
  }
  if (r.body.address) {
    j["address"] = *r.body.address;
  }
  if (!r.body.auth_cert_der.empty()) {
    j["auth_cert_sha256"] =
        crypto::hex_encode(crypto::digest(crypto::DigestAlgorithm::kSha256, r.body.auth_cert_der));
  }
  return j;
}

#endif

}  // namespace

void add_service_routes(std::vector<std::tuple<std::string, std::string, Handler>>& routes,
                        Registry& registry, const AdminApiServices& services) {
  auto add = [&](std::string method, std::string path, Handler h) {
    routes.emplace_back(std::move(method), std::move(path), std::move(h));
  };
#ifdef HANSA_CENTRAL_API_WITH_SERVICES
  ManagementService* mgmt = services.management;
  Publisher* publisher = services.publisher;

  add("GET", "/management-requests", [mgmt](Call& c) {
    if (mgmt == nullptr) {
      unavailable("the management service");
    }
    ManagementRequestQuery q;
    q.page = c.page();
    if (auto state = c.request.query("state")) {
      q.state = request_state_from_name(*state);
      if (!q.state) {
        fail(FaultCode::kBadRequest, "unknown state", *state);
      }
    }
    if (auto type = c.request.query("type")) {
      q.type = management::request_type_from_name(*type);
      if (!q.type) {
        fail(FaultCode::kBadRequest, "unknown request type", *type);
      }
    }
    const auto page = value_or_throw(mgmt->list(q));
    Json items = Json::array();
    for (const auto& r : page.items) {
      items.push_back(request_json(r));
    }
    return Reply{200,
                 {{"items", items},
                  {"total", page.total},
                  {"limit", q.page.limit},
                  {"offset", q.page.offset}}};
  });
  add("GET", "/management-requests/{id}", [mgmt](Call& c) {
    if (mgmt == nullptr) {
      unavailable("the management service");
    }
    return Reply{200, request_json(value_or_throw(mgmt->get(int_from_path(c.params[0]))))};
  });
  add("POST", "/management-requests/{id}/approve", [mgmt](Call& c) {
    if (mgmt == nullptr) {
      unavailable("the management service");
    }
    Fields f(c.json(), {});
    const auto id = int_from_path(c.params[0]);
    check_mutation(mgmt->approve(c.ctx, id));
    return Reply{200, request_json(value_or_throw(mgmt->get(id)))};
  });
  add("POST", "/management-requests/{id}/reject", [mgmt](Call& c) {
    if (mgmt == nullptr) {
      unavailable("the management service");
    }
    Fields f(c.json(), {"reason"});
    const auto id = int_from_path(c.params[0]);
    check_mutation(mgmt->reject(c.ctx, id, f.opt_str("reason").value_or("")));
    return Reply{200, request_json(value_or_throw(mgmt->get(id)))};
  });
  add("GET", "/status", [publisher, &registry](Call&) {
    if (publisher == nullptr) {
      unavailable("the configuration publisher");
    }
    const auto change_version = value_or_throw(registry.change_version());
    const auto latest = value_or_throw(publisher->latest());
    Json j = {{"registry_change_version", change_version}, {"published", latest.has_value()}};
    if (latest) {
      j["directory_id"] = latest->id;
      j["format_version"] = latest->version;
      j["generated_at"] = format_time(latest->generated_at);
      j["expires_at"] = format_time(latest->expires_at);
      j["published_change_version"] = latest->registry_change_version;
      j["signing_key_id"] = latest->signing_key_id;
      j["content_locations"] = latest->content_locations;
      j["up_to_date"] = latest->registry_change_version == change_version;
    }
    return Reply{200, j};
  });
#else
  (void)registry;
  (void)services;
  for (const char* path : {"/management-requests", "/management-requests/{id}"}) {
    add("GET", path, [](Call&) -> Reply { unavailable("the management service"); });
  }
  for (const char* path :
       {"/management-requests/{id}/approve", "/management-requests/{id}/reject"}) {
    add("POST", path, [](Call&) -> Reply { unavailable("the management service"); });
  }
  add("GET", "/status", [](Call&) -> Reply { unavailable("the configuration publisher"); });
#endif
}

}  // namespace hansa::central::api_internal
