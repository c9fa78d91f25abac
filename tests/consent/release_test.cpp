// Patient consent, purpose of use and recipients: who gets what, and that
// refusals are absolute and audited.
#include "gateway/consent/consent.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "tests/consent/consent_fixture.hpp"

namespace gw::consent {
namespace {

using testing::default_policy;
using testing::model;

constexpr std::string_view kHomeAddress = "12 Hidden Lane";

PatientConsent load_consent(const std::string& fixture) {
  json::Document doc = testing::load(fixture);
  auto c = parse_consent(doc.root());
  EXPECT_TRUE(c) << (c ? "" : c.error().to_string());
  return c ? *c : PatientConsent();
}

class Release : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = default_policy();
    ASSERT_NE(policy_, nullptr);
    auto config = load_gateway_config(testing::config_path("demo.json"));
    ASSERT_TRUE(config);
    engine_ = std::make_unique<Engine>(policy_, model(), config->recipients);
    input_ = testing::load("planted-bundle.json");
    permit_ = load_consent("consent-permit-location-clinic.json");
    revoked_ = load_consent("consent-revoked.json");
  }
  ReleaseResult release(std::string recipient, std::string purpose,
                        std::vector<PatientConsent> consents = {},
                        TimePoint now = testing::fixture_now()) {
    ReleaseRequest req;
    req.recipient_id = std::move(recipient);
    req.purpose = std::move(purpose);
    req.consents = std::move(consents);
    req.now = now;
    auto r = engine_->release(input_.root(), req);
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    return r ? *r : ReleaseResult();
  }
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<Engine> engine_;
  json::Document input_;
  PatientConsent permit_, revoked_;
};

TEST_F(Release, ConsentIsParsed) {
  EXPECT_EQ(permit_.id, "permit-home-visits");
  EXPECT_EQ(permit_.status, "active");
  EXPECT_TRUE(permit_.privacy_scope);
  EXPECT_EQ(permit_.patient_reference, "urn:uuid:7d1c1a8e-0001-4c1e-9a1b-000000000001");
  EXPECT_EQ(permit_.provision.type, Provision::Type::kDeny);
  ASSERT_EQ(permit_.provision.provisions.size(), 1u);
  const Provision& p = permit_.provision.provisions[0];
  EXPECT_EQ(p.type, Provision::Type::kPermit);
  EXPECT_EQ(p.actor_references, std::vector<std::string>{"Organization/demo-clinic"});
  ASSERT_TRUE(p.period);
  EXPECT_TRUE(p.period->contains(testing::fixture_now()));
  ASSERT_EQ(p.security_labels.size(), 1u);
  EXPECT_EQ(p.security_labels[0].code, "LOCIS");
  EXPECT_EQ(revoked_.status, "inactive");
}

TEST_F(Release, MalformedConsentsAreErrors) {
  EXPECT_FALSE(parse_consent(testing::parse(R"({"resourceType": "Patient"})").root()));
  EXPECT_FALSE(parse_consent(testing::parse(R"({"resourceType": "Consent"})").root()));
  auto bad_period = parse_consent(
      testing::parse(
          R"({"resourceType": "Consent", "status": "active", "provision": {"period": {"start": "last week"}}})")
          .root());
  ASSERT_FALSE(bad_period);
  EXPECT_EQ(bad_period.error().location(), "Consent.provision.period.start");
  auto bad_type = parse_consent(
      testing::parse(
          R"({"resourceType": "Consent", "status": "active", "provision": {"provision": [{"type": "maybe"}]}})")
          .root());
  ASSERT_FALSE(bad_type);
  EXPECT_EQ(bad_type.error().location(), "Consent.provision.provision[0].type");
}

