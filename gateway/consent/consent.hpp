// gw::consent — what a recipient may see: the consent policy, the patient's
// Consent resources, the purpose of use, redaction, an independent verifier,
// DS4P labels and redaction receipts.
//
// Why this module exists: migrants avoid care when they fear that what a
// clinic learns reaches immigration enforcement. A patient's immigration
// status or whereabouts must never travel to a clinic unless the patient
// chose so, and never to enforcement. Everything here fails closed: when in
// doubt, data is removed, and when removal cannot be verified, nothing is
// released at all.
//
// One release, step by step (Engine::release):
//
//   recipient known? ──no──> refused (audit)
//   purpose allowed? ──no──> refused (audit)      enforcement and unknown
//        │                                        purposes, whatever consents say
//   decide(): policy defaults + applicable Consents -> per-category permit/deny
//        │
//   redact(): mark (rules, selectors) -> cascade (dangling references,
//        │    emptied required elements) -> write a new document with json::Writer
//        │    (narratives regenerated, labels added, unknown members dropped)
//   re-parse the output
//        │
//   verify(): separate code re-scans the output for denied elements and for
//        │    removed values appearing as text ──hit──> failed closed (audit)
//   receipt (Provenance) + audit record ──> released
//
// Categories. The policy (config/consent-policy.json) defines sensitive
// categories (by default "immigration-status" and "location") and the rules
// that find their data: FHIRPath selectors, extension URLs, identifier types
// and systems, code lists, resource types. Every category is denied to every
// recipient unless the policy's default says otherwise or a patient's
// Consent permits it for that recipient and purpose.
//
// Errors (gw::Error): kParse / kInvalidArgument for a policy, configuration
// or Consent that cannot be used (the message names the key or rule, never
// data values); kLimit when input nests deeper than the policy's depth
// limit; kParse when the input is not a FHIR resource. Refusals and
// verification failures are not errors: they come back as a ReleaseResult
// with an audit record, so the caller can persist the audit and answer with
// an OperationOutcome.
//
// Thread-safety: Policy and Engine are immutable after construction and may
// be shared between threads (std::shared_ptr<const ...>). All other types
// are plain values.
//
// Usage:
//   auto config = gw::consent::load_gateway_config("config/demo.json");
//   auto policy = gw::consent::Policy::load_file(config->policy_path, model);
//   gw::consent::Engine engine(*policy, model, config->recipients);
//   gw::consent::ReleaseRequest req;
//   req.recipient_id = "demo-clinic";
//   req.purpose = "TREAT";
//   req.now = clock.now();
//   auto consent = gw::consent::parse_consent(consent_doc.root());   // optional
//   req.consents.push_back(*consent);
//   auto r = engine.release(bundle_doc.root(), req);
//   if (!r) return r.error();                       // unusable input
//   store.audit(r->audit);                          // always
//   if (r->outcome == gw::consent::Outcome::kReleased) send(r->document, r->receipt);
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/json/json.hpp"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::consent {

namespace detail {
struct CompiledPolicy;
}  // namespace detail

using TimePoint = std::chrono::system_clock::time_point;

/// A code and the system it belongs to ("http://loinc.org", "89089-7").
struct Coding {
  std::string system;
  std::string code;
  friend bool operator==(const Coding&, const Coding&) = default;
};

// ---------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------

/// A sensitive category of data, as the policy defines it.
struct Category {
  std::string code;     ///< "immigration-status", "location"
  std::string display;  ///< human-readable name
  /// Security labels that name this category: a Consent provision whose
  /// securityLabel, class or code carries one of them talks about this
  /// category, and a resource whose meta.security carries one belongs to it
  /// as a whole.
  std::vector<Coding> labels;
  /// v3-Confidentiality code ("R") the output carries when data of this
  /// category is released to a recipient (because a consent permitted it).
  std::string confidentiality;
  /// Whether the category is permitted when no consent says otherwise. The
  /// default policy denies every sensitive category.
  bool permitted_by_default = false;
  friend bool operator==(const Category&, const Category&) = default;
};

/// What the policy says about a purpose of use (HL7 v3 ActReason).
enum class PurposeVerdict : std::uint8_t {
  kAllowed,      ///< on the policy's explicit allow list
  kEnforcement,  ///< law, legal or immigration enforcement: always refused
  kUnknown,      ///< anything else, including codes of other systems: refused
};
std::string_view to_string(PurposeVerdict v);

