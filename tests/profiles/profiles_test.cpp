// The migrant-care package (fhir-profiles/): it builds and loads through the
// registry, every profile has a complete snapshot the plan compiler accepts,
// every valid example validates without errors against its profile, every
// invalid example fails exactly where its outcome file says, and the demo
// discharge summary is a DischargeSummary.
#include "tests/support/profiles_support.hpp"

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace gw::testing {
namespace {

namespace fs = std::filesystem;

// Every StructureDefinition id of the contract in fhir-profiles/README.md.
constexpr std::string_view kProfileIds[] = {
    "mc-patient",           "mc-medicationstatement",   "mc-medicationrequest",   "mc-condition",
    "mc-allergyintolerance", "mc-immunization",         "mc-procedure",           "mc-appointment",
    "mc-servicerequest",    "mc-careplan",              "mc-organization",        "mc-composition-discharge",
    "DischargeSummary",     "mc-composition-handoff",   "HandoffDocument",        "mc-observation-assessment",
    "mc-observation-tb-screening", "immigration-status", "followup-organization",
};

std::vector<std::string> json_files(const std::string& dir, std::string_view exclude_suffix = {}) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string p = e.path().string();
    if (e.path().extension() != ".json") continue;
    if (!exclude_suffix.empty() && p.size() > exclude_suffix.size() &&
        p.compare(p.size() - exclude_suffix.size(), exclude_suffix.size(), exclude_suffix) == 0) {
      continue;
    }
    out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe(const std::vector<validation::Issue>& issues) {
  std::ostringstream s;
  for (const auto& i : issues) {
    s << "  " << fhir::to_string(i.severity) << " " << i.code << " " << i.expression << ": " << i.diagnostics << "\n";
  }
  return s.str();
}

// "severity|code|expression" of each error or fatal issue, sorted.
std::vector<std::string> error_keys(const std::vector<validation::Issue>& issues) {
  std::vector<std::string> out;
  for (const auto& i : issues) {
    if (i.severity != fhir::Issue::Severity::kError && i.severity != fhir::Issue::Severity::kFatal) continue;
    out.push_back(std::string(fhir::to_string(i.severity)) + "|" + i.code + "|" + i.expression);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The profile an example names first in meta.profile.
std::string meta_profile(json::Value root) {
  json::Value p = root.find("meta").find("profile");
  return p.is_array() && p.size() > 0 ? std::string(p[0].str()) : std::string();
}

std::vector<validation::Issue> validate_file(const ProfileDefinitions& defs, const std::string& path,
                                             bool* ok) {
  *ok = false;
  auto doc = json::Document::parse_file(path);
  if (!doc) {
    ADD_FAILURE() << doc.error().to_string();
    return {};
  }
  validation::ValidateOptions vo;
  std::string profile = meta_profile(doc->root());
  if (profile.empty()) {
    ADD_FAILURE() << "example without meta.profile";
    return {};
  }
  vo.profiles.push_back(profile);  // explicit: an unknown profile is an error, not skipped
  auto issues = defs.validator->validate(doc->root(), vo);
  if (!issues) {
    ADD_FAILURE() << issues.error().to_string();
    return {};
  }
  *ok = true;
  return *issues;
}

TEST(Profiles, PackageLoadsWithItsDependencies) {
  const ProfileDefinitions* defs = profile_definitions();
  ASSERT_NE(defs, nullptr);
  std::vector<std::string> loaded;
  for (const auto& id : defs->registry->loaded_packages()) loaded.push_back(id.to_string());
  EXPECT_EQ(loaded.front(), kProfilesPackage);
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "hl7.fhir.r4.core#4.0.1"), loaded.end());
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), "hl7.fhir.uv.ips#2.0.0"), loaded.end());
  for (std::string_view id : kProfileIds) {
    const packages::Entry* e = defs->registry->find("StructureDefinition", profile_url(id));
    ASSERT_NE(e, nullptr) << id;
    EXPECT_EQ(e->source(), kProfilesPackage) << id;
  }
  std::string cs_base = std::string(kProfilesCanonical) + "/CodeSystem/";
  for (std::string_view id : {"sensitivity", "immigration-status", "migration-health-assessment"}) {
    EXPECT_NE(defs->registry->find("CodeSystem", cs_base + std::string(id)), nullptr) << id;
  }

  // The sensitivity codes config/consent-policy.json uses are in our CodeSystem.
  const packages::Entry* e =
      defs->registry->find("CodeSystem", std::string(kProfilesCanonical) + "/CodeSystem/sensitivity");
  ASSERT_NE(e, nullptr);
  auto cs = e->json();
  ASSERT_TRUE(cs);
  std::set<std::string> codes;
  for (json::Value c : cs->find("concept").items()) codes.emplace(c.find("code").str());
  EXPECT_EQ(codes, (std::set<std::string>{"immigration-status", "location", "nationality", "birthplace"}));
  std::string policy = read_file(source_dir() + "/config/consent-policy.json");
  auto doc = json::Document::parse(policy);
  ASSERT_TRUE(doc);
  std::size_t seen = 0;
  for (json::Value cat : doc->root().find("categories").items()) {
    for (json::Value code : cat.find("labels").items()) {
      if (code.find("system").str() != "${canonicalBase}/CodeSystem/sensitivity") continue;
      EXPECT_TRUE(codes.contains(std::string(code.find("code").str())));
      ++seen;
    }
  }
  EXPECT_GT(seen, 0u);
}

