// Filtering, projection, subsetting, combining, tree navigation and the
// utility functions that take lambdas (N1 §5.2-§5.4, §5.7-§5.9; sort() and
// aggregate() from FHIRPath 2.0/2.1).
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

#include <algorithm>

namespace gw::fhirpath::detail {

namespace {

Result<Collection> fn_where(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  Collection out;
  for (std::size_t i = 0; i < input.size(); ++i) {
    GW_TRY(Collection r, ev.lambda(call, 0, input[i], static_cast<std::int64_t>(i)));
    GW_TRY(std::optional<bool> t, truth_value(ev, call, r));
    if (t == true) out.push_back(input[i]);
  }
  return out;
}

Result<Collection> fn_select(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  Collection out;
  for (std::size_t i = 0; i < input.size(); ++i) {
    GW_TRY(Collection r, ev.lambda(call, 0, input[i], static_cast<std::int64_t>(i)));
    out.insert(out.end(), r.begin(), r.end());
    GW_CHECK_OK(ev.check_size(out.size(), call));
  }
  return out;
}

// Breadth-first with an explicit work list: no recursion, however deep the
// data, and each distinct item is expanded once (so cycles terminate).
Result<Collection> fn_repeat(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  Collection out;
  ItemSet seen = ev.item_set();
  Collection current = input;
  while (!current.empty()) {
    Collection next;
    for (std::size_t i = 0; i < current.size(); ++i) {
      GW_TRY(Collection r, ev.lambda(call, 0, current[i], static_cast<std::int64_t>(i)));
      for (Item& x : r) {
        if (seen.insert(x)) {
          out.push_back(x);
          next.push_back(std::move(x));
        }
      }
      GW_CHECK_OK(ev.check_size(out.size(), call));
      GW_CHECK_OK(ev.check_work(call));
    }
    current = std::move(next);
  }
  return out;
}

Result<Collection> fn_single(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  if (input.size() > 1) return ev.error(call, "single() applied to a collection of several items");
  return input;
}

Result<Collection> fn_first(Evaluator&, const Op&, const Collection& input, const Scope&) {
  if (input.empty()) return Collection{};
  return Collection{input.front()};
}

Result<Collection> fn_last(Evaluator&, const Op&, const Collection& input, const Scope&) {
  if (input.empty()) return Collection{};
  return Collection{input.back()};
}

Result<Collection> fn_tail(Evaluator&, const Op&, const Collection& input, const Scope&) {
  if (input.size() <= 1) return Collection{};
  return Collection(input.begin() + 1, input.end());
}

Result<Collection> fn_skip(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(std::optional<std::int64_t> n, ev.integer_arg(call, 0, scope));
  if (!n) return Collection{};
  if (*n <= 0) return input;
  if (static_cast<std::uint64_t>(*n) >= input.size()) return Collection{};
  return Collection(input.begin() + *n, input.end());
}

Result<Collection> fn_take(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(std::optional<std::int64_t> n, ev.integer_arg(call, 0, scope));
  if (!n || *n <= 0) return Collection{};
  if (static_cast<std::uint64_t>(*n) >= input.size()) return input;
  return Collection(input.begin(), input.begin() + *n);
}

// intersect() removes duplicates (1.combine(1).intersect(1) has one item);
// exclude() keeps them (1.combine(1).exclude(2) has two), as the suite says.
Result<Collection> fn_intersect(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(Collection other, ev.arg(call, 0, scope));
  ItemSet in_other = ev.item_set();
  for (const Item& i : other) {
    in_other.insert(i);
    GW_CHECK_OK(ev.check_work(call));
  }
  ItemSet emitted = ev.item_set();
  Collection out;
  for (const Item& i : input) {
    if (in_other.contains(i) && emitted.insert(i)) out.push_back(i);
    GW_CHECK_OK(ev.check_work(call));
  }
  return out;
}

Result<Collection> fn_exclude(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(Collection other, ev.arg(call, 0, scope));
  ItemSet in_other = ev.item_set();
  for (const Item& i : other) {
    in_other.insert(i);
    GW_CHECK_OK(ev.check_work(call));
  }
  Collection out;
  for (const Item& i : input) {
    if (!in_other.contains(i)) out.push_back(i);
    GW_CHECK_OK(ev.check_work(call));
  }
  return out;
}

Result<Collection> fn_union(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(Collection other, ev.arg(call, 0, scope));
  ItemSet seen = ev.item_set();
  Collection out;
  for (const Collection* c : {&input, static_cast<const Collection*>(&other)}) {
    for (const Item& i : *c) {
      if (seen.insert(i)) out.push_back(i);
      GW_CHECK_OK(ev.check_work(call));
    }
  }
  return out;
}

Result<Collection> fn_combine(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(Collection other, ev.arg(call, 0, scope));
  Collection out = input;
  out.insert(out.end(), other.begin(), other.end());
  GW_CHECK_OK(ev.check_size(out.size(), call));
  return out;
}

// iif(criterion, true-result [, otherwise-result]). Called on an explicit
// input (`x.iif(...)`), that input (at most one item) is $this inside the
// arguments; called as a term, the arguments see the caller's $this.
Result<Collection> fn_iif(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  Scope inner = scope;
  if (call.source) {
    if (input.size() > 1) return ev.error(call, "iif() applied to a collection of several items");
    inner.self = &input;
    inner.index = -1;
  }
  GW_TRY(Collection c, ev.eval(*call.args[0], inner));
  if (c.size() > 1) return ev.error(call, "iif() criterion must be a single Boolean");
  GW_TRY(std::optional<bool> t, truth_value(ev, call, c));
  if (t == true) return ev.eval(*call.args[1], inner);
  if (call.args.size() > 2) return ev.eval(*call.args[2], inner);
  return Collection{};
}

Result<Collection> fn_trace(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(std::optional<std::string> name, ev.string_arg(call, 0, scope));
  if (!ev.context().trace) return input;
  if (call.args.size() > 1) {
    Collection projected;
    for (std::size_t i = 0; i < input.size(); ++i) {
      GW_TRY(Collection r, ev.eval_on(*call.args[1], input[i], static_cast<std::int64_t>(i)));
      projected.insert(projected.end(), r.begin(), r.end());
    }
    ev.context().trace(name.value_or(""), projected);
  } else {
    ev.context().trace(name.value_or(""), input);
  }
  return input;
}

Result<Collection> fn_aggregate(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  Collection total;
  if (call.args.size() > 1) {
    GW_TRY(total, ev.arg(call, 1, scope));
  }
  for (std::size_t i = 0; i < input.size(); ++i) {
    GW_TRY(Collection next, ev.lambda(call, 0, input[i], static_cast<std::int64_t>(i), &total));
    total = std::move(next);
  }
  return total;
}

// sort([key [, key ...]]): ascending by each key in turn; a key written
// `-expr` sorts descending by expr (that is how FHIRPath 2.1 spells it, and
// it works for strings too). Empty keys sort first in both directions
// (the suite's testSort10).
Result<Collection> fn_sort(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  struct Key {
    const Op* expr;
    bool descending;
  };
  std::vector<Key> keys;
  for (const auto& a : call.args) {
    if (a->kind == OpKind::kUnary && a->minus) {
      keys.push_back({a->args[0].get(), true});
    } else {
      keys.push_back({a.get(), false});
    }
  }
  // values[i][k]: key k of item i (null when empty).
  std::vector<std::vector<std::optional<Item>>> values(input.size());
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (keys.empty()) {
      values[i].push_back(input[i]);
      continue;
    }
    for (const Key& k : keys) {
      GW_TRY(Collection r, ev.eval_on(*k.expr, input[i], static_cast<std::int64_t>(i)));
      if (r.size() > 1) return ev.error(call, "a sort key must be a single item");
      values[i].push_back(r.empty() ? std::nullopt : std::optional<Item>(r[0]));
    }
  }
  bool incompatible = false;
  std::vector<std::size_t> order(input.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    for (std::size_t k = 0; k < values[a].size(); ++k) {
      const auto& x = values[a][k];
      const auto& y = values[b][k];
      bool desc = !keys.empty() && keys[k].descending;
      if (!x || !y) {
        if (!x && !y) continue;
        return !x;  // empty keys first, in either direction
      }
      Comparison c = compare_items(*x, *y);
      if (c.status == Comparison::Status::kIncompatible) incompatible = true;
      if (c.status != Comparison::Status::kOk || c.sign == 0) continue;
      return desc ? c.sign > 0 : c.sign < 0;
    }
    return false;
  });
  if (incompatible) return ev.error(call, "sort() keys are not comparable");
  Collection out;
  out.reserve(input.size());
  for (std::size_t i : order) out.push_back(input[i]);
  return out;
}

