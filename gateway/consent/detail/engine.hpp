// Internal state of one redaction: the resources found in the input, the
// marks the policy rules put on nodes, and the plan (what survives) that the
// writer follows. Private to gw::consent; the verifier does not use it.
#pragma once

#include "gateway/consent/consent.hpp"
#include "gateway/consent/detail/policy.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gw::consent::detail {

/// A resource inside the input: the root, a Bundle entry's resource, a
/// contained resource, a Parameters resource, ...
struct ResourceInfo {
  fhir::Node node;
  std::string path;  ///< FHIRPath-style path in the input ("Bundle.entry[2].resource")
  std::string type;  ///< resourceType
  std::string id;
  std::string full_url;    ///< Bundle.entry.fullUrl, if any
  int parent = -1;         ///< resource that holds this one (-1 for the root)
  int scope = 0;           ///< resource whose `contained` "#id" references resolve here
  bool contained = false;  ///< sits in its parent's `contained`
  bool removed = false;
  int removed_rule = -1;      ///< rule that removed it (-1: cascade, label or free text)
  int removed_category = -1;  ///< category it was removed for (-1: cascade or free text)
  Removal::Action removed_action = Removal::Action::kRemoved;
  bool modified = false;       ///< something inside it was removed, coarsened or regenerated
  std::vector<bool> released;  ///< per category: data of a permitted category is present
};

/// What a rule did to a node (keyed by the JSON offset of the node's value,
/// or of its `_x` part when the value is absent).
struct Mark {
  enum class Kind : std::uint8_t { kRemove, kCoarsen, kFreeText, kNarrative };
  Kind kind = Kind::kRemove;
  int rule = -1;  ///< -1 for free text
};

/// Offset key of a node: its value, or its `_x` part for a value-less primitive.
inline std::uint32_t node_key(json::Value value, json::Value ext) {
  return value && !value.is_null() ? value.offset() : ext.offset();
}

/// Children vectors for a recursive walk over the model (the redactor's
/// walks, the verifier's), one per depth and reused across the walk's
/// nodes: a vector per node was a malloc and a free for each. A deque, so a
/// deeper level growing the pool leaves the vectors of the levels above,
/// which their callers are still iterating, in place.
class ChildrenByDepth {
 public:
  /// The vector of level `depth`, emptied.
  std::vector<fhir::Node>& at(std::uint32_t depth) {
    if (levels_.size() <= depth) levels_.resize(depth + 1);
    levels_[depth].clear();
    return levels_[depth];
  }

 private:
  std::deque<std::vector<fhir::Node>> levels_;
};

/// A stack of path steps, turned into text only when a removal is recorded.
class PathStack {
 public:
  void push(std::string_view name, std::int32_t index) { steps_.push_back({name, index}); }
  void pop() { steps_.pop_back(); }
  std::string str() const;
  std::size_t size() const { return steps_.size(); }

 private:
  struct Step {
    std::string_view name;
    std::int32_t index;
  };
  std::vector<Step> steps_;
};

/// The whole state of one redaction.
struct RedactState {
  const CompiledPolicy& policy;
  const fhir::Model& model;
  const Decision& decision;

  std::vector<ResourceInfo> resources;
  std::unordered_map<std::uint32_t, int> resource_at;  ///< object offset -> resources index
  std::unordered_map<std::uint32_t, Mark> marks;       ///< rule and free-text marks
  std::unordered_set<std::uint32_t> dropped;           ///< every item the writer skips (plan)

  // Reference targets of removed resources.
  std::unordered_set<std::string> removed_urls;      ///< fullUrl and "Type/id"
  std::unordered_set<std::string> removed_local;     ///< "<scope>#id" for contained ones
  std::unordered_set<std::string> denied_ref_types;  ///< resource types denied by rules (Location)
  /// "<scope>#id" local references in the input, and those the plan keeps:
  /// a contained resource referenced before but not after redaction goes
  /// (FHIR dom-3: contained resources must be referenced).
  std::unordered_set<std::string> input_local_refs;
  std::unordered_set<std::string> kept_local_refs;

  std::vector<Removal> removals;
  std::unordered_set<std::string> removed_values;
  std::unordered_set<std::string> retained_terms;
  bool limit_hit = false;

  RedactState(const CompiledPolicy& p, const fhir::Model& m, const Decision& d)
      : policy(p), model(m), decision(d) {}

  bool permitted(int category) const {
    return category >= 0 && static_cast<std::size_t>(category) < decision.permitted.size() &&
           decision.permitted[static_cast<std::size_t>(category)];
  }
  bool is_dropped(json::Value value, json::Value ext) const {
    return dropped.count(node_key(value, ext)) > 0;
  }
  const Mark* mark_of(json::Value value, json::Value ext) const {
    auto it = marks.find(node_key(value, ext));
    return it == marks.end() ? nullptr : &it->second;
  }
};

/// Lower case (ASCII), whitespace runs collapsed to one space, trimmed.
std::string normalise_text(std::string_view s);
/// The same, appended to `out`.
void append_normalised(std::string& out, std::string_view s);

/// Text content of an XHTML fragment: tags dropped (as spaces), the common
/// entities decoded.
std::string xhtml_text(std::string_view div);

/// Regenerated narrative of a resource (or Composition.section) from what
/// the plan keeps: an XHTML div in the XHTML namespace.
std::string generate_narrative(const RedactState& s, const fhir::Node& node);

/// Writes the planned output. Errors: kLimit.
Result<std::string> write_output(RedactState& s);

}  // namespace gw::consent::detail
