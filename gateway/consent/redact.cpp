// The redaction engine: find the resources in the input, let the policy's
// rules mark what belongs to denied categories, plan what survives, and
// write the result (write.cpp).
//
// Marking and planning are separate on purpose. Rules only say "this node
// is immigration status"; the plan then works out the consequences, bottom
// up, the same way for every rule:
//   1. a marked node is dropped (or its address coarsened);
//   2. a Reference to a removed resource is dropped (it would dangle);
//   3. an element that had content and now has none is dropped, and when it
//      was required (min >= 1) its parent goes too; at the top of a resource
//      that removes the resource, which can leave new references dangling,
//      so planning repeats until nothing changes (at most once per resource).
// Invariants the writer relies on:
//   (a) every JSON item the writer must skip is in RedactState::dropped;
//   (b) a removed resource is never written, nor any entry holding it;
//   (c) coarsen marks exist only on Address nodes that the plan kept.
#include "gateway/consent/consent.hpp"
#include "gateway/consent/detail/engine.hpp"
#include "gateway/core/swar.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace gw::consent {

namespace detail {

std::string PathStack::str() const {
  std::string s;
  for (const Step& st : steps_) {
    if (!s.empty()) s += '.';
    s += st.name;
    if (st.index >= 0) {
      s += '[';
      s += std::to_string(st.index);
      s += ']';
    }
  }
  return s;
}

namespace {

// High bit set in each byte of `w` that is an ASCII capital letter. Exact
// per byte: the sums stay inside their byte (7-bit values plus at most
// 0x3F), so nothing carries into a neighbour.
std::uint64_t capitals(std::uint64_t w) {
  const std::uint64_t low7 = w & (swar::kOnes * 0x7F);
  const std::uint64_t at_least_a = low7 + swar::kOnes * (0x80 - 'A');
  const std::uint64_t past_z = low7 + swar::kOnes * (0x80 - 'Z' - 1);
  return at_least_a & ~past_z & ~w & swar::kHighs;
}

}  // namespace

void append_normalised(std::string& out, std::string_view s) {
  // Written through a pointer into room of the input's size (the output is
  // never longer): the verifier normalises every text it reads, and a
  // push_back per byte was the release's top frame.
  const std::size_t start = out.size();
  out.resize(start + s.size());
  char* const begin = out.data() + start;
  char* o = begin;
  bool space = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Up to eight bytes at once: those before the first one that is a
    // space or control (<= 0x20) or 0xC2 (a no-break space may start there),
    // which the byte step below then takes. Capitals are lowered in the word
    // (bit 0x20 set), as the byte step does. All eight bytes are stored and
    // only the plain ones counted: `o` trails `i` by at least the pending
    // space, so the store stays inside the room made above.
    while (i + 8 <= s.size()) {
      std::uint64_t w = swar::load_word(s.data() + i);
      const std::uint64_t stop = swar::bytes_below(w, 0x21) | swar::bytes_equal(w, 0xC2);
      const std::size_t plain = stop == 0 ? 8 : static_cast<std::size_t>(std::countr_zero(stop)) / 8;
      if (plain == 0) break;
      if (space) {
        *o++ = ' ';
        space = false;
      }
      w |= capitals(w) >> 2;
      std::memcpy(o, &w, 8);
      o += plain;
      i += plain;
    }
    if (i >= s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    // U+00A0 (no-break space) counts as a space too.
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
      ws = true;
      ++i;
    }
    if (ws) {
      space = o != begin;
      continue;
    }
    if (space) {
      *o++ = ' ';
      space = false;
    }
    *o++ = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  }
  out.resize(start + static_cast<std::size_t>(o - begin));
}

std::string normalise_text(std::string_view s) {
  std::string out;
  append_normalised(out, s);
  return out;
}

}  // namespace detail

