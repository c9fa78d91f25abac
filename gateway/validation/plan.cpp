// Compiling a StructureDefinition snapshot into an ElementPlan tree.
//
// The snapshot is flat and ordered depth-first; element ids say where each
// element hangs: "A.b" is a child of "A", "A.b:s" is slice s of "A.b",
// "A.b:s.c" a child of that slice, and "A.b:s/t" a reslice t of slice s.
// The compiler builds the tree from the ids, then walks it from the root to
// tie each node to the model element it constrains (the model knows which
// type owns the children of a backbone, a datatype or a choice).
//
// Anything odd in a definition (an element the base type does not have, an
// unknown type, a bad regex) becomes a LoadProblem and the rule is skipped:
// a bad profile must never crash the gateway or block unrelated data.
#include "gateway/validation/detail/validator_impl.hpp"
#include "gateway/validation/detail/primitive.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace gw::validation::detail {
namespace {

constexpr std::string_view kSystemPrefix = "http://hl7.org/fhirpath/System.";
constexpr std::string_view kFhirTypeExt =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";
constexpr std::string_view kRegexExt = "http://hl7.org/fhir/StructureDefinition/regex";
constexpr std::string_view kCoreSdPrefix = "http://hl7.org/fhir/StructureDefinition/";

// The FHIR type code of an ElementDefinition.type entry (R4 writes the
// types of id-like elements as System types with an extension naming the
// FHIR type).
std::string type_code_of(json::Value type) {
  std::string code(type.find("code").str());
  if (code.rfind(kSystemPrefix, 0) != 0) return code;
  for (json::Value ext : type.find("extension").items()) {
    if (ext.find("url").str() == kFhirTypeExt) {
      std::string_view v = ext.find("valueUrl").str();
      if (v.empty()) v = ext.find("valueUri").str();
      if (v.rfind(kCoreSdPrefix, 0) == 0) v.remove_prefix(kCoreSdPrefix.size());
      if (!v.empty()) return std::string(v);
    }
  }
  return "string";
}

std::uint32_t parse_u32(std::string_view s, std::uint32_t fallback) {
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : fallback;
}

// Value of the first member whose key is `prefix` followed by a type name
// ("fixedUri", "patternCodeableConcept").
json::Value prefixed_member(json::Value obj, std::string_view prefix) {
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view k = obj.key(i);
    if (k.size() > prefix.size() && k.substr(0, prefix.size()) == prefix &&
        k[prefix.size()] >= 'A' && k[prefix.size()] <= 'Z') {
      return obj[i];
    }
  }
  return {};
}

std::string_view extension_string(json::Value obj, std::string_view url) {
  for (json::Value ext : obj.find("extension").items()) {
    if (ext.find("url").str() == url) return ext.find("valueString").str();
  }
  return {};
}

