#include "bench/corpus.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <sstream>
#include <string_view>

#include "bench/env.hpp"
#include "gateway/json/json.hpp"

namespace gw::bench {

bool is_definitional(const std::string& t) {
  static const std::set<std::string> kDefinitional = {
      "StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "ConceptMap",
      "OperationDefinition", "CapabilityStatement", "CompartmentDefinition", "NamingSystem",
      "ImplementationGuide", "StructureMap", "GraphDefinition", "MessageDefinition",
      "TerminologyCapabilities", "Library", "PlanDefinition", "ActivityDefinition", "Measure",
      "Questionnaire", "TestScript", "TestReport", "ExampleScenario", "EventDefinition",
      "ObservationDefinition", "SpecimenDefinition", "ChargeItemDefinition", "ResearchDefinition",
      "ResearchElementDefinition", "EvidenceVariable", "Evidence", "EffectEvidenceSynthesis",
      "RiskEvidenceSynthesis", "OperationOutcome"};
  return kDefinitional.count(t) > 0;
}

std::vector<CorpusFile> load_clinical_examples() {
  const char* env = std::getenv("FHIR_PACKAGE_CACHE");
  std::string cache = env && *env ? env : std::string(std::getenv("HOME")) + "/.fhir/packages";
  std::filesystem::path dir = std::filesystem::path(cache) / "hl7.fhir.r4.examples#4.0.1" / "package";
  if (!std::filesystem::is_directory(dir)) {
    std::fprintf(stderr, "benchmark corpus missing: %s (run ./scripts/run first)\n", dir.c_str());
    std::exit(2);
  }
  std::vector<CorpusFile> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (e.path().extension() != ".json" || name == "package.json" || name[0] == '.') continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    auto doc = json::Document::parse(s.str());
    if (!doc) continue;
    std::string type(doc->root().find("resourceType").str());
    if (type.empty() || is_definitional(type)) continue;
    // The package also ships the specification's own definition Bundles
    // (Bundle-resources.json, Bundle-dataelements.json: 100 MB of
    // StructureDefinitions); they are definitions in a Bundle, not records.
    if (type == "Bundle") {
      std::string first(doc->root().find("entry")[0].find("resource").find("resourceType").str());
      if (!first.empty() && is_definitional(first)) continue;
    }
    out.push_back({name, s.str()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string generated_bundle(int entries) {
  std::string s = R"({"resourceType":"Bundle","type":"collection","entry":[)";
  for (int i = 0; i < entries; ++i) {
    if (i) s += ',';
    std::string id = std::to_string(i);
    if (i % 2 == 0) {
      s += R"({"fullUrl":"http://example.org/fhir/Patient/p)" + id +
           R"(","resource":{"resourceType":"Patient","id":"p)" + id +
           R"(","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">p</div>"},)"
           R"("name":[{"family":"Doe","given":["A"]}],"gender":"female","birthDate":"1970-01-01"}})";
    } else {
      s += R"({"fullUrl":"http://example.org/fhir/Observation/o)" + id +
           R"(","resource":{"resourceType":"Observation","id":"o)" + id +
           R"(","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">o</div>"},)"
           R"("status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},)"
           R"("subject":{"reference":"Patient/p)" + std::to_string(i - 1) +
           R"("},"effectiveDateTime":"2020-01-01T10:00:00Z","valueQuantity":{"value":72,"unit":"/min",)"
           R"("system":"http://unitsofmeasure.org","code":"/min"}}})";
    }
  }
  s += "]}";
  return s;
}

namespace {

Definitions load_definitions(std::span<const std::string_view> extra) {
  Definitions out;
  packages::LoadOptions load;
  load.cache_dir = packages::resolve_cache_dir("");
  for (std::string_view id : packages::kDefaultPackages) load.packages.emplace_back(id);
  for (std::string_view id : extra) load.packages.emplace_back(id);
  auto reg = packages::Registry::load(load);
  if (!reg) {
    std::fprintf(stderr, "cannot load the FHIR packages: %s\n", reg.error().to_string().c_str());
    std::exit(2);
  }
  out.registry = *reg;
  auto model = fhir::Model::from_registry(*out.registry);
  if (!model) {
    std::fprintf(stderr, "cannot build the element model: %s\n", model.error().to_string().c_str());
    std::exit(2);
  }
  out.model = *model;
  return out;
}

}  // namespace

const Definitions& definitions() {
  static const Definitions d = load_definitions({});
  return d;
}

const HandoffCase& handoff_case() {
  static const HandoffCase c = [] {
    constexpr std::string_view kOwn[] = {"migrantcare.fhir.gateway#0.1.0"};
    HandoffCase out;
    out.defs = load_definitions(kOwn);
    const std::string path =
        std::string(GW_SOURCE_DIR) + "/fhir-profiles/input/examples/valid/Bundle-mc-handoff-example.json";
    auto doc = json::Document::parse_file(path);
    if (!doc) {
      std::fprintf(stderr, "cannot read %s: %s\n", path.c_str(), doc.error().to_string().c_str());
      std::exit(2);
    }
    out.example = std::string(doc->source());
    return out;
  }();
  return c;
}

}  // namespace gw::bench
