// The recursive core of a validation call: resources, elements, objects.
// See detail/walker.hpp for the shape of the walk.
#include "gateway/validation/detail/walker.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace gw::validation::detail {
namespace {

// JSON nesting is bounded by the parser (256); plans add a few frames per
// level. This bound only guards against a pathological profile chain.
constexpr std::uint32_t kMaxDepth = 600;

// Keys come from untrusted input: cap what an error message repeats.
std::string shown_key(std::string_view k) {
  std::string out(gw::utf8_prefix(k, 64));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return out;
}

std::string_view strip_version(std::string_view canonical) {
  auto bar = canonical.find('|');
  return bar == std::string_view::npos ? canonical : canonical.substr(0, bar);
}

std::string allowed_types(const ElementPlan& node) {
  std::string out;
  for (const TypeRule& t : node.types) {
    if (!out.empty()) out += ", ";
    out += t.code;
  }
  return out;
}

}  // namespace

const StructurePlan* Walker::plan_of(std::string_view canonical) {
  for (const PlanMemo& m : plan_memo_) {
    // The same address (a type rule's string) or the same text (each
    // entry's own meta.profile): sizes differ for most misses.
    if (m.size == canonical.size() &&
        (m.data == canonical.data() || std::memcmp(m.data, canonical.data(), m.size) == 0)) {
      return m.plan;
    }
  }
  const StructurePlan* plan = v_.plan(canonical);
  // Bounded: a hostile document's many distinct meta.profile strings are
  // looked up each time rather than growing a list searched linearly.
  if (plan_memo_.size() < 64) plan_memo_.push_back(PlanMemo{canonical.data(), canonical.size(), plan});
  return plan;
}

Walker::Walker(const Validator::Impl& v, std::vector<Issue>& out)
    : v_(v), out_(&out), root_out_(&out), scratch_(v.take_scratch()) {}

Walker::~Walker() { v_.give_back_scratch(std::move(scratch_)); }

std::size_t Walker::push_index(std::int32_t index) {
  std::size_t len = path_.size();
  // "[" digits "]" formatted in place: an int32 has at most 11 characters.
  // (32 bytes, not 16: GCC's -Warray-bounds cannot see that the append's
  // long-copy branch is never taken for this buffer.)
  char buf[32];
  buf[0] = '[';
  auto [p, ec] = std::to_chars(buf + 1, buf + sizeof buf - 1, index);
  (void)ec;
  *p++ = ']';
  path_.append(std::string_view(buf, static_cast<std::size_t>(p - buf)));
  return len;
}

void Walker::report(Issue::Severity sev, std::string_view code, json::Value at, std::string message) {
  Issue i;
  i.severity = sev;
  i.code = std::string(code);
  i.expression = path_.str();
  if (at) i.position = at.position();
  i.diagnostics = std::move(message);
  out_->push_back(std::move(i));
  // Only errors that reach the caller count (slice trials collect into a
  // list of their own).
  if (out_ == root_out_ && (sev == Issue::Severity::kError || sev == Issue::Severity::kFatal) &&
      max_errors_ > 0 && ++errors_ >= max_errors_) {
    stopped_ = true;
  }
}

void Walker::validate(json::Value root, std::span<const StructurePlan* const> profiles) {
  walk_resource(root, ResourceFrame{}, profiles);
}