namespace {

using detail::Mark;
using detail::PathStack;
using detail::RedactState;
using detail::ResourceInfo;
using detail::Rule;
using detail::RuleKind;

constexpr std::size_t kMinValueLength = 4;

bool in_list(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool coding_in(const std::vector<Coding>& list, std::string_view system, std::string_view code) {
  return std::any_of(list.begin(), list.end(),
                     [&](const Coding& c) { return c.system == system && c.code == code; });
}

// Strips "/_history/<v>" from a reference.
std::string_view without_history(std::string_view ref) {
  std::size_t h = ref.find("/_history/");
  return h == std::string_view::npos ? ref : ref.substr(0, h);
}

// The last "Type/id" of a relative or absolute reference ("" if none).
std::string_view type_and_id(std::string_view ref) {
  std::size_t last = ref.rfind('/');
  if (last == std::string_view::npos || last == 0) return {};
  std::size_t prev = ref.rfind('/', last - 1);
  return prev == std::string_view::npos ? ref : ref.substr(prev + 1);
}

// Whether `t` is the type called `name`. Through a view, because a
// std::string compared with a char* literal runs strlen and then compares,
// while a view checks the length first: these tests run on every node of
// every release.
bool named(const fhir::TypeDef* t, std::string_view name) { return std::string_view(t->name) == name; }

class Redactor {
 public:
  explicit Redactor(RedactState& s) : s_(s) {}

  Status run(json::Value input);

 private:
  // --- discovery ---
  void discover(const fhir::Node& node, int current, PathStack& path, std::uint32_t depth);
  // --- marking ---
  Status mark_resource(int r);
  void mark_walk(const fhir::Node& node, const fhir::Node* parent, int r, std::uint32_t depth);
  void apply(const Rule& rule, int rule_index, const fhir::Node& node, int r);
  void apply_resource(int r, int rule_index, int category);
  void mark(const fhir::Node& node, Mark m);
  // --- planning ---
  bool effectively_removed(int r) const;
  void rebuild_removed_targets();
  struct PlanResult {
    bool content = false;
    bool required_emptied = false;
  };
  PlanResult plan_object(json::Value obj, const fhir::TypeDef* type, int r, PathStack& path,
                         std::uint32_t depth);
  bool plan_item(json::Value v, json::Value e, const fhir::TypeDef::KeyMatch& m, int r,
                 PathStack& path, std::uint32_t depth);
  bool plan_coarsen(json::Value v, int rule_index, int r, PathStack& path);
  bool dangling(json::Value ref, int r) const;
  void record(Removal::Action a, int r, const PathStack& path, int rule, int category,
              bool modifies = true);
  void note_retained(json::Value v, const fhir::TypeDef* t, const fhir::TypeDef* parent);
  // --- values ---
  void collect_values(json::Value v, json::Value e, const fhir::TypeDef* t, bool include_refs,
                      std::uint32_t depth);
  void collect_object(json::Value obj, const fhir::TypeDef* t, bool include_refs,
                      std::uint32_t depth);
  void add_value(std::string_view raw, std::unordered_set<std::string>& into);

  // `_name` of a member, built in a reused buffer.
  json::Value underscore_sibling(json::Value obj, std::string_view key) {
    underscore_.assign(1, '_');
    underscore_.append(key);
    return obj.find(underscore_);
  }

  RedactState& s_;
  detail::ChildrenByDepth kids_;  // children of the nodes being walked
  std::string underscore_;
};

// ---------------------------------------------------------------------------
// Discovery: every resource in the input, with its path and reference keys.

void Redactor::discover(const fhir::Node& node, int current, PathStack& path, std::uint32_t depth) {
  if (depth > s_.policy.max_depth) {
    s_.limit_hit = true;
    return;
  }
  std::vector<fhir::Node>& kids = kids_.at(depth);
  s_.model.children(node, kids);
  for (std::size_t i = 0; i < kids.size(); ++i) {
    const fhir::Node k = kids[i];  // a copy: deeper walks reuse other vectors only
    if (!k.type) continue;
    path.push(k.name, k.index);
    if (k.is_resource()) {
      ResourceInfo info;
      info.node = k;
      info.path = path.str();
      info.type = k.type->name;
      info.id = std::string(k.value.find("id").str());
      info.parent = current;
      info.contained = k.name == "contained";
      if (node.type && named(node.type, "Bundle.entry"))
        info.full_url = std::string(node.value.find("fullUrl").str());
      int index = static_cast<int>(s_.resources.size());
      info.scope = info.contained ? s_.resources[static_cast<std::size_t>(current)].scope : index;
      info.released.assign(s_.policy.categories.size(), false);
      s_.resource_at[k.value.offset()] = index;
      s_.resources.push_back(std::move(info));
      discover(k, index, path, depth + 1);
    } else {
      discover(k, current, path, depth + 1);
    }
    path.pop();
  }
}

// ---------------------------------------------------------------------------
// Marking: the rules of denied categories put marks on nodes; rules of
// permitted categories only note that such data is released (for the
// confidentiality label).

void Redactor::mark(const fhir::Node& node, Mark m) {
  std::uint32_t key = detail::node_key(node.value, node.extension_part);
  auto [it, inserted] = s_.marks.emplace(key, m);
  if (inserted) return;
  // Strongest action wins: remove > coarsen > free text.
  auto strength = [](Mark::Kind k) {
    switch (k) {
      case Mark::Kind::kRemove:
        return 3;
      case Mark::Kind::kCoarsen:
        return 2;
      default:
        return 1;
    }
  };
  if (strength(m.kind) > strength(it->second.kind)) it->second = m;
}

void Redactor::apply(const Rule& rule, int rule_index, const fhir::Node& node, int r) {
  if (s_.permitted(rule.category)) {
    s_.resources[static_cast<std::size_t>(r)].released[static_cast<std::size_t>(rule.category)] =
        true;
    return;
  }
  Mark m;
  m.kind = rule.action == detail::RuleAction::kCoarsen ? Mark::Kind::kCoarsen : Mark::Kind::kRemove;
  m.rule = rule_index;
  mark(node, m);
}

void Redactor::apply_resource(int r, int rule_index, int category) {
  ResourceInfo& info = s_.resources[static_cast<std::size_t>(r)];
  if (category >= 0 && s_.permitted(category)) {
    info.released[static_cast<std::size_t>(category)] = true;
    return;
  }
  if (info.removed && info.removed_rule >= 0) return;
  info.removed = true;
  info.removed_rule = rule_index;
  info.removed_action = category >= 0 ? Removal::Action::kRemoved : Removal::Action::kFreeText;
  info.removed_category = category;
}

void Redactor::mark_walk(const fhir::Node& node, const fhir::Node* parent, int r,
                         std::uint32_t depth) {
  if (depth > s_.policy.max_depth) {
    s_.limit_hit = true;
    return;
  }
  const auto& rules = s_.policy.rules;
  // A view: see named().
  const std::string_view tname = node.type->name;
  if (tname == "Extension") {
    std::string_view url = node.value.find("url").str();
    for (std::size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].kind == RuleKind::kExtension && in_list(rules[i].extension_urls, url)) {
        apply(rules[i], static_cast<int>(i), node, r);
      }
    }
  } else if (tname == "Identifier") {
    std::string_view system = node.value.find("system").str();
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const Rule& rule = rules[i];
      if (rule.kind != RuleKind::kIdentifier) continue;
      bool hit = !system.empty() && in_list(rule.identifier_systems, system);
      for (json::Value c : node.value.find("type").find("coding").items()) {
        hit = hit || coding_in(rule.identifier_types, c.find("system").str(), c.find("code").str());
      }
      if (hit) apply(rule, static_cast<int>(i), node, r);
    }
  } else if (tname == "Coding") {
    std::string_view system = node.value.find("system").str();
    std::string_view code = node.value.find("code").str();
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const Rule& rule = rules[i];
      if (rule.kind != RuleKind::kCode || !coding_in(rule.codes, system, code)) continue;
      const ResourceInfo& info = s_.resources[static_cast<std::size_t>(r)];
      if (in_list(rule.remove_resource_types, info.type)) {
        apply_resource(r, static_cast<int>(i), rule.category);
      } else if (parent && parent->type && named(parent->type, "CodeableConcept")) {
        apply(rule, static_cast<int>(i), *parent, r);
      } else {
        apply(rule, static_cast<int>(i), node, r);
      }
    }
  } else if (tname == "Reference") {
    std::string_view ref = node.value.find("reference").str();
    if (ref.size() > 1 && ref[0] == '#') {
      int scope = s_.resources[static_cast<std::size_t>(r)].scope;
      s_.input_local_refs.insert(std::to_string(scope) + std::string(ref));
    }
  } else if (tname == "Annotation" && s_.policy.remove_notes) {
    mark(node, Mark{Mark::Kind::kFreeText, -1});
  } else if (tname == "Attachment" && s_.policy.remove_attachments) {
    mark(node, Mark{Mark::Kind::kFreeText, -1});
  } else if (tname == "Narrative") {
    mark(node, Mark{Mark::Kind::kNarrative, -1});
  }
  std::vector<fhir::Node>& kids = kids_.at(depth);
  s_.model.children(node, kids);
  for (std::size_t i = 0; i < kids.size(); ++i) {
    if (!kids[i].type || kids[i].is_resource())
      continue;  // nested resources are marked on their own
    mark_walk(kids[i], &node, r, depth + 1);
  }
}

