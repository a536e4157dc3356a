#include "core/conf/reader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace hansa::conf {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A fresh temporary directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("hansa-conf-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    std::filesystem::permissions(
        p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return p;
  }

 private:
  std::filesystem::path path_;
};

ConfReader Parse(const std::string& text) {
  auto r = ConfReader::from_string(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return std::move(r).value();
}

// The problems a reader ends with, after finish() has added unknown keys.
std::vector<std::string> FinishProblems(ConfReader& reader) {
  auto st = reader.finish();
  if (st.ok()) {
    return {};
  }
  EXPECT_EQ(st.error().code, FaultCode::kInvalidConfiguration);
  return reader.problems();
}

// An example daemon configuration, read the way daemons will read theirs.
struct NodeConf {
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
  milliseconds read_timeout{0};
  std::filesystem::path data_dir;
  Secret token_pin;
  std::vector<std::string> allowed_origins;
  std::string log_level;
  struct Peer {
    std::string name;
    std::int64_t weight = 0;
  };
  std::vector<Peer> peers;
};

Result<NodeConf> LoadNodeConf(ConfReader reader) {
  NodeConf c;
  auto server = reader.table("server");
  c.host = server.get_string("host", "127.0.0.1");
  c.port = static_cast<std::uint16_t>(server.get_integer("port", 8443, 1, 65535));
  c.tls = server.get_bool("tls", true);
  c.read_timeout = server.get_duration("read_timeout", seconds(30), milliseconds(1), seconds(3600));
  c.data_dir = reader.require_path("data_dir");
  c.token_pin = reader.require_secret("token.pin");
  c.allowed_origins = server.get_string_array("allowed_origins", {});
  c.log_level = reader.get_choice("log_level", "info", {"debug", "info", "warn", "error"});
  for (auto& peer : reader.table_array("peers")) {
    NodeConf::Peer p;
    p.name = peer.require_string("name");
    p.weight = peer.get_integer("weight", 1, 1, 100);
    c.peers.push_back(p);
  }
  if (c.tls && c.port == 80) {
    server.add_problem("port", "80 is for plain HTTP, not TLS");
  }
  return reader.finish(std::move(c));
}

TEST(ConfReaderTest, GoodFileLoadsIntoAStruct) {
  TempDir dir;
  dir.write("pin.txt", "s3cret-pin\n");
  auto file = dir.write("node.toml", R"(
log_level = "debug"
data_dir = "data"          # relative: resolved against this file's directory

[server]
host = "0.0.0.0"
port = 8080
tls = false
read_timeout = 2.5
allowed_origins = ["https://a.example", "https://b.example"]

[token]
pin_file = "pin.txt"

[[peers]]
name = "alpha"
weight = 10

[[peers]]
name = "beta"
)");
  auto reader = ConfReader::from_file(file);
  ASSERT_TRUE(reader.ok()) << reader.error().to_string();
  auto conf = LoadNodeConf(std::move(reader).value());
  ASSERT_TRUE(conf.ok()) << conf.error().to_string();
  EXPECT_EQ(conf->host, "0.0.0.0");
  EXPECT_EQ(conf->port, 8080);
  EXPECT_FALSE(conf->tls);
  EXPECT_EQ(conf->read_timeout, milliseconds(2500));
  EXPECT_EQ(conf->data_dir, dir.path() / "data");
  EXPECT_EQ(conf->token_pin.reveal(), "s3cret-pin");  // trailing newline dropped
  EXPECT_EQ(conf->allowed_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(conf->log_level, "debug");
  ASSERT_EQ(conf->peers.size(), 2u);
  EXPECT_EQ(conf->peers[0].name, "alpha");
  EXPECT_EQ(conf->peers[0].weight, 10);
  EXPECT_EQ(conf->peers[1].weight, 1);  // default
}

TEST(ConfReaderTest, DefaultsApplyWhenKeysAreAbsent) {
  auto conf = LoadNodeConf(Parse("data_dir = \"/var/lib/hansa\"\ntoken.pin = \"1234\"\n"));
  ASSERT_TRUE(conf.ok()) << conf.error().to_string();
  EXPECT_EQ(conf->host, "127.0.0.1");
  EXPECT_EQ(conf->port, 8443);
  EXPECT_TRUE(conf->tls);
  EXPECT_EQ(conf->read_timeout, seconds(30));
  EXPECT_EQ(conf->data_dir, "/var/lib/hansa");
  EXPECT_EQ(conf->token_pin.reveal(), "1234");
  EXPECT_TRUE(conf->peers.empty());
  EXPECT_EQ(conf->log_level, "info");
}

TEST(ConfReaderTest, EveryProblemIsListedAtOnceWithItsKey) {
  auto conf = LoadNodeConf(Parse(R"(
log_level = "loud"
colour = "blue"

[server]
host = 17
port = 0
tls = "yes"
read_timeout = -1
allowed_origins = ["ok", 3]
bind_addres = "typo"

[[peers]]
weight = 1000

[[peers]]
name = "b"
extra = true
)"));
  ASSERT_FALSE(conf.ok());
  const Error& e = conf.error();
  EXPECT_EQ(e.code, FaultCode::kInvalidConfiguration);
  for (const char* expected : {
           "server.host: expected a string, got an integer",
           "server.port: must be between 1 and 65535, got 0",
           "server.tls: expected a boolean, got a string",
           "server.read_timeout: must be between 0.001 and 3600 seconds, got -1",
           "data_dir: missing required key",
           "token.pin: missing required key (or token.pin_file)",
           "server.allowed_origins[1]: expected a string, got an integer",
           "log_level: must be one of debug, info, warn, error, got \"loud\"",
           "peers[0].name: missing required key",
           "peers[0].weight: must be between 1 and 100, got 1000",
           "colour: unknown key",
           "server.bind_addres: unknown key",
           "peers[1].extra: unknown key",
       }) {
    EXPECT_NE(e.message.find(expected), std::string::npos)
        << "missing: " << expected << "\nin: " << e.message;
  }
  EXPECT_NE(e.message.find("has 13 problems"), std::string::npos) << e.message;
}

TEST(ConfReaderTest, CrossFieldProblemsFromTheCaller) {
  auto conf = LoadNodeConf(
      Parse("data_dir = \"/d\"\ntoken.pin = \"1\"\n[server]\nport = 80\ntls = true\n"));
  ASSERT_FALSE(conf.ok());
  EXPECT_NE(conf.error().message.find("server.port: 80 is for plain HTTP, not TLS"),
            std::string::npos)
      << conf.error().message;
}

TEST(ConfReaderTest, UnknownKeysEverywhere) {
  auto reader = Parse(R"(
known = 1
unknown_top = 2
"weird key" = 3
[known_table]
a = 1
b = 2
[unknown_table]
x = 1
[unknown_table.deeper]
y = 2
[skipped]
anything = "goes"
[[items]]
ok = 1
[[items]]
ok = 2
nope = 3
[[unread_items]]
z = 1
)");
  (void)reader.get_integer("known", 0, 0, 10);
  (void)reader.table("known_table").get_integer("a", 0, 0, 10);
  reader.ignore("skipped");
  for (auto& item : reader.table_array("items")) {
    (void)item.get_integer("ok", 0, 0, 10);
  }
  auto problems = FinishProblems(reader);
  std::sort(problems.begin(), problems.end());
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "\"weird key\": unknown key",
                          "items[1].nope: unknown key",
                          "known_table.b: unknown key",
                          "unknown_table: unknown key",
                          "unknown_top: unknown key",
                          "unread_items: unknown key",
                      }));
}

