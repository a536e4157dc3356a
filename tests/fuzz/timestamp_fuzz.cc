// Fuzz target: RFC 3161 time-stamp tokens and replies (core/timestamp TimestampToken::parse,
// parse_reply; RFC 3161 2.4.2). The same bytes go to both parsers.
// Invariant: a parsed token keeps its DER, which parses again to the same fields; verifying it
// against no approved TSA fails.

#include <cstddef>
#include <cstdint>

#include "core/timestamp/timestamp.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hansa::fuzz::invariant;
namespace ts = hansa::timestamp;

void check_token(const ts::TimestampToken& token) {
  auto again = ts::TimestampToken::parse(token.der());
  invariant(again.ok(), "a token's DER parses again");
  invariant(again->gen_time() == token.gen_time() && again->policy_oid() == token.policy_oid() &&
                again->imprint() == token.imprint() && again->nonce() == token.nonce() &&
                again->serial_hex() == token.serial_hex() &&
                again->imprint_digest() == token.imprint_digest(),
            "token parsing is deterministic");
  const ts::VerifyOptions no_tsa;
  invariant(!ts::verify_imprint(token, token.imprint(), no_tsa).ok(),
            "a token verifies only against an approved TSA");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto der = hansa::fuzz::as_view(data, size);

  (void)ts::TimestampToken::parse(der, 256);  // the size cap
  if (auto token = ts::TimestampToken::parse(der); token.ok()) {
    invariant(token->der() == der, "a token keeps its DER");
    check_token(*token);
  }
  if (auto token = ts::parse_reply(der); token.ok()) {
    check_token(*token);
  }
  return 0;
}
