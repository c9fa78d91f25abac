// Redaction of the planted fixture bundle with the default policy: every
// planted status and location value is gone, every clinical element stays,
// the output is labelled and the receipt names the rule set.
#include "gateway/consent/consent.hpp"

#include <gtest/gtest.h>

#include "tests/consent/consent_fixture.hpp"

namespace gw::consent {
namespace {

using testing::default_policy;
using testing::model;

// Values planted in tests/data/consent/planted-bundle.json that must never
// reach a recipient without consent.
const char* const kPlantedStatus[] = {
    "P99887766",
    "ASY-2024-556677",
    "Aleppo-Bustan",
    "Homs-Waer",
    "Syrian Arab Republic",
    "Stateless Bidoon",
    "Subsidiary protection",
    "Idlib",
    "Asylum claim lodged",
    "immigration-status",
    "patient-nationality",
    "patient-birthPlace",
    "patient-citizenship",
    "89089-7",
    "446654005",
    "UmVmdWdlZSBzdGF0dXMgbGV0dGVy",
};
const char* const kPlantedLocation[] = {
    "12 Hidden Lane",      "Hidden Lane",   "Springfield Heights", "40291",      "7 Shelter Road",
    "Lindenau-Nord",       "Jasmin Street", "geolocation",         "51.2277",    "6.7735",
    "Location/",           "\"Location\"",  "Container 14",        "Grenzstadt", "PTRES",
    "Patient's Residence",
};

std::size_t count_resources(json::Value bundle, std::string_view type) {
  std::size_t n = 0;
  for (json::Value e : bundle.find("entry").items())
    n += e.find("resource").find("resourceType").str() == type;
  return n;
}

json::Value entry_of(json::Value bundle, std::string_view type, std::string_view id) {
  for (json::Value e : bundle.find("entry").items()) {
    json::Value r = e.find("resource");
    if (r.find("resourceType").str() == type && r.find("id").str() == id) return r;
  }
  return {};
}

bool has_label(json::Value resource, std::string_view system, std::string_view code) {
  for (json::Value l : resource.find("meta").find("security").items()) {
    if (l.find("system").str() == system && l.find("code").str() == code) return true;
  }
  return false;
}

class RedactPlanted : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = default_policy();
    ASSERT_NE(policy_, nullptr);
    config_ = *load_gateway_config(testing::config_path("demo.json"));
    input_ = testing::load("planted-bundle.json");
  }
  Result<ReleaseResult> release(std::string recipient, std::string purpose,
                                std::vector<PatientConsent> consents = {},
                                TimePoint now = testing::fixture_now()) {
    Engine engine(policy_, model(), config_.recipients);
    ReleaseRequest req;
    req.recipient_id = std::move(recipient);
    req.purpose = std::move(purpose);
    req.consents = std::move(consents);
    req.now = now;
    return engine.release(input_.root(), req);
  }
  std::shared_ptr<const Policy> policy_;
  GatewayConfig config_;
  json::Document input_;
};

