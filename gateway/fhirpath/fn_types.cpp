// Types: the `is` and `as` operators, is()/as()/ofType()/type().
//
// A FHIR element is of FHIR type T when its type is T or derives from T
// (`Patient.gender.is(string)` holds: code derives from string in R4). For
// as() and ofType() the official suite wants primitives matched exactly
// (`Patient.gender.as(string)` is empty), while complex types and resources
// still match their ancestors (`value.as(Quantity)` on an Age), which is
// what invariants written against base types need.
//
// System values are only ever of System types, FHIR elements only of FHIR
// types: `Patient.active.is(Boolean)` is false, `true.is(Boolean)` true.
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

namespace gw::fhirpath::detail {

Result<bool> item_is_type(Evaluator& ev, const Op& at, const Item& item, const TypeRef& type, bool exact) {
  const fhir::TypeDef* fhir_type = type.fhir;
  if (!fhir_type && type.ns != TypeRef::Ns::kSystem && ev.model()) {
    fhir_type = ev.model()->type(type.name);
  }
  if (!fhir_type && !type.system) {
    if (type.ns == TypeRef::Ns::kSystem) return false;  // System.Patient: no such type, no match
    return ev.error(at, "unknown type '" + type.name + "'");
  }
  if (item.is_node()) {
    const fhir::TypeDef* t = item.node().type;
    if (!t || !fhir_type) return false;
    if (exact && t->kind == fhir::TypeKind::kPrimitive) return t == fhir_type;
    return t->is_a(fhir_type);
  }
  if (type.ns == TypeRef::Ns::kFhir || !type.system) return false;
  return item.kind() == *type.system;
}

TypeInfo type_info_of(const Item& item) {
  if (item.is_node()) {
    const fhir::TypeDef* t = item.node().type;
    return TypeInfo{"FHIR", t ? t->name : std::string()};
  }
  return TypeInfo{"System", std::string(to_string(item.kind()))};
}

namespace {

// `as` on several items: a filter in lenient mode (CompileOptions::lenient_as).
Result<Collection> as_filter(Evaluator& ev, const Op& at, const Collection& input, const TypeRef& type) {
  Collection out;
  for (const Item& i : input) {
    GW_TRY(bool match, item_is_type(ev, at, i, type, true));
    if (match) out.push_back(i);
  }
  return out;
}

}  // namespace

Result<Collection> eval_type_op(Evaluator& ev, const Op& op, const Scope& scope) {
  GW_TRY(Collection c, ev.eval(*op.args[0], scope));
  if (op.kind == OpKind::kAs && c.size() > 1 && ev.program().lenient_as) return as_filter(ev, op, c, op.type);
  GW_TRY(const Item* x, single_item(ev, op, c, op.kind == OpKind::kIs ? "operator 'is'" : "operator 'as'"));
  if (!x) return Collection{};
  GW_TRY(bool match, item_is_type(ev, op, *x, op.type, op.kind == OpKind::kAs));
  if (op.kind == OpKind::kIs) return Collection{Item::boolean(match)};
  if (match) return Collection{*x};
  return Collection{};
}

namespace {

Result<Collection> fn_is(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  GW_TRY(const Item* x, single_item(ev, call, input, "is()"));
  if (!x) return Collection{};
  GW_TRY(bool match, item_is_type(ev, call, *x, call.type, false));
  return Collection{Item::boolean(match)};
}

Result<Collection> fn_as(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  if (input.size() > 1 && ev.program().lenient_as) return as_filter(ev, call, input, call.type);
  GW_TRY(const Item* x, single_item(ev, call, input, "as()"));
  if (!x) return Collection{};
  GW_TRY(bool match, item_is_type(ev, call, *x, call.type, true));
  if (match) return Collection{*x};
  return Collection{};
}

Result<Collection> fn_of_type(Evaluator& ev, const Op& call, const Collection& input, const Scope&) {
  Collection out;
  for (const Item& i : input) {
    GW_TRY(bool match, item_is_type(ev, call, i, call.type, true));
    if (match) out.push_back(i);
  }
  return out;
}

Result<Collection> fn_type(Evaluator&, const Op&, const Collection& input, const Scope&) {
  Collection out;
  for (const Item& i : input) out.push_back(Item::type_info(type_info_of(i)));
  return out;
}

}  // namespace

namespace {
constexpr FunctionDef kFunctions[] = {
    {"is", 1, 1, fn_is, ArgMode::kType, ResultKind::kBoolean},
    {"as", 1, 1, fn_as, ArgMode::kType, ResultKind::kTypeArg},
    {"ofType", 1, 1, fn_of_type, ArgMode::kType, ResultKind::kTypeArg},
    {"type", 0, 0, fn_type, ArgMode::kValues, ResultKind::kUnknown},
};
}  // namespace

std::span<const FunctionDef> type_functions() { return kFunctions; }

}  // namespace gw::fhirpath::detail
