#include "gateway/consent/consent.hpp"

#include <gtest/gtest.h>

#include "tests/consent/consent_fixture.hpp"

namespace gw::consent {
namespace {

using testing::default_policy;
using testing::model;

// A small valid policy that tests mutate one key at a time.
std::string minimal_policy(
    std::string_view rules =
        R"([{"id": "addr", "category": "location", "select": "Patient.address"}])",
    std::string_view extra = "") {
  return std::string(R"({
    "id": "t", "version": "1", "canonicalBase": "http://example.org/gw",
    "purposes": {"allowed": ["TREAT"], "enforcement": ["HLEGAL"]},
    "categories": [{"code": "location", "display": "Location", "confidentiality": "R",
                    "labels": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "LOCIS"}]}],
    "rules": )") +
         std::string(rules) + std::string(extra) + "}";
}

Error load_error(const std::string& text) {
  auto p = Policy::parse(text, model());
  EXPECT_FALSE(p) << "policy unexpectedly accepted";
  return p ? Error() : p.error();
}

TEST(Policy, DefaultPolicyLoads) {
  auto p = default_policy();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->id(), "migrant-care-default");
  EXPECT_EQ(p->canonical_base(), "http://fhir.migrant-care.example.org");
  EXPECT_EQ(p->url(), "http://fhir.migrant-care.example.org/consent-policy/migrant-care-default");
  EXPECT_EQ(p->sha256().size(), 64u);
  ASSERT_GE(p->categories().size(), 2u);
  EXPECT_GE(p->category_index("immigration-status"), 0);
  EXPECT_GE(p->category_index("location"), 0);
  EXPECT_EQ(p->category_index("nope"), -1);
  for (const Category& c : p->categories()) EXPECT_FALSE(c.permitted_by_default) << c.code;
  EXPECT_EQ(p->max_depth(), 64u);
}

TEST(Policy, PurposesAreExplicit) {
  auto p = default_policy();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->check_purpose("", "TREAT"), PurposeVerdict::kAllowed);
  EXPECT_EQ(p->check_purpose("http://terminology.hl7.org/CodeSystem/v3-ActReason", "ETREAT"),
            PurposeVerdict::kAllowed);
  EXPECT_EQ(p->check_purpose("", "HLEGAL"), PurposeVerdict::kEnforcement);
  EXPECT_EQ(p->check_purpose("", "LEGAL"), PurposeVerdict::kEnforcement);
  EXPECT_EQ(p->check_purpose("", "GOV"), PurposeVerdict::kEnforcement);
  EXPECT_EQ(p->check_purpose("", "HMARKT"), PurposeVerdict::kUnknown);
  EXPECT_EQ(p->check_purpose("", "treat"), PurposeVerdict::kUnknown);
  EXPECT_EQ(p->check_purpose("", ""), PurposeVerdict::kUnknown);
  EXPECT_EQ(p->check_purpose("http://example.org/other", "TREAT"), PurposeVerdict::kUnknown);
}

TEST(Policy, HashIgnoresLayoutButNotContent) {
  auto a = Policy::parse(minimal_policy(), model());
  ASSERT_TRUE(a) << a.error().to_string();
  // Same content, other layout and key order.
  std::string reordered = R"({"version": "1", "id": "t",
      "rules": [{"category": "location", "select": "Patient.address", "id": "addr"}],
      "categories": [{"labels": [{"code": "LOCIS", "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode"}],
                      "confidentiality": "R", "display": "Location", "code": "location"}],
      "purposes": {"enforcement": ["HLEGAL"], "allowed": ["TREAT"]},
      "canonicalBase": "http://example.org/gw"})";
  auto b = Policy::parse(reordered, model());
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ((*a)->sha256(), (*b)->sha256());
  auto c = Policy::parse(
      minimal_policy(
          R"([{"id": "addr", "category": "location", "select": "Patient.contact.address"}])"),
      model());
  ASSERT_TRUE(c);
  EXPECT_NE((*a)->sha256(), (*c)->sha256());
}

TEST(Policy, UnknownKeysAreErrors) {
  Error e = load_error(minimal_policy(
      R"([{"id": "a", "category": "location", "select": "Patient.address", "actoin": "remove"}])"));
  EXPECT_EQ(e.code(), ErrorCode::kParse);
  EXPECT_NE(e.message().find("actoin"), std::string::npos);
  EXPECT_EQ(e.location(), "rules[0]");
  e = load_error(minimal_policy(
      R"([{"id": "a", "category": "location", "select": "Patient.address"}])", R"(, "extra": 1)"));
  EXPECT_NE(e.message().find("extra"), std::string::npos);
}

TEST(Policy, UnknownCategoryIsAnError) {
  Error e = load_error(
      minimal_policy(R"([{"id": "a", "category": "immigration", "select": "Patient.address"}])"));
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.location(), "rules[0].category");
}

TEST(Policy, BadSelectorsAreErrors) {
  Error e = load_error(
      minimal_policy(R"([{"id": "a", "category": "location", "select": "Patient.adress"}])"));
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.location(), "rules[0].select");
  e = load_error(
      minimal_policy(R"([{"id": "a", "category": "location", "select": "Patien.address"}])"));
  EXPECT_EQ(e.location(), "rules[0].select");
  e = load_error(
      minimal_policy(R"([{"id": "a", "category": "location", "select": "Patient.address.("}])"));
  EXPECT_EQ(e.location().rfind("rules[0].select", 0), 0u) << e.to_string();
}

