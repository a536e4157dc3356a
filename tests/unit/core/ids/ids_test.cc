#include "core/ids/ids.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_set>

namespace hansa::ids {
namespace {

// Asserts that `result` failed with `code` and that its message mentions `needle`.
template <typename T>
void ExpectFails(const Result<T>& result, FaultCode code, const std::string& needle = {}) {
  ASSERT_FALSE(result.ok()) << "expected failure containing " << needle;
  EXPECT_EQ(result.error().code, code) << result.error().to_string();
  if (!needle.empty()) {
    EXPECT_NE(result.error().message.find(needle), std::string::npos)
        << "message: " << result.error().message << "\nwanted: " << needle;
  }
}

TEST(ObjectTypeTest, NamesRoundTrip) {
  for (auto t : {ObjectType::kMember, ObjectType::kSubsystem, ObjectType::kServer,
                 ObjectType::kGlobalGroup, ObjectType::kLocalGroup, ObjectType::kService}) {
    auto back = object_type_from_name(object_type_name(t));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, t);
  }
  EXPECT_EQ(object_type_name(ObjectType::kGlobalGroup), "GLOBALGROUP");
  EXPECT_FALSE(object_type_from_name("member").has_value());  // case-sensitive
  EXPECT_FALSE(object_type_from_name("").has_value());
  EXPECT_FALSE(object_type_from_name("CLIENT").has_value());
}

TEST(CharacterRulesTest, AllowsExactlyTheProtocolSet) {
  // PR-MESS 2.7: A-Z a-z 0-9 ' ( ) + , - . = ?
  std::string allowed;
  for (int c = 0; c < 256; ++c) {
    if (is_identifier_char(static_cast<char>(c))) {
      allowed += static_cast<char>(c);
    }
  }
  EXPECT_EQ(allowed, "'()+,-.0123456789=?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
}

TEST(MemberIdTest, CreateAndPrint) {
  auto m = MemberId::create("EE", "GOV", "70000310");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->instance(), "EE");
  EXPECT_EQ(m->member_class(), "GOV");
  EXPECT_EQ(m->member_code(), "70000310");
  EXPECT_EQ(m->to_string(), "MEMBER:EE/GOV/70000310");
  EXPECT_EQ(m->to_short_string(), "EE/GOV/70000310");
}

TEST(MemberIdTest, ParseRoundTrip) {
  for (std::string text : {"MEMBER:EE/GOV/70000310", "MEMBER:EE-test/BUSINESS/123456789",
                           "MEMBER:a/b/c", "MEMBER:X'(+,-.=?)/C/1"}) {
    auto m = MemberId::parse(text);
    ASSERT_TRUE(m.ok()) << text << ": " << m.error().to_string();
    EXPECT_EQ(m->to_string(), text);
  }
}

TEST(MemberIdTest, RejectsBadInput) {
  ExpectFails(MemberId::parse("MEMBER:EE/GOV"), FaultCode::kInvalidClientIdentifier, "3 parts");
  ExpectFails(MemberId::parse("MEMBER:EE/GOV/1/2"), FaultCode::kInvalidClientIdentifier,
              "too many parts");
  ExpectFails(MemberId::parse("SUBSYSTEM:EE/GOV/1/2"), FaultCode::kInvalidClientIdentifier,
              "object type SUBSYSTEM");
  ExpectFails(MemberId::parse("EE/GOV/1"), FaultCode::kInvalidClientIdentifier, "prefix");
  ExpectFails(MemberId::parse("member:EE/GOV/1"), FaultCode::kInvalidClientIdentifier,
              "unknown object type");
  ExpectFails(MemberId::parse("MEMBER:EE//1"), FaultCode::kInvalidClientIdentifier,
              "memberClass is empty");
  ExpectFails(MemberId::parse("MEMBER:/GOV/1"), FaultCode::kInvalidClientIdentifier,
              "xRoadInstance is empty");
  ExpectFails(MemberId::parse("MEMBER:EE/GOV/"), FaultCode::kInvalidClientIdentifier,
              "memberCode is empty");
  ExpectFails(MemberId::parse(""), FaultCode::kInvalidClientIdentifier);
  ExpectFails(MemberId::parse("MEMBER:"), FaultCode::kInvalidClientIdentifier);
}

TEST(MemberIdTest, IllegalCharactersNameThePartAndPosition) {
  ExpectFails(MemberId::create("EE", "GOV", "7000 0310"), FaultCode::kInvalidClientIdentifier,
              "memberCode \"7000 0310\" has an illegal character \" \" at position 4");
  ExpectFails(MemberId::create("EE", "G_OV", "1"), FaultCode::kInvalidClientIdentifier,
              "memberClass");
  ExpectFails(MemberId::create("E:E", "GOV", "1"), FaultCode::kInvalidClientIdentifier,
              "xRoadInstance");
  // Each character outside the protocol set is refused somewhere in a part.
  for (char c : std::string("/:;%\\\"<>&*!@#$^[]{}|~`_ \t\n\r")) {
    std::string code = std::string("ab") + c + "cd";
    ExpectFails(MemberId::create("EE", "GOV", code), FaultCode::kInvalidClientIdentifier,
                "position 2");
  }
  // NUL and non-ASCII (UTF-8 letters, overlong forms) are illegal too and are escaped in messages.
  auto nul = MemberId::create("EE", "GOV", std::string("a\0b", 3));
  ExpectFails(nul, FaultCode::kInvalidClientIdentifier, "\\x00");
  ExpectFails(MemberId::create("EE", "GOV", "\xc3\xa4"), FaultCode::kInvalidClientIdentifier,
              "\\xc3");
  ExpectFails(MemberId::create("EE", "GOV", "\xc0\xaf"), FaultCode::kInvalidClientIdentifier);
}

TEST(MemberIdTest, PartLengthLimit) {
  std::string max(kMaxPartLength, 'a');
  EXPECT_TRUE(MemberId::create("EE", "GOV", max).ok());
  ExpectFails(MemberId::create("EE", "GOV", max + "a"), FaultCode::kInvalidClientIdentifier,
              "memberCode is longer than 255 bytes");
  ExpectFails(MemberId::create(max + "a", "GOV", "1"), FaultCode::kInvalidClientIdentifier,
              "xRoadInstance is longer");
}

TEST(SubsystemIdTest, CreateParsePrint) {
  auto s = SubsystemId::parse("SUBSYSTEM:EE/GOV/70000310/xroad");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->member().to_string(), "MEMBER:EE/GOV/70000310");
  EXPECT_EQ(s->subsystem_code(), "xroad");
  EXPECT_EQ(s->to_string(), "SUBSYSTEM:EE/GOV/70000310/xroad");
  EXPECT_EQ(s->to_short_string(), "EE/GOV/70000310/xroad");

