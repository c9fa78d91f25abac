// gw::terminology — offline ValueSet expansion and code membership.
//
// What it is for: the validator checks terminology bindings ("this Coding must
// come from ValueSet X") and FHIRPath's memberOf() asks the same question. The
// gateway runs without a terminology server, so everything is answered from
// the ValueSets and CodeSystems of the loaded packages (R4 core, THO, IGs).
//
// Three-valued answers. Local data cannot decide everything: SNOMED CT, LOINC,
// RxNorm, ICD and friends are not shipped as complete CodeSystems, and some
// packages ship CodeSystems whose `content` is not-present, example or
// fragment. So every membership answer is one of
//   kMember      the code is in the ValueSet (decided from local data),
//   kNotMember   the code is not in the ValueSet (decided from local data),
//   kCannotCheck local data cannot decide (the validator reports a warning,
//                never an error),
// with a `Reason` saying why. A ValueSet that *enumerates* codes of an
// external system is still decidable for those codes: they are members.
//
// How it works. `expand()` compiles a ValueSet into an `Expansion`: for every
// code system it touches, a hash map from code to state (in / maybe / out)
// plus a default state for codes not listed ("out" for a closed enumeration,
// "maybe" when the ValueSet includes an external system by filter or whole).
// include/exclude/import are evaluated with three-valued logic (union = max,
// intersection = min, exclude = and-not), so `include SNOMED is-a X, exclude
// SNOMED code Y` answers kNotMember for Y and kCannotCheck for any other
// SNOMED code. Membership after expansion is one or two hash lookups.
//
// Supported ValueSet features (R4):
//   compose.include / compose.exclude with
//     - `concept` lists (enumeration; an include with both concepts and
//       filters, which the spec forbids, is read as the enumeration),
//     - whole `system` (every concept of a local CodeSystem, nested included),
//     - `filter` on local CodeSystems: property `concept`/`code` with is-a,
//       descendent-of, is-not-a, generalizes, child-of, descendent-leaf, =,
//       in, not-in, regex; any other property with =, in, not-in, regex,
//       exists (over concept.property values; `parent`/`child`/`subsumedBy`
//       follow the hierarchy). Several filters in one include are ANDed.
//     - `valueSet` imports, intersected with each other and with the
//       system part of the same include (spec semantics), cycles detected.
//     - `system` + `version`: the named CodeSystem version when loaded;
//       otherwise codes of that include are kCannotCheck
//       (kSystemVersionNotFound), not checked against another version.
//   compose.inactive = false (inactive concepts left out);
//   a pre-computed `expansion` (used when there is no compose, and to add
//   members the compose could not decide).
// Code system hierarchy comes from nested `concept` elements and from the
// `parent` / `child` / `subsumedBy` properties (THO uses subsumedBy).
// Case-insensitive CodeSystems (`caseSensitive: false`) compare codes by
// ASCII case folding. CodeSystem `supplements` are ignored: a supplement is
// never treated as the code system it supplements.
//
// Errors. Lookups never fail: problems *in the data* (unknown ValueSet,
// import cycle, unknown system) come back inside the answer as a Reason.
// `expand()` returns `gw::Error` for a ValueSet it cannot compile:
//   kNotFound        no ValueSet with that canonical in the registry,
//   kInvalidArgument import cycle, or a ValueSet with neither compose nor
//                    expansion, or a malformed compose,
//   kLimit           more than Options::max_expansion_size concepts or
//                    imports nested deeper than Options::max_import_depth,
//   (and whatever the registry returns when a resource's JSON is unreadable).
// Messages name ValueSet and CodeSystem URLs (conformance data) but never a
// code or display taken from the caller: those can be patient data.
//
// Thread-safety and lifetimes. A `Service` is immutable after construction as
// far as callers can observe, and every const member function may be called
// from any number of threads. Expansions and CodeSystem indexes are computed
// lazily for the registry entries actually used, and one result per entry is
// kept (computed outside any lock, first result published wins: a race can
// duplicate work, never results). The cache is bounded by the number of
// ValueSets and CodeSystems in the registry, which is fixed after load:
// requests for unknown URLs are not cached. The Service keeps its Registry
// alive (shared_ptr). `std::shared_ptr<const Expansion>` results stay valid
// after the Service is gone.
//
// Usage:
//   auto registry = gw::packages::Registry::load(opts);           // at start-up
//   auto terms = std::make_shared<const gw::terminology::Service>(*registry);
//   auto r = terms->validate_code("http://hl7.org/fhir/ValueSet/administrative-gender",
//                                 "http://hl7.org/fhir/administrative-gender", "male");
//   switch (r.membership) {
//     case gw::terminology::Membership::kMember: break;
//     case gw::terminology::Membership::kNotMember: report_error(r.message); break;
//     case gw::terminology::Membership::kCannotCheck: report_warning(r.message); break;
//   }
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/packages/packages.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::terminology {

namespace detail {
struct ConceptSet;
class Engine;
}  // namespace detail

/// Three-valued membership (see the file comment).
enum class Membership : std::uint8_t {
  kMember,
  kNotMember,
  kCannotCheck,
};

/// Why an answer is what it is. Stable names via to_string().
enum class Reason : std::uint8_t {
  kNone,                   ///< member / code found: nothing to explain
  kNotInValueSet,          ///< decidable, and the code is not in the ValueSet
  kCodeNotInSystem,        ///< the local, complete CodeSystem has no such code
  kValueSetNotFound,       ///< no ValueSet with that canonical is loaded
  kValueSetUnusable,       ///< the ValueSet could not be expanded (cycle, malformed, limit)
  kSystemNotFound,         ///< no local CodeSystem for the system
  kSystemIncomplete,       ///< local CodeSystem content is not-present/example/fragment/supplement
  kExternalSystem,         ///< SNOMED CT, LOINC, RxNorm, UCUM, ICD, ...: never complete locally
  kSystemVersionNotFound,  ///< the requested CodeSystem version is not loaded
  kUnsupportedFilter,      ///< a filter local data cannot evaluate (operator, property, regex)
  kImportNotFound,         ///< an imported ValueSet (compose.include.valueSet) is not loaded
  kInvalidUcumSyntax,      ///< a UCUM code that is not even syntactically valid
  kMissingCode,            ///< the caller passed an empty code
  kPartialExpansion,       ///< only a pre-computed expansion that says it is partial
};

std::string_view to_string(Membership m) noexcept;
std::string_view to_string(Reason r) noexcept;

/// Outcome of comparing a display text with the code system's.
enum class DisplayCheck : std::uint8_t {
  kNotChecked,  ///< no display given, or the concept's display is unknown
  kMatches,     ///< equals the display or a designation (see display_matches)
  kMismatch,    ///< a display is known and the given one matches none of them
};

/// One member of an expansion. Value type.
struct Concept {
  std::string system;
  std::string version;  ///< CodeSystem version when known, else empty
  std::string code;
  std::string display;    ///< from the ValueSet if it overrides, else the CodeSystem
  bool abstract = false;  ///< notSelectable / abstract: member, but not for data
  bool inactive = false;  ///< status retired/inactive/deprecated
  friend bool operator==(const Concept&, const Concept&) = default;
};

/// A system whose membership local data cannot fully decide inside one
/// expansion, and why (e.g. {"http://snomed.info/sct", kExternalSystem}).
struct OpenSystem {
  std::string system;  ///< empty: "any system" (an import that is not loaded)
  Reason reason = Reason::kNone;
  friend bool operator==(const OpenSystem&, const OpenSystem&) = default;
};

/// A compiled ValueSet. Immutable and thread-safe; hold it by
/// std::shared_ptr<const Expansion>.
class Expansion {
 public:
  /// Made by Service::expand(); `set` is the compiled form (private type).
  Expansion(std::string url, std::string version, std::unique_ptr<const detail::ConceptSet> set);
  ~Expansion();
  Expansion(const Expansion&) = delete;
  Expansion& operator=(const Expansion&) = delete;

  const std::string& url() const noexcept { return url_; }
  const std::string& version() const noexcept { return version_; }

  /// The definite members, in the order the ValueSet defines them. When
  /// is_complete() this is the whole ValueSet ($expand); otherwise it is the
  /// part local data can enumerate.
  const std::vector<Concept>& concepts() const noexcept { return concepts_; }

  /// True when every membership question has a yes/no answer.
  bool is_complete() const noexcept { return open_.empty(); }

  /// Systems for which some codes are kCannotCheck, with the reason.
  const std::vector<OpenSystem>& open_systems() const noexcept { return open_; }

  /// Membership of (system, code), O(1). An empty `system` means "any
  /// system" (for `code`-typed elements): member if some system has the
  /// code. `system` may carry "|version", which is ignored here. Does not
  /// consult the CodeSystem (use Service::validate_code for that).
  Membership contains(std::string_view system, std::string_view code) const;

  /// The member concept for (system, code), or null when it is not a
  /// definite member. Same rules for `system` as contains().
  const Concept* find(std::string_view system, std::string_view code) const;

  /// Why (system, code) is kCannotCheck (kNone if it is not).
  Reason open_reason(std::string_view system, std::string_view code) const;

 private:
  friend class detail::Engine;  // imports read the compiled set
  std::string url_;
  std::string version_;
  std::unique_ptr<const detail::ConceptSet> set_;
  std::vector<Concept> concepts_;
  std::vector<OpenSystem> open_;
};

/// Answer of Service::validate_code. Value type.
struct CodeCheck {
  Membership membership = Membership::kCannotCheck;
  Reason reason = Reason::kNone;
  /// One English sentence for an OperationOutcome; names the ValueSet and
  /// system, never the code or display (they can be patient data).
  std::string message;
  /// The concept's display (ValueSet override or CodeSystem), when known.
  std::string display;
  DisplayCheck display_check = DisplayCheck::kNotChecked;
  /// The concept is notSelectable/abstract (a grouper: a member, but a
  /// validator may refuse it in data) or inactive/retired. From the
  /// expansion or the CodeSystem, when known.
  bool abstract = false;
  bool inactive = false;
  friend bool operator==(const CodeCheck&, const CodeCheck&) = default;
};

/// Whether a code exists in a local CodeSystem.
enum class CodeStatus : std::uint8_t {
  kFound,        ///< the code exists
  kNotFound,     ///< the system is local and complete and has no such code
                 ///< (or: a syntactically invalid UCUM code)
  kCannotCheck,  ///< the system is external, absent or incomplete locally
};

/// Answer of Service::lookup. Value type.
struct LookupResult {
  CodeStatus status = CodeStatus::kCannotCheck;
  Reason reason = Reason::kNone;
  std::string message;                    ///< as CodeCheck::message
  std::string display;                    ///< CodeSystem display, when found
  std::vector<std::string> designations;  ///< designation values, when found
  std::string system_version;             ///< version of the CodeSystem consulted
  bool case_sensitive = true;             ///< CodeSystem.caseSensitive (true when unknown)
  bool abstract = false;
  bool inactive = false;
  friend bool operator==(const LookupResult&, const LookupResult&) = default;
};

/// lookup() without the message and copies, for a caller that checks every
/// Coding of a document (the validator). The views stay valid as long as
/// the Service: compiled CodeSystems are kept for its lifetime.
struct CodeFound {
  CodeStatus status = CodeStatus::kCannotCheck;
  std::string_view display;                     ///< CodeSystem display, when found
  const std::vector<std::string>* designations = nullptr;  ///< when found
};

/// Display comparison used by validate_code: equal to `display` or one of
/// `designations` after trimming, collapsing runs of whitespace and ASCII
/// case folding.
bool display_matches(std::string_view given, std::string_view display,
                     const std::vector<std::string>& designations = {});

/// UCUM is checked for syntax only (no unit table): true when `code` parses
/// as a UCUM term (components joined by '.' and '/', parentheses,
/// [bracketed] atoms, {annotations}, exponents, leading '/').
bool ucum_syntax_ok(std::string_view code);

/// True for code systems never complete locally, whatever packages say:
/// SNOMED CT, LOINC, RxNorm, UCUM, ICD-9/10/11 variants, CPT, NDC.
bool is_external_system(std::string_view system);

/// The terminology service. See the file comment for semantics.
class Service {
 public:
  struct Options {
    /// Nesting limit of compose.include.valueSet imports.
    std::size_t max_import_depth = 64;
    /// Largest expansion (members plus listed exclusions) we build.
    std::size_t max_expansion_size = 1'000'000;
  };

  /// Builds nothing up front: expansions and CodeSystem indexes are
  /// compiled on first use. `registry` must not be null (GW_ASSERT). A
  /// moved-from Service may only be destroyed or assigned to.
  explicit Service(std::shared_ptr<const packages::Registry> registry);
  Service(std::shared_ptr<const packages::Registry> registry, Options options);
  ~Service();
  Service(Service&&) noexcept;
  Service& operator=(Service&&) noexcept;

  /// Compiles (once) and returns the expansion of `value_set`, a canonical
  /// URL optionally with "|version". Errors: see the file comment.
  Result<std::shared_ptr<const Expansion>> expand(std::string_view value_set) const;

  /// Is (system, code) in the ValueSet? `system` may be "url|version" and
  /// may be empty for `code`-typed elements (any system). When `display` is
  /// given and the concept is known, display_check says whether it matches.
  ///
  /// Decision order: empty code -> kNotMember/kMissingCode; unknown
  /// ValueSet -> kCannotCheck/kValueSetNotFound; unusable ValueSet ->
  /// kCannotCheck/kValueSetUnusable; a local complete CodeSystem without the
  /// code -> kNotMember/kCodeNotInSystem; invalid UCUM syntax ->
  /// kNotMember/kInvalidUcumSyntax; otherwise the expansion's answer
  /// (kCannotCheck carries the open system's reason).
  CodeCheck validate_code(std::string_view value_set, std::string_view system,
                          std::string_view code,
                          std::optional<std::string_view> display = std::nullopt) const;

  /// Does `code` exist in `system` ("url" or "url|version")? Gives display,
  /// designations and case sensitivity when the CodeSystem is local.
  LookupResult lookup(std::string_view system, std::string_view code) const;
  /// lookup()'s status, display and designations (see CodeFound).
  CodeFound find_code(std::string_view system, std::string_view code) const;

  /// The registry this service reads.
  const packages::Registry& registry() const noexcept;

  /// Number of ValueSets and CodeSystems compiled so far (cache entries);
  /// lets tests check that the cache is bounded.
  std::size_t cache_size_ForTest() const;

 private:
  std::unique_ptr<detail::Engine> engine_;
};

}  // namespace gw::terminology
