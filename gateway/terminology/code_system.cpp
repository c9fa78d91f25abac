// CodeSystem compilation and compose-filter evaluation (see
// detail/code_system.hpp).
//
// Why the hierarchy is built from three sources: R4 core nests concepts and
// repeats the links as a `child` property; THO (hl7.terminology) lists v3
// concepts flat and links them with `subsumedBy`; other IGs use `parent`.
// A property is treated as a hierarchy link when its declaration's `uri` is
// the standard concept-property URI (#parent / #child) or, failing a
// declaration, by its conventional code.
#include "gateway/terminology/detail/code_system.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <utility>

namespace gw::terminology::detail {

namespace {

constexpr std::string_view kPropertyUriBase = "http://hl7.org/fhir/concept-properties#";

enum class Role : std::uint8_t { kOther, kParent, kChild, kAbstract, kStatus, kInactive };

Role role_of(std::string_view code, std::string_view uri) {
  if (uri.substr(0, kPropertyUriBase.size()) == kPropertyUriBase) {
    std::string_view name = uri.substr(kPropertyUriBase.size());
    if (name == "parent") return Role::kParent;
    if (name == "child") return Role::kChild;
    if (name == "notSelectable") return Role::kAbstract;
    if (name == "status") return Role::kStatus;
    if (name == "inactive") return Role::kInactive;
  }
  if (code == "parent" || code == "subsumedBy") return Role::kParent;
  if (code == "child") return Role::kChild;
  if (code == "notSelectable" || code == "abstract") return Role::kAbstract;
  if (code == "status") return Role::kStatus;
  if (code == "inactive") return Role::kInactive;
  return Role::kOther;
}

// concept.property.value[x] as text: the code of a Coding, the literal text
// of anything else.
std::string property_value(json::Value prop) {
  for (std::size_t i = 0; i < prop.size(); ++i) {
    std::string_view k = prop.key(i);
    if (k.substr(0, 5) != "value") continue;
    json::Value v = prop[i];
    if (k == "valueCoding") return std::string(v.find("code").str());
    if (v.is_scalar()) return std::string(v.str());
  }
  return {};
}

void add_edge(std::vector<CsConcept>& cs, std::uint32_t parent, std::uint32_t child) {
  if (parent == child) return;
  auto& kids = cs[parent].children;
  if (std::find(kids.begin(), kids.end(), child) != kids.end()) return;
  kids.push_back(child);
  cs[child].parents.push_back(parent);
}

// Splits the value of an `in` / `not-in` filter ("a,b, c").
std::vector<std::string_view> split_list(std::string_view value) {
  std::vector<std::string_view> out;
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const CodeSystemIndex>> CodeSystemIndex::build(json::Value root,
                                                                      std::size_t max_concepts) {
  if (!root.is_object() || root.find("resourceType").str() != "CodeSystem") {
    return fail(ErrorCode::kInvalidArgument, "terminology: resource is not a CodeSystem");
  }
  auto cs = std::make_shared<CodeSystemIndex>();
  cs->url_ = std::string(root.find("url").str());
  cs->version_ = std::string(root.find("version").str());
  std::string_view content = root.find("content").str();
  if (content == "complete")
    cs->content_ = Content::kComplete;
  else if (content == "fragment")
    cs->content_ = Content::kFragment;
  else if (content == "example")
    cs->content_ = Content::kExample;
  else if (content == "supplement")
    cs->content_ = Content::kSupplement;
  else
    cs->content_ = Content::kNotPresent;  // "not-present", absent or unknown: trust nothing
  json::Value cs_flag = root.find("caseSensitive");
  cs->case_sensitive_ = !cs_flag.is_bool() || cs_flag.boolean();

  StringMap<Role> roles;
  for (json::Value p : root.find("property").items()) {
    std::string_view code = p.find("code").str();
    if (code.empty()) continue;
    roles.emplace(std::string(code), role_of(code, p.find("uri").str()));
    cs->declared_.emplace_back(code);
  }
  auto role = [&](std::string_view code) {
    auto it = roles.find(code);
    return it != roles.end() ? it->second : role_of(code, {});
  };

  // Flatten nested concepts with an explicit stack (no recursion: nesting
  // depth is bounded only by the JSON parser's limit).
  struct Pending {
    json::Value node;
    std::int64_t parent;  // -1 at top level
  };
  std::vector<Pending> stack;
  {
    json::Value top = root.find("concept");
    for (std::size_t i = top.size(); i-- > 0;) stack.push_back({top[i], -1});
  }
  std::vector<std::pair<std::uint32_t, std::string>> parent_links;  // (concept, parent code)
  std::vector<std::pair<std::uint32_t, std::string>> child_links;   // (concept, child code)
  while (!stack.empty()) {
    Pending p = stack.back();
    stack.pop_back();
    std::string_view code = p.node.find("code").str();
    if (!p.node.find("code").is_string() || code.empty()) continue;
    std::string key = cs->normalize(code);
    std::uint32_t idx;
    std::int64_t found = cs->index_.find(key, cs->keys());
    if (found != FlatIndex::kNone) {
      idx = static_cast<std::uint32_t>(found);  // duplicate code: first definition wins, links merge
    } else {
      if (cs->concepts_.size() >= max_concepts) {
        return fail(ErrorCode::kLimit, "terminology: CodeSystem has too many concepts", cs->url_);
      }
      idx = static_cast<std::uint32_t>(cs->concepts_.size());
      if (!cs->case_sensitive_) cs->folded_.push_back(std::move(key));
      CsConcept c;
      c.code = std::string(code);
      c.display = std::string(p.node.find("display").str());
      for (json::Value d : p.node.find("designation").items()) {
        if (d.find("value").is_string()) c.designations.emplace_back(d.find("value").str());
      }
      for (json::Value prop : p.node.find("property").items()) {
        std::string_view pcode = prop.find("code").str();
        if (pcode.empty()) continue;
        std::string value = property_value(prop);
        switch (role(pcode)) {
          case Role::kParent:
            parent_links.emplace_back(idx, value);
            break;
          case Role::kChild:
            child_links.emplace_back(idx, value);
            break;
          case Role::kAbstract:
            c.abstract = c.abstract || value == "true";
            break;
          case Role::kStatus:
            c.inactive = c.inactive || value == "retired" || value == "inactive";
            break;
          case Role::kInactive:
            c.inactive = c.inactive || value == "true";
            break;
          case Role::kOther:
            break;
        }
        if (std::find(cs->declared_.begin(), cs->declared_.end(), pcode) == cs->declared_.end()) {
          cs->declared_.emplace_back(pcode);  // used but undeclared: still filterable
        }
        c.properties.emplace_back(std::string(pcode), std::move(value));
      }
      cs->concepts_.push_back(std::move(c));
      cs->index_.add(idx, cs->keys());
    }
    if (p.parent >= 0) add_edge(cs->concepts_, static_cast<std::uint32_t>(p.parent), idx);
    json::Value kids = p.node.find("concept");
    for (std::size_t i = kids.size(); i-- > 0;) stack.push_back({kids[i], idx});
  }
  // Property links are resolved after all concepts are known: a concept may
  // name a parent that is defined later in the file.
  for (const auto& [idx, code] : parent_links) {
    if (auto parent = cs->find(code)) add_edge(cs->concepts_, *parent, idx);
  }
  for (const auto& [idx, code] : child_links) {
    if (auto child = cs->find(code)) add_edge(cs->concepts_, idx, *child);
  }
  return std::shared_ptr<const CodeSystemIndex>(std::move(cs));
}

std::optional<std::uint32_t> CodeSystemIndex::find(std::string_view code) const {
  std::int64_t i = case_sensitive_ ? index_.find(code, keys()) : index_.find(fold_case(code), keys());
  if (i == FlatIndex::kNone) return std::nullopt;
  return static_cast<std::uint32_t>(i);
}

void CodeSystemIndex::mark_descendants(std::uint32_t root, std::vector<bool>& mark) const {
  std::vector<bool> seen(concepts_.size(), false);
  std::vector<std::uint32_t> work{root};
  seen[root] = true;
  while (!work.empty()) {
    std::uint32_t i = work.back();
    work.pop_back();
    for (std::uint32_t k : concepts_[i].children) {
      if (seen[k]) continue;
      seen[k] = true;
      mark[k] = true;
      work.push_back(k);
    }
  }
}

void CodeSystemIndex::mark_ancestors(std::uint32_t root, std::vector<bool>& mark) const {
  std::vector<bool> seen(concepts_.size(), false);
  std::vector<std::uint32_t> work{root};
  seen[root] = true;
  while (!work.empty()) {
    std::uint32_t i = work.back();
    work.pop_back();
    for (std::uint32_t k : concepts_[i].parents) {
      if (seen[k]) continue;
      seen[k] = true;
      mark[k] = true;
      work.push_back(k);
    }
  }
}

// Filters return a mask rather than a list so that several filters of one
// include AND together cheaply. Operators on `concept`/`code` follow R4's
// FilterOperator table; unknown operators, properties the CodeSystem does not
// know and regexes RE2 rejects give nullopt, which the caller turns into
// "cannot check" instead of a wrong "not a member". RE2 (linear time, no
// backtracking) keeps a hostile `regex` filter from stalling a request.
std::optional<std::vector<bool>> CodeSystemIndex::filter(std::string_view property,
                                                         std::string_view op,
                                                         std::string_view value) const {
  const std::size_t n = concepts_.size();
  std::vector<bool> mark(n, false);
  auto negate = [&] { mark.flip(); };

  if (property == "concept" || property == "code") {
    std::optional<std::uint32_t> at = find(value);
    if (op == "is-a" || op == "descendent-of" || op == "is-not-a") {
      if (at) {
        mark_descendants(*at, mark);
        if (op != "descendent-of") mark[*at] = true;
      }
      if (op == "is-not-a") negate();
      return mark;
    }
    if (op == "generalizes") {
      if (at) {
        mark_ancestors(*at, mark);
        mark[*at] = true;
      }
      return mark;
    }
    if (op == "child-of") {
      if (at) {
        for (std::uint32_t k : concepts_[*at].children) mark[k] = true;
      }
      return mark;
    }
    if (op == "descendent-leaf") {
      if (at) {
        mark_descendants(*at, mark);
        for (std::size_t i = 0; i < n; ++i) mark[i] = mark[i] && concepts_[i].children.empty();
      }
      return mark;
    }
    if (op == "=") {
      if (at) mark[*at] = true;
      return mark;
    }
    if (op == "in" || op == "not-in") {
      for (std::string_view c : split_list(value)) {
        if (auto i = find(c)) mark[*i] = true;
      }
      if (op == "not-in") negate();
      return mark;
    }
    if (op == "regex") {
      RE2 re(re2::StringPiece(value.data(), value.size()), RE2::Quiet);
      if (!re.ok()) return std::nullopt;
      for (std::size_t i = 0; i < n; ++i) {
        const std::string& c = concepts_[i].code;
        mark[i] = RE2::FullMatch(re2::StringPiece(c.data(), c.size()), re);
      }
      return mark;
    }
    if (op == "exists") {
      if (value == "true") negate();
      return mark;
    }
    return std::nullopt;
  }

  // Any other property: the concept's values for it. Hierarchy links are
  // answered from the graph so nested and property-linked systems agree.
  Role r = role_of(property, {});
  if (r != Role::kParent && r != Role::kChild && property != "display" &&
      std::find(declared_.begin(), declared_.end(), property) == declared_.end()) {
    return std::nullopt;  // a property this CodeSystem does not know: cannot decide
  }
  std::vector<std::string_view> values;
  auto values_of = [&](std::size_t i) -> const std::vector<std::string_view>& {
    values.clear();
    const CsConcept& c = concepts_[i];
    if (r == Role::kParent) {
      for (std::uint32_t p : c.parents) values.push_back(concepts_[p].code);
    } else if (r == Role::kChild) {
      for (std::uint32_t k : c.children) values.push_back(concepts_[k].code);
    } else if (property == "display") {
      values.push_back(c.display);
    } else {
      for (const auto& [code, v] : c.properties) {
        if (code == property) values.push_back(v);
      }
    }
    return values;
  };

  if (op == "=" || op == "in" || op == "not-in") {
    std::vector<std::string_view> wanted;
    if (op == "=")
      wanted.push_back(value);
    else
      wanted = split_list(value);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::string_view v : values_of(i)) {
        if (std::find(wanted.begin(), wanted.end(), v) != wanted.end()) {
          mark[i] = true;
          break;
        }
      }
    }
    if (op == "not-in") negate();
    return mark;
  }
  if (op == "regex") {
    RE2 re(re2::StringPiece(value.data(), value.size()), RE2::Quiet);
    if (!re.ok()) return std::nullopt;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::string_view v : values_of(i)) {
        if (RE2::FullMatch(re2::StringPiece(v.data(), v.size()), re)) {
          mark[i] = true;
          break;
        }
      }
    }
    return mark;
  }
  if (op == "exists") {
    if (value != "true" && value != "false") return std::nullopt;
    for (std::size_t i = 0; i < n; ++i) mark[i] = !values_of(i).empty();
    if (value == "false") negate();
    return mark;
  }
  return std::nullopt;
}

}  // namespace gw::terminology::detail