  auto member = MemberId::create("EE", "GOV", "70000310").value();
  auto s2 = SubsystemId::create(member, "xroad");
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(*s2, *s);
  ExpectFails(SubsystemId::create(member, ""), FaultCode::kInvalidClientIdentifier,
              "subsystemCode is empty");
  ExpectFails(SubsystemId::parse("SUBSYSTEM:EE/GOV/70000310"), FaultCode::kInvalidClientIdentifier,
              "4 parts");
  ExpectFails(SubsystemId::parse("SUBSYSTEM:EE/GOV/70000310/a/b"),
              FaultCode::kInvalidClientIdentifier, "too many parts");
  ExpectFails(SubsystemId::parse("MEMBER:EE/GOV/70000310"), FaultCode::kInvalidClientIdentifier,
              "object type MEMBER");
}

TEST(ClientIdTest, MemberOrSubsystem) {
  auto m = ClientId::parse("MEMBER:EE/GOV/70000310");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->is_member());
  EXPECT_FALSE(m->is_subsystem());
  EXPECT_EQ(m->object_type(), ObjectType::kMember);
  EXPECT_FALSE(m->subsystem_code().has_value());
  EXPECT_FALSE(m->as_subsystem().has_value());
  EXPECT_EQ(m->to_string(), "MEMBER:EE/GOV/70000310");

  auto s = ClientId::parse("SUBSYSTEM:EE/GOV/70000310/xroad");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->is_subsystem());
  EXPECT_EQ(s->object_type(), ObjectType::kSubsystem);
  EXPECT_EQ(s->subsystem_code(), "xroad");
  ASSERT_TRUE(s->as_subsystem().has_value());
  EXPECT_EQ(s->as_subsystem()->to_string(), "SUBSYSTEM:EE/GOV/70000310/xroad");
  EXPECT_EQ(s->member(), m->member());
  EXPECT_EQ(s->to_string(), "SUBSYSTEM:EE/GOV/70000310/xroad");
  EXPECT_EQ(s->to_short_string(), "EE/GOV/70000310/xroad");
}

