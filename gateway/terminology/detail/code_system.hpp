// Private: a CodeSystem resource compiled for lookups and filters.
//
// Concepts are flattened (nested `concept` elements included) into a vector
// with a hash index by normalized code. The hierarchy is a DAG of indexes
// built from nesting and from the `parent`/`subsumedBy` and `child`
// properties; bad data (a cycle, a parent that does not exist) is tolerated:
// walks keep a visited mark and unknown targets are skipped.
#pragma once

#include "gateway/json/json.hpp"
#include "gateway/core/flat_index.hpp"
#include "gateway/terminology/detail/concept_set.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::terminology::detail {

enum class Content : std::uint8_t { kComplete, kFragment, kExample, kNotPresent, kSupplement };

struct CsConcept {
  std::string code;
  std::string display;
  std::vector<std::string> designations;
  /// (property code, value as text); booleans are "true"/"false", Codings
  /// their code.
  std::vector<std::pair<std::string, std::string>> properties;
  std::vector<std::uint32_t> parents;
  std::vector<std::uint32_t> children;
  bool abstract = false;
  bool inactive = false;
};

/// Immutable after build(); thread-safe to read.
class CodeSystemIndex {
 public:
  /// Compiles a CodeSystem resource. Errors: kInvalidArgument when `root` is
  /// not a CodeSystem object, kLimit beyond `max_concepts` concepts.
  static Result<std::shared_ptr<const CodeSystemIndex>> build(json::Value root,
                                                              std::size_t max_concepts);

  const std::string& url() const noexcept { return url_; }
  const std::string& version() const noexcept { return version_; }
  Content content() const noexcept { return content_; }
  bool case_sensitive() const noexcept { return case_sensitive_; }
  const std::vector<CsConcept>& concepts() const noexcept { return concepts_; }

  std::string normalize(std::string_view code) const {
    return case_sensitive_ ? std::string(code) : fold_case(code);
  }
  /// Index of the concept with `code`, if any.
  std::optional<std::uint32_t> find(std::string_view code) const;

  /// Marks every strict descendant of `root` in `mark` (sized to concepts()).
  void mark_descendants(std::uint32_t root, std::vector<bool>& mark) const;
  /// Marks every strict ancestor of `root`.
  void mark_ancestors(std::uint32_t root, std::vector<bool>& mark) const;

  /// Evaluates one compose filter over all concepts. Returns the matching
  /// concepts as a mask, or nullopt when the operator/property/value is not
  /// something local data can evaluate (unknown op, bad regex).
  std::optional<std::vector<bool>> filter(std::string_view property, std::string_view op,
                                          std::string_view value) const;

 private:
  std::string url_;
  std::string version_;
  Content content_ = Content::kComplete;
  bool case_sensitive_ = true;
  std::vector<CsConcept> concepts_;
  std::vector<std::string> declared_;  ///< property codes declared or used
  /// Lower-cased codes, parallel to concepts_, for a case-insensitive system.
  std::vector<std::string> folded_;
  FlatIndex index_;  ///< normalized code -> position in concepts_

  /// What index_ is keyed by: the normalized code of concept `i`.
  auto keys() const {
    return [this](std::uint32_t i) {
      return case_sensitive_ ? std::string_view(concepts_[i].code) : std::string_view(folded_[i]);
    };
  }
};

}  // namespace gw::terminology::detail
