// Delivery audit records, times and digests (detail/audit.hpp).
#include "gateway/forward/detail/audit.hpp"

#include "gateway/json/json.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <ctime>

namespace gw::forward::detail {

std::string hex_sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// The AuditEvent after IHE BALP's shape for a transmitted document: type
// DICOM 110106 "Export", the gateway as source, the recipient as
// destination, the handoff Bundle as entity. No payload content.
std::string delivery_audit(std::string_view outcome, std::string_view outcome_desc, std::string_view subtype,
                           std::string_view recipient, const store::Delivery& d,
                           std::chrono::system_clock::time_point now, std::string_view requested_by) {
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("AuditEvent");
  w.key("type");
  w.begin_object();
  w.key("system");
  w.string("http://dicom.nema.org/resources/ontology/DCM");
  w.key("code");
  w.string("110106");
  w.key("display");
  w.string("Export");
  w.end_object();
  w.key("subtype");
  w.begin_array();
  w.begin_object();
  w.key("system");
  w.string("http://fhir.migrant-care.example.org/CodeSystem/delivery-event");
  w.key("code");
  w.string(subtype);
  w.end_object();
  w.end_array();
  w.key("action");
  w.string("R");
  w.key("recorded");
  w.string(gw::format_instant(now, true));
  w.key("outcome");
  w.string(outcome);
  if (!outcome_desc.empty()) {
    w.key("outcomeDesc");
    w.string(outcome_desc);
  }
  w.key("agent");
  w.begin_array();
  if (!requested_by.empty()) {
    // An operator's replay: who asked is on the record (its registration
    // id, never a person's name).
    w.begin_object();
    w.key("who");
    w.begin_object();
    w.key("identifier");
    w.begin_object();
    w.key("value");
    w.string(requested_by);
    w.end_object();
    w.end_object();
    w.key("requestor");
    w.boolean(true);
    w.end_object();
  }
  w.begin_object();
  w.key("who");
  w.begin_object();
  w.key("display");
  w.string("fhir-gateway");
  w.end_object();
  w.key("requestor");
  w.boolean(requested_by.empty());
  w.end_object();
  w.begin_object();
  w.key("type");
  w.begin_object();
  w.key("coding");
  w.begin_array();
  w.begin_object();
  w.key("system");
  w.string("http://dicom.nema.org/resources/ontology/DCM");
  w.key("code");
  w.string("110152");
  w.key("display");
  w.string("Destination Role ID");
  w.end_object();
  w.end_array();
  w.end_object();
  w.key("who");
  w.begin_object();
  w.key("identifier");
  w.begin_object();
  w.key("value");
  w.string(recipient);
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
  w.string("fhir-gateway");
  w.end_object();
  w.end_object();
  w.key("entity");
  w.begin_array();
  w.begin_object();
  w.key("what");
  w.begin_object();
  w.key("reference");
  w.string("Bundle/" + d.handoff_id);
  w.end_object();
  w.key("description");
  w.string("outbox " + std::to_string(d.id));
  w.end_object();
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

}  // namespace gw::forward::detail
