// Private: how FHIR elements become FHIRPath values, and FHIRPath's
// equality, equivalence and ordering on items and collections.
#pragma once

#include "gateway/fhirpath/fhirpath.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gw::fhirpath::detail {

/// True when `t` is the FHIR type `name` or derives from it (by name, so no
/// model lookup is needed: "Age" derives from "Quantity").
bool derives_from(const fhir::TypeDef* t, std::string_view name);

/// The System value an item stands for: System values are returned as they
/// are; a primitive node gives its parsed value (a FHIR `code` gives a
/// String, a `dateTime` a DateTime even when it is written "2001-05-06");
/// a Quantity (or Age, Duration, ...) node gives a Quantity. nullopt for
/// other complex nodes, for primitives that carry only extensions, and for
/// primitive text that does not parse (the validator reports that).
std::optional<Item> system_value(const Item& item);

/// The System kind the item has or converts to without parsing: a System
/// value's own kind, the System type of a primitive node; nullopt for
/// complex nodes.
std::optional<ItemKind> system_kind(const Item& item);

/// The String an item stands for (String values and string-like primitive
/// nodes: string, code, uri, id, markdown, ...); nullopt otherwise.
std::optional<std::string> string_value(const Item& item);

/// FHIRPath `=` on two single items: nullopt when the answer is empty
/// (indeterminate date precision, incompatible quantity units).
std::optional<bool> equal_items(const Item& a, const Item& b);
/// FHIRPath `~` on two single items.
bool equivalent_items(const Item& a, const Item& b);

/// FHIRPath ordering (<, <=, >, >=) on two single items.
struct Comparison {
  enum class Status : std::uint8_t { kOk, kEmpty, kIncompatible };
  Status status = Status::kIncompatible;
  int sign = 0;  // when kOk: negative, zero, positive
};
Comparison compare_items(const Item& a, const Item& b);

/// `=` and `~` on collections (order matters for `=`, not for `~`).
std::optional<bool> equal_collections(const Collection& a, const Collection& b);
bool equivalent_collections(const Collection& a, const Collection& b);

/// A hash consistent with equal_items() == true (equal items hash alike).
std::size_t item_hash(const Item& item);

/// A set of items under FHIRPath equality, for union(), distinct(),
/// intersect(), exclude(), subsetOf() and repeat(). Lookups are hashed, so
/// these functions stay near-linear on large collections of most kinds.
/// Quantities and dates hash coarsely (equality converts units and
/// time zones), so many of them land in one bucket and a lookup compares
/// with each: each comparison adds to `*work` (when given) its cost in
/// work units, which the evaluator bounds (EvaluationContext::max_work).
class ItemSet {
 public:
  explicit ItemSet(std::uint64_t* work = nullptr) : work_(work) {}
  /// True if an equal item is present.
  bool contains(const Item& item) const;
  /// Adds `item` unless an equal one is present; returns true if added.
  bool insert(const Item& item);
  std::size_t size() const { return items_.size(); }

 private:
  bool equal(const Item& stored, const Item& item, std::uint64_t cost) const;

  std::vector<Item> items_;
  std::unordered_multimap<std::size_t, std::size_t> index_;
  std::uint64_t* work_;
};

/// Strips leading/trailing whitespace and folds inner runs to one space,
/// lower-cased: the normal form string equivalence (`~`) compares.
std::string normalize_for_equivalence(std::string_view s);

}  // namespace gw::fhirpath::detail