Status Redactor::mark_resource(int r) {
  ResourceInfo& info = s_.resources[static_cast<std::size_t>(r)];
  const auto& rules = s_.policy.rules;
  // Whole-resource rules: resource types, and security labels that name a category.
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].kind == RuleKind::kResourceType && in_list(rules[i].resource_types, info.type)) {
      apply_resource(r, static_cast<int>(i), rules[i].category);
    }
  }
  for (json::Value label : info.node.value.find("meta").find("security").items()) {
    for (std::size_t c = 0; c < s_.policy.categories.size(); ++c) {
      if (coding_in(s_.policy.categories[c].labels, label.find("system").str(),
                    label.find("code").str())) {
        apply_resource(r, -1, static_cast<int>(c));
      }
    }
  }
  if (info.type == "Binary" && s_.policy.remove_attachments) apply_resource(r, -1, -1);
  // Selectors.
  const fhir::Node& root = s_.resources.front().node;
  std::vector<fhir::Node> selected;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    if (rule.kind != RuleKind::kSelect) continue;
    const std::string& type = rule.selector->resource_type();
    if (!type.empty() && type != info.type) continue;
    selected.clear();
    GW_CHECK_OK(rule.selector->select(info.node, root, selected));
    for (const fhir::Node& n : selected) apply(rule, static_cast<int>(i), n, r);
  }
  // Extensions, identifiers, codes and free text anywhere in the resource.
  mark_walk(info.node, nullptr, r, 0);
  return {};
}

