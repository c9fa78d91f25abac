// Terminology over the real FHIR package cache (R4 core, IPS, THO), as the
// README's test command installs it. A missing cache fails every test here
// with a message saying how to install it.
#include "gateway/terminology/terminology.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace gw::terminology {
namespace {

constexpr std::string_view kSnomed = "http://snomed.info/sct";

class RealCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    packages::LoadOptions options;
    options.cache_dir = packages::resolve_cache_dir("");
    for (std::string_view p : packages::kDefaultPackages) options.packages.emplace_back(p);
    auto registry = packages::Registry::load(options);
    if (!registry) {
      load_error_ = new std::string("FHIR package cache not usable at '" + options.cache_dir +
                                    "': " + registry.error().to_string() +
                                    " -- run ./scripts/test (it installs the pinned packages "
                                    "before ctest) or `fhir-gateway packages install`");
      return;
    }
    service_ = new Service(*registry);
  }
  static void TearDownTestSuite() {
    delete service_;
    service_ = nullptr;
    delete load_error_;
    load_error_ = nullptr;
  }
  void SetUp() override {
    if (load_error_ != nullptr) FAIL() << *load_error_;
    ASSERT_NE(service_, nullptr);
  }
  static const Service& service() { return *service_; }
  static Membership member(std::string_view vs, std::string_view system, std::string_view code) {
    return service_->validate_code(vs, system, code).membership;
  }

  static inline Service* service_ = nullptr;
  static inline std::string* load_error_ = nullptr;
};

TEST_F(RealCacheTest, AdministrativeGender) {
  constexpr std::string_view vs = "http://hl7.org/fhir/ValueSet/administrative-gender";
  constexpr std::string_view cs = "http://hl7.org/fhir/administrative-gender";
  auto male = service().validate_code(vs, cs, "male", "Male");
  EXPECT_EQ(male.membership, Membership::kMember) << male.message;
  EXPECT_EQ(male.display_check, DisplayCheck::kMatches);
  EXPECT_EQ(member(vs, cs, "unknown"), Membership::kMember);
  auto boy = service().validate_code(vs, cs, "boy");
  EXPECT_EQ(boy.membership, Membership::kNotMember);
  EXPECT_EQ(boy.reason, Reason::kCodeNotInSystem);
  // Codes are case-sensitive in this system.
  EXPECT_EQ(member(vs, cs, "Male"), Membership::kNotMember);
  // Right code, wrong system.
  EXPECT_EQ(member(vs, "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender", "M"),
            Membership::kNotMember);
  auto x = service().expand(vs);
  ASSERT_TRUE(x) << x.error().to_string();
  EXPECT_TRUE((*x)->is_complete());
  EXPECT_EQ((*x)->concepts().size(), 4u);

  auto look = service().lookup(cs, "female");
  EXPECT_EQ(look.status, CodeStatus::kFound);
  EXPECT_EQ(look.display, "Female");
  EXPECT_TRUE(look.case_sensitive);
}

TEST_F(RealCacheTest, ObservationStatus) {
  constexpr std::string_view vs = "http://hl7.org/fhir/ValueSet/observation-status";
  constexpr std::string_view cs = "http://hl7.org/fhir/observation-status";
  for (const char* code : {"registered", "preliminary", "final", "amended", "corrected",
                           "cancelled", "entered-in-error", "unknown"}) {
    EXPECT_EQ(member(vs, cs, code), Membership::kMember) << code;
  }
  EXPECT_EQ(member(vs, cs, "done"), Membership::kNotMember);
  // `code`-typed element (Observation.status): no system given.
  EXPECT_EQ(member(vs, "", "final"), Membership::kMember);
  EXPECT_EQ(member(vs, "", "done"), Membership::kNotMember);
}

TEST_F(RealCacheTest, IpsResultsStatusExcludesEnteredInError) {
  constexpr std::string_view vs = "http://hl7.org/fhir/uv/ips/ValueSet/results-status-uv-ips";
  constexpr std::string_view cs = "http://hl7.org/fhir/observation-status";
  EXPECT_EQ(member(vs, cs, "final"), Membership::kMember);
  EXPECT_EQ(member(vs, cs, "entered-in-error"), Membership::kNotMember);
}

