// gw::fhir — the typed element model: a FHIR resource seen through the
// StructureDefinitions of its types.
//
// JSON alone does not say that `Patient.birthDate` is a date, that
// `valueQuantity` is the element `value` with type Quantity, or that
// `_birthDate` carries the extensions of `birthDate`. The Model knows, because
// it is built from the base StructureDefinition snapshots (R4 core). FHIRPath
// and the validator both navigate resources through it.
//
//   auto model = gw::fhir::Model::from_registry(*registry);      // once, at start-up
//   auto doc = gw::json::Document::parse(bytes);
//   auto root = (*model)->resource(doc->root());                  // Result<Node>
//   std::vector<gw::fhir::Node> names;
//   (*model)->children(*root, "name", names);                     // Patient.name
//
// Model: immutable after build, shared read-only between threads as
// std::shared_ptr<const Model>. Node: a small value (a few pointers) valid
// while both the Model and the json::Document it points into live.
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/core/flat_index.hpp"
#include "gateway/json/json.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace gw::packages {
class Registry;
}

namespace gw::fhir {

enum class TypeKind : std::uint8_t {
  kPrimitive,  ///< boolean, string, date, ... (JSON scalar + optional `_x`)
  kComplex,    ///< datatypes such as Quantity, CodeableConcept, and backbone elements
  kResource,   ///< resources, including the abstract Resource and DomainResource
  kLogical,    ///< logical models (not instantiated in JSON exchange)
};

/// The FHIRPath System type a FHIR primitive maps to.
enum class SystemType : std::uint8_t {
  kNone,  ///< not a primitive
  kBoolean,
  kString,
  kInteger,
  kDecimal,
  kDate,
  kDateTime,
  kTime,
};

struct TypeDef;

/// A read-mostly map from names to small values, for the lookups made per
/// JSON member and per resource: open addressing (linear probing, power-of-
/// two size, at most half full) with an inline hash (gw::flat_hash) kept in
/// each slot and compared before the bytes (gw::flat_equal, inline too).
/// Names are short, so this beats std::unordered_map's out-of-line murmur
/// hash, node chasing and a memcmp call per probe. A name of up to
/// kInline bytes is copied into its slot: comparing it then reads the line
/// the hash came from, not a string elsewhere in memory (for the per-member
/// key lookup of the validator, that second cache miss was a tenth of the
/// walk's own time). Longer names are views: their bytes must outlive the
/// table. The first value added for a name wins.
template <class V>
class NameTable {
 public:
  static constexpr std::size_t kInline = 16;

  void add(std::string_view key, V value) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    const std::uint32_t h = hash(key);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.tag == 0) {
        s.set_key(key);
        s.hash = h;
        s.value = std::move(value);
        ++used_;
        return;
      }
      if (s.hash == h && flat_equal(s.key(), key)) return;
    }
  }
  /// The value for `key`, or null.
  const V* find(std::string_view key) const {
    if (slots_.empty()) return nullptr;
    const std::uint32_t h = hash(key);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.tag == 0) return nullptr;
      if (s.hash == h && flat_equal(s.key(), key)) return &s.value;
    }
  }

 private:
  struct SlotFields {
    std::uint32_t hash = 0;
    std::uint32_t tag = 0;          ///< 0: unused; else the key's size + 1
    const char* outside = nullptr;  ///< the key's bytes when longer than kInline
    char inside[kInline] = {};      ///< the key's bytes when it fits
    V value{};
    std::string_view key() const {
      const std::size_t n = tag - 1;
      return {n <= kInline ? inside : outside, n};
    }
    void set_key(std::string_view k) {
      tag = static_cast<std::uint32_t>(k.size() + 1);
      if (k.size() <= kInline) {
        std::copy(k.begin(), k.end(), inside);
      } else {
        outside = k.data();
      }
    }
  };
  // A slot of exactly one cache line (the validator's key table: name
  // inline, KeyMatch) is aligned to one, so a lookup reads one line; the
  // vector's default alignment put half of them across two.
  struct alignas(64) LineSlot : SlotFields {};
  using Slot = std::conditional_t<sizeof(SlotFields) == 64, LineSlot, SlotFields>;
  static std::uint32_t hash(std::string_view s) { return static_cast<std::uint32_t>(flat_hash(s) >> 32); }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    std::size_t n = 8;
    while (n < (used_ + 1) * 2) n *= 2;
    slots_.assign(n, Slot{});
    used_ = 0;
    for (Slot& s : old) {
      if (s.tag != 0) add(s.key(), std::move(s.value));
    }
  }
  std::vector<Slot> slots_;
  std::size_t used_ = 0;
};