TEST_F(Release, PermitReleasesLocationToThatRecipientOnly) {
  ReleaseResult clinic = release("demo-clinic", "TREAT", {permit_});
  ASSERT_EQ(clinic.outcome, Outcome::kReleased) << testing::describe(clinic.audit);
  EXPECT_NE(clinic.document.find(kHomeAddress), std::string::npos);
  EXPECT_NE(clinic.document.find("\"Location\""), std::string::npos);
  EXPECT_NE(clinic.document.find("geolocation"), std::string::npos);
  // The permit covers location only: immigration status stays out.
  EXPECT_EQ(clinic.document.find("P99887766"), std::string::npos);
  EXPECT_EQ(clinic.document.find("patient-nationality"), std::string::npos);
  // Released sensitive data raises the confidentiality label to restricted,
  // and the receipt and audit name the consent that allowed it.
  json::Document out = testing::parse(clinic.document);
  bool restricted = false;
  for (json::Value l : out.root().find("meta").find("security").items()) {
    restricted = restricted || (l.find("code").str() == "R" &&
                                l.find("system").str() ==
                                    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality");
  }
  EXPECT_TRUE(restricted);
  EXPECT_NE(clinic.receipt.find("Consent/permit-home-visits"), std::string::npos);
  EXPECT_EQ(clinic.audit.consent_ids, std::vector<std::string>{"permit-home-visits"});

  for (const char* other : {"demo-hospital", "demo-ngo"}) {
    ReleaseResult r = release(other, "TREAT", {permit_});
    ASSERT_EQ(r.outcome, Outcome::kReleased) << other;
    EXPECT_EQ(r.document.find(kHomeAddress), std::string::npos) << other;
    EXPECT_EQ(r.document.find("\"Location\""), std::string::npos) << other;
    EXPECT_TRUE(r.audit.consent_ids.empty());
  }
  // Same recipient, a purpose the consent does not name: not covered.
  ReleaseResult emergency = release("demo-clinic", "ETREAT", {permit_});
  ASSERT_EQ(emergency.outcome, Outcome::kReleased);
  EXPECT_EQ(emergency.document.find(kHomeAddress), std::string::npos);
}

TEST_F(Release, RevocationAndExpiryStopLaterReleases) {
  ASSERT_NE(release("demo-clinic", "TREAT", {permit_}).document.find(kHomeAddress),
            std::string::npos);
  // The patient revoked: the stored consent is now inactive.
  ReleaseResult after = release("demo-clinic", "TREAT", {revoked_});
  ASSERT_EQ(after.outcome, Outcome::kReleased);
  EXPECT_EQ(after.document.find(kHomeAddress), std::string::npos);
  // A new deny next to the old permit wins as well.
  PatientConsent deny = permit_;
  deny.id = "deny-all";
  deny.provision = Provision{};
  deny.provision.actor_references = {"Organization/demo-clinic"};
  ReleaseResult both = release("demo-clinic", "TREAT", {permit_, deny});
  EXPECT_EQ(both.document.find(kHomeAddress), std::string::npos);
  // Other states that never apply.
  for (const char* status : {"rejected", "entered-in-error", "draft", "proposed"}) {
    PatientConsent c = permit_;
    c.status = status;
    EXPECT_EQ(release("demo-clinic", "TREAT", {c}).document.find(kHomeAddress), std::string::npos)
        << status;
  }
  // The period ended (end 2030-12-31 is inclusive to the end of that day).
  TimePoint later = TimePoint(std::chrono::seconds(1924992000 + 3600));  // 2031-01-01T01:00Z
  EXPECT_EQ(release("demo-clinic", "TREAT", {permit_}, later).document.find(kHomeAddress),
            std::string::npos);
  TimePoint last_day = TimePoint(std::chrono::seconds(1924992000 - 3600));  // 2030-12-31T23:00Z
  EXPECT_NE(release("demo-clinic", "TREAT", {permit_}, last_day).document.find(kHomeAddress),
            std::string::npos);
}

TEST_F(Release, ConsentForAnotherPatientDoesNotApply) {
  PatientConsent other = permit_;
  other.patient_reference = "Patient/someone-else";
  EXPECT_EQ(release("demo-clinic", "TREAT", {other}).document.find(kHomeAddress),
            std::string::npos);
  PatientConsent by_id = permit_;
  by_id.patient_reference = "Patient/amina";
  EXPECT_NE(release("demo-clinic", "TREAT", {by_id}).document.find(kHomeAddress),
            std::string::npos);
  PatientConsent wrong_scope = permit_;
  wrong_scope.privacy_scope = false;
  EXPECT_EQ(release("demo-clinic", "TREAT", {wrong_scope}).document.find(kHomeAddress),
            std::string::npos);
}

TEST_F(Release, EnforcementPurposesAreRefusedWhateverConsentsSay) {
  // A consent that permits everything to everyone for every purpose.
  PatientConsent open = permit_;
  open.provision = Provision{};
  open.provision.type = Provision::Type::kPermit;
  for (const char* purpose : {"HLEGAL", "LEGAL", "GOV", "MILCDM", "FRAUD"}) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      ReleaseResult r = release("demo-clinic", purpose, {open});
      EXPECT_EQ(r.outcome, Outcome::kRefused) << purpose;
      EXPECT_TRUE(r.document.empty());
      EXPECT_TRUE(r.receipt.empty());
      EXPECT_EQ(r.audit.outcome, Outcome::kRefused);
      EXPECT_EQ(r.audit.reason, "enforcement-purpose");
      EXPECT_EQ(r.audit.purpose, purpose);
      EXPECT_EQ(r.audit.recipient_id, "demo-clinic");
      EXPECT_EQ(r.audit.policy_sha256, policy_->sha256());
      ASSERT_EQ(r.issues.size(), 1u);
      EXPECT_EQ(r.issues[0].code, "forbidden");
    }
  }
  // The open consent does work for an allowed purpose (so the refusal above
  // is the purpose's doing).
  ReleaseResult treat = release("demo-clinic", "TREAT", {open});
  ASSERT_EQ(treat.outcome, Outcome::kReleased);
  EXPECT_NE(treat.document.find("P99887766"), std::string::npos);
}