// ---------------------------------------------------------------------------
// Planning.

bool Redactor::effectively_removed(int r) const {
  for (int i = r; i >= 0; i = s_.resources[static_cast<std::size_t>(i)].parent) {
    if (s_.resources[static_cast<std::size_t>(i)].removed) return true;
  }
  return false;
}

void Redactor::rebuild_removed_targets() {
  s_.removed_urls.clear();
  s_.removed_local.clear();
  for (std::size_t i = 0; i < s_.resources.size(); ++i) {
    const ResourceInfo& info = s_.resources[i];
    if (!effectively_removed(static_cast<int>(i))) continue;
    if (!info.full_url.empty()) s_.removed_urls.insert(info.full_url);
    if (info.id.empty()) continue;
    if (info.contained) {
      s_.removed_local.insert(std::to_string(info.scope) + "#" + info.id);
    } else {
      s_.removed_urls.insert(info.type + "/" + info.id);
    }
  }
}

bool Redactor::dangling(json::Value ref, int r) const {
  json::Value target = ref.find("reference");
  if (target.is_string()) {
    std::string_view t = target.str();
    if (!t.empty() && t[0] == '#') {
      if (t.size() == 1) return false;  // the container itself
      int scope = s_.resources[static_cast<std::size_t>(r)].scope;
      return s_.removed_local.count(std::to_string(scope) + std::string(t)) > 0;
    }
    t = without_history(t);
    if (s_.removed_urls.count(std::string(t))) return true;
    std::string_view tail = type_and_id(t);
    if (!tail.empty()) {
      if (s_.removed_urls.count(std::string(tail))) return true;
      std::string_view type = tail.substr(0, tail.find('/'));
      if (s_.denied_ref_types.count(std::string(type))) return true;
    }
  }
  std::string_view type = ref.find("type").str();
  constexpr std::string_view kSdBase = "http://hl7.org/fhir/StructureDefinition/";
  if (type.rfind(kSdBase, 0) == 0) type.remove_prefix(kSdBase.size());
  return !type.empty() && s_.denied_ref_types.count(std::string(type)) > 0;
}

