// Tests of REST endpoint patterns: validation, matching and precedence.

#include "node/serverconf/path_pattern.h"

#include <gtest/gtest.h>

namespace hansa::serverconf {
namespace {

PathPattern pattern(const std::string& method, const std::string& path) {
  auto p = PathPattern::create({method, path});
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? std::move(p).value() : PathPattern();
}

TEST(PathPatternTest, ValidatesMethodsAndPaths) {
  EXPECT_TRUE(validate_endpoint({"GET", "/pets"}).ok());
  EXPECT_TRUE(validate_endpoint({"*", "**"}).ok());
  EXPECT_TRUE(validate_endpoint({"DELETE", "/pets/{id}/toys/**"}).ok());
  EXPECT_TRUE(validate_endpoint({"PATCH", "/a/*/b"}).ok());
  for (const EndpointKey& bad : std::vector<EndpointKey>{
           {"get", "/pets"},     // methods are upper case
           {"FETCH", "/pets"},   // not an HTTP method
           {"", "/pets"},        //
           {"GET", "pets"},      // no leading slash
           {"GET", ""},          //
           {"GET", "/a/**/b"},   // ** not last
           {"GET", "/a/x**"},    // ** not a whole segment
           {"GET", "/a/{id"},    // unbalanced
           {"GET", "/a/x{id}"},  // parameter not a whole segment
           {"GET", "/a/{}"},     // empty parameter name
           {"GET", "/a b"},      // space
           {"GET", "/a?x=1"},    // query
           {"GET", "/" + std::string(kMaxEndpointPathLength, 'a')},
       }) {
    const auto st = validate_endpoint(bad);
    ASSERT_FALSE(st.ok()) << bad.method << " " << bad.path;
    EXPECT_EQ(st.error().code, FaultCode::kInvalidRequest);
  }
}

TEST(PathPatternTest, MatchesLiteralsParametersAndSuffixes) {
  const auto exact = pattern("GET", "/pets");
  EXPECT_TRUE(exact.matches("GET", "/pets"));
  EXPECT_FALSE(exact.matches("POST", "/pets"));
  EXPECT_FALSE(exact.matches("GET", "/pets/1"));
  EXPECT_FALSE(exact.matches("GET", "/pet"));
  EXPECT_FALSE(exact.matches("GET", "/pets/"));

  const auto param = pattern("GET", "/pets/{petId}");
  EXPECT_TRUE(param.matches("GET", "/pets/42"));
  EXPECT_FALSE(param.matches("GET", "/pets"));
  EXPECT_FALSE(param.matches("GET", "/pets/"));  // a parameter is never empty
  EXPECT_FALSE(param.matches("GET", "/pets/42/toys"));

  const auto star = pattern("*", "/pets/*/toys");
  EXPECT_TRUE(star.matches("PUT", "/pets/1/toys"));
  EXPECT_FALSE(star.matches("PUT", "/pets/1/food"));

  const auto suffix = pattern("*", "/pets/**");
  EXPECT_TRUE(suffix.matches("GET", "/pets"));
  EXPECT_TRUE(suffix.matches("GET", "/pets/1"));
  EXPECT_TRUE(suffix.matches("DELETE", "/pets/1/toys/2"));
  EXPECT_FALSE(suffix.matches("GET", "/petshop"));

  const auto all = pattern("*", "**");
  EXPECT_TRUE(all.matches("GET", "/"));
  EXPECT_TRUE(all.matches("GET", ""));
  EXPECT_TRUE(all.matches("OPTIONS", "/x/y/z"));

  EXPECT_FALSE(PathPattern().matches("GET", "/"));
}

TEST(PathPatternTest, SpecificityOrdersLiteralsBeforeWildcardsBeforeMethod) {
  EXPECT_LT(pattern("*", "**").specificity(), pattern("*", "/pets/**").specificity());
  EXPECT_LT(pattern("*", "/pets/**").specificity(), pattern("*", "/pets/{id}").specificity());
  EXPECT_LT(pattern("GET", "/pets/{id}").specificity(), pattern("*", "/pets/1").specificity());
  EXPECT_LT(pattern("*", "/pets/1").specificity(), pattern("GET", "/pets/1").specificity());
}

}  // namespace
}  // namespace hansa::serverconf
