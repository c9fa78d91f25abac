// The compiled form of a StructureDefinition: a tree of element rules laid
// out for the JSON walk.
//
// A snapshot is a flat, depth-first list of ElementDefinitions identified by
// id ("Observation.component:systolic.code"). The compiler turns it into a
// tree: each ElementPlan has its children (the elements one level down) and,
// when it is sliced, its slices (each an ElementPlan with children of its
// own). Every node is tied to the element of the fhir::Model it constrains,
// and a node with children carries `by_element`, a table from the index of
// a model ElementDef in its owner TypeDef to the child that constrains it,
// and `members`, its owner's member keys (MemberKey), so matching a JSON
// member to its element, type and rule is one hash lookup plus, outside the
// base node of the type, one array read.
//
// Plans are immutable once compiled. They view JSON (fixed and pattern
// values, the definition itself) owned by the registry or model documents,
// which outlive the Validator that owns the plans.
#pragma once

#include "gateway/fhir/fhir.hpp"
#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/terminology/terminology.hpp"
#include "gateway/json/json.hpp"
#include "gateway/validation/detail/fold.hpp"
#include "gateway/validation/detail/primitive.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace gw::validation::detail {

inline constexpr std::uint32_t kUnbounded = 0xFFFFFFFFu;

enum class Strength : std::uint8_t { kNone, kRequired, kExtensible, kPreferred, kExample };

enum class DiscriminatorKind : std::uint8_t { kValue, kExists, kPattern, kType, kProfile };

enum class SlicingRules : std::uint8_t { kOpen, kClosed, kOpenAtEnd };

struct Discriminator {
  DiscriminatorKind kind = DiscriminatorKind::kValue;
  std::string path;  ///< simple FHIRPath: "url", "code.coding", "$this", "resolve()", ...
};

struct Slicing {
  std::vector<Discriminator> discriminators;
  bool ordered = false;
  SlicingRules rules = SlicingRules::kOpen;
};

struct StructurePlan;

/// One entry of ElementDefinition.type.
struct TypeRule {
  std::string code;                       ///< FHIR type code ("Quantity", "Reference", "string")
  const fhir::TypeDef* type = nullptr;    ///< the model type; null when unknown
  std::vector<std::string> profiles;      ///< type.profile (canonicals)
  std::vector<std::string> target_profiles;
  /// Resource types allowed as reference targets, resolved from
  /// target_profiles; `any_target` when unrestricted (no targetProfile, or
  /// Resource).
  std::vector<const fhir::TypeDef*> target_types;
  bool any_target = true;
  /// The base plan of `type` (set by link_type_plans), so that a choice's
  /// value finds its type's rules without a hash lookup per value.
  const StructurePlan* type_plan = nullptr;
};

/// Invariants the validator evaluates itself: either faster than a FHIRPath
/// evaluation on every element (ele-1, ext-1), quadratic in FHIRPath
/// (bdl-7, dom-3), or outside FHIRPath proper (htmlChecks()).
enum class NativeCheck : std::uint8_t {
  kNone,     ///< evaluate the expression with FHIRPath
  kCovered,  ///< checked by the structural walk already (ele-1)
  kExt1,     ///< extension or value, not both
  kDom2,
  kDom3,
  kDom4,
  kDom5,
  kDom6,
  kTxt1,     ///< narrative uses only allowed XHTML (checked with the xhtml primitive)
  kTxt2,     ///< narrative has non-whitespace content
  kBdl7,     ///< fullUrl unique unless versionId differs
  kRef1,     ///< contained references resolve (checked with the reference)
  kBdl3,     ///< entry.request exactly in batch/transaction/history
  kBdl4,     ///< entry.response exactly in batch-response/transaction-response/history
  kSdf9,     ///< no label/code/requirements on a root element (children() walk)
  kExistence,  ///< presence logic over members (detail/fold.hpp), FHIRPath as the fallback
  kBdl8,     ///< an entry's fullUrl has no /_history/
  kTim4,     ///< duration >= 0
  kTim5,     ///< period >= 0
  // Prefilters: the invariant plainly holds for most objects; FHIRPath
  // decides the rest (see is_prefilter).
  kObs7,     ///< holds without a value or without components (else Coding equality)
  kPer1,     ///< holds unless start and end both have values (else dateTime order)
  kTim9,     ///< holds without an offset
  kBdl1,     ///< holds without a total
  kBdl2,     ///< holds when no entry has a search
  kBdl9,     ///< bdl-9, 10, 11: hold when Bundle.type is not 'document'
  kBdl10,
  kBdl11,
  kBdl12,    ///< holds when Bundle.type is not 'message'
};