// A resource (root, contained, Bundle entry, Parameters/outcome slot):
// check resourceType, push its frame (for %resource, contained references
// and the bundle it sits in), index it when it is a Bundle, then run the
// base pass and one profile pass per applicable profile. Profile passes
// walk only what their profile constrains, so a profile costs in
// proportion to its own size, not the resource's.
void Walker::walk_resource(json::Value obj, ResourceFrame f,
                           std::span<const StructurePlan* const> extra) {
  if (stopped_) return;
  if (!obj.is_object()) {
    error("structure", obj, "a resource must be a JSON object");
    return;
  }
  json::Value rt = obj.find("resourceType");
  if (!rt) {
    error("structure", obj, "the resource has no resourceType");
    return;
  }
  const fhir::TypeDef* type = rt.is_string() ? v_.model->type(rt.str()) : nullptr;
  if (!type || type->kind != fhir::TypeKind::kResource || type->name.find('.') != std::string::npos) {
    error("structure", rt, "unknown resourceType '" + shown_key(rt.str()) + "'");
    return;
  }
  if (type->is_abstract) {
    error("structure", rt, "resourceType '" + type->name + "' is abstract and cannot be instantiated");
    return;
  }
  if (path_.empty()) path_.assign(type->name);
  f.obj = obj;
  f.type = type;
  f.path_len = path_.size();
  frames_.push_back(&f);
  std::string saved_elem = elem_path_.str();
  elem_path_.assign(type->name);

  BundleScope* scope = nullptr;
  if (type == v_.t_bundle) {
    bundle_storage_.push_back(std::make_unique<BundleScope>());
    scope = bundle_storage_.back().get();
    scope->path = path_.str();
    scope->parent = bundles_.empty() ? nullptr : bundles_.back();
    index_bundle(obj, *scope);
    bundles_.push_back(scope);
  }

  Item item;
  item.value = obj;
  item.type = type;
  item.type_code = type->name;
  ObjContext none;
  if (const StructurePlan* base = v_.base_plan(type)) walk_item(*base->root, item, Mode::kBase, none);
  if (scope) check_bundle(*scope);

  auto run_profile = [&](const StructurePlan& plan, json::Value at) {
    if (!type->is_a(plan.type)) {
      error("structure", at, "profile " + plan.url + " is for type " + plan.type_name +
                                 ", not " + type->name);
      return;
    }
    if (plan.is_base) return;  // the base pass did it
    walk_item(*plan.root, item, Mode::kProfile, none);
  };
  if (v_.options.check_meta_profiles) {
    json::Value profiles = obj.find("meta").find("profile");
    std::int32_t i = 0;
    for (json::Value p : profiles.items()) {
      std::size_t len = push_key("meta");
      push_key("profile");
      push_index(i++);
      if (!p.is_string()) {
        pop(len);
        continue;
      }
      const StructurePlan* plan = plan_of(p.str());
      if (!plan) {
        warning("not-found", p, "profile " + shown_key(strip_version(p.str())) +
                                    " is unknown; the resource was not checked against it");
        pop(len);
        continue;
      }
      pop(len);
      run_profile(*plan, p);
    }
  }
  for (const StructurePlan* plan : extra) {
    if (plan) run_profile(*plan, obj);
  }

  if (scope) bundles_.pop_back();
  elem_path_.assign(saved_elem);
  frames_.pop_back();
}

