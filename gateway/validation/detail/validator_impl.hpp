// The Validator's state: the base type plans (compiled at creation), the
// once-per-profile slots for every other StructureDefinition of the
// registry, the interned invariants and the load problems.
//
// Thread-safety: everything here is immutable after create() except
//   - Slot::plan, written once under Slot::once (std::call_once);
//   - the invariant table and the problem list, each behind its mutex,
//     touched only while compiling a plan (never on the validation hot path).
#pragma once

#include "gateway/packages/packages.hpp"
#include "gateway/terminology/terminology.hpp"
#include "gateway/validation/detail/plan.hpp"
#include "gateway/validation/validation.hpp"

#include <deque>
#include <mutex>
#include <unordered_map>

namespace gw::validation {

struct Validator::Impl {
  std::shared_ptr<const packages::Registry> registry;
  std::shared_ptr<const fhir::Model> model;
  ValidatorOptions options;

  // ---- base types ----
  std::unordered_map<const fhir::TypeDef*, std::unique_ptr<detail::StructurePlan>> base_plans;
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
  /// The expansion of a node's bound value set, or null (cached on the node).
  const terminology::Expansion* expansion_for(const detail::ElementPlan& node) const;

  /// The plan of a base type (null for types without a definition).
  const detail::StructurePlan* base_plan(const fhir::TypeDef* type) const {
    auto it = base_plans.find(type);
    return it == base_plans.end() ? nullptr : it->second.get();
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