TEST(ClientIdTest, ImplicitFromMemberAndSubsystem) {
  auto member = MemberId::create("EE", "GOV", "1").value();
  auto sub = SubsystemId::create(member, "s").value();
  ClientId from_member = member;
  ClientId from_sub = sub;
  EXPECT_EQ(from_member, ClientId::create("EE", "GOV", "1").value());
  EXPECT_EQ(from_sub, ClientId::create("EE", "GOV", "1", "s").value());
  EXPECT_NE(from_member, from_sub);
}

TEST(ClientIdTest, RejectsOtherKindsAndBadParts) {
  ExpectFails(ClientId::parse("SERVICE:EE/GOV/1/getX"), FaultCode::kInvalidClientIdentifier,
              "MEMBER or SUBSYSTEM");
  ExpectFails(ClientId::parse("SERVER:EE/GOV/1/ss"), FaultCode::kInvalidClientIdentifier);
  ExpectFails(ClientId::parse("MEMBER:EE/GOV/1/x"), FaultCode::kInvalidClientIdentifier,
              "MEMBER needs 3 parts");
  ExpectFails(ClientId::parse("SUBSYSTEM:EE/GOV/1"), FaultCode::kInvalidClientIdentifier,
              "SUBSYSTEM needs 4 parts");
  ExpectFails(ClientId::create("EE", "GOV", "1", "a b"), FaultCode::kInvalidClientIdentifier,
              "subsystemCode");
  ExpectFails(ClientId::create("EE", "GOV", "1", ""), FaultCode::kInvalidClientIdentifier,
              "subsystemCode is empty");
}

TEST(ServiceIdTest, StringFormsOfEveryShape) {
  struct Case {
    std::string text;
    bool subsystem;
    std::string code;
    std::optional<std::string> version;
  };
  for (const Case& c : std::vector<Case>{
           {"SERVICE:EE/GOV/70000310/xroad/getPerson/v1", true, "getPerson", "v1"},
           {"SERVICE:EE/GOV/70000310/xroad/getPerson", true, "getPerson", std::nullopt},
           {"SERVICE:EE/GOV/70000310/getPerson", false, "getPerson", std::nullopt},
           {"SERVICE:EE/GOV/70000310//getPerson/v1", false, "getPerson", "v1"},
       }) {
    auto s = ServiceId::parse(c.text);
    ASSERT_TRUE(s.ok()) << c.text << ": " << s.error().to_string();
    EXPECT_EQ(s->provider().is_subsystem(), c.subsystem) << c.text;
    EXPECT_EQ(s->service_code(), c.code);
    EXPECT_EQ(s->service_version(), c.version);
    EXPECT_EQ(s->instance(), "EE");
    EXPECT_EQ(s->member_class(), "GOV");
    EXPECT_EQ(s->member_code(), "70000310");
    EXPECT_EQ(s->to_string(), c.text);  // printing and parsing are inverses
  }
}

