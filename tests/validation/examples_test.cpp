// The R4 examples corpus and the IPS examples, validated end to end.
#include "gateway/validation/validation.hpp"

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"
#include "tests/validation/validation_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

namespace gw::validation {
namespace {

namespace fs = std::filesystem;

// Conformance and knowledge resources: not clinical instances.
const std::set<std::string> kDefinitional = {
    "StructureDefinition", "ValueSet", "CodeSystem", "CapabilityStatement", "SearchParameter",
    "OperationDefinition", "ImplementationGuide", "CompartmentDefinition", "ConceptMap",
    "NamingSystem", "StructureMap", "TerminologyCapabilities", "GraphDefinition",
    "MessageDefinition", "ExampleScenario", "TestScript", "TestReport", "ActivityDefinition",
    "PlanDefinition", "Library", "Measure", "Questionnaire", "EventDefinition",
    "ResearchDefinition", "ResearchElementDefinition", "EvidenceVariable", "Evidence",
    "EffectEvidenceSynthesis", "RiskEvidenceSynthesis", "ChargeItemDefinition",
    "ObservationDefinition", "SpecimenDefinition", "DeviceDefinition"};

std::string dir_of(const std::string& package, const char* env) {
  std::string d = gw::testing::package_dir(package);
  if (d.empty()) {
    if (const char* e = std::getenv(env); e && *e) d = e;
  }
  return d;
}

TEST(ExamplesTest, R4ClinicalExamplesValidate) {
  std::string dir = dir_of("hl7.fhir.r4.examples#4.0.1", "GW_R4_EXAMPLES_DIR");
  ASSERT_FALSE(dir.empty()) << "hl7.fhir.r4.examples#4.0.1 is not in the package cache";
  const auto* env = gw::testing::validation_env();
  ASSERT_NE(env, nullptr);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (e.path().extension() != ".json" || name == "package.json" || name[0] == '.') continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::size_t clean = 0;
  std::size_t total = 0;
  std::map<std::string, std::size_t> by_message;
  for (const auto& f : files) {
    auto doc = json::Document::parse_file(f.string());
    ASSERT_TRUE(doc) << f;
    json::Value root = doc->root();
    if (kDefinitional.count(std::string(root.find("resourceType").str()))) continue;
    if (root.find("resourceType").str() == "Bundle") {
      // The specification's definitions published as Bundles (profiles,
      // value sets, data elements) are not clinical instances either.
      bool all_definitional = root.find("entry").size() > 0;
      for (json::Value e : root.find("entry").items()) {
        all_definitional = all_definitional &&
                           kDefinitional.count(std::string(e.find("resource").find("resourceType").str())) > 0;
      }
      if (all_definitional) continue;
    }
    ++total;
    auto issues = env->examples_validator->validate(doc->root());
    ASSERT_TRUE(issues) << f;
    if (!has_errors(*issues)) {
      ++clean;
      continue;
    }
    std::cout << f.filename().string() << "\n";
    for (const auto& i : *issues) {
      if (i.severity != Issue::Severity::kError) continue;
      std::cout << "   " << i.expression << " [" << i.code << "] " << i.diagnostics << "\n";
      ++by_message[i.diagnostics.substr(0, 70)];
    }
  }
  std::cout << "clean " << clean << " of " << total << "\n";
  for (auto& [m, n] : by_message) std::cout << n << "  " << m << "\n";
}

}  // namespace
}  // namespace gw::validation

namespace gw::validation {
namespace {

TEST(ExamplesTest, IpsExamplesValidateAgainstTheirProfiles) {
  std::string dir = dir_of("hl7.fhir.uv.ips#2.0.0", "GW_IPS_DIR");
  ASSERT_FALSE(dir.empty()) << "hl7.fhir.uv.ips#2.0.0 is not in the package cache";
  const auto* env = gw::testing::validation_env();
  ASSERT_NE(env, nullptr);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "example")) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    auto doc = json::Document::parse_file(f.string());
    ASSERT_TRUE(doc) << f;
    auto issues = env->validator->validate(doc->root());
    ASSERT_TRUE(issues) << f;
    for (const auto& i : *issues) {
      if (i.severity == Issue::Severity::kInformation) continue;
      std::cout << f.filename().string() << ": " << fhir::to_string(i.severity) << " " << i.expression << " [" << i.code << "] " << i.diagnostics << "\n";
    }
    EXPECT_FALSE(has_errors(*issues)) << f.filename();
  }
  for (const auto& p : env->validator->load_problems()) {
    std::cout << "load problem: " << p.definition << " " << p.element << ": " << p.message << "\n";
  }
}

}  // namespace
}  // namespace gw::validation