std::string_view last_segment(std::string_view path) {
  auto dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

Strength strength_of(std::string_view s) {
  if (s == "required") return Strength::kRequired;
  if (s == "extensible") return Strength::kExtensible;
  if (s == "preferred") return Strength::kPreferred;
  if (s == "example") return Strength::kExample;
  return Strength::kNone;
}

std::string_view strip_version(std::string_view canonical) {
  auto bar = canonical.find('|');
  return bar == std::string_view::npos ? canonical : canonical.substr(0, bar);
}

class Compiler {
 public:
  Compiler(const Validator::Impl& v, StructurePlan& plan) : v_(v), plan_(plan) {}

  Status build(json::Value elements) {
    std::unordered_map<std::string, ElementPlan*> by_id;
    bool first = true;
    for (json::Value el : elements.items()) {
      auto node = std::make_unique<ElementPlan>();
      ElementPlan* n = node.get();
      n->structure = &plan_;
      n->definition = el;
      n->path = std::string(el.find("path").str());
      n->id = std::string(el.find("id").str());
      std::string_view slice = el.find("sliceName").str();
      if (n->id.empty()) {
        n->id = slice.empty() ? n->path : n->path + ":" + std::string(slice);
      }
      if (first) {
        first = false;
        n->is_root = true;
        plan_.root = n;
        fill_rules(*n, el);
        if (plan_.is_extension) plan_.is_modifier_extension = el.find("isModifier").boolean();
        by_id.emplace(n->id, n);
        plan_.nodes.push_back(std::move(node));
        continue;
      }
      // A primitive's `.value` carries the format rules, not a member.
      if (plan_.type && plan_.type->kind == fhir::TypeKind::kPrimitive &&
          n->path == plan_.type_name + ".value") {
        read_primitive_rules(el);
        continue;
      }
      std::string_view id = n->id;
      auto dot = id.rfind('.');
      if (dot == std::string_view::npos) {
        v_.problem(plan_.url, n->id, "element id without a parent");
        continue;
      }
      std::string_view seg = id.substr(dot + 1);
      auto colon = seg.find(':');
      ElementPlan* attach_to = nullptr;
      if (colon != std::string_view::npos) {
        std::string_view slice_part = seg.substr(colon + 1);
        std::string entry_id(id.substr(0, dot + 1 + colon));
        auto slash = slice_part.rfind('/');
        if (slash != std::string_view::npos) {
          entry_id += ":" + std::string(slice_part.substr(0, slash));  // reslice
        }
        auto it = by_id.find(entry_id);
        if (it != by_id.end()) {
          attach_to = it->second;
          n->slice_name = std::string(slice_part);
          n->name = attach_to->name;
        }
      } else {
        auto it = by_id.find(std::string(id.substr(0, dot)));
        if (it != by_id.end()) attach_to = it->second;
        std::string_view nm = last_segment(n->path);
        if (nm.size() > 3 && nm.substr(nm.size() - 3) == "[x]") nm.remove_suffix(3);
        n->name = std::string(nm);
      }
      if (!attach_to) {
        v_.problem(plan_.url, n->id, "element has no parent element in the snapshot");
        continue;
      }
      fill_rules(*n, el);
      if (colon != std::string_view::npos) {
        attach_to->slices.push_back(n);
      } else {
        attach_to->children.push_back(n);
      }
      by_id.emplace(n->id, n);
      plan_.nodes.push_back(std::move(node));
    }
    if (!plan_.root) return fail(ErrorCode::kParse, "snapshot without elements", plan_.url);
    by_id_ = std::move(by_id);
    link(*plan_.root);
    return {};
  }

 private:
  void read_primitive_rules(json::Value el) {
    std::string_view rx;
    for (json::Value t : el.find("type").items()) {
      rx = extension_string(t, kRegexExt);
      if (!rx.empty()) break;
    }
    if (json::Value ml = el.find("maxLength"); ml.is_number()) {
      plan_.primitive.max_length = parse_u32(ml.str(), 0);
    }
    PrimitiveKind kind = primitive_kind(plan_.type_name);
    plan_.primitive.kind = kind;
    if (kind != PrimitiveKind::kOther && rx == r4_regex(kind)) {
      plan_.primitive.fast = true;
      return;
    }
    if (rx.empty()) {
      plan_.primitive.fast = kind != PrimitiveKind::kOther;
      return;
    }
    plan_.primitive.regex = compile_regex(rx, plan_.type_name);
  }

  std::shared_ptr<const re2::RE2> compile_regex(std::string_view rx, std::string_view where) {
    RE2::Options opt;
    opt.set_log_errors(false);
    auto re = std::make_shared<re2::RE2>(re2::StringPiece(rx.data(), rx.size()), opt);
    if (!re->ok()) {
      v_.problem(plan_.url, where, "regex does not compile; not checked");
      return nullptr;
    }
    return re;
  }

  void fill_rules(ElementPlan& n, json::Value el) {
    n.min = parse_u32(el.find("min").str(), 0);
    std::string_view max = el.find("max").str();
    n.max = max.empty() || max == "*" ? kUnbounded : parse_u32(max, kUnbounded);
    n.is_modifier = el.find("isModifier").boolean();
    for (json::Value t : el.find("type").items()) {
      TypeRule r;
      r.code = type_code_of(t);
      r.type = v_.model->type(r.code);
      for (json::Value p : t.find("profile").items()) r.profiles.emplace_back(p.str());
      for (json::Value p : t.find("targetProfile").items()) {
        std::string_view url = p.str();
        r.target_profiles.emplace_back(url);
        const fhir::TypeDef* tt = v_.type_of_profile(url);
        if (!tt) {
          v_.problem(plan_.url, n.id, "targetProfile " + std::string(strip_version(url)) +
                                          " is unknown; reference targets of this type not checked");
          r.target_types.push_back(v_.t_resource);
          continue;
        }
        r.target_types.push_back(tt);
      }
      r.any_target = r.target_types.empty();
      for (const fhir::TypeDef* tt : r.target_types) {
        if (tt == v_.t_resource || tt->name == "DomainResource") r.any_target = true;
      }
      n.types.push_back(std::move(r));
    }
    n.fixed = prefixed_member(el, "fixed");
    n.pattern = prefixed_member(el, "pattern");
    n.min_value = prefixed_member(el, "minValue");
    n.max_value = prefixed_member(el, "maxValue");
    if (json::Value ml = el.find("maxLength"); ml.is_number()) {
      n.max_length = parse_u32(ml.str(), 0);
    }
    if (std::string_view rx = extension_string(el, kRegexExt); !rx.empty()) {
      n.regex = compile_regex(rx, n.id);
    }
    json::Value binding = el.find("binding");
    n.strength = strength_of(binding.find("strength").str());
    n.value_set = std::string(binding.find("valueSet").str());
    if (json::Value slicing = el.find("slicing"); slicing.is_object()) {
      auto s = std::make_unique<Slicing>();
      for (json::Value d : slicing.find("discriminator").items()) {
        Discriminator disc;
        std::string_view type = d.find("type").str();
        if (type == "value") disc.kind = DiscriminatorKind::kValue;
        else if (type == "exists") disc.kind = DiscriminatorKind::kExists;
        else if (type == "pattern") disc.kind = DiscriminatorKind::kPattern;
        else if (type == "type") disc.kind = DiscriminatorKind::kType;
        else if (type == "profile") disc.kind = DiscriminatorKind::kProfile;
        else v_.problem(plan_.url, n.id, "unknown discriminator type");
        disc.path = std::string(d.find("path").str());
        s->discriminators.push_back(std::move(disc));
      }
      s->ordered = slicing.find("ordered").boolean();
      std::string_view rules = slicing.find("rules").str();
      s->rules = rules == "closed" ? SlicingRules::kClosed
                 : rules == "openAtEnd" ? SlicingRules::kOpenAtEnd
                                        : SlicingRules::kOpen;
      n.slicing = std::move(s);
    }
  }

  // The base definition's constraints at the same place: a profile repeats
  // them in its snapshot, and the base pass evaluates them already.
  static bool base_has(json::Value base_def, json::Value c) {
    std::string_view key = c.find("key").str();
    std::string_view expr = c.find("expression").str();
    for (json::Value b : base_def.find("constraint").items()) {
      if (b.find("key").str() == key && b.find("expression").str() == expr) return true;
    }
    return false;
  }

  static bool same_binding(json::Value a, json::Value b) {
    return a.find("strength").str() == b.find("strength").str() &&
           strip_version(a.find("valueSet").str()) == strip_version(b.find("valueSet").str());
  }

  // The base type's own root element (for constraints like qty-3 that a
  // profile snapshot repeats on elements of that type).
  static json::Value type_root(const fhir::TypeDef* t) {
    if (!t || !t->structure_definition) return {};
    return t->structure_definition.find("snapshot").find("element")[0];
  }

  void finish_rules(ElementPlan& n, const fhir::TypeDef* context) {
    json::Value base_def = n.base ? n.base->definition : json::Value();
    if (n.is_root && !plan_.is_base) base_def = type_root(plan_.type);
    json::Value type_def = type_root(n.single_type);
    for (json::Value c : n.definition.find("constraint").items()) {
      if (c.find("expression").str().empty()) continue;
      if (!plan_.is_base && (base_has(base_def, c) || base_has(type_def, c))) continue;
      // Invariants the structural walk covers (ele-1 on every element,
      // txt-1/2, ref-1) are left out of the list: check_invariants is then
      // not called at all for most elements.
      if (const Invariant* inv = v_.intern_invariant(c, plan_.url, context);
          inv && inv->native != NativeCheck::kCovered) {
        n.invariants.push_back(inv);
      }
    }
    if (n.strength != Strength::kNone && !n.value_set.empty()) {
      n.check_binding = plan_.is_base || !base_def ||
                        !same_binding(n.definition.find("binding"), base_def.find("binding"));
    }
  }

  const fhir::TypeDef* concrete_type(const ElementPlan& n) const {
    if (n.is_root) return plan_.type;
    if (n.base && n.base->backbone) return n.base->backbone;
    if (n.types.size() == 1) return n.types[0].type;
    if (n.types.empty() && n.base && n.base->types.size() == 1) return n.base->type_defs[0];
    return nullptr;
  }

  void link(ElementPlan& n) {
    n.single_type = concrete_type(n);
    if (n.types.empty() && n.base && !n.base->backbone) {
      // Snapshot elements nearly always list their types; fall back to the model's.
      for (std::size_t i = 0; i < n.base->types.size(); ++i) {
        TypeRule r;
        r.code = n.base->types[i];
        r.type = n.base->type_defs[i];
        n.types.push_back(std::move(r));
      }
    }
    if (!n.is_root && n.children.empty()) {
      std::string_view cref = n.definition.find("contentReference").str();
      if (!cref.empty()) {
        auto hash = cref.find('#');
        std::string target(hash == std::string_view::npos ? cref : cref.substr(hash + 1));
        auto it = by_id_.find(target);
        if (it != by_id_.end()) {
          // Share the referenced node's children (Questionnaire.item.item).
          n.content_ref = it->second;
        }
      }
    }
    finish_rules(n, n.single_type ? n.single_type : v_.t_element);
    if (!n.children.empty()) {
      n.owner = n.single_type ? n.single_type : v_.t_element;
      if (n.owner && n.owner->kind == fhir::TypeKind::kResource && !n.is_root) {
        // Children under a contained resource element: nothing to bind to.
        n.owner = nullptr;
      }
      std::vector<ElementPlan*> kept;
      if (n.owner) {
        n.by_element.assign(n.owner->elements.size(), nullptr);
        for (ElementPlan* c : n.children) {
          c->base = n.owner->element(c->name);
          if (!c->base && c->name == "value" && n.owner->kind == fhir::TypeKind::kPrimitive) {
            // A profile constraining a primitive's value (Coding.display.value):
            // its rules are the primitive's own.
            if (c->max_length >= 0) n.max_length = c->max_length;
            if (c->regex) n.regex = c->regex;
            continue;
          }
          if (!c->base) {
            v_.problem(plan_.url, c->id, "element is not part of type " + n.owner->name);
            continue;
          }
          auto idx = static_cast<std::size_t>(c->base - n.owner->elements.data());
          if (n.by_element[idx]) {
            v_.problem(plan_.url, c->id, "element listed twice");
            continue;
          }
          n.by_element[idx] = c;
          bool required_slice = false;
          for (const ElementPlan* sl : c->slices) required_slice = required_slice || sl->min > 0;
          if (c->min > 0 || required_slice) n.required.push_back(static_cast<std::uint32_t>(kept.size()));
          kept.push_back(c);
        }
      }
      n.children = std::move(kept);
      for (ElementPlan* c : n.children) link(*c);
    }
    for (ElementPlan* s : n.slices) {
      s->base = n.base;
      link(*s);
    }
  }

  const Validator::Impl& v_;
  StructurePlan& plan_;
  std::unordered_map<std::string, ElementPlan*> by_id_;
};

}  // namespace

