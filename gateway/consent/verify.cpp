// The verifier: a second opinion on every release, written separately from
// the redaction engine on purpose. It shares the policy (what is denied) and
// the text normalisation (so the two agree on what "the same value" means),
// but none of the engine's marking or planning: it walks the *re-parsed
// output* with its own code and looks for anything a denied category owns.
// A bug in the engine that leaves data behind therefore shows up here as a
// finding, and the release fails closed.
//
// Checks, per output:
//   1. typed walk (model-guided): extensions with denied URLs, identifiers
//      of denied types/systems, codings from denied code lists, resources of
//      denied types or labelled with a denied category, references to
//      removed or denied resources and local references that do not
//      resolve, notes/attachments/original narratives, JSON members the
//      model does not know;
//   2. fixed paths (raw JSON, no model): plain selector paths of denied
//      categories must be absent, or hold only the coarsened address parts;
//   3. FHIRPath selectors of denied categories, re-evaluated on the output
//      by the FHIRPath engine, must select nothing (or coarsened addresses);
//   4. removed values: each normalised removed value (>= 4 characters) must
//      not occur on word boundaries in any text of the output.
#include "gateway/consent/consent.hpp"
#include "gateway/consent/detail/engine.hpp"
#include "gateway/consent/detail/policy.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace gw::consent {

namespace {

using detail::CompiledPolicy;
using detail::Rule;
using detail::RuleKind;

struct Denied {
  std::unordered_map<std::string, int> extension_urls;
  std::unordered_map<std::string, int> identifier_systems;
  std::vector<std::pair<Coding, int>> identifier_types;
  std::unordered_map<std::string, int> codes;  // "system|code"
  std::unordered_map<std::string, int> resource_types;
  std::vector<std::pair<Coding, int>> labels;
  std::vector<const Rule*> paths;      // plain selector paths
  std::vector<const Rule*> selectors;  // FHIRPath selectors
};

Denied denied_sets(const CompiledPolicy& p, const Decision& d) {
  Denied out;
  auto denied = [&](int c) { return c >= 0 && !d.permitted[static_cast<std::size_t>(c)]; };
  for (const Rule& r : p.rules) {
    if (!denied(r.category)) continue;
    switch (r.kind) {
      case RuleKind::kExtension:
        for (const auto& u : r.extension_urls) out.extension_urls.emplace(u, r.category);
        break;
      case RuleKind::kIdentifier:
        for (const auto& s : r.identifier_systems) out.identifier_systems.emplace(s, r.category);
        for (const auto& t : r.identifier_types) out.identifier_types.emplace_back(t, r.category);
        break;
      case RuleKind::kCode:
        for (const auto& c : r.codes) out.codes.emplace(c.system + "|" + c.code, r.category);
        break;
      case RuleKind::kResourceType:
        for (const auto& t : r.resource_types) out.resource_types.emplace(t, r.category);
        break;
      case RuleKind::kSelect:
        (r.select_path.empty() ? out.selectors : out.paths).push_back(&r);
        break;
    }
  }
  for (std::size_t c = 0; c < p.categories.size(); ++c) {
    if (!denied(static_cast<int>(c))) continue;
    for (const Coding& l : p.categories[c].labels) out.labels.emplace_back(l, static_cast<int>(c));
  }
  return out;
}

// Matching on word boundaries keeps "40291" from matching inside a longer
// number; bytes of multi-byte UTF-8 count as word characters so "zürich"
// does not match inside "zürichsee".
bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// Collected text of the output: one normalised segment per string, with
// the JSON offset of the value it came from (the path is worked out only
// for a hit, which is rare).
struct TextIndex {
  std::string text;
  std::vector<std::pair<std::size_t, std::uint32_t>> segments;  // start in text, JSON offset
  void add(std::string_view raw, std::uint32_t json_offset) {
    const std::size_t start = text.size();
    detail::append_normalised(text, raw);
    if (text.size() == start) return;
    segments.emplace_back(start, json_offset);
    text += '\n';
  }
  std::uint32_t json_offset_at(std::size_t offset) const {
    auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                               [](std::size_t o, const auto& seg) { return o < seg.first; });
    return std::prev(it)->second;
  }
};

// Path of the value starting at `offset` (raw JSON walk, members by key,
// arrays by index), or "" when not found.
bool path_to_offset(json::Value v, std::uint32_t offset, std::string& path, int depth) {
  if (v.offset() == offset) return true;
  if (depth > 300 || !(v.is_object() || v.is_array())) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    json::Value child = v[i];
    // Children are in document order: skip those that end before the target.
    if (i + 1 < v.size() && v[i + 1].offset() <= offset) continue;
    std::size_t keep = path.size();
    if (v.is_object()) {
      path += ".";
      path += v.key(i);
    } else {
      path += "[" + std::to_string(i) + "]";
    }
    if (path_to_offset(child, offset, path, depth + 1)) return true;
    path.resize(keep);
    return false;
  }
  return false;
}

