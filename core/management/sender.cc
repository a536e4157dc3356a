#include "core/management/sender.h"

#include <string>

namespace hansa::management {

Result<ParsedResponse> send_request(http::Client& client, const BuiltRequest& request,
                                    std::string_view path, const RequestLimits& limits) {
  HANSA_ASSIGN_OR_RETURN(auto answer, client.post(path, request.body, request.content_type));
  auto parsed = parse_response(answer.body, limits);
  if (!parsed.ok()) {
    Error e = std::move(parsed).error();
    if (e.code == FaultCode::kInvalidSoap) {
      e.detail = "HTTP status " + std::to_string(answer.status);
    }
    return e;
  }
  if (parsed->request.header.id != request.message_id) {
    return Error(FaultCode::kInconsistentResponse, "management response answers message " +
                                                       parsed->request.header.id + ", not " +
                                                       request.message_id);
  }
  return parsed;
}

}  // namespace hansa::management
