// gw::fhirpath — the FHIRPath engine: compile once, evaluate many.
//
// FHIRPath is the language the rest of the gateway speaks about data: the
// validator's invariants (`name.exists() or telecom.exists()`), consent rules
// (`Patient.extension('...immigration-status')`), and handoff mappings are all
// FHIRPath expressions. This module implements FHIRPath N1 (2.0.0) as FHIR R4
// uses it, plus the FHIR additions (extension(), resolve(), memberOf(), ...)
// and the few 2.1 functions the official R4 suite exercises (sort, encode,
// lowBoundary, ...).
//
// Shape of the module:
//
//   text --tokenize/parse--> syntax tree --compile--> Expression (immutable)
//                                                       |
//   input Collection + EvaluationContext --evaluate--> Result<Collection>
//
// Compilation resolves every function name and arity, type names and — when
// a Model and a context type are given — checks element paths statically
// (`Patient.name.given1` is rejected; so is `Observation.valueQuantity`,
// because FHIRPath names the choice element `value`). Evaluation never
// throws: errors are values.
//
// Errors (all gw::Error; `location()` is "offset N", N counted in
// characters from 0, for compile errors):
//   * ErrorCode::kParse           syntax error (compile)
//   * ErrorCode::kInvalidArgument semantic error (compile: unknown function,
//                                 wrong argument count, unknown element or
//                                 type, operand types that can never work) or
//                                 execution error (evaluate: a collection
//                                 with several items where one is required,
//                                 `'a' - 'b'`, an invalid regex, ...)
//   * ErrorCode::kLimit           the expression or the evaluation exceeded
//                                 a limit (length, nesting depth, number of
//                                 items in a collection)
//   * ErrorCode::kUnsupported     a function needs a service (terminology,
//                                 profiles) that the Environment lacks and
//                                 the spec gives no empty answer for
// Messages name the construct ("function 'substring' expects 1 or 2
// arguments") and never quote data from the resource being evaluated.
//
// Conformance: 934 of the 935 tests of HL7's official R4 suite pass
// (tests/fhirpath/suite_test.cpp); the remaining one expects `contained.id`
// to have FHIR type `id`, which the R4 4.0.1 definitions give as `string`.
// Every one of the 9,087 invariants in the R4 core definitions compiles
// (except two that are wrong in the definitions themselves) and evaluates
// without error on HL7's R4 examples. Choices where the spec is open or the
// suite and FHIR R4 disagree:
//   * `as` on several items filters like ofType() by default (FHIR R4's
//     dom-3 needs it); CompileOptions::lenient_as = false makes it the
//     execution error FHIRPath 2.0 prescribes.
//   * as()/ofType() match FHIR primitives exactly (a `code` is not a
//     `string` for them, as the suite requires) but complex types and
//     resources by derivation (an Age is a Quantity); is() always by
//     derivation.
//   * `and`, `or` and `implies` short-circuit on their left operand.
//   * Regular expressions are RE2 (linear time); `.` matches newlines.
//
// Thread-safety: an Expression is immutable; any number of threads may
// evaluate the same Expression concurrently, each with its own
// EvaluationContext (or sharing one: evaluation only reads it). Items are
// plain values, thread-compatible.
//
// Lifetimes: an Item that holds a fhir::Node points into a json::Document
// and a fhir::Model; the caller keeps both alive while it uses the Item.
// An Expression holds a shared_ptr to the Model it was compiled with.
//
// Usage:
//   fhirpath::CompileOptions opts;
//   opts.model = model;                       // std::shared_ptr<const fhir::Model>
//   opts.context_type = "Patient";
//   auto expr = fhirpath::Expression::compile("name.where(use = 'official').given", opts);
//   if (!expr) return expr.error();           // kParse with location "offset 12", ...
//
//   fhirpath::EvaluationContext ctx;          // model taken from the Expression
//   auto root = model->resource(doc.root());
//   auto given = expr->evaluate(*root, ctx);  // Result<Collection>
//   for (const fhirpath::Item& i : *given) use(i.to_string());
#pragma once

