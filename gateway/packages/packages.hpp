// gw::packages — the FHIR package cache and the registry of conformance
// resources (StructureDefinition, ValueSet, CodeSystem, SearchParameter,
// OperationDefinition, ConceptMap, ...).
//
// Packages live in a cache laid out as HL7's tools lay it out:
//   <cache>/<name>#<version>/package/package.json
//   <cache>/<name>#<version>/package/.index.json     (written at install)
//   <cache>/<name>#<version>/package/<Type>-<id>.json
// The cache is `--fhir-cache DIR`, else $FHIR_PACKAGE_CACHE, else
// ~/.fhir/packages.
//
// The registry is built once at start-up and is then immutable and shared
// read-only between threads (`std::shared_ptr<const Registry>`). It indexes
// resources by canonical `url` and `url|version` from each package's
// .index.json and parses a resource's JSON only when it is first asked for,
// so loading R4 core + IPS stays fast and small.
//
// THIS HEADER IS A CONTRACT SKETCH: the packages work fills in the
// implementation and may extend the API, but keeps these names.
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/json/json.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gw::packages {

/// "name#version", e.g. "hl7.fhir.r4.core#4.0.1".
struct PackageId {
  std::string name;
  std::string version;
  static Result<PackageId> parse(std::string_view text);
  std::string to_string() const { return name + "#" + version; }
  friend bool operator==(const PackageId&, const PackageId&) = default;
};

/// The cache directory from an explicit flag value (may be empty), then
/// $FHIR_PACKAGE_CACHE, then ~/.fhir/packages.
std::string resolve_cache_dir(std::string_view flag_value);

/// One conformance resource known to the registry. `json()` parses the file
/// on first use (thread-safe) and returns the resource's root object; the
/// Value stays valid as long as the Registry lives.
class Entry {
 public:
  virtual ~Entry() = default;
  virtual std::string_view resource_type() const = 0;
  virtual std::string_view id() const = 0;
  virtual std::string_view url() const = 0;
  virtual std::string_view version() const = 0;
  /// For StructureDefinitions: the `type` element ("Patient", "Extension").
  virtual std::string_view sd_type() const = 0;
  /// Package that holds it, as "name#version" (or the folder/file path for
  /// conformance resources loaded from a directory or file).
  virtual std::string_view source() const = 0;
  virtual Result<json::Value> json() const = 0;
};

struct LoadOptions {
  std::string cache_dir;                ///< resolved cache directory
  std::vector<std::string> packages;    ///< "name#version" to load with their dependencies
  std::vector<std::string> extra_paths; ///< folders or single files of conformance resources
};

/// A warning met while loading (a dependency that cannot be had, a version
/// substituted); loading carries on.
struct LoadWarning {
  std::string message;
};

class Registry {
 public:
  virtual ~Registry() = default;

  /// Loads the named packages and their dependencies from the cache.
  /// Errors: kNotFound for a package that is not in the cache (the message
  /// says how to install it), kParse for a bad package.json/.index.json or a
  /// resource file that is not JSON.
  static Result<std::shared_ptr<const Registry>> load(const LoadOptions& options);

  /// Resource by canonical URL, optionally "url|version". Null when absent.
  virtual const Entry* find(std::string_view canonical) const = 0;
  /// Same, restricted to one resource type.
  virtual const Entry* find(std::string_view resource_type, std::string_view canonical) const = 0;
  /// Every entry of a resource type, in load order.
  virtual std::vector<const Entry*> all(std::string_view resource_type) const = 0;
  /// Packages loaded, dependencies included, in load order.
  virtual std::vector<PackageId> loaded_packages() const = 0;
  virtual const std::vector<LoadWarning>& warnings() const = 0;
};

}  // namespace gw::packages