/// The consent policy: categories, the rules that find their data, allowed
/// purposes, free-text handling and limits. Built once at start-up from
/// JSON and then immutable.
///
/// The JSON format is documented in config/README.md; in short:
///   { "id", "version", "canonicalBase", "url", "purposes", "categories",
///     "rules", "freeText", "limits", "confidentiality" }
/// Strings may contain "${canonicalBase}", replaced by the policy's
/// canonicalBase (the project's own canonical URL lives in one place).
///
/// Validation is strict, because a typo in a privacy policy must not
/// silently release data: unknown keys, missing required keys, rules naming
/// unknown categories, duplicate ids, FHIRPath selectors that do not compile
/// or name unknown elements, and malformed codes are all errors (kParse or
/// kInvalidArgument) whose location is a JSON path such as
/// "rules[3].select".
class Policy {
 public:
  /// Parses and compiles a policy. `model` is needed to check element paths
  /// and to compile FHIRPath selectors; the Policy keeps it alive.
  static Result<std::shared_ptr<const Policy>> parse(std::string_view json_text,
                                                     std::shared_ptr<const fhir::Model> model);
  /// Reads a file and parses it; error locations start with the path.
  static Result<std::shared_ptr<const Policy>> load_file(const std::string& path,
                                                         std::shared_ptr<const fhir::Model> model);

  const std::string& id() const;
  const std::string& version() const;
  /// Canonical URL of the policy (after ${canonicalBase} substitution).
  const std::string& url() const;
  /// The project's canonical base ("http://fhir.migrant-care.example.org");
  /// receipts and audit records build their extension URLs from it.
  const std::string& canonical_base() const;
  /// Lowercase hex SHA-256 of the policy's canonical JSON (members sorted by
  /// key, no insignificant whitespace): two files that differ only in layout
  /// hash the same. Receipts and audit records name the rule set by it.
  const std::string& sha256() const;

  const std::vector<Category>& categories() const;
  /// Index of a category by code, or -1.
  int category_index(std::string_view code) const;

  /// Classifies a purpose of use. `system` must be the policy's purpose
  /// system (v3-ActReason) or empty (meaning that system); anything else is
  /// kUnknown.
  PurposeVerdict check_purpose(std::string_view system, std::string_view code) const;
  /// The purpose code system ("http://terminology.hl7.org/CodeSystem/v3-ActReason").
  const std::string& purpose_system() const;

  /// Deepest JSON nesting any walk over a resource accepts (kLimit beyond).
  std::uint32_t max_depth() const;

  /// The compiled rules, for this module's engine (detail type).
  const detail::CompiledPolicy& compiled() const { return *compiled_; }

  ~Policy();
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

 private:
  Policy();
  std::unique_ptr<detail::CompiledPolicy> compiled_;
  friend struct PolicyLoader;
};

// ---------------------------------------------------------------------------
// Recipients and the gateway configuration file
// ---------------------------------------------------------------------------

enum class RecipientKind : std::uint8_t {
  kHospital,
  kCommunityClinic,
  kNgo,
  kSettlementService,
  kHealthAssessmentCentre,
  /// The gateway's own operations staff (issue #10): a registered identity
  /// for the operator dashboard (`ops.operators`), never a recipient of
  /// patient data. It may list no operations and needs no endpoint.
  kOperator,
};
/// "hospital", "community-clinic", "ngo", "settlement-service",
/// "health-assessment-centre", "operator" (the spelling used in the
/// configuration).
std::string_view to_string(RecipientKind kind);

/// A registered recipient organization.
struct Recipient {
  std::string id;            ///< stable id, e.g. "demo-clinic" (letters, digits, '-', '.')
  std::string organization;  ///< organization name
  RecipientKind kind = RecipientKind::kHospital;
  std::string endpoint;  ///< base URL of its FHIR endpoint (http or https)
  /// What it may do: "submit" (push documents to the gateway), "receive"
  /// (get handoffs forwarded), "pull" (query a patient summary).
  std::vector<std::string> operations;
  /// How it is told that a patient withdrew a consent a copy it received
  /// relied on: "task" (default; a FHIR Task POSTed to <endpoint>/Task) or
  /// "message" (a FHIR message Bundle POSTed to <endpoint>/$process-message).
  std::string withdrawal_notice = "task";
  /// What deliveries to it look like: "bundle" (default; the redacted
  /// HandoffDocument itself) or "mhd" (an IHE MHD ITI-65 Provide Document
  /// Bundle transaction carrying it).
  std::string delivery_format = "bundle";
  friend bool operator==(const Recipient&, const Recipient&) = default;
};