TEST(Profiles, EverySnapshotIsCompleteAndCompiles) {
  const ProfileDefinitions* defs = profile_definitions();
  ASSERT_NE(defs, nullptr);
  for (std::string_view id : kProfileIds) {
    SCOPED_TRACE(std::string(id));
    const packages::Entry* e = defs->registry->find("StructureDefinition", profile_url(id));
    ASSERT_NE(e, nullptr);
    auto sd = e->json();
    ASSERT_TRUE(sd);
    std::set<std::string> ids;
    for (json::Value el : sd->find("snapshot").find("element").items()) ids.emplace(el.find("id").str());
    ASSERT_FALSE(ids.empty());
    // Every element of the base, differential elements and their slices.
    const packages::Entry* base = defs->registry->find("StructureDefinition", sd->find("baseDefinition").str());
    ASSERT_NE(base, nullptr);
    auto base_sd = base->json();
    ASSERT_TRUE(base_sd);
    for (json::Value el : base_sd->find("snapshot").find("element").items()) {
      EXPECT_TRUE(ids.contains(std::string(el.find("id").str()))) << el.find("id").str();
    }
    for (json::Value el : sd->find("differential").find("element").items()) {
      EXPECT_TRUE(ids.contains(std::string(el.find("id").str()))) << el.find("id").str();
    }
    EXPECT_TRUE(defs->validator->prepare_profile(profile_url(id)));
  }
  for (const auto& p : defs->validator->load_problems()) {
    EXPECT_NE(p.definition.rfind(std::string(kProfilesCanonical), 0), 0u) << p.definition << " " << p.element << ": " << p.message;
  }

  // A few differential rules, checked in the generated snapshots.
  auto element = [&](std::string_view profile, std::string_view id) -> json::Value {
    const packages::Entry* e = defs->registry->find("StructureDefinition", profile_url(profile));
    if (!e) return {};
    auto sd = e->json();
    if (!sd) return {};
    for (json::Value el : sd->find("snapshot").find("element").items()) {
      if (el.find("id").str() == id) return el;
    }
    return {};
  };
  EXPECT_EQ(element("mc-patient", "Patient.communication").find("min").str(), "1");
  EXPECT_EQ(element("mc-patient", "Patient.communication.preferred").find("min").str(), "1");
  json::Value interp = element("mc-patient", "Patient.extension:interpreterRequired");
  ASSERT_TRUE(interp.is_object());
  EXPECT_EQ(interp.find("type")[0].find("profile")[0].str(),
            "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired");
  // Inherited from IPS Patient: its own slices stay in place.
  EXPECT_TRUE(element("mc-patient", "Patient.extension:genderIdentity").is_object());
  json::Value meds = element("mc-composition-handoff", "Composition.section:medications.code");
  ASSERT_TRUE(meds.is_object());
  EXPECT_EQ(meds.find("patternCodeableConcept").find("coding")[0].find("code").str(), "10160-0");
  for (std::string_view s : {"problems", "allergies", "immunizations", "procedures", "planOfCare", "careNeeds",
                             "assessment"}) {
    EXPECT_TRUE(element("mc-composition-handoff", "Composition.section:" + std::string(s)).is_object()) << s;
  }
  EXPECT_EQ(element("mc-servicerequest", "ServiceRequest.locationReference").find("max").str(), "0");
  EXPECT_EQ(element("HandoffDocument", "Bundle.type").find("fixedCode").str(), "document");

  // The public generator refuses what is not a StructureDefinition.
  auto vs = json::Document::parse(R"({"resourceType":"ValueSet","id":"x"})");
  ASSERT_TRUE(vs);
  auto r = defs->validator->generate_snapshot(vs->root());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

// One test process for all examples (each process pays for loading the
// definitions and building the package).
TEST(Profiles, ValidExamplesPassInvalidExamplesFailWhereExpected) {
  const ProfileDefinitions* defs = profile_definitions();
  ASSERT_NE(defs, nullptr);
  auto files = json_files(profiles_source_dir() + "/input/examples/valid");
  ASSERT_GE(files.size(), 17u);
  std::set<std::string> covered;
  for (const std::string& f : files) {
    SCOPED_TRACE(fs::path(f).filename().string());
    bool ok = false;
    auto issues = validate_file(*defs, f, &ok);
    ASSERT_TRUE(ok);
    EXPECT_EQ(validation::count_errors(issues), 0u) << describe(issues);
    auto doc = json::Document::parse_file(f);
    covered.insert(meta_profile(doc->root()));
  }
  // Every profile (extensions aside, which the examples use) has a valid example.
  for (std::string_view id : kProfileIds) {
    if (id == "immigration-status" || id == "followup-organization") continue;
    EXPECT_TRUE(covered.contains(profile_url(id))) << "no valid example for " << id;
  }

  // invalid/<case>.json beside <case>.outcome.json: the error issues
  // (severity, code, expression) must be exactly those of the outcome.
  files = json_files(profiles_source_dir() + "/input/examples/invalid", ".outcome.json");
  ASSERT_GE(files.size(), 10u);
  for (const std::string& f : files) {
    SCOPED_TRACE(fs::path(f).filename().string());
    bool ok = false;
    auto issues = validate_file(*defs, f, &ok);
    ASSERT_TRUE(ok);
    std::string outcome_path = f.substr(0, f.size() - 5) + ".outcome.json";
    auto outcome = json::Document::parse_file(outcome_path);
    ASSERT_TRUE(outcome) << "missing " << outcome_path;
    std::vector<std::string> expected;
    for (json::Value i : outcome->root().find("issue").items()) {
      std::string sev(i.find("severity").str());
      if (sev != "error" && sev != "fatal") continue;
      expected.push_back(sev + "|" + std::string(i.find("code").str()) + "|" +
                         std::string(i.find("expression")[0].str()));
    }
    std::sort(expected.begin(), expected.end());
    ASSERT_FALSE(expected.empty()) << "an invalid example must expect an error";
    EXPECT_EQ(error_keys(issues), expected) << describe(issues);
  }

  // The demo discharge summary is a DischargeSummary.
  auto doc = json::Document::parse_file(source_dir() + "/config/demo/discharge-summary.json");
  ASSERT_TRUE(doc);
  validation::ValidateOptions vo;
  vo.profiles.push_back(profile_url("DischargeSummary"));
  auto issues = defs->validator->validate(doc->root(), vo);
  ASSERT_TRUE(issues);
  EXPECT_EQ(validation::count_errors(*issues), 0u) << describe(*issues);
  // And it is not a HandoffDocument (wrong Composition type): the profiles
  // really are checked.
  validation::ValidateOptions ho;
  ho.profiles.push_back(profile_url("HandoffDocument"));
  auto as_handoff = defs->validator->validate(doc->root(), ho);
  ASSERT_TRUE(as_handoff);
  EXPECT_GT(validation::count_errors(*as_handoff), 0u);
}

TEST(Profiles, BuildWritesAPackageFolderAndTheCommandChecksItsArguments) {
  const ProfileDefinitions* defs = profile_definitions();
  ASSERT_NE(defs, nullptr);
  fs::path out = fs::path(defs->cache_dir) / "out";
  validation::PackageBuildOptions options;
  options.source_dir = profiles_source_dir();
  options.cache_dir = defs->cache_dir;
  options.out_dir = out.string();
  options.install = false;
  options.model = defs->model;
  auto built = validation::build_package(options);
  ASSERT_TRUE(built) << built.error().to_string();
  EXPECT_EQ(built->id, kProfilesPackage);
  EXPECT_EQ(built->profiles, std::size(kProfileIds));
  EXPECT_TRUE(built->installed_path.empty());
  EXPECT_TRUE(fs::exists(out / "package" / "package.json"));
  EXPECT_TRUE(fs::exists(out / "package" / ".index.json"));
  EXPECT_TRUE(fs::exists(out / "package" / "StructureDefinition-HandoffDocument.json"));
  EXPECT_TRUE(fs::exists(out / "package" / "CodeSystem-sensitivity.json"));
  EXPECT_FALSE(fs::exists(out / "package" / "Patient-mc-patient-example.json"));  // examples stay out

  // A source without package.json fails; the command's usage errors.
  validation::PackageBuildOptions missing = options;
  missing.source_dir = defs->cache_dir + "/no-such-source";
  auto failed = validation::build_package(missing);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kNotFound);
  std::ostringstream o, e;
  std::vector<std::string_view> none;
  EXPECT_EQ(validation::run_package_build_command(none, o, e), 2);
  std::vector<std::string_view> unknown = {"fhir-profiles", "--bogus"};
  EXPECT_EQ(validation::run_package_build_command(unknown, o, e), 2);
  std::vector<std::string_view> help = {"--help"};
  std::ostringstream ho, he;
  EXPECT_EQ(validation::run_package_build_command(help, ho, he), 0);
  EXPECT_NE(ho.str().find("packages build"), std::string::npos);
}

}  // namespace
}  // namespace gw::testing
