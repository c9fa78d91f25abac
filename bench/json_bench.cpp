// JSON parsing throughput on the clinical R4 examples: our hardened parser
// (positions, duplicate keys, depth limit) against RapidJSON's own DOM with
// the same safety flags, in the same binary. The validator's throughput goal
// is stated as a ratio to the RapidJSON DOM figure measured here.
// Self-checking: both parsers must accept every file and see the same
// number of values, or the benchmark aborts.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include <rapidjson/document.h>

#include "bench/corpus.hpp"
#include "gateway/json/json.hpp"

namespace {

const std::vector<gw::bench::CorpusFile>& corpus() {
  static const auto files = gw::bench::load_clinical_examples();
  return files;
}

std::size_t total_bytes() {
  std::size_t n = 0;
  for (const auto& f : corpus()) n += f.bytes.size();
  return n;
}

std::size_t count_values(const rapidjson::Value& v) {
  std::size_t n = 1;
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) n += count_values(it->value);
  } else if (v.IsArray()) {
    for (const auto& item : v.GetArray()) n += count_values(item);
  }
  return n;
}

constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                            rapidjson::kParseNumbersAsStringsFlag;

void verify() {
  for (const auto& f : corpus()) {
    auto ours = gw::json::Document::parse(f.bytes);
    rapidjson::Document theirs;
    theirs.Parse<kFlags>(f.bytes.c_str(), f.bytes.size());
    if (!ours || theirs.HasParseError() || ours->node_count() != count_values(theirs)) {
      std::fprintf(stderr, "verification failed on %s\n", f.name.c_str());
      std::abort();
    }
  }
}

void BM_GatewayJsonParse(benchmark::State& state) {
  for (auto _ : state) {
    for (const auto& f : corpus()) {
      auto doc = gw::json::Document::parse(f.bytes);
      benchmark::DoNotOptimize(doc);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes()));
  state.counters["docs/s"] = benchmark::Counter(static_cast<double>(corpus().size()),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void BM_RapidJsonDom(benchmark::State& state) {
  for (auto _ : state) {
    for (const auto& f : corpus()) {
      rapidjson::Document d;
      d.Parse<kFlags>(f.bytes.c_str(), f.bytes.size());
      benchmark::DoNotOptimize(d);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes()));
  state.counters["docs/s"] = benchmark::Counter(static_cast<double>(corpus().size()),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_GatewayJsonParse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RapidJsonDom)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::printf("corpus: %zu clinical examples, %zu bytes\n", corpus().size(), total_bytes());
  verify();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
