// The two hash chain readers (core/hashchain/chain_reader.h): the strict single-pass reader must
// take the documents X-Road and Hansa write, and whatever it accepts the general reader (libxml2 +
// hashchain.xsd) must accept with the same content.

#include "core/hashchain/chain_reader.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdint>
#include <cstdio>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/crypto/encoding.h"

namespace hansa::hashchain::internal {
namespace {

namespace fs = std::filesystem;
using crypto::DigestAlgorithm;

std::string sha512(std::string_view data) { return crypto::digest(DigestAlgorithm::kSha512, data); }

// The hash chain documents of X-Road's containers (SOURCES.md), unpacked with unzip.
struct VectorDocuments {
  std::vector<std::string> chains;
  std::vector<std::string> results;
};

VectorDocuments xroad_documents() {
  VectorDocuments out;
  const fs::path dir =
      fs::temp_directory_path() / ("hansa_chain_reader_" + std::to_string(::getpid()));
  for (const char* name : {"asic-valid-signed-hashchain.asice", "asic-valid-batch-ts.asice",
                           "asic-valid-non-batch-rest.asice"}) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string cmd = "unzip -q -o '" + (fs::path(HANSA_VECTORS_DIR) / name).string() +
                            "' -d '" + dir.string() + "'";
    if (std::system(cmd.c_str()) != 0) {
      continue;
    }
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string file = entry.path().filename().string();
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      if (file == "sig-hashchain.xml" || file == "ts-hashchain.xml") {
        out.chains.push_back(text.str());
      } else if (file == "sig-hashchainresult.xml" || file == "ts-hashchainresult.xml") {
        out.results.push_back(text.str());
      }
    }
  }
  fs::remove_all(dir);
  return out;
}

// Chains and results as Hansa builds them, for 1 to 12 inputs, some with attachments.
VectorDocuments own_documents() {
  VectorDocuments out;
  for (std::size_t n = 1; n <= 12; ++n) {
    std::vector<ChainInput> inputs;
    for (std::size_t i = 0; i < n; ++i) {
      ChainInput in{sha512("input " + std::to_string(i)), {}};
      if (i % 3 == 1) {
        in.attachment_digests = {sha512("a1"), sha512("a2")};
      }
      inputs.push_back(std::move(in));
    }
    auto built = build_hash_chains(inputs);
    EXPECT_TRUE(built.ok());
    if (!built.ok()) {
      continue;
    }
    out.results.push_back(built->result_xml);
    for (auto& chain : built->chain_xmls) {
      out.chains.push_back(std::move(chain));
    }
  }
  return out;
}

// Documents the strict reader must leave to the general reader although they are valid.
constexpr std::string_view kNs =
    " xmlns:hc=\"http://cyber.ee/hashchain\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"";
constexpr std::string_view kMethod =
    "<hc:DefaultDigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha512\"/>";

std::string chain_with_step(std::string_view step_content, std::string_view root_extra = {}) {
  return "<hc:HashChain" + std::string(kNs) + std::string(root_extra) + ">" + std::string(kMethod) +
         "<hc:HashStep id=\"STEP0\">" + std::string(step_content) + "</hc:HashStep></hc:HashChain>";
}

std::string digest_value_element(std::string_view text) {
  return "<ds:DigestValue>" + std::string(text) + "</ds:DigestValue>";
}

const std::string kB64 = crypto::base64_encode(sha512("m"));

void expect_same(std::string_view doc) {
  const VerifyLimits limits;
  auto strict = parse_chain_strict(doc, limits);
  ASSERT_TRUE(strict.has_value()) << doc;
  auto general = parse_chain_general(doc, limits);
  ASSERT_TRUE(general.ok()) << doc << "\n" << general.error().to_string();
  EXPECT_EQ(*strict, *general) << doc;
}

