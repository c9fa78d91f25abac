// gw::validation — the FHIR R4 validator: the gate that rejects bad records
// at the door.
//
// What it checks, in the terms of HL7's reference validator:
//   1. JSON shape: unknown members, resourceType, arrays versus single
//      values, empty objects/arrays/strings, nulls, primitive `_x` siblings,
//      choice types;
//   2. cardinality and primitive formats (the regex of each primitive's
//      StructureDefinition plus real calendar checks), JSON types of
//      primitives, XHTML narrative;
//   3. fixed[x], pattern[x], maxLength, min/maxValue, Reference targets;
//   4. slicing (value, exists, pattern, type, profile discriminators; open,
//      closed, openAtEnd; ordered; reslicing);
//   5. extensions (resolved by url, value types, context, modifiers);
//   6. invariants (ElementDefinition.constraint with a FHIRPath expression);
//   7. terminology bindings, offline;
//   8. Bundle rules (fullUrl, reference resolution, documents, transactions)
//      and contained resources;
// against the base definitions and against profiles named in `meta.profile`,
// configured in ValidatorOptions, or passed to validate().
//
// HOW: every StructureDefinition is compiled once into an immutable plan
// (a tree of element rules indexed for the JSON walk). Base types are
// compiled when the Validator is created; profiles and extension definitions
// the first time they are needed, exactly once, under a per-profile once
// flag. After that, validation reads only immutable data: one Validator
// serves any number of threads and any number of resources.
//
// Results: problems *in the data* are Issues inside a successful result (an
// invalid resource is a successful validation). Operational failures — an
// explicitly requested profile that is unknown, input that is not a JSON
// object — are the Result's error.
//
// Messages describe the rule that failed and where; they never quote
// free-text, names, identifiers or dates from the data (they may name codes,
// system URLs, type names and element names, which are structure).
//
// Usage:
//   gw::validation::ValidatorOptions opt;
//   auto v = gw::validation::Validator::create(registry, model, opt);   // once
//   if (!v) return fail(v.error());
//   auto doc = gw::json::Document::parse(bytes);
//   auto issues = (*v)->validate(doc->root());                          // many times
//   if (!issues) return fail(issues.error());
//   if (gw::validation::has_errors(*issues)) reject(gw::fhir::operation_outcome_json(*issues));
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/json/json.hpp"
#include "gateway/terminology/terminology.hpp"

#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::packages {
class Registry;
}

