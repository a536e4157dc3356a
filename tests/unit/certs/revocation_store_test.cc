#include "certs/hansa-trust/revocation_store.h"

#include <gtest/gtest.h>

#include "tests/unit/core/http/test_support.h"

namespace hansa::trust {
namespace {

using hansa::testing::TempDir;
using hansa::testing::write_file;

TEST(RevocationStore, NormalizesSerials) {
  EXPECT_EQ(normalize_serial("0x1A").value(), "1a");
  EXPECT_EQ(normalize_serial("001a").value(), "1a");
  EXPECT_EQ(normalize_serial("01:1A:ff").value(), "11aff");
  EXPECT_EQ(normalize_serial("0000").value(), "0");
  EXPECT_FALSE(normalize_serial("").ok());
  EXPECT_FALSE(normalize_serial("12g4").ok());
  EXPECT_FALSE(normalize_serial("-12").ok());
  EXPECT_FALSE(normalize_serial(std::string(200, 'a')).ok());
}

TEST(RevocationStore, ReasonNamesRoundTrip) {
  EXPECT_EQ(reason_from_name("keyCompromise"), RevocationReason::kKeyCompromise);
  EXPECT_EQ(reason_from_name("KEYCOMPROMISE"), RevocationReason::kKeyCompromise);
  EXPECT_EQ(reason_name(RevocationReason::kSuperseded), "superseded");
  EXPECT_FALSE(reason_from_name("bogus").has_value());
}

TEST(RevocationStore, ReadsAnOpensslCaIndex) {
  TempDir dir;
  write_file(dir.path() / "index.txt",
             "V\t301231235959Z\t\t1001\tunknown\t/CN=a\n"
             "R\t301231235959Z\t240102030405Z,keyCompromise\t1002\tunknown\t/CN=b\n"
             "garbage line\n");
  RevocationStore store(dir.path() / "state.json", dir.path() / "index.txt");
  auto good = store.lookup("1001");
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(good->state, CertState::kGood);
  auto revoked = store.lookup("0x1002");
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->state, CertState::kRevoked);
  EXPECT_EQ(revoked->reason, RevocationReason::kKeyCompromise);
  EXPECT_EQ(revoked->revocation_time, 1704164645);  // 2024-01-02T03:04:05Z
  auto unknown = store.lookup("1003");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->state, CertState::kUnknown);
}

TEST(RevocationStore, RevokeAndUnrevokeOverrideTheIndexAndPersist) {
  TempDir dir;
  write_file(dir.path() / "index.txt", "V\t301231235959Z\t\t1001\tunknown\t/CN=a\n");
  {
    RevocationStore store(dir.path() / "state.json", dir.path() / "index.txt");
    ASSERT_TRUE(store.revoke("1001", RevocationReason::kSuperseded, 1700000000).ok());
    ASSERT_TRUE(store.revoke("0xABCD", RevocationReason::kUnspecified, 1700000001).ok());
  }
  RevocationStore reopened(dir.path() / "state.json", dir.path() / "index.txt");
  auto revoked = reopened.lookup("1001");
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->state, CertState::kRevoked);
  EXPECT_EQ(revoked->reason, RevocationReason::kSuperseded);
  EXPECT_EQ(revoked->revocation_time, 1700000000);
  EXPECT_EQ(reopened.lookup("abcd")->state, CertState::kRevoked);  // known once revoked
  ASSERT_TRUE(reopened.unrevoke("1001").ok());
  EXPECT_EQ(reopened.lookup("1001")->state, CertState::kGood);
  EXPECT_FALSE(reopened.revoke("not-hex", RevocationReason::kUnspecified, 0).ok());
}

TEST(RevocationStore, CorruptStateFileIsAnError) {
  TempDir dir;
  write_file(dir.path() / "state.json", "{not json");
  RevocationStore store(dir.path() / "state.json", {});
  auto status = store.lookup("1");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, FaultCode::kIoError);
}

TEST(RevocationStore, WithoutIndexOnlyStateSerialsAreKnown) {
  TempDir dir;
  RevocationStore store(dir.path() / "state.json", {});
  EXPECT_EQ(store.lookup("1")->state, CertState::kUnknown);
  ASSERT_TRUE(store.unrevoke("1").ok());
  EXPECT_EQ(store.lookup("1")->state, CertState::kGood);
}

}  // namespace
}  // namespace hansa::trust
