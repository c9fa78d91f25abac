// Property test over real data: every clinical R4 example, every IPS
// example and the planted fixtures are released to a hospital for treatment
// with the default policy and no consent. For each:
//   * the release succeeds (or the input as a whole is sensitive and is
//     withheld), so the verifier found nothing;
//   * an independent scan written here, sharing no code with the engine or
//     the verifier, finds no sensitive element or planted value;
//   * the numbers of medications, conditions, allergies, immunizations and
//     follow-ups (appointments, service requests, care plans) are unchanged,
//     apart from resources that are themselves sensitive.
// Conformance resources (StructureDefinition, ValueSet, ...) and HL7's
// definition bundles carry no patient data and make up 95% of the bytes of
// the examples package; they are left out to keep the test inside the CI
// budget under sanitizers.
#include "gateway/consent/consent.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "tests/consent/consent_fixture.hpp"

namespace gw::consent {
namespace {

namespace fs = std::filesystem;

const char* const kConformanceTypes[] = {
    "StructureDefinition",
    "SearchParameter",
    "ValueSet",
    "CodeSystem",
    "ConceptMap",
    "OperationDefinition",
    "CapabilityStatement",
    "ImplementationGuide",
    "NamingSystem",
    "CompartmentDefinition",
    "StructureMap",
    "GraphDefinition",
    "MessageDefinition",
    "TerminologyCapabilities",
    "ExampleScenario",
    "TestScript",
};

// Definition bundles of the examples package (all conformance resources).
const char* const kDefinitionBundles[] = {
    "Bundle-resources.json",       "Bundle-dataelements.json",  "Bundle-valueset-expansions.json",
    "Bundle-valuesets.json",       "Bundle-v3-valuesets.json",  "Bundle-v2-valuesets.json",
    "Bundle-profiles-others.json", "Bundle-extensions.json",    "Bundle-types.json",
    "Bundle-searchParams.json",    "Bundle-terminologies.json", "Bundle-conceptmaps.json",
};

const char* const kStatusExtensions[] = {
    "http://fhir.migrant-care.example.org/StructureDefinition/immigration-status",
    "http://hl7.org/fhir/StructureDefinition/patient-nationality",
    "http://hl7.org/fhir/StructureDefinition/patient-citizenship",
    "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
    "http://hl7.org/fhir/StructureDefinition/geolocation",
};

const char* const kDocumentTypes[] = {"PPN", "DP", "VS", "CZ", "NCT", "PRC", "TPR", "SP"};

const char* const kStatusCodes[] = {"89089-7", "93027-1", "446654005", "390790000", "REFUG",
                                    "ILGIM",   "CAS",     "CASM",      "CNRP",      "CNRPM",
                                    "CPCA",    "CRP",     "CRPM"};

const char* const kCountedTypes[] = {"MedicationStatement",
                                     "MedicationRequest",
                                     "MedicationAdministration",
                                     "MedicationDispense",
                                     "Condition",
                                     "AllergyIntolerance",
                                     "Immunization",
                                     "Appointment",
                                     "ServiceRequest",
                                     "CarePlan"};

// Values planted in the fixtures: none may appear anywhere in any output.
const char* const kPlantedValues[] = {"P99887766",
                                      "ASY-2024-556677",
                                      "12 Hidden Lane",
                                      "Springfield Heights",
                                      "7 Shelter Road",
                                      "Jasmin Street",
                                      "Aleppo-Bustan",
                                      "Stateless Bidoon",
                                      "Subsidiary protection",
                                      "51.2277",
                                      "Container 14",
                                      "Grenzstadt"};

struct Scan {
  std::vector<std::string> problems;
  void problem(const std::string& where, const std::string& what) {
    problems.push_back(what + " at " + where);
  }
};

bool coded_as_status(json::Value v, int depth = 0) {
  if (depth > 80) return false;
  if (v.is_object()) {
    json::Value code = v.find("code");
    if (code.is_string() && v.find("system").is_string()) {
      for (const char* c : kStatusCodes) {
        if (code.str() == c) return true;
      }
    }
  }
  for (json::Value x : v.items()) {
    if (coded_as_status(x, depth + 1)) return true;
  }
  return false;
}

// The independent scan of an output document: raw JSON, no model, no
// policy: only what this test believes must never be there.
void scan_output(json::Value v, std::string_view key, std::string_view resource_type,
                 const std::string& path, Scan& scan, int depth = 0) {
  ASSERT_LT(depth, 100) << path;
  if (v.is_object()) {
    if (json::Value rt = v.find("resourceType"); rt.is_string()) {
      resource_type = rt.str();
      if (resource_type == "Location") scan.problem(path, "Location resource");
      if (resource_type == "Binary") scan.problem(path, "Binary resource");
      if ((resource_type == "Observation" || resource_type == "Condition") && coded_as_status(v)) {
        scan.problem(path, "resource coded as immigration status");
      }
      if (json::Value text = v.find("text");
          text.is_object() && text.find("status").str() != "generated") {
        scan.problem(path, "narrative not regenerated");
      }
    }
    if (key == "extension" || key == "modifierExtension") {
      for (const char* url : kStatusExtensions) {
        if (v.find("url").str() == url) scan.problem(path, "sensitive extension");
      }
    }
    if (key == "identifier") {
      for (json::Value c : v.find("type").find("coding").items()) {
        for (const char* t : kDocumentTypes) {
          if (c.find("code").str() == t &&
              c.find("system").str() == "http://terminology.hl7.org/CodeSystem/v2-0203") {
            scan.problem(path, "immigration document identifier");
          }
        }
      }
    }
    if (key == "address" && (resource_type == "Patient" || resource_type == "RelatedPerson")) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v.key(i) != "country") scan.problem(path, "address part kept");
      }
    }
    if (json::Value ref = v.find("reference"); ref.is_string() && key != "valueReference") {
      std::string_view r = ref.str();
      if (r.rfind("Location/", 0) == 0 || r.find("/Location/") != std::string_view::npos) {
        scan.problem(path, "reference to a Location");
      }
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string_view k = v.key(i);
      if (k == "note") scan.problem(path, "note kept");
      if (k == "hospitalization" && resource_type == "Encounter") {
        json::Value h = v[i];
        if (h.find("origin") || h.find("destination"))
          scan.problem(path, "encounter origin/destination kept");
      }
      if (k == "location" && (resource_type == "Encounter" || resource_type == "Provenance")) {
        scan.problem(path, "encounter/provenance location kept");
      }
      scan_output(v[i], k, resource_type, path + "." + std::string(k), scan, depth + 1);
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      scan_output(v[i], key, resource_type, path + "[" + std::to_string(i) + "]", scan, depth + 1);
    }
  }
}

