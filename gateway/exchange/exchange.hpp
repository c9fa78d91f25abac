// gw::exchange — the gateway's use cases: a hospital pushes a discharge
// summary, a clinic pulls a patient's history.
//
// A push, in order (each step can end it with a 4xx and an OperationOutcome;
// nothing is stored then, except the audit record of a refusal):
//
//   caller may "submit"? ─403─┐
//   parse (hardened JSON) ─400┤
//   Bundle of type document | transaction | collection, Bundle.identifier ─422┤
//   Bundle.signature verified against the sender's certificates; unsigned
//     only where the sender's registration allows it ─422┤  (DocumentSigner)
//   validate against the base definitions and the profiles it names ─422┤
//   recipients (request + MHD intendedRecipient) registered to "receive" ─422┤
//   build the HandoffDocument (mappings) and validate it against
//     HandoffDocument ─422┤  (e.g. the patient's language is missing)
//   pseudonymous patient key from the sender's record numbers
//   for each recipient: redact + independent verify (consent) ─403/422┤,
//     then sign the released document (DocumentSigner) ─500┤
//   Store::commit_push: original, handoff, outbox rows, patient links,
//     idempotency key and audit in ONE durable transaction
//   ─> 201 Created, Location: Bundle/<handoff id>   (only after the commit)
//
// A retry of an acknowledged push (same sender, same Bundle.identifier) gets
// the first answer again; nothing is stored twice or delivered twice.
//
// A pull (`$summary`, `Bundle/{id}`, `DocumentReference?patient=`) is
// allowed when the caller may "pull" and either pushed or received a
// handoff for that patient, or an active Consent of the patient names it.
// What it returns is the stored handoff(s), merged into one HandoffDocument
// for `$summary`, released through the consent filter for the caller and
// purpose: the filter is never skipped. Every pull and refusal is audited.
//
// Consent withdrawal (issue #8). A patient withdraws a Consent through the
// organisation that submitted it: `PUT Consent/{id}` with the same Consent
// and status `inactive` (or `rejected`), the FHIR REST update of the
// resource's status; a pushed bundle carrying a known Consent with such a
// status does the same. Only an organisation linked to the patient (it
// pushed or received a handoff for them) may withdraw. Then, in ONE store
// transaction (Store::withdraw_consent):
//   - the consent is revoked (no later release applies it);
//   - every outbox row whose release relied on it (the consent ids of the
//     release are recorded per row at push time) is found:
//       not yet sent (pending, dead letter)  -> cancelled, never delivered:
//         the copy carries data only the withdrawn permit allowed, and no
//         copy is better than one the patient revoked (the clinic keeps
//         the right to pull the summary, released afresh without it);
//       delivered, in flight, or sent without an answer -> the clinic is
//         told: ONE notice per clinic, naming every affected copy by its
//         Bundle.identifier, as the clinic's registration says
//         ("withdrawal_notice": "task" -> a Task POSTed to <endpoint>/Task,
//         "message" -> a message Bundle POSTed to <endpoint>/$process-message);
//   - the notices are outbox rows like handoffs: durable, retried,
//     dead-lettered, replayable;
//   - audit records: the withdrawal, each notice, each cancelled copy.
// A second withdrawal of the same consent changes nothing and answers 200.
//
// Delivery formats. A registration with "delivery_format": "mhd" receives
// an IHE MHD ITI-65 Provide Document Bundle (transaction: SubmissionSet
// List, DocumentReference, Binary holding the redacted HandoffDocument)
// instead of the bare document. It is built at push time, so the outbox
// holds exactly what is sent; the document's Bundle.identifier (the
// DocumentReference's masterIdentifier) stays the delivery identity.
//
// Patient identity. The gateway keys each patient by a pseudonymous id (a
// random UUID). A sender's record numbers (Patient.identifier of type MR,
// PI, PT or without a type) link to it, so the next push from the same
// hospital, and a clinic's lookup by its own number, find the same patient.
// No national or immigration identifier is used as a link (passport and
// similar types are never record numbers), and the key itself says nothing.
// Every organisation that pushed or received a handoff for a patient is
// linked under the system kPatientKeySystem: that link is the access right.
//
// Threads. An Exchange is immutable and shared; every method may be called
// concurrently. Methods BLOCK on store reads and run validation and
// redaction: call them from a worker pool, never from an I/O thread.
// `push` answers through `done`, which runs on the store's writer thread
// (or on the calling thread for early refusals).
//
// Errors never quote patient data: replies carry OperationOutcomes whose
// diagnostics name rules and locations, and the validator's issues about
// the caller's own submission.
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/json/json.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::validation {
class Validator;
}
namespace gw::handoff {
class MappingSet;
class IdGenerator;
}  // namespace gw::handoff
namespace gw::consent {
class Engine;
}
namespace gw::store {
class Store;
}