TEST_F(RedactPlanted, StatusAndLocationAreGoneClinicalDataStays) {
  auto r = release("demo-hospital", "TREAT");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->outcome, Outcome::kReleased) << testing::describe(r->audit);
  const std::string& out = r->document;
  for (const char* v : kPlantedStatus) EXPECT_EQ(out.find(v), std::string::npos) << v;
  for (const char* v : kPlantedLocation) EXPECT_EQ(out.find(v), std::string::npos) << v;
  // Notes and the original narratives are gone too.
  EXPECT_EQ(out.find("Refills collected"), std::string::npos);
  EXPECT_EQ(out.find("Insulin stored"), std::string::npos);
  EXPECT_EQ(out.find("\"additional\""), std::string::npos);

  json::Document doc = testing::parse(out);
  json::Value bundle = doc.root();
  EXPECT_EQ(count_resources(bundle, "Location"), 0u);
  EXPECT_EQ(count_resources(bundle, "MedicationStatement"), 1u);
  EXPECT_EQ(count_resources(bundle, "Condition"), 1u);  // diabetes; the refugee "condition" went
  EXPECT_EQ(count_resources(bundle, "AllergyIntolerance"), 1u);
  EXPECT_EQ(count_resources(bundle, "Immunization"), 1u);
  EXPECT_EQ(count_resources(bundle, "Appointment"), 1u);
  EXPECT_EQ(count_resources(bundle, "ServiceRequest"), 1u);
  EXPECT_EQ(count_resources(bundle, "Observation"), 1u);  // smoking stays, immigration status goes
  EXPECT_EQ(count_resources(bundle, "DocumentReference"),
            0u);  // its only content was an attachment
  EXPECT_EQ(count_resources(bundle, "Provenance"),
            1u);  // the one about the shelter lost its only target
  EXPECT_TRUE(entry_of(bundle, "Condition", "diabetes"));
  EXPECT_FALSE(entry_of(bundle, "Condition", "refugee"));

  json::Value patient = entry_of(bundle, "Patient", "amina");
  ASSERT_TRUE(patient);
  EXPECT_EQ(patient.find("identifier").size(), 1u);
  EXPECT_EQ(patient.find("identifier")[0].find("value").str(), "MRN-12345");
  EXPECT_FALSE(patient.find("extension"));
  EXPECT_FALSE(patient.find("_birthDate"));
  EXPECT_EQ(patient.find("birthDate").str(), "1990-04-12");
  ASSERT_EQ(patient.find("address").size(), 1u);
  json::Value address = patient.find("address")[0];
  EXPECT_EQ(address.size(), 1u);
  EXPECT_EQ(address.find("country").str(), "DE");
  EXPECT_FALSE(patient.find("contact")[0].find("address"));
  EXPECT_EQ(patient.find("contact")[0].find("name").find("family").str(), "Haddad");
  EXPECT_EQ(patient.find("text").find("status").str(), "generated");
  EXPECT_NE(patient.find("text").find("div").str().find("Amina"), std::string_view::npos);

  json::Value encounter = entry_of(bundle, "Encounter", "enc-1");
  ASSERT_TRUE(encounter);
  EXPECT_FALSE(encounter.find("location"));
  EXPECT_FALSE(encounter.find("contained"));
  EXPECT_FALSE(encounter.find("hospitalization"));
  EXPECT_TRUE(encounter.find("reasonCode"));
  EXPECT_FALSE(entry_of(bundle, "Immunization", "mmr").find("location"));
  EXPECT_EQ(entry_of(bundle, "Appointment", "follow-up").find("participant").size(), 1u);
  EXPECT_FALSE(entry_of(bundle, "Provenance", "prov-1").find("location"));
  EXPECT_FALSE(entry_of(bundle, "RelatedPerson", "brother").find("address"));
  EXPECT_FALSE(entry_of(bundle, "Condition", "diabetes").find("note"));
  // Its contained nurse was referenced only by the note: no orphan is left.
  EXPECT_FALSE(entry_of(bundle, "Condition", "diabetes").find("contained"));
  json::Value visit = entry_of(bundle, "ServiceRequest", "home-visit");
  EXPECT_FALSE(visit.find("locationCode"));
  EXPECT_FALSE(visit.find("locationReference"));
  EXPECT_TRUE(visit.find("code"));

  // DS4P labels: the bundle and the changed resources say REDACTED; the
  // confidentiality stays normal because no sensitive category was released.
  const std::string obs = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
  const std::string conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
  EXPECT_TRUE(has_label(bundle, obs, "REDACTED"));
  EXPECT_TRUE(has_label(bundle, conf, "N"));
  EXPECT_TRUE(has_label(patient, obs, "REDACTED"));
  EXPECT_TRUE(has_label(patient, conf, "N"));
  EXPECT_EQ(patient.find("meta").find("security").size(),
            2u);  // the input's N label was not duplicated
  EXPECT_FALSE(has_label(entry_of(bundle, "AllergyIntolerance", "penicillin"), obs, "REDACTED"));
}

