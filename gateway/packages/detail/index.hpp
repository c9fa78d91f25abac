// The HL7 package index (.index.json, index-version 2): one entry per
// resource file of a package folder, so the registry can know what a folder
// holds without parsing every file.
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/json/json.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gw::packages::detail {

inline constexpr std::string_view kIndexFile = ".index.json";

struct IndexEntry {
  std::string filename;
  std::string resource_type;
  std::string id;
  std::string url;
  std::string version;
  std::string kind;         // StructureDefinition.kind
  std::string type;         // StructureDefinition.type
  std::string supplements;  // CodeSystem.supplements
  std::string content;      // CodeSystem.content
  friend bool operator==(const IndexEntry&, const IndexEntry&) = default;
};

/// The index entry of a parsed resource, or nullopt when `root` is not an
/// object with a string `resourceType`.
std::optional<IndexEntry> index_entry_of(json::Value root, std::string filename);

/// The .index.json text for `entries` (absent fields are left out).
std::string render_index(const std::vector<IndexEntry>& entries);

/// Reads an .index.json. Filenames must be plain names inside the folder
/// (no '/', not "." or ".."). Errors: kNotFound, kParse (location: path).
Result<std::vector<IndexEntry>> read_index(const std::string& index_path);

struct ScanResult {
  std::vector<IndexEntry> entries;
  /// Files that were not JSON or not a resource (with why), when not strict.
  std::vector<std::string> skipped;
};

/// Parses every "*.json" file of `dir` (not recursive; package.json and
/// .index.json excluded), sorted by name. Strict: a file that is not JSON
/// is a kParse error (location: path, line, column); otherwise it is listed
/// in `skipped`. JSON that is not a resource is skipped in both modes.
Result<ScanResult> scan_folder(const std::string& dir, bool strict);

}  // namespace gw::packages::detail
