#include "node/api/messagelog_routes.h"

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/asic/asic.h"
#include "core/ids/ids.h"
#include "node/messagelog/message_log.h"

namespace hansa::nodeapi {
namespace {

using Json = nlohmann::json;
using messagelog::TimePoint;

constexpr std::size_t kMaxParamBytes = 512;

std::string iso_time(TimePoint t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::optional<std::string>> param(const http::Request& req, std::string_view name) {
  auto v = req.query(name);
  if (v && v->size() > kMaxParamBytes) {
    return Error(FaultCode::kBadRequest, "query parameter too long", std::string(name));
  }
  return v;
}

Result<std::optional<std::int64_t>> int_param(const http::Request& req, std::string_view name,
                                              std::int64_t min, std::int64_t max) {
  HANSA_ASSIGN_OR_RETURN(auto v, param(req, name));
  if (!v) {
    return std::optional<std::int64_t>{};
  }
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < min || n > max) {
    return Error(FaultCode::kBadRequest,
                 std::string(name) + " must be an integer between " + std::to_string(min) +
                     " and " + std::to_string(max),
                 *v);
  }
  return std::optional<std::int64_t>{n};
}

// RFC 3339 UTC ("2026-01-31T12:00:00Z") or epoch seconds.
Result<std::optional<TimePoint>> time_param(const http::Request& req, std::string_view name) {
  HANSA_ASSIGN_OR_RETURN(auto v, param(req, name));
  if (!v) {
    return std::optional<TimePoint>{};
  }
  const std::string& s = *v;
  // 2200-01-01T00:00:00Z: later instants do not fit the clock's nanosecond range arithmetic.
  constexpr std::int64_t kMaxEpoch = 7258118400;
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && p == s.data() + s.size() && n <= kMaxEpoch) {
      return std::optional<TimePoint>{TimePoint(std::chrono::seconds(n))};
    }
  } else if (s.size() == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
             s[16] == ':' && s[19] == 'Z') {
    std::tm tm{};
    char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    const std::int64_t epoch = end == s.c_str() + s.size() ? timegm(&tm) : -1;
    if (epoch >= 0 && epoch <= kMaxEpoch) {
      return std::optional<TimePoint>{TimePoint(std::chrono::seconds(epoch))};
    }
  }
  return Error(FaultCode::kBadRequest,
               std::string(name) +
                   " must be RFC 3339 UTC (2026-01-31T12:00:00Z) or epoch seconds, before 2200",
               s.substr(0, 64));
}

Result<std::optional<std::string>> id_param(const http::Request& req, std::string_view name,
                                            bool service) {
  HANSA_ASSIGN_OR_RETURN(auto v, param(req, name));
  if (!v) {
    return v;
  }
  if (service) {
    HANSA_ASSIGN_OR_RETURN(auto id, ids::ServiceId::parse(*v));
    return std::optional<std::string>{id.to_string()};
  }
  HANSA_ASSIGN_OR_RETURN(auto id, ids::ClientId::parse(*v));
  return std::optional<std::string>{id.to_string()};
}

Json record_json(const messagelog::RecordInfo& r) {
  Json j = {{"id", r.id},
            {"query_id", r.query_id},
            {"x_request_id", r.x_request_id},
            {"client", r.client},
            {"service", r.service},
            {"response", r.response},
            {"rest", r.rest},
            {"body", std::string(messagelog::body_mode_name(r.body_mode))},
            {"body_bytes", r.body_bytes},
            {"time", iso_time(r.time)},
            {"timestamped", r.timestamp_id.has_value()},
            {"archived", r.archived}};
  return j;
}

LogReply json_reply(const Json& j, int status = 200) {
  return LogReply{
      status, j.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json", {}};
}

Error not_found_for_api(Error e) {
  if (e.code == FaultCode::kAsicContainerNotFound) {
    e.code = FaultCode::kNotFound;
  }
  return e;
}

}  // namespace

Result<LogReply> messagelog_find(messagelog::MessageLog& log, const http::Request& req,
                                 std::size_t max_limit) {
  messagelog::RecordQuery q;
  HANSA_ASSIGN_OR_RETURN(q.query_id, param(req, "queryId"));
  HANSA_ASSIGN_OR_RETURN(q.client, id_param(req, "client", false));
  HANSA_ASSIGN_OR_RETURN(q.service, id_param(req, "service", true));
  HANSA_ASSIGN_OR_RETURN(auto response, param(req, "response"));
  if (response) {
    if (*response != "true" && *response != "false") {
      return Error(FaultCode::kBadRequest, "response must be true or false", *response);
    }
    q.response = *response == "true";
  }
  HANSA_ASSIGN_OR_RETURN(q.from, time_param(req, "from"));
  HANSA_ASSIGN_OR_RETURN(q.to, time_param(req, "to"));
  std::size_t cap = std::min(max_limit, log.options().max_page_size);
  HANSA_ASSIGN_OR_RETURN(auto limit, int_param(req, "limit", 1, static_cast<std::int64_t>(cap)));
  q.limit = limit ? static_cast<std::size_t>(*limit) : std::min<std::size_t>(100, cap);
  HANSA_ASSIGN_OR_RETURN(auto after, int_param(req, "after", 0, INT64_MAX));
  q.after_id = after.value_or(0);
  auto found = log.find(q);
  if (!found.ok()) {
    Error e = std::move(found).error();
    if (e.code == FaultCode::kInvalidRequest) {
      e.code = FaultCode::kBadRequest;
    }
    return e;
  }
  Json items = Json::array();
  for (const auto& r : *found) {
    items.push_back(record_json(r));
  }
  Json j = {{"items", items}, {"limit", q.limit}};
  j["next_after"] = found->size() == q.limit ? Json(found->back().id) : Json(nullptr);
  return json_reply(j);
}