TEST(ConfReaderTest, DottedKeysAndSubTables) {
  auto reader = Parse("a.b.c = 5\n[x]\ny.z = \"v\"\n");
  EXPECT_TRUE(reader.has("a.b.c"));
  EXPECT_FALSE(reader.has("a.b.d"));
  EXPECT_EQ(reader.get_integer("a.b.c", 0, 0, 10), 5);
  auto x = reader.table("x");
  EXPECT_EQ(x.prefix(), "x");
  EXPECT_EQ(x.get_string("y.z", ""), "v");
  EXPECT_TRUE(reader.finish().ok()) << reader.problems().size();

  // A scalar where a table is expected.
  auto bad = Parse("a = 1\n");
  EXPECT_EQ(bad.get_integer("a.b", 7, 0, 10), 7);
  auto t = bad.table("a");
  EXPECT_EQ(t.get_string("q", "fallback"), "fallback");
  EXPECT_EQ(t.require_string("r"), "");
  auto problems = FinishProblems(bad);
  EXPECT_EQ(problems, (std::vector<std::string>{"a: expected a table, got an integer",
                                                "a: expected a table, got an integer",
                                                "a.r: missing required key"}));
}

TEST(ConfReaderTest, WrongTypesForEveryGetter) {
  auto reader = Parse(R"(
s = 1
i = "1"
f = 1.5
b = 1
d = "30s"
p = 3
arr = "x"
iarr = [1, "2"]
tbl = 3
tarr = [1, 2]
date = 1979-05-27
)");
  EXPECT_EQ(reader.get_string("s", "fb"), "fb");
  EXPECT_EQ(reader.get_integer("i", 9, 0, 10), 9);
  EXPECT_EQ(reader.get_integer("f", 9, 0, 10), 9);
  EXPECT_TRUE(reader.get_bool("b", true));
  EXPECT_EQ(reader.get_duration("d", seconds(1), seconds(0), seconds(60)), seconds(1));
  EXPECT_EQ(reader.get_path("p", "/fb"), "/fb");
  EXPECT_EQ(reader.get_string_array("arr", {"fb"}), std::vector<std::string>{"fb"});
  EXPECT_EQ(reader.get_integer_array("iarr", {7}, 0, 10), std::vector<std::int64_t>{7});
  (void)reader.table("tbl");
  EXPECT_TRUE(reader.table_array("tarr").empty());
  EXPECT_EQ(reader.get_string("date", "fb"), "fb");
  auto problems = FinishProblems(reader);
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "s: expected a string, got an integer",
                          "i: expected an integer, got a string",
                          "f: expected an integer, got a floating-point number",
                          "b: expected a boolean, got an integer",
                          "d: expected a duration in seconds, got a string",
                          "p: expected a string, got an integer",
                          "arr: expected an array of strings, got a string",
                          "iarr[1]: expected an integer, got a string",
                          "tbl: expected a table, got an integer",
                          "tarr[0]: expected a table, got an integer",
                          "tarr[1]: expected a table, got an integer",
                          "date: expected a string, got a date",
                      }));
}

