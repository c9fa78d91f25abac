// Instruction counts of validation, for decisions on a loaded or virtual
// machine where wall time is noise and hardware counters are absent. Run
// under callgrind with instrumentation off at start; this driver switches it
// on only around the measured work, after a warm-up pass has filled the lazy
// caches (profile plans, binding expansions):
//
//   valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p \
//     build-bench/bin/validation_count bundle 10000
//   valgrind ... build-bench/bin/validation_count corpus        # parse + validate
//   valgrind ... build-bench/bin/validation_count rapidjson     # RapidJSON DOM parse
//   valgrind ... build-bench/bin/validation_count handoff 20      # HandoffDocument vs its profile
//
// callgrind's "Collected" line is then the instruction count of the work;
// divided by the entries (bundle) it must stay flat from 1k to 100k, and
// corpus/rapidjson approximates the throughput ratio of validation_bench.
// Without valgrind the driver runs the same work and prints the verdicts,
// which double as a self-check (a bundle that fails to validate aborts).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <rapidjson/document.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "bench/corpus.hpp"
#include "bench/env.hpp"
#include "gateway/json/json.hpp"
#include "gateway/terminology/terminology.hpp"
#include "gateway/validation/validation.hpp"

namespace {

std::shared_ptr<const gw::validation::Validator> make_validator(const gw::bench::Definitions& defs) {
  gw::validation::ValidatorOptions opt;
  opt.terminology = std::make_shared<const gw::terminology::Service>(defs.registry);
  auto v = gw::validation::Validator::create(defs.registry, defs.model, opt);
  if (!v) std::exit(2);
  return *v;
}

int usage() {
  std::fprintf(stderr, "usage: validation_count bundle N | corpus | rapidjson | handoff N\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string mode = argv[1];
  if (mode == "rapidjson") {
    const auto files = gw::bench::load_clinical_examples();
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                                rapidjson::kParseNumbersAsStringsFlag;
    std::size_t bytes = 0;
    CALLGRIND_START_INSTRUMENTATION;
    for (const auto& f : files) {
      rapidjson::Document d;
      d.Parse<kFlags>(f.bytes.c_str(), f.bytes.size());
      if (d.HasParseError()) std::abort();
      bytes += f.bytes.size();
    }
    CALLGRIND_STOP_INSTRUMENTATION;
    std::printf("rapidjson: %zu files, %zu bytes\n", files.size(), bytes);
    return 0;
  }
  if (mode == "handoff" && argc == 3) {
    // The HandoffDocument example against its profile, N times after a
    // warm-up: instructions per validation are "Collected" / N.
    const int n = std::atoi(argv[2]);
    const auto& hc = gw::bench::handoff_case();
    auto v = make_validator(hc.defs);
    gw::validation::ValidateOptions vo;
    vo.profiles.emplace_back(gw::bench::HandoffCase::kProfile);
    auto doc = gw::json::Document::parse(hc.example);
    if (!doc) std::abort();
    auto warm = v->validate(doc->root(), vo);
    if (!warm || gw::validation::has_errors(*warm)) {
      std::fprintf(stderr, "the handoff example does not validate against its profile\n");
      std::abort();
    }
    CALLGRIND_START_INSTRUMENTATION;
    for (int i = 0; i < n; ++i) {
      auto r = v->validate(doc->root(), vo);
      if (!r || r->size() != warm->size()) std::abort();
    }
    CALLGRIND_STOP_INSTRUMENTATION;
    std::printf("handoff: %d validations of %zu bytes, %zu issues each\n", n, hc.example.size(), warm->size());
    return 0;
  }
  auto v = make_validator(gw::bench::definitions());
  if (mode == "corpus") {
    const auto files = gw::bench::load_clinical_examples();
    std::size_t issues = 0, bytes = 0;
    for (int pass = 0; pass < 2; ++pass) {
      issues = 0;
      if (pass == 1) CALLGRIND_START_INSTRUMENTATION;
      for (const auto& f : files) {
        auto doc = gw::json::Document::parse(f.bytes);
        if (!doc) std::abort();
        auto r = v->validate(doc->root());
        if (!r) std::abort();
        issues += r->size();
        if (pass == 1) bytes += f.bytes.size();
      }
      if (pass == 1) CALLGRIND_STOP_INSTRUMENTATION;
    }
    std::printf("corpus: %zu files, %zu bytes, %zu issues\n", files.size(), bytes, issues);
    return 0;
  }
  if (mode == "bundle" && argc == 3) {
    const int n = std::atoi(argv[2]);
    auto doc = gw::json::Document::parse(gw::bench::generated_bundle(n));
    if (!doc) std::abort();
    auto warm = v->validate(doc->root());
    if (!warm || gw::validation::has_errors(*warm)) {
      std::fprintf(stderr, "generated bundle does not validate\n");
      std::abort();
    }
    CALLGRIND_START_INSTRUMENTATION;
    auto r = v->validate(doc->root());
    CALLGRIND_STOP_INSTRUMENTATION;
    if (!r || r->size() != warm->size()) std::abort();
    std::printf("bundle: %d entries, %zu issues\n", n, r->size());
    return 0;
  }
  return usage();
}
