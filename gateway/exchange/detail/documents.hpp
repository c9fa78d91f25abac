// Reading and writing the small FHIR documents the use cases need: what a
// pushed Bundle says about itself (identifier, recipients, the patient's
// record numbers, Consents), the gateway's own answers (OperationOutcome,
// DocumentReference searchsets) and BALP-shaped AuditEvents.
#pragma once

#include "gateway/consent/consent.hpp"
#include "gateway/exchange/exchange.hpp"
#include "gateway/json/json.hpp"
#include "gateway/store/store.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace gw::exchange::detail {

/// A reply holding one OperationOutcome issue (severity error).
/// `diagnostics` must not contain patient data.
Reply outcome(int status, std::string_view code, std::string diagnostics, std::string_view expression = {});

/// "system|value" of Bundle.identifier; empty when either is missing.
std::string idempotency_key(json::Value bundle);

/// Registration ids named by MHD SubmissionSet Lists in the Bundle
/// (intendedRecipient extension -> Organization identified under
/// kRecipientIdSystem, by identifier or by reference to an entry).
std::vector<std::string> intended_recipients(json::Value bundle);

/// The sender's record numbers of the Bundle's Patient: identifiers typed
/// MR, PI, PT, MRT (v2-0203) or untyped, with system and value. Passport,
/// visa, citizenship, national and other document identifiers never link.
struct PatientIdentity {
  std::vector<std::pair<std::string, std::string>> record_numbers;
};
PatientIdentity record_numbers(json::Value bundle);

/// Consent resources in the Bundle, as (id, JSON text).
std::vector<std::pair<std::string, std::string>> consents_in(json::Value bundle);

/// The HandoffDocument with the gateway's patient key added to its
/// Patient's identifiers (replacing an older one), so the receiving clinic
/// can pull the patient's history by it.
std::string with_patient_key(const std::string& handoff_json, std::string_view patient_key);

/// Bundle.id, or the UUID of Bundle.identifier when the Bundle has no id.
std::string resource_id(json::Value bundle);
/// Bundle.identifier.value.
std::string identifier_value(json::Value bundle);
/// id of the (first) Patient entry of a Bundle, "" if none.
std::string patient_id(json::Value bundle);

/// The 201 body of an accepted push: an informational OperationOutcome.
std::string push_accepted_body(std::string_view handoff_id, std::string_view patient_key, std::size_t recipients);

/// A collection Bundle of the entries of several HandoffDocuments, without
/// their Compositions and Provenances (the merge rebuilds both).
std::string collection_of(const std::vector<std::string>& handoff_documents);

/// A searchset Bundle of DocumentReferences, one per stored handoff.
std::string document_reference_bundle(const std::vector<store::HandoffSummary>& handoffs,
                                      std::string_view patient_key, Page page);

/// True when a permit provision (at any depth) names `caller` as actor,
/// by reference "Organization/<caller>" or by identifier under
/// kRecipientIdSystem.
bool permits_actor(const consent::Provision& provision, std::string_view caller);

/// What an audit record says; never a clinical value.
struct AuditFacts {
  std::string action;       ///< push | summary | read | search | consent | withdraw | notify | cancel
  std::string caller;       ///< registration id
  std::string patient_key;  ///< pseudonymous, may be empty
  std::string entity;       ///< handoff id, or consent id (consent, withdraw), may be empty
  bool success = true;
};
/// An AuditEvent shaped after IHE BALP (RESTful activity): type rest,
/// subtype the interaction, agent the caller (client) and the gateway
/// (server), entities the patient (by key) and the document.
std::string audit_event(const AuditFacts& facts, std::chrono::system_clock::time_point now);

}  // namespace gw::exchange::detail