TEST(ServiceIdTest, CreateAndWithoutVersion) {
  auto provider = ClientId::create("EE", "GOV", "70000310", "xroad").value();
  auto s = ServiceId::create(provider, "getPerson", "v1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->provider(), provider);
  EXPECT_EQ(s->subsystem_code(), "xroad");
  auto plain = s->without_version();
  EXPECT_FALSE(plain.service_version().has_value());
  EXPECT_EQ(plain.to_string(), "SERVICE:EE/GOV/70000310/xroad/getPerson");
  EXPECT_NE(plain, *s);
  EXPECT_EQ(plain, ServiceId::create(provider, "getPerson").value());

  auto member_service = ServiceId::create(provider.member(), "getPerson", "v2").value();
  EXPECT_EQ(member_service.to_string(), "SERVICE:EE/GOV/70000310//getPerson/v2");
}

TEST(ServiceIdTest, RejectsBadInput) {
  constexpr auto kCode = FaultCode::kInvalidServiceIdentifier;
  ExpectFails(ServiceId::parse("SERVICE:EE/GOV/1"), kCode, "4 to 6");
  ExpectFails(ServiceId::parse("SERVICE:EE/GOV/1/s/c/v/x"), kCode, "too many parts");
  ExpectFails(ServiceId::parse("SUBSYSTEM:EE/GOV/1/s"), kCode, "object type SUBSYSTEM");
  ExpectFails(ServiceId::parse("SERVICE:EE/GOV/1/s/c/"), kCode, "serviceVersion is empty");
  ExpectFails(ServiceId::parse("SERVICE:EE/GOV/1/s//v1"), kCode, "serviceCode is empty");
  ExpectFails(ServiceId::parse("SERVICE:EE/GOV/1/"), kCode, "serviceCode is empty");
  // A bad provider part is reported with the service code and names the part.
  ExpectFails(ServiceId::parse("SERVICE:EE/G OV/1/s/c"), kCode, "memberClass");
  ExpectFails(ServiceId::parse("SERVICE:EE/GOV/1/s s/c"), kCode, "subsystemCode");
  ExpectFails(ServiceId::parse("SERVICE:EE/GOV/1/s/c/v 1"), kCode, "serviceVersion");
  auto provider = ClientId::create("EE", "GOV", "1").value();
  ExpectFails(ServiceId::create(provider, "get/Person"), kCode, "serviceCode");
  ExpectFails(ServiceId::create(provider, "getPerson", ""), kCode, "serviceVersion is empty");
}

TEST(SecurityServerIdTest, CreateParsePrint) {
  auto s = SecurityServerId::parse("SERVER:EE/GOV/70000310/ss1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->owner().to_string(), "MEMBER:EE/GOV/70000310");
  EXPECT_EQ(s->server_code(), "ss1");
  EXPECT_EQ(s->to_string(), "SERVER:EE/GOV/70000310/ss1");
  EXPECT_EQ(*s, SecurityServerId::create("EE", "GOV", "70000310", "ss1").value());
  constexpr auto kCode = FaultCode::kInvalidSecurityServer;
  ExpectFails(SecurityServerId::parse("SERVER:EE/GOV/70000310"), kCode, "4 parts");
  ExpectFails(SecurityServerId::parse("MEMBER:EE/GOV/70000310"), kCode, "object type MEMBER");
  ExpectFails(SecurityServerId::create("EE", "GOV", "1", "ss 1"), kCode, "serverCode");
  // The owner's parts are reported as a security server problem too.
  ExpectFails(SecurityServerId::create("EE", "", "1", "ss1"), kCode, "memberClass is empty");
}

TEST(GroupIdTest, GlobalAndLocal) {
  auto g = GlobalGroupId::parse("GLOBALGROUP:EE/security-server-owners");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->instance(), "EE");
  EXPECT_EQ(g->group_code(), "security-server-owners");
  EXPECT_EQ(g->to_string(), "GLOBALGROUP:EE/security-server-owners");
  auto l = LocalGroupId::parse("LOCALGROUP:admins");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->group_code(), "admins");
  EXPECT_EQ(l->to_string(), "LOCALGROUP:admins");

  constexpr auto kCode = FaultCode::kInvalidIdentifier;
  ExpectFails(GlobalGroupId::parse("GLOBALGROUP:EE"), kCode, "2 parts");
  ExpectFails(GlobalGroupId::parse("GLOBALGROUP:EE/a/b"), kCode, "too many parts");
  ExpectFails(GlobalGroupId::parse("LOCALGROUP:admins"), kCode, "object type LOCALGROUP");
  ExpectFails(GlobalGroupId::create("EE", "gr oup"), kCode, "groupCode");
  ExpectFails(LocalGroupId::parse("LOCALGROUP:a/b"), kCode, "too many parts");
  ExpectFails(LocalGroupId::parse("LOCALGROUP:"), kCode, "groupCode is empty");
  ExpectFails(LocalGroupId::parse("GLOBALGROUP:EE/x"), kCode, "object type GLOBALGROUP");
}

