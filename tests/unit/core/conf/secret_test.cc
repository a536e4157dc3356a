#include "core/conf/secret.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "core/conf/reader.h"

namespace hansa::conf {
namespace {

constexpr char kValue[] = "correct-horse-battery-staple";

TEST(SecretTest, NeverPrints) {
  Secret s(kValue);
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "***");
  EXPECT_EQ(to_string(s), "***");
  EXPECT_EQ(fmt::format("{}", s), "***");
  EXPECT_EQ(fmt::format("pin={:>6}", s), "pin=   ***");  // format specs apply to "***" only
  EXPECT_EQ(testing::PrintToString(s), "***");
  struct Holder {
    Secret pin;
  };
  // Streaming a struct's member, as a log line would.
  std::ostringstream os2;
  os2 << "pin " << Holder{Secret(kValue)}.pin;
  EXPECT_EQ(os2.str().find(kValue), std::string::npos);
}

TEST(SecretTest, RevealAndCompare) {
  Secret s(kValue);
  EXPECT_EQ(s.reveal(), kValue);
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(Secret().empty());
  EXPECT_TRUE(s.equals(kValue));
  EXPECT_FALSE(s.equals("correct-horse-battery-stapl"));    // prefix
  EXPECT_FALSE(s.equals("correct-horse-battery-staple!"));  // longer
  EXPECT_FALSE(s.equals("Correct-horse-battery-staple"));   // first byte differs
  EXPECT_FALSE(s.equals(""));
  EXPECT_TRUE(Secret().equals(""));
  EXPECT_EQ(s, Secret(kValue));
  EXPECT_FALSE(s == Secret("other"));
  // Embedded NULs are compared, not treated as terminators.
  EXPECT_FALSE(Secret(std::string("a\0b", 3)).equals(std::string("a\0c", 3)));
}

TEST(SecretTest, CopyAndMoveKeepTheValue) {
  Secret a(kValue);
  Secret b = a;
  EXPECT_EQ(b.reveal(), kValue);
  Secret c = std::move(a);
  EXPECT_EQ(c.reveal(), kValue);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is wiped
  Secret d;
  d = c;
  EXPECT_EQ(d.reveal(), kValue);
  d = Secret("new");
  EXPECT_EQ(d.reveal(), "new");
}

class SecretFileTest : public testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("hansa-secret-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path Write(const std::string& name, const std::string& content) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    std::filesystem::permissions(
        p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return p;
  }
  ConfReader Load(const std::string& toml) {
    auto file = Write("conf.toml", toml);
    auto r = ConfReader::from_file(file);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return std::move(r).value();
  }
  std::filesystem::path dir_;
};

TEST_F(SecretFileTest, InlineAndFromFile) {
  Write("pin", "1234\r\n");
  auto reader = Load("[a]\npin = \"inline-pin\"\n[b]\npin_file = \"pin\"\n");
  auto a = reader.table("a").require_secret("pin");
  auto b = reader.table("b").require_secret("pin");
  EXPECT_EQ(a.reveal(), "inline-pin");
  EXPECT_EQ(b.reveal(), "1234");
  EXPECT_FALSE(reader.table("c").get_optional_secret("pin").has_value());
  EXPECT_TRUE(reader.finish().ok());
}

TEST_F(SecretFileTest, ProblemsNeverContainTheValue) {
  Write("empty", "\n");
  Write("big", std::string(70 * 1024, 'k'));
  auto reader = Load(R"(
both = "inline-secret-value"
both_file = "x"
wrong = 987654321
blank = ""
empty_file = "empty"
big_file = "big"
gone_file = "does-not-exist"
)");
  EXPECT_FALSE(reader.get_optional_secret("both").has_value());
  EXPECT_FALSE(reader.get_optional_secret("wrong").has_value());
  EXPECT_FALSE(reader.get_optional_secret("blank").has_value());
  EXPECT_FALSE(reader.get_optional_secret("empty").has_value());
  EXPECT_FALSE(reader.get_optional_secret("big").has_value());
  EXPECT_FALSE(reader.get_optional_secret("gone").has_value());
  (void)reader.require_secret("absent");
  auto st = reader.finish();
  ASSERT_FALSE(st.ok());
  const std::string& m = st.error().message;
  EXPECT_NE(m.find("both: give either both or both_file, not both"), std::string::npos) << m;
  EXPECT_NE(m.find("wrong: expected a string, got an integer"), std::string::npos) << m;
  EXPECT_NE(m.find("blank: must not be empty"), std::string::npos) << m;
  EXPECT_NE(m.find("empty_file: "), std::string::npos) << m;
  EXPECT_NE(m.find("big_file: "), std::string::npos) << m;
  EXPECT_NE(m.find("larger than 65536 bytes"), std::string::npos) << m;
  EXPECT_NE(m.find("gone_file: cannot read"), std::string::npos) << m;
  EXPECT_NE(m.find("absent: missing required key (or absent_file)"), std::string::npos) << m;
  EXPECT_EQ(m.find("inline-secret-value"), std::string::npos) << m;
  EXPECT_EQ(m.find("987654321"), std::string::npos) << m;
  EXPECT_EQ(m.find("kkkk"), std::string::npos) << m;
  EXPECT_EQ(st.error().to_string().find("inline-secret-value"), std::string::npos);
}

TEST_F(SecretFileTest, SharedSecretFilesAreRefused) {
  auto pin = Write("pin", "1234\n");
  std::filesystem::permissions(pin, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  auto reader = Load("pin_file = \"pin\"\n");
  EXPECT_FALSE(reader.get_optional_secret("pin").has_value());
  auto st = reader.finish();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("pin_file: " + pin.string() + " is open to group or others"),
            std::string::npos)
      << st.error().message;

  // The check can be turned off (for example for files mounted by an orchestrator).
  LoadLimits relaxed;
  relaxed.require_private_secret_files = false;
  auto r = ConfReader::from_string("pin_file = \"pin\"\n", "<s>", dir_, relaxed);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->require_secret("pin").reveal(), "1234");
  EXPECT_TRUE(r->finish().ok());
}

}  // namespace
}  // namespace hansa::conf
