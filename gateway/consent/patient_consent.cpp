// Patient Consent resources: reading them and deciding, per category, what
// one recipient may receive.
//
// The decision is deliberately conservative. Only active patient-privacy
// consents about the patient in the input count; deny beats permit across
// consents; a permit whose conditions we cannot evaluate (provision.data)
// does not apply, while such a deny applies to its whole scope.
#include "gateway/consent/consent.hpp"
#include "gateway/consent/detail/datetime.hpp"
#include "gateway/consent/detail/policy.hpp"

#include <algorithm>

namespace gw::consent {

namespace {

constexpr std::string_view kConsentScope = "http://terminology.hl7.org/CodeSystem/consentscope";
constexpr std::string_view kConsentAction = "http://terminology.hl7.org/CodeSystem/consentaction";
constexpr std::string_view kResourceTypes = "http://hl7.org/fhir/resource-types";
constexpr int kMaxProvisionDepth = 16;

void read_coding_into(json::Value c, std::vector<Coding>& out) {
  if (!c.is_object()) return;
  json::Value code = c.find("code");
  if (!code.is_string()) return;
  out.push_back(Coding{std::string(c.find("system").str()), std::string(code.str())});
}

Status read_codings(json::Value arr, const std::string& path, std::vector<Coding>& out) {
  if (!arr) return {};
  if (!arr.is_array()) return fail(ErrorCode::kParse, "expected an array", path);
  for (json::Value c : arr.items()) read_coding_into(c, out);
  return {};
}

Status read_concepts(json::Value arr, const std::string& path, std::vector<Coding>& out) {
  if (!arr) return {};
  if (!arr.is_array()) return fail(ErrorCode::kParse, "expected an array", path);
  for (json::Value cc : arr.items()) {
    if (!cc.is_object()) return fail(ErrorCode::kParse, "expected a CodeableConcept", path);
    json::Value codings = cc.find("coding");
    if (codings && !codings.is_array())
      return fail(ErrorCode::kParse, "expected an array", path + ".coding");
    for (json::Value c : codings.items()) read_coding_into(c, out);
  }
  return {};
}

Result<TimeRange> read_period(json::Value v, const std::string& path) {
  if (!v.is_object()) return fail(ErrorCode::kParse, "expected a Period", path);
  TimeRange r;
  if (json::Value s = v.find("start")) {
    auto b = detail::parse_fhir_datetime(s.str());
    if (!s.is_string() || !b)
      return fail(ErrorCode::kParse, "start is not a FHIR dateTime", path + ".start");
    r.start = b->low;
  }
  if (json::Value e = v.find("end")) {
    auto b = detail::parse_fhir_datetime(e.str());
    if (!e.is_string() || !b)
      return fail(ErrorCode::kParse, "end is not a FHIR dateTime", path + ".end");
    r.end = b->high;
  }
  return r;
}

Result<Provision> read_provision(json::Value v, const std::string& path, int depth) {
  if (depth > kMaxProvisionDepth)
    return fail(ErrorCode::kLimit, "provisions nest too deeply", path);
  if (!v.is_object()) return fail(ErrorCode::kParse, "expected a provision object", path);
  Provision p;
  if (json::Value t = v.find("type")) {
    if (t.str() == "permit") {
      p.type = Provision::Type::kPermit;
    } else if (t.str() != "deny") {
      return fail(ErrorCode::kParse, "type must be deny or permit", path + ".type");
    }
  }
  if (json::Value period = v.find("period")) {
    GW_TRY(p.period, read_period(period, path + ".period"));
  }
  if (json::Value actors = v.find("actor")) {
    if (!actors.is_array()) return fail(ErrorCode::kParse, "expected an array", path + ".actor");
    for (json::Value a : actors.items()) {
      json::Value ref = a.find("reference");
      if (!ref.is_object())
        return fail(ErrorCode::kParse, "actor needs a reference", path + ".actor");
      if (json::Value r = ref.find("reference"); r.is_string())
        p.actor_references.emplace_back(r.str());
      if (json::Value id = ref.find("identifier"); id.is_object()) {
        p.actor_identifiers.push_back(
            Coding{std::string(id.find("system").str()), std::string(id.find("value").str())});
      }
    }
  }
  GW_CHECK_OK(read_concepts(v.find("action"), path + ".action", p.actions));
  GW_CHECK_OK(read_codings(v.find("securityLabel"), path + ".securityLabel", p.security_labels));
  GW_CHECK_OK(read_codings(v.find("purpose"), path + ".purpose", p.purposes));
  GW_CHECK_OK(read_codings(v.find("class"), path + ".class", p.classes));
  GW_CHECK_OK(read_concepts(v.find("code"), path + ".code", p.codes));
  p.has_data_conditions =
      static_cast<bool>(v.find("data")) || static_cast<bool>(v.find("dataPeriod"));
  if (json::Value nested = v.find("provision")) {
    if (!nested.is_array())
      return fail(ErrorCode::kParse, "expected an array", path + ".provision");
    for (std::size_t i = 0; i < nested.size(); ++i) {
      GW_TRY(Provision child,
             read_provision(nested[i], path + ".provision[" + std::to_string(i) + "]", depth + 1));
      p.provisions.push_back(std::move(child));
    }
  }
  return p;
}

// ---- decision ----

enum class Effect : std::uint8_t { kNone, kDeny, kPermit };

struct Evaluation {
  const detail::CompiledPolicy& policy;
  const Recipient& recipient;
  std::string_view purpose;
  TimePoint now;
};

// The recipient is named the way a Consent names an organization: by
// reference (relative or absolute URL ending in Organization/<id>) or by an
// identifier in the gateway's recipient id system. Display names never
// count: they are not identities.
bool actor_matches(const Provision& p, const Evaluation& e) {
  const std::string org = "Organization/" + e.recipient.id;
  for (const std::string& r : p.actor_references) {
    if (r == org) return true;
    if (r.size() > org.size() && r.compare(r.size() - org.size(), org.size(), org) == 0 &&
        r[r.size() - org.size() - 1] == '/') {
      return true;
    }
  }
  const std::string system = e.policy.recipient_id_system();
  for (const Coding& id : p.actor_identifiers) {
    if (id.system == system && id.code == e.recipient.id) return true;
  }
  return false;
}

// All present conditions must hold (FHIR: the rule applies when all its
// criteria are met). An absent list is no restriction.
bool conditions_match(const Provision& p, const Evaluation& e) {
  if (p.period && !p.period->contains(e.now)) return false;
  if (!p.actor_references.empty() || !p.actor_identifiers.empty()) {
    if (!actor_matches(p, e)) return false;
  }
  if (!p.purposes.empty()) {
    bool any = std::any_of(p.purposes.begin(), p.purposes.end(), [&](const Coding& c) {
      return (c.system.empty() || c.system == e.policy.purpose_system) && c.code == e.purpose;
    });
    if (!any) return false;
  }
  if (!p.actions.empty()) {
    bool any = std::any_of(p.actions.begin(), p.actions.end(), [](const Coding& c) {
      return (c.system.empty() || c.system == kConsentAction) &&
             (c.code == "access" || c.code == "use" || c.code == "disclose");
    });
    if (!any) return false;
  }
  // Conditions on specific data are not evaluated: such a permit does not
  // apply, such a deny applies to everything it otherwise covers.
  if (p.has_data_conditions && p.type == Provision::Type::kPermit) return false;
  return true;
}

// Categories a provision talks about, narrowed from its parent's scope.
std::vector<bool> provision_scope(const Provision& p, const std::vector<bool>& parent,
                                  const detail::CompiledPolicy& policy) {
  bool restricted = !p.security_labels.empty() || !p.classes.empty() || !p.codes.empty();
  if (!restricted) return parent;
  std::vector<bool> scope(parent.size(), false);
  for (std::size_t i = 0; i < policy.categories.size(); ++i) {
    const auto& labels = policy.categories[i].labels;
    auto named = [&](const std::vector<Coding>& list) {
      return std::any_of(list.begin(), list.end(), [&](const Coding& c) {
        return std::find(labels.begin(), labels.end(), c) != labels.end();
      });
    };
    // A class naming a resource type (resource-types#Location) reaches the
    // categories whose rules remove that type, for a deny only: a permit
    // for "Location" must not open every address as well.
    bool by_type = false;
    if (p.type == Provision::Type::kDeny) {
      for (const Coding& c : p.classes) {
        if (c.system != kResourceTypes) continue;
        for (const detail::Rule& rule : policy.rules) {
          if (rule.category == static_cast<int>(i) &&
              std::find(rule.resource_types.begin(), rule.resource_types.end(), c.code) !=
                  rule.resource_types.end()) {
            by_type = true;
          }
        }
      }
    }
    scope[i] =
        parent[i] && (named(p.security_labels) || named(p.classes) || named(p.codes) || by_type);
  }
  return scope;
}

void evaluate(const Provision& p, const std::vector<bool>& parent_scope, const Evaluation& e,
              std::vector<Effect>& effects) {
  if (!conditions_match(p, e)) return;
  std::vector<bool> scope = provision_scope(p, parent_scope, e.policy);
  Effect effect = p.type == Provision::Type::kPermit ? Effect::kPermit : Effect::kDeny;
  for (std::size_t i = 0; i < scope.size(); ++i) {
    if (scope[i]) effects[i] = effect;
  }
  // Nested provisions are exceptions: applied after the parent, they win.
  for (const Provision& child : p.provisions) evaluate(child, scope, e, effects);
}

}  // namespace

Result<PatientConsent> parse_consent(json::Value resource) {
  if (!resource.is_object() || resource.find("resourceType").str() != "Consent") {
    return fail(ErrorCode::kParse, "not a Consent resource", "Consent");
  }
  PatientConsent c;
  c.id = std::string(resource.find("id").str());
  json::Value status = resource.find("status");
  if (!status.is_string() || status.str().empty())
    return fail(ErrorCode::kParse, "status is required", "Consent.status");
  c.status = std::string(status.str());
  for (json::Value coding : resource.find("scope").find("coding").items()) {
    if (coding.find("system").str() == kConsentScope &&
        coding.find("code").str() == "patient-privacy") {
      c.privacy_scope = true;
    }
  }
  c.patient_reference = std::string(resource.find("patient").find("reference").str());
  if (json::Value prov = resource.find("provision")) {
    GW_TRY(c.provision, read_provision(prov, "Consent.provision", 0));
  }
  return c;
}

Decision decide(const Policy& policy, const Recipient& recipient, std::string_view purpose,
                std::span<const PatientConsent> consents, std::span<const std::string> patient_keys,
                TimePoint now) {
  const detail::CompiledPolicy& p = policy.compiled();
  const std::size_t n = p.categories.size();
  Decision d;
  d.permitted.resize(n);
  for (std::size_t i = 0; i < n; ++i) d.permitted[i] = p.categories[i].permitted_by_default;

  Evaluation e{p, recipient, purpose, now};
  std::vector<bool> denied(n, false), permitted(n, false);
  std::vector<std::vector<std::string>> permit_sources(n);
  // Deny overrides permit across consents: a patient who adds a denial does
  // not have to find and revoke every earlier permit first.
  for (const PatientConsent& c : consents) {
    if (c.status != "active" || !c.privacy_scope || c.patient_reference.empty()) continue;
    if (std::find(patient_keys.begin(), patient_keys.end(), c.patient_reference) ==
        patient_keys.end())
      continue;
    std::vector<Effect> effects(n, Effect::kNone);
    evaluate(c.provision, std::vector<bool>(n, true), e, effects);
    for (std::size_t i = 0; i < n; ++i) {
      if (effects[i] == Effect::kDeny) denied[i] = true;
      if (effects[i] == Effect::kPermit) {
        permitted[i] = true;
        permit_sources[i].push_back(c.id);
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (denied[i]) {
      d.permitted[i] = false;
    } else if (permitted[i]) {
      d.permitted[i] = true;
      for (const std::string& id : permit_sources[i]) {
        if (std::find(d.consent_ids.begin(), d.consent_ids.end(), id) == d.consent_ids.end())
          d.consent_ids.push_back(id);
      }
    }
  }
  return d;
}

}  // namespace gw::consent