TEST(ConfReaderTest, RangesAndDurations) {
  auto reader = Parse(R"(
low = -5
high = 9223372036854775807
ok = 10
d_int = 5
d_frac = 0.25
d_tiny = 0.0004
d_huge = 1e300
d_inf = inf
d_nan = nan
ports = [80, 70000]
)");
  EXPECT_EQ(reader.get_integer("low", 1, 0, 10), 1);
  EXPECT_EQ(reader.get_integer("high", 1, 0, 10), 1);
  EXPECT_EQ(reader.get_integer("ok", 1, 0, 10), 10);
  EXPECT_EQ(reader.get_duration("d_int", seconds(1), seconds(0), seconds(60)), seconds(5));
  EXPECT_EQ(reader.get_duration("d_frac", seconds(1), seconds(0), seconds(60)), milliseconds(250));
  EXPECT_EQ(reader.get_duration("d_tiny", seconds(1), milliseconds(1), seconds(60)), seconds(1));
  EXPECT_EQ(reader.get_duration("d_huge", seconds(1), seconds(0), seconds(60)), seconds(1));
  EXPECT_EQ(reader.get_duration("d_inf", seconds(1), seconds(0), seconds(60)), seconds(1));
  EXPECT_EQ(reader.get_duration("d_nan", seconds(1), seconds(0), seconds(60)), seconds(1));
  EXPECT_EQ(reader.get_integer_array("ports", {443}, 1, 65535), std::vector<std::int64_t>{443});
  auto problems = FinishProblems(reader);
  ASSERT_EQ(problems.size(), 7u);
  EXPECT_EQ(problems[0], "low: must be between 0 and 10, got -5");
  EXPECT_EQ(problems[1], "high: must be between 0 and 10, got 9223372036854775807");
  EXPECT_EQ(problems[2], "d_tiny: must be between 0.001 and 60 seconds, got 0.0004");
  EXPECT_EQ(problems[6], "ports[1]: must be between 1 and 65535, got 70000");
}