TEST(AnyIdTest, DispatchesOnPrefix) {
  struct Case {
    std::string text;
    ObjectType type;
  };
  for (const Case& c : std::vector<Case>{
           {"MEMBER:EE/GOV/1", ObjectType::kMember},
           {"SUBSYSTEM:EE/GOV/1/s", ObjectType::kSubsystem},
           {"SERVICE:EE/GOV/1/s/c/v", ObjectType::kService},
           {"SERVER:EE/GOV/1/ss", ObjectType::kServer},
           {"GLOBALGROUP:EE/g", ObjectType::kGlobalGroup},
           {"LOCALGROUP:g", ObjectType::kLocalGroup},
       }) {
    auto id = parse_any(c.text);
    ASSERT_TRUE(id.ok()) << c.text;
    EXPECT_EQ(object_type(*id), c.type);
    EXPECT_EQ(to_string(*id), c.text);
  }
  ExpectFails(parse_any("CLIENT:EE/GOV/1"), FaultCode::kInvalidIdentifier, "unknown object type");
  ExpectFails(parse_any("no prefix"), FaultCode::kInvalidIdentifier);
  // A known prefix reports with the code of its kind.
  ExpectFails(parse_any("SERVICE:EE"), FaultCode::kInvalidServiceIdentifier);
  ExpectFails(parse_any("SERVER:EE"), FaultCode::kInvalidSecurityServer);
  ExpectFails(parse_any("SUBSYSTEM:EE"), FaultCode::kInvalidClientIdentifier);
}

TEST(HostileInputTest, HugeInputsAreRejectedCheaply) {
  std::string huge = "MEMBER:" + std::string(10 * 1024 * 1024, 'a');
  ExpectFails(MemberId::parse(huge), FaultCode::kInvalidClientIdentifier, "longer than 2048");
  ExpectFails(parse_any(huge), FaultCode::kInvalidIdentifier, "longer than");
  // Many separators within the length limit: rejected as too many parts.
  std::string slashes = "SERVICE:" + std::string(2000, '/');
  ExpectFails(ServiceId::parse(slashes), FaultCode::kInvalidServiceIdentifier, "too many parts");
  // Error messages quote at most a short prefix of hostile input.
  std::string long_code(2000, 'x');
  auto r = MemberId::parse("MEMBER:EE/GOV/" + long_code + "/extra");
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.error().message.size(), 300u);
}

TEST(HostileInputTest, ControlCharactersAndPrefixTricks) {
  ExpectFails(MemberId::parse("MEMBER:EE/GOV/1\n"), FaultCode::kInvalidClientIdentifier, "\\x0a");
  ExpectFails(MemberId::parse(" MEMBER:EE/GOV/1"), FaultCode::kInvalidClientIdentifier);
  ExpectFails(MemberId::parse("MEMBER :EE/GOV/1"), FaultCode::kInvalidClientIdentifier);
  ExpectFails(MemberId::parse("MEMBER:EE/GOV/1:2"), FaultCode::kInvalidClientIdentifier,
              "memberCode");
  ExpectFails(MemberId::parse("MEMBER::EE/GOV/1"), FaultCode::kInvalidClientIdentifier,
              "xRoadInstance");
  ExpectFails(MemberId::parse(std::string("MEMBER\0:EE/GOV/1", 16)),
              FaultCode::kInvalidClientIdentifier);
}

