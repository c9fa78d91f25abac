// FHIRPath cost as the validator pays it: compiling every invariant of the
// R4 core definitions (done once at load), and evaluating them over the
// clinical R4 examples (done on every request). Also one typical
// expression of each shape, so a regression in one family shows alone.
// Self-checking: an evaluation error aborts the run (the test suite proves
// there are none; a benchmark of failing evaluations would measure nothing).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "bench/corpus.hpp"
#include "bench/env.hpp"
#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/json/json.hpp"

namespace {

using gw::fhirpath::CompileOptions;
using gw::fhirpath::Expression;

struct Source {
  std::string path;  // element path the constraint sits on
  std::string context;
  std::string text;
};

// The constraint's context type: the element's own type when it has a
// single one (backbones by their generated name), the type for a root.
std::string context_of(const gw::fhir::Model& model, std::string_view path) {
  auto dot = path.rfind('.');
  if (dot == std::string_view::npos) return std::string(path);
  const gw::fhir::TypeDef* owner = model.type(path.substr(0, dot));
  if (!owner) return {};
  const gw::fhir::ElementDef* e = owner->element(path.substr(dot + 1));
  if (!e) return {};
  if (e->backbone) return e->backbone->name;
  return e->types.size() == 1 ? e->types[0] : std::string();
}

const std::vector<Source>& sources() {
  static const std::vector<Source> out = [] {
    std::vector<Source> v;
    const auto& model = *gw::bench::definitions().model;
    for (const auto& t : model.types()) {
      if (!t->structure_definition) continue;
      for (gw::json::Value el : t->structure_definition.find("snapshot").find("element").items()) {
        std::string_view path = el.find("path").str();
        for (gw::json::Value c : el.find("constraint").items()) {
          std::string_view text = c.find("expression").str();
          if (text.empty()) continue;
          v.push_back({std::string(path), context_of(model, path), std::string(text)});
        }
      }
    }
    return v;
  }();
  return out;
}

gw::Result<Expression> compile_one(const Source& s) {
  CompileOptions o;
  o.model = gw::bench::definitions().model;
  o.context_type = s.context;
  return Expression::compile(s.text, o);
}

// Compiled invariants by the element path they apply to ("Patient" for a
// type's own, "Patient.contact" for an element's).
struct Compiled {
  std::unordered_map<std::string, std::vector<Expression>> by_path;
  std::size_t count = 0;
};

const Compiled& compiled() {
  static const Compiled out = [] {
    Compiled c;
    for (const Source& s : sources()) {
      auto e = compile_one(s);
      if (!e) continue;  // the two known-bad R4 invariants (see invariants_test)
      c.by_path[s.path].push_back(std::move(*e));
      ++c.count;
    }
    return c;
  }();
  return out;
}

const std::vector<gw::json::Document>& documents() {
  static const std::vector<gw::json::Document> docs = [] {
    std::vector<gw::json::Document> out;
    for (const auto& f : gw::bench::load_clinical_examples()) {
      auto d = gw::json::Document::parse(f.bytes);
      if (d) out.push_back(std::move(*d));
    }
    return out;
  }();
  return docs;
}

// Walks a resource and evaluates the invariants of each node's type and
// element, with %resource following FHIR's rules for entries and contained
// resources. Returns evaluations; aborts on an evaluation error.
std::size_t evaluate_all(const gw::fhir::Model& model, const Compiled& inv, const gw::fhir::Node& root,
                         std::vector<gw::fhir::Node>& kids) {
  struct Item {
    gw::fhir::Node node, resource, root;
  };
  std::vector<Item> stack{{root, root, root}};
  std::size_t n = 0;
  while (!stack.empty()) {
    Item it = stack.back();
    stack.pop_back();
    gw::fhirpath::EvaluationContext ctx;
    ctx.resource = it.resource;
    ctx.root_resource = it.root;
    auto run = [&](std::string_view key) {
      auto found = inv.by_path.find(std::string(key));
      if (found == inv.by_path.end()) return;
      for (const Expression& e : found->second) {
        auto r = e.evaluate_boolean(it.node, ctx);
        if (!r) {
          std::fprintf(stderr, "invariant evaluation failed: %s\n", r.error().to_string().c_str());
          std::abort();
        }
        ++n;
      }
    };
    if (it.node.type) run(it.node.type->name);
    // A backbone's type is named by its path; do not run its list twice.
    if (it.node.element && (!it.node.type || it.node.element->path != it.node.type->name)) {
      run(it.node.element->path);
    }
    kids.clear();
    model.children(it.node, kids);
    for (const auto& k : kids) {
      if (!k.is_resource()) {
        stack.push_back({k, it.resource, it.root});
      } else {
        stack.push_back({k, k, k.name == "contained" ? it.root : k});
      }
    }
  }
  return n;
}

void BM_CompileCoreInvariants(benchmark::State& state) {
  const auto& src = sources();
  for (auto _ : state) {
    for (const Source& s : src) benchmark::DoNotOptimize(compile_one(s));
  }
  state.counters["expressions/s"] =
      benchmark::Counter(static_cast<double>(src.size()), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_EvaluateCoreInvariantsOnExamples(benchmark::State& state) {
  const auto& model = *gw::bench::definitions().model;
  const Compiled& inv = compiled();
  std::vector<gw::fhir::Node> roots;
  for (const auto& d : documents()) {
    auto r = model.resource(d.root());
    if (r) roots.push_back(*r);
  }
  std::vector<gw::fhir::Node> kids;
  std::size_t evaluations = 0;
  for (auto _ : state) {
    evaluations = 0;
    for (const auto& r : roots) evaluations += evaluate_all(model, inv, r, kids);
  }
  state.counters["resources"] = static_cast<double>(roots.size());
  state.counters["evaluations"] = static_cast<double>(evaluations);
  state.counters["evaluations/s"] =
      benchmark::Counter(static_cast<double>(evaluations), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["resources/s"] =
      benchmark::Counter(static_cast<double>(roots.size()), benchmark::Counter::kIsIterationInvariantRate);
}

// One expression per family on one resource: path navigation, where()
// with a nested exists(), string functions with a regex, date arithmetic.
void BM_SingleExpression(benchmark::State& state) {
  static const char* kExpressions[] = {
      "Patient.name.where(use = 'official').given.first()",
      "Patient.telecom.where(system = 'phone' and value.matches('^[0-9 +()-]+$')).exists()",
      "Patient.birthDate + 18 years < today()",
      "Patient.descendants().ofType(Coding).where(system.startsWith('http://terminology')).count()",
  };
  const char* text = kExpressions[state.range(0)];
  const auto& model = gw::bench::definitions().model;
  static const auto doc = gw::json::Document::parse(
      R"({"resourceType":"Patient","id":"p1","name":[{"use":"official","family":"Example","given":["Ana","B"]}],)"
      R"("telecom":[{"system":"phone","value":"+41 00 000 00 00"}],"birthDate":"1990-05-17",)"
      R"("maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M"}]},)"
      R"("communication":[{"language":{"coding":[{"system":"urn:ietf:bcp:47","code":"ti"}]},"preferred":true}]})");
  if (!doc) std::abort();
  auto root = model->resource(doc->root());
  CompileOptions o;
  o.model = model;
  auto e = Expression::compile(text, o);
  if (!root || !e) std::abort();
  gw::fhirpath::EvaluationContext ctx;
  ctx.resource = *root;
  ctx.root_resource = *root;
  for (auto _ : state) {
    auto r = e->evaluate(*root, ctx);
    if (!r) std::abort();
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(text);
}

BENCHMARK(BM_CompileCoreInvariants)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvaluateCoreInvariantsOnExamples)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SingleExpression)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::printf("core invariants: %zu sources, %zu compiled; clinical examples: %zu\n", sources().size(),
              compiled().count, documents().size());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
