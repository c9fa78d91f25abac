#include "tests/validation/validation_support.hpp"

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <mutex>

namespace gw::testing {
namespace {

std::unique_ptr<ValidationEnv> build() {
  const CoreDefinitions* core = core_definitions();
  if (!core) return nullptr;
  // R4 core and IPS from the package cache, plus the test profiles
  // (differential-only StructureDefinitions exercising rule families).
  packages::LoadOptions load;
  load.cache_dir = package_cache_dir();
  for (std::string_view id : packages::kDefaultPackages) load.packages.emplace_back(id);
  load.extra_paths.push_back(source_dir() + "/tests/data/validation/profiles");
  auto loaded = packages::Registry::load(load);
  if (!loaded) {
    ADD_FAILURE() << loaded.error().to_string();
    return nullptr;
  }
  std::shared_ptr<const packages::Registry> registry = *loaded;
  auto env = std::make_unique<ValidationEnv>();
  env->registry = registry;
  validation::ValidatorOptions options;
  options.terminology = std::make_shared<const terminology::Service>(registry);
  auto v = validation::Validator::create(registry, core->model, options);
  if (!v) {
    ADD_FAILURE() << "Validator::create failed: " << v.error().to_string();
    return nullptr;
  }
  env->validator = *v;
  validation::ValidatorOptions lenient = options;
  lenient.allow_example_urls = true;
  auto ev = validation::Validator::create(registry, core->model, lenient);
  if (!ev) return nullptr;
  env->examples_validator = *ev;
  return env;
}

}  // namespace

const ValidationEnv* validation_env() {
  static std::once_flag once;
  static std::unique_ptr<ValidationEnv> env;
  std::call_once(once, [] { env = build(); });
  if (!env) ADD_FAILURE() << "validation environment unavailable (package cache missing?)";
  return env.get();
}

std::vector<validation::Issue> validate_text(const std::string& text,
                                             const validation::ValidateOptions& options) {
  const ValidationEnv* env = validation_env();
  if (!env) return {};
  auto doc = json::Document::parse(text);
  if (!doc) {
    ADD_FAILURE() << "test input does not parse: " << doc.error().to_string();
    return {};
  }
  auto issues = env->validator->validate(doc->root(), options);
  if (!issues) {
    ADD_FAILURE() << "validate failed: " << issues.error().to_string();
    return {};
  }
  return *issues;
}

std::vector<std::string> summarize(const std::vector<validation::Issue>& issues) {
  std::vector<std::string> out;
  for (const auto& i : issues) {
    out.push_back(std::string(fhir::to_string(i.severity)) + " " + i.code + " " + i.expression);
  }
  return out;
}

}  // namespace gw::testing
