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
#pragma once

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

}  // namespace gw::validation::detail
