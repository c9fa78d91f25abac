// Release throughput (redaction + the independent verifier + receipt) with
// the default policy of config/demo.json, for the demo clinic and purpose
// TREAT, over the clinical R4 examples and over the demo discharge summary.
// This is the per-recipient cost of every push and pull.
// Self-checking: a release that errors or fails closed aborts the run (the
// property tests prove the corpus releases cleanly).
//   build-bench/bench/consent_bench [--benchmark_filter=...]   (run from the repository root)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bench/corpus.hpp"
#include "bench/env.hpp"
#include "gateway/consent/consent.hpp"
#include "gateway/json/json.hpp"

namespace {

const gw::consent::Engine& engine() {
  static const gw::consent::Engine e = [] {
    const auto& defs = gw::bench::definitions();
    auto config = gw::consent::load_gateway_config("config/demo.json");
    if (!config) {
      std::fprintf(stderr, "run from the repository root: %s\n", config.error().to_string().c_str());
      std::exit(2);
    }
    auto policy = gw::consent::Policy::load_file(config->policy_path, defs.model);
    if (!policy) {
      std::fprintf(stderr, "policy: %s\n", policy.error().to_string().c_str());
      std::exit(2);
    }
    return gw::consent::Engine(*policy, defs.model, config->recipients);
  }();
  return e;
}

gw::consent::ReleaseRequest request() {
  gw::consent::ReleaseRequest r;
  r.recipient_id = "demo-clinic";
  r.purpose = "TREAT";
  r.now = std::chrono::system_clock::now();
  return r;
}

struct Input {
  std::vector<gw::json::Document> docs;
  std::size_t bytes = 0;
};

void run(benchmark::State& state, const Input& in) {
  const auto& eng = engine();
  const auto req = request();
  std::size_t released = 0, removals = 0;
  for (auto _ : state) {
    for (const auto& d : in.docs) {
      auto r = eng.release(d.root(), req);
      if (!r || r->outcome == gw::consent::Outcome::kFailedClosed) {
        std::fprintf(stderr, "release failed on a corpus document\n");
        std::abort();
      }
      released += r->outcome == gw::consent::Outcome::kReleased;
      removals += r->removals.size();
      benchmark::DoNotOptimize(r->document);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.bytes));
  state.counters["docs/s"] =
      benchmark::Counter(static_cast<double>(in.docs.size()), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["released"] = static_cast<double>(released) / static_cast<double>(state.iterations());
  state.counters["removals"] = static_cast<double>(removals) / static_cast<double>(state.iterations());
}

void BM_ReleaseClinicalExamples(benchmark::State& state) {
  static const Input in = [] {
    Input out;
    for (const auto& f : gw::bench::load_clinical_examples()) {
      auto d = gw::json::Document::parse(f.bytes);
      if (!d) continue;
      out.bytes += f.bytes.size();
      out.docs.push_back(std::move(*d));
    }
    return out;
  }();
  run(state, in);
}

void BM_ReleaseDemoDischargeSummary(benchmark::State& state) {
  static const Input in = [] {
    Input out;
    std::ifstream f("config/demo/discharge-summary.json", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    auto d = gw::json::Document::parse(ss.str());
    if (!d) {
      std::fprintf(stderr, "config/demo/discharge-summary.json: run from the repository root\n");
      std::exit(2);
    }
    out.bytes = ss.str().size();
    out.docs.push_back(std::move(*d));
    return out;
  }();
  run(state, in);
}

BENCHMARK(BM_ReleaseClinicalExamples)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReleaseDemoDischargeSummary)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
