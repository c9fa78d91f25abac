#include "tests/exchange/fixture.hpp"

#include "gateway/consent/consent.hpp"
#include "gateway/handoff/handoff.hpp"
#include "gateway/terminology/terminology.hpp"
#include "gateway/validation/validation.hpp"
#include "tests/support/profiles_support.hpp"
#include "tests/support/test_support.hpp"

#include <filesystem>

namespace gw::exchange::testing {

namespace {

struct Shared {
  std::shared_ptr<const validation::Validator> validator;
  std::shared_ptr<const handoff::MappingSet> mappings;
  std::shared_ptr<const consent::Engine> consent;
  bool handoff_profile = false;
  std::string error;
};

const Shared& shared() {
  static const Shared s = [] {
    Shared out;
    // Our package built from the tree: the HandoffDocument check is
    // always on, as in production (Exchange::create refuses to run
    // without the profile).
    const gw::testing::ProfileDefinitions* core = gw::testing::profile_definitions();
    if (!core) {
      out.error = "the FHIR package cache is missing, or fhir-profiles/ does not build";
      return out;
    }
    out.validator = core->validator;
    out.handoff_profile = bool(out.validator->prepare_profile(
        "http://fhir.migrant-care.example.org/StructureDefinition/HandoffDocument"));
    if (!out.handoff_profile) {
      out.error = "the HandoffDocument profile does not load";
      return out;
    }
    auto m = handoff::MappingSet::load(gw::testing::source_dir() + "/mappings", core->model);
    if (!m) {
      out.error = m.error().to_string();
      return out;
    }
    out.mappings = *m;
    auto config = consent::load_gateway_config(gw::testing::source_dir() + "/config/demo.json");
    if (!config) {
      out.error = config.error().to_string();
      return out;
    }
    auto policy = consent::Policy::load_file(config->policy_path, core->model);
    if (!policy) {
      out.error = policy.error().to_string();
      return out;
    }
    out.consent = std::make_shared<const consent::Engine>(*policy, core->model, config->recipients);
    return out;
  }();
  return s;
}

}  // namespace

World make_world(const std::string& dir, std::shared_ptr<const Clock> clock) {
  World w;
  const Shared& s = shared();
  if (!s.error.empty()) {
    w.error = s.error;
    return w;
  }
  std::filesystem::create_directories(dir);
  store::SqliteOptions so;
  so.path = dir + "/gateway.db";
  so.clock = clock;
  auto st = store::open_sqlite(so);
  if (!st) {
    w.error = st.error().to_string();
    return w;
  }
  w.store = *st;
  Deps d;
  d.validator = s.validator;
  d.mappings = s.mappings;
  d.consent = s.consent;
  d.store = w.store;
  d.clock = std::move(clock);
  d.ids = std::make_shared<handoff::SequentialIdGenerator>();
  auto ex = Exchange::create(std::move(d));
  if (!ex) {
    w.error = ex.error().to_string();
    return w;
  }
  w.exchange = *ex;
  return w;
}

std::string demo_bundle() {
  return gw::testing::read_file(gw::testing::source_dir() + "/config/demo/discharge-summary.json");
}

std::string bundle_with_sensitive_data() {
  std::string b = demo_bundle();
  const std::string anchor = "\"resourceType\": \"Patient\",";
  auto at = b.find(anchor);
  if (at == std::string::npos) return {};
  // The Patient's own identifier list is replaced by one that adds a
  // passport number (a duplicate key would be invalid JSON).
  auto old = b.find("\"identifier\"", at);
  auto end = old == std::string::npos ? old : b.find(']', old);
  if (end == std::string::npos) return {};
  auto comma = b.find(',', end);
  b.erase(old, comma - old + 1);
  b.insert(at + anchor.size(),
           R"( "address": [{"line": ["12 Hidden Lane"], "city": "Quietville", "country": "XX"}],)"
           R"( "identifier": [{"system": "urn:oid:2.999.1.1", "value": "DEMO-000123"},)"
           R"( {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PPN"}]},)"
           R"(  "system": "urn:oid:2.999.9.9", "value": "P9988776655"}],)");
  return b;
}

}  // namespace gw::exchange::testing
