// Fuzz target: arbitrary bytes through what a push does before anything is
// stored — the hardened JSON parse, then the validator with offline
// terminology, FHIRPath invariants and our own package, a Bundle against
// the DischargeSummary profile (the push profile), any other resource
// against its base definition and the profiles it names — and the
// OperationOutcome the answer would carry.
//
// Invariants: a JSON object always validates (only non-objects are refused
// as an operational error); the error cap of the push path holds (at most
// max_errors errors plus the one `too-costly` note); the OperationOutcome
// parses again, is a resource the model reads, lists at most
// kMaxListedIssues + 1 issues, and every listed issue has a severity and a
// code.
//
// Set-up (once): like tests/support/profiles_support.cpp, a private package
// cache links the real cache's packages (R4 core, IPS, HL7 terminology)
// and fhir-profiles/ is built into it, so the target sees our profiles as
// the tree defines them whether or not the set-up script installed them.
#include "gateway/fhir/fhir.hpp"
#include "gateway/packages/packages.hpp"
#include "gateway/terminology/terminology.hpp"
#include "gateway/validation/validation.hpp"

#include "fuzz/set_up.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPackage = "migrantcare.fhir.gateway#0.1.0";
constexpr std::string_view kPushProfile = "http://fhir.migrant-care.example.org/StructureDefinition/DischargeSummary";
constexpr std::size_t kMaxErrors = gw::fhir::kMaxListedIssues;  // as the push path

struct Env {
  std::string cache_dir;
  std::shared_ptr<const gw::fhir::Model> model;
  std::shared_ptr<const gw::validation::Validator> validator;
  ~Env() {
    std::error_code ec;
    if (!cache_dir.empty()) fs::remove_all(cache_dir, ec);
  }
};

[[noreturn]] void die(const char* what, const gw::Error& e) {
  std::fprintf(stderr, "bundle_validate_fuzz: set-up failed (%s): %s\n", what, e.to_string().c_str());
  std::abort();
}

std::unique_ptr<Env> make_env() {
  auto out = std::make_unique<Env>();
  std::error_code ec;
  const fs::path real = gw::packages::resolve_cache_dir("");
  const fs::path cache = fs::temp_directory_path(ec) / ("gw-fuzz-cache-" + std::to_string(::getpid()));
  fs::remove_all(cache, ec);
  fs::create_directories(cache, ec);
  if (ec) {
    std::fprintf(stderr, "bundle_validate_fuzz: cannot create %s\n", cache.c_str());
    std::abort();
  }
  out->cache_dir = cache.string();
  const std::string our_name(kPackage.substr(0, kPackage.find('#')));
  for (const auto& e : fs::directory_iterator(real, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || name.rfind(our_name + "#", 0) == 0) continue;
    fs::create_directory_symlink(e.path(), cache / name, ec);
  }
#ifdef GW_SOURCE_DIR
  const std::string root = GW_SOURCE_DIR;
#else
  const std::string root = ".";
#endif
  gw::validation::PackageBuildOptions build;
  build.source_dir = root + "/fhir-profiles";
  build.cache_dir = out->cache_dir;
  if (auto built = gw::validation::build_package(build); !built) die("fhir-profiles", built.error());

  gw::packages::LoadOptions load;
  load.cache_dir = out->cache_dir;
  for (std::string_view id : gw::packages::kDefaultPackages) load.packages.emplace_back(id);
  load.packages.emplace_back(kPackage);
  auto registry = gw::packages::Registry::load(load);
  if (!registry) die("packages", registry.error());
  auto model = gw::fhir::Model::from_registry(**registry);
  if (!model) die("model", model.error());
  out->model = *model;
  gw::validation::ValidatorOptions vo;
  vo.terminology = std::make_shared<const gw::terminology::Service>(*registry);
  auto validator = gw::validation::Validator::create(*registry, out->model, vo);
  if (!validator) die("validator", validator.error());
  out->validator = *validator;
  // Compiled now so that the first input does not pay for it (and a
  // profile that stopped compiling fails the set-up, not an input).
  if (auto st = out->validator->prepare_profile(kPushProfile); !st) die("push profile", st.error());
  return out;
}

const Env& env() {
  static const std::unique_ptr<Env> e = make_env();
  return *e;
}

}  // namespace

GW_FUZZ_SET_UP(env)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Env& e = env();
  auto doc = gw::json::Document::parse(std::string(reinterpret_cast<const char*>(data), size));
  if (!doc) return 0;
  const gw::json::Value root = doc->root();
  gw::validation::ValidateOptions vo;
  vo.max_errors = kMaxErrors;
  if (root.is_object() && root.find("resourceType").is_string() && root.find("resourceType").str() == "Bundle")
    vo.profiles.emplace_back(kPushProfile);
  auto issues = e.validator->validate(root, vo);
  if (!root.is_object()) {
    GW_ASSERT(!issues, "a non-object was validated");
    return 0;
  }
  GW_ASSERT(static_cast<bool>(issues), "a JSON object was refused as an operational error");
  GW_ASSERT(gw::validation::count_errors(*issues) <= kMaxErrors + 1, "the error cap did not hold");

  const std::string oo = gw::fhir::operation_outcome_json(*issues);
  auto parsed = gw::json::Document::parse(oo);
  GW_ASSERT(static_cast<bool>(parsed), "the OperationOutcome does not parse");
  GW_ASSERT(e.model->resource(parsed->root()).has_value(), "the OperationOutcome is not a resource");
  const gw::json::Value listed = parsed->root().find("issue");
  GW_ASSERT(listed.is_array() && listed.size() >= 1, "an OperationOutcome without issues");
  GW_ASSERT(listed.size() <= gw::fhir::kMaxListedIssues + 1, "the OperationOutcome lists too many issues");
  for (gw::json::Value i : listed.items()) {
    GW_ASSERT(i.find("severity").is_string() && !i.find("severity").str().empty(), "an issue without severity");
    GW_ASSERT(i.find("code").is_string() && !i.find("code").str().empty(), "an issue without code");
  }
  return 0;
}
