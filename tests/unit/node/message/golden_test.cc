// Golden SOAP messages (STYLE.md "Tests"): every file under data/golden/ is one case, a small
// header block (Note, Content-Type, Role: request|response, Expect: ok|<FaultCode name>), an empty
// line, then the HTTP body exactly as an information system would send it.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/mime/headers.h"
#include "node/message/soap.h"
#include "tests/unit/node/message/test_data.h"

namespace hansa::message {
namespace {

std::vector<std::string> golden_cases() {
  std::vector<std::string> names;
  const std::filesystem::path dir =
      std::filesystem::path(HANSA_SOURCE_DIR) / "tests/unit/node/message/data/golden";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".msg") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

class GoldenSoapTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenSoapTest, ParsesToTheExpectedOutcome) {
  const std::string file = testing::read_data("golden/" + GetParam());
  auto entity = mime::parse_entity(file);
  ASSERT_TRUE(entity.ok()) << entity.error().to_string();
  const auto content_type = entity->headers.get("Content-Type");
  const auto role = entity->headers.get("Role");
  const auto expect = entity->headers.get("Expect");
  ASSERT_TRUE(content_type && role && expect) << "case header incomplete";
  SoapParseOptions options;
  options.role = *role == "response" ? SoapRole::kResponse : SoapRole::kRequest;
  auto result = parse_soap(*content_type, std::string(entity->body), options);
  if (*expect == "ok") {
    EXPECT_TRUE(result.ok()) << entity->headers.get("Note").value_or("") << ": "
                             << result.error().to_string();
  } else {
    ASSERT_FALSE(result.ok()) << entity->headers.get("Note").value_or("");
    EXPECT_EQ(fault_name(result.error().code), *expect)
        << entity->headers.get("Note").value_or("") << ": " << result.error().to_string();
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenSoapTest, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 4);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace hansa::message
