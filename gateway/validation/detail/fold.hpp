// Constant folding of invariants for absent content.
//
// Most constraints read a few members of their focus ("fixed.empty() or
// (type.count() <= 1)") and nothing else. When none of those members is
// present in a given object, the constraint's value is the same as on an
// empty object of that type: a constant, computed once at load time. The
// walker then skips the FHIRPath evaluation for such objects, which is most
// of them (an ElementDefinition carries twenty constraints and a handful of
// members).
//
// The analysis is lexical and conservative: it collects every identifier
// that starts a path (is not after a '.'), and gives up (nullopt) on
// anything that could read the focus some other way: environment variables
// (%resource), $this, and function calls without an input (hasValue(),
// children(), now(), ...) except iif(), whose arguments it scans like the
// rest. Over-collecting names only makes folding apply less often.
//
// Existence logic (compile_existence): many constraints are boolean
// combinations of "member present / absent" ("code.empty() or
// system.exists()", qty-3; "dataAbsentReason.empty() or value.empty()",
// obs-6). They run on every Quantity, Coding or Observation, and a FHIRPath
// evaluation costs thousands of instructions and several allocations for
// what is a scan of the object's keys. Such expressions compile to a small
// postfix program the walker evaluates on the JSON object directly; any
// other expression is left to FHIRPath.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::validation::detail {

/// The member names an expression may read from its focus, or nullopt when
/// the expression may read more than members (not foldable).
std::optional<std::vector<std::string>> focus_members(std::string_view expression);

/// True when JSON member `key` may carry element `name` ("name", "_name",
/// a choice "nameQuantity", "_nameString").
bool key_may_hold(std::string_view key, std::string_view name);

/// A compiled existence expression: postfix steps over member presence.
struct ExistenceProgram {
  enum class Op : std::uint8_t { kPresent, kAbsent, kNot, kAnd, kOr, kXor, kImplies };
  struct Step {
    Op op;
    std::uint8_t name = 0;  ///< index into names (kPresent, kAbsent)
  };
  std::vector<Step> steps;
  std::vector<std::string> names;
};

/// Names one program may test (run_existence takes one bit per name).
inline constexpr std::size_t kMaxExistenceNames = 64;

/// Compiles the grammar
///   expr := implies;  implies := or ('implies' or)*;  or := and (('or'|'xor') and)*;
///   and := atom ('and' atom)*;
///   atom := '(' expr ')' | NAME '.' ('exists'|'empty') '()' ('.' 'not' '()')?
/// (FHIRPath's precedence: and over or/xor over implies), or nullopt for
/// anything else (and for more than kMaxExistenceNames names). Every atom
/// is a definite boolean, so FHIRPath's three-valued logic reduces to two
/// values here.
std::optional<ExistenceProgram> compile_existence(std::string_view expression);

/// Runs `program` where bit i of `present` says whether names[i] is present.
bool run_existence(const ExistenceProgram& program, std::uint64_t present);

}  // namespace gw::validation::detail