void Redactor::record(Removal::Action a, int r, const PathStack& path, int rule, int category,
                      bool modifies) {
  ResourceInfo& info = s_.resources[static_cast<std::size_t>(r)];
  Removal rem;
  rem.action = a;
  rem.path = path.size() ? info.path + "." + path.str() : info.path;
  if (rule >= 0) {
    const Rule& ru = s_.policy.rules[static_cast<std::size_t>(rule)];
    rem.rule = ru.id;
    category = ru.category;
  }
  if (category >= 0) rem.category = s_.policy.categories[static_cast<std::size_t>(category)].code;
  s_.removals.push_back(std::move(rem));
  if (modifies) info.modified = true;
}

// A string the output keeps as a whole value legitimately says what it
// says: when a removed value is equal to it (the patient's city is also the
// clinic's city), finding it again is no leak. Identifier values are not
// counted, so a passport number copied into another identifier is still
// hunted.
void Redactor::note_retained(json::Value v, const fhir::TypeDef* t, const fhir::TypeDef* parent) {
  if (!t || !v.is_string() || !(named(t, "string") || named(t, "markdown"))) return;
  if (named(parent, "Identifier")) return;
  if (v.str().size() >= kMinValueLength && v.str().size() <= 200)
    add_value(v.str(), s_.retained_terms);
}

void Redactor::add_value(std::string_view raw, std::unordered_set<std::string>& into) {
  std::string n = detail::normalise_text(raw);
  if (n.size() >= kMinValueLength) into.insert(std::move(n));
}

void Redactor::collect_values(json::Value v, json::Value e, const fhir::TypeDef* t,
                              bool include_refs, std::uint32_t depth) {
  if (!t || depth > s_.policy.max_depth) return;
  if (t->kind == fhir::TypeKind::kPrimitive) {
    if ((named(t, "string") || named(t, "markdown")) && v.is_string())
      add_value(v.str(), s_.removed_values);
    // The `_x` part holds id and extensions, members of the primitive's type.
    if (e.is_object()) collect_object(e, t, include_refs, depth + 1);
    return;
  }
  if (named(t, "Meta") || named(t, "Narrative")) return;
  if (named(t, "Reference") && !include_refs) return;
  if (t->kind == fhir::TypeKind::kResource) include_refs = false;
  if (v.is_object()) collect_object(v, t, include_refs, depth + 1);
}

void Redactor::collect_object(json::Value obj, const fhir::TypeDef* t, bool include_refs,
                              std::uint32_t depth) {
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view key = obj.key(i);
    bool underscore = !key.empty() && key[0] == '_';
    // Ids and reference targets are structure (and point at other things);
    // as "removed values" they would only cause false alarms.
    if (key == "id" || key == "reference") continue;
    // In a resource removed as a whole, coding displays are terminology
    // ("Area", "Social History"), not the patient's data; in a removed
    // element (a nationality, a birthplace) the display is the value.
    if (!include_refs && key == "display" && named(t, "Coding")) continue;
    fhir::TypeDef::KeyMatch m = t->match_key(underscore ? key.substr(1) : key);
    if (!m.element) continue;
    auto one = [&](json::Value x) {
      const fhir::TypeDef* et = s_.model.value_type(m, x);
      if (underscore) {
        collect_values(json::Value(), x, et, include_refs, depth);
      } else {
        collect_values(x, json::Value(), et, include_refs, depth);
      }
    };
    json::Value item = obj[i];
    if (item.is_array()) {
      for (json::Value x : item.items()) one(x);
    } else {
      one(item);
    }
  }
}

