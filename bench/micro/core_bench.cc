// Micro-benchmarks of core hot paths: hash-chain build, batch signing, signature verification,
// multipart encode/decode.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/micro/dev_pki.h"
#include "core/crypto/digest.h"
#include "core/hashchain/hashchain.h"
#include "core/mime/reader.h"
#include "core/mime/writer.h"
#include "core/signature/signature.h"

namespace hansa::bench {
namespace {

std::string sha512(std::string_view data) {
  return crypto::digest(crypto::DigestAlgorithm::kSha512, data);
}

std::vector<hashchain::ChainInput> chain_inputs(std::size_t n) {
  std::vector<hashchain::ChainInput> inputs;
  inputs.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    inputs.push_back({sha512("message " + std::to_string(i)), {}});
  }
  return inputs;
}

// Builds the hash tree, the HashChainResult and one HashChain document per input.
void BM_HashChainBuild(benchmark::State& state) {
  const auto inputs = chain_inputs(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto built = hashchain::build_hash_chains(inputs);
    if (!built.ok()) {
      state.SkipWithError(built.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(built->root_digest);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_HashChainBuild)->Arg(1)->Arg(16)->Arg(128)->Arg(1024)->Unit(benchmark::kMicrosecond);

// What the message log pays to write one record's time-stamp chain from the batch's stored
// inputs when no tree is kept (a single container export): the tree over N inputs, then one chain.
void BM_HashChainTreeOneChain(benchmark::State& state) {
  const auto inputs = chain_inputs(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto tree = hashchain::Tree::build(inputs);
    if (!tree.ok()) {
      state.SkipWithError(tree.error().to_string().c_str());
      break;
    }
    auto chain = tree->chain_xml(inputs.size() / 2);
    benchmark::DoNotOptimize(chain);
  }
}
BENCHMARK(BM_HashChainTreeOneChain)
    ->Arg(128)
    ->Arg(1024)
    ->Arg(10'000)
    ->Unit(benchmark::kMillisecond);

signature::Signer software_signer(const crypto::PrivateKey& key) {
  return
      [&key](crypto::SignatureAlgorithm alg, std::string_view data) { return key.sign(alg, data); };
}

// Signs batches of N messages (one attachment each) with one key operation each, by `sign`
// (nullptr: the dev PKI member's RSA-2048 key).
void sign_batches(benchmark::State& state, const signature::Signer* sign) {
  auto pki = dev_signing_pki();
  if (!pki.ok()) {
    state.SkipWithError(pki.error().to_string().c_str());
    return;
  }
  std::vector<signature::BatchItem> items;
  for (int i = 0; i < state.range(0); ++i) {
    items.push_back({sha512("message " + std::to_string(i)), {sha512("attachment")}});
  }
  const signature::Signer signer = sign != nullptr ? *sign : software_signer(*(*pki)->key);
  for (auto _ : state) {
    auto signed_batch = signature::sign_batch(items, *(*pki)->cert, (*pki)->ocsp_der, signer);
    if (!signed_batch.ok()) {
      state.SkipWithError(signed_batch.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(signed_batch->front().signature_xml);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// One batch of N messages signed with one RSA-2048 key operation.
void BM_SignBatch(benchmark::State& state) { sign_batches(state, nullptr); }
BENCHMARK(BM_SignBatch)->Arg(1)->Arg(16)->Arg(128)->Unit(benchmark::kMicrosecond);

// The same batches with a key operation that costs nothing: what a batch signature costs besides
// the RSA operation (hash chains, the signature document and its canonical parts).
void BM_SignBatchWithoutKeyOperation(benchmark::State& state) {
  const std::string value(256, '\x5a');  // an RSA-2048 signature's size
  const signature::Signer fixed = [&value](crypto::SignatureAlgorithm, std::string_view) {
    return Result<std::string>(value);
  };
  sign_batches(state, &fixed);
}
BENCHMARK(BM_SignBatchWithoutKeyOperation)->Arg(1)->Arg(2)->Arg(16)->Unit(benchmark::kMicrosecond);

// What a receiver checks one message of `signed_batch` against: its message and, for a batch, the
// hash-chain files.
signature::SignedData signed_data_for(const std::string& message,
                                      const signature::BatchSignature& signed_batch) {
  signature::SignedData data;
  data.files["/message.xml"] = message;
  data.required["/message.xml"] = std::nullopt;
  if (!signed_batch.hash_chain.empty()) {
    data.files[std::string(signature::kSigHashChainResultUri)] = signed_batch.hash_chain_result;
    data.files[std::string(signature::kSigHashChainUri)] = signed_batch.hash_chain;
  }
  return data;
}

// Verifies `signature_xml` over `data` once per iteration (the benchmark's timed step).
bool verify_once(benchmark::State& state, const std::string& signature_xml,
                 const signature::SignedData& data, const globalconf::GlobalConfSnapshot& conf) {
  auto verified = signature::verify(signature_xml, data, conf);
  if (!verified.ok()) {
    state.SkipWithError(verified.error().to_string().c_str());
    return false;
  }
  benchmark::DoNotOptimize(verified->verified_at);
  return true;
}

// Full verification (parse, references, signature value, certificate chain and OCSP against the
// global configuration) of a direct signature (arg 1) or of one message of a batch (arg N), the
// same signature every iteration: the cost of each further message of a batch once its shared
// signature has been checked (and of a repeated signer's certificate check).
void BM_SignatureVerify(benchmark::State& state) {
  auto pki = dev_signing_pki();
  if (!pki.ok()) {
    state.SkipWithError(pki.error().to_string().c_str());
    return;
  }
  const std::string message = "<Envelope>" + std::string(1000, 'm') + "</Envelope>";
  std::vector<signature::BatchItem> items;
  for (int i = 0; i < state.range(0); ++i) {
    items.push_back({sha512(i == 0 ? message : "other " + std::to_string(i)), {}});
  }
  auto batch =
      signature::sign_batch(items, *(*pki)->cert, (*pki)->ocsp_der, software_signer(*(*pki)->key));
  if (!batch.ok()) {
    state.SkipWithError(batch.error().to_string().c_str());
    return;
  }
  const auto& mine = batch->front();
  const signature::SignedData data = signed_data_for(message, mine);
  for (auto _ : state) {
    if (!verify_once(state, mine.signature_xml, data, *(*pki)->conf)) {
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignatureVerify)->Arg(1)->Arg(16)->Unit(benchmark::kMicrosecond);

// As BM_SignatureVerify, but every iteration verifies a signature not seen before (more distinct
// signatures than the verifier remembers), by the same signer: the cost of the first message of
// each batch. The signer's certificate and OCSP check is remembered, as on a running node.
void BM_SignatureVerifyFresh(benchmark::State& state) {
  auto pki = dev_signing_pki();
  if (!pki.ok()) {
    state.SkipWithError(pki.error().to_string().c_str());
    return;
  }
  constexpr int kDistinct = 300;
  std::vector<std::string> messages;
  std::vector<signature::BatchSignature> signatures;
  for (int b = 0; b < kDistinct; ++b) {
    // Distinct messages: the signature of equal inputs in the same second is the same.
    const std::string& message = messages.emplace_back("<Envelope>" + std::to_string(b) +
                                                       std::string(1000, 'm') + "</Envelope>");
    std::vector<signature::BatchItem> items;
    for (int i = 0; i < state.range(0); ++i) {
      items.push_back(
          {sha512(i == 0 ? message : "other " + std::to_string(b) + "/" + std::to_string(i)), {}});
    }
    auto batch = signature::sign_batch(items, *(*pki)->cert, (*pki)->ocsp_der,
                                       software_signer(*(*pki)->key));
    if (!batch.ok()) {
      state.SkipWithError(batch.error().to_string().c_str());
      return;
    }
    signatures.push_back(std::move(batch->front()));
  }
  std::size_t next = 0;
  for (auto _ : state) {
    const auto& mine = signatures[next];
    const signature::SignedData data = signed_data_for(messages[next], mine);
    next = (next + 1) % signatures.size();
    if (!verify_once(state, mine.signature_xml, data, *(*pki)->conf)) {
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignatureVerifyFresh)->Arg(1)->Arg(16)->Unit(benchmark::kMicrosecond);

std::vector<mime::OutgoingPart> transport_parts(std::size_t body_bytes) {
  std::vector<mime::OutgoingPart> parts;
  parts.push_back({{{"Content-Type", "text/xml; charset=UTF-8"}},
                   "<Envelope>" + std::string(1000, 's') + "</Envelope>",
                   false});
  parts.push_back(
      {{{"Content-Type", "application/octet-stream"}}, std::string(body_bytes, 'b'), false});
  parts.push_back({{{"Content-Type", "application/octet-stream"}, {"signature-algorithm-id", "x"}},
                   std::string(2000, 'o'),
                   false});
  return parts;
}

// A three-part multipart/related (SOAP part, a body of N bytes, an OCSP-sized part).
void BM_MultipartEncode(benchmark::State& state) {
  const auto parts = transport_parts(static_cast<std::size_t>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto built = mime::build_multipart("related", parts);
    if (!built.ok()) {
      state.SkipWithError(built.error().to_string().c_str());
      break;
    }
    bytes = built->body.size();
    benchmark::DoNotOptimize(built->body);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_MultipartEncode)->Arg(1024)->Arg(100 * 1024)->Unit(benchmark::kMicrosecond);

void BM_MultipartDecode(benchmark::State& state) {
  const auto parts = transport_parts(static_cast<std::size_t>(state.range(0)));
  auto built = mime::build_multipart("related", parts);
  if (!built.ok()) {
    state.SkipWithError(built.error().to_string().c_str());
    return;
  }
  for (auto _ : state) {
    auto parsed = mime::parse_multipart(built->body, built->content_type);
    if (!parsed.ok() || parsed->parts.size() != 3) {
      state.SkipWithError("multipart did not parse");
      break;
    }
    benchmark::DoNotOptimize(parsed->parts);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * built->body.size()));
}
BENCHMARK(BM_MultipartDecode)->Arg(1024)->Arg(100 * 1024)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hansa::bench
