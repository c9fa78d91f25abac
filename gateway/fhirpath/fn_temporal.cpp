// Date/time utility functions (now, today, timeOfDay) and the FHIRPath 2.0
// precision functions the R4 suite uses (lowBoundary, highBoundary,
// precision, comparable).
//
// now() reads the injected clock once per evaluation (Evaluator::now), so
// `now() = now()` holds and tests can pin the time.
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

namespace gw::fhirpath::detail {

namespace prim = gw::primitives;

namespace {

Result<Collection> fn_now(Evaluator& ev, const Op& call, const Collection&, const Scope&) {
  GW_TRY(prim::DateTime now, ev.now(call));
  return Collection{Item::datetime(now)};
}

Result<Collection> fn_today(Evaluator& ev, const Op& call, const Collection&, const Scope&) {
  GW_TRY(prim::DateTime now, ev.now(call));
  return Collection{Item::date(prim::date_part(now))};
}

Result<Collection> fn_time_of_day(Evaluator& ev, const Op& call, const Collection&, const Scope&) {
  GW_TRY(prim::DateTime now, ev.now(call));
  std::optional<prim::Time> t = prim::time_part(now);
  if (!t) return Collection{};
  return Collection{Item::time(*t)};
}

// The optional precision argument of lowBoundary()/highBoundary().
Result<std::optional<int>> precision_arg(Evaluator& ev, const Op& call, const Scope& scope, bool& empty_arg) {
  empty_arg = false;
  if (call.args.empty()) return std::optional<int>();
  GW_TRY(std::optional<std::int64_t> p, ev.integer_arg(call, 0, scope));
  if (!p) {
    empty_arg = true;
    return std::optional<int>();
  }
  if (*p < -1000 || *p > 1000) return std::optional<int>(-1);  // out of every type's range
  return std::optional<int>(static_cast<int>(*p));
}

template <bool kLow>
Result<Collection> fn_boundary(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(const Item* x, single_item(ev, call, input, "function '" + call.name + "'"));
  if (!x) return Collection{};
  std::optional<Item> v = system_value(*x);
  if (!v) return Collection{};
  bool empty_arg = false;
  GW_TRY(std::optional<int> p, precision_arg(ev, call, scope, empty_arg));
  if (empty_arg) return Collection{};
  auto dec = [&](const prim::Decimal& d) {
    return kLow ? prim::low_boundary(d, p) : prim::high_boundary(d, p);
  };
  switch (v->kind()) {
    case ItemKind::kInteger:
    case ItemKind::kDecimal: {
      prim::Decimal d = v->kind() == ItemKind::kInteger ? prim::Decimal::from_int64(v->integer()) : v->decimal();
      std::optional<prim::Decimal> r = dec(d);
      if (!r) return Collection{};
      return Collection{Item::decimal(*r)};
    }
    case ItemKind::kQuantity: {
      std::optional<prim::Decimal> r = dec(v->quantity().value);
      if (!r) return Collection{};
      prim::Quantity q = v->quantity();
      q.value = *r;
      return Collection{Item::quantity(std::move(q))};
    }
    case ItemKind::kDate: {
      auto r = kLow ? prim::low_boundary(v->date(), p) : prim::high_boundary(v->date(), p);
      if (!r) return Collection{};
      return Collection{Item::date(*r)};
    }
    case ItemKind::kDateTime: {
      auto r = kLow ? prim::low_boundary(v->datetime(), p) : prim::high_boundary(v->datetime(), p);
      if (!r) return Collection{};
      return Collection{Item::datetime(*r)};
    }
    case ItemKind::kTime: {
      auto r = kLow ? prim::low_boundary(v->time(), p) : prim::high_boundary(v->time(), p);
      if (!r) return Collection{};
      return Collection{Item::time(*r)};
    }
    default:
      return ev.error(call, "function '" + call.name + "' applies to numbers, quantities and dates, not " +
                                x->type_name());
  }
}

Result<Collection> fn_precision(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(const Item* x, single_item(ev, call, input, "precision()"));
  if (!x) return Collection{};
  std::optional<Item> v = system_value(*x);
  if (!v) return Collection{};
  switch (v->kind()) {
    case ItemKind::kInteger: return Collection{Item::integer(0)};
    case ItemKind::kDecimal: return Collection{Item::integer(v->decimal().precision())};
    case ItemKind::kQuantity: return Collection{Item::integer(v->quantity().value.precision())};
    case ItemKind::kDate: return Collection{Item::integer(prim::precision_digits(v->date()))};
    case ItemKind::kDateTime: return Collection{Item::integer(prim::precision_digits(v->datetime()))};
    case ItemKind::kTime: return Collection{Item::integer(prim::precision_digits(v->time()))};
    default:
      return ev.error(call, "precision() applies to numbers, quantities and dates, not " + x->type_name());
  }
}

Result<Collection> fn_comparable(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(const Item* x, single_item(ev, call, input, "comparable()"));
  GW_TRY(Collection other, ev.arg(call, 0, scope));
  GW_TRY(const Item* y, single_item(ev, call, other, "comparable()"));
  if (!x || !y) return Collection{};
  std::optional<Item> a = system_value(*x);
  std::optional<Item> b = system_value(*y);
  if (!a || !b || a->kind() != ItemKind::kQuantity || b->kind() != ItemKind::kQuantity) {
    return ev.error(call, "comparable() applies to quantities");
  }
  return Collection{Item::boolean(prim::compare(a->quantity(), b->quantity()).has_value())};
}

constexpr FunctionDef kFunctions[] = {
    {"now", 0, 0, fn_now, ArgMode::kValues, ResultKind::kDateTime},
    {"today", 0, 0, fn_today, ArgMode::kValues, ResultKind::kDate},
    {"timeOfDay", 0, 0, fn_time_of_day, ArgMode::kValues, ResultKind::kTime},
    {"lowBoundary", 0, 1, fn_boundary<true>, ArgMode::kValues, ResultKind::kSameAsInput},
    {"highBoundary", 0, 1, fn_boundary<false>, ArgMode::kValues, ResultKind::kSameAsInput},
    {"precision", 0, 0, fn_precision, ArgMode::kValues, ResultKind::kInteger},
    {"comparable", 1, 1, fn_comparable, ArgMode::kValues, ResultKind::kBoolean},
};

}  // namespace

std::span<const FunctionDef> temporal_functions() { return kFunctions; }

}  // namespace gw::fhirpath::detail