class Verifier {
 public:
  Verifier(const CompiledPolicy& p, const fhir::Model& model, const Decision& d,
           std::span<const std::string> removed_resources)
      : p_(p),
        model_(model),
        denied_(denied_sets(p, d)),
        removed_resources_(removed_resources.begin(), removed_resources.end()) {}

  Status run(json::Value output, std::span<const std::string> removed_values);
  std::vector<Finding> take() { return std::move(findings_); }

 private:
  struct Path {
    std::vector<std::pair<std::string_view, std::int32_t>> steps;
    std::string str() const {
      std::string s;
      for (const auto& [name, index] : steps) {
        if (!s.empty()) s += '.';
        s += name;
        if (index >= 0) s += "[" + std::to_string(index) + "]";
      }
      return s;
    }
  };

  void add(Finding::Kind k, int category, const Path& path) {
    Finding f;
    f.kind = k;
    if (category >= 0) f.category = p_.categories[static_cast<std::size_t>(category)].code;
    f.path = path.str();
    findings_.push_back(std::move(f));
  }

  // `scope` is the resource whose `contained` local references resolve in
  // (the container, for a contained resource).
  void walk(const fhir::Node& node, const fhir::Node& scope, Path& path, std::uint32_t depth);
  void check_node(const fhir::Node& node, const fhir::Node& scope, const Path& path);
  void check_resource(const fhir::Node& node, const fhir::Node& root, const Path& path);
  void check_unknown_members(const fhir::Node& node, Path& path);
  void check_paths(json::Value resource, const Path& path);
  void follow(json::Value v, const std::vector<std::string>& segs, std::size_t i, const Rule& rule,
              Path& path, std::uint32_t depth);
  void check_selected(json::Value v, const Rule& rule, const Path& path);
  void scan_values(std::span<const std::string> removed_values);

  const CompiledPolicy& p_;
  const fhir::Model& model_;
  Denied denied_;
  std::unordered_set<std::string> removed_resources_;
  std::vector<Finding> findings_;
  TextIndex text_;
  fhir::Node root_;
  detail::ChildrenByDepth kids_;  // walk's children
  bool limit_hit_ = false;
};

void Verifier::check_resource(const fhir::Node& node, const fhir::Node& root, const Path& path) {
  const std::string& type = node.type->name;
  if (auto it = denied_.resource_types.find(type); it != denied_.resource_types.end()) {
    add(Finding::Kind::kResource, it->second, path);
  }
  if (type == "Binary" && p_.remove_attachments) add(Finding::Kind::kFreeText, -1, path);
  for (json::Value label : node.value.find("meta").find("security").items()) {
    for (const auto& [coding, category] : denied_.labels) {
      if (label.find("system").str() == coding.system && label.find("code").str() == coding.code) {
        add(Finding::Kind::kResource, category, path);
      }
    }
  }
  check_paths(node.value, path);
  std::vector<fhir::Node> selected;
  for (const Rule* rule : denied_.selectors) {
    const std::string& rt = rule->selector->resource_type();
    if (!rt.empty() && rt != type) continue;
    selected.clear();
    if (!rule->selector->select(node, root, selected)) {
      // A selector that cannot be evaluated cannot vouch for the output.
      add(Finding::Kind::kPath, rule->category, path);
      continue;
    }
    for (const fhir::Node& n : selected)
      check_selected(n.value ? n.value : n.extension_part, *rule, path);
  }
}

void Verifier::check_selected(json::Value v, const Rule& rule, const Path& path) {
  if (!v || v.is_null()) return;
  if (rule.action == detail::RuleAction::kCoarsen && v.is_object()) {
    bool region = rule.coarsen == detail::CoarsenLevel::kRegion;
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string_view k = v.key(i);
      if (k == "country" || (region && k == "state")) continue;
      add(Finding::Kind::kPath, rule.category, path);
      return;
    }
    return;
  }
  add(Finding::Kind::kPath, rule.category, path);
}