// One element value against one plan node. Order matters: the type must
// be allowed before rules run (a wrong choice type reports once, not as a
// cascade), and a primitive's own format comes before rules about its value.
// Children come from the node itself when the snapshot lists them, from
// the shared base plan of the type otherwise (base pass only: a profile
// pass does not descend where its profile says nothing). Type profiles
// (type.profile) are separate profile passes on the same value.
void Walker::walk_item(const ElementPlan& node, const Item& item, Mode mode, const ObjContext& parent) {
  if (stopped_) return;
  if (depth_ >= kMaxDepth) {
    error("structure", item.anchor(), "content nested too deeply");
    return;
  }
  ++depth_;
  struct Guard {
    std::uint32_t& d;
    ~Guard() { --d; }
  } guard{depth_};

  // contained, Bundle.entry.resource, Parameters.parameter.resource: a
  // resource in a slot typed Resource.
  if (!node.is_root && (is_resource_code(item.type_code) ||
                        (item.type && item.type->kind == fhir::TypeKind::kResource))) {
    json::Value obj = item.value;
    const fhir::TypeDef* rtype = nullptr;
    if (obj.is_object()) rtype = v_.model->type(obj.find("resourceType").str());
    if (rtype && rtype->kind != fhir::TypeKind::kResource) rtype = nullptr;
    ResourceFrame f;
    if (node.base && node.base->name == "contained" && !frames_.empty()) {
      f.container = &frame();
      f.bundle = frame().bundle;
      f.entry = frame().entry;
      f.full_url = frame().full_url;
    } else if (node.base && node.base->path == "Bundle.entry.resource" && !bundles_.empty()) {
      BundleScope* scope = bundles_.back();
      // The entry's index comes with the walk (parent.index); the offset
      // index is the fallback for walks that start elsewhere.
      std::int32_t entry = parent.index;
      if (entry < 0 || static_cast<std::size_t>(entry) >= scope->entries.size() ||
          !(scope->entries[static_cast<std::size_t>(entry)].resource == obj)) {
        entry = scope->entry_of(obj);
      }
      if (entry >= 0) {
        f.bundle = scope;
        f.entry = entry;
        f.full_url = scope->entries[static_cast<std::size_t>(entry)].full_url;
      }
    }
    if (mode == Mode::kBase) walk_resource(obj, f, {});
    if (!rtype) return;
    const TypeRule* rule = node.type_rule(rtype->name);
    if (!rule) rule = node.type_rule(item.type_code);
    if (!rule) {
      for (const TypeRule& t : node.types) {
        if (t.type && rtype->is_a(t.type)) rule = &t;
      }
    }
    if (!rule && !node.types.empty()) {
      error("structure", obj, "resource type " + rtype->name + " is not allowed here (allowed: " +
                                  allowed_types(node) + ")");
      return;
    }
    if (!rule || rule->profiles.empty()) return;
    f.obj = obj;
    f.type = rtype;
    f.path_len = path_.size();
    frames_.push_back(&f);
    std::string saved_elem = elem_path_.str();
    elem_path_.assign(rtype->name);
    for (const std::string& p : rule->profiles) {
      const StructurePlan* plan = plan_of(p);
      if (!plan) {
        warning("not-found", obj, "profile " + std::string(strip_version(p)) +
                                      " is unknown; the resource was not checked against it");
        continue;
      }
      if (plan->is_base || !rtype->is_a(plan->type)) continue;
      Item ri;
      ri.value = obj;
      ri.type = rtype;
      ri.type_code = rtype->name;
      walk_item(*plan->root, ri, Mode::kProfile, ObjContext{});
    }
    elem_path_.assign(saved_elem);
    frames_.pop_back();
    return;
  }

  const fhir::TypeDef* type = item.type;
  const TypeRule* rule = nullptr;
  if (!node.is_root && !node.types.empty()) {
    // The node's one type (nearly every element): its rule without reading
    // the rule list. type_rule would find the same one (by type, or for a
    // backbone by code or by the fallback below).
    rule = type && type == node.single_type && node.types.size() == 1 ? &node.types.front()
                                                                        : node.type_rule(item.type_code, type);
    if (!rule && type) {
      // A backbone element's rule says BackboneElement/Element.
      if (node.base && node.base->backbone == type) rule = &node.types.front();
    }
    if (!rule && type && type->kind == fhir::TypeKind::kPrimitive) {
      // Definitions of different ages type the same element as string or
      // id (Resource.id), uri or url: related primitives are compatible.
      for (const TypeRule& t : node.types) {
        if (t.type && t.type->kind == fhir::TypeKind::kPrimitive && (t.type->is_a(type) || type->is_a(t.type))) {
          rule = &t;
          break;
        }
      }
    }
    if (!rule) {
      error("structure", item.anchor(), "type " + std::string(item.type_code) +
                                            " is not allowed here (allowed: " + allowed_types(node) + ")");
      return;
    }
  }
  // A primitive's own format comes first: rules about its value (fixed,
  // bindings) are only meaningful on a well-formed value.
  bool value_ok = true;
  const StructurePlan* prim_plan = nullptr;
  if (type && type->kind == fhir::TypeKind::kPrimitive) {
    prim_plan = node.type_plan && node.single_type == type ? node.type_plan
                : rule && rule->type == type && rule->type_plan ? rule->type_plan
                                                                 : v_.base_plan(type);
    if (mode == Mode::kBase && prim_plan) value_ok = check_primitive(*prim_plan, item);
  }
  if (value_ok && (node.has_rules || type == v_.t_coding || type == v_.t_quantity || type == v_.t_reference)) {
    check_rules(node, item, mode);
  }
  if (!type) return;

  ObjContext here;
  here.type = type;
  here.elem_path_len = elem_path_.size();
  here.element = node.base;
  here.index = item.index;
  if (type == v_.t_extension && item.value.is_object()) {
    here.extension_url = item.value.find("url").str();
  }

  if (type->kind == fhir::TypeKind::kPrimitive) {
    const StructurePlan* tp = prim_plan;
    if (item.ext.is_object()) {
      const ElementPlan* kids = !node.children.empty() ? &node
                                : (mode == Mode::kBase && tp) ? tp->root
                                                              : nullptr;
      if (kids) walk_object(item.ext, *kids, mode, here);
    }
    return;
  }

  json::Value obj = item.value;
  if (!obj.is_object()) {
    if (mode == Mode::kBase) {
      error("structure", item.anchor(),
            "an element of type " + type->name + " must be a JSON object");
    }
    return;
  }
  here.resource_root = node.is_root && type->kind == fhir::TypeKind::kResource;
  const ElementPlan* kids = !node.children.empty() ? &node : node.content_ref;
  if (kids) {
    walk_object(obj, *kids, mode, here);
  } else if (mode == Mode::kBase) {
    const StructurePlan* tp = node.type_plan                                    ? node.type_plan
                              : rule && rule->type == type && rule->type_plan ? rule->type_plan
                                                                              : v_.base_plan(type);
    if (tp && tp->root) {
      check_invariants(tp->root->invariants, *tp->root, item);
      walk_object(obj, *tp->root, Mode::kBase, here);
    }
  }

  bool extension_checked = false;
  if (rule && node.type_profiles) {
    for (const std::string& p : rule->profiles) {
      if (type == v_.t_extension) {
        extension_checked = true;
        if (strip_version(p) == here.extension_url && mode == Mode::kProfile) continue;
      }
      const StructurePlan* plan = plan_of(p);
      if (!plan) {
        if (type == v_.t_extension) {
          check_extension(node, item, parent);
          continue;
        }
        warning("not-found", item.anchor(), "profile " + std::string(strip_version(p)) +
                                                " is unknown; the element was not checked against it");
        continue;
      }
      if (plan->is_base) continue;
      if (type == v_.t_extension && mode == Mode::kBase) {
        check_extension(node, item, parent);
        continue;
      }
      walk_item(*plan->root, item, Mode::kProfile, parent);
    }
  }
  if (mode == Mode::kBase && type == v_.t_extension && !extension_checked) {
    check_extension(node, item, parent);
  }
}

