// Test helper: the gateway's own FHIR package (fhir-profiles/) built and
// loaded like any other package, for tests that validate against our
// profiles (HandoffDocument, DischargeSummary, mc-*).
//
// Once per test process, profile_definitions():
//   1. makes a private package cache in a temporary folder, holding links
//      to the packages of the real cache (package_cache_dir(): R4 core,
//      IPS, HL7 terminology) but not its copy of our package;
//   2. builds fhir-profiles/ into it with gw::validation::build_package
//      (snapshots generated and checked), i.e. exactly what
//      `fhir-gateway packages build fhir-profiles` installs;
//   3. loads `migrantcare.fhir.gateway#0.1.0` from that cache through
//      packages::Registry (its dependencies come with it), builds the model
//      and one Validator with offline terminology.
// So a test sees the package as the sources in the tree define it, whether
// or not the set-up script installed it into the real cache. The private
// cache is removed when the process exits.
//
// Thread-safety: the returned object is immutable; the Validator is
// thread-safe.
#pragma once

#include "gateway/fhir/fhir.hpp"
#include "gateway/packages/packages.hpp"
#include "gateway/validation/validation.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace gw::testing {

/// Our package id and canonical base (the contract in fhir-profiles/README.md).
inline constexpr std::string_view kProfilesPackage = "migrantcare.fhir.gateway#0.1.0";
inline constexpr std::string_view kProfilesCanonical = "http://fhir.migrant-care.example.org";

struct ProfileDefinitions {
  std::string cache_dir;                                  ///< the private cache
  std::shared_ptr<const packages::Registry> registry;     ///< our package + core + IPS (+ terminology)
  std::shared_ptr<const fhir::Model> model;
  std::shared_ptr<const validation::Validator> validator; ///< with offline terminology
};

/// Built once per process; fails the calling test (ADD_FAILURE) and returns
/// null when the real cache lacks core/IPS or the package does not build.
const ProfileDefinitions* profile_definitions();

/// "<source>/fhir-profiles".
std::string profiles_source_dir();

/// Canonical URL of one of our StructureDefinitions by id.
std::string profile_url(std::string_view id);

}  // namespace gw::testing
