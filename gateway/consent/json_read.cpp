// Strict configuration reading; see detail/json_read.hpp.
#include "gateway/consent/detail/json_read.hpp"

#include <algorithm>

namespace gw::consent::detail {

Status ObjectReader::check_object() const {
  if (!obj_.is_object()) return fail(ErrorCode::kParse, "expected a JSON object", path_);
  return {};
}

json::Value ObjectReader::get(std::string_view key) {
  json::Value v = obj_.find(key);
  if (v) read_.push_back(key);
  return v;
}

Result<std::string> ObjectReader::string(std::string_view key) {
  json::Value v = get(key);
  if (!v) return fail(ErrorCode::kParse, "missing required key '" + std::string(key) + "'", path_);
  if (!v.is_string() || v.str().empty()) {
    return fail(ErrorCode::kParse, "expected a non-empty string", child(key));
  }
  return std::string(v.str());
}

Result<std::string> ObjectReader::optional_string(std::string_view key, std::string fallback) {
  json::Value v = get(key);
  if (!v) return fallback;
  if (!v.is_string() || v.str().empty()) {
    return fail(ErrorCode::kParse, "expected a non-empty string", child(key));
  }
  return std::string(v.str());
}

Result<std::vector<std::string>> ObjectReader::string_array(std::string_view key, bool required) {
  json::Value v = get(key);
  std::vector<std::string> out;
  if (!v) {
    if (required)
      return fail(ErrorCode::kParse, "missing required key '" + std::string(key) + "'", path_);
    return out;
  }
  if (!v.is_array()) return fail(ErrorCode::kParse, "expected an array of strings", child(key));
  for (std::size_t i = 0; i < v.size(); ++i) {
    json::Value item = v[i];
    if (!item.is_string() || item.str().empty()) {
      return fail(ErrorCode::kParse, "expected a non-empty string", index_path(child(key), i));
    }
    out.emplace_back(item.str());
  }
  return out;
}

Status ObjectReader::finish() const {
  for (std::size_t i = 0; i < obj_.size(); ++i) {
    std::string_view k = obj_.key(i);
    if (std::find(read_.begin(), read_.end(), k) == read_.end()) {
      // Keys are structure, not data: naming them is fine (and is what a
      // person fixing a typo needs). Long keys are cut.
      return fail(ErrorCode::kParse, "unknown key '" + std::string(k.substr(0, 60)) + "'", path_);
    }
  }
  return {};
}

std::string ObjectReader::child(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

std::string index_path(std::string_view path, std::size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

}  // namespace gw::consent::detail