// Extensions by url, in the base pass: resolve the definition (absolute
// urls only; relative ones are sub-extensions the parent's definition
// slices), check modifier placement and context, then walk the extension
// as a profile pass of its definition. Unknown: a warning, as HL7's
// validator with its default any-extension policy; an unknown modifier is
// an error because FHIR says a modifier that is not understood must be
// refused.
void Walker::check_extension(const ElementPlan& node, const Item& item, const ObjContext& parent) {
  json::Value obj = item.value;
  if (!obj.is_object()) return;
  json::Value url_value = obj.find("url");
  std::string_view url = url_value.str();
  if (url.empty()) return;  // Extension.url is required: the structural walk says so
  // Sub-extensions of complex extensions carry relative urls; the parent
  // extension's definition checks them.
  if (url.find(':') == std::string_view::npos) return;
  bool modifier_slot = node.base && node.base->name == "modifierExtension";
  const StructurePlan* plan = plan_of(url);
  if (!plan) {
    if (v_.options.allow_example_urls &&
        (url.find("example.org") != std::string_view::npos || url.find("acme.com") != std::string_view::npos)) {
      return;
    }
    if (modifier_slot) {
      error("extension", url_value, "unknown modifier extension " + shown_key(url) +
                                        ": a modifier that cannot be understood must be rejected");
    } else {
      report(v_.options.unknown_extensions_are_errors ? Issue::Severity::kError
                                                      : Issue::Severity::kWarning,
             "extension", url_value,
             "unknown extension " + shown_key(url) + "; its content was not checked");
    }
    return;
  }
  if (!plan->is_extension) {
    error("extension", url_value, "url " + shown_key(url) + " is not an extension definition");
    return;
  }
  if (plan->is_modifier_extension && !modifier_slot) {
    error("extension", url_value,
          "extension " + plan->url + " is a modifier extension and must be in modifierExtension");
  } else if (!plan->is_modifier_extension && modifier_slot) {
    error("extension", url_value,
          "extension " + plan->url + " is not a modifier extension and must be in extension");
  }
  if (!context_allows(*plan, parent)) {
    std::string where(elem_path_.view().substr(0, parent.elem_path_len));
    error("extension", url_value,
          "extension " + plan->url + " is not allowed at " + (where.empty() ? "this element" : where));
  }
  walk_item(*plan->root, item, Mode::kProfile, parent);
}

