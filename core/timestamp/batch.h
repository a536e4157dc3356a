#pragma once

// Batch time-stamping as X-Road's message log does it (reference section 4): one hash chain over
// many inputs, one RFC 3161 time-stamp over the bytes of the HashChainResult document, and each
// input keeps its own HashChain (stored in the ASiC container as ts-hashchain.xml next to
// ts-hashchainresult.xml and META-INF/timestamp.tst).
// Threading: the functions are thread-safe; BatchTimestamp is a plain value.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors/errors.h"
#include "core/hashchain/hashchain.h"
#include "core/timestamp/client.h"
#include "core/timestamp/timestamp.h"

namespace hansa::timestamp {

struct BatchOptions {
  // How the chain is built; X-Road's time-stamp chains reference "/META-INF/signatures.xml" from
  // "/ts-hashchain.xml". max_inputs bounds the batch (X-Road: 10000 records).
  hashchain::BuildOptions chain = {.algorithm = crypto::DigestAlgorithm::kSha512,
                                   .hash_chain_uri = "/ts-hashchain.xml",
                                   .data_uri = "/META-INF/signatures.xml",
                                   .max_inputs = 10'000};
  // false: no per-input chains in the result (chain_xmls stays empty). A caller that keeps the
  // input digests writes any input's chain later with hashchain::Tree over the same inputs and
  // chain options; the bytes are the same.
  bool chains = true;
};

struct BatchTimestamp {
  TimestampToken token;                 // over result_xml
  std::string result_xml;               // ts-hashchainresult.xml
  std::vector<std::string> chain_xmls;  // ts-hashchain.xml of each input, in input order (when
                                        // BatchOptions::chains)
};

// Time-stamps `data` and returns the verified token (e.g. TimestampClient::stamp bound to a URL).
using Stamper = std::function<Result<TimestampToken>(std::string_view data)>;

// Builds the hash chain over `input_digests` (each already hashed with options.chain.algorithm,
// e.g. the digest of an input's signatures.xml), time-stamps the result document with `stamper`
// and returns the token with every input's chain. Fails with InvalidRequest (no inputs, wrong
// digest size), LimitExceeded (too many inputs), or the stamper's error.
[[nodiscard]] Result<BatchTimestamp> stamp_batch(const std::vector<std::string>& input_digests,
                                                 const Stamper& stamper,
                                                 const BatchOptions& options = {});

// stamp_batch() through `client` at `tsa_url`, verifying the token with `verify_options`.
[[nodiscard]] Result<BatchTimestamp> stamp_batch(const std::vector<std::string>& input_digests,
                                                 const TimestampClient& client,
                                                 std::string_view tsa_url,
                                                 const VerifyOptions& verify_options,
                                                 const BatchOptions& options = {});

}  // namespace hansa::timestamp