// Compiles one definition. Profiles without a snapshot get one generated
// from their differential (snapshot.cpp); the generated document is owned
// by the plan because the plan's JSON views point into it.
Result<std::unique_ptr<StructurePlan>> compile_plan(const Validator::Impl& v, json::Value sd) {
  auto plan = std::make_unique<StructurePlan>();
  plan->url = std::string(sd.find("url").str());
  plan->version = std::string(sd.find("version").str());
  plan->type_name = std::string(sd.find("type").str());
  plan->is_base = sd.find("derivation").str() != "constraint";
  plan->type = v.model->type(plan->type_name);
  if (!plan->type) {
    return fail(ErrorCode::kNotFound, "the definition constrains an unknown type", plan->url);
  }
  plan->is_extension = plan->type_name == "Extension" && !plan->is_base;
  for (json::Value c : sd.find("context").items()) {
    plan->contexts.push_back(ExtensionContext{std::string(c.find("type").str()),
                                              std::string(c.find("expression").str())});
  }
  json::Value elements = sd.find("snapshot").find("element");
  if (!elements.is_array() || elements.size() == 0) {
    if (!sd.find("differential").find("element").is_array()) {
      return fail(ErrorCode::kParse, "definition has neither snapshot nor differential", plan->url);
    }
    GW_TRY(auto doc, generate_snapshot(v, sd));
    plan->generated = doc;
    sd = doc->root();
    elements = sd.find("snapshot").find("element");
  }
  plan->sd = sd;
  Compiler c(v, *plan);
  GW_CHECK_OK(c.build(elements));
  return plan;
}

