// Operators other than arithmetic: the three-valued logic, equality,
// equivalence, ordering, union and membership; unary + and -.
//
// Logic follows N1 §6.5's truth tables. `and`/`or`/`implies` short-circuit
// on the left operand (the spec leaves evaluation order open), which also
// keeps errors in an irrelevant right operand from surfacing.
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

namespace gw::fhirpath::detail {

namespace prim = gw::primitives;

namespace {

Collection boolean(bool b) { return Collection{Item::boolean(b)}; }
Collection maybe(std::optional<bool> b) { return b ? boolean(*b) : Collection{}; }

Result<Collection> logic(Evaluator& ev, const Op& op, const Scope& scope) {
  GW_TRY(Collection lc, ev.eval(*op.args[0], scope));
  GW_TRY(std::optional<bool> l, truth_value(ev, op, lc));
  switch (op.bop) {
    case BinaryOp::kAnd:
      if (l == false) return boolean(false);
      break;
    case BinaryOp::kOr:
      if (l == true) return boolean(true);
      break;
    case BinaryOp::kImplies:
      if (l == false) return boolean(true);
      break;
    default:
      break;
  }
  GW_TRY(Collection rc, ev.eval(*op.args[1], scope));
  GW_TRY(std::optional<bool> r, truth_value(ev, op, rc));
  switch (op.bop) {
    case BinaryOp::kAnd:
      if (r == false) return boolean(false);
      if (l && r) return boolean(true);
      return Collection{};
    case BinaryOp::kOr:
      if (r == true) return boolean(true);
      if (l && r) return boolean(false);
      return Collection{};
    case BinaryOp::kXor:
      if (l && r) return boolean(*l != *r);
      return Collection{};
    case BinaryOp::kImplies:
      if (r == true) return boolean(true);
      if (l == true && r == false) return boolean(false);
      return Collection{};
    default:
      return ev.error(op, "internal: not a logical operator");
  }
}

// < <= > >=: single items only; an indeterminate answer (different date
// precisions, incomparable units) is empty, while types that cannot be
// ordered at all (Integer vs Boolean) are an execution error (the suite's
// testPrecedence3).
Result<Collection> ordering(Evaluator& ev, const Op& op, const Collection& l, const Collection& r) {
  std::string what = "operator '" + std::string(to_string(op.bop)) + "'";
  GW_TRY(const Item* a, single_item(ev, op, l, what));
  GW_TRY(const Item* b, single_item(ev, op, r, what));
  if (!a || !b) return Collection{};
  Comparison c = compare_items(*a, *b);
  if (c.status == Comparison::Status::kIncompatible) {
    return ev.error(op, what + " cannot compare " + a->type_name() + " with " + b->type_name());
  }
  if (c.status == Comparison::Status::kEmpty) return Collection{};
  switch (op.bop) {
    case BinaryOp::kLt: return boolean(c.sign < 0);
    case BinaryOp::kGt: return boolean(c.sign > 0);
    case BinaryOp::kLe: return boolean(c.sign <= 0);
    default: return boolean(c.sign >= 0);
  }
}

Result<Collection> membership(Evaluator& ev, const Op& op, const Collection& element,
                              const Collection& collection) {
  GW_TRY(const Item* x, single_item(ev, op, element, "operator '" + std::string(to_string(op.bop)) + "'"));
  if (!x) return Collection{};
  for (const Item& y : collection) {
    if (equal_items(*x, y).value_or(false)) return boolean(true);
  }
  return boolean(false);
}

}  // namespace

Result<Collection> eval_binary(Evaluator& ev, const Op& op, const Scope& scope) {
  switch (op.bop) {
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
    case BinaryOp::kXor:
    case BinaryOp::kImplies:
      return logic(ev, op, scope);
    default:
      break;
  }
  GW_TRY(Collection l, ev.eval(*op.args[0], scope));
  GW_TRY(Collection r, ev.eval(*op.args[1], scope));
  switch (op.bop) {
    case BinaryOp::kEq:
      return maybe(equal_collections(l, r));
    case BinaryOp::kNe: {
      std::optional<bool> e = equal_collections(l, r);
      return e ? boolean(!*e) : Collection{};
    }
    case BinaryOp::kEquiv:
      return boolean(equivalent_collections(l, r));
    case BinaryOp::kNotEquiv:
      return boolean(!equivalent_collections(l, r));
    case BinaryOp::kLt:
    case BinaryOp::kGt:
    case BinaryOp::kLe:
    case BinaryOp::kGe:
      return ordering(ev, op, l, r);
    case BinaryOp::kUnion: {
      // `|` keeps first occurrences in order and drops later duplicates.
      ItemSet seen = ev.item_set();
      Collection out;
      for (const Collection* c : {&l, &r}) {
        for (const Item& i : *c) {
          if (seen.insert(i)) out.push_back(i);
          GW_CHECK_OK(ev.check_work(op));
        }
      }
      return out;
    }
    case BinaryOp::kIn:
      return membership(ev, op, l, r);
    case BinaryOp::kContains:
      return membership(ev, op, r, l);
    default:
      return eval_arithmetic(ev, op, l, r);
  }
}

Result<Collection> eval_unary(Evaluator& ev, const Op& op, const Scope& scope) {
  GW_TRY(Collection c, ev.eval(*op.args[0], scope));
  GW_TRY(const Item* x, single_item(ev, op, c, op.minus ? "unary '-'" : "unary '+'"));
  if (!x) return Collection{};
  std::optional<Item> v = system_value(*x);
  if (v) {
    switch (v->kind()) {
      case ItemKind::kInteger:
        if (!op.minus) return Collection{*v};
        if (v->integer() == INT64_MIN) return Collection{};
        return Collection{Item::integer(-v->integer())};
      case ItemKind::kDecimal:
        return Collection{op.minus ? Item::decimal(prim::negate(v->decimal())) : *v};
      case ItemKind::kQuantity: {
        if (!op.minus) return Collection{*v};
        prim::Quantity q = v->quantity();
        q.value = prim::negate(q.value);
        return Collection{Item::quantity(std::move(q))};
      }
      default:
        break;
    }
  }
  return ev.error(op, std::string(op.minus ? "unary '-'" : "unary '+'") +
                          " applies to numbers and quantities, not " + x->type_name());
}

}  // namespace gw::fhirpath::detail
