#include "core/errors/errors.h"

#include <gtest/gtest.h>

#include <memory>

namespace hansa {
namespace {

TEST(FaultCodeTest, RendersWithOriginPrefix) {
  EXPECT_EQ(Error(FaultCode::kOutdatedGlobalConf, "expired").render(Origin::kClientProxy),
            "Server.ClientProxy.OutdatedGlobalConf");
  EXPECT_EQ(Error(FaultCode::kAccessDenied, "no right").render(Origin::kServerProxy),
            "Server.ServerProxy.AccessDenied");
  EXPECT_EQ(Error(FaultCode::kInvalidSoap, "bad").render(Origin::kClient), "Client.InvalidSoap");
  EXPECT_EQ(Error(FaultCode::kPinIncorrect, "pin").render(Origin::kSigner), "Signer.PinIncorrect");
  EXPECT_EQ(Error(FaultCode::kIoError, "x").render(Origin::kNone), "IOError");
}

TEST(FaultCodeTest, WrappingBuildsXRoadPaths) {
  Error inner(FaultCode::kHashChainUnusedInputs, "input /message.xml unused");
  EXPECT_EQ(inner.wrapped(FaultCode::kMalformedSignature).fault_code(),
            "MalformedSignature.HashChainUnusedInputs");
  Error missing(FaultCode::kMissingBody, "no body");
  EXPECT_EQ(missing.wrapped(FaultCode::kServiceFailed).render(Origin::kClientProxy),
            "Server.ClientProxy.ServiceFailed.MissingBody");
  // Wrapping twice nests outward.
  EXPECT_EQ(
      inner.wrapped(FaultCode::kMalformedSignature).wrapped(FaultCode::kServiceFailed).fault_code(),
      "ServiceFailed.MalformedSignature.HashChainUnusedInputs");
}

TEST(FaultCodeTest, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(FaultCode::kUnsupportedSignAlgorithm); ++i) {
    auto code = static_cast<FaultCode>(i);
    auto parsed = fault_from_name(fault_name(code));
    ASSERT_TRUE(parsed.has_value()) << fault_name(code);
    EXPECT_EQ(*parsed, code);
  }
  EXPECT_FALSE(fault_from_name("NoSuchFault").has_value());
  EXPECT_EQ(fault_name(FaultCode::kIoError), "IOError");
  EXPECT_EQ(fault_name(FaultCode::kHsmNonOperational), "HSMNonOperational");
}

TEST(ErrorTest, ToStringHasCodeMessageAndDetail) {
  Error e(FaultCode::kMissingHeaderField, "client header missing", "line 3");
  EXPECT_EQ(e.to_string(), "MissingHeaderField: client header missing (line 3)");
}

Result<int> parse_positive(int x) {
  if (x <= 0) return Error(FaultCode::kInvalidRequest, "not positive");
  return x;
}

Result<int> doubled(int x) {
  HANSA_ASSIGN_OR_RETURN(int v, parse_positive(x));
  return v * 2;
}

Status check(int x) {
  HANSA_RETURN_IF_ERROR(parse_positive(x));
  return ok_status();
}

TEST(ResultTest, CarriesValueOrError) {
  auto good = doubled(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, FaultCode::kInvalidRequest);
  EXPECT_EQ(bad.value_or(7), 7);
  EXPECT_TRUE(check(1).ok());
  EXPECT_EQ(check(0).error().message, "not positive");
}

TEST(ResultTest, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r(Error(FaultCode::kInternalError, "x"));
  EXPECT_DEATH({ (void)r.value(); }, "");
}

}  // namespace
}  // namespace hansa
