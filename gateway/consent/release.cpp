// One release, end to end: recipient, purpose, consent decision, redaction,
// re-parse, verification, receipt, audit. The order is the point: nothing
// is redacted for a purpose that is refused, and nothing is returned for
// sending that the verifier has not passed.
#include "gateway/consent/consent.hpp"
#include "gateway/consent/detail/datetime.hpp"
#include "gateway/consent/detail/policy.hpp"

#include <algorithm>

namespace gw::consent {

namespace {

constexpr std::string_view kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

bool token_shape(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

fhir::Issue issue(std::string code, std::string diagnostics) {
  fhir::Issue i;
  i.severity = fhir::Issue::Severity::kError;
  i.code = std::move(code);
  i.diagnostics = std::move(diagnostics);
  return i;
}

// "Patient/<id>" and fullUrl of the one Patient in the input; empty when
// there is none or more than one (then no consent can apply).
std::vector<std::string> patient_keys(json::Value input) {
  std::vector<std::pair<std::string, std::string>> found;  // id, fullUrl
  auto consider = [&](json::Value res, std::string_view full_url) {
    if (res.find("resourceType").str() == "Patient") {
      found.emplace_back(std::string(res.find("id").str()), std::string(full_url));
    }
    for (json::Value c : res.find("contained").items()) {
      if (c.find("resourceType").str() == "Patient")
        found.emplace_back(std::string(c.find("id").str()), "");
    }
  };
  consider(input, "");
  if (input.find("resourceType").str() == "Bundle") {
    for (json::Value e : input.find("entry").items())
      consider(e.find("resource"), e.find("fullUrl").str());
  }
  std::vector<std::string> keys;
  if (found.empty()) return keys;
  for (const auto& [id, url] : found) {
    if (id.empty() || id != found.front().first)
      return keys;  // several patients, or one without id
  }
  keys.push_back("Patient/" + found.front().first);
  for (const auto& [id, url] : found) {
    if (!url.empty()) keys.push_back(url);
  }
  return keys;
}

void coding(json::Writer& w, std::string_view system, std::string_view code,
            std::string_view display = {}) {
  w.begin_object();
  w.key("system");
  w.string(system);
  w.key("code");
  w.string(code);
  if (!display.empty()) {
    w.key("display");
    w.string(display);
  }
  w.end_object();
}

void string_extension(json::Writer& w, std::string_view url, std::string_view value,
                      bool as_code = false) {
  w.begin_object();
  w.key("url");
  w.string(url);
  w.key(as_code ? "valueCode" : "valueString");
  w.string(value);
  w.end_object();
}

// The receipt is a Provenance: what was released (target), to whom
// (agent IRCP), why (reason = purpose), under which rules (policy URL and
// the SHA-256 extension), on whose consent (entity source), and what was
// taken out (one extension per removal: path, action, rule, category).
// Values never appear: only paths and codes.
std::string receipt_json(const Policy& policy, const Recipient& recipient,
                         const ReleaseRequest& req, json::Value input, const Decision& decision,
                         const std::vector<Removal>& removals) {
  const std::string& base = policy.canonical_base();
  json::Writer w(true);
  w.begin_object();
  w.key("resourceType");
  w.string("Provenance");
  w.key("extension");
  w.begin_array();
  w.begin_object();
  w.key("url");
  w.string(base + "/StructureDefinition/redaction-policy");
  w.key("extension");
  w.begin_array();
  string_extension(w, "id", policy.id());
  string_extension(w, "version", policy.version());
  string_extension(w, "sha256", policy.sha256());
  w.end_array();
  w.end_object();
  for (const Removal& r : removals) {
    w.begin_object();
    w.key("url");
    w.string(base + "/StructureDefinition/redaction-removal");
    w.key("extension");
    w.begin_array();
    string_extension(w, "path", r.path);
    string_extension(w, "action", to_string(r.action), true);
    if (!r.rule.empty()) string_extension(w, "rule", r.rule);
    if (!r.category.empty()) string_extension(w, "category", r.category, true);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("target");
  w.begin_array();
  w.begin_object();
  std::string_view type = input.find("resourceType").str();
  std::string_view id = input.find("id").str();
  if (!id.empty()) {
    w.key("reference");
    w.string(std::string(type) + "/" + std::string(id));
  }
  w.key("type");
  w.string(type);
  w.key("display");
  w.string("redacted release of " + std::string(type));
  w.end_object();
  w.end_array();
  w.key("recorded");
  w.string(gw::format_instant(req.now));
  w.key("policy");
  w.begin_array();
  w.string(policy.url());
  w.end_array();
  w.key("activity");
  w.begin_object();
  w.key("coding");
  w.begin_array();
  coding(w, kActCodeSystem, "REDACT", "redact");
  w.end_array();
  w.end_object();
  w.key("reason");
  w.begin_array();
  w.begin_object();
  w.key("coding");
  w.begin_array();
  coding(w, policy.purpose_system(), req.purpose);
  w.end_array();
  w.end_object();
  w.end_array();
  w.key("agent");
  w.begin_array();
  w.begin_object();
  w.key("type");
  w.begin_object();
  w.key("coding");
  w.begin_array();
  coding(w, "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "assembler",
         "Assembler");
  w.end_array();
  w.end_object();
  w.key("who");
  w.begin_object();
  w.key("display");
  w.string("fhir-gateway consent engine");
  w.end_object();
  w.end_object();
  w.begin_object();
  w.key("type");
  w.begin_object();
  w.key("coding");
  w.begin_array();
  coding(w, "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP",
         "information recipient");
  w.end_array();
  w.end_object();
  w.key("who");
  w.begin_object();
  w.key("identifier");
  w.begin_object();
  w.key("system");
  w.string(policy.compiled().recipient_id_system());
  w.key("value");
  w.string(recipient.id);
  w.end_object();
  w.key("display");
  w.string(recipient.organization);
  w.end_object();
  w.end_object();
  w.end_array();
  if (!decision.consent_ids.empty()) {
    w.key("entity");
    w.begin_array();
    for (const std::string& cid : decision.consent_ids) {
      w.begin_object();
      w.key("role");
      w.string("source");
      w.key("what");
      w.begin_object();
      if (!cid.empty()) {
        w.key("reference");
        w.string("Consent/" + cid);
      } else {
        w.key("display");
        w.string("patient consent without id");
      }
      w.end_object();
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  return std::move(w).take();
}

}  // namespace

std::string_view to_string(Removal::Action a) {
  switch (a) {
    case Removal::Action::kRemoved:
      return "removed";
    case Removal::Action::kCoarsened:
      return "coarsened";
    case Removal::Action::kFreeText:
      return "free-text";
    case Removal::Action::kDangling:
      return "dangling-reference";
    case Removal::Action::kEmptied:
      return "emptied";
    case Removal::Action::kUnknown:
      return "unknown-element";
  }
  return "removed";
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::kReleased:
      return "released";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kWithheld:
      return "withheld";
    case Outcome::kFailedClosed:
      return "failed-closed";
  }
  return "refused";
}

// AuditEvent: DICOM "Export" (a disclosure leaving the gateway); outcome 0
// released, 4 refused or withheld (minor: the system did its job), 8 failed
// closed (serious: the engine produced something the verifier rejected).
std::string audit_event_json(const AuditRecord& a, const Policy& policy, bool pretty) {
  json::Writer w(pretty);
  w.begin_object();
  w.key("resourceType");
  w.string("AuditEvent");
  w.key("type");
  coding(w, "http://dicom.nema.org/resources/ontology/DCM", "110106", "Export");
  w.key("subtype");
  w.begin_array();
  coding(w, policy.canonical_base() + "/CodeSystem/release-outcome", a.reason);
  w.end_array();
  w.key("action");
  w.string("E");
  w.key("recorded");
  w.string(gw::format_instant(a.time));
  w.key("outcome");
  w.string(a.outcome == Outcome::kReleased ? "0" : a.outcome == Outcome::kFailedClosed ? "8" : "4");
  w.key("outcomeDesc");
  w.string(std::string(to_string(a.outcome)) + ": " + a.reason);
  if (a.purpose != "(invalid)") {
    w.key("purposeOfEvent");
    w.begin_array();
    w.begin_object();
    w.key("coding");
    w.begin_array();
    coding(w, policy.purpose_system(), a.purpose);
    w.end_array();
    w.end_object();
    w.end_array();
  }
  w.key("agent");
  w.begin_array();
  w.begin_object();
  w.key("type");
  w.begin_object();
  w.key("coding");
  w.begin_array();
  coding(w, "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP",
         "information recipient");
  w.end_array();
  w.end_object();
  w.key("who");
  w.begin_object();
  w.key("identifier");
  w.begin_object();
  w.key("system");
  w.string(policy.compiled().recipient_id_system());
  w.key("value");
  w.string(a.recipient_id);
  w.end_object();
  w.end_object();
  w.key("requestor");
  w.boolean(false);
  w.end_object();
  w.end_array();
  w.key("source");
  w.begin_object();
  w.key("observer");
  w.begin_object();
  w.key("display");
  w.string("fhir-gateway consent engine");
  w.end_object();
  w.end_object();
  w.key("entity");
  w.begin_array();
  w.begin_object();
  w.key("what");
  w.begin_object();
  w.key("display");
  w.string(a.policy_id + "|" + a.policy_version);
  w.end_object();
  w.key("detail");
  w.begin_array();
  w.begin_object();
  w.key("type");
  w.string("policy-sha256");
  w.key("valueString");
  w.string(a.policy_sha256);
  w.end_object();
  w.begin_object();
  w.key("type");
  w.string("removals");
  w.key("valueString");
  w.string(std::to_string(a.removals));
  w.end_object();
  for (const Finding& f : a.findings) {
    w.begin_object();
    w.key("type");
    w.string("finding");
    w.key("valueString");
    w.string(std::string(to_string(f.kind)) + (f.category.empty() ? "" : " " + f.category) +
             " at " + f.path);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  for (const std::string& cid : a.consent_ids) {
    w.begin_object();
    w.key("what");
    w.begin_object();
    w.key("reference");
    w.string("Consent/" + cid);
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

Engine::Engine(std::shared_ptr<const Policy> policy, std::shared_ptr<const fhir::Model> model,
               std::vector<Recipient> recipients)
    : policy_(std::move(policy)), model_(std::move(model)), recipients_(std::move(recipients)) {
  GW_ASSERT(policy_ && model_, "Engine needs a policy and a model");
}

Result<ReleaseResult> Engine::release(json::Value input, const ReleaseRequest& req) const {
  ReleaseResult out;
  AuditRecord& audit = out.audit;
  audit.time = req.now;
  // The request's strings go into the audit only when they look like ids
  // and codes: an attacker-chosen "purpose" must not smuggle text into logs.
  audit.recipient_id = token_shape(req.recipient_id, 64) ? req.recipient_id : "(invalid)";
  audit.purpose = token_shape(req.purpose, 32) ? req.purpose : "(invalid)";
  audit.policy_id = policy_->id();
  audit.policy_version = policy_->version();
  audit.policy_sha256 = policy_->sha256();

  auto refuse = [&](Outcome o, std::string reason, std::string code, std::string diagnostics) {
    out.outcome = o;
    audit.outcome = o;
    audit.reason = std::move(reason);
    out.issues.push_back(issue(std::move(code), std::move(diagnostics)));
    return std::move(out);
  };

  // Refusals come first and do no work on the data: nothing is redacted,
  // let alone verified, for a recipient or purpose that may not have it.
  const Recipient* recipient = nullptr;
  for (const Recipient& r : recipients_) {
    if (r.id == req.recipient_id) recipient = &r;
  }
  if (!recipient) {
    return refuse(Outcome::kRefused, "unknown-recipient", "forbidden",
                  "the recipient is not registered");
  }
  switch (policy_->check_purpose("", req.purpose)) {
    case PurposeVerdict::kEnforcement:
      return refuse(
          Outcome::kRefused, "enforcement-purpose", "forbidden",
          "release for law or immigration enforcement is refused, whatever any consent says");
    case PurposeVerdict::kUnknown:
      return refuse(Outcome::kRefused, "unknown-purpose", "forbidden",
                    "the purpose of use is not on the policy's allowed list");
    case PurposeVerdict::kAllowed:
      break;
  }

  // Consents speak about one patient; patient_keys() is empty unless the
  // input is about exactly one, so a consent never opens another person's data.
  std::vector<std::string> keys = patient_keys(input);
  Decision decision = decide(*policy_, *recipient, req.purpose, req.consents, keys, req.now);
  GW_TRY(Redaction red, redact(*policy_, *model_, input, decision));
  out.removals = std::move(red.removals);
  audit.removals = out.removals.size();
  audit.consent_ids = decision.consent_ids;
  if (red.root_withheld) {
    return refuse(Outcome::kWithheld, "withheld", "forbidden",
                  "the resource as a whole belongs to a category this recipient may not receive");
  }
  // The verifier reads what will be sent, parsed afresh, never the engine's
  // own view of it.
  auto reparsed = json::Document::parse(red.document);
  if (!reparsed) {
    return fail(ErrorCode::kInternal,
                "redacted output does not parse: " + reparsed.error().message());
  }
  GW_TRY(std::vector<Finding> findings, verify(*policy_, *model_, reparsed->root(), decision,
                                               red.removed_values, red.removed_resources));
  if (!findings.empty()) {
    audit.findings = std::move(findings);
    return refuse(
        Outcome::kFailedClosed, "verifier-finding", "security",
        "the redacted output still holds data of a denied category; nothing was released");
  }
  out.receipt = receipt_json(*policy_, *recipient, req, input, decision, out.removals);
  out.document = std::move(red.document);
  out.outcome = Outcome::kReleased;
  audit.outcome = Outcome::kReleased;
  audit.reason = "released";
  return out;
}

}  // namespace gw::consent