TEST_F(RedactPlanted, ReceiptNamesPolicyHashAndPathsButNoValues) {
  auto r = release("demo-hospital", "TREAT");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->outcome, Outcome::kReleased);
  json::Document receipt = testing::parse(r->receipt);
  json::Value prov = receipt.root();
  EXPECT_EQ(prov.find("resourceType").str(), "Provenance");
  EXPECT_EQ(prov.find("target")[0].find("reference").str(), "Bundle/planted");
  EXPECT_EQ(prov.find("reason")[0].find("coding")[0].find("code").str(), "TREAT");
  EXPECT_EQ(prov.find("recorded").str(), "2024-06-10T06:13:20Z");
  EXPECT_NE(r->receipt.find(policy_->sha256()), std::string::npos);
  EXPECT_NE(r->receipt.find("Bundle.entry[0].resource.address[0]"), std::string::npos);
  EXPECT_NE(r->receipt.find("Bundle.entry[0].resource.identifier[1]"), std::string::npos);
  EXPECT_NE(r->receipt.find("immigration-documents"), std::string::npos);
  for (const char* v : kPlantedStatus) {
    if (std::string_view(v).find('-') != std::string_view::npos &&
        std::string_view(v).rfind("patient-", 0) == 0)
      continue;
    if (std::string_view(v) == "immigration-status") continue;  // the category's own code
    EXPECT_EQ(r->receipt.find(v), std::string::npos) << v;
  }
  for (const char* v :
       {"12 Hidden Lane", "Springfield Heights", "Jasmin Street", "7 Shelter Road"}) {
    EXPECT_EQ(r->receipt.find(v), std::string::npos) << v;
  }
  bool coarsened = false;
  for (const Removal& rem : r->removals) {
    if (rem.action == Removal::Action::kCoarsened) {
      coarsened = true;
      EXPECT_EQ(rem.path, "Bundle.entry[0].resource.address[0]");
      EXPECT_EQ(rem.rule, "patient-address");
      EXPECT_EQ(rem.category, "location");
    }
  }
  EXPECT_TRUE(coarsened);
  EXPECT_EQ(r->audit.outcome, Outcome::kReleased);
  EXPECT_EQ(r->audit.policy_sha256, policy_->sha256());
  EXPECT_EQ(r->audit.removals, r->removals.size());
}

TEST(Redact, UnknownMembersAreDroppedAndNotNamed) {
  auto policy = default_policy();
  ASSERT_NE(policy, nullptr);
  json::Document doc = testing::parse(
      R"({"resourceType": "Patient", "id": "p", "lives at 12 Hidden Lane": true, "gender": "other"})");
  Decision d;
  d.permitted.assign(policy->categories().size(), false);
  auto r = redact(*policy, *model(), doc.root(), d);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->document.find("Hidden"), std::string::npos);
  EXPECT_NE(r->document.find("\"gender\":\"other\""), std::string::npos);
  ASSERT_EQ(r->removals.size(), 1u);
  EXPECT_EQ(r->removals[0].action, Removal::Action::kUnknown);
  EXPECT_EQ(r->removals[0].path, "Patient.(unknown member)");
}

// A regenerated narrative names a reference's target by its content (here
// the patient's name) when the reference is "Type/id" or a URL ending in
// "/Type/id"; anything else stays the reference as written.
TEST(Redact, RegeneratedNarrativesSummariseReferencesByTypeAndId) {
  auto policy = default_policy();
  ASSERT_NE(policy, nullptr);
  auto encounter = [](std::string_view id, std::string_view subject) {
    return R"({"resource": {"resourceType": "Encounter", "id": ")" + std::string(id) +
           R"(", "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Seen on Ward 3</div>"},)"
           R"( "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},)"
           R"( "subject": {"reference": ")" + std::string(subject) +
           R"("}, "location": [{"location": {"display": "Ward 3"}}]}})";
  };
  json::Document doc = testing::parse(
      R"({"resourceType": "Bundle", "type": "collection", "entry": [)"
      R"({"resource": {"resourceType": "Patient", "id": "p1", "name": [{"given": ["Zoya"], "family": "Testperson"}]}},)" +
      encounter("relative", "Patient/p1") + "," + encounter("absolute", "https://hospital.example.org/fhir/Patient/p1") +
      "," + encounter("other", "https://hospital.example.org/fhir/XPatient/p1") + "]}");
  Decision d;
  d.permitted.assign(policy->categories().size(), false);
  auto r = redact(*policy, *model(), doc.root(), d);
  ASSERT_TRUE(r) << r.error().to_string();
  json::Document out = testing::parse(r->document);
  auto div_of = [&](std::string_view id) {
    return std::string(entry_of(out.root(), "Encounter", id).find("text").find("div").str());
  };
  ASSERT_FALSE(div_of("relative").empty()) << r->document;
  EXPECT_NE(div_of("relative").find("Zoya Testperson"), std::string::npos) << div_of("relative");
  EXPECT_NE(div_of("absolute").find("Zoya Testperson"), std::string::npos) << div_of("absolute");
  EXPECT_EQ(div_of("other").find("Zoya Testperson"), std::string::npos) << div_of("other");
  EXPECT_NE(div_of("other").find("XPatient/p1"), std::string::npos) << div_of("other");
}

}  // namespace
}  // namespace gw::consent