/// The parts of the gateway configuration file (config/demo.json) that
/// consent owns: the recipients and the policy file. Other top-level members
/// belong to other modules (the HTTP server, storage) and are ignored here;
/// inside "recipients" every key is checked.
struct GatewayConfig {
  std::string policy_path;  ///< "consentPolicy", resolved against the config file's folder
  std::vector<Recipient> recipients;
  /// Recipient by id, or null.
  const Recipient* recipient(std::string_view id) const;
  friend bool operator==(const GatewayConfig&, const GatewayConfig&) = default;
};

/// Parses a configuration document. `base_dir` resolves a relative
/// consentPolicy path. Errors: kParse (bad JSON, unknown or missing keys,
/// unknown kind or operation, duplicate ids, endpoint not an http(s) URL),
/// with a JSON-path location ("recipients[1].kind").
Result<GatewayConfig> parse_gateway_config(std::string_view json_text, std::string_view base_dir);
/// Reads and parses a configuration file.
Result<GatewayConfig> load_gateway_config(const std::string& path);

// ---------------------------------------------------------------------------
// Patient consent (FHIR R4 Consent)
// ---------------------------------------------------------------------------

/// A time interval with optional ends (FHIR Period). Partial dates are
/// widened: a start of "2024" means 2024-01-01T00:00:00Z, an end of "2024"
/// means up to the end of 2024.
struct TimeRange {
  std::optional<TimePoint> start;
  std::optional<TimePoint> end;
  bool contains(TimePoint t) const { return (!start || *start <= t) && (!end || t < *end); }
  friend bool operator==(const TimeRange&, const TimeRange&) = default;
};

/// One Consent.provision (and its nested exceptions).
struct Provision {
  enum class Type : std::uint8_t { kDeny, kPermit };
  Type type = Type::kDeny;  ///< absent in the resource -> deny
  std::optional<TimeRange> period;
  /// actor.reference values ("Organization/demo-clinic") and identifiers
  /// (system + value as a Coding).
  std::vector<std::string> actor_references;
  std::vector<Coding> actor_identifiers;
  std::vector<Coding> actions;          ///< consentaction codes
  std::vector<Coding> security_labels;  ///< provision.securityLabel
  std::vector<Coding> purposes;         ///< provision.purpose
  std::vector<Coding> classes;          ///< provision.class
  std::vector<Coding> codes;            ///< provision.code[].coding, flattened
  /// provision.data or dataPeriod were present. They are not evaluated: a
  /// permit carrying them does not apply (fail closed), a deny applies to
  /// its whole scope.
  bool has_data_conditions = false;
  std::vector<Provision> provisions;
  friend bool operator==(const Provision&, const Provision&) = default;
};

/// The parts of a FHIR Consent that decide a release.
struct PatientConsent {
  std::string id;
  std::string status;  ///< draft | proposed | active | rejected | inactive | entered-in-error
  bool privacy_scope = false;     ///< scope is consentscope#patient-privacy
  std::string patient_reference;  ///< Consent.patient.reference
  Provision provision;
  friend bool operator==(const PatientConsent&, const PatientConsent&) = default;
};

/// Reads a Consent resource. Errors (kParse, located by FHIRPath-style path,
/// no values): not a Consent, status or patient missing, malformed
/// provision structure or dates.
Result<PatientConsent> parse_consent(json::Value resource);

/// Per-category outcome for one release, and why.
struct Decision {
  std::vector<bool> permitted;           ///< index = Policy::categories() index
  std::vector<std::string> consent_ids;  ///< Consents whose permit was used
  friend bool operator==(const Decision&, const Decision&) = default;
};

