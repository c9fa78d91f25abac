// The loaded definitions every benchmark needs: the default packages
// (R4 core + IPS) from the package cache, the element model and, on
// demand, the validator. Built once per process; exits with a message when
// the cache is missing (benchmarks run by hand after the set-up).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "gateway/fhir/fhir.hpp"
#include "gateway/packages/packages.hpp"

namespace gw::bench {

struct Definitions {
  std::shared_ptr<const packages::Registry> registry;
  std::shared_ptr<const fhir::Model> model;
};

/// The process-wide definitions (loaded on first call, thread-safe).
const Definitions& definitions();

/// The definitions plus the project's own package (migrantcare.fhir.gateway,
/// built into the cache by the set-up), and the HandoffDocument example of
/// fhir-profiles: what the push path validates against its profile.
struct HandoffCase {
  Definitions defs;
  std::string example;  ///< JSON text of Bundle-mc-handoff-example.json
  static constexpr std::string_view kProfile =
      "http://fhir.migrant-care.example.org/StructureDefinition/HandoffDocument";
};
const HandoffCase& handoff_case();

}  // namespace gw::bench