/// Native checks that only skip the plain cases and leave the rest to the
/// compiled FHIRPath expression.
constexpr bool is_prefilter(NativeCheck n) {
  switch (n) {
    case NativeCheck::kObs7:
    case NativeCheck::kPer1:
    case NativeCheck::kTim9:
    case NativeCheck::kBdl1:
    case NativeCheck::kBdl2:
    case NativeCheck::kBdl9:
    case NativeCheck::kBdl10:
    case NativeCheck::kBdl11:
    case NativeCheck::kBdl12: return true;
    default: return false;
  }
}

/// One constraint (invariant), shared by every node that carries it.
struct Invariant {
  std::string key;
  std::string human;
  std::string expression;
  fhir::Issue::Severity severity = fhir::Issue::Severity::kError;
  bool best_practice = false;
  NativeCheck native = NativeCheck::kNone;
  /// Empty when the expression failed to compile (a load problem) or
  /// invariants are switched off.
  std::optional<fhirpath::Expression> compiled;
  /// Folding (detail/fold.hpp): when `foldable`, an object with none of
  /// `reads` among its members gets `folded` without evaluation (nullopt:
  /// the constraint does not apply, i.e. holds).
  bool foldable = false;
  std::vector<std::string> reads;
  std::optional<bool> folded;
  /// For kExistence: the compiled presence logic.
  std::optional<ExistenceProgram> existence;
};

struct StructurePlan;

/// A type code that holds any resource (contained, Bundle.entry.resource,
/// Parameters.parameter.resource): the value's resourceType decides.
inline bool is_resource_code(std::string_view code) { return code == "Resource" || code == "DomainResource"; }

/// What the walk needs of one JSON member key of a type (choices expanded:
/// "valueQuantity"), taken from the model once. Matching a member then
/// reads one slot of the key table (NameTable keeps a 32-byte value and the
/// key inline in one aligned cache line) where it read the model's slot,
/// then the ElementDef (backbone, array) and the TypeDef (kind): dependent
/// loads from a model larger than the L2 cache, which were two fifths of
/// collect_items' samples (perf, validate only).
struct MemberKey {
  enum Flag : std::uint8_t {
    kArray = 1,       ///< the element repeats: JSON carries an array
    kPrimitive = 2,   ///< item_type is a primitive
    kUnderscore = 4,  ///< an `_key` sibling is allowed: the type the key names is a primitive
    kPlainId = 8,     ///< the element is `id` and not a backbone (Resource.id at a resource root)
  };
  /// The child of the table's `base_node` that constrains this element
  /// (null if none): in the base pass, where nearly every object is walked
  /// against its type's base node, the rule comes with the key instead of
  /// from the node's by_element table (another cache miss per member).
  const struct ElementPlan* base_child = nullptr;
  /// The type of the member's items: the inline backbone, else type_def;
  /// null in a resource slot (contained, Bundle.entry.resource), where the
  /// value's own resourceType decides.
  const fhir::TypeDef* item_type = nullptr;
  /// The type code, viewed in the model's string. Its bytes and size are
  /// held here, not a pointer to the std::string: reading that string's
  /// size and data was one more dependent load per member.
  const char* code_data = nullptr;
  std::uint32_t code_size = 0;
  std::uint16_t elem = 0;  ///< index of the element in the owner's `elements`
  std::uint8_t flags = 0;

  /// Elements a type may have for `elem` (R4's largest has under 200).
  static constexpr std::size_t kMaxElements = 0xFFFF;

  bool has(Flag f) const { return (flags & f) != 0; }
  std::string_view type_code() const { return {code_data, code_size}; }
};
static_assert(sizeof(MemberKey) == 32, "a key-table slot must stay one cache line");

/// The member keys of one model type, shared by every plan node whose
/// children belong to that type. Immutable once built.
struct MemberTable {
  /// The base plan's node for the type (the resource or datatype root, or
  /// the backbone element), whose children `base_child` names. Null when no
  /// base plan has one.
  const struct ElementPlan* base_node = nullptr;
  fhir::NameTable<MemberKey> keys;
  std::deque<std::string> long_keys;  ///< owns keys longer than NameTable::kInline (the table views them)
};

struct ElementPlan {
  // Members in the order the walk reads them. What every item walked reads
  // fills the first three cache lines: the node's own checks and its
  // children's table (line 0), its types and children (line 1), slicing,
  // base element and name (line 2); what rules and objects read follows.
  // A node spread over nine lines (the declaration order of the
  // definition) cost a cache miss per line on the validator's hottest path.

