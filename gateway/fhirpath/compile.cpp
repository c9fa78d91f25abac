// Compilation: syntax tree -> Program, with the semantic checks.
//
// Besides building Ops, the compiler infers a *static type* for every
// subexpression: the set of FHIR types and System types its items may have,
// or "unknown". Checks fire only on definite knowledge, so an expression
// that might be valid is never rejected:
//   * unknown functions and wrong argument counts (always);
//   * type names that exist in neither the model nor System (with a model);
//   * element names that exist on none of the possible types
//     (`Patient.name.given1`, `Observation.valueQuantity`,
//     `(Observation.value as Period).unit`); member access on an abstract
//     type (Resource) or an unknown type is not checked;
//   * string functions on non-string input (`Appointment.identifier.startsWith(...)`);
//   * an iif() criterion that can never be Boolean;
//   * arithmetic on literal System types that no operator accepts
//     (`@1974-12-25 + 7`);
//   * with check_ordered_functions, ordered functions applied to the
//     unordered output of children()/descendants().
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace gw::fhirpath::detail {

namespace prim = gw::primitives;

namespace {

constexpr std::uint16_t bit(ItemKind k) { return static_cast<std::uint16_t>(1u << static_cast<unsigned>(k)); }
constexpr std::uint16_t kNumericBits = bit(ItemKind::kInteger) | bit(ItemKind::kDecimal);
constexpr std::uint16_t kTemporalBits = bit(ItemKind::kDate) | bit(ItemKind::kDateTime) | bit(ItemKind::kTime);

// What a subexpression may produce: a set of possible FHIR types and
// System kinds, or `any` when the compiler cannot know (a variable, the
// result of resolve(), children()). Sets rather than single types because
// choice elements (Observation.value) and unions legitimately mix types; a
// check fires only when *no* member of a definite set could work, which is
// what keeps the checker from rejecting valid expressions. `ordered` tracks
// whether the collection has a meaningful order (children() has none).
struct SType {
  bool any = true;                          // unknown: no checks downstream
  std::vector<const fhir::TypeDef*> fhir;   // possible FHIR types
  std::uint16_t system = 0;                 // possible System kinds (bits)
  bool ordered = true;

  static SType unknown() { return SType{}; }
  static SType none() {
    SType s;
    s.any = false;
    return s;
  }
  static SType of(ItemKind k) {
    SType s = none();
    s.system = bit(k);
    return s;
  }
  static SType of(const fhir::TypeDef* t) {
    if (!t) return unknown();
    SType s = none();
    s.fhir.push_back(t);
    return s;
  }
  bool is_definite() const { return !any; }
  bool is_empty_set() const { return !any && fhir.empty() && system == 0; }
  bool system_only() const { return !any && fhir.empty() && system != 0; }
  void add(const SType& o) {
    if (o.any) any = true;
    for (const fhir::TypeDef* t : o.fhir) {
      if (std::find(fhir.begin(), fhir.end(), t) == fhir.end()) fhir.push_back(t);
    }
    system |= o.system;
    ordered = ordered && o.ordered;
  }
};

bool is_abstract_resource(const fhir::TypeDef* t) {
  return t->kind == fhir::TypeKind::kResource && t->is_abstract;
}

std::optional<ItemKind> system_type_named(std::string_view n) {
  if (n == "Boolean") return ItemKind::kBoolean;
  if (n == "String") return ItemKind::kString;
  if (n == "Integer") return ItemKind::kInteger;
  if (n == "Decimal") return ItemKind::kDecimal;
  if (n == "Date") return ItemKind::kDate;
  if (n == "DateTime") return ItemKind::kDateTime;
  if (n == "Time") return ItemKind::kTime;
  if (n == "Quantity") return ItemKind::kQuantity;
  return std::nullopt;
}

std::string join(const std::vector<std::string>& parts, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < parts.size(); ++i) {
    if (!out.empty()) out += '.';
    out += parts[i];
  }
  return out;
}

// The qualified name written as a function argument: `Patient`,
// `FHIR.Patient`, `System.String`, `FHIR.\`Patient\``.
bool ast_type_name(const Ast& a, std::vector<std::string>& out) {
  if (a.kind == AstKind::kIdentifier) {
    out.push_back(a.text);
    return true;
  }
  if (a.kind == AstKind::kMember && a.source) {
    if (!ast_type_name(*a.source, out)) return false;
    out.push_back(a.text);
    return true;
  }
  return false;
}

std::string describe_type(const SType& s) {
  std::string out;
  for (const fhir::TypeDef* t : s.fhir) {
    if (!out.empty()) out += " | ";
    out += t->name;
  }
  for (unsigned k = 0; k < 16; ++k) {
    if (s.system & (1u << k)) {
      if (!out.empty()) out += " | ";
      out += "System.";
      out += to_string(static_cast<ItemKind>(k));
    }
  }
  return out.empty() ? "empty" : out;
}

class Compiler {
 public:
  Compiler(std::string_view src, const CompileOptions& options)
      : src_(src), options_(options), model_(options.model.get()) {}

  Result<std::unique_ptr<Op>> run(const Ast& root, const SType& context) {
    context_ = context;
    SType out;
    return compile(root, context, out);
  }

 private:
  Error semantic(std::uint32_t offset, std::string message) const {
    return Error(ErrorCode::kInvalidArgument, std::move(message), location_at(src_, offset));
  }

  std::unique_ptr<Op> make(OpKind kind, const Ast& a) const {
    auto op = std::make_unique<Op>();
    op->kind = kind;
    op->offset = char_offset(src_, a.offset);  // runtime errors report characters
    return op;
  }

  Result<std::unique_ptr<Op>> literal(const Ast& a, SType& out) {
    auto op = make(OpKind::kLiteral, a);
    switch (a.kind) {
      case AstKind::kBoolean:
        op->literal = Item::boolean(a.text == "true");
        out = SType::of(ItemKind::kBoolean);
        break;
      case AstKind::kString:
        op->literal = Item::string(a.text);
        out = SType::of(ItemKind::kString);
        break;
      case AstKind::kNumber:
        if (a.text.find('.') == std::string::npos) {
          std::int64_t v = 0;
          auto [p, ec] = std::from_chars(a.text.data(), a.text.data() + a.text.size(), v);
          if (ec != std::errc() || p != a.text.data() + a.text.size()) {
            return semantic(a.offset, "integer literal out of range");
          }
          op->literal = Item::integer(v);
          out = SType::of(ItemKind::kInteger);
        } else {
          auto d = prim::Decimal::parse(a.text, prim::DecimalSyntax::kFhirPath);
          if (!d) return semantic(a.offset, "decimal literal out of range");
          op->literal = Item::decimal(*d);
          out = SType::of(ItemKind::kDecimal);
        }
        break;
      case AstKind::kQuantity: {
        auto d = prim::Decimal::parse(a.text, prim::DecimalSyntax::kFhirPath);
        if (!d) return semantic(a.offset, "quantity value out of range");
        prim::Quantity q;
        q.value = *d;
        q.unit = a.unit;
        op->literal = Item::quantity(std::move(q));
        out = SType::of(ItemKind::kQuantity);
        break;
      }
      case AstKind::kDate: {
        auto d = prim::parse_date(a.text, prim::TemporalSyntax::kFhirPath);
        if (!d) return semantic(a.offset, "invalid date literal: " + d.error().message());
        op->literal = Item::date(*d);
        out = SType::of(ItemKind::kDate);
        break;
      }
      case AstKind::kDateTime: {
        auto d = prim::parse_datetime(a.text, prim::TemporalSyntax::kFhirPath);
        if (!d) return semantic(a.offset, "invalid date/time literal: " + d.error().message());
        op->literal = Item::datetime(*d);
        out = SType::of(ItemKind::kDateTime);
        break;
      }
      case AstKind::kTime: {
        auto t = prim::parse_time(a.text, prim::TemporalSyntax::kFhirPath);
        if (!t) return semantic(a.offset, "invalid time literal: " + t.error().message());
        op->literal = Item::time(*t);
        out = SType::of(ItemKind::kTime);
        break;
      }
      default:
        return semantic(a.offset, "internal: not a literal");
    }
    return op;
  }

  // The static type of the elements named `name` on items of type `in`.
  // `at_start`: the identifier begins a path and may name a type instead
  // (`Patient.name` on a Patient: the type name filters the focus). An
  // abstract resource type (Resource, DomainResource: `contained`,
  // `Bundle.entry.resource`) or Element makes the result unknown rather
  // than an error, because the concrete type is only known at run time.
  // System Quantity and TypeInfo values have the members the spec gives
  // them (value/unit, namespace/name).
  Result<SType> member_type(const SType& in, const std::string& name, bool at_start,
                            std::uint32_t offset) {
    if (in.any || !model_) return SType{true, {}, 0, in.ordered};
    SType out = SType::none();
    out.ordered = in.ordered;
    bool found = false;
    if (at_start && !name.empty() && std::isupper(static_cast<unsigned char>(name[0]))) {
      if (const fhir::TypeDef* named = model_->type(name)) {
        for (const fhir::TypeDef* t : in.fhir) {
          if (t->is_a(named)) {
            out.add(SType::of(t));
            found = true;
          } else if (named->is_a(t) && is_abstract_resource(t)) {
            out.add(SType::of(named));
            found = true;
          }
        }
      }
    }
    for (const fhir::TypeDef* t : in.fhir) {
      if (is_abstract_resource(t) || t->name == "Element" || t->name == "BackboneElement") {
        out.any = true;  // the concrete type decides at run time
        found = true;
        continue;
      }
      const fhir::ElementDef* e = t->element(name);
      if (!e) continue;
      found = true;
      if (e->backbone) {
        out.add(SType::of(e->backbone));
        continue;
      }
      for (const std::string& code : e->types) out.add(SType::of(model_->type(code)));
      if (e->types.empty()) out.any = true;
    }
    if (in.system & bit(ItemKind::kQuantity)) {
      if (name == "value") { out.system |= bit(ItemKind::kDecimal); found = true; }
      if (name == "unit") { out.system |= bit(ItemKind::kString); found = true; }
    }
    if (in.system & bit(ItemKind::kTypeInfo)) {
      if (name == "namespace" || name == "name") { out.system |= bit(ItemKind::kString); found = true; }
    }
    if (!found && !in.fhir.empty()) {
      return semantic(offset, "'" + name + "' is not an element of " + describe_type(in));
    }
    return out;
  }

  // Resolves a type specifier. `FHIR.` and `System.` qualify the namespace;
  // an unqualified name is looked up in both, and each item is later
  // matched in the namespace it lives in (see fn_types.cpp). With a model,
  // a name found nowhere is a compile error; without one, FHIR names are
  // resolved against the evaluation's model.
  Result<TypeRef> type_ref(const std::vector<std::string>& parts, std::uint32_t offset) {
    TypeRef r;
    if (parts.size() >= 2 && parts[0] == "FHIR") {
      r.ns = TypeRef::Ns::kFhir;
      r.name = join(parts, 1);
    } else if (parts.size() >= 2 && parts[0] == "System") {
      r.ns = TypeRef::Ns::kSystem;
      r.name = join(parts, 1);
    } else {
      r.name = join(parts, 0);
    }
    // An unqualified name may denote both a FHIR type (for elements) and a
    // System type (for System values): `Quantity`, and in principle any
    // name the model shares with System. Each item is matched against the
    // namespace it lives in.
    if (r.ns != TypeRef::Ns::kSystem && model_) r.fhir = model_->type(r.name);
    if (r.ns != TypeRef::Ns::kFhir) r.system = system_type_named(r.name);
    // `System.Patient` names no type, but the suite wants `is` to answer
    // false rather than fail; only unqualified and FHIR names are checked.
    if (model_ && !r.fhir && !r.system && r.ns != TypeRef::Ns::kSystem) {
      return semantic(offset, "unknown type '" + r.name + "'");
    }
    if (r.name == "TypeInfo" || r.name == "SimpleTypeInfo" || r.name == "ClassInfo") {
      r.system = ItemKind::kTypeInfo;
    }
    return r;
  }

  static SType type_of(const TypeRef& r) {
    SType s = SType::none();
    if (r.fhir) s.add(SType::of(r.fhir));
    if (r.system) s.add(SType::of(*r.system));
    return s.is_empty_set() ? SType::unknown() : s;
  }

  // Whether a string function could accept the input. Logical-model types
  // are allowed: their elements are not FHIR-typed in a way we check.
  bool may_be_string(const SType& s) const {
    if (s.any || s.is_empty_set()) return true;
    if (s.system & bit(ItemKind::kString)) return true;
    for (const fhir::TypeDef* t : s.fhir) {
      if (t->kind == fhir::TypeKind::kPrimitive && t->system_type == fhir::SystemType::kString) return true;
      if (t->kind == fhir::TypeKind::kLogical) return true;
    }
    return false;
  }

  bool may_be_boolean(const SType& s) const {
    if (s.any || s.is_empty_set()) return true;
    if (s.system & bit(ItemKind::kBoolean)) return true;
    for (const fhir::TypeDef* t : s.fhir) {
      if (t->kind == fhir::TypeKind::kPrimitive && t->system_type == fhir::SystemType::kBoolean) return true;
    }
    return false;
  }

  // True when some pair of System kinds from the two sides is accepted by
  // the arithmetic operator. Only applied when both sides are System-only:
  // a FHIR element converts to its System value at run time, and a missing
  // value gives empty rather than an error, so elements are never rejected
  // here.
  static bool arithmetic_possible(BinaryOp op, std::uint16_t l, std::uint16_t r) {
    for (unsigned a = 0; a < 16; ++a) {
      if (!(l & (1u << a))) continue;
      for (unsigned b = 0; b < 16; ++b) {
        if (!(r & (1u << b))) continue;
        if (arithmetic_pair(op, static_cast<ItemKind>(a), static_cast<ItemKind>(b))) return true;
      }
    }
    return false;
  }

  static bool arithmetic_pair(BinaryOp op, ItemKind a, ItemKind b) {
    bool an = kNumericBits & bit(a);
    bool bn = kNumericBits & bit(b);
    bool aq = a == ItemKind::kQuantity;
    bool bq = b == ItemKind::kQuantity;
    bool at = kTemporalBits & bit(a);
    switch (op) {
      case BinaryOp::kAdd:
        return (an && bn) || (aq && bq) || (a == ItemKind::kString && b == ItemKind::kString) ||
               (at && bq) || (an && bq) || (aq && bn);
      case BinaryOp::kSub:
        return (an && bn) || (aq && bq) || (at && bq) || (an && bq) || (aq && bn);
      case BinaryOp::kMul:
      case BinaryOp::kDiv:
        return (an || aq) && (bn || bq);
      case BinaryOp::kIntDiv:
      case BinaryOp::kMod:
        return (an && bn) || (aq && bq);
      case BinaryOp::kConcat:
        return a == ItemKind::kString && b == ItemKind::kString;
      default:
        return true;
    }
  }

  Result<std::unique_ptr<Op>> compile(const Ast& a, const SType& focus, SType& out) {
    switch (a.kind) {
      case AstKind::kEmpty:
        out = SType::none();
        return make(OpKind::kEmpty, a);
      case AstKind::kBoolean:
      case AstKind::kString:
      case AstKind::kNumber:
      case AstKind::kQuantity:
      case AstKind::kDate:
      case AstKind::kDateTime:
      case AstKind::kTime:
        return literal(a, out);
      case AstKind::kThis:
        out = focus;
        return make(OpKind::kThis, a);
      case AstKind::kIndex:
        out = SType::of(ItemKind::kInteger);
        return make(OpKind::kIndex, a);
      case AstKind::kTotal:
        out = SType::unknown();
        return make(OpKind::kTotal, a);
      case AstKind::kVariable:
        return variable(a, out);
      case AstKind::kIdentifier: {
        auto op = make(OpKind::kMember, a);
        op->name = a.text;
        op->maybe_type = !a.text.empty() && std::isupper(static_cast<unsigned char>(a.text[0]));
        GW_TRY(out, member_type(focus, a.text, true, a.offset));
        return op;
      }
      case AstKind::kMember: {
        auto op = make(OpKind::kMember, a);
        op->name = a.text;
        SType in;
        GW_TRY(op->source, compile(*a.source, focus, in));
        GW_TRY(out, member_type(in, a.text, false, a.offset));
        return op;
      }
      case AstKind::kFunction:
        return function(a, focus, out);
      case AstKind::kIndexer: {
        auto op = make(OpKind::kIndexer, a);
        SType in, index;
        GW_TRY(op->source, compile(*a.source, focus, in));
        if (options_.check_ordered_functions && !in.ordered) {
          return semantic(a.offset, "indexer applied to an unordered collection");
        }
        GW_TRY(auto ix, compile(*a.args[0], focus, index));
        op->args.push_back(std::move(ix));
        out = in;
        return op;
      }
      case AstKind::kUnary: {
        auto op = make(OpKind::kUnary, a);
        op->minus = a.minus;
        GW_TRY(auto operand, compile(*a.args[0], focus, out));
        op->args.push_back(std::move(operand));
        return op;
      }
      case AstKind::kBinary:
        return binary(a, focus, out);
      case AstKind::kTypeOp: {
        auto op = make(a.is_as ? OpKind::kAs : OpKind::kIs, a);
        SType in;
        GW_TRY(auto operand, compile(*a.args[0], focus, in));
        op->args.push_back(std::move(operand));
        GW_TRY(op->type, type_ref(a.type_name, a.offset));
        out = a.is_as ? type_of(op->type) : SType::of(ItemKind::kBoolean);
        out.ordered = in.ordered;
        return op;
      }
    }
    return semantic(a.offset, "internal: unknown syntax node");
  }

  Result<std::unique_ptr<Op>> variable(const Ast& a, SType& out) {
    const std::string& n = a.text;
    auto constant = [&](std::string value) {
      auto op = make(OpKind::kLiteral, a);
      op->literal = Item::string(std::move(value));
      out = SType::of(ItemKind::kString);
      return op;
    };
    if (n == "ucum") return constant("http://unitsofmeasure.org");
    if (n == "sct") return constant("http://snomed.info/sct");
    if (n == "loinc") return constant("http://loinc.org");
    if (n.rfind("vs-", 0) == 0 && n.size() > 3) {
      return constant("http://hl7.org/fhir/ValueSet/" + n.substr(3));
    }
    if (n.rfind("ext-", 0) == 0 && n.size() > 4) {
      return constant("http://hl7.org/fhir/StructureDefinition/" + n.substr(4));
    }
    auto op = make(OpKind::kVariable, a);
    op->name = n;
    out = n == "context" ? context_ : SType::unknown();
    return op;
  }

  Result<std::unique_ptr<Op>> binary(const Ast& a, const SType& focus, SType& out) {
    auto op = make(OpKind::kBinary, a);
    op->bop = a.op;
    SType l, r;
    GW_TRY(auto lhs, compile(*a.args[0], focus, l));
    GW_TRY(auto rhs, compile(*a.args[1], focus, r));
    op->args.push_back(std::move(lhs));
    op->args.push_back(std::move(rhs));
    switch (a.op) {
      case BinaryOp::kUnion:
        out = l;
        out.add(r);
        break;
      case BinaryOp::kConcat:
        out = SType::of(ItemKind::kString);
        break;
      case BinaryOp::kMul: case BinaryOp::kDiv: case BinaryOp::kIntDiv: case BinaryOp::kMod:
      case BinaryOp::kAdd: case BinaryOp::kSub:
        if (l.system_only() && r.system_only() && !arithmetic_possible(a.op, l.system, r.system)) {
          return semantic(a.offset, "operator '" + std::string(to_string(a.op)) +
                                        "' cannot be applied to " + describe_type(l) + " and " +
                                        describe_type(r));
        }
        out = SType::unknown();
        if (l.system_only() && r.system_only() && l.system == r.system &&
            (l.system == bit(ItemKind::kString) || l.system == bit(ItemKind::kInteger))) {
          out = a.op == BinaryOp::kDiv ? SType::of(ItemKind::kDecimal) : l;
        }
        break;
      default:
        out = SType::of(ItemKind::kBoolean);
        break;
    }
    return op;
  }

  // A function call. The scope its arguments see depends on the function:
  //  - value arguments (substring(1, 2), subsetOf($this.name)) are
  //    evaluated once, in the caller's scope: `$this` is the caller's $this,
  //    not the function's input (the suite's testSubSetOf1 relies on it);
  //  - lambda arguments (where, select, all, exists, repeat, aggregate,
  //    sort, trace's projection) see each input item as $this;
  //  - iif() sees its explicit input as $this (`('x').iif($this = 'x', ...)`)
  //    and the caller's scope when called without one.
  Result<std::unique_ptr<Op>> function(const Ast& a, const SType& focus, SType& out) {
    const FunctionDef* def = find_function(a.text);
    if (!def) return semantic(a.offset, "unknown function '" + a.text + "'");
    if (a.args.size() < def->min_args || a.args.size() > def->max_args) {
      std::string expected = def->min_args == def->max_args
                                 ? std::to_string(def->min_args)
                                 : std::to_string(def->min_args) + " to " + std::to_string(def->max_args);
      return semantic(a.offset, "function '" + a.text + "' expects " + expected +
                                    " argument(s), got " + std::to_string(a.args.size()));
    }
    auto op = make(OpKind::kFunction, a);
    op->name = a.text;
    op->fn = def;
    SType in = focus;
    if (a.source) {
      GW_TRY(op->source, compile(*a.source, focus, in));
    }

    if (def->input == InputKind::kString && !may_be_string(in)) {
      return semantic(a.offset, "function '" + a.text + "' expects a string input, not " + describe_type(in));
    }
    if (def->needs_order && options_.check_ordered_functions && !in.ordered) {
      return semantic(a.offset, "function '" + a.text + "' applied to an unordered collection");
    }

    std::vector<SType> arg_types;
    switch (def->mode) {
      case ArgMode::kValues:
        for (const auto& arg : a.args) {
          SType t;
          GW_TRY(auto c, compile(*arg, focus, t));
          op->args.push_back(std::move(c));
          arg_types.push_back(t);
        }
        break;
      case ArgMode::kLambda: {
        SType item = in;
        item.ordered = true;
        for (const auto& arg : a.args) {
          SType t;
          GW_TRY(auto c, compile(*arg, item, t));
          op->args.push_back(std::move(c));
          arg_types.push_back(t);
        }
        break;
      }
      case ArgMode::kIif: {
        SType scope = a.source ? in : focus;
        for (const auto& arg : a.args) {
          SType t;
          GW_TRY(auto c, compile(*arg, scope, t));
          op->args.push_back(std::move(c));
          arg_types.push_back(t);
        }
        if (!may_be_boolean(arg_types[0])) {
          return semantic(a.args[0]->offset, "iif() criterion must be Boolean, not " +
                                                 describe_type(arg_types[0]));
        }
        break;
      }
      case ArgMode::kType: {
        std::vector<std::string> parts;
        if (!ast_type_name(*a.args[0], parts)) {
          return semantic(a.args[0]->offset, "function '" + a.text + "' expects a type name");
        }
        GW_TRY(op->type, type_ref(parts, a.args[0]->offset));
        break;
      }
    }
    GW_CHECK_OK(precompile_regex(a, *op));

    switch (def->result) {
      case ResultKind::kUnknown: out = SType::unknown(); break;
      case ResultKind::kSameAsInput: out = in; break;
      case ResultKind::kBoolean: out = SType::of(ItemKind::kBoolean); break;
      case ResultKind::kInteger: out = SType::of(ItemKind::kInteger); break;
      case ResultKind::kDecimal: out = SType::of(ItemKind::kDecimal); break;
      case ResultKind::kString: out = SType::of(ItemKind::kString); break;
      case ResultKind::kDate: out = SType::of(ItemKind::kDate); break;
      case ResultKind::kDateTime: out = SType::of(ItemKind::kDateTime); break;
      case ResultKind::kTime: out = SType::of(ItemKind::kTime); break;
      case ResultKind::kQuantity: out = SType::of(ItemKind::kQuantity); break;
      case ResultKind::kTypeArg: out = type_of(op->type); break;
      case ResultKind::kLambdaResult: out = arg_types.empty() ? SType::unknown() : arg_types[0]; break;
      case ResultKind::kInputAndArgs:
        out = in;
        for (const SType& t : arg_types) out.add(t);
        break;
      case ResultKind::kBranches:
        out = arg_types.size() > 1 ? arg_types[1] : SType::unknown();
        if (arg_types.size() > 2) out.add(arg_types[2]);
        break;
      case ResultKind::kExtension:
        out = model_ ? SType::of(model_->type("Extension")) : SType::unknown();
        break;
      case ResultKind::kSystemOfInput: out = SType::unknown(); break;
    }
    if (def->unordered_result) {
      out.ordered = false;
    } else if (def->result == ResultKind::kSameAsInput || def->result == ResultKind::kTypeArg) {
      out.ordered = in.ordered;
    }
    return op;
  }

  // matches('literal') and friends: compile the pattern once, here, and
  // report a malformed pattern at compile time.
  Status precompile_regex(const Ast& a, Op& op) const {
    bool is_regex_fn = a.text == "matches" || a.text == "matchesFull" || a.text == "replaceMatches";
    if (!is_regex_fn || a.args.empty() || a.args[0]->kind != AstKind::kString) return {};
    RE2::Options o;
    o.set_log_errors(false);
    o.set_dot_nl(true);
    o.set_max_mem(8 << 20);
    const std::string& pattern = a.args[0]->text;
    std::string wrapped = a.text == "matchesFull" ? "^(?:" + pattern + ")$" : pattern;
    auto re = std::make_shared<RE2>(wrapped, o);
    if (!re->ok()) return semantic(a.args[0]->offset, "invalid regular expression");
    op.regex = std::move(re);
    return {};
  }

  std::string_view src_;
  const CompileOptions& options_;
  const fhir::Model* model_;
  SType context_;
};

}  // namespace

