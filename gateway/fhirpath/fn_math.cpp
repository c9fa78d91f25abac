// Math functions (N1 §5.7 in 2.0: abs, ceiling, exp, floor, ln, log, power,
// round, sqrt, truncate). The arithmetic itself is gw::primitives'; here
// are the FHIRPath shapes: single numeric input, Integer results where the
// spec says Integer, empty where the result is not a real number.
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

#include <cstdlib>

namespace gw::fhirpath::detail {

namespace prim = gw::primitives;

namespace {

// The single numeric input; nullopt for empty input.
Result<std::optional<Item>> numeric_input(Evaluator& ev, const Op& call, const Collection& input,
                                          bool allow_quantity = false) {
  GW_TRY(const Item* x, single_item(ev, call, input, "function '" + call.name + "'"));
  if (!x) return std::optional<Item>();
  std::optional<Item> v = system_value(*x);
  if (!v) return std::optional<Item>();
  ItemKind k = v->kind();
  if (k == ItemKind::kInteger || k == ItemKind::kDecimal || (allow_quantity && k == ItemKind::kQuantity)) {
    return v;
  }
  return ev.error(call, "function '" + call.name + "' expects a number, not " + x->type_name());
}

prim::Decimal as_decimal(const Item& v) {
  return v.kind() == ItemKind::kInteger ? prim::Decimal::from_int64(v.integer()) : v.decimal();
}

Collection decimal_or_empty(std::optional<prim::Decimal> d) {
  return d ? Collection{Item::decimal(*d)} : Collection{};
}

// An integral decimal as Integer (ceiling/floor/truncate return Integer).
Collection integer_or_empty(std::optional<prim::Decimal> d) {
  if (!d) return Collection{};
  if (auto i = d->to_int64()) return Collection{Item::integer(*i)};
  return Collection{Item::decimal(*d)};
}

Result<Collection> fn_abs(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input, true));
  if (!v) return Collection{};
  switch (v->kind()) {
    case ItemKind::kInteger:
      if (v->integer() == INT64_MIN) return Collection{};
      return Collection{Item::integer(std::llabs(v->integer()))};
    case ItemKind::kDecimal:
      return Collection{Item::decimal(prim::abs(v->decimal()))};
    default: {
      prim::Quantity q = v->quantity();
      q.value = prim::abs(q.value);
      return Collection{Item::quantity(std::move(q))};
    }
  }
}

Result<Collection> fn_ceiling(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input));
  if (!v) return Collection{};
  if (v->kind() == ItemKind::kInteger) return Collection{*v};
  return integer_or_empty(prim::ceiling(v->decimal()));
}

Result<Collection> fn_floor(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input));
  if (!v) return Collection{};
  if (v->kind() == ItemKind::kInteger) return Collection{*v};
  return integer_or_empty(prim::floor(v->decimal()));
}

Result<Collection> fn_truncate(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input));
  if (!v) return Collection{};
  if (v->kind() == ItemKind::kInteger) return Collection{*v};
  return integer_or_empty(prim::truncate(v->decimal()));
}

Result<Collection> fn_round(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input));
  if (!v) return Collection{};
  std::int64_t digits = 0;
  if (!call.args.empty()) {
    GW_TRY(std::optional<std::int64_t> d, ev.integer_arg(call, 0, scope));
    if (!d) return Collection{};
    if (*d < 0) return ev.error(call, "round() precision must not be negative");
    digits = *d;
  }
  if (digits > prim::Decimal::kMaxScale) return Collection{};
  return decimal_or_empty(prim::round(as_decimal(*v), static_cast<int>(digits)));
}

Result<Collection> fn_sqrt(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input));
  if (!v) return Collection{};
  return decimal_or_empty(prim::sqrt(as_decimal(*v)));
}

Result<Collection> fn_exp(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input));
  if (!v) return Collection{};
  return decimal_or_empty(prim::exp(as_decimal(*v)));
}

Result<Collection> fn_ln(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input));
  if (!v) return Collection{};
  return decimal_or_empty(prim::ln(as_decimal(*v)));
}

Result<std::optional<Item>> numeric_arg(Evaluator& ev, const Op& call, const Scope& scope) {
  GW_TRY(Collection c, ev.arg(call, 0, scope));
  return numeric_input(ev, call, c);
}

Result<Collection> fn_log(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input));
  GW_TRY(std::optional<Item> base, numeric_arg(ev, call, scope));
  if (!v || !base) return Collection{};
  return decimal_or_empty(prim::log(as_decimal(*v), as_decimal(*base)));
}

Result<Collection> fn_power(Evaluator& ev, const Op& call, const Collection& input, const Scope& scope) {
  GW_TRY(std::optional<Item> v, numeric_input(ev, call, input));
  GW_TRY(std::optional<Item> e, numeric_arg(ev, call, scope));
  if (!v || !e) return Collection{};
  std::optional<prim::Decimal> r = prim::power(as_decimal(*v), as_decimal(*e));
  if (!r) return Collection{};
  // Integer ^ non-negative Integer stays an Integer.
  if (v->kind() == ItemKind::kInteger && e->kind() == ItemKind::kInteger && e->integer() >= 0) {
    if (auto i = r->to_int64()) return Collection{Item::integer(*i)};
  }
  return Collection{Item::decimal(*r)};
}

constexpr FunctionDef kFunctions[] = {
    {"abs", 0, 0, fn_abs, ArgMode::kValues, ResultKind::kSameAsInput},
    {"ceiling", 0, 0, fn_ceiling, ArgMode::kValues, ResultKind::kInteger},
    {"floor", 0, 0, fn_floor, ArgMode::kValues, ResultKind::kInteger},
    {"truncate", 0, 0, fn_truncate, ArgMode::kValues, ResultKind::kInteger},
    {"round", 0, 1, fn_round, ArgMode::kValues, ResultKind::kDecimal},
    {"sqrt", 0, 0, fn_sqrt, ArgMode::kValues, ResultKind::kDecimal},
    {"exp", 0, 0, fn_exp, ArgMode::kValues, ResultKind::kDecimal},
    {"ln", 0, 0, fn_ln, ArgMode::kValues, ResultKind::kDecimal},
    {"log", 1, 1, fn_log, ArgMode::kValues, ResultKind::kDecimal},
    {"power", 1, 1, fn_power, ArgMode::kValues, ResultKind::kUnknown},
};

}  // namespace

std::span<const FunctionDef> math_functions() { return kFunctions; }

}  // namespace gw::fhirpath::detail