TEST(ConfReaderTest, PathsResolveAgainstTheFileDirectory) {
  TempDir dir;
  auto file = dir.write("c.toml", "rel = \"sub/x\"\nabs = \"/etc/x\"\nempty = \"\"\n");
  auto reader = ConfReader::from_file(file);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->get_path("rel", {}), dir.path() / "sub/x");
  EXPECT_EQ(reader->get_path("abs", {}), "/etc/x");
  EXPECT_EQ(reader->get_path("missing", "default.db"), dir.path() / "default.db");
  EXPECT_EQ(reader->get_path("empty", "/fb"), "/fb");
  auto problems = FinishProblems(*reader);
  EXPECT_EQ(problems, std::vector<std::string>{"empty: must not be empty"});
  // From a string with no base directory, relative paths stay relative.
  auto s = Parse("rel = \"sub/x\"\n");
  EXPECT_EQ(s.get_path("rel", {}), "sub/x");
}

TEST(ConfReaderTest, ChoiceAndFinishValue) {
  auto reader = Parse("mode = \"fast\"\n");
  EXPECT_EQ(reader.get_choice("mode", "safe", {"safe", "fast"}), "fast");
  auto r = reader.finish(42);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
}

TEST(ConfLoadTest, MalformedTomlReportsLineAndColumn) {
  auto r = ConfReader::from_string("a = 1\nb = \n", "node.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInvalidConfiguration);
  EXPECT_EQ(r.error().message.rfind("node.toml:2:", 0), 0u) << r.error().message;

  auto dup = ConfReader::from_string("x = 1\ny = 2\nx = 3\n", "dup.toml");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message.rfind("dup.toml:3:", 0), 0u) << dup.error().message;

  TempDir dir;
  auto file = dir.write("bad.toml", "[server]\nport = 80\n[server\n");
  auto f = ConfReader::from_file(file);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find(file.string() + ":3:"), std::string::npos) << f.error().message;
}

TEST(ConfLoadTest, OversizedInputIsRefused) {
  TempDir dir;
  std::string big = "x = \"" + std::string(1024 * 1024, 'a') + "\"\n";
  auto file = dir.write("big.toml", big);
  auto r = ConfReader::from_file(file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, FaultCode::kInvalidConfiguration);
  EXPECT_NE(r.error().message.find("larger than 1048576 bytes"), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(ConfReader::from_string(big).ok());

  LoadLimits small;
  small.max_config_bytes = 8;
  EXPECT_FALSE(ConfReader::from_string("a = 12345", "<s>", {}, small).ok());
  EXPECT_TRUE(ConfReader::from_string("a = 1234", "<s>", {}, small).ok());
}

TEST(ConfLoadTest, MissingOrIrregularFiles) {
  TempDir dir;
  auto missing = ConfReader::from_file(dir.path() / "nope.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, FaultCode::kInvalidConfiguration);
  EXPECT_NE(missing.error().message.find("nope.toml"), std::string::npos);
  auto directory = ConfReader::from_file(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("not a regular file"), std::string::npos);
}

TEST(ConfLoadTest, HostileDocuments) {
  // Deep nesting, binary junk, NUL bytes and huge arrays fail cleanly.
  EXPECT_FALSE(ConfReader::from_string("a = " + std::string(100000, '[')).ok());
  EXPECT_FALSE(ConfReader::from_string(std::string("a = \"x\0y\"", 9)).ok());
  EXPECT_FALSE(ConfReader::from_string("\xff\xfe\x00\x01garbage").ok());
  EXPECT_FALSE(ConfReader::from_string("a = \"\\uD800\"").ok());
  std::string many = "a = [";
  for (int i = 0; i < 5000; ++i) {
    many += "1,";
  }
  many += "1]\n";
  auto reader = Parse(many);
  EXPECT_EQ(reader.get_integer_array("a", {}, 0, 10), std::vector<std::int64_t>{});
  auto problems = FinishProblems(reader);
  EXPECT_EQ(problems, std::vector<std::string>{"a: has more than 4096 items"});
}

}  // namespace
}  // namespace hansa::conf

namespace hansa::conf {
namespace {

TEST(ConfReaderTest, FinishIsRepeatable) {
  auto reader = Parse("stray = 1\n");
  auto first = reader.finish();
  auto second = reader.finish();
  ASSERT_FALSE(first.ok());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(first.error().message, second.error().message);
  EXPECT_EQ(reader.problems().size(), 1u);
  EXPECT_EQ(first.error().detail, "<string>");
}

}  // namespace
}  // namespace hansa::conf
