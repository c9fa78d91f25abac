// Shared set-up for the handoff tests: the R4 model, the repository's
// mappings, a validator (R4 core + IPS, and our fhir-profiles package once it
// is in the tree), a fixed clock and helpers that read a built document.
#pragma once

#include "gateway/handoff/handoff.hpp"
#include "gateway/validation/validation.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/test_support.hpp"

namespace gw::handoff::testing {

/// A clock that always says 2026-11-20T10:00:00Z.
class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1795168800));
  }
};

inline std::shared_ptr<const fhir::Model> model() {
  const auto* defs = gw::testing::core_definitions();
  return defs ? defs->model : nullptr;
}

/// mappings/ of the source tree, loaded once.
inline std::shared_ptr<const MappingSet> repo_mappings() {
  static std::shared_ptr<const MappingSet> set = [] {
    auto m = model();
    if (!m) return std::shared_ptr<const MappingSet>();
    auto s = MappingSet::load(gw::testing::source_dir() + "/mappings", m);
    if (!s) {
      ADD_FAILURE() << s.error().to_string();
      return std::shared_ptr<const MappingSet>();
    }
    return *s;
  }();
  return set;
}

/// Folder of the generated migrant-care package, if the profiles are in
/// the tree ("" otherwise).
inline std::string profiles_dir() {
  namespace fs = std::filesystem;
  std::string root = gw::testing::source_dir() + "/fhir-profiles";
  for (const char* sub : {"/package", "/fsh-generated/resources", "/output", ""}) {
    std::error_code ec;
    if (fs::exists(root + sub + "/StructureDefinition-HandoffDocument.json", ec)) return root + sub;
  }
  return {};
}

struct Checker {
  std::shared_ptr<const validation::Validator> validator;
  bool handoff_profile = false;  ///< HandoffDocument is known: validate against it too
};

/// The validator, built once: R4 core + IPS (+ fhir-profiles when present),
/// with offline terminology.
inline const Checker* checker() {
  static std::unique_ptr<Checker> c = []() -> std::unique_ptr<Checker> {
    const auto* core = gw::testing::core_definitions();
    if (!core) return nullptr;
    packages::LoadOptions load;
    load.cache_dir = gw::testing::package_cache_dir();
    for (std::string_view id : packages::kDefaultPackages) load.packages.emplace_back(id);
    std::string extra = profiles_dir();
    if (!extra.empty()) load.extra_paths.push_back(extra);
    auto registry = packages::Registry::load(load);
    if (!registry) {
      ADD_FAILURE() << registry.error().to_string();
      return nullptr;
    }
    validation::ValidatorOptions options;
    options.terminology = std::make_shared<const terminology::Service>(*registry);
    auto v = validation::Validator::create(*registry, core->model, options);
    if (!v) {
      ADD_FAILURE() << v.error().to_string();
      return nullptr;
    }
    auto out = std::make_unique<Checker>();
    out->validator = *v;
    out->handoff_profile = !extra.empty() && (*v)->prepare_profile(kHandoffDocumentProfile).has_value();
    return out;
  }();
  return c.get();
}

inline json::Document parse(std::string text) {
  auto d = json::Document::parse(std::move(text));
  EXPECT_TRUE(d) << (d ? "" : d.error().to_string());
  return d ? std::move(*d) : json::Document();
}

inline json::Document load_file(const std::string& path) {
  std::string text = gw::testing::read_file(path);
  EXPECT_FALSE(text.empty()) << "missing test input " << path;
  return parse(std::move(text));
}

/// Builds with the repository mappings, the fixed clock and sequential ids.
inline Result<Handoff> build_with(json::Value bundle, std::string mapping = {}) {
  static FixedClock clock;
  SequentialIdGenerator ids;
  BuildOptions opt;
  opt.mapping = std::move(mapping);
  opt.clock = &clock;
  opt.ids = &ids;
  auto set = repo_mappings();
  if (!set) return fail(ErrorCode::kInternal, "no mappings");
  return build(*set, bundle, opt);
}

/// Error issues of validating `doc` (core + meta.profile, and HandoffDocument
/// when the profiles are present), as "expression: diagnostics" lines.
inline std::vector<std::string> validation_errors(const json::Document& doc) {
  std::vector<std::string> out;
  const Checker* c = checker();
  if (!c) return {"no validator"};
  validation::ValidateOptions vo;
  if (c->handoff_profile) vo.profiles.emplace_back(kHandoffDocumentProfile);
  auto issues = c->validator->validate(doc.root(), vo);
  if (!issues) return {issues.error().to_string()};
  for (const fhir::Issue& i : *issues) {
    if (i.severity == fhir::Issue::Severity::kError || i.severity == fhir::Issue::Severity::kFatal) {
      out.push_back(i.expression + ": " + i.diagnostics);
    }
  }
  return out;
}

/// Every `reference` string anywhere under `v`.
inline void references(json::Value v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v.key(i) == "reference" && v[i].is_string()) out.emplace_back(v[i].str());
      else references(v[i], out);
    }
  } else if (v.is_array()) {
    for (json::Value x : v.items()) references(x, out);
  }
}

/// References of the document that resolve neither to an entry's fullUrl
/// nor to a contained resource (#id).
inline std::vector<std::string> dangling(const json::Document& doc) {
  std::set<std::string> urls;
  for (json::Value e : doc.root().find("entry").items()) urls.emplace(e.find("fullUrl").str());
  std::vector<std::string> refs, out;
  references(doc.root(), refs);
  for (const std::string& r : refs) {
    if (!r.empty() && r[0] == '#') continue;
    if (!urls.count(r)) out.push_back(r);
  }
  return out;
}

}  // namespace gw::handoff::testing