/// One element of a type, from the base StructureDefinition snapshot.
struct ElementDef {
  std::string name;                ///< JSON name without [x]: "value", "birthDate"
  std::string path;                ///< "Observation.value[x]", "Patient.contact.name"
  std::vector<std::string> types;  ///< type codes ("Quantity", "string", "BackboneElement")
  /// Parallel to `types`: the type each code names, resolved once when the
  /// Model is built (null when the model lacks it), so that walking an
  /// instance never looks a type up by name.
  std::vector<const TypeDef*> type_defs;
  bool is_choice = false;          ///< path ends in [x]
  bool is_array = false;           ///< max is not "0" or "1": JSON carries an array
  std::uint32_t min = 0;
  std::string max;                 ///< "1", "*", "0", ...
  bool is_modifier = false;
  bool is_summary = false;
  /// Children of an inline BackboneElement/Element, or of the element a
  /// `contentReference` points at (Questionnaire.item.item). Null otherwise.
  const TypeDef* backbone = nullptr;
  /// The ElementDefinition in the snapshot (for constraints, bindings, ...).
  json::Value definition;
};

/// A type: a datatype, a resource, or an inline backbone element (whose
/// name is its path, "Patient.contact").
struct TypeDef {
  std::string name;
  std::string url;                 ///< canonical of the StructureDefinition ("" for backbones)
  TypeKind kind = TypeKind::kComplex;
  SystemType system_type = SystemType::kNone;  ///< for primitives
  bool is_abstract = false;
  const TypeDef* base = nullptr;   ///< DomainResource for Patient, Element for Quantity, ...
  /// Every element the instance may carry, inherited ones included (the
  /// snapshot lists them all), in definition order.
  std::vector<ElementDef> elements;
  json::Value structure_definition;  ///< absent for backbones

  /// Element by its name without [x] ("value" for value[x]).
  const ElementDef* element(std::string_view name) const;

  /// What a JSON member key denotes: the element and, for a choice, the
  /// chosen type ("valueQuantity" -> value[x] with "Quantity"). For `_x`
  /// keys pass the name without the underscore.
  struct KeyMatch {
    const ElementDef* element = nullptr;
    std::string_view type;             ///< the concrete type code
    const TypeDef* type_def = nullptr;  ///< the type `type` names; null when unknown
  };
  KeyMatch match_key(std::string_view json_key) const;
  /// The same, by reference into the key table (null when unknown): the
  /// validator's per-member lookup keeps the pointer instead of a copy.
  const KeyMatch* find_key(std::string_view json_key) const { return key_index.find(json_key); }

  /// True when this type is `other` or derives from it.
  bool is_a(const TypeDef* other) const;

  // Filled by the Model: JSON key -> match (choice types expanded), and
  // element name -> definition. Keys view strings owned by `elements` and
  // `key_storage`.
  NameTable<KeyMatch> key_index;
  NameTable<const ElementDef*> element_index;
  std::vector<std::unique_ptr<std::string>> key_storage;
};

/// A FHIR element inside a parsed resource.
///
/// For a primitive, `value` is the JSON scalar and `extension_part` the
/// object under the `_name` sibling (id and extensions); either may be
/// absent, never both. For complex elements and resources, `value` is the
/// JSON object.
struct Node {
  json::Value value;
  json::Value extension_part;
  const TypeDef* type = nullptr;       ///< concrete type (from resourceType, the choice suffix, ...)
  const ElementDef* element = nullptr; ///< definition it came from; null for a root resource
  std::string_view name;               ///< element name ("value" for valueQuantity); "" for a root
  std::int32_t index = -1;             ///< position in its JSON array, -1 for single values

  bool is_primitive() const { return type && type->kind == TypeKind::kPrimitive; }
  bool is_resource() const { return type && type->kind == TypeKind::kResource; }
  /// The primitive's value as JSON scalar text (empty when only `_x` exists).
  bool has_primitive_value() const { return value && value.is_scalar() && !value.is_null(); }
  /// Identity: same JSON place.
  friend bool operator==(const Node& a, const Node& b) {
    return a.value == b.value && a.extension_part == b.extension_part && a.type == b.type;
  }
};

