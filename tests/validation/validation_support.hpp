// Shared set-up for the validation tests: one registry and one Validator
// per test binary, over the R4 core definitions and the IPS package.
#pragma once

#include "gateway/validation/validation.hpp"

#include <memory>
#include <string>
#include <vector>

namespace gw::testing {

struct ValidationEnv {
  std::shared_ptr<const packages::Registry> registry;
  std::shared_ptr<const validation::Validator> validator;
  /// Same definitions, with example-domain extension urls tolerated (the
  /// mode HL7's publisher validates the specification's examples in).
  std::shared_ptr<const validation::Validator> examples_validator;
};

/// Built once; fails the calling test and returns null when the package
/// cache is missing.
const ValidationEnv* validation_env();

/// Parses and validates; fails the test on a parse error or an operational
/// error. Returns the issues.
std::vector<validation::Issue> validate_text(const std::string& json,
                                             const validation::ValidateOptions& options = {});

/// "severity code expression" lines, for readable assertions.
std::vector<std::string> summarize(const std::vector<validation::Issue>& issues);

}  // namespace gw::testing