Result<Collection> fn_children(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  Collection out;
  std::vector<fhir::Node> kids;
  for (const Item& i : input) {
    if (!i.is_node()) continue;
    if (!ev.model()) return ev.error(call, "navigating FHIR elements needs a model");
    kids.clear();
    ev.model()->children(i.node(), kids);
    for (const fhir::Node& n : kids) out.push_back(Item::node(n));
    GW_CHECK_OK(ev.check_size(out.size(), call));
  }
  return out;
}

Result<Collection> fn_descendants(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  if (!ev.model()) return Collection{};
  Collection out;
  std::vector<fhir::Node> work;
  for (const Item& i : input) {
    if (i.is_node()) work.push_back(i.node());
  }
  // Breadth-first over an explicit queue (the JSON tree is finite and
  // acyclic, so no de-duplication is needed).
  std::vector<fhir::Node> kids;
  for (std::size_t head = 0; head < work.size(); ++head) {
    kids.clear();
    ev.model()->children(work[head], kids);
    for (const fhir::Node& n : kids) {
      out.push_back(Item::node(n));
      work.push_back(n);
    }
    GW_CHECK_OK(ev.check_size(out.size(), call));
  }
  return out;
}

constexpr FunctionDef kFunctions[] = {
    {"where", 1, 1, fn_where, ArgMode::kLambda, ResultKind::kSameAsInput},
    {"select", 1, 1, fn_select, ArgMode::kLambda, ResultKind::kLambdaResult},
    {"repeat", 1, 1, fn_repeat, ArgMode::kLambda, ResultKind::kUnknown},
    {"single", 0, 0, fn_single, ArgMode::kValues, ResultKind::kSameAsInput},
    {"first", 0, 0, fn_first, ArgMode::kValues, ResultKind::kSameAsInput, InputKind::kAny, true},
    {"last", 0, 0, fn_last, ArgMode::kValues, ResultKind::kSameAsInput, InputKind::kAny, true},
    {"tail", 0, 0, fn_tail, ArgMode::kValues, ResultKind::kSameAsInput, InputKind::kAny, true},
    {"skip", 1, 1, fn_skip, ArgMode::kValues, ResultKind::kSameAsInput, InputKind::kAny, true},
    {"take", 1, 1, fn_take, ArgMode::kValues, ResultKind::kSameAsInput, InputKind::kAny, true},
    {"intersect", 1, 1, fn_intersect, ArgMode::kValues, ResultKind::kSameAsInput},
    {"exclude", 1, 1, fn_exclude, ArgMode::kValues, ResultKind::kSameAsInput},
    {"union", 1, 1, fn_union, ArgMode::kValues, ResultKind::kInputAndArgs},
    {"combine", 1, 1, fn_combine, ArgMode::kValues, ResultKind::kInputAndArgs},
    {"iif", 2, 3, fn_iif, ArgMode::kIif, ResultKind::kBranches},
    {"trace", 1, 2, fn_trace, ArgMode::kLambda, ResultKind::kSameAsInput},
    {"aggregate", 1, 2, fn_aggregate, ArgMode::kLambda, ResultKind::kUnknown},
    {"sort", 0, 8, fn_sort, ArgMode::kLambda, ResultKind::kSameAsInput},
    {"children", 0, 0, fn_children, ArgMode::kValues, ResultKind::kUnknown, InputKind::kAny, false, true},
    {"descendants", 0, 0, fn_descendants, ArgMode::kValues, ResultKind::kUnknown, InputKind::kAny, false,
     true},
};

}  // namespace

std::span<const FunctionDef> filtering_functions() { return kFunctions; }

}  // namespace gw::fhirpath::detail