/// The type catalogue of one FHIR version, built from base StructureDefinitions.
class Model {
 public:
  /// Builds from StructureDefinition resources (root JSON objects with a
  /// snapshot). The caller keeps the Documents alive as long as the Model.
  /// Only base definitions (derivation "specialization", or none) become
  /// types; constraining profiles are ignored here.
  /// Errors: kParse when a definition lacks the fields a type needs.
  static Result<std::shared_ptr<const Model>> build(std::span<const json::Value> structure_definitions);

  /// Builds from every base StructureDefinition in a registry (R4 core).
  /// The registry must outlive the Model.
  static Result<std::shared_ptr<const Model>> from_registry(const packages::Registry& registry);

  /// Type by name ("Patient", "string", "Quantity", "Patient.contact").
  /// Also accepts the canonical URL of a base type.
  const TypeDef* type(std::string_view name) const;

  /// All types, in build order.
  const std::vector<std::unique_ptr<TypeDef>>& types() const { return types_; }

  /// Root node of a resource: `obj` must be a JSON object whose
  /// `resourceType` names a known resource type. Errors (kParse) name the
  /// problem without quoting data.
  Result<Node> resource(json::Value obj) const;

  /// The type of a member's value `v` that `m` matched: the element's
  /// inline backbone, the value's own resourceType where the element holds
  /// any resource (contained, Bundle.entry.resource), else the type the
  /// key names. Null when unknown (the validator reports it).
  const TypeDef* value_type(const TypeDef::KeyMatch& m, json::Value v) const;

  /// Appends the children of `parent` named `name` (element name; a choice
  /// element's base name matches whichever type is present). For arrays,
  /// one Node per item, with primitive `_x` arrays paired by index. Unknown
  /// names give nothing. Contained resources and Bundle.entry.resource get
  /// their type from their own resourceType.
  void children(const Node& parent, std::string_view name, std::vector<Node>& out) const;

  /// Appends every child element of `parent` in JSON order (unknown JSON
  /// members are skipped: the validator reports those).
  void children(const Node& parent, std::vector<Node>& out) const;

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

 private:
  Model();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::unique_ptr<TypeDef>> types_;
  NameTable<const TypeDef*> by_name_;
  void add_child(const TypeDef::KeyMatch& m, json::Value v, json::Value ext, std::int32_t index,
                 std::vector<Node>& out) const;
  friend struct ModelBuilder;
};

/// A problem found in data, ready for an OperationOutcome issue.
/// `expression` is a FHIRPath-style location (Patient.name[0].given[1]).
/// The diagnostics text describes the problem, never the data.
struct Issue {
  enum class Severity : std::uint8_t { kFatal, kError, kWarning, kInformation };
  Severity severity = Severity::kError;
  std::string code;        ///< OperationOutcome issue type: "structure", "invalid", "value", ...
  std::string expression;  ///< FHIRPath location, "" when the problem is the whole input
  json::Position position; ///< line/column in the source (0/0 when unknown)
  std::string diagnostics;
  friend bool operator==(const Issue&, const Issue&) = default;
};

std::string_view to_string(Issue::Severity s);

/// How many issues an OperationOutcome lists by default. A small bundle of
/// many bad entries can raise hundreds of thousands of issues; answering
/// with all of them would turn a 4 MB request into a far larger reply.
inline constexpr std::size_t kMaxListedIssues = 1000;

/// Writes issues as a FHIR OperationOutcome JSON object (with the line and
/// column as the standard operationoutcome-issue-line/-col extensions).
/// Above `max_listed` issues, errors are listed before warnings (each in
/// their original order) and one closing `too-costly` information issue
/// says how many were left out.
std::string operation_outcome_json(std::span<const Issue> issues, bool pretty = false,
                                   std::size_t max_listed = kMaxListedIssues);

/// Parses bytes as a FHIR resource: JSON well-formed (hardened parse), root an
/// object with a string resourceType. A failure is returned as one fatal
/// Issue with its line and column, ready for an OperationOutcome.
struct ParsedResource {
  json::Document document;
  std::vector<Issue> issues;  ///< empty when parsing succeeded
  bool ok() const { return issues.empty(); }
};
ParsedResource parse_resource(std::string bytes);

}  // namespace gw::fhir
