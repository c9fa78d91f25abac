// Strict reading of configuration JSON (policy, gateway config): every key
// must be known, every value of the expected kind. Errors carry a JSON path
// ("rules[3].select") and never quote values.
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/json/json.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace gw::consent::detail {

/// Reads the members of one JSON object and remembers which were read, so
/// finish() can reject the rest.
class ObjectReader {
 public:
  /// `path` names the object in errors ("" for the root).
  ObjectReader(json::Value obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  /// Error unless the value is an object.
  Status check_object() const;
  /// The member (absent Value if missing) and marks it read.
  json::Value get(std::string_view key);
  /// Required non-empty string member.
  Result<std::string> string(std::string_view key);
  /// Optional string member: `fallback` when absent.
  Result<std::string> optional_string(std::string_view key, std::string fallback);
  /// Optional array of strings (each non-empty).
  Result<std::vector<std::string>> string_array(std::string_view key, bool required);
  /// Errors for members that were never read.
  Status finish() const;

  /// "path.key" (or "key" at the root).
  std::string child(std::string_view key) const;
  const std::string& path() const { return path_; }

 private:
  json::Value obj_;
  std::string path_;
  std::vector<std::string_view> read_;
};

/// "path[i]".
std::string index_path(std::string_view path, std::size_t i);

}  // namespace gw::consent::detail