TEST(ChainReaderTest, StrictReaderTakesXRoadAndOwnDocuments) {
  const VectorDocuments xroad = xroad_documents();
  // Two containers hold ts-hashchain files, one a sig-hashchain; each has a result.
  ASSERT_EQ(xroad.chains.size(), 3U);
  ASSERT_EQ(xroad.results.size(), 3U);
  const VectorDocuments own = own_documents();
  ASSERT_EQ(own.chains.size(), 78U);  // 1 + 2 + ... + 12
  for (const VectorDocuments* docs : {&xroad, &own}) {
    for (const std::string& chain : docs->chains) {
      expect_same(chain);
    }
    for (const std::string& result : docs->results) {
      auto strict = parse_result_strict(result);
      ASSERT_TRUE(strict.has_value()) << result;
      auto general = parse_result_general(result);
      ASSERT_TRUE(general.ok()) << general.error().to_string();
      EXPECT_EQ(*strict, *general);
      EXPECT_EQ(strict->digest.size(), 64U);
    }
  }
}

TEST(ChainReaderTest, StrictReaderTakesOtherLayouts) {
  // Single quotes, spaces around '=', a default namespace, a declaration without encoding,
  // base64 wrapped over lines, an end tag with trailing space, StepRef with its own method.
  expect_same(
      "<?xml version='1.0'?>\n<HashChain xmlns='http://cyber.ee/hashchain'>"
      "<HashStep id = \"S\" ><HashValue><DigestValue xmlns=\"http://www.w3.org/2000/09/"
      "xmldsig#\"  >" +
      kB64.substr(0, 40) + "\r\n  " + kB64.substr(40) +
      "</DigestValue ></HashValue></HashStep></HashChain>");
  expect_same(
      chain_with_step("<hc:StepRef URI=\"#S1\"><ds:DigestMethod "
                      "Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/></hc:StepRef>"
                      "<hc:DataRef URI=\"/m.xml\"><ds:DigestMethod "
                      "Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha512\"/>" +
                      digest_value_element(kB64) + "</hc:DataRef>"));
  // A chain with no steps and no default method is schema-valid.
  expect_same("<hc:HashChain xmlns:hc=\"http://cyber.ee/hashchain\"></hc:HashChain>");
}

TEST(ChainReaderTest, ValidDocumentsOutsideTheSubsetGoToTheGeneralReader) {
  const std::string value = "<hc:HashValue>" + digest_value_element(kB64) + "</hc:HashValue>";
  for (const std::string& doc : {
           chain_with_step("<!-- a comment -->" + value),
           chain_with_step("<hc:HashValue>" + digest_value_element("<![CDATA[" + kB64 + "]]>") +
                           "</hc:HashValue>"),
           chain_with_step("<hc:HashValue>" + digest_value_element("&#65;" + kB64.substr(1)) +
                           "</hc:HashValue>"),
           chain_with_step("<?pi data?>" + value),
           chain_with_step("<hc:HashValue><ds:DigestValue Id=\"x\">" + kB64 +
                           "</ds:DigestValue></hc:HashValue>"),
           chain_with_step(value,
                           " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                           "xmlns:other=\"urn:example:other?x=1\""),
           chain_with_step("<hc:DataRef URI=\"/file%20name.xml\">" + digest_value_element(kB64) +
                           "</hc:DataRef>"),
           "\xEF\xBB\xBF" + chain_with_step(value),
       }) {
    const VerifyLimits limits;
    EXPECT_FALSE(parse_chain_strict(doc, limits).has_value()) << doc;
    auto general = parse_chain_general(doc, limits);
    ASSERT_TRUE(general.ok()) << doc << "\n" << general.error().to_string();
    auto chosen = parse_chain(doc, limits);
    ASSERT_TRUE(chosen.ok());
    EXPECT_EQ(*chosen, *general);
  }
}