// Counts the clinical resources the test cares about (top-level: the root
// and Bundle entries), leaving out those that are themselves sensitive.
void count(json::Value root, std::map<std::string, int>& out, int depth = 0) {
  if (depth > 4 || !root.is_object()) return;
  std::string_view type = root.find("resourceType").str();
  for (const char* t : kCountedTypes) {
    if (type == t && !coded_as_status(root)) ++out[t];
  }
  if (type == "Bundle") {
    for (json::Value e : root.find("entry").items()) count(e.find("resource"), out, depth + 1);
  }
}

std::vector<fs::path> corpus_files() {
  std::vector<fs::path> files;
  std::string r4 = gw::testing::package_dir("hl7.fhir.r4.examples#4.0.1");
  EXPECT_FALSE(r4.empty()) << "hl7.fhir.r4.examples#4.0.1 missing from the package cache";
  if (!r4.empty()) {
    for (const auto& e : fs::directory_iterator(r4)) {
      std::string name = e.path().filename().string();
      if (e.path().extension() != ".json" || name == "package.json" || name[0] == '.') continue;
      std::string type = name.substr(0, name.find('-'));
      if (std::find(std::begin(kConformanceTypes), std::end(kConformanceTypes), type) !=
          std::end(kConformanceTypes)) {
        continue;
      }
      if (std::find(std::begin(kDefinitionBundles), std::end(kDefinitionBundles), name) !=
          std::end(kDefinitionBundles)) {
        continue;
      }
      files.push_back(e.path());
    }
  }
  std::string ips = gw::testing::package_dir("hl7.fhir.uv.ips#2.0.0");
  EXPECT_FALSE(ips.empty()) << "hl7.fhir.uv.ips#2.0.0 missing from the package cache";
  if (!ips.empty()) {
    for (const auto& e : fs::directory_iterator(fs::path(ips) / "example")) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
  }
  for (const auto& e : fs::directory_iterator(testing::data_path(""))) {
    std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name.rfind("consent-", 0) != 0)
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ConsentCorpus, DefaultPolicyLeavesNothingSensitiveAndKeepsClinicalData) {
  auto policy = testing::default_policy();
  ASSERT_NE(policy, nullptr);
  auto config = load_gateway_config(testing::config_path("demo.json"));
  ASSERT_TRUE(config);
  Engine engine(policy, testing::model(), config->recipients);
  std::vector<fs::path> files = corpus_files();
  ASSERT_GT(files.size(), 700u);

  std::size_t released = 0, withheld = 0, resources_with_removals = 0;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.filename().string());
    auto doc = json::Document::parse_file(file.string());
    ASSERT_TRUE(doc) << doc.error().to_string();
    json::Value root = doc->root();
    if (!root.is_object() || !root.find("resourceType").is_string()) continue;
    ReleaseRequest req;
    req.recipient_id = "demo-hospital";
    req.purpose = "TREAT";
    req.now = testing::fixture_now();
    auto r = engine.release(root, req);
    ASSERT_TRUE(r) << r.error().to_string();
    if (r->outcome == Outcome::kWithheld) {
      // Only a resource that is sensitive as a whole may be withheld: a
      // Location, a status-coded resource, or one whose required content
      // is attachments (free text that cannot be checked) or a reference to
      // a Location (a Schedule for a ward).
      std::string_view type = root.find("resourceType").str();
      std::string raw(doc->source());
      bool refers_to_location = raw.find("\"Location/") != std::string::npos;
      EXPECT_TRUE(type == "Location" || type == "Binary" || type == "DocumentReference" ||
                  type == "Media" || coded_as_status(root) || refers_to_location)
          << type;
      ++withheld;
      continue;
    }
    ASSERT_EQ(r->outcome, Outcome::kReleased) << testing::describe(r->audit);
    ++released;
    resources_with_removals += r->removals.empty() ? 0 : 1;

    json::Document out = testing::parse(r->document);
    Scan scan;
    scan_output(out.root(), "", "", std::string(root.find("resourceType").str()), scan);
    for (const char* v : kPlantedValues) {
      if (r->document.find(v) != std::string::npos)
        scan.problem("document", std::string("planted value ") + v);
    }
    for (const auto& p : scan.problems) ADD_FAILURE() << p;

    std::map<std::string, int> before, after;
    count(root, before);
    count(out.root(), after);
    EXPECT_EQ(before, after);
  }
  EXPECT_GT(released, 700u);
  EXPECT_GT(resources_with_removals, 100u);  // the corpus does exercise redaction
  EXPECT_GE(withheld, 6u);                   // the six Location examples at least
}

}  // namespace
}  // namespace gw::consent
