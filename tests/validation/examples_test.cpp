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
#include <sstream>

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

// Examples with real defects: each one is still reported (the test fails
// if a defect stops being detected) and the reason is written down.
// HL7's current validator reports all of these as errors too (fullUrl/id:
// BUNDLE_ENTRY_URL_MATCHES_TYPE_ID; targets: REFERENCE_REF_BADTARGETTYPE;
// unknown codes: the case-sensitive v3 OrderableDrugForm code system).
const std::map<std::string, std::string> kKnownDefects = {
    {"Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json",
     "entry[2].fullUrl ends Patient/pat12 but the resource id is pat2"},
    {"Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json",
     "entry[3].fullUrl ends Patient/pat12 but the resource id is pat2"},
    {"Bundle-lri-example.json", "every fullUrl ends lri-<id> while the resource ids lack the lri- prefix"},
    {"DeviceMetric-example.json", "DeviceMetric.parent references a DeviceDefinition; R4 allows Device only"},
    {"DeviceUseStatement-example.json",
     "reasonReference points to a Procedure; R4 allows Condition, Observation, DiagnosticReport, "
     "DocumentReference, Media"},
    {"MedicationRequest-medrx0301.json", "dispenseRequest.performer references a Practitioner; R4 allows Organization"},
    {"Observation-clinical-gender.json", "performer references an Encounter, not an allowed performer type"},
    {"Medication-med0304.json", "unit code 'Tab' in v3-orderableDrugForm, whose (case-sensitive) code is TAB"},
    {"Medication-med0309.json", "unit code 'Tab' in v3-orderableDrugForm, whose (case-sensitive) code is TAB"},
    {"MedicationAdministration-medadmin0312.json", "dose unit 'patch' in v3-orderableDrugForm (code is PATCH)"},
    {"MedicationDispense-meddisp0301.json", "quantity unit 'Vial' in v3-orderableDrugForm, which has no such code"},
    {"MedicationDispense-meddisp0325.json", "dose unit 'patch' in v3-orderableDrugForm (code is PATCH)"},
    {"MedicationRequest-medrx0313.json", "quantity unit 'Tab' in v3-orderableDrugForm (code is TAB)"},
    {"MedicationRequest-medrx0314.json", "quantity unit 'Tab' in v3-orderableDrugForm (code is TAB)"},
    {"MedicationRequest-medrx0327.json", "units 'patch' in v3-orderableDrugForm (code is PATCH)"},
    {"MedicationStatement-example001.json", "contained Medication strength unit 'Tab' (code is TAB)"},
    {"MedicationStatement-example002.json", "contained Medication strength unit 'Tab' (code is TAB)"},
    {"MedicationStatement-example003.json", "dose unit 'tab' in v3-orderableDrugForm (code is TAB)"},
};

bool definitional_bundle(json::Value root) {
  // The specification's definitions published as Bundles (profiles, value
  // sets, data elements) are not clinical instances either.
  if (root.find("resourceType").str() != "Bundle" || root.find("entry").size() == 0) return false;
  for (json::Value e : root.find("entry").items()) {
    if (!kDefinitional.count(std::string(e.find("resource").find("resourceType").str()))) return false;
  }
  return true;
}

TEST(ExamplesTest, R4ClinicalExamplesValidate) {
  std::string dir = dir_of("hl7.fhir.r4.examples#4.0.1", "GW_R4_EXAMPLES_DIR");
  ASSERT_FALSE(dir.empty()) << "hl7.fhir.r4.examples#4.0.1 is not in the package cache; "
                               "run the README's test command, which installs it";
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
  for (const auto& f : files) {
    auto doc = json::Document::parse_file(f.string());
    ASSERT_TRUE(doc) << f;
    json::Value root = doc->root();
    if (kDefinitional.count(std::string(root.find("resourceType").str())) || definitional_bundle(root)) continue;
    ++total;
    auto issues = env->examples_validator->validate(root);
    ASSERT_TRUE(issues) << f;
    const std::string name = f.filename().string();
    auto known = kKnownDefects.find(name);
    if (known != kKnownDefects.end()) {
      EXPECT_TRUE(has_errors(*issues)) << name << " no longer reports its known defect: " << known->second;
      continue;
    }
    if (!has_errors(*issues)) {
      ++clean;
      continue;
    }
    std::ostringstream detail;
    for (const auto& i : *issues) {
      if (i.severity == Issue::Severity::kError || i.severity == Issue::Severity::kFatal) {
        detail << "  " << i.expression << " [" << i.code << "] " << i.diagnostics << "\n";
      }
    }
    ADD_FAILURE() << name << " has errors:\n" << detail.str();
  }
  // 623 clinical instances; all but the listed defective ones validate.
  EXPECT_EQ(total, 623u);
  EXPECT_EQ(clean, total - kKnownDefects.size());
}

}  // namespace
}  // namespace gw::validation

namespace gw::validation {
namespace {

TEST(ExamplesTest, IpsExamplesValidateAgainstTheirProfiles) {
  std::string dir = dir_of("hl7.fhir.uv.ips#2.0.0", "GW_IPS_DIR");
  ASSERT_FALSE(dir.empty()) << "hl7.fhir.uv.ips#2.0.0 is not in the package cache; "
                               "run the README's test command, which installs it";
  std::size_t count = 0;
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
    ++count;
    // Each example names its IPS profile in meta.profile (the Bundles name
    // Bundle-uv-ips), so this validates against the IPS profiles.
    EXPECT_TRUE(doc->root().find("meta").find("profile").is_array()) << f.filename();
    std::ostringstream detail;
    for (const auto& i : *issues) {
      if (i.severity == Issue::Severity::kError || i.severity == Issue::Severity::kFatal) {
        detail << "  " << i.expression << " [" << i.code << "] " << i.diagnostics << "\n";
      }
    }
    EXPECT_FALSE(has_errors(*issues)) << f.filename() << ":\n" << detail.str();
  }
  EXPECT_EQ(count, 44u);
}

}  // namespace
}  // namespace gw::validation