TEST(ChainReaderTest, InvalidDocumentsGetTheGeneralReadersError) {
  const std::string value = "<hc:HashValue>" + digest_value_element(kB64) + "</hc:HashValue>";
  const std::string method =
      "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha512\"/>";
  for (const std::string& doc : {
           chain_with_step(value, " extra=\"1\""),  // unknown attribute
           chain_with_step("<hc:HashValue>" + method + method + method + method +
                           digest_value_element(kB64) + "</hc:HashValue>"),  // four ds children
           chain_with_step("text" + value),                                  // mixed content
           "<hc:HashChain" + std::string(kNs) + "><hc:HashStep id=\"S\">" + value +
               "</hc:HashStep>" + std::string(kMethod) + "</hc:HashChain>",  // method after step
           chain_with_step("<zz:HashValue>" + digest_value_element(kB64) + "</zz:HashValue>"),
           "<hc:HashChain" + std::string(kNs) + "><hc:HashStep id=\"S\">" + value +
               "</hc:HashStep><hc:HashStep id=\"S\">" + value + "</hc:HashStep></hc:HashChain>",
           "<hc:HashChain" + std::string(kNs) + "><hc:HashStep id=\"1S\">" + value +
               "</hc:HashStep></hc:HashChain>",  // id not an NCName
           chain_with_step("<hc:HashValue><ds:Transforms/>" + digest_value_element(kB64) +
                           "</hc:HashValue>"),
           chain_with_step("<hc:StepRef URI=\"#S\">" + digest_value_element(kB64) +
                           "</hc:StepRef>"),
           chain_with_step("<hc:HashValue><ds:DigestMethod Algorithm=\"urn:md5\"/>" +
                           digest_value_element(kB64) + "</hc:HashValue>"),
           chain_with_step("<hc:HashValue>" + digest_value_element("!!!") + "</hc:HashValue>"),
           chain_with_step("<hc:DataRef>" + digest_value_element(kB64) + "</hc:DataRef>"),
           chain_with_step("<hc:HashValue><other:DigestValue xmlns:other=\"urn:x\">" + kB64 +
                           "</other:DigestValue></hc:HashValue>"),
           chain_with_step("<hc:HashValue/>"),
           chain_with_step(value + "<hc:Other/>"),
           "<hc:HashChain" + std::string(kNs) + ">" + std::string(kMethod) + std::string(kMethod) +
               "</hc:HashChain>",
           std::string("<hc:HashChainResult xmlns:hc=\"http://cyber.ee/hashchain\" URI=\"#S\"/>"),
           chain_with_step(value) + "<trailing/>",
           chain_with_step(value).substr(1),
           "<!DOCTYPE x>" + chain_with_step(value),
       }) {
    const VerifyLimits limits;
    EXPECT_FALSE(parse_chain_strict(doc, limits).has_value()) << doc;
    auto chosen = parse_chain(doc, limits);
    ASSERT_FALSE(chosen.ok()) << doc;
    EXPECT_EQ(chosen.error().code, FaultCode::kMalformedHashChain) << doc;
    EXPECT_EQ(chosen.error().to_string(), parse_chain_general(doc, limits).error().to_string());
  }
}

TEST(ChainReaderTest, LimitsMakeTheStrictReaderDecline) {
  const std::string value = "<hc:HashValue>" + digest_value_element(kB64) + "</hc:HashValue>";
  std::string many;
  for (int i = 0; i < 5; ++i) {
    many += "<hc:HashStep id=\"S" + std::to_string(i) + "\">" + value + value + "</hc:HashStep>";
  }
  const std::string doc = "<hc:HashChain" + std::string(kNs) + ">" + many + "</hc:HashChain>";
  VerifyLimits limits;
  ASSERT_TRUE(parse_chain_strict(doc, limits).has_value());
  // Namespace declarations are not attributes for the limits, but one element may carry only a
  // few (each is compared with the element's others).
  std::string declarations;
  for (int i = 0; i < 2000; ++i) {
    declarations += " xmlns:p" + std::to_string(i) + "=\"urn:p" + std::to_string(i) + "\"";
  }
  const std::string crowded = chain_with_step(value, declarations);
  EXPECT_FALSE(parse_chain_strict(crowded, limits).has_value());
  auto general = parse_chain_general(crowded, limits);
  ASSERT_TRUE(general.ok()) << general.error().to_string();
  EXPECT_TRUE(parse_chain(crowded, limits).ok());
  for (int which = 0; which < 4; ++which) {
    VerifyLimits tight;
    switch (which) {
      case 0:
        tight.max_steps_per_chain = 4;
        break;
      case 1:
        tight.max_values_per_step = 1;
        break;
      case 2:
        tight.xml.max_document_bytes = doc.size() - 1;
        break;
      case 3:
        tight.xml.max_depth = 3;
        break;
    }
    EXPECT_FALSE(parse_chain_strict(doc, tight).has_value()) << which;
    auto chosen = parse_chain(doc, tight);
    ASSERT_FALSE(chosen.ok()) << which;
    EXPECT_EQ(chosen.error().code, FaultCode::kMalformedHashChain);
  }
}

