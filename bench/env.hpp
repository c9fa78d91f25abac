// The loaded definitions every benchmark needs: the default packages
// (R4 core + IPS) from the package cache, the element model and, on
// demand, the validator. Built once per process; exits with a message when
// the cache is missing (benchmarks run by hand after the set-up).
#pragma once

#include <memory>

#include "gateway/fhir/fhir.hpp"
#include "gateway/packages/packages.hpp"

namespace gw::bench {

struct Definitions {
  std::shared_ptr<const packages::Registry> registry;
  std::shared_ptr<const fhir::Model> model;
};

/// The process-wide definitions (loaded on first call, thread-safe).
const Definitions& definitions();

}  // namespace gw::bench