// The keys are the model's (TypeDef::key_index): an element by its name, a
// choice element once per type as name + the code with its first letter
// upper-cased ("value" + "Quantity"). What the walk reads per member is
// folded in: the item type as collect_items settles it (backbone first; a
// resource slot leaves it to the value's resourceType) and its kind.
std::unique_ptr<MemberTable> build_member_table(const fhir::TypeDef& type, const ElementPlan* base_node) {
  auto table = std::make_unique<MemberTable>();
  table->base_node = base_node && base_node->owner == &type ? base_node : nullptr;
  auto add = [&](std::string_view key, const fhir::ElementDef& e, std::size_t type_index) {
    MemberKey k;
    k.elem = static_cast<std::uint16_t>(&e - type.elements.data());
    if (table->base_node) k.base_child = table->base_node->child_at(k.elem);
    const fhir::TypeDef* named = nullptr;
    if (type_index < e.types.size()) {
      k.code_data = e.types[type_index].data();
      k.code_size = static_cast<std::uint32_t>(e.types[type_index].size());
      named = type_index < e.type_defs.size() ? e.type_defs[type_index] : nullptr;
    }
    k.item_type = e.backbone ? e.backbone : is_resource_code(k.type_code()) ? nullptr : named;
    const auto primitive = [](const fhir::TypeDef* t) { return t && t->kind == fhir::TypeKind::kPrimitive; };
    k.flags = static_cast<std::uint8_t>((e.is_array ? MemberKey::kArray : 0) |
                                        (primitive(k.item_type) ? MemberKey::kPrimitive : 0) |
                                        (primitive(named) ? MemberKey::kUnderscore : 0) |
                                        (!e.backbone && e.name == "id" ? MemberKey::kPlainId : 0));
    if (key.size() > fhir::NameTable<MemberKey>::kInline) {
      table->long_keys.emplace_back(key);
      key = table->long_keys.back();
    }
    table->keys.add(key, k);
  };
  // (Validator::create refuses a model with a type larger than that.)
  const std::size_t n = std::min(type.elements.size(), MemberKey::kMaxElements);
  for (std::size_t i = 0; i < n; ++i) {
    const fhir::ElementDef& e = type.elements[i];
    if (!e.is_choice) {
      add(e.name, e, 0);
      continue;
    }
    for (std::size_t t = 0; t < e.types.size(); ++t) {
      std::string key = e.name + e.types[t];
      if (!e.types[t].empty()) {
        key[e.name.size()] = static_cast<char>(std::toupper(static_cast<unsigned char>(key[e.name.size()])));
      }
      add(key, e, t);
    }
  }
  return table;
}

void link_type_plans(const Validator::Impl& v, StructurePlan& plan) {
  for (auto& n : plan.nodes) {
    n->members = n->owner ? v.members(n->owner) : nullptr;
    n->has_rules = n->fixed || n->pattern || n->max_length >= 0 || n->regex || n->min_value || n->max_value ||
                   n->check_binding || !n->invariants.empty();
    n->type_profiles = false;
    for (TypeRule& r : n->types) {
      if (r.type && r.type->kind != fhir::TypeKind::kResource) r.type_plan = v.base_plan(r.type);
      n->type_profiles = n->type_profiles || !r.profiles.empty();
    }
    if (!n->children.empty() || n->is_root || n->content_ref) continue;
    const fhir::TypeDef* t = n->single_type;
    if (!t || t->kind == fhir::TypeKind::kResource) continue;
    if (n->base && n->base->backbone) continue;
    n->type_plan = v.base_plan(t);
  }
}

}  // namespace gw::validation::detail
