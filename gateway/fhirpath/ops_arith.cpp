// Arithmetic operators: + - * / div mod and string concatenation &.
//
// Operands are single items (several are an execution error, none gives
// empty). Integer arithmetic is checked: an overflow gives empty, as does
// division by zero. Decimal, quantity and date/time arithmetic is delegated
// to gw::primitives, which owns those semantics (exact decimals, UCUM
// conversion, calendar durations).
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

namespace gw::fhirpath::detail {

namespace prim = gw::primitives;

namespace {

bool is_numeric(ItemKind k) { return k == ItemKind::kInteger || k == ItemKind::kDecimal; }

prim::Decimal as_decimal(const Item& i) {
  return i.kind() == ItemKind::kInteger ? prim::Decimal::from_int64(i.integer()) : i.decimal();
}

prim::Quantity as_quantity(const Item& i) {
  if (i.kind() == ItemKind::kQuantity) return i.quantity();
  prim::Quantity q;
  q.value = as_decimal(i);
  return q;
}

Collection decimal_result(std::optional<prim::Decimal> d) {
  return d ? Collection{Item::decimal(*d)} : Collection{};
}

Collection quantity_result(std::optional<prim::Quantity> q) {
  return q ? Collection{Item::quantity(std::move(*q))} : Collection{};
}

Result<Collection> integers(const Op& op, std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  switch (op.bop) {
    case BinaryOp::kAdd:
      if (__builtin_add_overflow(a, b, &r)) return Collection{};
      return Collection{Item::integer(r)};
    case BinaryOp::kSub:
      if (__builtin_sub_overflow(a, b, &r)) return Collection{};
      return Collection{Item::integer(r)};
    case BinaryOp::kMul:
      if (__builtin_mul_overflow(a, b, &r)) return Collection{};
      return Collection{Item::integer(r)};
    case BinaryOp::kDiv:
      return decimal_result(prim::divide(prim::Decimal::from_int64(a), prim::Decimal::from_int64(b)));
    case BinaryOp::kIntDiv:
      if (b == 0 || (a == INT64_MIN && b == -1)) return Collection{};
      return Collection{Item::integer(a / b)};
    case BinaryOp::kMod:
      if (b == 0 || (a == INT64_MIN && b == -1)) return Collection{};
      return Collection{Item::integer(a % b)};
    default:
      return Collection{};
  }
}

Result<Collection> decimals(const Op& op, const prim::Decimal& a, const prim::Decimal& b) {
  switch (op.bop) {
    case BinaryOp::kAdd: return decimal_result(prim::add(a, b));
    case BinaryOp::kSub: return decimal_result(prim::subtract(a, b));
    case BinaryOp::kMul: return decimal_result(prim::multiply(a, b));
    case BinaryOp::kDiv: return decimal_result(prim::divide(a, b));
    case BinaryOp::kIntDiv: {
      std::optional<prim::Decimal> q = prim::div(a, b);
      if (!q) return Collection{};
      if (auto i = q->to_int64()) return Collection{Item::integer(*i)};
      return Collection{Item::decimal(*q)};
    }
    case BinaryOp::kMod: return decimal_result(prim::mod(a, b));
    default: return Collection{};
  }
}

template <class T>
Result<Collection> temporal(Evaluator& ev, const Op& op, const T& value, const prim::Quantity& q,
                            Item (*wrap)(const T&)) {
  Result<T> r = op.bop == BinaryOp::kAdd ? prim::add(value, q) : prim::subtract(value, q);
  if (!r) {
    if (r.error().code() == ErrorCode::kLimit) return Collection{};
    return ev.error(op, "date/time arithmetic: " + r.error().message());
  }
  return Collection{wrap(*r)};
}

Item wrap_date(const prim::Date& d) { return Item::date(d); }
Item wrap_datetime(const prim::DateTime& d) { return Item::datetime(d); }
Item wrap_time(const prim::Time& t) { return Item::time(t); }

}  // namespace

// Dispatch on the operands' System kinds after conversion. Order matters:
// Integer op Integer stays Integer (except '/', which is always Decimal);
// any Decimal makes the arithmetic decimal; a Quantity on either side turns
// a plain number into a quantity of unit '1'; a Date/DateTime/Time plus or
// minus a Quantity is calendar arithmetic (1 'mo' and 1 'a' are rejected
// by primitives as not calendar durations). Anything else is an execution
// error naming the two types.
Result<Collection> eval_arithmetic(Evaluator& ev, const Op& op, const Collection& lhs, const Collection& rhs) {
  std::string what = "operator '" + std::string(to_string(op.bop)) + "'";
  if (op.bop == BinaryOp::kConcat) {
    // `&` treats an empty operand as the empty string.
    std::string out;
    for (const Collection* c : {&lhs, &rhs}) {
      GW_TRY(const Item* x, single_item(ev, op, *c, what));
      if (!x) continue;
      std::optional<std::string> s = string_value(*x);
      if (!s) return ev.error(op, what + " applies to strings, not " + x->type_name());
      out += *s;
    }
    return Collection{Item::string(std::move(out))};
  }
  GW_TRY(const Item* a_item, single_item(ev, op, lhs, what));
  GW_TRY(const Item* b_item, single_item(ev, op, rhs, what));
  if (!a_item || !b_item) return Collection{};
  std::optional<Item> av = system_value(*a_item);
  std::optional<Item> bv = system_value(*b_item);
  if (!av || !bv) {
    bool a_ok = av || (a_item->is_node() && a_item->node().is_primitive());
    bool b_ok = bv || (b_item->is_node() && b_item->node().is_primitive());
    if (a_ok && b_ok) return Collection{};  // a primitive without a value
    return ev.error(op, what + " cannot be applied to " + a_item->type_name() + " and " + b_item->type_name());
  }
  const Item& a = *av;
  const Item& b = *bv;
  ItemKind ka = a.kind();
  ItemKind kb = b.kind();
  BinaryOp o = op.bop;

  if (ka == ItemKind::kInteger && kb == ItemKind::kInteger) return integers(op, a.integer(), b.integer());
  if (is_numeric(ka) && is_numeric(kb)) return decimals(op, as_decimal(a), as_decimal(b));
  if (ka == ItemKind::kString && kb == ItemKind::kString && o == BinaryOp::kAdd) {
    return Collection{Item::string(a.string() + b.string())};
  }
  bool aq = ka == ItemKind::kQuantity || is_numeric(ka);
  bool bq = kb == ItemKind::kQuantity || is_numeric(kb);
  if (aq && bq) {  // at least one is a Quantity; numbers take the unit '1'
    prim::Quantity x = as_quantity(a);
    prim::Quantity y = as_quantity(b);
    switch (o) {
      case BinaryOp::kAdd: return quantity_result(prim::add(x, y));
      case BinaryOp::kSub: return quantity_result(prim::subtract(x, y));
      case BinaryOp::kMul: return quantity_result(prim::multiply(x, y));
      case BinaryOp::kDiv: return quantity_result(prim::divide(x, y));
      default: break;
    }
  }
  if (kb == ItemKind::kQuantity && (o == BinaryOp::kAdd || o == BinaryOp::kSub)) {
    if (ka == ItemKind::kDate) return temporal(ev, op, a.date(), b.quantity(), wrap_date);
    if (ka == ItemKind::kDateTime) return temporal(ev, op, a.datetime(), b.quantity(), wrap_datetime);
    if (ka == ItemKind::kTime) return temporal(ev, op, a.time(), b.quantity(), wrap_time);
  }
  return ev.error(op, what + " cannot be applied to " + a.type_name() + " and " + b.type_name());
}

}  // namespace gw::fhirpath::detail