// Random edits of valid documents: whenever the strict reader accepts the edited bytes, the
// general reader must accept them too and read the same content.
TEST(ChainReaderTest, StrictReaderNeverAcceptsWhatTheGeneralReaderRefuses) {
  VectorDocuments docs = xroad_documents();
  const VectorDocuments own = own_documents();
  ASSERT_FALSE(docs.chains.empty());
  docs.chains.insert(docs.chains.end(), own.chains.begin(), own.chains.begin() + 10);
  docs.results.push_back(own.results.back());
  std::uint32_t seed =
      std::getenv("HANSA_CHAIN_READER_SEED") != nullptr
          ? static_cast<std::uint32_t>(std::atoll(std::getenv("HANSA_CHAIN_READER_SEED")))
          : 20261123U;
  auto next = [&seed] {
    seed = seed * 1664525U + 1013904223U;
    return seed >> 8;
  };
  const std::string specials = " \t\n<>/=\"':#&!?-_.AaZz019+xmlnsDigestValueSTEPURIid";
  const VerifyLimits limits;
  const int kRounds = std::getenv("HANSA_CHAIN_READER_ROUNDS") != nullptr
                          ? std::atoi(std::getenv("HANSA_CHAIN_READER_ROUNDS"))
                          : 4000;
  int strict_accepted = 0;
  int general_accepted = 0;
  int cases = 0;
  for (int round = 0; round < kRounds; ++round) {
    const bool result_doc = round % 4 == 3;
    const std::vector<std::string>& pool = result_doc ? docs.results : docs.chains;
    std::string m = pool[next() % pool.size()];
    const int edits = 1 + static_cast<int>(next() % 3);
    for (int e = 0; e < edits && !m.empty(); ++e) {
      const std::size_t pos = next() % m.size();
      switch (next() % 4) {
        case 0:
          m[pos] = specials[next() % specials.size()];
          break;
        case 1:
          m.erase(pos, 1 + next() % 8);
          break;
        case 2:
          m.insert(pos, 1, specials[next() % specials.size()]);
          break;
        default: {  // copy a piece of the document elsewhere
          const std::size_t from = next() % m.size();
          m.insert(pos, m.substr(from, 1 + next() % 40));
          break;
        }
      }
    }
    ++cases;
    if (result_doc) {
      auto strict = parse_result_strict(m);
      auto general = parse_result_general(m);
      general_accepted += general.ok() ? 1 : 0;
      if (strict) {
        ++strict_accepted;
        ASSERT_TRUE(general.ok()) << m << "\n" << general.error().to_string();
        EXPECT_EQ(*strict, *general) << m;
      }
    } else {
      auto strict = parse_chain_strict(m, limits);
      auto general = parse_chain_general(m, limits);
      general_accepted += general.ok() ? 1 : 0;
      if (strict) {
        ++strict_accepted;
        ASSERT_TRUE(general.ok()) << m << "\n" << general.error().to_string();
        EXPECT_EQ(*strict, *general) << m;
      }
    }
  }
  // Edits inside base64 text, whitespace and names keep many documents valid: both readers must
  // have accepted some, or this test would prove nothing.
  EXPECT_GT(strict_accepted, cases / 40) << strict_accepted << " of " << cases;
  EXPECT_GE(general_accepted, strict_accepted);
  std::printf("%d edited documents: general reader accepted %d, strict reader %d\n", cases,
              general_accepted, strict_accepted);
}

}  // namespace
}  // namespace hansa::hashchain::internal