bool Walker::context_allows(const StructurePlan& ext, const ObjContext& parent) const {
  if (ext.contexts.empty()) return true;
  // The places the extension sits, as HL7's validator lists them: the
  // literal path without indexes, the definition path of the element and
  // the element's type; a context matches one of them exactly or through
  // the type hierarchy of its first segment (DomainResource for Patient).
  std::string_view literal = elem_path_.view().substr(0, parent.elem_path_len);
  std::string_view logical = parent.element ? std::string_view(parent.element->path) : std::string_view();
  for (std::string_view p : {literal, logical}) {
    // Extensions are always allowed inside ElementDefinition example,
    // fixed and pattern values (they describe instances, not themselves).
    if (p.substr(0, 26) == "ElementDefinition.example." || p.substr(0, 25) == "ElementDefinition.pattern" ||
        p.substr(0, 23) == "ElementDefinition.fixed") {
      return true;
    }
  }
  auto matches_path = [&](std::string_view p, std::string_view e) {
    if (p.empty()) return false;
    if (p == e) return true;
    auto dot = p.find('.');
    std::string_view head = p.substr(0, dot);
    std::string_view tail = dot == std::string_view::npos ? std::string_view() : p.substr(dot);
    for (const fhir::TypeDef* t = v_.model->type(head); t; t = t->base) {
      if (e.size() == t->name.size() + tail.size() && e.substr(0, t->name.size()) == t->name &&
          e.substr(t->name.size()) == tail) {
        return true;
      }
    }
    return false;
  };
  for (std::size_t k = 0; k < ext.contexts.size(); ++k) {
    const ExtensionContext& c = ext.contexts[k];
    std::string_view e = c.expression;
    // Published contexts HL7's validator corrects (fixContexts).
    if (ext.url == "http://hl7.org/fhir/StructureDefinition/regex" && k == 1) e = "ElementDefinition.type";
    if (ext.url == "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type" && k == 0) {
      e = "ElementDefinition.type";
    }
    if (ext.url == "http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version") e = "Element";
    if (c.type == "fhirpath") return true;  // not checkable without evaluating paths
    if (c.type == "extension") {
      if (!parent.extension_url.empty() && strip_version(e) == parent.extension_url) return true;
      continue;
    }
    if (e == "Element" || e == "Any" || e == "Base") return true;
    if (parent.resource_root && e == "Resource") return true;
    for (const fhir::TypeDef* t = parent.type; t; t = t->base) {
      if (t->name == e) return true;
    }
    if (matches_path(literal, e) || matches_path(logical, e)) return true;
  }
  return false;
}