namespace gw::exchange {

/// Identifier system of the gateway's pseudonymous patient keys (in links
/// and in the Patient.identifier of delivered handoffs).
inline constexpr std::string_view kPatientKeySystem = "http://fhir.migrant-care.example.org/sid/patient-key";
/// Identifier system naming a registered organisation by its id (the MHD
/// intendedRecipient Organization, Consent actors).
inline constexpr std::string_view kRecipientIdSystem = "http://fhir.migrant-care.example.org/sid/recipient-id";
/// The IHE MHD intended-recipient extension on a SubmissionSet List (its
/// canonical URL is https; pushes that spell it http:// are read too, as
/// some MHD 4.0 implementations do).
inline constexpr std::string_view kIntendedRecipientExtension =
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-intendedRecipient";

/// An HTTP-free answer: status, FHIR JSON body, extra headers (Location
/// relative to the FHIR base, ETag, Retry-After), and the time the
/// resource last changed (the HTTP layer writes Last-Modified).
struct Reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::chrono::system_clock::time_point> last_modified;
  friend bool operator==(const Reply&, const Reply&) = default;
};

/// The authenticated caller (its registration id).
struct Caller {
  std::string id;
};

struct PushRequest {
  std::string body;                     ///< the Bundle, as received
  std::vector<std::string> recipients;  ///< registration ids named by the request
  std::string purpose = "TREAT";        ///< v3-ActReason code of the release
};

/// A pull names the patient by the gateway's key, or by the caller's own
/// identifier (system + value).
struct PatientRef {
  std::string key;
  std::string system;
  std::string value;
};

/// The verdict on an incoming document's signature (DocumentSigner).
struct SignatureCheck {
  bool accepted = true;
  std::string code = "security";  ///< FHIR IssueType of the refusal
  std::string diagnostics;        ///< names the rule and key id, never content
  std::string expression;         ///< e.g. "Bundle.signature.data"
  friend bool operator==(const SignatureCheck&, const SignatureCheck&) = default;
};

/// Signed handoff documents (issue #12), seen from the use cases. The
/// signing itself (canonical JSON, JWS, keys, OpenSSL) is an adapter,
/// gw::signing, wired by app; exchange owns only this port, so the domain
/// stays free of crypto libraries. Implementations are immutable and
/// thread-safe.
///
/// Where exchange calls it:
///   - push: check_incoming() on the pushed Bundle, after the envelope
///     checks and before validation (a refused signature costs no
///     validation); sign() on each recipient's released document before the
///     commit, so the outbox (and an MHD Binary) holds exactly what is sent;
///   - `$summary` and `Bundle/{id}`: sign() on the document released for the
///     caller (the stored handoff is unsigned: each release is a different
///     document, and each is signed as released).
class DocumentSigner {
 public:
  virtual ~DocumentSigner() = default;
  /// `document` (a Bundle, JSON text) with Bundle.signature made at `when`.
  /// Errors are operational (an unusable key): the caller answers 5xx.
  virtual Result<std::string> sign(std::string_view document, std::chrono::system_clock::time_point when) const = 0;
  /// The Bundle.signature of a push from `sender`, checked at `now`
  /// against the certificates registered for it, and the sender's rule
  /// for unsigned documents.
  virtual SignatureCheck check_incoming(std::string_view sender, json::Value bundle,
                                        std::chrono::system_clock::time_point now) const = 0;
};

/// One page of a search (FHIR `_count`, and our `_offset` in the links we
/// write). A count above kMaxPageSize is served as kMaxPageSize, as FHIR
/// lets a server do; `_count=0` answers with the total and no entries.
struct Page {
  static constexpr std::size_t kDefaultSize = 50;
  static constexpr std::size_t kMaxSize = 200;
  std::size_t count = kDefaultSize;
  std::size_t offset = 0;
};

