#include "node/proxy/metaservices.h"

#include <utility>
#include <variant>
#include <vector>

#include "core/http/http.h"

namespace hansa::proxy {

namespace {

bool subject_allows(const serverconf::AccessSubject& subject, const ids::ClientId& provider,
                    const ids::ClientId& client, const serverconf::ServerConfSnapshot& snapshot,
                    const globalconf::GlobalConfSnapshot& conf) {
  if (const auto* c = std::get_if<ids::ClientId>(&subject)) {
    return *c == client;
  }
  if (const auto* g = std::get_if<ids::GlobalGroupId>(&subject)) {
    return conf.is_global_group_member(*g, client);
  }
  if (const auto* l = std::get_if<ids::LocalGroupId>(&subject)) {
    return snapshot.is_local_group_member(provider, l->group_code(), client);
  }
  return false;
}

bool endpoint_allows(const serverconf::EndpointEntry& endpoint, const ids::ClientId& client,
                     const serverconf::ServerConfSnapshot& snapshot,
                     const globalconf::GlobalConfSnapshot& conf) {
  for (const auto& subject : endpoint.subjects) {
    if (subject_allows(subject, endpoint.provider, client, snapshot, conf)) {
      return true;
    }
  }
  return false;
}

Result<std::shared_ptr<const globalconf::GlobalConfSnapshot>> usable(
    const GlobalConfSource& source) {
  auto conf = source();
  if (conf == nullptr) {
    return Error(FaultCode::kOutdatedGlobalConf, "No global configuration is loaded");
  }
  HANSA_RETURN_IF_ERROR(conf->check_valid(std::chrono::system_clock::now()));
  return conf;
}

}  // namespace

Metaservices::Metaservices(ServerConfSource serverconf, GlobalConfSource globalconf,
                           DescriptionDocumentSource documents)
    : serverconf_(std::move(serverconf)),
      globalconf_(std::move(globalconf)),
      documents_(std::move(documents)) {
  HANSA_CHECK(serverconf_ != nullptr && globalconf_ != nullptr);
}

bool Metaservices::may_call_some_endpoint(const serverconf::ServerConfSnapshot& snapshot,
                                          const globalconf::GlobalConfSnapshot& conf,
                                          const ids::ClientId& client,
                                          const ids::ServiceId& service) const {
  for (const auto* endpoint : snapshot.endpoints_of(service.provider(), service.service_code())) {
    if (endpoint_allows(*endpoint, client, snapshot, conf)) {
      return true;
    }
  }
  return false;
}

Result<SoapMetaAnswer> Metaservices::answer_soap(const message::SoapMessage& request,
                                                 message::Metaservice which) const {
  HANSA_CHECK(request.header.has_value() && request.header->service.has_value());
  HANSA_ASSIGN_OR_RETURN(auto conf, usable(globalconf_));
  auto snapshot = serverconf_();
  if (snapshot == nullptr) {
    return Error(FaultCode::kInternalError, "Server configuration is not loaded");
  }
  const ids::ClientId& client = request.header->client;
  const ids::ClientId& provider = request.header->service->provider();
  SoapMetaAnswer answer;
  switch (which) {
    case message::Metaservice::kListMethods:
    case message::Metaservice::kAllowedMethods: {
      HANSA_RETURN_IF_ERROR(message::check_method_list_request(request));
      std::vector<ids::ServiceId> services;
      for (const auto* service : snapshot->services_of(provider)) {
        if (service->type != serverconf::ServiceType::kSoap) {
          continue;
        }
        if (which == message::Metaservice::kAllowedMethods &&
            !may_call_some_endpoint(*snapshot, *conf, client, service->id)) {
          continue;
        }
        services.push_back(service->id);
      }
      HANSA_ASSIGN_OR_RETURN(answer.soap_part,
                             message::build_method_list_response(request, services));
      return answer;
    }
    case message::Metaservice::kGetWsdl: {
      HANSA_ASSIGN_OR_RETURN(ids::ServiceId wanted, message::parse_get_wsdl_request(request));
      const serverconf::ServiceEntry* service = snapshot->find_service(wanted);
      if (service == nullptr || service->type != serverconf::ServiceType::kSoap) {
        return Error(FaultCode::kUnknownService, "Unknown service", wanted.to_string());
      }
      if (!may_call_some_endpoint(*snapshot, *conf, client, service->id)) {
        return Error(FaultCode::kAccessDenied, "Request is not allowed", wanted.to_string());
      }
      const serverconf::DescriptionEntry* description =
          snapshot->find_description(service->description_id);
      if (description == nullptr || description->type != serverconf::DescriptionType::kWsdl ||
          documents_ == nullptr) {
        return Error(FaultCode::kUnknownService, "No WSDL for the service", wanted.to_string());
      }
      HANSA_ASSIGN_OR_RETURN(std::string wsdl, documents_(description->id));
      HANSA_ASSIGN_OR_RETURN(std::string masked, message::mask_wsdl_endpoints(wsdl));
      HANSA_ASSIGN_OR_RETURN(message::WsdlResponse response,
                             message::build_get_wsdl_response(request, service->id, masked));
      answer.soap_part = std::move(response.soap_part);
      answer.content_type = std::move(response.package.content_type);
      answer.attachment_data.push_back(std::move(response.wsdl));
      answer.attachment_content_types.emplace_back("text/xml");
      answer.attachment_content_ids.emplace_back("wsdl");
      return answer;
    }
    case message::Metaservice::kGetOpenApi:
      break;
  }
  return Error(FaultCode::kUnknownService, "Not a SOAP metaservice",
               request.header->service->service_code());
}

Result<RestMetaAnswer> Metaservices::answer_rest(const message::RestRequest& request,
                                                 message::Metaservice which) const {
  HANSA_ASSIGN_OR_RETURN(auto conf, usable(globalconf_));
  auto snapshot = serverconf_();
  if (snapshot == nullptr) {
    return Error(FaultCode::kInternalError, "Server configuration is not loaded");
  }
  const ids::ClientId& client = request.client;
  const ids::ClientId& provider = request.service.provider();
  RestMetaAnswer answer;
  switch (which) {
    case message::Metaservice::kListMethods:
    case message::Metaservice::kAllowedMethods: {
      std::vector<message::RestServiceEntry> entries;
      for (const auto* service : snapshot->services_of(provider)) {
        if (service->type != serverconf::ServiceType::kRest) {
          continue;
        }
        message::RestServiceEntry entry{
            service->id,
            service->description_type == serverconf::DescriptionType::kOpenApi ? "OPENAPI" : "REST",
            {}};
        const bool listing_allowed = which == message::Metaservice::kAllowedMethods;
        bool service_wide = false;
        auto endpoints = snapshot->endpoints_of(provider, service->id.service_code());
        if (listing_allowed) {
          for (const auto* endpoint : endpoints) {
            if (endpoint->key() == serverconf::kServiceEndpoint &&
                endpoint_allows(*endpoint, client, *snapshot, *conf)) {
              service_wide = true;
            }
          }
        }
        for (const auto* endpoint : endpoints) {
          if (listing_allowed && !service_wide &&
              !endpoint_allows(*endpoint, client, *snapshot, *conf)) {
            continue;
          }
          entry.endpoints.push_back({endpoint->key().method, endpoint->key().path});
        }
        if (listing_allowed && entry.endpoints.empty()) {
          continue;
        }
        entries.push_back(std::move(entry));
      }
      answer.content_type = "application/json";
      answer.body = message::build_rest_method_list(entries);
      return answer;
    }
    case message::Metaservice::kGetOpenApi: {
      HANSA_ASSIGN_OR_RETURN(std::string code, message::parse_get_openapi_query(request));
      auto services = snapshot->services_by_code(provider, code);
      const serverconf::ServiceEntry* service = services.empty() ? nullptr : services.front();
      if (service == nullptr || service->type != serverconf::ServiceType::kRest) {
        return Error(FaultCode::kUnknownService, "Unknown service",
                     provider.to_string() + "/" + code);
      }
      if (!may_call_some_endpoint(*snapshot, *conf, client, service->id)) {
        return Error(FaultCode::kAccessDenied, "Request is not allowed", service->id.to_string());
      }
      const serverconf::DescriptionEntry* description =
          snapshot->find_description(service->description_id);
      if (description == nullptr || description->type != serverconf::DescriptionType::kOpenApi ||
          documents_ == nullptr) {
        return Error(FaultCode::kUnknownService, "The service has no OpenAPI description",
                     service->id.to_string());
      }
      HANSA_ASSIGN_OR_RETURN(answer.body, documents_(description->id));
      std::size_t first = answer.body.find_first_not_of(" \t\r\n");
      answer.content_type = first != std::string::npos && answer.body[first] == '{'
                                ? "application/json"
                                : "application/yaml";
      return answer;
    }
    case message::Metaservice::kGetWsdl:
      break;
  }
  return Error(FaultCode::kUnknownService, "Not a REST metaservice",
               request.service.service_code());
}

void Metaservices::handle_list_clients(const http::Request& request,
                                       http::Response& response) const {
  auto conf = usable(globalconf_);
  if (!conf.ok()) {
    response.set_error(conf.error(), Origin::kClientProxy);
    return;
  }
  std::string instance = request.query("xRoadInstance").value_or((*conf)->instance_identifier());
  std::vector<message::ClientListEntry> entries;
  for (auto& id : (*conf)->clients(instance)) {
    message::ClientListEntry entry{id, (*conf)->member_name(id).value_or(""), std::nullopt};
    if (auto sub = id.as_subsystem()) {
      entry.subsystem_name = (*conf)->subsystem_name(*sub);
    }
    entries.push_back(std::move(entry));
  }
  auto accept = request.header("Accept");
  if (accept && accept->find("application/json") != std::string_view::npos) {
    response.set_body(message::build_client_list_json(entries), "application/json");
  } else {
    response.set_body(message::build_client_list_xml(entries), "text/xml; charset=UTF-8");
  }
}

http::Handler Metaservices::list_clients_handler() const {
  return [this](const http::Request& request, http::Response& response) {
    handle_list_clients(request, response);
  };
}

}  // namespace hansa::proxy
