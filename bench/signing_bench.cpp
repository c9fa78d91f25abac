// What signing adds to every push (per recipient) and pull: the canonical
// form, an ES256 signature over it (Signer::sign, from the document's text:
// parse + canonicalize + SHA-256 + ECDSA P-256 + append), and the check a
// receiver makes (verify_document on a parsed document). Input: the demo
// discharge summary (config/demo/discharge-summary.json, 17 KB), about the
// size of a demo HandoffDocument. Key: the demo signing key.
// Self-checking: a signature that does not verify aborts the run.
//   scripts/make-demo-certs && build-bench/bin/signing_bench   (from the repository root)
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gateway/json/json.hpp"
#include "gateway/signing/signing.hpp"

namespace {

struct Fixture {
  std::string document;
  std::shared_ptr<const gw::signing::Signer> signer;
  std::string signed_document;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "signing_bench: %s\n", what.c_str());
  std::exit(2);
}

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture out;
    std::ifstream in("config/demo/discharge-summary.json", std::ios::binary);
    if (!in) die("run from the repository root");
    std::ostringstream s;
    s << in.rdbuf();
    out.document = s.str();
    auto key = gw::signing::load_signing_key("build/demo-certs/gateway-signing.key",
                                             "build/demo-certs/gateway-signing.crt", "bench");
    if (!key) die(key.error().to_string() + " (run scripts/make-demo-certs first)");
    std::vector<gw::signing::SigningKey> keys;
    keys.push_back(std::move(*key));
    auto signer = gw::signing::Signer::create(std::move(keys), 0, gw::signing::Organization{});
    if (!signer) die(signer.error().to_string());
    out.signer = *signer;
    auto signed_doc = out.signer->sign(out.document, std::chrono::system_clock::now());
    if (!signed_doc) die(signed_doc.error().to_string());
    out.signed_document = *signed_doc;
    return out;
  }();
  return f;
}

void check_valid(const std::string& text) {
  auto doc = gw::json::Document::parse(text);
  if (!doc) die("the signed document does not parse");
  auto v = gw::signing::verify_document(doc->root(), fixture().signer->own_keys(), std::chrono::system_clock::now());
  if (v.status != gw::signing::VerifyStatus::kValid) die("a signature does not verify: " + v.message);
}

void BM_Canonicalize(benchmark::State& state) {
  auto doc = gw::json::Document::parse(fixture().document);
  if (!doc) die("the document does not parse");
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto c = gw::signing::canonical_json(doc->root());
    if (!c) die(c.error().to_string());
    bytes += c->size();
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_Canonicalize)->Unit(benchmark::kMicrosecond);

void BM_SignText(benchmark::State& state) {
  const Fixture& f = fixture();
  std::string last;
  for (auto _ : state) {
    auto s = f.signer->sign(f.document, std::chrono::system_clock::now());
    if (!s) die(s.error().to_string());
    last = std::move(*s);
  }
  check_valid(last);
  state.counters["docs/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SignText)->Unit(benchmark::kMicrosecond);

void BM_VerifyParsed(benchmark::State& state) {
  const Fixture& f = fixture();
  auto doc = gw::json::Document::parse(f.signed_document);
  if (!doc) die("the signed document does not parse");
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    auto v = gw::signing::verify_document(doc->root(), f.signer->own_keys(), now);
    if (v.status != gw::signing::VerifyStatus::kValid) die("verification failed: " + v.message);
    benchmark::DoNotOptimize(v);
  }
  state.counters["docs/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_VerifyParsed)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
