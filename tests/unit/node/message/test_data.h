#pragma once

// Test helpers of hansa_node_message_tests: reading the example messages under data/.

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace hansa::message::testing {

inline std::string read_data(std::string_view name) {
  const std::string path =
      std::string(HANSA_SOURCE_DIR) + "/tests/unit/node/message/data/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `text` with the first occurrence of `from` replaced by `to` (the test fails if absent).
inline std::string replace(std::string text, std::string_view from, std::string_view to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

}  // namespace hansa::message::testing
