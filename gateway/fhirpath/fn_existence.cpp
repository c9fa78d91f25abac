// Existence functions (N1 §5.1) and not().
//
// Criteria (exists(c), all(c)) use the singleton rule of truth_value():
// a criterion giving several items is an execution error, one non-Boolean
// item counts as true. allTrue() and friends are stricter by design: every
// item must be a Boolean (`(true | 'foo').allTrue()` is an error in the
// suite). Set operations compare with FHIRPath `=` through ItemSet, which
// hashes so that subsetOf() on large collections stays near-linear.
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

namespace gw::fhirpath::detail {

namespace {

Collection boolean(bool b) { return Collection{Item::boolean(b)}; }

Result<Collection> fn_empty(Evaluator&, const Op&, const Collection& input, const Scope&) {
  return boolean(input.empty());
}

Result<Collection> fn_exists(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  if (call.args.empty()) return boolean(!input.empty());
  for (std::size_t i = 0; i < input.size(); ++i) {
    GW_TRY(Collection r, ev.lambda(call, 0, input[i], static_cast<std::int64_t>(i)));
    GW_TRY(std::optional<bool> t, truth_value(ev, call, r));
    if (t == true) return boolean(true);
  }
  return boolean(false);
}

Result<Collection> fn_all(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  for (std::size_t i = 0; i < input.size(); ++i) {
    GW_TRY(Collection r, ev.lambda(call, 0, input[i], static_cast<std::int64_t>(i)));
    GW_TRY(std::optional<bool> t, truth_value(ev, call, r));
    if (t != true) return boolean(false);
  }
  return boolean(true);
}

// allTrue/anyTrue/allFalse/anyFalse: every item must be a Boolean.
Result<std::vector<bool>> booleans(Evaluator& ev, const Op& call, const Collection& input) {
  std::vector<bool> out;
  for (const Item& i : input) {
    std::optional<Item> v = system_value(i);
    if (!v || v->kind() != ItemKind::kBoolean) {
      return ev.error(call, "function '" + call.name + "' expects a collection of Booleans, found " +
                                i.type_name());
    }
    out.push_back(v->boolean());
  }
  return out;
}

Result<Collection> fn_all_true(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::vector<bool> b, booleans(ev, call, input));
  for (bool x : b) {
    if (!x) return boolean(false);
  }
  return boolean(true);
}

Result<Collection> fn_any_true(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::vector<bool> b, booleans(ev, call, input));
  for (bool x : b) {
    if (x) return boolean(true);
  }
  return boolean(false);
}

Result<Collection> fn_all_false(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::vector<bool> b, booleans(ev, call, input));
  for (bool x : b) {
    if (x) return boolean(false);
  }
  return boolean(true);
}

Result<Collection> fn_any_false(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::vector<bool> b, booleans(ev, call, input));
  for (bool x : b) {
    if (!x) return boolean(true);
  }
  return boolean(false);
}

Result<bool> subset(Evaluator& ev, const Op& call, const Collection& small, const Collection& big) {
  ItemSet set = ev.item_set();
  for (const Item& i : big) {
    set.insert(i);
    GW_CHECK_OK(ev.check_work(call));
  }
  for (const Item& i : small) {
    if (!set.contains(i)) return false;
    GW_CHECK_OK(ev.check_work(call));
  }
  return true;
}

Result<Collection> fn_subset_of(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(Collection other, ev.arg(call, 0, scope));
  GW_TRY(bool s, subset(ev, call, input, other));
  return boolean(s);
}

Result<Collection> fn_superset_of(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(Collection other, ev.arg(call, 0, scope));
  GW_TRY(bool s, subset(ev, call, other, input));
  return boolean(s);
}

Result<Collection> fn_count(Evaluator&, const Op&, const Collection& input, const Scope&) {
  return Collection{Item::integer(static_cast<std::int64_t>(input.size()))};
}

Result<Collection> fn_distinct(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  ItemSet set = ev.item_set();
  Collection out;
  for (const Item& i : input) {
    if (set.insert(i)) out.push_back(i);
    GW_CHECK_OK(ev.check_work(call));
  }
  return out;
}

Result<Collection> fn_is_distinct(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  ItemSet set = ev.item_set();
  for (const Item& i : input) {
    if (!set.insert(i)) return boolean(false);
    GW_CHECK_OK(ev.check_work(call));
  }
  return boolean(true);
}

Result<Collection> fn_not(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::optional<bool> t, truth_value(ev, call, input));
  if (!t) return Collection{};
  return boolean(!*t);
}

constexpr FunctionDef kFunctions[] = {
    {"empty", 0, 0, fn_empty, ArgMode::kValues, ResultKind::kBoolean},
    {"exists", 0, 1, fn_exists, ArgMode::kLambda, ResultKind::kBoolean},
    {"all", 1, 1, fn_all, ArgMode::kLambda, ResultKind::kBoolean},
    {"allTrue", 0, 0, fn_all_true, ArgMode::kValues, ResultKind::kBoolean},
    {"anyTrue", 0, 0, fn_any_true, ArgMode::kValues, ResultKind::kBoolean},
    {"allFalse", 0, 0, fn_all_false, ArgMode::kValues, ResultKind::kBoolean},
    {"anyFalse", 0, 0, fn_any_false, ArgMode::kValues, ResultKind::kBoolean},
    {"subsetOf", 1, 1, fn_subset_of, ArgMode::kValues, ResultKind::kBoolean},
    {"supersetOf", 1, 1, fn_superset_of, ArgMode::kValues, ResultKind::kBoolean},
    {"count", 0, 0, fn_count, ArgMode::kValues, ResultKind::kInteger},
    {"distinct", 0, 0, fn_distinct, ArgMode::kValues, ResultKind::kSameAsInput},
    {"isDistinct", 0, 0, fn_is_distinct, ArgMode::kValues, ResultKind::kBoolean},
    {"not", 0, 0, fn_not, ArgMode::kValues, ResultKind::kBoolean},
};

}  // namespace

std::span<const FunctionDef> existence_functions() { return kFunctions; }

}  // namespace gw::fhirpath::detail