Result<LogReply> messagelog_record(messagelog::MessageLog& log, std::int64_t id) {
  HANSA_ASSIGN_OR_RETURN(auto info, log.record(id));
  return json_reply(record_json(info));
}

Result<LogReply> messagelog_container(messagelog::MessageLog& log, std::int64_t id) {
  auto c = log.container(id);
  if (!c.ok()) {
    return not_found_for_api(std::move(c).error());
  }
  LogReply r{200, std::move(c).value(), std::string(asic::kMimeType), {}};
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"record-" + std::to_string(id) + ".asice\"");
  return r;
}

Result<LogReply> messagelog_timestamper(messagelog::MessageLog& log) {
  HANSA_ASSIGN_OR_RETURN(auto s, log.timestamper_status());
  auto opt_time = [](const std::optional<TimePoint>& t) {
    return t ? Json(iso_time(*t)) : Json(nullptr);
  };
  Json j = {{"last_success", opt_time(s.last_success)},
            {"last_failure", opt_time(s.last_failure)},
            {"last_error", s.last_error},
            {"failing_since", opt_time(s.failing_since)},
            {"blocking", s.blocking},
            {"backlog", s.backlog},
            {"unarchived", s.unarchived}};
  const messagelog::MessageLogStats stats = log.stats();
  j["batches"] = stats.timestamp_batches;
  j["stamped_records"] = stats.timestamped_records;
  return json_reply(j);
}

Result<LogReply> messagelog_archive(messagelog::MessageLog& log) {
  HANSA_ASSIGN_OR_RETURN(auto out, log.archive_now());
  Json files = Json::array();
  for (const auto& f : out.files) {
    files.push_back(f.filename().string());
  }
  return json_reply({{"files", files}, {"records", out.records}});
}

Result<LogReply> messagelog_asic(messagelog::MessageLog& log, const http::Request& req) {
  HANSA_ASSIGN_OR_RETURN(auto query_id, param(req, "queryId"));
  HANSA_ASSIGN_OR_RETURN(auto instance, param(req, "xRoadInstance"));
  HANSA_ASSIGN_OR_RETURN(auto member_class, param(req, "memberClass"));
  HANSA_ASSIGN_OR_RETURN(auto member_code, param(req, "memberCode"));
  HANSA_ASSIGN_OR_RETURN(auto subsystem, param(req, "subsystemCode"));
  if (!query_id || query_id->empty() || !instance || !member_class || !member_code) {
    return Error(FaultCode::kBadRequest,
                 "queryId, xRoadInstance, memberClass and memberCode are required");
  }
  std::optional<std::string_view> sub;
  if (subsystem) {
    sub = *subsystem;
  }
  auto client = ids::ClientId::create(*instance, *member_class, *member_code, sub);
  if (!client.ok()) {
    return Error(FaultCode::kBadRequest, "invalid client identifier", client.error().to_string());
  }
  const bool request_only = req.query("requestOnly").has_value();
  const bool response_only = req.query("responseOnly").has_value();
  const bool unique = req.query("unique").has_value();
  const bool force = req.query("force").has_value();
  if (request_only && response_only) {
    return Error(FaultCode::kBadRequest, "requestOnly and responseOnly exclude each other");
  }
  if (unique && !request_only && !response_only) {
    return Error(FaultCode::kBadRequest, "unique needs requestOnly or responseOnly");
  }
  std::optional<bool> response;
  if (request_only || response_only) {
    response = response_only;
  }
  auto records = log.asic_records(*query_id, client->to_string(), response, force);
  if (!records.ok()) {
    return not_found_for_api(std::move(records).error());
  }
  if (records->empty()) {
    return Error(FaultCode::kNotFound, "no signed documents match", *query_id);
  }
  if (unique) {
    if (records->size() != 1) {
      return Error(FaultCode::kConflict, "the query id is not unique",
                   std::to_string(records->size()) + " documents");
    }
    LogReply r{200, std::move((*records)[0].container), std::string(asic::kMimeType), {}};
    r.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"" +
                               messagelog::container_name(*query_id, (*records)[0].info.response,
                                                          (*records)[0].info.id) +
                               "\"");
    return r;
  }
  std::vector<asic::Entry> entries;
  for (auto& rec : *records) {
    entries.push_back({messagelog::container_name(*query_id, rec.info.response, rec.info.id),
                       std::move(rec.container), false});
  }
  HANSA_ASSIGN_OR_RETURN(auto zip, asic::write_zip(entries));
  std::string file = messagelog::container_name(*query_id, false, 0);
  file = file.substr(0, file.find("-request-")) +
         (request_only    ? "-request"
          : response_only ? "-response"
                          : "") +
         ".zip";
  LogReply r{200, std::move(zip), "application/zip", {}};
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file + "\"");
  return r;
}

}  // namespace hansa::nodeapi