/// Decides which categories `recipient` may receive for `purpose` at `now`.
///
/// Start from each category's policy default. A Consent applies when it is
/// active, has scope patient-privacy, and names the patient of the release
/// (`patient_keys` holds "Patient/<id>" and the fullUrl of the single
/// Patient in the input; when the input holds no Patient or several, no
/// consent applies). Inside a Consent, a provision applies when its period
/// contains `now`, its actors (if any) include the recipient
/// ("Organization/<recipient id>", or an identifier with system
/// "<canonicalBase>/sid/recipient-id" and the recipient id as value), its
/// purposes (if any) include `purpose`, and its actions (if any) include
/// access, use or disclose; nested provisions are exceptions that override
/// their parent. A provision's securityLabel/class/code restrict it to the
/// categories whose labels they carry; none means all categories (a deny
/// whose class names a resource type, resource-types#Location, also reaches
/// the category whose rules remove that type).
/// Any applicable deny wins over any permit, across all consents.
/// Inactive, rejected or entered-in-error consents and ended periods never
/// apply, so a revocation is honoured by every later release.
///
/// The purpose must already have been checked: decide() does not refuse.
Decision decide(const Policy& policy, const Recipient& recipient, std::string_view purpose,
                std::span<const PatientConsent> consents, std::span<const std::string> patient_keys,
                TimePoint now);

// ---------------------------------------------------------------------------
// Redaction, verification, release
// ---------------------------------------------------------------------------

/// One thing redaction did, for the receipt. Paths are FHIRPath-style with
/// indexes into the *input* ("Bundle.entry[2].resource.address[0]"); they
/// never contain values.
struct Removal {
  enum class Action : std::uint8_t {
    kRemoved,    ///< element or resource removed by a category rule
    kCoarsened,  ///< address reduced to country or region
    kFreeText,   ///< note / attachment removed, narrative regenerated or removed
    kDangling,   ///< reference to a removed resource dropped
    kEmptied,    ///< element dropped because what made it meaningful was removed
    kUnknown,    ///< JSON member the model does not know, dropped (fail closed)
  };
  Action action = Action::kRemoved;
  std::string path;
  std::string rule;      ///< rule id ("" for cascades)
  std::string category;  ///< category code ("" for free text and cascades)
  friend bool operator==(const Removal&, const Removal&) = default;
};
std::string_view to_string(Removal::Action a);

/// What redact() produced.
struct Redaction {
  std::string document;        ///< the redacted JSON ("" when the root was withheld)
  bool root_withheld = false;  ///< the input resource itself belongs to a denied category
  std::vector<Removal> removals;
  /// Normalised strings (lower case, single spaces, length >= 4) of the
  /// values removed for denied categories: the verifier hunts for them in
  /// the output. Kept in memory only; never logged or written.
  std::vector<std::string> removed_values;
  /// "Type/id" and fullUrl of resources removed, for the dangling-reference check.
  std::vector<std::string> removed_resources;
};

/// Applies `decision` under `policy` to a resource or Bundle. Errors: kParse
/// when `input` is not a FHIR resource the model knows; kLimit beyond the
/// policy's depth limit. The output is compact JSON.
Result<Redaction> redact(const Policy& policy, const fhir::Model& model, json::Value input,
                         const Decision& decision);

/// A denied element or a removed value found in an output.
struct Finding {
  enum class Kind : std::uint8_t {
    kExtension,      ///< extension with a denied URL
    kIdentifier,     ///< identifier of a denied type or system
    kCode,           ///< coding from a denied code list
    kResource,       ///< resource of a denied type, or labelled with a denied category
    kReference,      ///< reference to a removed or denied resource
    kPath,           ///< element at a denied selector path (or an address not coarsened)
    kFreeText,       ///< note, attachment or narrative that policy removes or regenerates
    kValue,          ///< a removed value appears as text
    kUnknownMember,  ///< JSON member the model does not know
  };
  Kind kind = Kind::kPath;
  std::string category;  ///< category code ("" for free text and unknown members)
  std::string path;      ///< where in the output; never the value
  friend bool operator==(const Finding&, const Finding&) = default;
};
std::string_view to_string(Finding::Kind k);