namespace gw::validation {

/// A problem found in the data (severity, OperationOutcome issue-type code,
/// FHIRPath location, line/column, diagnostics). Codes used:
///   structure      JSON shape, unknown elements, wrong JSON type, slicing
///   required       a required element (min > 0) is missing
///   value          a primitive's format, fixed/pattern mismatch, lengths
///   invariant      a constraint (FHIRPath invariant) failed
///   code-invalid   a code is not in the bound value set
///   extension      unknown or misused extensions
///   not-found      an unresolvable reference or unknown profile
///   business-rule  Bundle rules (fullUrl, document structure)
///   not-supported  a code system that cannot be checked offline
using Issue = fhir::Issue;

/// True when any issue is an error or fatal.
bool has_errors(std::span<const Issue> issues);
/// Counts by severity class (fatal counts as an error).
std::size_t count_errors(std::span<const Issue> issues);
std::size_t count_warnings(std::span<const Issue> issues);

/// Configuration fixed when the Validator is created.
struct ValidatorOptions {
  /// Profiles every root resource of the matching type is validated
  /// against, as if named in meta.profile ("configured" profiles).
  std::vector<std::string> default_profiles;
  /// Validate against the profiles a resource names in meta.profile.
  bool check_meta_profiles = true;
  /// An extension whose definition cannot be found: warning (false, as
  /// HL7's validator by default) or error (true). Unknown modifier
  /// extensions are always errors.
  bool unknown_extensions_are_errors = false;
  /// Accept extensions whose url is an example domain (example.org,
  /// acme.com) without a definition, as HL7's validator does with
  /// -allow-example-urls (used when validating specification examples).
  /// Off by default: a gateway should not trust example modifiers.
  bool allow_example_urls = false;
  /// Terminology for bindings, code existence and memberOf(); null leaves
  /// them unchecked. Offline: codes of systems local data cannot decide
  /// (SNOMED CT, LOINC, ...) give warnings, never errors.
  std::shared_ptr<const terminology::Service> terminology;
  /// Check that a Coding's code exists in its code system when that code
  /// system is local and complete (HL7's "unknown code" error).
  bool check_code_systems = true;
  /// Compare Coding.display with the code system's display (warning).
  bool check_displays = true;
  /// Evaluate FHIRPath invariants (constraint.expression). Off: only the
  /// invariants the validator implements natively (ele-1, ext-1, dom-*,
  /// txt-*) are checked.
  bool check_invariants = true;
  /// Report best-practice invariants (dom-6 and others marked best
  /// practice) as warnings; off drops them.
  bool best_practice_warnings = true;
};

/// Per-call choices.
struct ValidateOptions {
  /// Canonical URLs (optionally "url|version") of profiles the root
  /// resource must conform to, in addition to its meta.profile.
  std::vector<std::string> profiles;
  /// Stop after this many errors (0: never). The verdict is known after
  /// the first error; a few megabytes of hostile input can raise millions,
  /// and walking on would cost CPU and memory in proportion to the harm.
  /// When it stops, a last `too-costly` error says so. Warnings do not
  /// count: a large valid bundle may carry one per coded element.
  std::size_t max_errors = 0;
};

/// A problem met while compiling a definition (an invariant whose
/// expression does not compile, a slicing that cannot be evaluated, a
/// profile that references a missing definition). Reported once per
/// definition, never a crash; validation carries on without that rule.
struct LoadProblem {
  std::string definition;  ///< canonical URL of the StructureDefinition
  std::string element;     ///< element id, "" for the whole definition
  std::string message;
  friend bool operator==(const LoadProblem&, const LoadProblem&) = default;
};

/// The validator. Immutable after create() except for its once-per-profile
/// plan cache, which is filled thread-safely: validate() may be called
/// concurrently from any number of threads.
///
/// Lifetimes: keeps the registry and model alive (shared ownership). The
/// json::Value passed to validate() must stay valid for the call only.
class Validator {
 public:
  /// Builds a validator over a registry (definitions) and the element
  /// model built from its base types. Compiles the base type plans.
  /// Errors: kNotFound when the registry lacks the base definitions
  /// (StructureDefinition for Resource/Element), kParse when a base
  /// definition cannot be compiled.
  static Result<std::shared_ptr<const Validator>> create(
      std::shared_ptr<const packages::Registry> registry,
      std::shared_ptr<const fhir::Model> model, ValidatorOptions options = {});

  /// Validates one resource (any type, Bundles included) against the base
  /// definitions, its meta.profile profiles, the configured profiles and
  /// `options.profiles`. Issues are ordered by position in the input.
  /// Errors: kInvalidArgument when `resource` is not a JSON object;
  /// kNotFound when a profile in `options.profiles` is unknown.
  Result<std::vector<Issue>> validate(json::Value resource,
                                      const ValidateOptions& options = {}) const;

  /// Compiles a profile now (rather than on first use) and says whether it
  /// is known. Errors: kNotFound for an unknown canonical, kParse when it
  /// cannot be compiled (no snapshot and no usable differential).
  Status prepare_profile(std::string_view canonical) const;

  /// Problems found while compiling definitions so far (thread-safe copy).
  std::vector<LoadProblem> load_problems() const;

  /// The complete StructureDefinition for `structure_definition`: the
  /// resource as given, with `snapshot.element` generated from its
  /// `differential` and the snapshot of its `baseDefinition` (found in the
  /// registry, generated recursively when it has none either). An existing
  /// snapshot is replaced. This is what the plan compiler uses for
  /// differential-only profiles, exposed so that a package build can ship
  /// the snapshots (see build_package). Differential elements that cannot be
  /// placed are skipped and reported by load_problems().
  /// Errors: kNotFound when a base definition is missing; kParse when the
  /// definition has no baseDefinition; kLimit for bases nested too deeply.
  /// Thread-safe.
  Result<std::shared_ptr<const json::Document>> generate_snapshot(json::Value structure_definition) const;

