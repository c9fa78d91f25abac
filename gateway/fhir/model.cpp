// Building the type catalogue from StructureDefinition snapshots, and
// navigating JSON through it.
//
// A snapshot lists every element of a type depth-first by path
// ("Patient", "Patient.id", ..., "Patient.contact", "Patient.contact.name").
// Each element becomes an ElementDef of the TypeDef its parent path names;
// elements typed BackboneElement or Element (inline structures such as
// Patient.contact or Timing.repeat) get a TypeDef of their own, named by
// their path. `contentReference` elements (Questionnaire.item.item) point at
// the backbone TypeDef of the referenced path, resolved after all types exist.
#include "gateway/fhir/fhir.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace gw::fhir {

struct Model::Impl {};

namespace {

constexpr std::string_view kSystemPrefix = "http://hl7.org/fhirpath/System.";
constexpr std::string_view kFhirTypeExt =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";
constexpr std::string_view kCoreSdPrefix = "http://hl7.org/fhir/StructureDefinition/";

// FHIR's primitives and the FHIRPath System type each maps to (FHIRPath
// spec, "Using FHIR types in expressions").
SystemType system_type_of(std::string_view primitive) {
  if (primitive == "boolean") return SystemType::kBoolean;
  if (primitive == "integer" || primitive == "unsignedInt" || primitive == "positiveInt") {
    return SystemType::kInteger;
  }
  if (primitive == "decimal") return SystemType::kDecimal;
  if (primitive == "date") return SystemType::kDate;
  if (primitive == "dateTime" || primitive == "instant") return SystemType::kDateTime;
  if (primitive == "time") return SystemType::kTime;
  return SystemType::kString;
}

std::string capitalized(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string_view last_segment(std::string_view path) {
  auto dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

std::string_view parent_path(std::string_view path) {
  auto dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : path.substr(0, dot);
}

// The FHIR type code of one ElementDefinition.type entry. R4 writes the
// types of id/url-like elements as FHIRPath System types with an extension
// naming the FHIR type; use that FHIR type.
std::string type_code_of(json::Value type) {
  std::string code(type.find("code").str());
  if (code.rfind(kSystemPrefix, 0) != 0) return code;
  for (json::Value ext : type.find("extension").items()) {
    if (ext.find("url").str() == kFhirTypeExt) {
      std::string_view v = ext.find("valueUrl").str();
      if (v.rfind(kCoreSdPrefix, 0) == 0) v.remove_prefix(kCoreSdPrefix.size());
      if (!v.empty()) return std::string(v);
    }
  }
  return "string";
}

// What the key of a non-choice element denotes: the element, its (first)
// type code and the type that names.
TypeDef::KeyMatch plain_match(const ElementDef& e) {
  if (e.types.empty()) return TypeDef::KeyMatch{&e, {}, nullptr};
  return TypeDef::KeyMatch{&e, e.types[0], e.type_defs[0]};
}

}  // namespace

struct ModelBuilder {
  Model& model;
  // Backbone TypeDefs by path, for contentReference resolution.
  std::unordered_map<std::string, TypeDef*> by_path;
  struct PendingRef {
    TypeDef* owner;
    std::size_t element;
    std::string target;
  };
  std::vector<PendingRef> pending_refs;
  std::vector<std::pair<TypeDef*, std::string>> pending_bases;

  TypeDef* add_type(std::unique_ptr<TypeDef> t) {
    TypeDef* raw = t.get();
    model.types_.push_back(std::move(t));
    return raw;
  }

  Status add_structure_definition(json::Value sd) {
    std::string_view type = sd.find("type").str();
    std::string_view kind = sd.find("kind").str();
    std::string_view derivation = sd.find("derivation").str();
    if (derivation == "constraint") return {};  // a profile, not a type
    json::Value elements = sd.find("snapshot").find("element");
    if (type.empty() || !elements.is_array() || elements.size() == 0) {
      return fail(ErrorCode::kParse, "StructureDefinition without type or snapshot",
                  std::string(sd.find("url").str()));
    }
    auto root = std::make_unique<TypeDef>();
    root->name = std::string(type);
    root->url = std::string(sd.find("url").str());
    root->structure_definition = sd;
    root->is_abstract = sd.find("abstract").boolean();
    if (kind == "primitive-type") {
      root->kind = TypeKind::kPrimitive;
      root->system_type = system_type_of(type);
    } else if (kind == "resource") {
      root->kind = TypeKind::kResource;
    } else if (kind == "logical") {
      root->kind = TypeKind::kLogical;
    } else {
      root->kind = TypeKind::kComplex;
    }
    std::string_view base_url = sd.find("baseDefinition").str();
    if (!base_url.empty()) pending_bases.emplace_back(root.get(), std::string(base_url));

    std::unordered_map<std::string, TypeDef*> owners;  // path -> TypeDef holding its children
    TypeDef* root_raw = add_type(std::move(root));
    for (json::Value el : elements.items()) {
      std::string_view path = el.find("path").str();
      if (path.find('.') == std::string_view::npos) {
        owners[std::string(path)] = root_raw;
        continue;
      }
      auto owner_it = owners.find(std::string(parent_path(path)));
      if (owner_it == owners.end()) continue;  // child of something we do not model
      TypeDef* owner = owner_it->second;
      // A primitive's `value` is the JSON scalar itself, not a member.
      if (owner == root_raw && root_raw->kind == TypeKind::kPrimitive &&
          last_segment(path) == "value") {
        continue;
      }
      ElementDef def;
      def.path = std::string(path);
      std::string_view seg = last_segment(path);
      if (seg.size() > 3 && seg.substr(seg.size() - 3) == "[x]") {
        def.is_choice = true;
        seg.remove_suffix(3);
      }
      def.name = std::string(seg);
      for (json::Value t : el.find("type").items()) def.types.push_back(type_code_of(t));
      // R4's snapshots give a resource's logical id the System.String type
      // with fhir-type "string", yet the specification (and the FHIRPath
      // suite's testContainedId) types Resource.id as `id`, whose format
      // (1-64 of [A-Za-z0-9.-]) every resource id must follow.
      if (root_raw->kind == TypeKind::kResource && owner == root_raw && seg == "id" &&
          def.types.size() == 1 && def.types[0] == "string") {
        def.types[0] = "id";
      }
      std::string_view min = el.find("min").str();
      def.min = min.empty() ? 0u : static_cast<std::uint32_t>(std::stoul(std::string(min)));
      def.max = std::string(el.find("max").str());
      def.is_array = !(def.max == "1" || def.max == "0");
      def.is_modifier = el.find("isModifier").boolean();
      def.is_summary = el.find("isSummary").boolean();
      def.definition = el;
      std::string_view content_ref = el.find("contentReference").str();
      bool inline_type = def.types.size() == 1 &&
                         (def.types[0] == "BackboneElement" || def.types[0] == "Element") &&
                         root_raw->name != "Element" && root_raw->name != "BackboneElement";
      owner->elements.push_back(std::move(def));
      std::size_t index = owner->elements.size() - 1;
      if (!content_ref.empty()) {
        auto hash = content_ref.find('#');
        std::string target(hash == std::string_view::npos ? content_ref
                                                          : content_ref.substr(hash + 1));
        pending_refs.push_back({owner, index, std::move(target)});
        owner->elements[index].types = {"BackboneElement"};
      } else if (inline_type) {
        auto bb = std::make_unique<TypeDef>();
        bb->name = std::string(path);
        bb->kind = TypeKind::kComplex;
        pending_bases.emplace_back(bb.get(), std::string(kCoreSdPrefix) + owner->elements[index].types[0]);
        TypeDef* bb_raw = add_type(std::move(bb));
        owners[std::string(path)] = bb_raw;
        by_path[std::string(path)] = bb_raw;
        // The element's pointer to its backbone is set in finish(), once the
        // owner's element vector has stopped growing.
      }
    }
    return {};
  }

  Status finish() {
    for (auto& t : model.types_) {
      if (t->url.empty()) continue;
      model.by_name_.add(t->name, t.get());
      model.by_name_.add(t->url, t.get());
    }
    for (auto& [path, t] : by_path) model.by_name_.add(t->name, t);
    for (auto& [t, base_url] : pending_bases) {
      const TypeDef* const* b = model.by_name_.find(base_url);
      if (b && *b != t) t->base = *b;
    }
    for (auto& t : model.types_) {
      for (ElementDef& e : t->elements) {
        auto it = by_path.find(e.path);
        if (it != by_path.end()) e.backbone = it->second;
      }
    }
    for (const PendingRef& r : pending_refs) {
      auto it = by_path.find(r.target);
      if (it == by_path.end()) {
        return fail(ErrorCode::kParse, "contentReference to an unknown element", r.target);
      }
      r.owner->elements[r.element].backbone = it->second;
    }
    for (auto& t : model.types_) {
      for (ElementDef& e : t->elements) {
        e.type_defs.clear();
        for (const std::string& code : e.types) e.type_defs.push_back(model.type(code));
      }
    }
    for (auto& t : model.types_) index_keys(*t);
    return {};
  }

  static void index_keys(TypeDef& t) {
    for (const ElementDef& e : t.elements) {
      t.element_index.add(e.name, &e);
      if (!e.is_choice) {
        t.key_index.add(e.name, plain_match(e));
        continue;
      }
      for (std::size_t i = 0; i < e.types.size(); ++i) {
        auto key = std::make_unique<std::string>(e.name + capitalized(e.types[i]));
        t.key_index.add(*key, TypeDef::KeyMatch{&e, e.types[i], e.type_defs[i]});
        t.key_storage.push_back(std::move(key));
      }
    }
  }
};

// ---- TypeDef -------------------------------------------------------------

const ElementDef* TypeDef::element(std::string_view n) const {
  const ElementDef* const* e = element_index.find(n);
  return e ? *e : nullptr;
}

TypeDef::KeyMatch TypeDef::match_key(std::string_view json_key) const {
  const KeyMatch* m = key_index.find(json_key);
  return m ? *m : KeyMatch{};
}

bool TypeDef::is_a(const TypeDef* other) const {
  for (const TypeDef* t = this; t; t = t->base) {
    if (t == other) return true;
  }
  return false;
}

// ---- Model ---------------------------------------------------------------

Model::Model() : impl_(std::make_unique<Impl>()) {}
Model::~Model() = default;

Result<std::shared_ptr<const Model>> Model::build(std::span<const json::Value> sds) {
  std::shared_ptr<Model> model(new Model());
  ModelBuilder b{*model, {}, {}, {}};
  for (json::Value sd : sds) {
    if (!sd.is_object() || sd.find("resourceType").str() != "StructureDefinition") continue;
    GW_CHECK_OK(b.add_structure_definition(sd));
  }
  GW_CHECK_OK(b.finish());
  if (!model->type("Resource") || !model->type("Element")) {
    return fail(ErrorCode::kParse, "the definitions lack the base types Resource and Element");
  }
  return std::shared_ptr<const Model>(std::move(model));
}

const TypeDef* Model::type(std::string_view name) const {
  const TypeDef* const* t = by_name_.find(name);
  return t ? *t : nullptr;
}

Result<Node> Model::resource(json::Value obj) const {
  if (!obj.is_object()) return fail(ErrorCode::kParse, "a resource must be a JSON object");
  json::Value rt = obj.find("resourceType");
  if (!rt.is_string()) return fail(ErrorCode::kParse, "the resource has no resourceType");
  const TypeDef* t = type(rt.str());
  if (!t || t->kind != TypeKind::kResource) {
    // Type names are structure, but cap what we echo from untrusted input.
    return fail(ErrorCode::kParse,
                "unknown resourceType '" + std::string(gw::utf8_prefix(rt.str(), 64)) + "'");
  }
  if (t->is_abstract) return fail(ErrorCode::kParse, "resourceType names an abstract type");
  Node n;
  n.value = obj;
  n.type = t;
  return n;
}

const TypeDef* Model::value_type(const TypeDef::KeyMatch& m, json::Value v) const {
  if (m.element && m.element->backbone) return m.element->backbone;
  if (m.type == "Resource" || m.type == "DomainResource") {
    const TypeDef* t = v.is_object() ? type(v.find("resourceType").str()) : nullptr;
    return t && t->kind == TypeKind::kResource ? t : nullptr;
  }
  return m.type_def;
}

void Model::add_child(const TypeDef::KeyMatch& m, json::Value v, json::Value ext, std::int32_t index,
                      std::vector<Node>& out) const {
  if (v.is_null()) v = json::Value();
  if (ext.is_null()) ext = json::Value();
  if (!v && !ext) return;
  Node n;
  n.value = v;
  n.extension_part = ext;
  n.element = m.element;
  n.name = m.element->name;
  n.index = index;
  n.type = value_type(m, v);
  out.push_back(n);
}

namespace {

// Pairs a JSON member with its `_name` sibling and emits one node per array
// item (or one for a single value).
template <class Emit>
void emit_pairs(json::Value v, json::Value ext, Emit&& emit) {
  if (v.is_array() || ext.is_array()) {
    std::size_t n = std::max(v.is_array() ? v.size() : 0, ext.is_array() ? ext.size() : 0);
    for (std::size_t i = 0; i < n; ++i) {
      emit(v.is_array() ? v[i] : json::Value(), ext.is_array() ? ext[i] : json::Value(),
           static_cast<std::int32_t>(i));
    }
    return;
  }
  emit(v, ext, -1);
}

// The `_name` sibling of member `name`, found without building the string.
json::Value find_underscore(json::Value obj, std::string_view name) {
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view k = obj.key(i);
    if (k.size() == name.size() + 1 && k[0] == '_' && k.substr(1) == name) return obj[i];
  }
  return {};
}

}  // namespace

void Model::children(const Node& parent, std::string_view name, std::vector<Node>& out) const {
  if (!parent.type) return;
  json::Value obj = parent.is_primitive() ? parent.extension_part : parent.value;
  if (!obj.is_object()) return;
  const ElementDef* def = parent.type->element(name);
  if (!def) return;
  if (!def->is_choice) {
    json::Value v, ext;
    for (std::size_t i = 0; i < obj.size(); ++i) {
      std::string_view k = obj.key(i);
      if (k == name) {
        v = obj[i];
      } else if (k.size() == name.size() + 1 && k[0] == '_' && k.substr(1) == name) {
        ext = obj[i];
      }
    }
    const TypeDef::KeyMatch m = plain_match(*def);
    emit_pairs(v, ext, [&](json::Value a, json::Value b, std::int32_t idx) { add_child(m, a, b, idx, out); });
    return;
  }
  // A choice: whichever `name<Type>` member is present (normally one).
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view k = obj.key(i);
    if (k.substr(0, name.size()) != name) continue;
    TypeDef::KeyMatch m = parent.type->match_key(k);
    if (m.element != def) continue;
    emit_pairs(obj[i], find_underscore(obj, k), [&](json::Value a, json::Value b, std::int32_t idx) {
      add_child(m, a, b, idx, out);
    });
  }
  // `_valueString` without `valueString`: extensions on a value that is absent.
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view k = obj.key(i);
    if (k.size() <= name.size() + 1 || k[0] != '_' || k.substr(1, name.size()) != name) continue;
    TypeDef::KeyMatch m = parent.type->match_key(k.substr(1));
    if (m.element != def || obj.find(k.substr(1))) continue;
    emit_pairs(json::Value(), obj[i], [&](json::Value a, json::Value b, std::int32_t idx) {
      add_child(m, a, b, idx, out);
    });
  }
}