bool Redactor::plan_coarsen(json::Value v, int rule_index, int r, PathStack& path) {
  const Rule& rule = s_.policy.rules[static_cast<std::size_t>(rule_index)];
  // Keep the country (and the state/region at "region" level); every other
  // member goes, and its string values become removed values.
  bool keep_state = rule.coarsen == detail::CoarsenLevel::kRegion;
  bool content = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string_view key = v.key(i);
    if (key == "country" && v[i].is_string()) {
      content = true;
      continue;
    }
    if (keep_state && key == "state" && v[i].is_string()) {
      content = true;
      continue;
    }
    bool underscore = !key.empty() && key[0] == '_';
    fhir::TypeDef::KeyMatch m =
        s_.model.type("Address")->match_key(underscore ? key.substr(1) : key);
    if (!m.element) continue;
    json::Value item = v[i];
    auto one = [&](json::Value x) {
      const fhir::TypeDef* et = s_.model.value_type(m, x);
      if (underscore) {
        collect_values(json::Value(), x, et, true, 0);
      } else {
        collect_values(x, json::Value(), et, true, 0);
      }
    };
    if (item.is_array()) {
      for (json::Value x : item.items()) one(x);
    } else {
      one(item);
    }
  }
  record(Removal::Action::kCoarsened, r, path, rule_index, -1);
  return content;
}

bool Redactor::plan_item(json::Value v, json::Value e, const fhir::TypeDef::KeyMatch& m, int r,
                         PathStack& path, std::uint32_t depth) {
  if (depth > s_.policy.max_depth) {
    s_.limit_hit = true;
    return false;
  }
  const fhir::TypeDef* t = s_.model.value_type(m, v);
  if (!t) {
    record(Removal::Action::kUnknown, r, path, -1, -1);
    return false;
  }
  if (const Mark* mk = s_.mark_of(v, e)) {
    switch (mk->kind) {
      case Mark::Kind::kRemove:
        record(Removal::Action::kRemoved, r, path, mk->rule, -1);
        collect_values(v, e, t, true, depth);
        return false;
      case Mark::Kind::kFreeText:
        record(Removal::Action::kFreeText, r, path, -1, -1);
        return false;
      case Mark::Kind::kNarrative:
        // A regenerated narrative says only what the output says anyway, so
        // it does not by itself make the resource "redacted".
        record(Removal::Action::kFreeText, r, path, -1, -1,
               s_.policy.narrative == detail::NarrativeAction::kRemove);
        return s_.policy.narrative == detail::NarrativeAction::kRegenerate;
      case Mark::Kind::kCoarsen:
        if (named(t, "Address") && v.is_object()) {
          return plan_coarsen(v, mk->rule, r, path);
        }
        // Only addresses can be coarsened; anything else is removed.
        record(Removal::Action::kRemoved, r, path, mk->rule, -1);
        collect_values(v, e, t, true, depth);
        return false;
    }
  }
  if (t->kind == fhir::TypeKind::kResource) {
    auto it = s_.resource_at.find(v.offset());
    GW_ASSERT(it != s_.resource_at.end(), "nested resource missed by discovery");
    const ResourceInfo& nested = s_.resources[static_cast<std::size_t>(it->second)];
    if (nested.removed) {
      record(nested.removed_action, r, path, nested.removed_rule, nested.removed_category);
      return false;
    }
    return true;
  }
  if (named(t, "Reference") && v.is_object()) {
    if (dangling(v, r)) {
      record(Removal::Action::kDangling, r, path, -1, -1);
      return false;
    }
    std::string_view ref = v.find("reference").str();
    if (ref.size() > 1 && ref[0] == '#') {
      int scope = s_.resources[static_cast<std::size_t>(r)].scope;
      s_.kept_local_refs.insert(std::to_string(scope) + std::string(ref));
    }
  }
  if (t->kind == fhir::TypeKind::kPrimitive) {
    bool content = v && !v.is_null();
    if (e.is_object()) {
      // The `_x` part goes on its own when nothing in it survives.
      bool ext_content = plan_object(e, t, r, path, depth + 1).content;
      if (!ext_content) s_.dropped.insert(e.offset());
      content = content || ext_content;
    }
    return content;
  }
  if (!v.is_object()) {
    record(Removal::Action::kUnknown, r, path, -1, -1);
    return false;
  }
  PlanResult res = plan_object(v, t, r, path, depth + 1);
  bool kept = res.content && !res.required_emptied;
  if (!kept && res.required_emptied) record(Removal::Action::kEmptied, r, path, -1, -1);
  return kept;
}