// One member (and its `_x` partner) of the element `group` gathers in
// walk_object, made into items: the JSON shape checked (arrays, nulls,
// `_x` pairing), the value's type settled.
void Walker::collect_items(MemberGroup& group, json::Value v, json::Value x, std::string_view key,
                           const MemberKey& mk) {
  ++group.distinct_keys;
  if (group.distinct_keys >= 2) {
    // A second type of a choice: reported once, its content not walked
    // (the cardinality of value[x] is then not counted twice).
    if (group.mode == Mode::kBase) {
      std::size_t len = push_key(key);
      error("structure", v ? v : x, "only one type of " + group.def().name + "[x] may be present");
      pop(len);
    }
    return;
  }
  const fhir::TypeDef* type = mk.item_type;
  std::string_view code = mk.type_code();
  bool primitive = mk.has(MemberKey::kPrimitive);
  if (mk.has(MemberKey::kPlainId) && group.ctx->resource_root) {
    // R4 4.0.1 types Resource.id as string; its content rule is `id`
    // (HL7's validator checks it as such).
    type = v_.t_id;
    code = "id";
    primitive = type && type->kind == fhir::TypeKind::kPrimitive;
  }
  const bool is_array = mk.has(MemberKey::kArray);
  // The location is pushed only when there is something to report: these
  // checks run for every member, and almost every member passes them.
  if (group.mode == Mode::kBase && ((v && !v.is_null() && v.is_array() != is_array) ||
                              (x && !x.is_null() && x.is_array() != is_array))) {
    const std::string& name = group.def().name;
    std::size_t len = push_key(key);
    if (v && !v.is_null() && v.is_array() != is_array) {
      error("structure", v, is_array ? "element '" + name + "' must be a JSON array"
                                     : "element '" + name + "' must not be a JSON array");
    }
    if (x && !x.is_null() && x.is_array() != is_array) {
      error("structure", x, is_array ? "'_" + std::string(key) + "' must be a JSON array"
                                     : "'_" + std::string(key) + "' must not be a JSON array");
    }
    pop(len);
  }
  if (v.is_array() || x.is_array()) {
    json::Value va = v.is_array() ? v : json::Value();
    json::Value xa = x.is_array() ? x : json::Value();
    if (group.mode == Mode::kBase && ((va && va.size() == 0) || (xa && (xa.size() == 0 || (va && va.size() != xa.size()))))) {
      std::size_t len = push_key(key);
      if (va && va.size() == 0) error("structure", va, "arrays must not be empty");
      if (xa && xa.size() == 0) error("structure", xa, "arrays must not be empty");
      if (va && xa && va.size() != xa.size()) {
        error("structure", xa, "'_" + std::string(key) +
                                   "' must have as many items as '" + std::string(key) + "'");
      }
      pop(len);
    }
    std::size_t n = std::max(va ? va.size() : 0, xa ? xa.size() : 0);
    for (std::size_t i = 0; i < n; ++i) {
      json::Value vi = va ? va[i] : json::Value();
      json::Value xi = xa ? xa[i] : json::Value();
      bool vnull = vi && vi.is_null();
      bool xnull = xi && xi.is_null();
      if (group.mode == Mode::kBase && (vnull || xnull || (xi && !xi.is_object()))) {
        std::size_t len = push_key(key);
        push_index(static_cast<std::int32_t>(i));
        if (vnull && !primitive) {
          error("structure", vi, "null is not allowed here");
        } else if (vnull && (!xi || xnull)) {
          error("structure", vi, "null is only allowed in a primitive array paired with an '_" +
                                     std::string(key) + "' item");
        } else if (xnull && (!vi || vnull)) {
          error("structure", xi, "null in '_" + std::string(key) +
                                     "' is only allowed where the value array has a value");
        } else if (xi && !xnull && !xi.is_object()) {
          error("structure", xi, "items of '_" + std::string(key) + "' must be objects or null");
        }
        pop(len);
      }
      if (vnull) vi = json::Value();
      if (xnull || (xi && !xi.is_object())) xi = json::Value();
      if (!vi && !xi) continue;
      group.items->push_back(
          Item{.value = vi, .ext = xi, .key = key, .type_code = code, .type = type, .index = static_cast<std::int32_t>(i)});
    }
    return;
  }
  if (group.mode == Mode::kBase && ((v && v.is_null()) || (x && !x.is_object()))) {
    std::size_t len = push_key(key);
    if (v && v.is_null()) error("structure", v, "null is not allowed here");
    if (x && !x.is_null() && !x.is_object()) {
      error("structure", x, "'_" + std::string(key) + "' must be an object");
    } else if (x && x.is_null()) {
      error("structure", x, "null is not allowed here");
    }
    pop(len);
  }
  json::Value vv = v && !v.is_null() ? v : json::Value();
  json::Value xx = x && x.is_object() ? x : json::Value();
  if (!vv && !xx) return;
  group.items->push_back(Item{.value = vv, .ext = xx, .key = key, .type_code = code, .type = type});
}