TEST_F(Release, UnknownPurposesAndRecipientsAreRefused) {
  for (const char* purpose : {"HMARKT", "HRESCH", "treat", "", "IMMIGRATION", "TREAT "}) {
    ReleaseResult r = release("demo-hospital", purpose);
    EXPECT_EQ(r.outcome, Outcome::kRefused) << purpose;
    EXPECT_EQ(r.audit.reason, "unknown-purpose") << purpose;
    EXPECT_TRUE(r.document.empty());
  }
  ReleaseResult weird = release("demo-hospital", "<script>");
  EXPECT_EQ(weird.audit.purpose, "(invalid)");
  ReleaseResult nobody = release("immigration-office", "TREAT");
  EXPECT_EQ(nobody.outcome, Outcome::kRefused);
  EXPECT_EQ(nobody.audit.reason, "unknown-recipient");
  EXPECT_TRUE(nobody.document.empty());
}

TEST_F(Release, AuditEventIsAFhirAuditEventWithoutPatientData) {
  ReleaseResult r = release("demo-hospital", "HLEGAL");
  std::string json = audit_event_json(r.audit, *policy_);
  json::Document doc = testing::parse(json);
  EXPECT_EQ(doc.root().find("resourceType").str(), "AuditEvent");
  EXPECT_EQ(doc.root().find("outcome").str(), "4");
  EXPECT_NE(json.find("enforcement-purpose"), std::string::npos);
  EXPECT_NE(json.find(policy_->sha256()), std::string::npos);
  EXPECT_EQ(json.find("Amina"), std::string::npos);
  EXPECT_EQ(json.find("Hidden Lane"), std::string::npos);
  // It parses as an R4 resource the model knows.
  EXPECT_TRUE(model()->resource(doc.root()));
}

TEST_F(Release, DecisionFollowsProvisionNesting) {
  const Recipient clinic{
      "demo-clinic", "Clinic", RecipientKind::kCommunityClinic, "http://127.0.0.1:1", {}};
  std::vector<std::string> keys{"Patient/amina"};
  PatientConsent c;
  c.id = "c";
  c.status = "active";
  c.privacy_scope = true;
  c.patient_reference = "Patient/amina";
  c.provision.type = Provision::Type::kPermit;  // permit everything ...
  Provision except;                             // ... except immigration status
  except.type = Provision::Type::kDeny;
  except.security_labels = {
      {"http://fhir.migrant-care.example.org/CodeSystem/sensitivity", "immigration-status"}};
  c.provision.provisions.push_back(except);
  Decision d = decide(*policy_, clinic, "TREAT", std::span(&c, 1), keys, testing::fixture_now());
  int status = policy_->category_index("immigration-status");
  int location = policy_->category_index("location");
  EXPECT_FALSE(d.permitted[static_cast<std::size_t>(status)]);
  EXPECT_TRUE(d.permitted[static_cast<std::size_t>(location)]);
  // A permit limited to specific data (provision.data) is not evaluated and
  // does not apply.
  c.provision.has_data_conditions = true;
  d = decide(*policy_, clinic, "TREAT", std::span(&c, 1), keys, testing::fixture_now());
  EXPECT_FALSE(d.permitted[static_cast<std::size_t>(location)]);
  // A deny by class (resource type) reaches the category that removes that
  // type; a permit by class does not open it.
  c.provision.has_data_conditions = false;
  c.provision.provisions.clear();
  Provision no_locations;
  no_locations.type = Provision::Type::kDeny;
  no_locations.classes = {{"http://hl7.org/fhir/resource-types", "Location"}};
  c.provision.provisions.push_back(no_locations);
  d = decide(*policy_, clinic, "TREAT", std::span(&c, 1), keys, testing::fixture_now());
  EXPECT_FALSE(d.permitted[static_cast<std::size_t>(location)]);
  EXPECT_TRUE(d.permitted[static_cast<std::size_t>(status)]);
  c.provision.type = Provision::Type::kDeny;
  c.provision.provisions[0].type = Provision::Type::kPermit;
  d = decide(*policy_, clinic, "TREAT", std::span(&c, 1), keys, testing::fixture_now());
  EXPECT_FALSE(d.permitted[static_cast<std::size_t>(location)]);
  c.provision = Provision{};
  c.provision.type = Provision::Type::kPermit;
  // No patient in the input (or several): no consent applies.
  c.provision.has_data_conditions = false;
  d = decide(*policy_, clinic, "TREAT", std::span(&c, 1), {}, testing::fixture_now());
  EXPECT_FALSE(d.permitted[static_cast<std::size_t>(location)]);
}

TEST_F(Release, OneEngineServesManyThreads) {
  // The engine, policy and compiled selectors are shared read-only: releases
  // on several threads give the same bytes as one release alone.
  ReleaseResult reference = release("demo-clinic", "TREAT", {permit_});
  ASSERT_EQ(reference.outcome, Outcome::kReleased);
  std::vector<std::string> outputs(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < outputs.size(); ++t) {
    threads.emplace_back([&, t] {
      ReleaseRequest req{"demo-clinic", "TREAT", {permit_}, testing::fixture_now()};
      for (int i = 0; i < 3; ++i) {
        auto r = engine_->release(input_.root(), req);
        if (r && r->outcome == Outcome::kReleased) outputs[t] = r->document;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& o : outputs) EXPECT_EQ(o, reference.document);
}

}  // namespace
}  // namespace gw::consent
