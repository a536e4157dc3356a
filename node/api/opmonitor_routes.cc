#include "node/api/opmonitor_routes.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "node/opmonitor/node_monitoring.h"
#include "node/opmonitor/opmonitor.h"

namespace hansa::nodeapi {

namespace {

using Json = nlohmann::json;

Error bad(std::string message, std::string detail = {}) {
  return Error(FaultCode::kBadRequest, std::move(message), std::move(detail));
}

// A parameter's name in single quotes, for messages.
std::string quoted(std::string_view name) {
  std::string out = "'";
  out += name;
  out += '\'';
  return out;
}

// An optional integer query parameter (digits with an optional leading '-').
Result<std::optional<std::int64_t>> int_param(const http::Request& r, std::string_view name) {
  auto text = r.query(name);
  if (!text) {
    return std::optional<std::int64_t>();
  }
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size()) {
    return bad(quoted(name) + " must be an integer", text->substr(0, 64));
  }
  return std::optional<std::int64_t>(v);
}

Result<std::optional<ids::ClientId>> client_param(const http::Request& r, std::string_view name) {
  auto text = r.query(name);
  if (!text) {
    return std::optional<ids::ClientId>();
  }
  auto id = ids::ClientId::parse(*text);
  if (!id.ok()) {
    Error e = std::move(id).error();
    e.message = quoted(name) + ": " + e.message;
    return e;
  }
  return std::optional<ids::ClientId>(std::move(id).value());
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json stored_json(const opmonitor::StoredRecord& r, const opmonitor::OpMonitorOptions& o) {
  Json j = Json::parse(opmonitor::record_json(r, {}, o));
  j["id"] = r.id;
  return j;
}

}  // namespace

Result<std::string> opmonitor_records(const opmonitor::OpMonitor& monitor,
                                      const http::Request& request) {
  opmonitor::RecordQuery q;
  HANSA_ASSIGN_OR_RETURN(auto to, int_param(request, "to"));
  HANSA_ASSIGN_OR_RETURN(auto from, int_param(request, "from"));
  q.to = to;
  q.from = from.value_or(to.value_or(now_s()) - 3600);
  HANSA_ASSIGN_OR_RETURN(q.client, client_param(request, "client"));
  HANSA_ASSIGN_OR_RETURN(q.provider, client_param(request, "provider"));
  if (auto code = request.query("service_code")) {
    if (code->empty() || code->size() > 255) {
      return bad("'service_code' must be 1 to 255 characters");
    }
    q.service_code = *code;
  }
  if (auto s = request.query("succeeded")) {
    if (*s != "true" && *s != "false") {
      return bad("'succeeded' must be true or false", s->substr(0, 64));
    }
    q.succeeded = *s == "true";
  }
  HANSA_ASSIGN_OR_RETURN(auto limit, int_param(request, "limit"));
  HANSA_ASSIGN_OR_RETURN(auto offset, int_param(request, "offset"));
  if (limit) {
    if (*limit <= 0) {
      return bad("'limit' must be positive");
    }
    q.limit = static_cast<std::size_t>(*limit);
  }
  if (offset) {
    if (*offset < 0) {
      return bad("'offset' must not be negative");
    }
    q.offset = static_cast<std::size_t>(*offset);
  }
  HANSA_ASSIGN_OR_RETURN(auto page, monitor.query(q));
  Json items = Json::array();
  for (const auto& r : page.records) {
    items.push_back(stored_json(r, monitor.options()));
  }
  Json j = {{"items", std::move(items)},
            {"limit", page.limit},
            {"offset", page.offset},
            {"more", page.more}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<std::string> opmonitor_operational_data(const opmonitor::OpMonitor& monitor,
                                               const http::Request& request,
                                               const ids::MemberId& owner) {
  HANSA_ASSIGN_OR_RETURN(auto caller, client_param(request, "caller"));
  if (!caller) {
    return bad("'caller' (the client identifier asking) is required");
  }
  HANSA_ASSIGN_OR_RETURN(auto from, int_param(request, "records_from"));
  HANSA_ASSIGN_OR_RETURN(auto to, int_param(request, "records_to"));
  if (!from || !to) {
    return bad("'records_from' and 'records_to' (unix seconds) are required");
  }
  opmonitor::OperationalDataRequest req{
      .caller = *caller,
      .visibility = opmonitor::visibility_for(*caller, owner, monitor.options().monitoring_clients),
      .records_from = *from,
      .records_to = *to};
  HANSA_ASSIGN_OR_RETURN(req.client, client_param(request, "client"));
  if (auto fields = request.query("fields")) {
    std::size_t start = 0;
    while (start <= fields->size()) {
      const auto comma = fields->find(',', start);
      const auto end = comma == std::string::npos ? fields->size() : comma;
      if (end > start) {
        req.output_fields.push_back(fields->substr(start, end - start));
      }
      if (req.output_fields.size() > 64) {
        return bad("too many output fields");
      }
      start = end + 1;
    }
  }
  HANSA_ASSIGN_OR_RETURN(auto out, monitor.operational_data(req));
  Json j = {
      {"recordsCount", out.records_count},
      {"nextRecordsFrom", out.next_records_from ? Json(*out.next_records_from) : Json(nullptr)},
      {"visibility", req.visibility == opmonitor::Visibility::kAllRecords ? "all" : "own"},
      {"records", Json::parse(out.payload_json)["records"]}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string environment_json(const opmonitor::NodeMonitoring& monitoring) {
  return monitoring.environment().to_json();
}

std::string maintenance_json(const opmonitor::NodeMonitoring& monitoring) {
  return Json{{"draining", monitoring.health().draining()}}.dump();
}

}  // namespace hansa::nodeapi