  // ---- read for every item ----
  /// Type whose ElementDefs `by_element` indexes: the backbone or datatype
  /// the children belong to. Null when the node has no children.
  const fhir::TypeDef* owner = nullptr;
  /// Owner element index -> the child constraining it (null if none). The
  /// child itself, not its index in `children`: one dependent load fewer
  /// per member group.
  std::vector<const ElementPlan*> by_element;
  /// The owner's member keys (set with `owner`).
  const MemberTable* members = nullptr;
  /// The type of this node when it has exactly one (null otherwise).
  const fhir::TypeDef* single_type = nullptr;
  std::uint32_t min = 0;
  std::uint32_t max = kUnbounded;
  bool is_root = false;
  bool is_modifier = false;
  bool check_binding = false;  ///< false when the base pass already checks the same binding
  Strength strength = Strength::kNone;
  /// False when the node has no fixed or pattern value, no value limits, no
  /// binding to check and no invariants: check_rules then has nothing to do
  /// unless the value is a Coding, Quantity or Reference. Set by
  /// link_type_plans; true (check everything) until then.
  bool has_rules = true;
  /// Some type rule names profiles (type.profile): otherwise the walk does
  /// not read the rule to find none.
  bool type_profiles = false;
  // -- line 1
  std::vector<TypeRule> types;
  std::vector<ElementPlan*> children;
  /// Datatype plan for a node without children in the snapshot, when it has
  /// one concrete type: the walk descends into it in the base pass.
  const StructurePlan* type_plan = nullptr;
  /// For a contentReference element (Questionnaire.item.item): the node
  /// whose children it shares.
  const ElementPlan* content_ref = nullptr;
  // -- line 2
  std::unique_ptr<Slicing> slicing;
  const fhir::ElementDef* base = nullptr;  ///< model element constrained (null for the root)
  std::string name;        ///< JSON name without [x]; "" for the root

  // ---- read per object, or when the node has rules ----
  std::vector<std::uint32_t> required;   ///< children indices with min > 0
  std::vector<const Invariant*> invariants;
  json::Value fixed;           ///< fixed[x] value (absent if none)
  json::Value pattern;         ///< pattern[x] value
  std::int64_t max_length = -1;
  std::shared_ptr<const re2::RE2> regex;  ///< regex extension on the element
  json::Value min_value;       ///< minValue[x]
  json::Value max_value;       ///< maxValue[x]

  // ---- read when a rule applies or an issue is reported ----
  std::vector<ElementPlan*> slices;
  const StructurePlan* structure = nullptr;
  std::string value_set;       ///< binding.valueSet canonical
  /// The bound value set's expansion, fetched on first use (the Validator
  /// keeps it alive); lets a member code be accepted with one hash lookup.
  mutable std::atomic<const terminology::Expansion*> expansion{nullptr};
  mutable std::atomic<bool> expansion_unavailable{false};
  std::string id;          ///< ElementDefinition.id
  std::string path;        ///< ElementDefinition.path
  std::string slice_name;  ///< for slices
  json::Value definition;      ///< the ElementDefinition JSON

  /// The child constraining the owner's element number `elem` (null if none).
  const ElementPlan* child_at(std::size_t elem) const {
    return elem < by_element.size() ? by_element[elem] : nullptr;
  }
  const TypeRule* type_rule(std::string_view code) const {
    for (const TypeRule& t : types) {
      if (t.code == code) return &t;
    }
    return nullptr;
  }
  /// The rule for a value of model type `type` named `code`: by the type
  /// first (a pointer compare, per element walked), by the code otherwise
  /// (backbone elements, whose rule names BackboneElement).
  const TypeRule* type_rule(std::string_view code, const fhir::TypeDef* type) const {
    if (type) {
      for (const TypeRule& t : types) {
        if (t.type == type) return &t;
      }
    }
    return type_rule(code);
  }
};

/// Where an extension may be used (StructureDefinition.context).
struct ExtensionContext {
  std::string type;        ///< "element", "extension", "fhirpath"
  std::string expression;  ///< "Patient", "Element", "Observation.component", an extension url
};

/// Primitive value rules of a primitive type (from its `.value` element).
struct PrimitiveRules {
  PrimitiveKind kind = PrimitiveKind::kOther;
  std::shared_ptr<const re2::RE2> regex;
  std::int64_t max_length = -1;
  /// The regex is the one R4 publishes and a hand-written checker for it
  /// exists: use that (faster, same language).
  bool fast = false;
};

struct StructurePlan {
  std::string url;
  std::string version;
  std::string type_name;
  const fhir::TypeDef* type = nullptr;
  bool is_base = false;       ///< a base type (specialization), not a constraint
  bool is_extension = false;  ///< type is Extension (an extension definition)
  bool is_modifier_extension = false;
  std::vector<ExtensionContext> contexts;
  PrimitiveRules primitive;   ///< for primitive types
  json::Value sd;
  ElementPlan* root = nullptr;
  std::vector<std::unique_ptr<ElementPlan>> nodes;
  /// Holds a generated snapshot when the definition shipped without one.
  std::shared_ptr<const json::Document> generated;
};

}  // namespace gw::validation::detail