const FunctionDef* find_function(std::string_view name) {
  for (auto table : {existence_functions(), filtering_functions(), type_functions(), conversion_functions(),
                     string_functions(), math_functions(), temporal_functions(), fhir_functions()}) {
    for (const FunctionDef& f : table) {
      if (f.name == name) return &f;
    }
  }
  return nullptr;
}

}  // namespace gw::fhirpath::detail

namespace gw::fhirpath {

Result<Expression> Expression::compile(std::string_view text, const CompileOptions& options) {
  detail::ParseLimits limits;
  limits.max_length = options.max_length;
  limits.max_depth = options.max_depth;
  GW_TRY(auto ast, detail::parse(text, limits));
  detail::SType context = detail::SType::unknown();
  if (!options.context_type.empty() && options.model) {
    const fhir::TypeDef* t = options.model->type(options.context_type);
    if (!t) {
      return fail(ErrorCode::kInvalidArgument, "unknown context type '" + options.context_type + "'");
    }
    context = detail::SType::of(t);
  }
  detail::Compiler compiler(text, options);
  GW_TRY(auto root, compiler.run(*ast, context));
  auto program = std::make_shared<detail::Program>();
  program->text = std::string(text);
  program->root = std::move(root);
  program->model = options.model;
  program->lenient_as = options.lenient_as;
  return Expression(std::move(program));
}

const std::string& Expression::text() const { return program_->text; }

}  // namespace gw::fhirpath