TEST_F(RealCacheTest, V3PurposeOfUseIsAFilter) {
  constexpr std::string_view vs = "http://terminology.hl7.org/ValueSet/v3-PurposeOfUse";
  constexpr std::string_view cs = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
  EXPECT_EQ(member(vs, cs, "TREAT"), Membership::kMember);
  EXPECT_EQ(member(vs, cs, "HMARKT"), Membership::kMember);
  EXPECT_EQ(member(vs, cs, "ETREAT"), Membership::kMember);        // under TREAT
  EXPECT_EQ(member(vs, cs, "PurposeOfUse"), Membership::kMember);  // is-a includes the root
  auto other = service().validate_code(vs, cs, "_ActAccommodationReason");
  EXPECT_EQ(other.membership, Membership::kNotMember);
  EXPECT_EQ(other.reason, Reason::kNotInValueSet);
  EXPECT_EQ(member(vs, cs, "NOT-A-CODE"), Membership::kNotMember);
  auto x = service().expand(vs);
  ASSERT_TRUE(x) << x.error().to_string();
  EXPECT_TRUE((*x)->is_complete());
  EXPECT_GT((*x)->concepts().size(), 20u);
  EXPECT_LT((*x)->concepts().size(), 200u);

  // The THO edition of the same ValueSet, by version.
  EXPECT_EQ(member("http://terminology.hl7.org/ValueSet/v3-PurposeOfUse|3.1.0", cs, "TREAT"),
            Membership::kMember);
}

TEST_F(RealCacheTest, SnomedBasedIpsValueSetCannotBeChecked) {
  constexpr std::string_view vs = "http://hl7.org/fhir/uv/ips/ValueSet/problems-uv-ips";
  auto r = service().validate_code(vs, kSnomed, "38341003");  // an arbitrary SNOMED code
  EXPECT_EQ(r.membership, Membership::kCannotCheck);
  EXPECT_EQ(r.reason, Reason::kExternalSystem);
  // Codes of other systems are decidably not in it.
  EXPECT_EQ(member(vs, "http://hl7.org/fhir/administrative-gender", "male"),
            Membership::kNotMember);
  auto x = service().expand(vs);
  ASSERT_TRUE(x) << x.error().to_string();
  EXPECT_FALSE((*x)->is_complete());
}

TEST_F(RealCacheTest, EnumeratedSnomedIsDecidable) {
  constexpr std::string_view vs = "http://hl7.org/fhir/uv/ips/ValueSet/pregnancy-status-uv-ips";
  EXPECT_EQ(member(vs, kSnomed, "77386006"), Membership::kMember);
  EXPECT_EQ(member(vs, kSnomed, "38341003"), Membership::kNotMember);
}

TEST_F(RealCacheTest, ImportsOfIpsValueSets) {
  // results-coded-values imports several SNOMED-filter ValueSets.
  constexpr std::string_view vs =
      "http://hl7.org/fhir/uv/ips/ValueSet/results-coded-values-laboratory-pathology-uv-ips";
  auto x = service().expand(vs);
  ASSERT_TRUE(x) << x.error().to_string();
  EXPECT_EQ(member(vs, kSnomed, "38341003"), Membership::kCannotCheck);
}

TEST_F(RealCacheTest, UnknownValueSet) {
  auto r = service().validate_code("http://example.org/no-such-valueset",
                                   "http://hl7.org/fhir/administrative-gender", "male");
  EXPECT_EQ(r.membership, Membership::kCannotCheck);
  EXPECT_EQ(r.reason, Reason::kValueSetNotFound);
}

// Every loaded ValueSet compiles or fails with a clean error (no crash, no
// hang); in the pinned packages none is cyclic or unreadable.
TEST_F(RealCacheTest, EveryLoadedValueSetExpands) {
  int ok = 0;
  int complete = 0;
  int failed = 0;
  for (const packages::Entry* e : service().registry().all("ValueSet")) {
    if (e->url().empty()) continue;
    std::string canonical(e->url());
    if (!e->version().empty()) canonical += "|" + std::string(e->version());
    auto x = service().expand(canonical);
    if (!x) {
      if (++failed <= 5) ADD_FAILURE() << x.error().to_string();
      continue;
    }
    ++ok;
    if ((*x)->is_complete()) ++complete;
  }
  EXPECT_EQ(failed, 0);
  EXPECT_GT(ok, 3000);
  // Most of R4 core and THO is decidable offline; SNOMED/LOINC-based ones are not.
  EXPECT_GT(complete, ok * 3 / 4);
  EXPECT_LT(complete, ok);
}

}  // namespace
}  // namespace gw::terminology
