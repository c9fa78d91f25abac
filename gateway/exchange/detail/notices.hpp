// The documents the gateway itself sends to clinics besides handoffs:
// consent-withdrawal notices (a FHIR Task, or a FHIR message carrying the
// same Task) and IHE MHD ITI-65 Provide Document Bundles wrapping a
// released handoff. Pure functions over values: no Store, no clock.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace gw::exchange::detail {

/// Code system of the gateway's notice codes ("withdraw-consent",
/// "affected-document").
inline constexpr std::string_view kNoticeCodeSystem = "http://fhir.migrant-care.example.org/CodeSystem/gateway-notice";
inline constexpr std::string_view kMhdProfileBase = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/";

/// What a withdrawal notice says. Nothing about the patient but the
/// pseudonymous key; the copies are named by their Bundle.identifier.
struct NoticeFacts {
  std::string task_id;    ///< uuid: Task.id, Task.identifier urn:uuid:<id>
  std::string recipient;  ///< registration id (Task.owner)
  std::string patient_key;
  std::vector<std::string> bundle_identifiers;  ///< affected copies, Bundle.identifier values (urn:uuid:...)
  std::chrono::system_clock::time_point now;
  std::string gateway_name;
};

/// A Task (status requested, intent order, code withdraw-consent, focus the
/// first affected copy, one input "affected-document" per copy, for = the
/// patient key, owner = the recipient).
std::string withdrawal_task(const NoticeFacts& facts);

/// A message Bundle: MessageHeader (event withdraw-consent, destination
/// the recipient's endpoint, focus the Task) and the Task.
/// Bundle.identifier is urn:uuid:<message_id>.
std::string withdrawal_message(const NoticeFacts& facts, std::string_view message_id, std::string_view header_id,
                               std::string_view recipient_endpoint, std::string_view gateway_endpoint);

/// What an ITI-65 Provide Document Bundle carries.
struct MhdFacts {
  std::string document;             ///< the released (redacted) HandoffDocument JSON
  std::string document_system;      ///< its Bundle.identifier.system
  std::string document_identifier;  ///< its Bundle.identifier.value (the delivery identity)
  std::string patient_key;
  std::string recipient;            ///< intended recipient (registration id)
  std::string source_id;            ///< SubmissionSet sourceId (the gateway, as a URI)
  std::string bundle_id, submission_set_id, document_reference_id, binary_id;  ///< uuids
  std::chrono::system_clock::time_point now;
};

/// A transaction Bundle per IHE MHD (Minimal metadata): a SubmissionSet
/// List (intended recipient, sourceId, the DocumentReference as its
/// entry), a DocumentReference (masterIdentifier = the document's
/// Bundle.identifier, attachment -> the Binary by fullUrl) and a Binary
/// holding the document (application/fhir+json, base64), each with a POST
/// request.
std::string mhd_provide_bundle(const MhdFacts& facts);

/// RFC 4648 base64 (with padding).
std::string base64(std::string_view bytes);

}  // namespace gw::exchange::detail