#include "gateway/core/core.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/primitives/primitives.hpp"

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gw::fhirpath {

namespace detail {
struct Program;
}

/// What an Item holds: a FHIR element, or a value of one of FHIRPath's
/// System types. kTypeInfo is the result of `type()` (a namespace and a
/// name, navigable as `.namespace` and `.name`).
enum class ItemKind : std::uint8_t {
  kNode,
  kBoolean,
  kString,
  kInteger,
  kDecimal,
  kDate,
  kDateTime,
  kTime,
  kQuantity,
  kTypeInfo,
};

/// "Boolean", "String", ... ("Node" and "TypeInfo" for the other two).
std::string_view to_string(ItemKind kind);

/// The result of FHIRPath `type()`: namespace "System" or "FHIR", and the
/// type name ("Integer", "Patient", "boolean").
struct TypeInfo {
  std::string ns;
  std::string name;
  friend bool operator==(const TypeInfo&, const TypeInfo&) = default;
};

/// One element of a FHIRPath collection.
///
/// A FHIR element (kNode) keeps its FHIR type (`code`, `HumanName`) and is
/// converted to a System value only where an operator or function needs one
/// (`Patient.gender = 'male'`). System values are owned by the Item.
///
/// Thread-compatible value type; copying is cheap except for strings.
class Item {
 public:
  /// Default: the Boolean false (an Item is never "empty": emptiness is an
  /// empty Collection).
  Item() = default;

  static Item node(const fhir::Node& n) { return Item(Storage(std::in_place_index<0>, n)); }
  static Item boolean(bool b) { return Item(Storage(std::in_place_index<1>, b)); }
  static Item string(std::string s) { return Item(Storage(std::in_place_index<2>, std::move(s))); }
  static Item integer(std::int64_t v) { return Item(Storage(std::in_place_index<3>, v)); }
  static Item decimal(const primitives::Decimal& d) { return Item(Storage(std::in_place_index<4>, d)); }
  static Item date(const primitives::Date& d) { return Item(Storage(std::in_place_index<5>, d)); }
  static Item datetime(const primitives::DateTime& d) { return Item(Storage(std::in_place_index<6>, d)); }
  static Item time(const primitives::Time& t) { return Item(Storage(std::in_place_index<7>, t)); }
  static Item quantity(primitives::Quantity q) { return Item(Storage(std::in_place_index<8>, std::move(q))); }
  static Item type_info(TypeInfo t) { return Item(Storage(std::in_place_index<9>, std::move(t))); }

  ItemKind kind() const noexcept { return static_cast<ItemKind>(v_.index()); }
  bool is_node() const noexcept { return v_.index() == 0; }

  // Accessors: each asserts (GW_ASSERT) that the kind matches.
  const fhir::Node& node() const;
  bool boolean() const;
  const std::string& string() const;
  std::int64_t integer() const;
  const primitives::Decimal& decimal() const;
  const primitives::Date& date() const;
  const primitives::DateTime& datetime() const;
  const primitives::Time& time() const;
  const primitives::Quantity& quantity() const;
  const TypeInfo& type_info() const;

  /// The FHIRPath type name: "code", "HumanName", "Patient" for nodes (the
  /// FHIR type; "" if the model did not know it), "Integer", "Date", ... for
  /// System values.
  std::string type_name() const;

  /// A readable rendering for messages, the CLI and tests. System values:
  /// "true", "abc", "12", "1.50", "@2014-05-06", "@2015-02-04T14:34:28Z",
  /// "@T14:34", "4 'g'". Primitive nodes render their value the same way
  /// ("1974-12-25" as a FHIR date renders "@1974-12-25"); complex nodes
  /// render as their compact JSON.
  std::string to_string() const;

  /// Representation equality (same kind, same value, same node), for tests
  /// and containers. FHIRPath `=` is implemented by the engine, not here.
  friend bool operator==(const Item&, const Item&) = default;

 private:
  using Storage = std::variant<fhir::Node, bool, std::string, std::int64_t, primitives::Decimal,
                               primitives::Date, primitives::DateTime, primitives::Time,
                               primitives::Quantity, TypeInfo>;
  explicit Item(Storage v) : v_(std::move(v)) {}
  Storage v_{std::in_place_index<1>, false};
};

/// A FHIRPath collection: ordered, possibly empty, items of mixed kinds.
using Collection = std::vector<Item>;

/// A coded value handed to Environment::member_of(): `system` may be empty
/// (a bare `code` or string whose system the binding implies).
struct Code {
  std::string_view system;
  std::string_view code;
};

/// Services FHIRPath needs from the rest of the gateway, as a small
/// interface this module owns (the packages/terminology/validation modules
/// implement it; fhirpath does not depend on them).
///
/// Implementations must be thread-safe (const methods called concurrently)
/// and must keep any Node they return valid while the evaluation's results
/// are in use.
class Environment {
 public:
  virtual ~Environment() = default;

  /// memberOf(): whether any of `codes` (one for a code or Coding, one per
  /// coding for a CodeableConcept) is in the ValueSet `value_set_url`.
  /// nullopt when the answer is unknown (ValueSet not available, not
  /// expandable offline): the function then returns empty. An error becomes
  /// an execution error. Default: nullopt.
  virtual Result<std::optional<bool>> member_of(std::span<const Code> codes,
                                                std::string_view value_set_url) const;

  /// conformsTo(): whether `node` conforms to the StructureDefinition
  /// `profile_url`. Errors (kNotFound for an unknown profile) become
  /// execution errors, as the spec requires. Default: kUnsupported, in which
  /// case the engine falls back to its own rule for base types (a node
  /// conforms to the core definition of its own type or an ancestor).
  virtual Result<bool> conforms_to(const fhir::Node& node, std::string_view profile_url) const;

  /// resolve() for references the engine cannot resolve inside the
  /// resource or its Bundle (another stored resource, say). Default:
  /// nullopt (the reference resolves to nothing).
  virtual std::optional<fhir::Node> resolve(std::string_view reference) const;
};

/// Options fixed at compile time.
struct CompileOptions {
  /// The element model. Without it, type names in `is`/`as`/`ofType` are
  /// resolved at evaluation time and no path checking is done. The
  /// Expression keeps the Model alive.
  std::shared_ptr<const fhir::Model> model;
  /// The type of the evaluation input: a resource ("Patient"), datatype
  /// ("HumanName") or backbone path ("Patient.contact"). With a model, the
  /// compiler checks that every element path exists on it (a path may start
  /// with the type's own name: `Patient.name`). Empty: no path checking.
  /// Errors: an unknown type name is a compile error.
  std::string context_type;
  /// Reject ordered functions (first(), skip(), [n], ...) applied to the
  /// unordered results of children()/descendants(). The official suite's
  /// `checkOrderedFunctions` mode.
  bool check_ordered_functions = false;
  /// What `as` (operator and function) does with a collection of several
  /// items. true: it filters like ofType(), which FHIR R4's own invariants
  /// rely on (dom-3 applies `descendants().as(canonical)` to whole
  /// resources), as HL7's R4-era engines did. false: an execution error,
  /// as FHIRPath 2.0 and its official test suite require.
  bool lenient_as = true;
  /// Longest expression text accepted, in bytes.
  std::uint32_t max_length = 64 * 1024;
  /// Deepest syntax tree accepted (parentheses, chains, arguments). Each
  /// parenthesis level costs one recursion per precedence level (13) in the
  /// parser; 200 overflowed an 8 MB stack under ASan at -O1, so 64, which
  /// is still far above any invariant or policy selector (they nest < 10).
  std::uint32_t max_depth = 64;
};

/// Everything an evaluation reads besides its input. Cheap to build per
/// call; may also be shared between threads (it is only read).
struct EvaluationContext {
  /// The model the input nodes were built with. Null: the Expression's
  /// compile-time model. Navigating a FHIR node needs one of the two.
  const fhir::Model* model = nullptr;
  /// %resource and %rootResource (FHIR's additions). Default: the input
  /// itself when it is a single resource node; %rootResource defaults to
  /// %resource. Set them when evaluating on an element inside a resource
  /// (invariants on Patient.contact), or on a resource inside a Bundle or
  /// `contained` (rootResource = the container), so that resolve() can find
  /// contained resources and Bundle entries.
  std::optional<fhir::Node> resource;
  std::optional<fhir::Node> root_resource;
  /// The Bundle the evaluated resource sits in, if any: resolve() looks
  /// up references among its entries (by fullUrl, and by type and id
  /// relative to the entry's base URL, per the Bundle resolution rules).
  std::optional<fhir::Node> bundle;
  /// Caller variables, without the '%': {"profile", {Item::string(...)}}.
  /// They shadow nothing: %resource, %context, %ucum, %sct, %loinc,
  /// %vs-<name> and %ext-<name> are built in. Referencing a variable that is
  /// neither is an execution error.
  std::map<std::string, Collection, std::less<>> variables;
  /// Terminology, profiles and external references. Null: memberOf() gives
  /// empty, conformsTo() knows only base types, resolve() only looks inside
  /// the resource and Bundle.
  const Environment* environment = nullptr;
  /// Time source for now(), today() and timeOfDay(); null: the system
  /// clock. One evaluation reads it once, so now() = now() holds.
  const Clock* clock = nullptr;
  /// Offset from UTC for now()/today()/timeOfDay(), in minutes.
  int tz_offset_minutes = 0;
  /// Receives trace('name', ...) output. Null: trace() only passes its
  /// input through. Called on the evaluating thread; must not retain the
  /// collection.
  std::function<void(std::string_view name, const Collection& items)> trace;
  /// Deepest nesting of evaluation (function arguments inside lambdas
  /// inside operators ...). Exceeding it is a kLimit error.
  std::uint32_t max_depth = 400;
  /// Most items any intermediate collection may hold (repeat(), descendants(),
  /// a cross product of unions). Exceeding it is a kLimit error.
  std::size_t max_items = 1'000'000;
  /// Most work the set functions (distinct(), union, repeat(), intersect(),
  /// exclude(), subsetOf(), ...) may do in one evaluation, in equality
  /// comparisons (a quantity's counts 500: it converts units through UCUM,
  /// about 45 us under ASan against a tenth of that for two strings).
  /// Strings and numbers hash to their own buckets and cost about one
  /// comparison per item; quantities and dates share buckets, so without a
  /// bound `1.repeat(... quantity arithmetic ...)` compared for hours
  /// (fhirpath_fuzz found it). 5M is under a second under gcc's ASan (four
  /// in the instrumented fuzz build) and far above what a definition's
  /// invariant needs (2,000 dates through distinct() is 2M). Exceeding it
  /// is a kLimit error.
  std::uint64_t max_work = 5'000'000;
};

/// A compiled FHIRPath expression. Immutable, cheap to copy (shared), and
/// thread-safe to evaluate concurrently.
class Expression {
 public:
  /// Parses and checks `text`. Errors: see the module comment (kParse,
  /// kInvalidArgument, kLimit), with location "offset N".
  static Result<Expression> compile(std::string_view text, const CompileOptions& options = {});

  /// Evaluates with `input` as the focus ($this and %context).
  Result<Collection> evaluate(const Collection& input, const EvaluationContext& context) const;
  /// Evaluates on one node (a resource or any element).
  Result<Collection> evaluate(const fhir::Node& input, const EvaluationContext& context) const;

  /// Evaluates and reads the result as an invariant does: empty -> nullopt,
  /// a single Boolean (or FHIR boolean) -> its value, any other single item
  /// -> true (FHIRPath's singleton rule). Several items are an execution
  /// error.
  Result<std::optional<bool>> evaluate_boolean(const fhir::Node& input,
                                               const EvaluationContext& context) const;

  /// The source text.
  const std::string& text() const;

 private:
  explicit Expression(std::shared_ptr<const detail::Program> p) : program_(std::move(p)) {}
  std::shared_ptr<const detail::Program> program_;
};

/// Writes a collection as a JSON array (the CLI's output format):
///   * FHIR nodes as their JSON: objects verbatim, primitives as their JSON
///     scalar (a primitive that has only extensions writes its `_x` object);
///   * Boolean -> true/false, String -> "text", Integer and Decimal -> JSON
///     numbers (decimals keep their scale: 1.50), Date/DateTime/Time -> the
///     FHIR string form ("2014-05-06", "2015-02-04T14:34:28Z", "14:34:00"),
///     Quantity -> {"value": 4.5, "unit": "mg"}, TypeInfo ->
///     {"namespace": "System", "name": "Integer"}.
std::string to_json(const Collection& items, bool pretty = false);

/// `fhir-gateway fhirpath EXPRESSION FILE [--var name=value]...`
///
/// Reads the JSON resource in FILE, evaluates EXPRESSION on it (context
/// type: the resource's type) and prints the result collection with
/// to_json() (pretty) to `out`. Each `--var name=value` defines %name as the
/// String 'value'. Returns 0 on success, 1 when evaluation fails, 2 for
/// usage errors, unreadable files and expressions that do not compile;
/// errors go to `err` as one line. `args` are the arguments after
/// "fhirpath". The Model must outlive the call.
int run_fhirpath_command(std::span<const std::string_view> args, const fhir::Model& model,
                         std::ostream& out, std::ostream& err);

}  // namespace gw::fhirpath