// Raw JSON: follows a plain path's segments through objects and arrays
// (choice elements by prefix), independent of the model.
void Verifier::follow(json::Value v, const std::vector<std::string>& segs, std::size_t i,
                      const Rule& rule, Path& path, std::uint32_t depth) {
  if (depth > p_.max_depth) {
    limit_hit_ = true;
    return;
  }
  if (v.is_array()) {
    for (std::size_t j = 0; j < v.size(); ++j) {
      path.steps.back().second = static_cast<std::int32_t>(j);
      follow(v[j], segs, i, rule, path, depth + 1);
    }
    path.steps.back().second = -1;
    return;
  }
  if (i == segs.size()) {
    check_selected(v, rule, path);
    return;
  }
  if (!v.is_object()) return;
  const std::string& seg = segs[i];
  for (std::size_t k = 0; k < v.size(); ++k) {
    std::string_view key = v.key(k);
    std::string_view base = !key.empty() && key[0] == '_' ? key.substr(1) : key;
    bool match = base == seg || (base.size() > seg.size() && base.substr(0, seg.size()) == seg &&
                                 base[seg.size()] >= 'A' && base[seg.size()] <= 'Z');
    if (!match) continue;
    path.steps.emplace_back(key, -1);
    if (key[0] == '_') {
      // Extensions on a selected primitive are part of it.
      if (i + 1 == segs.size()) add(Finding::Kind::kPath, rule.category, path);
    } else {
      follow(v[k], segs, i + 1, rule, path, depth + 1);
    }
    path.steps.pop_back();
  }
}

void Verifier::check_paths(json::Value resource, const Path& path) {
  std::string_view type = resource.find("resourceType").str();
  for (const Rule* rule : denied_.paths) {
    if (rule->select_path.front() != type) continue;
    Path p = path;
    follow(resource, rule->select_path, 1, *rule, p, 0);
  }
}

// The engine never copies members the model does not know, so any such
// member in the output means the output did not come from the engine as
// planned.
void Verifier::check_unknown_members(const fhir::Node& node, Path& path) {
  json::Value obj = node.is_primitive() ? node.extension_part : node.value;
  if (!obj.is_object()) return;
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view k = obj.key(i);
    if (k == "resourceType" && node.is_resource()) continue;
    std::string_view base = !k.empty() && k[0] == '_' ? k.substr(1) : k;
    if (node.type->match_key(base).element) continue;
    path.steps.emplace_back("(unknown member)", -1);  // the key could be data
    add(Finding::Kind::kUnknownMember, -1, path);
    path.steps.pop_back();
  }
}

void Verifier::check_node(const fhir::Node& node, const fhir::Node& scope, const Path& path) {
  // A view: compared with a literal, it checks the length before the bytes
  // (a std::string runs strlen on the literal first), on every node.
  const std::string_view t = node.type->name;
  json::Value v = node.value;
  if (t == "Extension") {
    if (auto it = denied_.extension_urls.find(std::string(v.find("url").str()));
        it != denied_.extension_urls.end()) {
      add(Finding::Kind::kExtension, it->second, path);
    }
  } else if (t == "Identifier") {
    if (auto it = denied_.identifier_systems.find(std::string(v.find("system").str()));
        it != denied_.identifier_systems.end()) {
      add(Finding::Kind::kIdentifier, it->second, path);
    }
    for (json::Value c : v.find("type").find("coding").items()) {
      for (const auto& [coding, category] : denied_.identifier_types) {
        if (c.find("system").str() == coding.system && c.find("code").str() == coding.code) {
          add(Finding::Kind::kIdentifier, category, path);
        }
      }
    }
  } else if (t == "Coding") {
    std::string key = std::string(v.find("system").str()) + "|" + std::string(v.find("code").str());
    if (auto it = denied_.codes.find(key); it != denied_.codes.end())
      add(Finding::Kind::kCode, it->second, path);
  } else if (t == "Reference") {
    std::string_view ref = v.find("reference").str();
    if (!ref.empty() && ref[0] == '#') {
      // Local references must resolve to a contained resource that is still there.
      bool found = ref.size() == 1;
      for (json::Value c : scope.value.find("contained").items()) {
        if (c.find("id").str() == ref.substr(1)) found = true;
      }
      if (!found) add(Finding::Kind::kReference, -1, path);
    } else if (!ref.empty()) {
      std::string_view r = ref.substr(0, ref.find("/_history/"));
      std::size_t last = r.rfind('/');
      std::size_t prev = last == std::string_view::npos || last == 0 ? std::string_view::npos
                                                                     : r.rfind('/', last - 1);
      std::string_view tail = prev == std::string_view::npos ? r : r.substr(prev + 1);
      std::string_view type = tail.substr(0, tail.find('/'));
      if (removed_resources_.count(std::string(r)) || removed_resources_.count(std::string(tail))) {
        add(Finding::Kind::kReference, -1, path);
      }
      if (last != std::string_view::npos) {
        if (auto it = denied_.resource_types.find(std::string(type));
            it != denied_.resource_types.end()) {
          add(Finding::Kind::kReference, it->second, path);
        }
      }
    }
    std::string_view rtype = v.find("type").str();
    if (auto it = denied_.resource_types.find(std::string(rtype.substr(rtype.rfind('/') + 1)));
        !rtype.empty() && it != denied_.resource_types.end()) {
      add(Finding::Kind::kReference, it->second, path);
    }
  } else if (t == "Annotation" && p_.remove_notes) {
    add(Finding::Kind::kFreeText, -1, path);
  } else if (t == "Attachment" && p_.remove_attachments) {
    add(Finding::Kind::kFreeText, -1, path);
  } else if (t == "Narrative") {
    if (p_.narrative == detail::NarrativeAction::kRemove || v.find("status").str() != "generated") {
      add(Finding::Kind::kFreeText, -1, path);
    }
    if (json::Value div = v.find("div")) text_.add(detail::xhtml_text(div.str()), div.offset());
  }
  if (node.is_primitive() && node.has_primitive_value() && v.is_string() && t != "xhtml" &&
      t != "base64Binary") {
    text_.add(v.str(), v.offset());
  }
}