struct Deps {
  std::shared_ptr<const validation::Validator> validator;
  std::shared_ptr<const handoff::MappingSet> mappings;
  std::shared_ptr<const consent::Engine> consent;  ///< policy + registrations
  std::shared_ptr<store::Store> store;
  std::shared_ptr<const Clock> clock;
  std::shared_ptr<handoff::IdGenerator> ids;
  /// Signs what the gateway delivers and serves, and checks what it
  /// receives; null: documents go unsigned and incoming signatures are not
  /// checked (deployments without a "signing" configuration, unit tests).
  std::shared_ptr<const DocumentSigner> signer;
  /// Profile every built handoff must conform to ("" skips the check, for
  /// deployments without the migrant-care package).
  std::string handoff_profile = "http://fhir.migrant-care.example.org/StructureDefinition/HandoffDocument";
  std::string gateway_name = "Migrant-care FHIR gateway";
  /// The gateway's own FHIR base, as notices name their source
  /// (MessageHeader.source.endpoint, MHD sourceId).
  std::string gateway_endpoint = "https://gateway.migrant-care.example.org/fhir";
  /// Told what the releases of each ACCEPTED push (committed, not a
  /// duplicate) removed: the number of removals per consent category code
  /// over all its recipients ("(free-text)", "(dangling)", ... for
  /// removals without a category, named by their action). For the
  /// operator dashboard; codes and counts only. Runs on the store's writer
  /// thread: it must be quick and thread-safe (a counter). May be empty.
  std::function<void(const std::map<std::string, std::uint64_t>&)> on_redactions;
};

class Exchange {
 public:
  /// Errors: kInvalidArgument when a dependency is missing.
  static Result<std::shared_ptr<const Exchange>> create(Deps deps);

  /// The push use case (see the top of this file). `done` is called exactly
  /// once.
  void push(const Caller& caller, PushRequest request, std::function<void(Reply)> done) const;

  /// Runs a push's own work on `sample` (a document Bundle: the demo
  /// discharge summary, or one shaped like the deployment's real pushes)
  /// WITHOUT the store: parse, validate, build the HandoffDocument, check it
  /// against its profile, release it for every registration that receives
  /// handoffs (with no consents: the default policy), sign. Nothing is
  /// stored, linked, audited or queued. Why: definitions, code systems and
  /// value-set expansions load on first use; run at start, before the
  /// server listens, the first real push does not pay for them (about
  /// 50 ms against 4 ms; issue #7). Errors: the sample is not a Bundle the
  /// push would accept (kInvalidArgument, naming the step and the first
  /// problem's location, never its content), or signing fails.
  Status warm_up(std::string sample) const;

  /// `Patient/{id}/$summary` (or `Patient/$summary?identifier=`): every
  /// handoff held for the patient merged into one HandoffDocument, released
  /// for the caller.
  Reply summary(const Caller& caller, const PatientRef& patient, std::string_view purpose) const;

  /// `Bundle/{id}`: one stored handoff, released for the caller, with ETag
  /// and Last-Modified.
  Reply read_bundle(const Caller& caller, std::string_view handoff_id, std::string_view purpose) const;

  /// `DocumentReference?patient=`: a searchset Bundle with one
  /// DocumentReference per handoff held for the patient (no content; the
  /// attachment URL points at Bundle/{id}), newest last, one page of them
  /// with `self` and `next` links and the total.
  Reply document_references(const Caller& caller, const PatientRef& patient, Page page = {}) const;

  /// `PUT Consent/{id}`: a Consent update. Only a withdrawal is accepted
  /// (status inactive or rejected; see "Consent withdrawal" above): new
  /// consents arrive inside pushed bundles. Answers 200 with the Consent as
  /// stored; 400 unreadable body or id mismatch; 403 the caller is not
  /// linked to the patient (audited); 404 unknown consent; 422 not a valid
  /// Consent, or a status other than inactive/rejected; 503 store failure.
  Reply update_consent(const Caller& caller, std::string_view consent_id, std::string body) const;

  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

 private:
  explicit Exchange(Deps deps);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gw::exchange