Redactor::PlanResult Redactor::plan_object(json::Value obj, const fhir::TypeDef* type, int r,
                                           PathStack& path, std::uint32_t depth) {
  PlanResult result;
  bool essential_dropped = false;
  bool lost = false, substantive = false;
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view key = obj.key(i);
    if (key == "resourceType") continue;
    bool underscore = !key.empty() && key[0] == '_';
    std::string_view base = underscore ? key.substr(1) : key;
    if (underscore && obj.find(base)) continue;  // planned with its value
    fhir::TypeDef::KeyMatch m = type->match_key(base);
    if (!m.element) {
      // The key itself is not named: a key the model does not know could be
      // anything, data included, and paths go into receipts.
      path.push("(unknown member)", -1);
      record(Removal::Action::kUnknown, r, path, -1, -1);
      path.pop();
      continue;
    }
    json::Value v = underscore ? json::Value() : obj[i];
    json::Value e = underscore ? obj[i] : underscore_sibling(obj, key);
    bool had = false, kept_any = false;
    const fhir::TypeDef* probe = s_.model.value_type(m, v.is_array() ? v[0] : v);
    bool trivial = probe && probe->kind == fhir::TypeKind::kPrimitive &&
                   (named(probe, "code") || named(probe, "boolean"));
    if (v.is_array() || e.is_array()) {
      std::size_t n = std::max(v.is_array() ? v.size() : 0, e.is_array() ? e.size() : 0);
      for (std::size_t j = 0; j < n; ++j) {
        json::Value iv = v.is_array() ? v[j] : json::Value();
        json::Value ie = e.is_array() ? e[j] : json::Value();
        if (iv.is_null()) iv = json::Value();
        if (ie.is_null()) ie = json::Value();
        if (!iv && !ie) continue;
        had = true;
        path.push(base, static_cast<std::int32_t>(j));
        bool kept = plan_item(iv, ie, m, r, path, depth);
        path.pop();
        if (kept) {
          kept_any = true;
          note_retained(iv, probe, type);
        } else {
          lost = true;
          s_.dropped.insert(detail::node_key(iv, ie));
        }
      }
    } else {
      if (v.is_null()) v = json::Value();
      if (v || e) {
        had = true;
        path.push(base, -1);
        bool kept = plan_item(v, e, m, r, path, depth);
        path.pop();
        if (kept) {
          kept_any = true;
          note_retained(v, probe, type);
        } else {
          lost = true;
          s_.dropped.insert(detail::node_key(v, e));
        }
      }
    }
    if (had && !kept_any) {
      if (m.element->min >= 1) result.required_emptied = true;
      // An entry or parameter exists for its resource: without it, it goes.
      if (base == "resource" &&
          (named(type, "Bundle.entry") || named(type, "Parameters.parameter"))) {
        essential_dropped = true;
      }
    }
    if (kept_any && base != "id") result.content = true;
    if (kept_any && base != "id" && !trivial) substantive = true;
  }
  if (essential_dropped) result.content = false;
  // A backbone element that lost a part and keeps only codes and flags
  // (Appointment.participant reduced to its status) has lost its meaning.
  bool backbone = type->kind == fhir::TypeKind::kComplex && type->url.empty();
  if (backbone && lost && !substantive) result.content = false;
  return result;
}

