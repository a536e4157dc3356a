#include "core/timestamp/batch.h"

#include <utility>

namespace hansa::timestamp {

Result<BatchTimestamp> stamp_batch(const std::vector<std::string>& input_digests,
                                   const Stamper& stamper, const BatchOptions& options) {
  std::vector<hashchain::ChainInput> inputs;
  inputs.reserve(input_digests.size());
  for (const std::string& d : input_digests) {
    inputs.push_back(hashchain::ChainInput{d, {}});
  }
  HANSA_ASSIGN_OR_RETURN(hashchain::Tree tree,
                         hashchain::Tree::build(std::move(inputs), options.chain));
  std::string result_xml = tree.result_xml();
  // X-Road time-stamps the HashChainResult document's bytes exactly as stored.
  HANSA_ASSIGN_OR_RETURN(TimestampToken token, stamper(result_xml));
  std::vector<std::string> chain_xmls;
  if (options.chains) {
    chain_xmls.reserve(tree.size());
    for (std::size_t i = 0; i < tree.size(); ++i) {
      HANSA_ASSIGN_OR_RETURN(std::string chain, tree.chain_xml(i));
      chain_xmls.push_back(std::move(chain));
    }
  }
  return BatchTimestamp{std::move(token), std::move(result_xml), std::move(chain_xmls)};
}

Result<BatchTimestamp> stamp_batch(const std::vector<std::string>& input_digests,
                                   const TimestampClient& client, std::string_view tsa_url,
                                   const VerifyOptions& verify_options,
                                   const BatchOptions& options) {
  std::string url(tsa_url);
  return stamp_batch(
      input_digests, [&](std::string_view data) { return client.stamp(url, data, verify_options); },
      options);
}

}  // namespace hansa::timestamp