TEST(Policy, RuleShapeIsChecked) {
  // Two selection kinds in one rule.
  Error e = load_error(minimal_policy(
      R"([{"id": "a", "category": "location", "select": "Patient.address", "resourceTypes": ["Location"]}])"));
  EXPECT_EQ(e.location(), "rules[0]");
  // None.
  e = load_error(minimal_policy(R"([{"id": "a", "category": "location"}])"));
  EXPECT_EQ(e.location(), "rules[0]");
  // Coarsening needs a level and a select rule.
  e = load_error(minimal_policy(
      R"([{"id": "a", "category": "location", "select": "Patient.address", "action": "coarsen"}])"));
  EXPECT_NE(e.message().find("coarsenTo"), std::string::npos);
  e = load_error(minimal_policy(
      R"([{"id": "a", "category": "location", "resourceTypes": ["Location"], "action": "coarsen", "coarsenTo": "country"}])"));
  EXPECT_EQ(e.location(), "rules[0].action");
  // Unknown resource type.
  e = load_error(
      minimal_policy(R"([{"id": "a", "category": "location", "resourceTypes": ["Locaton"]}])"));
  EXPECT_EQ(e.location(), "rules[0].resourceTypes[0]");
  // Duplicate rule id.
  e = load_error(
      minimal_policy(R"([{"id": "a", "category": "location", "select": "Patient.address"},
                                    {"id": "a", "category": "location", "select": "RelatedPerson.address"}])"));
  EXPECT_EQ(e.location(), "rules[1].id");
}

TEST(Policy, PurposeAndFreeTextSettingsAreChecked) {
  std::string both = minimal_policy();
  both.replace(both.find(R"("enforcement": ["HLEGAL"])"), 25, R"("enforcement": ["TREAT"])");
  Error e = load_error(both);
  EXPECT_EQ(e.location(), "purposes");
  e = load_error(
      minimal_policy(R"([{"id": "a", "category": "location", "select": "Patient.address"}])",
                     R"(, "freeText": {"notes": "keep"})"));
  EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
  EXPECT_EQ(e.location(), "freeText.notes");
  e = load_error(
      minimal_policy(R"([{"id": "a", "category": "location", "select": "Patient.address"}])",
                     R"(, "limits": {"maxDepth": 3})"));
  EXPECT_EQ(e.location(), "limits.maxDepth");
}

TEST(Policy, CanonicalBaseIsSubstituted) {
  auto p = Policy::parse(
      minimal_policy(
          R"([{"id": "e", "category": "location", "extensions": ["${canonicalBase}/StructureDefinition/x"]}])"),
      model());
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ((*p)->url(), "http://example.org/gw/consent-policy/t");
  Error e = load_error(
      minimal_policy(R"([{"id": "e", "category": "location", "extensions": ["not a url"]}])"));
  EXPECT_EQ(e.location(), "rules[0].extensions[0]");
}

TEST(GatewayConfig, DemoConfigRegistersHospitalAndClinic) {
  auto c = load_gateway_config(testing::config_path("demo.json"));
  ASSERT_TRUE(c) << c.error().to_string();
  const Recipient* hospital = c->recipient("demo-hospital");
  const Recipient* clinic = c->recipient("demo-clinic");
  ASSERT_NE(hospital, nullptr);
  ASSERT_NE(clinic, nullptr);
  EXPECT_EQ(hospital->kind, RecipientKind::kHospital);
  EXPECT_EQ(clinic->kind, RecipientKind::kCommunityClinic);
  EXPECT_EQ(clinic->endpoint.rfind("http://127.0.0.1:", 0), 0u);
  EXPECT_EQ(c->recipient("nobody"), nullptr);
  EXPECT_EQ(c->policy_path, testing::config_path("consent-policy.json"));
  auto p = Policy::load_file(c->policy_path, model());
  EXPECT_TRUE(p) << p.error().to_string();
}

TEST(GatewayConfig, RecipientsAreValidated) {
  auto parse = [](std::string_view recipient) {
    return parse_gateway_config(
        std::string(R"({"consentPolicy": "p.json", "server": {"port": 1}, "recipients": [)") +
            std::string(recipient) + "]}",
        "/etc/gw");
  };
  auto ok = parse(
      R"({"id": "a", "organization": "A", "kind": "ngo", "endpoint": "https://127.0.0.1:9/fhir", "operations": ["receive"]})");
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->policy_path, "/etc/gw/p.json");
  EXPECT_EQ(ok->recipients[0].kind, RecipientKind::kNgo);
  auto bad_kind = parse(
      R"({"id": "a", "organization": "A", "kind": "police", "endpoint": "http://127.0.0.1/", "operations": []})");
  ASSERT_FALSE(bad_kind);
  EXPECT_EQ(bad_kind.error().location(), "recipients[0].kind");
  auto bad_key = parse(
      R"({"id": "a", "organization": "A", "kind": "ngo", "endpoint": "http://127.0.0.1/", "operations": [], "secret": 1})");
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().location(), "recipients[0]");
  auto bad_op = parse(
      R"({"id": "a", "organization": "A", "kind": "ngo", "endpoint": "http://127.0.0.1/", "operations": ["delete"]})");
  ASSERT_FALSE(bad_op);
  EXPECT_EQ(bad_op.error().location(), "recipients[0].operations[0]");
  auto bad_url = parse(
      R"({"id": "a", "organization": "A", "kind": "ngo", "endpoint": "ftp://x", "operations": []})");
  ASSERT_FALSE(bad_url);
  auto dup = parse(
      R"({"id": "a", "organization": "A", "kind": "ngo", "endpoint": "http://127.0.0.1/", "operations": []},
                   {"id": "a", "organization": "B", "kind": "ngo", "endpoint": "http://127.0.0.1/", "operations": []})");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().location(), "recipients[1].id");
}

}  // namespace
}  // namespace gw::consent
