// gw::handoff — turns what a hospital sends into the HandoffDocument that
// travels with a patient to the next clinic.
//
// Input: any FHIR R4 Bundle (a discharge-summary document, a transaction, a
// collection). Output: a document Bundle conforming to
// http://fhir.migrant-care.example.org/StructureDefinition/HandoffDocument:
// a new Composition (LOINC 60591-5) whose sections (medications, problems,
// allergies, immunizations, procedures, plan of care, care needs, migration
// health assessment results) are filled by declarative mapping files
// (mappings/*.json, documented in mappings/README.md): FHIRPath selectors
// over the input Bundle, no C++ per mapping.
//
// What build() guarantees about the document it writes (each is tested in
// tests/handoff/):
//   1. Every entry has a fresh `urn:uuid:` fullUrl (from the IdGenerator) and
//      the resource id is the same UUID.
//   2. References never dangle: every `reference` in the document is the
//      fullUrl of an entry, a `#id` of a contained resource, or it is removed
//      and the Reference keeps (or gets) a `display` ("display-only").
//   3. Duplicates are merged (the rule is in mappings/README.md: same entry,
//      same Type/id, a shared business identifier, or — for conditions,
//      allergies and medications — the same subject, status and a shared
//      code); references to a merged duplicate point at the survivor.
//   4. Narrative is generated from structured data only: the Composition's
//      `text`, every `section.text` and every resource's `text`. Input
//      narratives (`text.div`) are never copied.
//   5. Provenance: one Provenance resource per derived entry (target = the
//      entry, entity = every source entry it was merged from, identified as
//      {system = source bundle identifier, value = source entry fullUrl}).
//   6. Deterministic: the same input, mapping, clock and id sequence give the
//      same bytes.
//
// Errors (gw::Error, never quoting patient data):
//   MappingSet::load / parse:
//     kNotFound         the directory does not exist or holds no *.json
//     kParse            a mapping file is not JSON, or a FHIRPath expression
//                       does not compile; location "FILE: line L, column C
//                       (FHIRPath offset N)"
//     kInvalidArgument  unknown key, wrong JSON type, unknown section code,
//                       a required section missing, duplicate names;
//                       location "FILE: line L, column C"
//   build():
//     kInvalidArgument  the input is not a Bundle; the patient selector finds
//                       no Patient entry
//     kNotFound         no mapping accepts the input; an unknown mapping name
//     kLimit            the input nests deeper than the copy limit
//     (FHIRPath evaluation errors pass through with the mapping name and key
//     as context)
// Problems *in the data* that do not stop the build are returned as
// warnings inside the successful Handoff: the mapping's `checks` (data the
// target profiles require that the input lacks — no preferred language, no
// interpreter flag, a follow-up without its organisation; the engine never
// invents it), and a selector picking something that is not an entry. A
// warning's `expression` locates the element in the *output* document
// ("Bundle.entry[1].resource.communication.language").
//
// Thread-safety: a loaded MappingSet is immutable and may be shared between
// threads (std::shared_ptr<const MappingSet>); build() is reentrant and only
// reads it. Clock and IdGenerator implementations must be thread-safe.
//
// Lifetimes: a MappingSet keeps its Model alive. build() keeps nothing: the
// Handoff owns its JSON text.
//
// Usage:
//   auto set = gw::handoff::MappingSet::load("mappings", model);   // start-up
//   if (!set) return fail(set.error());
//   gw::SystemClock clock;
//   gw::handoff::RandomIdGenerator ids;
//   gw::handoff::BuildOptions opt{.clock = &clock, .ids = &ids};
//   auto h = gw::handoff::build(**set, doc.root(), opt);           // per request
//   if (!h) return fail(h.error());
//   send(h->json);
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/json/json.hpp"

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::handoff {

/// Canonical URLs of the target profiles (the contract with fhir-profiles/).
inline constexpr std::string_view kHandoffDocumentProfile =
    "http://fhir.migrant-care.example.org/StructureDefinition/HandoffDocument";
inline constexpr std::string_view kCompositionProfile =
    "http://fhir.migrant-care.example.org/StructureDefinition/mc-composition-handoff";

/// Source of new identifiers, passed in like the Clock so tests are
/// deterministic. uuid() returns a lower-case RFC 4122 UUID without the
/// "urn:uuid:" prefix ("0f8fad5b-d9cb-469f-a165-70867728950e").
/// Implementations must be thread-safe.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string uuid() = 0;
};

/// Version-4 (random) UUIDs from std::random_device (the kernel's CSPRNG on
/// Linux). Thread-safe (a mutex around the device).
class RandomIdGenerator final : public IdGenerator {
 public:
  std::string uuid() override;

 private:
  std::mutex mu_;
  std::random_device device_;
};

/// Deterministic UUIDs for tests: "00000000-0000-4000-8000-000000000001",
/// then ...02, ... (valid version-4 syntax). Thread-safe.
class SequentialIdGenerator final : public IdGenerator {
 public:
  explicit SequentialIdGenerator(std::uint64_t first = 1) : next_(first) {}
  std::string uuid() override;

 private:
  std::mutex mu_;
  std::uint64_t next_;
};

/// A set of checked, compiled mapping files. Immutable after load.
class MappingSet {
 public:
  /// Loads every `*.json` file of `dir` (sorted by file name; the mapping
  /// order is the order in which build() tries them) and compiles its
  /// FHIRPath against `model`. Errors: see the module comment.
  static Result<std::shared_ptr<const MappingSet>> load(const std::string& dir,
                                                        std::shared_ptr<const fhir::Model> model);

