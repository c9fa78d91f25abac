// Small FHIR documents in and out of the use cases (see detail/documents.hpp).
#include "gateway/exchange/detail/documents.hpp"

#include "gateway/fhir/fhir.hpp"

#include <ctime>

namespace gw::exchange::detail {

namespace {

constexpr std::string_view kV2IdentifierType = "http://terminology.hl7.org/CodeSystem/v2-0203";

// Strips "urn:uuid:" so an identifier value can serve as a resource id.
std::string_view uuid_of(std::string_view v) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (v.substr(0, kPrefix.size()) == kPrefix) v.remove_prefix(kPrefix.size());
  return v;
}

// Finds the entry resource a reference points at: by fullUrl, or by
// "Type/id" against the entries' resourceType and id.
json::Value resolve_in(json::Value bundle, std::string_view reference) {
  for (json::Value e : bundle.find("entry").items()) {
    json::Value r = e.find("resource");
    if (e.find("fullUrl").str() == reference) return r;
    const std::string_view type = r.find("resourceType").str();
    const std::string_view id = r.find("id").str();
    if (!id.empty() && reference.size() == type.size() + 1 + id.size() &&
        reference.substr(0, type.size()) == type && reference[type.size()] == '/' &&
        reference.substr(type.size() + 1) == id) {
      return r;
    }
  }
  return {};
}

std::string recipient_id_of(json::Value identifiers) {
  for (json::Value id : identifiers.items()) {
    if (id.find("system").str() == kRecipientIdSystem) return std::string(id.find("value").str());
  }
  return {};
}

json::Value first_patient(json::Value bundle) {
  for (json::Value e : bundle.find("entry").items()) {
    json::Value r = e.find("resource");
    if (r.find("resourceType").str() == "Patient") return r;
  }
  return {};
}

void write_identifier(json::Writer& w, std::string_view system, std::string_view value) {
  w.begin_object();
  w.key("system");
  w.string(system);
  w.key("value");
  w.string(value);
  w.end_object();
}

// Copies a Patient, replacing any gateway key among its identifiers.
void write_patient_with_key(json::Writer& w, json::Value patient, std::string_view key) {
  w.begin_object();
  bool wrote = false;
  for (std::size_t i = 0; i < patient.size(); ++i) {
    std::string_view k = patient.key(i);
    w.key(k);
    if (k != "identifier") {
      w.value(patient[i]);
      continue;
    }
    w.begin_array();
    for (json::Value id : patient[i].items()) {
      if (id.find("system").str() != kPatientKeySystem) w.value(id);
    }
    write_identifier(w, kPatientKeySystem, key);
    w.end_array();
    wrote = true;
  }
  if (!wrote) {
    w.key("identifier");
    w.begin_array();
    write_identifier(w, kPatientKeySystem, key);
    w.end_array();
  }
  w.end_object();
}

}  // namespace

Reply outcome(int status, std::string_view code, std::string diagnostics, std::string_view expression) {
  fhir::Issue i;
  i.severity = status < 300 ? fhir::Issue::Severity::kInformation : fhir::Issue::Severity::kError;
  i.code = std::string(code);
  i.diagnostics = std::move(diagnostics);
  i.expression = std::string(expression);
  std::vector<fhir::Issue> issues{std::move(i)};
  return Reply{status, fhir::operation_outcome_json(issues), {}, {}};
}

std::string idempotency_key(json::Value bundle) {
  json::Value id = bundle.find("identifier");
  std::string_view system = id.find("system").str();
  std::string_view value = id.find("value").str();
  if (system.empty() || value.empty()) return {};
  return std::string(system) + "|" + std::string(value);
}