void Model::children(const Node& parent, std::vector<Node>& out) const {
  if (!parent.type) return;
  json::Value obj = parent.is_primitive() ? parent.extension_part : parent.value;
  if (!obj.is_object()) return;
  // Most objects have no `_x` member at all; then no member needs the scan
  // for its sibling (a scan per member made this quadratic in the object).
  bool any_underscore = false;
  for (std::size_t i = 0; i < obj.size() && !any_underscore; ++i) {
    std::string_view k = obj.key(i);
    any_underscore = !k.empty() && k[0] == '_';
  }
  for (std::size_t i = 0; i < obj.size(); ++i) {
    std::string_view k = obj.key(i);
    bool underscore = !k.empty() && k[0] == '_';
    std::string_view base = underscore ? k.substr(1) : k;
    TypeDef::KeyMatch m = parent.type->match_key(base);
    if (!m.element) continue;  // resourceType and unknown members
    if (underscore) {
      if (obj.find(base)) continue;  // emitted with its value
      emit_pairs(json::Value(), obj[i], [&](json::Value a, json::Value b, std::int32_t idx) {
        add_child(m, a, b, idx, out);
      });
      continue;
    }
    json::Value ext = any_underscore ? find_underscore(obj, k) : json::Value();
    emit_pairs(obj[i], ext, [&](json::Value a, json::Value b, std::int32_t idx) { add_child(m, a, b, idx, out); });
  }
}

}  // namespace gw::fhir
