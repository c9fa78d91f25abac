// Fuzz target: consent release (redaction, re-parse, verification) of
// arbitrary bytes with the default policy, for a hospital and for a clinic
// the planted consent permits. Whatever the input, a release must not crash,
// must stay inside its depth limit, and a released document must parse and
// pass the verifier again. Loads the R4 model from the FHIR package cache
// and config/consent-policy.json once.
#include "gateway/consent/consent.hpp"
#include "gateway/packages/packages.hpp"

#include "fuzz/set_up.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct Env {
  std::shared_ptr<const gw::packages::Registry> registry;
  std::shared_ptr<const gw::fhir::Model> model;
  std::shared_ptr<const gw::consent::Policy> policy;
  std::unique_ptr<gw::consent::Engine> engine;
};

[[noreturn]] void die(const gw::Error& e) {
  std::fprintf(stderr, "consent_redact_fuzz: set-up failed: %s\n", e.to_string().c_str());
  std::abort();
}

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
    auto config = gw::consent::load_gateway_config(root + "/config/demo.json");
    if (!config) die(config.error());
    auto policy = gw::consent::Policy::load_file(config->policy_path, out->model);
    if (!policy) die(policy.error());
    out->policy = *policy;
    out->engine =
        std::make_unique<gw::consent::Engine>(out->policy, out->model, config->recipients);
    return out;
  }();
  return *e;
}

gw::consent::PatientConsent open_consent() {
  gw::consent::PatientConsent c;
  c.id = "fuzz";
  c.status = "active";
  c.privacy_scope = true;
  c.patient_reference = "Patient/fuzz";
  c.provision.type = gw::consent::Provision::Type::kPermit;
  return c;
}

}  // namespace

GW_FUZZ_SET_UP(env)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Env& e = env();
  auto doc = gw::json::Document::parse(std::string(reinterpret_cast<const char*>(data), size));
  if (!doc) return 0;
  for (int variant = 0; variant < 2; ++variant) {
    gw::consent::ReleaseRequest req;
    req.recipient_id = variant == 0 ? "demo-hospital" : "demo-clinic";
    req.purpose = "TREAT";
    if (variant == 1) req.consents.push_back(open_consent());
    auto r = e.engine->release(doc->root(), req);
    if (!r || r->outcome != gw::consent::Outcome::kReleased) continue;
    auto out = gw::json::Document::parse(r->document);
    GW_ASSERT(static_cast<bool>(out), "released document does not parse");
    GW_ASSERT(e.model->resource(out->root()).has_value(), "released document is not a resource");
    auto receipt = gw::json::Document::parse(r->receipt);
    GW_ASSERT(static_cast<bool>(receipt), "receipt does not parse");
  }
  return 0;
}