// The members of one JSON object. Each member key is matched to its model
// element and type with one hash lookup (ElementPlan::members, choice keys
// included) and to its rule by the key itself (the base node of a type) or
// by array index (ElementPlan::child_at). Members are then grouped per
// element (a value and its `_x` sibling, or several keys of a choice) so
// that arrays, nulls, `_x` pairing and cardinality are checked on the
// group, and required elements on what is missing. Scratch vectors are per
// depth and reused: no allocation per member once warm.
void Walker::walk_object(json::Value obj, const ElementPlan& kids, Mode mode, const ObjContext& ctx) {
  const fhir::TypeDef* owner = kids.owner;
  const MemberTable* members = kids.members;
  if (!owner || !members) return;
  const bool base_kids = members->base_node == &kids;
  if (depth_ >= kMaxDepth) {
    error("structure", obj, "content nested too deeply");
    return;
  }
  ++depth_;
  struct Guard {
    std::uint32_t& d;
    ~Guard() { --d; }
  } guard{depth_};
  while (scratch_.size() <= depth_) scratch_.push_back(std::make_unique<DepthScratch>());
  // The DepthScratch stays where it is while deeper calls grow the list
  // (only the pointers move), and the one at this depth is this call's own.
  DepthScratch& scratch = *scratch_[depth_];
  std::vector<MemberRef>& refs = scratch.refs;
  std::vector<Item>& items = scratch.items;
  refs.clear();

  if (mode == Mode::kBase) {
    if (obj.size() == 0) {
      error("structure", obj, "an object must have content; empty objects are not allowed");
    } else if (!ctx.resource_root && obj.size() == 1 && obj.key(0) == "id") {
      error("invariant", obj, "ele-1: All FHIR elements must have a @value or children");
    }
  }
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view key = obj.key(i);
    if (ctx.resource_root && key == "resourceType") continue;
    bool underscore = !key.empty() && key[0] == '_';
    std::string_view base_key = underscore ? key.substr(1) : key;
    const MemberKey* m = members->keys.find(base_key);
    if (!m) {
      if (mode == Mode::kBase) {
        std::size_t len = push_key(shown_key(key));
        error("structure", obj[i], "unrecognized property '" + shown_key(key) + "'");
        pop(len);
      }
      continue;
    }
    if (underscore && !m->has(MemberKey::kUnderscore)) {
      if (mode == Mode::kBase) {
        std::size_t len = push_key(shown_key(key));
        error("structure", obj[i], "'_' properties are only allowed for primitive elements");
        pop(len);
      }
      continue;
    }
    // The member's rule is read once the object's members are grouped:
    // ask for its first line now, so that its miss overlaps the lookups of
    // the members after it instead of stalling the walk of this one.
    if (base_kids && m->base_child) __builtin_prefetch(m->base_child);
    refs.emplace_back(m, m->elem, static_cast<std::uint32_t>(i), underscore);
  }
  // Group members by element (insertion sort: objects are small and mostly
  // in definition order already).
  for (std::size_t i = 1; i < refs.size(); ++i) {
    MemberRef r = refs[i];
    std::size_t j = i;
    while (j > 0 && refs[j - 1].elem > r.elem) {
      refs[j] = refs[j - 1];
      --j;
    }
    refs[j] = r;
  }

  for (std::size_t g = 0; g < refs.size();) {
    std::size_t e = g;
    while (e < refs.size() && refs[e].elem == refs[g].elem) ++e;
    const MemberRef first = refs[g];
    const ElementPlan* child = base_kids ? first.match->base_child : kids.child_at(first.elem);
    if (!child) {
      g = e;
      continue;
    }
    items.clear();
    MemberGroup group{owner, first.elem, mode, &ctx, &items};
    if (e == g + 1) {
      // One member (nearly always): a value, or an `_x` alone.
      if (first.underscore) {
        collect_items(group, json::Value(), obj[first.member], obj.key(first.member).substr(1), *first.match);
      } else {
        collect_items(group, obj[first.member], json::Value(), obj.key(first.member), *first.match);
      }
      walk_items(*child, items, mode, ctx, obj);
      g = e;
      continue;
    }
    for (std::size_t k = g; k < e; ++k) {
      const MemberRef r = refs[k];
      if (r.underscore) continue;
      // `valueString` and `_valueString` match the same key (the
      // underscore is stripped before the lookup).
      json::Value partner;
      for (std::size_t q = g; q < e; ++q) {
        const MemberRef& u = refs[q];
        if (u.underscore && u.match == r.match) partner = obj[u.member];
      }
      collect_items(group, obj[r.member], partner, obj.key(r.member), *r.match);
    }
    for (std::size_t k = g; k < e; ++k) {
      const MemberRef r = refs[k];
      if (!r.underscore) continue;
      bool paired = false;
      for (std::size_t q = g; q < e; ++q) {
        const MemberRef& u = refs[q];
        if (!u.underscore && u.match == r.match) paired = true;
      }
      if (!paired) {
        collect_items(group, json::Value(), obj[r.member], obj.key(r.member).substr(1), *r.match);
      }
    }
    walk_items(*child, items, mode, ctx, obj);
    g = e;
  }

  // Required elements that are absent altogether.
  for (std::uint32_t r : kids.required) {
    const ElementPlan* c = kids.children[r];
    auto elem = static_cast<std::uint32_t>(c->base - owner->elements.data());
    bool present = false;
    for (const MemberRef& m : refs) {
      if (m.elem == elem) {
        present = true;
        break;
      }
    }
    if (present) continue;
    if (c->min > 0) {
      error("required", obj, "missing required element '" + c->base->name + (c->base->is_choice ? "[x]" : "") +
                                 "' (minimum cardinality " + std::to_string(c->min) + ")");
    }
    for (const ElementPlan* sl : c->slices) {
      if (sl->min > 0) {
        error("required", obj, "missing required slice '" + sl->slice_name + "' of element '" + c->base->name +
                                   "' (" + c->structure->url + ")");
      }
    }
  }
}

