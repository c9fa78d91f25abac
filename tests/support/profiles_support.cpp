#include "tests/support/profiles_support.hpp"

#include "tests/support/test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <unistd.h>

namespace gw::testing {

namespace fs = std::filesystem;

namespace {

// Removes the private cache at exit (a function-local static's destructor).
struct CacheDir {
  std::string path;
  ~CacheDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

std::unique_ptr<ProfileDefinitions> build() {
  static CacheDir dir;
  std::error_code ec;
  fs::path cache = fs::temp_directory_path(ec) / ("gw-profiles-cache-" + std::to_string(::getpid()));
  fs::remove_all(cache, ec);
  fs::create_directories(cache, ec);
  if (ec) {
    ADD_FAILURE() << "cannot create a private package cache";
    return nullptr;
  }
  dir.path = cache.string();
  // Every package of the real cache except our own (hidden work folders
  // skipped); links, so nothing is copied.
  std::string our_name(kProfilesPackage.substr(0, kProfilesPackage.find('#')));
  for (const auto& e : fs::directory_iterator(package_cache_dir(), ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || name.rfind(our_name + "#", 0) == 0) continue;
    fs::create_directory_symlink(e.path(), cache / name, ec);
  }

  // The element model describes the base types only, which our package
  // does not change: the core one is reused (building it is the slow part).
  const CoreDefinitions* core = core_definitions();
  if (!core) return nullptr;
  validation::PackageBuildOptions options;
  options.source_dir = profiles_source_dir();
  options.cache_dir = cache.string();
  options.model = core->model;
  auto built = validation::build_package(options);
  if (!built) {
    ADD_FAILURE() << "fhir-profiles does not build: " << built.error().to_string();
    return nullptr;
  }

  auto out = std::make_unique<ProfileDefinitions>();
  out->cache_dir = cache.string();
  packages::LoadOptions load;
  load.cache_dir = out->cache_dir;
  load.packages = {std::string(kProfilesPackage)};
  auto registry = packages::Registry::load(load);
  if (!registry) {
    ADD_FAILURE() << registry.error().to_string();
    return nullptr;
  }
  out->registry = *registry;
  out->model = core->model;
  validation::ValidatorOptions vo;
  vo.terminology = std::make_shared<const terminology::Service>(out->registry);
  auto validator = validation::Validator::create(out->registry, out->model, vo);
  if (!validator) {
    ADD_FAILURE() << validator.error().to_string();
    return nullptr;
  }
  out->validator = *validator;
  return out;
}

}  // namespace

std::string profiles_source_dir() { return source_dir() + "/fhir-profiles"; }

std::string profile_url(std::string_view id) {
  return std::string(kProfilesCanonical) + "/StructureDefinition/" + std::string(id);
}

const ProfileDefinitions* profile_definitions() {
  static std::once_flag once;
  static std::unique_ptr<ProfileDefinitions> defs;
  std::call_once(once, [] { defs = build(); });
  if (!defs) ADD_FAILURE() << "the migrant-care package is not available (see the failure above)";
  return defs.get();
}

}  // namespace gw::testing
