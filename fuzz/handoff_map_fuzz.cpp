// Fuzz target: mapping arbitrary bytes with the repository's mappings
// (mappings/). Whatever the input, build() must not crash, must stay inside
// its depth limit, and a document it writes must parse again, be a Bundle
// the model reads, and leave no reference dangling. Loads the R4 model from
// the FHIR package cache and the mappings once.
#include "gateway/handoff/handoff.hpp"
#include "gateway/packages/packages.hpp"

#include "fuzz/set_up.hpp"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

namespace {

struct Env {
  std::shared_ptr<const gw::packages::Registry> registry;
  std::shared_ptr<const gw::fhir::Model> model;
  std::shared_ptr<const gw::handoff::MappingSet> mappings;
};

[[noreturn]] void die(const gw::Error& e) {
  std::fprintf(stderr, "handoff_map_fuzz: set-up failed: %s\n", e.to_string().c_str());
  std::abort();
}

class FixedClock final : public gw::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1795168800));
  }
};

const Env& env() {
  static const Env* e = [] {
    auto* out = new Env;
    gw::packages::LoadOptions opt;
    opt.cache_dir = gw::packages::resolve_cache_dir("");
    opt.packages = {"hl7.fhir.r4.core#4.0.1"};
    auto reg = gw::packages::Registry::load(opt);
    if (!reg) die(reg.error());
    out->registry = *reg;
    auto model = gw::fhir::Model::from_registry(*out->registry);
    if (!model) die(model.error());
    out->model = *model;
#ifdef GW_SOURCE_DIR
    std::string root = GW_SOURCE_DIR;
#else
    std::string root = ".";
#endif
    auto set = gw::handoff::MappingSet::load(root + "/mappings", out->model);
    if (!set) die(set.error());
    out->mappings = *set;
    return out;
  }();
  return *e;
}

void collect(gw::json::Value v, std::set<std::string_view>& refs) {
  if (v.is_object()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v.key(i) == "reference" && v[i].is_string())
        refs.insert(v[i].str());
      else
        collect(v[i], refs);
    }
  } else if (v.is_array()) {
    for (gw::json::Value x : v.items()) collect(x, refs);
  }
}

}  // namespace

GW_FUZZ_SET_UP(env)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Env& e = env();
  auto doc = gw::json::Document::parse(std::string(reinterpret_cast<const char*>(data), size));
  if (!doc) return 0;
  FixedClock clock;
  gw::handoff::SequentialIdGenerator ids;
  gw::handoff::BuildOptions opt;
  opt.clock = &clock;
  opt.ids = &ids;
  auto h = gw::handoff::build(*e.mappings, doc->root(), opt);
  if (!h) return 0;
  auto out = gw::json::Document::parse(h->json);
  GW_ASSERT(static_cast<bool>(out), "handoff document does not parse");
  GW_ASSERT(e.model->resource(out->root()).has_value(), "handoff document is not a resource");
  std::set<std::string_view> urls, refs;
  for (gw::json::Value en : out->root().find("entry").items())
    urls.insert(en.find("fullUrl").str());
  collect(out->root(), refs);
  for (std::string_view r : refs) {
    GW_ASSERT(r.starts_with("#") || urls.count(r), "handoff document has a dangling reference");
  }
  return 0;
}
