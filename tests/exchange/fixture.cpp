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
  std::shared_ptr<const consent::Policy> policy;
  std::shared_ptr<const fhir::Model> model;
  std::vector<consent::Recipient> recipients;
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
    out.policy = *policy;
    out.model = core->model;
    out.recipients = config->recipients;
    return out;
  }();
  return s;
}

}  // namespace

World make_world(const std::string& dir, std::shared_ptr<const Clock> clock,
                 std::function<void(std::vector<consent::Recipient>&)> registrations,
                 std::shared_ptr<const DocumentSigner> signer) {
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
  if (registrations) {
    std::vector<consent::Recipient> r = s.recipients;
    registrations(r);
    d.consent = std::make_shared<const consent::Engine>(s.policy, s.model, std::move(r));
  }
  w.validator = s.validator;
  d.store = w.store;
  d.clock = std::move(clock);
  d.ids = std::make_shared<handoff::SequentialIdGenerator>();
  d.signer = std::move(signer);
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

std::string location_consent(const std::vector<std::string>& actors, std::string_view status) {
  std::string actor_list;
  for (const auto& a : actors) {
    if (!actor_list.empty()) actor_list += ",";
    actor_list += R"({"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", )"
                  R"("code": "IRCP"}]}, "reference": {"reference": "Organization/)" + a + R"("}})";
  }
  return R"({"resourceType": "Consent", "id": "permit-home-visits", "status": ")" + std::string(status) +
         R"(", "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", )"
         R"("code": "patient-privacy"}]}, "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],)"
         R"( "patient": {"reference": "Patient/demo-patient-1"}, "dateTime": "2024-02-01",)"
         R"( "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentpolicycodes", "code": "cric"}]},)"
         R"( "provision": {"type": "deny", "provision": [{"type": "permit",)"
         R"( "period": {"start": "2024-02-01", "end": "2030-12-31"}, "actor": [)" + actor_list +
         R"(], "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "disclose"}]}],)"
         R"( "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}],)"
         R"( "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "LOCIS"}]}]}})";
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