  /// A mapping file in memory: `name` is used in error locations only.
  struct Source {
    std::string name;
    std::string text;
  };
  /// Same as load() for files already in memory (tests, fuzzing).
  static Result<std::shared_ptr<const MappingSet>> parse(std::span<const Source> sources,
                                                         std::shared_ptr<const fhir::Model> model);

  /// Mapping names in trial order.
  std::vector<std::string> names() const;

  ~MappingSet();
  MappingSet(const MappingSet&) = delete;
  MappingSet& operator=(const MappingSet&) = delete;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit MappingSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The organisation the gateway writes as author when the mapping finds no
/// sending Organization in the input.
struct GatewayOrganization {
  std::string name = "Migrant-care FHIR gateway";
  std::string identifier_system;  ///< optional
  std::string identifier_value;   ///< optional
  friend bool operator==(const GatewayOrganization&, const GatewayOrganization&) = default;
};

/// Per-call choices. `clock` and `ids` are required (GW_ASSERT) and must
/// outlive the call.
struct BuildOptions {
  std::string mapping;  ///< "" = the first mapping whose `accepts` is true
  GatewayOrganization gateway;
  const Clock* clock = nullptr;
  IdGenerator* ids = nullptr;
};

/// One Composition section as written.
struct SectionSummary {
  std::string code;  ///< LOINC section code
  std::string title;
  std::size_t entries = 0;
  bool empty_reason = false;  ///< written empty with emptyReason "unavailable"
  friend bool operator==(const SectionSummary&, const SectionSummary&) = default;
};

/// Where one document entry came from.
struct ProvenanceLink {
  std::string full_url;  ///< the entry in the HandoffDocument (urn:uuid:...)
  std::string resource_type;
  std::vector<std::string> sources;  ///< source entry fullUrls (or "Type/id")
  friend bool operator==(const ProvenanceLink&, const ProvenanceLink&) = default;
};

/// The result of build().
struct Handoff {
  std::string mapping;  ///< name of the mapping used
  std::string json;     ///< the HandoffDocument Bundle, compact JSON
  std::vector<SectionSummary> sections;
  std::vector<ProvenanceLink> provenance;  ///< one per derived entry, in entry order
  std::vector<fhir::Issue> warnings;       ///< data problems that did not stop the build
};

/// Builds the HandoffDocument for `bundle` (a parsed JSON object). Reentrant;
/// reads `mappings` only. Errors: see the module comment.
Result<Handoff> build(const MappingSet& mappings, json::Value bundle, const BuildOptions& options);

/// De-identified continuity facts of one handoff (issue #10): success for
/// these patients is measured in shorter treatment delays, so the gateway
/// counts how long after discharge the first follow-up appointment is,
/// and whether the handoff carries immunizations and an interpreter need.
/// Only these coarse facts leave this function: no ids, no dates.
struct ContinuityFacts {
  /// Calendar days from discharge to the start of the first follow-up
  /// Appointment on or after the discharge day; nullopt when there is no
  /// such appointment or no discharge date.
  std::optional<std::int64_t> days_to_follow_up;
  bool discharge_known = false;  ///< a discharge date was found
  bool immunizations = false;    ///< the document holds at least one Immunization
  bool interpreter = false;      ///< Patient patient-interpreterRequired is true
  friend bool operator==(const ContinuityFacts&, const ContinuityFacts&) = default;
};

/// Reads the facts of a handoff. The follow-ups (Appointment entries
/// whose status is not cancelled, noshow or entered-in-error), the
/// Immunization entries and the Patient's interpreter flag come from the
/// built HandoffDocument; the discharge date from the pushed `source`
/// bundle (the HandoffDocument carries no Encounter): the period.end of
/// the Encounter its Composition names, else of the first Encounter with
/// one. Dates are compared as the calendar dates written (the first ten
/// characters, YYYY-MM-DD), which is what a day bucket needs. Pure and
/// reentrant; malformed or missing elements simply give no fact.
///
///   auto f = gw::handoff::continuity_facts(handoff_doc.root(), pushed.root());
///   std::string_view bucket = gw::handoff::follow_up_bucket(f);  // "8-14d"
ContinuityFacts continuity_facts(json::Value handoff_document, json::Value source);

/// The day bucket of `facts`: "0-7d", "8-14d", "15-30d", "31-90d",
/// "over-90d" for a follow-up that many days after discharge; "none" when
/// the discharge is known but no follow-up appointment is; "unknown"
/// without a discharge date. A closed set (follow_up_buckets()), usable as
/// a metric label.
std::string_view follow_up_bucket(const ContinuityFacts& facts) noexcept;
/// Every bucket follow_up_bucket() can return, in display order.
std::span<const std::string_view> follow_up_buckets() noexcept;

/// `fhir-gateway handoff [--mappings DIR] [--mapping NAME] [--sender NAME] FILE`
///
/// Loads the mappings (default `mappings/`, relative to the working
/// directory), builds the HandoffDocument for the Bundle in FILE and prints
/// it (pretty JSON) to `out`; warnings go to `err` as
/// "warning: EXPRESSION: message" lines. Returns 0 on success, 1 when no
/// mapping accepts the input or the input cannot be mapped, 2 for usage
/// errors, unreadable files and broken mapping files. `args` are the
/// arguments after "handoff". The Model must outlive the call.
int run_handoff_command(std::span<const std::string_view> args,
                        std::shared_ptr<const fhir::Model> model, const Clock& clock,
                        IdGenerator& ids, std::ostream& out, std::ostream& err);

}  // namespace gw::handoff
