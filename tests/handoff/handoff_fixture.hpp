// Shared set-up for the handoff tests: the R4 model, the repository's
// mappings, a validator (R4 core + IPS, and our fhir-profiles package once it
// is in the tree), a fixed clock and helpers that read a built document.
#pragma once

#include "gateway/handoff/handoff.hpp"
#include "gateway/validation/validation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
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

/// Folders of our migrant-care package (fhir-profiles/) to load besides
/// core and IPS: the differential sources (the validator compiles them) or a
/// generated package/ folder. Empty while the profiles are not in the tree.
/// GW_PROFILES_DIR overrides the fhir-profiles/ root (to try a sibling
/// branch's profiles before they are merged).
inline std::vector<std::string> profile_paths() {
  namespace fs = std::filesystem;
  const char* env = std::getenv("GW_PROFILES_DIR");
  std::string root = env && *env ? std::string(env) : gw::testing::source_dir() + "/fhir-profiles";
  std::error_code ec;
  if (fs::exists(root + "/input/profiles/StructureDefinition-HandoffDocument.json", ec)) {
    std::vector<std::string> out;
    for (const char* sub : {"/input/profiles", "/input/extensions", "/input/vocabulary"}) {
      if (fs::is_directory(root + sub, ec)) out.push_back(root + sub);
    }
    return out;
  }
  if (fs::exists(root + "/package/StructureDefinition-HandoffDocument.json", ec))
    return {root + "/package"};
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
    std::vector<std::string> extra = profile_paths();
    for (const std::string& p : extra) load.extra_paths.push_back(p);
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
    out->handoff_profile =
        !extra.empty() && (*v)->prepare_profile(kHandoffDocumentProfile).has_value();
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
/// when the profiles are present).
inline std::vector<fhir::Issue> validation_errors(const json::Document& doc) {
  std::vector<fhir::Issue> out;
  const Checker* c = checker();
  if (!c) {
    ADD_FAILURE() << "no validator";
    return {};
  }
  validation::ValidateOptions vo;
  if (c->handoff_profile) vo.profiles.emplace_back(kHandoffDocumentProfile);
  auto issues = c->validator->validate(doc.root(), vo);
  if (!issues) {
    ADD_FAILURE() << issues.error().to_string();
    return {};
  }
  for (const fhir::Issue& i : *issues) {
    if (i.severity == fhir::Issue::Severity::kError ||
        i.severity == fhir::Issue::Severity::kFatal) {
      out.push_back(i);
    }
  }
  return out;
}

/// The issues for a failure message, one per line (the first 10).
inline std::string first(const std::vector<fhir::Issue>& issues) {
  std::string out;
  for (std::size_t n = 0; n < issues.size() && n < 10; ++n) {
    out += "\n  " + issues[n].expression + ": " + issues[n].diagnostics;
  }
  return out;
}

inline void references(json::Value v, std::vector<std::string>& out);

/// The JSON value at a FHIRPath-style location such as
/// "Bundle.entry[0].resource.section[2].entry[1]" (absent if none).
inline json::Value at_path(json::Value root, std::string_view path) {
  json::Value v = root;
  std::size_t dot = path.find('.');
  if (dot == std::string_view::npos) return v;
  path = path.substr(dot + 1);
  while (!path.empty() && v) {
    std::size_t end = path.find('.');
    std::string_view seg = path.substr(0, end);
    path = end == std::string_view::npos ? std::string_view() : path.substr(end + 1);
    std::size_t br = seg.find('[');
    v = v.find(seg.substr(0, br));
    if (br != std::string_view::npos) v = v[std::stoul(std::string(seg.substr(br + 1)))];
  }
  return v;
}

/// Errors of validating the built document that are NOT explained by a
/// warning of the build. An error is explained when it lies inside an entry
/// the build warned about (data a profile requires that the input lacks and
/// the mapping must not invent), or when it sits on a Reference to such an
/// entry (a Composition section or subject pointing at it).
inline std::vector<fhir::Issue> unexplained_errors(const json::Document& doc, const Handoff& h) {
  auto entry_of = [](const std::string& expr) {
    return expr.substr(0, expr.find(".resource") + 9);
  };
  // Against core R4 alone nothing is excused: the warnings concern our
  // profiles' extra requirements.
  const Checker* c = checker();
  std::set<std::string> warned;
  if (c && c->handoff_profile) {
    for (const fhir::Issue& w : h.warnings) warned.insert(entry_of(w.expression));
  }
  std::vector<std::string> urls;
  for (json::Value e : doc.root().find("entry").items()) urls.emplace_back(e.find("fullUrl").str());
  // A reference target "does not conform" also when something it refers to
  // does not (a Condition whose subject lacks a birth date): taint entries
  // transitively through their references.
  std::set<std::string> tainted(warned.begin(), warned.end());
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t n = 0; n < urls.size(); ++n) {
      std::string key = "Bundle.entry[" + std::to_string(n) + "].resource";
      if (tainted.count(key)) continue;
      std::vector<std::string> refs;
      references(doc.root().find("entry")[n].find("resource"), refs);
      for (const std::string& r : refs) {
        auto m = std::find(urls.begin(), urls.end(), r) - urls.begin();
        if (tainted.count("Bundle.entry[" + std::to_string(m) + "].resource")) {
          tainted.insert(key);
          changed = true;
          break;
        }
      }
    }
  }
  std::vector<fhir::Issue> out;
  for (const fhir::Issue& i : validation_errors(doc)) {
    bool explained = warned.count(entry_of(i.expression)) > 0;
    if (!explained) {
      json::Value ref = at_path(doc.root(), i.expression).find("reference");
      auto n = std::find(urls.begin(), urls.end(), std::string(ref.str())) - urls.begin();
      explained =
          ref.is_string() && tainted.count("Bundle.entry[" + std::to_string(n) + "].resource") > 0;
    }
    if (!explained) out.push_back(i);
  }
  return out;
}

/// Every `reference` string anywhere under `v`.
inline void references(json::Value v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v.key(i) == "reference" && v[i].is_string())
        out.emplace_back(v[i].str());
      else
        references(v[i], out);
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
