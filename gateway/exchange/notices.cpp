// Withdrawal notices and MHD ITI-65 payloads (detail/notices.hpp).
//
// Why a Task: a withdrawal asks the clinic to DO something (stop using,
// and remove, what it received under the withdrawn permit), which is what
// FHIR's Task is for; its focus names the delivered copy by the identity
// the clinic already holds (Bundle.identifier), so no clinical or personal
// data needs to travel again. The message form wraps the same Task for
// clinics that take FHIR messaging ($process-message).
#include "gateway/exchange/detail/notices.hpp"

#include "gateway/exchange/detail/documents.hpp"
#include "gateway/exchange/exchange.hpp"
#include "gateway/json/json.hpp"

#include <cstdint>

namespace gw::exchange::detail {

namespace {

constexpr std::string_view kUriSystem = "urn:ietf:rfc:3986";

void identifier(json::Writer& w, std::string_view system, std::string_view value) {
  w.begin_object();
  w.key("system");
  w.string(system);
  w.key("value");
  w.string(value);
  w.end_object();
}

// {"type": T, "identifier": {...}}: a logical reference.
void logical_ref(json::Writer& w, std::string_view type, std::string_view system, std::string_view value) {
  w.begin_object();
  w.key("type");
  w.string(type);
  w.key("identifier");
  identifier(w, system, value);
  w.end_object();
}

void coding(json::Writer& w, std::string_view system, std::string_view code, std::string_view display = {}) {
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

void concept_of(json::Writer& w, std::string_view system, std::string_view code, std::string_view display = {}) {
  w.begin_object();
  w.key("coding");
  w.begin_array();
  coding(w, system, code, display);
  w.end_array();
  w.end_object();
}

void profile(json::Writer& w, std::string_view name) {
  w.key("meta");
  w.begin_object();
  w.key("profile");
  w.begin_array();
  w.string(std::string(kMhdProfileBase) + std::string(name));
  w.end_array();
  w.end_object();
}

void post_request(json::Writer& w, std::string_view type) {
  w.key("request");
  w.begin_object();
  w.key("method");
  w.string("POST");
  w.key("url");
  w.string(type);
  w.end_object();
}

}  // namespace

std::string withdrawal_task(const NoticeFacts& f) {
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("Task");
  w.key("id");
  w.string(f.task_id);
  w.key("identifier");
  w.begin_array();
  identifier(w, kUriSystem, "urn:uuid:" + f.task_id);
  w.end_array();
  w.key("status");
  w.string("requested");
  w.key("intent");
  w.string("order");
  w.key("priority");
  w.string("urgent");
  w.key("code");
  concept_of(w, kNoticeCodeSystem, "withdraw-consent", "Consent withdrawn: stop using the released copy");
  w.key("description");
  w.string("The patient withdrew the consent under which the referenced document was released to you. Stop using "
           "what it permitted and remove it from your records; pull the patient's summary again for what remains "
           "releasable.");
  if (!f.bundle_identifiers.empty()) {
    w.key("focus");
    logical_ref(w, "Bundle", kUriSystem, f.bundle_identifiers.front());
  }
  w.key("for");
  logical_ref(w, "Patient", kPatientKeySystem, f.patient_key);
  w.key("authoredOn");
  w.string(gw::format_instant(f.now));
  w.key("requester");
  w.begin_object();
  w.key("type");
  w.string("Organization");
  w.key("display");
  w.string(f.gateway_name);
  w.end_object();
  w.key("owner");
  logical_ref(w, "Organization", kRecipientIdSystem, f.recipient);
  w.key("input");
  w.begin_array();
  for (const std::string& b : f.bundle_identifiers) {
    w.begin_object();
    w.key("type");
    concept_of(w, kNoticeCodeSystem, "affected-document", "Document released under the withdrawn consent");
    w.key("valueIdentifier");
    identifier(w, kUriSystem, b);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

std::string withdrawal_message(const NoticeFacts& f, std::string_view message_id, std::string_view header_id,
                               std::string_view recipient_endpoint, std::string_view gateway_endpoint) {
  const std::string task = withdrawal_task(f);
  auto task_doc = json::Document::parse(task);
  GW_ASSERT(bool(task_doc), "our own Task JSON parses");
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("Bundle");
  w.key("id");
  w.string(message_id);
  w.key("identifier");
  identifier(w, kUriSystem, "urn:uuid:" + std::string(message_id));
  w.key("type");
  w.string("message");
  w.key("timestamp");
  w.string(gw::format_instant(f.now));
  w.key("entry");
  w.begin_array();
  w.begin_object();
  w.key("fullUrl");
  w.string("urn:uuid:" + std::string(header_id));
  w.key("resource");
  w.begin_object();
  w.key("resourceType");
  w.string("MessageHeader");
  w.key("id");
  w.string(header_id);
  w.key("eventCoding");
  coding(w, kNoticeCodeSystem, "withdraw-consent", "Consent withdrawn: stop using the released copy");
  w.key("destination");
  w.begin_array();
  w.begin_object();
  w.key("endpoint");
  w.string(recipient_endpoint);
  w.key("receiver");
  logical_ref(w, "Organization", kRecipientIdSystem, f.recipient);
  w.end_object();
  w.end_array();
  w.key("source");
  w.begin_object();
  w.key("name");
  w.string(f.gateway_name);
  w.key("endpoint");
  w.string(gateway_endpoint);
  w.end_object();
  w.key("focus");
  w.begin_array();
  w.begin_object();
  w.key("reference");
  w.string("urn:uuid:" + f.task_id);
  w.end_object();
  w.end_array();
  w.end_object();
  w.end_object();
  w.begin_object();
  w.key("fullUrl");
  w.string("urn:uuid:" + f.task_id);
  w.key("resource");
  w.value(task_doc->root());
  w.end_object();
  w.end_array();
  w.end_object();
  return std::move(w).take();
}

std::string mhd_provide_bundle(const MhdFacts& f) {
  const std::string now = gw::format_instant(f.now);
  json::Writer w;
  w.begin_object();
  w.key("resourceType");
  w.string("Bundle");
  w.key("id");
  w.string(f.bundle_id);
  profile(w, "IHE.MHD.Minimal.ProvideBundle");
  w.key("type");
  w.string("transaction");
  w.key("timestamp");
  w.string(now);
  w.key("entry");
  w.begin_array();

  // The SubmissionSet: who it is for, where it comes from, what it holds.
  w.begin_object();
  w.key("fullUrl");
  w.string("urn:uuid:" + f.submission_set_id);
  w.key("resource");
  w.begin_object();
  w.key("resourceType");
  w.string("List");
  w.key("id");
  w.string(f.submission_set_id);
  profile(w, "IHE.MHD.Minimal.SubmissionSet");
  w.key("extension");
  w.begin_array();
  w.begin_object();
  w.key("url");
  w.string(std::string(kMhdProfileBase) + "ihe-sourceId");
  w.key("valueIdentifier");
  w.begin_object();
  w.key("value");
  w.string(f.source_id);
  w.end_object();
  w.end_object();
  w.begin_object();
  w.key("url");
  w.string(std::string(kMhdProfileBase) + "ihe-intendedRecipient");
  w.key("valueReference");
  logical_ref(w, "Organization", kRecipientIdSystem, f.recipient);
  w.end_object();
  w.end_array();
  w.key("identifier");
  w.begin_array();
  w.begin_object();
  w.key("use");
  w.string("usual");
  w.key("system");
  w.string(kUriSystem);
  w.key("value");
  w.string("urn:uuid:" + f.bundle_id);
  w.end_object();
  w.begin_object();
  w.key("use");
  w.string("official");
  w.key("system");
  w.string(kUriSystem);
  w.key("value");
  w.string("urn:uuid:" + f.submission_set_id);
  w.end_object();
  w.end_array();
  w.key("status");
  w.string("current");
  w.key("mode");
  w.string("working");
  w.key("code");
  concept_of(w, "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes", "submissionset");
  w.key("subject");
  logical_ref(w, "Patient", kPatientKeySystem, f.patient_key);
  w.key("date");
  w.string(now);
  w.key("entry");
  w.begin_array();
  w.begin_object();
  w.key("item");
  w.begin_object();
  w.key("reference");
  w.string("urn:uuid:" + f.document_reference_id);
  w.end_object();
  w.end_object();
  w.end_array();
  w.end_object();
  post_request(w, "List");
  w.end_object();

  // The DocumentReference: the document's metadata; masterIdentifier is
  // the document's own Bundle.identifier (its delivery identity).
  w.begin_object();
  w.key("fullUrl");
  w.string("urn:uuid:" + f.document_reference_id);
  w.key("resource");
  w.begin_object();
  w.key("resourceType");
  w.string("DocumentReference");
  w.key("id");
  w.string(f.document_reference_id);
  profile(w, "IHE.MHD.Minimal.DocumentReference");
  w.key("masterIdentifier");
  identifier(w, f.document_system, f.document_identifier);
  w.key("identifier");
  w.begin_array();
  w.begin_object();
  w.key("use");
  w.string("official");
  w.key("system");
  w.string(kUriSystem);
  w.key("value");
  w.string("urn:uuid:" + f.document_reference_id);
  w.end_object();
  w.end_array();
  w.key("status");
  w.string("current");
  w.key("type");
  concept_of(w, "http://loinc.org", "60591-5", "Patient summary Document");
  w.key("subject");
  logical_ref(w, "Patient", kPatientKeySystem, f.patient_key);
  w.key("date");
  w.string(now);
  w.key("content");
  w.begin_array();
  w.begin_object();
  w.key("attachment");
  w.begin_object();
  w.key("contentType");
  w.string("application/fhir+json");
  w.key("url");
  w.string("urn:uuid:" + f.binary_id);
  w.key("size");
  w.integer(static_cast<std::int64_t>(f.document.size()));
  w.end_object();
  w.key("format");
  coding(w, "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode", "urn:ihe:pcc:ips:2020");
  w.end_object();
  w.end_array();
  w.end_object();
  post_request(w, "DocumentReference");
  w.end_object();

  // The document itself (MHD carries documents as Binary).
  w.begin_object();
  w.key("fullUrl");
  w.string("urn:uuid:" + f.binary_id);
  w.key("resource");
  w.begin_object();
  w.key("resourceType");
  w.string("Binary");
  w.key("id");
  w.string(f.binary_id);
  w.key("contentType");
  w.string("application/fhir+json");
  w.key("data");
  w.string(base64(f.document));
  w.end_object();
  post_request(w, "Binary");
  w.end_object();

  w.end_array();
  w.end_object();
  return std::move(w).take();
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8) |
                            std::uint32_t(std::uint8_t(in[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t n = std::uint32_t(std::uint8_t(in[i])) << 16;
    if (rest == 2) n |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace gw::exchange::detail
