// Private: the three-valued set of codes an expansion is made of.
//
// A ConceptSet answers, for any (system, code), one of out / maybe / in:
//
//   state(s, c) = item(s, c).state     if system part s lists code c
//               = part(s).other        if s has a part but does not list c
//               = set.other            if s has no part
//
// `other` is kOut for a closed enumeration and kMaybe when some include could
// not be enumerated (external system, unsupported filter, missing import).
// Set algebra is pointwise with out < maybe < in:
//   unite     = max          (compose.include after compose.include)
//   intersect = min          (valueSet imports within one include)
//   subtract  = min(a, ¬b)   (compose.exclude), ¬in = out, ¬maybe = maybe
// and each result stores only the codes whose state differs from their
// part's default, plus every kIn code (which carries the concept's data).
//
// Invariants:
//   1. item keys are codes normalized by the part's case rule;
//   2. part.items[index[k]].key == k for every key k;
//   3. a stored kOut item only exists in a part whose other is kMaybe;
//   4. items keep the order in which the ValueSet first defined them.
#pragma once

#include "gateway/core/flat_index.hpp"
#include "gateway/terminology/terminology.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gw::terminology::detail {

enum class Tri : std::uint8_t { kOut = 0, kMaybe = 1, kIn = 2 };

/// Transparent hash so maps keyed by std::string are searched with
/// string_view without allocating.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

/// ASCII lower-casing, for case-insensitive code systems.
std::string fold_case(std::string_view s);

struct Item {
  std::string key;  ///< normalized code
  Tri state = Tri::kOut;
  Reason reason = Reason::kNone;  ///< why, when state is kMaybe
  Concept info;                   ///< system/code/display...; meaningful when kIn
};

struct SystemPart {
  std::string system;
  bool case_sensitive = true;
  Tri other = Tri::kOut;
  Reason other_reason = Reason::kNone;
  std::vector<Item> items;
  FlatIndex index;  ///< item key -> position in items

  std::string normalize(std::string_view code) const {
    return case_sensitive ? std::string(code) : fold_case(code);
  }
  /// The stored item for an already-normalized key, or null.
  const Item* item(std::string_view key) const;
  /// Appends or overwrites the item for `item.key`.
  void put(Item item);
  /// State of `code` (not yet normalized) in this system.
  Tri state(std::string_view code, Reason* why = nullptr) const;
};

struct ConceptSet {
  Tri other = Tri::kOut;
  Reason other_reason = Reason::kNone;
  std::vector<SystemPart> parts;
  FlatIndex part_index;  ///< system -> position in parts

  const SystemPart* part(std::string_view system) const;
  /// Appends a part for a system that has none yet.
  void add_part(SystemPart p);
  /// Creates the part on first use with the given case rule.
  SystemPart& part_for(std::string_view system, bool case_sensitive);
  /// State of (system, code); `why` receives the reason when kMaybe.
  Tri state(std::string_view system, std::string_view code, Reason* why = nullptr) const;
  /// Number of stored items over all parts (for the size limit).
  std::size_t size() const;

  /// The set "every code of every system is maybe", for an import that is
  /// not loaded.
  static ConceptSet unknown(Reason why);
  /// "Every code of `system` is maybe; other systems are out".
  static ConceptSet open_system(std::string_view system, bool case_sensitive, Reason why);
};

ConceptSet unite(const ConceptSet& a, const ConceptSet& b);
ConceptSet intersect(const ConceptSet& a, const ConceptSet& b);
ConceptSet subtract(const ConceptSet& a, const ConceptSet& b);

}  // namespace gw::terminology::detail
