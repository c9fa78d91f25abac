// The Validator's state: the base type plans (compiled at creation), the
// once-per-profile slots for every other StructureDefinition of the
// registry, the interned invariants and the load problems.
//
// Thread-safety: everything here is immutable after create() except
//   - Slot::plan, written once under Slot::once (std::call_once);
//   - the invariant table and the problem list, each behind its mutex,
//     touched only while compiling a plan (never on the validation hot path);
//   - the pool of walk scratch (take_scratch/give_back_scratch), behind its
//     mutex: one lock to take and one to give back per validation.
#pragma once

#include "gateway/packages/packages.hpp"
#include "gateway/terminology/terminology.hpp"
#include "gateway/validation/detail/plan.hpp"
#include "gateway/validation/validation.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gw::validation {
namespace detail {

struct DepthScratch;  // walker.hpp
/// walk_object's per-depth vectors, lent to one validation at a time.
using WalkScratch = std::vector<std::unique_ptr<DepthScratch>>;

/// A read-only map from pointers (model types) to plan pointers, for the
/// lookup made per resource: open addressing over (key, value) pairs, so a
/// hit usually reads one line (std::unordered_map's bucket, then node, were
/// two dependent misses: 0.7% of a parse+validate of the corpus).
template <class K, class V>
class PointerMap {
 public:
  void build(const std::vector<std::pair<const K*, V*>>& entries) {
    std::size_t n = 8;
    while (n < entries.size() * 2) n *= 2;
    slots_.assign(n, {});
    for (const auto& [k, v] : entries) {
      std::size_t i = slot_of(k);
      while (slots_[i].first != nullptr) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = {k, v};
    }
  }
  V* find(const K* key) const {
    if (slots_.empty() || key == nullptr) return nullptr;
    for (std::size_t i = slot_of(key);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].first == key) return slots_[i].second;
      if (slots_[i].first == nullptr) return nullptr;
    }
  }

 private:
  std::size_t slot_of(const K* k) const {
    // Fibonacci hashing of the address: its low bits are alignment, its
    // high bits the same for every object of one allocation run.
    const auto a = reinterpret_cast<std::uintptr_t>(k);
    return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ull) >> 32) & (slots_.size() - 1);
  }
  std::vector<std::pair<const K*, V*>> slots_;
};

}  // namespace detail

struct Validator::Impl {
  ~Impl();

  std::shared_ptr<const packages::Registry> registry;
  std::shared_ptr<const fhir::Model> model;
  ValidatorOptions options;

  // ---- base types ----
  std::unordered_map<const fhir::TypeDef*, std::unique_ptr<detail::StructurePlan>> base_plans;
  /// base_plans for lookups (filled once they are all compiled).
  detail::PointerMap<fhir::TypeDef, const detail::StructurePlan> base_plan_index;
  /// Every model type's member keys (built once the base plans exist;
  /// link_type_plans points plan nodes at them).
  std::unordered_map<const fhir::TypeDef*, std::unique_ptr<detail::MemberTable>> member_tables;

  // ---- profiles and extension definitions, compiled on first use ----
  struct Slot {
    const packages::Entry* entry = nullptr;
    std::once_flag once;
    std::unique_ptr<detail::StructurePlan> plan;
  };
  std::vector<std::unique_ptr<Slot>> slot_storage;
  std::unordered_map<std::string_view, Slot*> slots;  // url and url|version
  std::deque<std::string> slot_keys;                  // owns the url|version keys

  // ---- shared invariants ----
  mutable std::mutex invariants_mu;
  mutable std::unordered_map<std::string, std::unique_ptr<detail::Invariant>> invariants;

  /// Key of the hash of indexes built from request data (a Bundle's
  /// fullUrls), drawn once per validator: see gw::flat_hash.
  std::uint64_t hash_seed = 0;

  /// "{}", the focus invariants are folded on.
  json::Document empty_object;

  mutable std::mutex problems_mu;
  mutable std::vector<LoadProblem> problems;

  // Frequently used model types.
  const fhir::TypeDef* t_extension = nullptr;
  const fhir::TypeDef* t_reference = nullptr;
  const fhir::TypeDef* t_resource = nullptr;
  const fhir::TypeDef* t_element = nullptr;
  const fhir::TypeDef* t_bundle = nullptr;
  const fhir::TypeDef* t_coding = nullptr;
  const fhir::TypeDef* t_codeable_concept = nullptr;
  const fhir::TypeDef* t_quantity = nullptr;
  const fhir::TypeDef* t_narrative = nullptr;
  const fhir::TypeDef* t_id = nullptr;

  // Expansions fetched for bindings, kept alive for the plans that point
  // at them (bounded by the number of bound elements).
  mutable std::mutex expansions_mu;
  mutable std::vector<std::shared_ptr<const terminology::Expansion>> expansions;
  // walk_object's scratch, kept between validations: a walker borrows one
  // set and gives it back, so a validation allocates no per-depth vectors
  // once the pool is warm (their allocation and release were 1.3% of a
  // parse+validate). At most one set per validation running at once.
  mutable std::mutex scratch_mu;
  mutable std::vector<detail::WalkScratch> scratch_pool;
  detail::WalkScratch take_scratch() const;
  void give_back_scratch(detail::WalkScratch scratch) const;

  /// The expansion of a node's bound value set, or null (cached on the node).
  const terminology::Expansion* expansion_for(const detail::ElementPlan& node) const;

  /// The plan of a base type (null for types without a definition).
  const detail::StructurePlan* base_plan(const fhir::TypeDef* type) const {
    return base_plan_index.find(type);
  }

  /// The member keys of a model type (null for a type the model does not own).
  const detail::MemberTable* members(const fhir::TypeDef* type) const {
    auto it = member_tables.find(type);
    return it == member_tables.end() ? nullptr : it->second.get();
  }

  /// Plan for a canonical ("url" or "url|version"): a base type's plan or a
  /// profile compiled on first use. Null when unknown or not compilable
  /// (a load problem says why).
  const detail::StructurePlan* plan(std::string_view canonical) const;

  /// Records a load problem (deduplicated).
  void problem(std::string_view definition, std::string_view element, std::string message) const;

  /// The shared Invariant for a constraint JSON object, compiling its
  /// expression once. `context` is the type it is evaluated on.
  const detail::Invariant* intern_invariant(json::Value constraint, std::string_view definition,
                                            const fhir::TypeDef* context) const;

  /// Resource type named by a (target) profile canonical: a base resource
  /// type or the type a profile constrains. Null when unknown.
  const fhir::TypeDef* type_of_profile(std::string_view canonical) const;
};

namespace detail {

/// Compiles a StructureDefinition (with snapshot, or a differential whose
/// snapshot is generated) into a plan. Base plans are linked to the type
/// plans of their elements by `link_type_plans` once all base plans exist.
Result<std::unique_ptr<StructurePlan>> compile_plan(const Validator::Impl& v, json::Value sd);
/// The member keys of `type`, as the model's key table has them (each
/// element by name, a choice once per type: name + capitalized code), with
/// the children of `base_node` (the base plan's node for the type, or null).
std::unique_ptr<MemberTable> build_member_table(const fhir::TypeDef& type, const ElementPlan* base_node);
void link_type_plans(const Validator::Impl& v, StructurePlan& plan);

/// Generates a snapshot for a differential-only profile by merging its
/// differential onto the snapshot of its base. The returned document holds
/// the whole StructureDefinition with `snapshot.element` filled in.
Result<std::shared_ptr<const json::Document>> generate_snapshot(const Validator::Impl& v,
                                                                json::Value sd);

}  // namespace detail
}  // namespace gw::validation
