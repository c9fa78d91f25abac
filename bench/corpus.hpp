// The benchmark corpus: instance examples of hl7.fhir.r4.examples#4.0.1
// from the package cache (conformance and terminology resources left out:
// the gateway moves clinical records, not definitions).
#pragma once

#include <string>
#include <vector>

namespace gw::bench {

struct CorpusFile {
  std::string name;
  std::string bytes;
};

/// Loads the clinical instance examples; exits with a message if the cache
/// is missing (benchmarks are run by hand after the set-up).
std::vector<CorpusFile> load_clinical_examples();

/// True for resource types that are definitions rather than records.
bool is_definitional(const std::string& resource_type);

/// A collection Bundle of `entries` entries, alternating a Patient and an
/// Observation whose subject references that Patient (relative reference,
/// resolved through the entries' RESTful fullUrls). Valid against R4 core:
/// the scaling benchmarks check that it validates without errors.
std::string generated_bundle(int entries);

}  // namespace gw::bench