TEST(ComparisonTest, EqualityOrderingAndHash) {
  auto a = ClientId::parse("MEMBER:EE/GOV/1").value();
  auto a_sub = ClientId::parse("SUBSYSTEM:EE/GOV/1/a").value();
  auto b_sub = ClientId::parse("SUBSYSTEM:EE/GOV/1/b").value();
  auto other = ClientId::parse("MEMBER:EE/GOV/2").value();
  EXPECT_EQ(a, ClientId::parse("MEMBER:EE/GOV/1").value());
  EXPECT_LT(a, a_sub);  // a member sorts before its subsystems
  EXPECT_LT(a_sub, b_sub);
  EXPECT_LT(b_sub, other);
  EXPECT_TRUE((a <=> a_sub) < 0);

  std::set<ClientId> ordered{other, b_sub, a, a_sub};
  std::vector<std::string> names;
  for (const auto& c : ordered) {
    names.push_back(c.to_string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"MEMBER:EE/GOV/1", "SUBSYSTEM:EE/GOV/1/a",
                                             "SUBSYSTEM:EE/GOV/1/b", "MEMBER:EE/GOV/2"}));

  std::unordered_set<ClientId> hashed{a, a_sub, b_sub, other, a};
  EXPECT_EQ(hashed.size(), 4u);
  EXPECT_TRUE(hashed.contains(ClientId::parse("SUBSYSTEM:EE/GOV/1/b").value()));

  // Part boundaries matter for the hash: (ab, c) and (a, bc) are different ids.
  auto x = MemberId::create("EE", "ab", "c").value();
  auto y = MemberId::create("EE", "a", "bc").value();
  EXPECT_NE(x, y);
  EXPECT_NE(std::hash<MemberId>{}(x), std::hash<MemberId>{}(y));
  EXPECT_EQ(std::hash<MemberId>{}(x),
            std::hash<MemberId>{}(MemberId::create("EE", "ab", "c").value()));

  auto s1 = ServiceId::parse("SERVICE:EE/GOV/1/a/get/v1").value();
  auto s2 = ServiceId::parse("SERVICE:EE/GOV/1/a/get/v2").value();
  auto s0 = ServiceId::parse("SERVICE:EE/GOV/1/a/get").value();
  EXPECT_LT(s0, s1);
  EXPECT_LT(s1, s2);
  std::unordered_set<ServiceId> services{s0, s1, s2, s1};
  EXPECT_EQ(services.size(), 3u);
  std::unordered_set<SecurityServerId> servers{
      SecurityServerId::parse("SERVER:EE/GOV/1/a").value()};
  EXPECT_EQ(servers.size(), 1u);
  std::unordered_set<GlobalGroupId> groups{GlobalGroupId::parse("GLOBALGROUP:EE/g").value()};
  std::unordered_set<LocalGroupId> locals{LocalGroupId::parse("LOCALGROUP:g").value()};
  std::unordered_set<SubsystemId> subs{*a_sub.as_subsystem()};
  EXPECT_EQ(groups.size() + locals.size() + subs.size(), 3u);
  std::map<SecurityServerId, int> by_server{
      {SecurityServerId::parse("SERVER:EE/GOV/1/b").value(), 1},
      {SecurityServerId::parse("SERVER:EE/GOV/1/a").value(), 2}};
  EXPECT_EQ(by_server.begin()->first.server_code(), "a");
}

TEST(StreamTest, PrintsStringForm) {
  std::ostringstream os;
  os << ClientId::parse("SUBSYSTEM:EE/GOV/1/a").value() << ' '
     << ServiceId::parse("SERVICE:EE/GOV/1/a/get/v1").value() << ' '
     << SecurityServerId::parse("SERVER:EE/GOV/1/ss").value() << ' '
     << LocalGroupId::parse("LOCALGROUP:g").value();
  EXPECT_EQ(os.str(),
            "SUBSYSTEM:EE/GOV/1/a SERVICE:EE/GOV/1/a/get/v1 SERVER:EE/GOV/1/ss LOCALGROUP:g");
}

}  // namespace
}  // namespace hansa::ids