// Cardinality of one element's items, then either slicing or a plain walk
// of each item. Missing elements (no items at all) are reported by
// walk_object from the node's `required` list.
void Walker::walk_items(const ElementPlan& child, std::span<const Item> items, Mode mode,
                        const ObjContext& ctx, json::Value parent_obj) {
  if (items.empty()) return;
  auto count = static_cast<std::uint32_t>(items.size());
  if (count < child.min) {
    error("required", parent_obj, "element '" + child.name + "' requires at least " +
                                      std::to_string(child.min) + " item(s), found " +
                                      std::to_string(count));
  }
  if (child.max != kUnbounded && count > child.max) {
    std::size_t len = push_key(items[0].key);
    if (child.max == 0) {
      error("structure", items[0].anchor(),
            "element '" + child.name + "' is not allowed here (maximum cardinality 0)");
    } else {
      error("structure", items[child.max].anchor(),
            "element '" + child.name + "' allows at most " + std::to_string(child.max) +
                " item(s), found " + std::to_string(count));
    }
    pop(len);
  }
  if (child.slicing && !child.slices.empty()) {
    walk_sliced(child, items, mode, ctx, parent_obj);
    return;
  }
  std::size_t elem_len = elem_path_.size();
  elem_path_.push('.');
  elem_path_.append(child.name);
  for (const Item& it : items) {
    std::size_t len = push_key(it.key);
    if (it.index >= 0) push_index(it.index);
    walk_item(child, it, mode, ctx);
    pop(len);
  }
  elem_path_.truncate(elem_len);
}

}  // namespace gw::validation::detail