std::vector<std::string> intended_recipients(json::Value bundle) {
  std::vector<std::string> out;
  for (json::Value e : bundle.find("entry").items()) {
    json::Value list = e.find("resource");
    if (list.find("resourceType").str() != "List") continue;
    for (json::Value ext : list.find("extension").items()) {
      std::string_view url = ext.find("url").str();
      if (url.starts_with("http://")) url.remove_prefix(7);
      else if (url.starts_with("https://")) url.remove_prefix(8);
      if (url != kIntendedRecipientExtension.substr(8)) continue;
      json::Value ref = ext.find("valueReference");
      std::string id;
      if (json::Value ident = ref.find("identifier"); ident.find("system").str() == kRecipientIdSystem) {
        id = std::string(ident.find("value").str());
      } else if (json::Value org = resolve_in(bundle, ref.find("reference").str())) {
        id = recipient_id_of(org.find("identifier"));
      }
      if (!id.empty()) out.push_back(std::move(id));
    }
  }
  return out;
}

PatientIdentity record_numbers(json::Value bundle) {
  PatientIdentity out;
  json::Value patient = first_patient(bundle);
  for (json::Value id : patient.find("identifier").items()) {
    std::string_view system = id.find("system").str();
    std::string_view value = id.find("value").str();
    if (system.empty() || value.empty() || system == kPatientKeySystem) continue;
    json::Value type = id.find("type");
    bool record_number = !type;
    for (json::Value c : type.find("coding").items()) {
      std::string_view code = c.find("code").str();
      if (c.find("system").str() == kV2IdentifierType &&
          (code == "MR" || code == "PI" || code == "PT" || code == "MRT")) {
        record_number = true;
      }
    }
    // A typed identifier with only text, or of another type (passport,
    // visa, national id), is never a link: it could reveal status.
    if (record_number) out.record_numbers.emplace_back(system, value);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> consents_in(json::Value bundle) {
  std::vector<std::pair<std::string, std::string>> out;
  for (json::Value e : bundle.find("entry").items()) {
    json::Value r = e.find("resource");
    if (r.find("resourceType").str() != "Consent") continue;
    json::Writer w;
    w.value(r);
    out.emplace_back(std::string(r.find("id").str()), std::move(w).take());
  }
  return out;
}

std::string with_patient_key(const std::string& handoff_json, std::string_view patient_key) {
  auto doc = json::Document::parse(handoff_json);
  if (!doc) return handoff_json;  // our own output: parse failure is impossible; keep it unchanged
  json::Value bundle = doc->root();
  json::Writer w;
  w.begin_object();
  bool done = false;
  for (std::size_t i = 0; i < bundle.size(); ++i) {
    w.key(bundle.key(i));
    if (bundle.key(i) != "entry") {
      w.value(bundle[i]);
      continue;
    }
    w.begin_array();
    for (json::Value e : bundle[i].items()) {
      json::Value r = e.find("resource");
      if (done || r.find("resourceType").str() != "Patient") {
        w.value(e);
        continue;
      }
      w.begin_object();
      for (std::size_t j = 0; j < e.size(); ++j) {
        w.key(e.key(j));
        if (e.key(j) == "resource") {
          write_patient_with_key(w, r, patient_key);
        } else {
          w.value(e[j]);
        }
      }
      w.end_object();
      done = true;
    }
    w.end_array();
  }
  w.end_object();
  return std::move(w).take();
}

std::string resource_id(json::Value bundle) {
  std::string_view id = bundle.find("id").str();
  if (!id.empty()) return std::string(id);
  return std::string(uuid_of(bundle.find("identifier").find("value").str()));
}

std::string identifier_value(json::Value bundle) { return std::string(bundle.find("identifier").find("value").str()); }

std::string patient_id(json::Value bundle) { return std::string(first_patient(bundle).find("id").str()); }

std::string push_accepted_body(std::string_view handoff_id, std::string_view patient_key, std::size_t recipients) {
  // The ids are the gateway's own (random UUIDs), not patient data.
  std::string text = "handoff " + std::string(handoff_id) + " stored durably and queued for " +
                     std::to_string(recipients) + (recipients == 1 ? " recipient" : " recipients") +
                     "; the patient's gateway key is " + std::string(patient_key);
  return outcome(201, "informational", std::move(text)).body;
}

std::string collection_of(const std::vector<std::string>& handoff_documents) {
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("Bundle");
  w.key("type");
  w.string("collection");
  w.key("entry");
  w.begin_array();
  for (const std::string& text : handoff_documents) {
    auto doc = json::Document::parse(text);
    if (!doc) continue;
    for (json::Value e : doc->root().find("entry").items()) {
      std::string_view type = e.find("resource").find("resourceType").str();
      if (type == "Composition" || type == "Provenance") continue;
      w.value(e);
    }
  }
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

std::string document_reference_bundle(const std::vector<store::HandoffSummary>& handoffs,
                                      std::string_view patient_key, Page page) {
  const std::size_t first = std::min(page.offset, handoffs.size());
  const std::size_t last = first + std::min(page.count, handoffs.size() - first);
  // Links are relative to the FHIR base and name the patient by the
  // gateway's key (the caller may see it: every entry's subject carries it).
  auto link = [&](std::string_view relation, std::size_t offset) {
    return std::pair<std::string_view, std::string>(
        relation, "DocumentReference?patient=" + std::string(patient_key) + "&_count=" + std::to_string(page.count) +
                      "&_offset=" + std::to_string(offset));
  };
  std::vector<std::pair<std::string_view, std::string>> links{link("self", first)};
  if (last < handoffs.size() && page.count > 0) links.push_back(link("next", last));
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("Bundle");
  w.key("type");
  w.string("searchset");
  w.key("total");
  w.integer(static_cast<std::int64_t>(handoffs.size()));
  if (!patient_key.empty()) {
    w.key("link");
    w.begin_array();
    for (const auto& [relation, url] : links) {
      w.begin_object();
      w.key("relation");
      w.string(relation);
      w.key("url");
      w.string(url);
      w.end_object();
    }
    w.end_array();
  }
  // FHIR JSON has no empty arrays: an empty page has no `entry`.
  if (first < last) {
    w.key("entry");
    w.begin_array();
  }
  for (std::size_t i = first; i < last; ++i) {
    const auto& h = handoffs[i];
    w.begin_object();
    w.key("fullUrl");
    w.string("urn:uuid:" + h.handoff_id);
    w.key("resource");
    w.begin_object();
    w.key("resourceType");
    w.string("DocumentReference");
    w.key("id");
    w.string(h.handoff_id);
    w.key("masterIdentifier");
    write_identifier(w, "urn:ietf:rfc:3986", "urn:uuid:" + h.handoff_id);
    w.key("status");
    w.string("current");
    w.key("type");
    w.begin_object();
    w.key("coding");
    w.begin_array();
    w.begin_object();
    w.key("system");
    w.string("http://loinc.org");
    w.key("code");
    w.string("60591-5");
    w.key("display");
    w.string("Patient summary Document");
    w.end_object();
    w.end_array();
    w.end_object();
    w.key("subject");
    w.begin_object();
    w.key("identifier");
    write_identifier(w, kPatientKeySystem, patient_key);
    w.end_object();
    w.key("date");
    w.string(gw::format_instant(h.created_at));
    w.key("content");
    w.begin_array();
    w.begin_object();
    w.key("attachment");
    w.begin_object();
    w.key("contentType");
    w.string("application/fhir+json");
    w.key("url");
    w.string("Bundle/" + h.handoff_id);
    w.key("size");
    w.integer(static_cast<std::int64_t>(h.size));
    w.end_object();
    w.key("format");
    w.begin_object();
    w.key("system");
    w.string("http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode");
    w.key("code");
    w.string("urn:ihe:pcc:ips:2020");
    w.end_object();
    w.end_object();
    w.end_array();
    w.end_object();
    w.key("search");
    w.begin_object();
    w.key("mode");
    w.string("match");
    w.end_object();
    w.end_object();
  }
  if (first < last) w.end_array();
  w.end_object();
  return std::move(w).take();
}

bool permits_actor(const consent::Provision& p, std::string_view caller) {
  if (p.type == consent::Provision::Type::kPermit) {
    const std::string ref = "Organization/" + std::string(caller);
    for (const auto& r : p.actor_references) {
      if (r == ref) return true;
    }
    for (const auto& c : p.actor_identifiers) {
      if (c.system == kRecipientIdSystem && c.code == caller) return true;
    }
  }
  for (const auto& nested : p.provisions) {
    if (permits_actor(nested, caller)) return true;
  }
  return false;
}

std::string audit_event(const AuditFacts& f, std::chrono::system_clock::time_point now) {
  // BALP RESTful activity: the interaction code says what happened.
  std::string_view interaction = "read";
  std::string_view action = "R";
  if (f.action == "push" || f.action == "consent" || f.action == "notify") {
    interaction = "create";
    action = "C";
  } else if (f.action == "withdraw" || f.action == "cancel") {
    interaction = "update";
    action = "U";
  } else if (f.action == "search" || f.action == "summary") {
    interaction = f.action == "search" ? "search-type" : "operation";
    action = "E";
  }
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("AuditEvent");
  w.key("type");
  w.begin_object();
  w.key("system");
  w.string("http://terminology.hl7.org/CodeSystem/audit-event-type");
  w.key("code");
  w.string("rest");
  w.end_object();
  w.key("subtype");
  w.begin_array();
  w.begin_object();
  w.key("system");
  w.string("http://hl7.org/fhir/restful-interaction");
  w.key("code");
  w.string(interaction);
  w.end_object();
  w.end_array();
  w.key("action");
  w.string(action);
  w.key("recorded");
  w.string(gw::format_instant(now));
  w.key("outcome");
  w.string(f.success ? "0" : "4");
  w.key("outcomeDesc");
  w.string(f.action + (f.success ? " succeeded" : " refused"));
  w.key("agent");
  w.begin_array();
  w.begin_object();
  w.key("type");
  w.begin_object();
  w.key("coding");
  w.begin_array();
  w.begin_object();
  w.key("system");
  w.string("http://dicom.nema.org/resources/ontology/DCM");
  w.key("code");
  w.string("110153");
  w.key("display");
  w.string("Source Role ID");
  w.end_object();
  w.end_array();
  w.end_object();
  w.key("who");
  w.begin_object();
  w.key("identifier");
  write_identifier(w, kRecipientIdSystem, f.caller.empty() ? "(unidentified)" : f.caller);
  w.end_object();
  w.key("requestor");
  w.boolean(true);
  w.end_object();
  w.end_array();
  w.key("source");
  w.begin_object();
  w.key("observer");
  w.begin_object();
  w.key("display");
  w.string("migrant-care FHIR gateway");
  w.end_object();
  w.end_object();
  if (!f.patient_key.empty() || !f.entity.empty()) {
    w.key("entity");
    w.begin_array();
    if (!f.patient_key.empty()) {
      w.begin_object();
      w.key("what");
      w.begin_object();
      w.key("identifier");
      write_identifier(w, kPatientKeySystem, f.patient_key);
      w.end_object();
      w.key("type");
      w.begin_object();
      w.key("system");
      w.string("http://terminology.hl7.org/CodeSystem/audit-entity-type");
      w.key("code");
      w.string("1");
      w.end_object();
      w.key("role");
      w.begin_object();
      w.key("system");
      w.string("http://terminology.hl7.org/CodeSystem/object-role");
      w.key("code");
      w.string("1");
      w.end_object();
      w.end_object();
    }
    if (!f.entity.empty()) {
      w.begin_object();
      w.key("what");
      w.begin_object();
      w.key("reference");
      w.string((f.action == "consent" || f.action == "withdraw" ? "Consent/" : "Bundle/") + f.entity);
      w.end_object();
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  return std::move(w).take();
}

}  // namespace gw::exchange::detail