  const fhir::Model& model() const;
  const packages::Registry& registry() const;

  ~Validator();
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  struct Impl;

 private:
  explicit Validator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------
// Building a FHIR package from differential-only sources
// ---------------------------------------------------------------------------

/// What build_package() reads and where it writes.
///
/// `source_dir` holds `package.json` (npm manifest: name, version,
/// canonical, fhirVersions, dependencies) and `input/` with one folder per
/// kind of conformance resource (`input/profiles/`, `input/extensions/`,
/// `input/vocabulary/`, ...), each a flat folder of `*.json` resources;
/// StructureDefinitions carry a `differential` only. `input/examples/` is
/// not part of the package and is skipped.
struct PackageBuildOptions {
  std::string source_dir;
  /// Also write the finished package to `<out_dir>/package/` (empty: don't).
  std::string out_dir;
  /// Resolved package cache: dependencies are loaded from it, and the
  /// package is installed into it as `<name>#<version>` when `install`.
  std::string cache_dir;
  bool install = true;
  /// The element model of the base types (it does not depend on the
  /// package); null builds one from the loaded definitions. Passing one in
  /// saves that work when the caller already has it (tests).
  std::shared_ptr<const fhir::Model> model;
};

/// What build_package() produced.
struct PackageBuildResult {
  std::string id;                    ///< "name#version"
  std::size_t resources = 0;         ///< resources written (package.json excluded)
  std::size_t profiles = 0;          ///< StructureDefinitions with a generated snapshot
  std::string installed_path;        ///< <cache>/<name>#<version>, empty when not installed
};

/// Builds a FHIR package: loads the dependencies named in package.json from
/// the cache plus the input folders, generates every StructureDefinition's
/// snapshot with Validator::generate_snapshot, checks each one (every
/// element of the base snapshot is present, every differential element
/// was placed with its properties, the plan compiler accepts it without
/// load problems), and writes `package/package.json`, one `<Type>-<id>.json`
/// per resource and `.index.json`. Installing replaces an older build of the
/// same id with one rename (readers see either the old or the new folder).
/// Errors: kNotFound (source, package.json, a dependency not in the cache),
/// kParse (bad JSON; a snapshot that fails a check — the message names the
/// definition and the element, never data), kInvalidArgument (bad
/// name/version), kIo. Not thread-safe against another build of the same
/// package into the same cache.
Result<PackageBuildResult> build_package(const PackageBuildOptions& options);

/// `fhir-gateway packages build SOURCE_DIR [--out DIR] [--fhir-cache DIR] [--no-install]`
/// (`args` are the arguments after "build"). Prints one summary line on
/// `out`; errors on `err`. Returns 0 on success, 1 when the build fails,
/// 2 for usage errors.
int run_package_build_command(std::span<const std::string_view> args, std::ostream& out,
                              std::ostream& err);

/// `fhir-gateway validate [--ig NAME#VERSION|DIR|FILE]... [--profile URL]...
///                       [--format text|json|ndjson] [--fhir-cache DIR] [--verbose] FILE...`
///
/// `args` are the arguments after "validate". Loads hl7.fhir.r4.core#4.0.1
/// plus each --ig (a package id from the cache, a folder of conformance
/// resources or one resource file), builds one Validator (with offline
/// terminology) and validates every FILE against the base definitions,
/// its meta.profile and the --profile URLs. Output:
///   text    one line per issue "FILE:LINE:COL: severity: expression: message",
///           then "FILE: valid" for a file without errors;
///   json    one OperationOutcome per file;
///   ndjson  one line per file {"file", "valid", "errors", "warnings", "outcome"}.
/// Returns 0 when every file is valid, 1 when some file has an error (a
/// file that is not JSON counts as invalid), 2 for usage errors, unreadable
/// files, missing packages and unknown --profile URLs (message on `err`).
/// Reentrant; writes only to `out` and `err`.
int run_validate_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace gw::validation