/// The independent verifier. Re-scans `output` (a parsed redacted document)
/// with its own code: raw JSON scans for denied extension URLs, identifier
/// types and systems, codes, resource types, labels, references and fixed
/// selector paths; FHIRPath selectors re-evaluated on the output; free-text
/// elements; and every removed value (normalised, >= 4 characters, matched
/// on word boundaries) in narratives, notes, identifiers, display strings and
/// other text. Returns the findings (empty = clean). Errors: kLimit beyond
/// the depth limit.
Result<std::vector<Finding>> verify(const Policy& policy, const fhir::Model& model,
                                    json::Value output, const Decision& decision,
                                    std::span<const std::string> removed_values,
                                    std::span<const std::string> removed_resources = {});

/// Outcome of a release.
enum class Outcome : std::uint8_t {
  kReleased,      ///< document and receipt may be sent
  kRefused,       ///< unknown recipient, enforcement or unknown purpose
  kWithheld,      ///< the input itself belongs to a denied category: nothing to send
  kFailedClosed,  ///< the verifier found a leak: nothing is sent
};
std::string_view to_string(Outcome o);

/// Audit value of one release decision; the store persists it. Contains no
/// patient data: ids of recipient, policy and consents, codes, counts,
/// paths of findings.
struct AuditRecord {
  TimePoint time;
  Outcome outcome = Outcome::kRefused;
  std::string recipient_id;  ///< as requested ("(invalid)" when it is not an id)
  std::string purpose;       ///< as requested ("(invalid)" when it is not a code)
  /// Machine-readable reason: "released", "unknown-recipient",
  /// "enforcement-purpose", "unknown-purpose", "withheld", "verifier-finding".
  std::string reason;
  std::string policy_id;
  std::string policy_version;
  std::string policy_sha256;
  std::vector<std::string> consent_ids;  ///< consents whose permits were applied
  std::size_t removals = 0;              ///< number of Removal entries
  std::vector<Finding> findings;         ///< verifier findings (paths, no values)
  friend bool operator==(const AuditRecord&, const AuditRecord&) = default;
};

/// The audit record as a FHIR AuditEvent (JSON), extension URLs under the
/// policy's canonical base.
std::string audit_event_json(const AuditRecord& record, const Policy& policy, bool pretty = false);

struct ReleaseRequest {
  std::string recipient_id;
  std::string purpose;  ///< v3-ActReason code, e.g. "TREAT"
  std::vector<PatientConsent> consents;
  TimePoint now;
};

struct ReleaseResult {
  Outcome outcome = Outcome::kRefused;
  std::string document;  ///< redacted JSON, only when kReleased
  std::string receipt;   ///< Provenance JSON, only when kReleased
  /// Why it was not released, OperationOutcome-ready (code "forbidden" for
  /// refusals and withheld input, "security" for verifier findings).
  std::vector<fhir::Issue> issues;
  std::vector<Removal> removals;
  AuditRecord audit;
};

/// Everything a release needs, built once and shared: immutable and
/// thread-safe. Keeps the Policy and Model alive.
class Engine {
 public:
  Engine(std::shared_ptr<const Policy> policy, std::shared_ptr<const fhir::Model> model,
         std::vector<Recipient> recipients);

  /// Runs one release (see the diagram at the top). The error result is for
  /// input that cannot be processed at all (not a FHIR resource, too deep);
  /// nothing is released then either.
  Result<ReleaseResult> release(json::Value input, const ReleaseRequest& request) const;

  const Policy& policy() const { return *policy_; }
  const std::vector<Recipient>& recipients() const { return recipients_; }

 private:
  std::shared_ptr<const Policy> policy_;
  std::shared_ptr<const fhir::Model> model_;
  std::vector<Recipient> recipients_;
};

/// `fhir-gateway redact [--config FILE] --recipient ID --purpose CODE
///  [--consent FILE]... FILE`
///
/// Loads the configuration (default config/demo.json) and its policy,
/// releases FILE for the recipient and purpose with the given Consent files,
/// and prints `{"document": <redacted>, "receipt": <Provenance>}` (pretty) to
/// `out`. A refusal, withheld input or verifier failure prints the
/// OperationOutcome and the AuditEvent to `out` instead. `args` are the
/// arguments after "redact"; `clock` gives the release time. Exit: 0
/// released, 1 refused / withheld / failed closed, 2 usage error, unreadable
/// or unusable files.
int run_redact_command(std::span<const std::string_view> args,
                       std::shared_ptr<const fhir::Model> model, const Clock& clock,
                       std::ostream& out, std::ostream& err);

}  // namespace gw::consent