void Verifier::walk(const fhir::Node& node, const fhir::Node& scope, Path& path,
                    std::uint32_t depth) {
  if (depth > p_.max_depth + 2) {
    limit_hit_ = true;
    return;
  }
  check_unknown_members(node, path);
  std::vector<fhir::Node>& kids = kids_.at(depth);
  model_.children(node, kids);
  for (const fhir::Node& k : kids) {
    path.steps.emplace_back(k.name, k.index);
    if (!k.type) {
      add(Finding::Kind::kUnknownMember, -1, path);
    } else if (k.is_resource()) {
      check_resource(k, root_, path);
      walk(k, k.name == "contained" ? scope : k, path, depth + 1);
    } else {
      check_node(k, scope, path);
      walk(k, scope, path, depth + 1);
    }
    path.steps.pop_back();
  }
}

void Verifier::scan_values(std::span<const std::string> removed_values) {
  const std::string& hay = text_.text;
  for (const std::string& value : removed_values) {
    std::string needle = detail::normalise_text(value);
    if (needle.size() < 4) continue;
    bool first_word = is_word_byte(static_cast<unsigned char>(needle.front()));
    bool last_word = is_word_byte(static_cast<unsigned char>(needle.back()));
    for (std::size_t pos = hay.find(needle); pos != std::string::npos;
         pos = hay.find(needle, pos + 1)) {
      bool before_ok =
          !first_word || pos == 0 || !is_word_byte(static_cast<unsigned char>(hay[pos - 1]));
      std::size_t end = pos + needle.size();
      bool after_ok =
          !last_word || end >= hay.size() || !is_word_byte(static_cast<unsigned char>(hay[end]));
      if (before_ok && after_ok) {
        Finding f;
        f.kind = Finding::Kind::kValue;
        f.path = root_.type->name;
        if (!path_to_offset(root_.value, text_.json_offset_at(pos), f.path, 0))
          f.path = root_.type->name;
        findings_.push_back(std::move(f));
        break;
      }
    }
  }
}

Status Verifier::run(json::Value output, std::span<const std::string> removed_values) {
  auto root = model_.resource(output);
  if (!root) return root.error();
  root_ = *root;
  Path path;
  path.steps.emplace_back(root->type->name, -1);
  check_resource(*root, *root, path);
  // The root's own members are checked as children of the walk; the root
  // path step names the resource type, as in the engine's removal paths.
  walk(*root, *root, path, 1);
  if (limit_hit_)
    return fail(ErrorCode::kLimit, "output nests deeper than the policy's depth limit");
  scan_values(removed_values);
  return {};
}

}  // namespace

std::string_view to_string(Finding::Kind k) {
  switch (k) {
    case Finding::Kind::kExtension:
      return "extension";
    case Finding::Kind::kIdentifier:
      return "identifier";
    case Finding::Kind::kCode:
      return "code";
    case Finding::Kind::kResource:
      return "resource";
    case Finding::Kind::kReference:
      return "reference";
    case Finding::Kind::kPath:
      return "path";
    case Finding::Kind::kFreeText:
      return "free-text";
    case Finding::Kind::kValue:
      return "value";
    case Finding::Kind::kUnknownMember:
      return "unknown-member";
  }
  return "path";
}

Result<std::vector<Finding>> verify(const Policy& policy, const fhir::Model& model,
                                    json::Value output, const Decision& decision,
                                    std::span<const std::string> removed_values,
                                    std::span<const std::string> removed_resources) {
  const CompiledPolicy& p = policy.compiled();
  GW_ASSERT(decision.permitted.size() == p.categories.size(), "decision made for another policy");
  Verifier v(p, model, decision, removed_resources);
  GW_CHECK_OK(v.run(output, removed_values));
  return v.take();
}

}  // namespace gw::consent
