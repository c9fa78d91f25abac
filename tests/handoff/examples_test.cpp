// The done-when of issue #5 for mappings: real documents (HL7's R4
// Bundle-father, every IPS example document, our demo discharge summary)
// map to HandoffDocuments that validate with 0 errors, keep every
// medication, problem, allergy, immunization and follow-up of the input,
// and never leave a reference dangling.
#include "gateway/handoff/handoff.hpp"

#include "tests/handoff/handoff_fixture.hpp"

#include <algorithm>
#include <filesystem>

namespace gw::handoff {
namespace {

using namespace gw::handoff::testing;

const std::set<std::string> kCounted = {"MedicationStatement", "MedicationRequest", "Condition",
                                        "AllergyIntolerance",  "Immunization",      "Appointment",
                                        "ServiceRequest",      "CarePlan"};

// Checks one input end to end; `expected_mapping` is the one that must
// accept it.
void check_example(const std::string& path, const std::string& expected_mapping) {
  SCOPED_TRACE(std::filesystem::path(path).filename().string());
  json::Document in = load_file(path);
  auto h = build_with(in.root());
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->mapping, expected_mapping);
  json::Document out = parse(h->json);
  json::Value root = out.root();

  // Validates with 0 errors against core R4, the IPS and our
  // HandoffDocument profile, with no exception: what the input lacks and
  // the profile requires (the patient's language, its preference, the
  // interpreter flag) is stated as data-absent "unknown", not left out.
  std::vector<fhir::Issue> errors = validation_errors(out);
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << first(errors);

  // Shape: a document whose first entry is our Composition with the three
  // required sections.
  EXPECT_EQ(root.find("type").str(), "document");
  EXPECT_EQ(root.find("meta").find("profile")[0].str(), kHandoffDocumentProfile);
  json::Value comp = root.find("entry")[0].find("resource");
  EXPECT_EQ(comp.find("resourceType").str(), "Composition");
  EXPECT_EQ(comp.find("type").find("coding")[0].find("code").str(), "60591-5");
  std::set<std::string> codes;
  for (json::Value s : comp.find("section").items()) {
    codes.emplace(s.find("code").find("coding")[0].find("code").str());
  }
  for (const char* required : {"10160-0", "11450-4", "48765-2"})
    EXPECT_TRUE(codes.count(required)) << required;

  // No reference dangles.
  std::vector<std::string> bad = dangling(out);
  EXPECT_TRUE(bad.empty()) << bad.size() << " dangling references";

  // Completeness: every counted input resource is the source of exactly one
  // output entry of its type; the output holds no more of them than the
  // input had distinct ones.
  std::map<std::string, std::size_t> in_count, out_count;
  for (json::Value e : in.root().find("entry").items()) {
    json::Value r = e.find("resource");
    std::string type(r.find("resourceType").str());
    if (!kCounted.count(type)) continue;
    ++in_count[type];
    std::string source = e.find("fullUrl").is_string()
                             ? std::string(e.find("fullUrl").str())
                             : type + "/" + std::string(r.find("id").str());
    std::size_t found = 0;
    for (const ProvenanceLink& l : h->provenance) {
      if (l.resource_type == type && std::count(l.sources.begin(), l.sources.end(), source))
        ++found;
    }
    EXPECT_EQ(found, 1u) << type << " entry missing from the handoff";
  }
  for (json::Value e : root.find("entry").items()) {
    std::string type(e.find("resource").find("resourceType").str());
    if (kCounted.count(type)) ++out_count[type];
  }
  for (const auto& [type, n] : in_count) {
    EXPECT_GE(out_count[type], 1u) << type;
    EXPECT_LE(out_count[type], n) << type;
  }
  // And each counted resource sits in a section.
  std::set<std::string> in_sections;
  for (json::Value s : comp.find("section").items()) {
    for (json::Value r : s.find("entry").items()) in_sections.emplace(r.find("reference").str());
  }
  for (json::Value e : root.find("entry").items()) {
    std::string type(e.find("resource").find("resourceType").str());
    if (kCounted.count(type)) {
      EXPECT_TRUE(in_sections.count(std::string(e.find("fullUrl").str()))) << type;
    }
  }
}

// fhir-profiles/ is part of the tree: the examples must be checked against
// HandoffDocument, not silently against core only.
TEST(HandoffExamples, TheHandoffDocumentProfileIsChecked) {
  ASSERT_NE(checker(), nullptr);
  EXPECT_TRUE(checker()->handoff_profile);
}

TEST(HandoffExamples, DemoDischargeSummary) {
  check_example(gw::testing::source_dir() + "/config/demo/discharge-summary.json",
                "discharge-summary");
}

// Our package's own DischargeSummary example (fhir-profiles/).
TEST(HandoffExamples, PackageDischargeSummaryExample) {
  check_example(gw::testing::source_dir() + "/fhir-profiles/input/examples/valid/Bundle-mc-discharge-example.json",
                "discharge-summary");
}

TEST(HandoffExamples, R4BundleFather) {
  std::string dir = gw::testing::package_dir("hl7.fhir.r4.examples#4.0.1");
  ASSERT_FALSE(dir.empty()) << "hl7.fhir.r4.examples#4.0.1 is not installed";
  check_example(dir + "/Bundle-father.json", "generic-bundle");
}

TEST(HandoffExamples, EveryIpsDocumentBundle) {
  std::string dir = gw::testing::package_dir("hl7.fhir.uv.ips#2.0.0");
  ASSERT_FALSE(dir.empty()) << "hl7.fhir.uv.ips#2.0.0 is not installed";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/example")) {
    std::string name = e.path().filename().string();
    if (name.starts_with("Bundle-") && name.ends_with(".json")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::size_t documents = 0;
  for (const std::string& f : files) {
    json::Document d = load_file(f);
    if (d.root().find("type").str() != "document") continue;
    ++documents;
    check_example(f, "generic-bundle");
  }
  EXPECT_EQ(documents, 5u);
}

}  // namespace
}  // namespace gw::handoff