Status Redactor::run(json::Value input) {
  auto root = s_.model.resource(input);
  if (!root) return root.error();
  ResourceInfo info;
  info.node = *root;
  info.path = root->type->name;
  info.type = root->type->name;
  info.id = std::string(input.find("id").str());
  info.released.assign(s_.policy.categories.size(), false);
  s_.resource_at[input.offset()] = 0;
  s_.resources.push_back(std::move(info));
  PathStack path;
  path.push(root->type->name, -1);  // the model owns the name: stable
  discover(*root, 0, path, 1);
  if (s_.limit_hit)
    return fail(ErrorCode::kLimit, "input nests deeper than the policy's depth limit");

  for (const Rule& rule : s_.policy.rules) {
    if (rule.kind == RuleKind::kResourceType && !s_.permitted(rule.category)) {
      for (const auto& t : rule.resource_types) s_.denied_ref_types.insert(t);
    }
  }
  if (s_.policy.remove_attachments) s_.denied_ref_types.insert("Binary");
  for (std::size_t r = 0; r < s_.resources.size(); ++r)
    GW_CHECK_OK(mark_resource(static_cast<int>(r)));
  if (s_.limit_hit)
    return fail(ErrorCode::kLimit, "input nests deeper than the policy's depth limit");

  // Plan until no further resource falls (each round removes at least one
  // resource or ends, so at most resources.size() + 1 rounds).
  for (std::size_t round = 0; round <= s_.resources.size(); ++round) {
    rebuild_removed_targets();
    s_.dropped.clear();
    s_.removals.clear();
    s_.removed_values.clear();
    s_.retained_terms.clear();
    s_.kept_local_refs.clear();
    for (auto& info : s_.resources) info.modified = false;
    bool changed = false;
    for (std::size_t r = 0; r < s_.resources.size(); ++r) {
      if (effectively_removed(static_cast<int>(r))) continue;
      ResourceInfo& info = s_.resources[r];
      PathStack rel;
      PlanResult res = plan_object(info.node.value, info.node.type, static_cast<int>(r), rel, 1);
      if (res.required_emptied) {
        info.removed = true;
        info.removed_action = Removal::Action::kEmptied;
        changed = true;
      }
    }
    if (s_.limit_hit)
      return fail(ErrorCode::kLimit, "input nests deeper than the policy's depth limit");
    // Contained resources whose every reference went (a practitioner named
    // only by a removed note) go too.
    for (std::size_t r = 0; r < s_.resources.size(); ++r) {
      ResourceInfo& info = s_.resources[r];
      if (!info.contained || info.id.empty() || effectively_removed(static_cast<int>(r))) continue;
      std::string key = std::to_string(info.scope) + "#" + info.id;
      if (s_.input_local_refs.count(key) && !s_.kept_local_refs.count(key)) {
        info.removed = true;
        info.removed_action = Removal::Action::kEmptied;
        changed = true;
      }
    }
    if (!changed) break;
  }
  // Values of resources removed by category rules (their references and
  // metadata excepted: those name other, retained things).
  for (std::size_t r = 0; r < s_.resources.size(); ++r) {
    const ResourceInfo& info = s_.resources[r];
    if (info.removed && info.removed_category >= 0) {
      collect_values(info.node.value, json::Value(), info.node.type, false, 1);
    }
  }
  if (s_.resources.front().removed) {
    const ResourceInfo& root_info = s_.resources.front();
    PathStack none;
    record(root_info.removed_action, 0, none, root_info.removed_rule, root_info.removed_category);
  }
  for (const std::string& t : s_.retained_terms) s_.removed_values.erase(t);
  return {};
}

}  // namespace

Result<Redaction> redact(const Policy& policy, const fhir::Model& model, json::Value input,
                         const Decision& decision) {
  const detail::CompiledPolicy& p = policy.compiled();
  GW_ASSERT(decision.permitted.size() == p.categories.size(), "decision made for another policy");
  RedactState state(p, model, decision);
  Redactor redactor(state);
  GW_CHECK_OK(redactor.run(input));

  Redaction out;
  out.removals = std::move(state.removals);
  out.removed_values.assign(state.removed_values.begin(), state.removed_values.end());
  std::sort(out.removed_values.begin(), out.removed_values.end());
  for (const std::string& u : state.removed_urls) out.removed_resources.push_back(u);
  std::sort(out.removed_resources.begin(), out.removed_resources.end());
  if (state.resources.front().removed) {
    out.root_withheld = true;
    return out;
  }
  GW_TRY(out.document, detail::write_output(state));
  return out;
}

}  // namespace gw::consent
