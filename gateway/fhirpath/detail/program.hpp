// Private: the compiled form of an expression, the evaluator that walks it,
// and the function table shared by the fn_*.cpp files.
//
// A Program is a tree of Ops built once by compile.cpp and never changed.
// The Evaluator is created per evaluate() call on the caller's stack: all
// mutable state of an evaluation (recursion depth, the cached now()) lives
// there, which is what makes one Program safe to evaluate from many
// threads at once.
#pragma once

#include "gateway/fhirpath/detail/syntax.hpp"
#include "gateway/fhirpath/detail/value.hpp"
#include "gateway/fhirpath/fhirpath.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace gw::fhirpath::detail {

enum class OpKind : std::uint8_t {
  kLiteral,   // `literal`
  kEmpty,     // {}
  kThis,
  kIndex,
  kTotal,
  kVariable,  // %name
  kMember,    // [source.]name  (source null: on $this)
  kFunction,  // [source.]fn(args)
  kIndexer,   // source[args[0]]
  kUnary,     // -args[0] / +args[0]
  kBinary,    // args[0] op args[1]
  kIs,        // args[0] is type
  kAs,        // args[0] as type
};

/// A type name from `is`, `as`, `ofType()`.
struct TypeRef {
  enum class Ns : std::uint8_t { kUnqualified, kSystem, kFhir };
  Ns ns = Ns::kUnqualified;
  std::string name;                      // without namespace: "Quantity", "Patient.contact"
  const fhir::TypeDef* fhir = nullptr;   // resolved against the compile-time model
  std::optional<ItemKind> system;        // the System type the name denotes, if any
};

struct FunctionDef;

struct Op {
  OpKind kind = OpKind::kEmpty;
  std::uint32_t offset = 0;  // character offset in the source, for runtime errors
  std::string name;          // member, function or variable name
  Item literal;              // kLiteral
  BinaryOp bop = BinaryOp::kAdd;
  bool minus = false;        // kUnary
  bool maybe_type = false;   // kMember at a path start spelled like a type name
  TypeRef type;              // kIs, kAs, and functions taking a type argument
  const FunctionDef* fn = nullptr;
  std::unique_ptr<Op> source;
  std::vector<std::unique_ptr<Op>> args;
  /// matches()/replaceMatches()/matchesFull() with a literal pattern: the
  /// regex compiled once (RE2 objects are thread-safe for matching).
  std::shared_ptr<const re2::RE2> regex;
};

struct Program {
  std::string text;
  std::unique_ptr<Op> root;
  std::shared_ptr<const fhir::Model> model;
  bool lenient_as = true;  // CompileOptions::lenient_as
};

/// The variables of one evaluation scope.
struct Scope {
  const Collection* self = nullptr;   // $this
  std::int64_t index = -1;            // $index; -1 outside iterating functions
  const Collection* total = nullptr;  // $total inside aggregate()
};

class Evaluator {
 public:
  Evaluator(const Program& program, const EvaluationContext& context, const Collection& input);

  /// Evaluates an Op. Checks the depth limit.
  Result<Collection> eval(const Op& op, const Scope& scope);

  /// The input of a member/function/indexer: its source, or $this.
  Result<Collection> input_of(const Op& op, const Scope& scope);
  /// A non-lambda argument, evaluated once in the caller's scope.
  Result<Collection> arg(const Op& call, std::size_t i, const Scope& scope);
  /// A lambda argument evaluated for one item ($this = item, $index = index).
  Result<Collection> lambda(const Op& call, std::size_t i, const Item& item, std::int64_t index,
                            const Collection* total = nullptr);
  /// Any expression evaluated with $this = item.
  Result<Collection> eval_on(const Op& expr, const Item& item, std::int64_t index,
                             const Collection* total = nullptr);

  /// Argument helpers: a single value of the given kind, or nullopt for an
  /// empty argument. Several items or the wrong kind are execution errors.
  Result<std::optional<std::string>> string_arg(const Op& call, std::size_t i, const Scope& scope);
  Result<std::optional<std::int64_t>> integer_arg(const Op& call, std::size_t i, const Scope& scope);

  /// An ItemSet that charges its comparisons to this evaluation, and the
  /// check of that charge against EvaluationContext::max_work (kLimit).
  ItemSet item_set() { return ItemSet(&work_); }
  Status check_work(const Op& at) const;

  const fhir::Model* model() const { return model_; }
  const EvaluationContext& context() const { return context_; }
  const Program& program() const { return program_; }
  const Collection& root_input() const { return input_; }

  /// kLimit error when a collection would exceed max_items.
  Status check_size(std::size_t n, const Op& at) const;
  /// An execution error located at `at`.
  Error error(const Op& at, std::string message) const;

  /// now(), read once per evaluation.
  Result<primitives::DateTime> now(const Op& at);

 private:
  Result<Collection> eval_inner(const Op& op, const Scope& scope);
  Result<Collection> eval_member(const Op& op, const Scope& scope);
  Result<Collection> eval_variable(const Op& op, const Scope& scope);
  Result<Collection> eval_indexer(const Op& op, const Scope& scope);

  const Program& program_;
  const EvaluationContext& context_;
  const Collection& input_;
  const fhir::Model* model_;
  std::uint32_t depth_ = 0;
  std::uint64_t work_ = 0;  // set-function comparisons so far (ItemSet)
  std::optional<primitives::DateTime> now_;
  // eval_member's children of one node, reused: a path step used to
  // allocate (and free) a vector per input item's step. Only eval_member
  // touches it, after its input is evaluated, so nested steps never share it.
  std::vector<fhir::Node> member_scratch_;
};

// ---- functions -------------------------------------------------------------

using FnImpl = Result<Collection> (*)(Evaluator& ev, const Op& call, const Collection& input,
                                      const Scope& scope);

/// How a function's arguments are used (for the compiler: scopes and checks).
enum class ArgMode : std::uint8_t {
  kValues,  // evaluated once in the caller's scope (substring(1, 2))
  kLambda,  // evaluated per input item with $this/$index (where, select)
  kType,    // a type specifier (ofType(Patient))
  kIif,     // iif: criterion and branches, lazily
};

/// Static result type of a function, for path checking after it.
enum class ResultKind : std::uint8_t {
  kUnknown,
  kSameAsInput,
  kBoolean,
  kInteger,
  kDecimal,
  kString,
  kDate,
  kDateTime,
  kTime,
  kQuantity,
  kTypeArg,        // the type named by the argument (ofType, as)
  kLambdaResult,   // the type of the lambda argument (select)
  kInputAndArgs,   // union of input and argument types (union, combine)
  kBranches,       // iif
  kExtension,      // extension()
  kSystemOfInput,  // getValue()
};

/// What the input must be (checked at compile time when the type is known).
enum class InputKind : std::uint8_t { kAny, kString };

struct FunctionDef {
  std::string_view name;
  std::uint8_t min_args = 0;
  std::uint8_t max_args = 0;
  FnImpl impl = nullptr;
  ArgMode mode = ArgMode::kValues;
  ResultKind result = ResultKind::kUnknown;
  InputKind input = InputKind::kAny;
  bool needs_order = false;       // meaningless on unordered input (first, skip, ...)
  bool unordered_result = false;  // children(), descendants()
};

// Function tables, one per family (each defined in its fn_*.cpp file).
std::span<const FunctionDef> existence_functions();
std::span<const FunctionDef> filtering_functions();
std::span<const FunctionDef> type_functions();
std::span<const FunctionDef> conversion_functions();
std::span<const FunctionDef> string_functions();
std::span<const FunctionDef> math_functions();
std::span<const FunctionDef> temporal_functions();
std::span<const FunctionDef> fhir_functions();

/// Looks a function up by name across all tables; null if unknown.
const FunctionDef* find_function(std::string_view name);

// ---- operators (ops_*.cpp) ---------------------------------------------------

Result<Collection> eval_binary(Evaluator& ev, const Op& op, const Scope& scope);
Result<Collection> eval_unary(Evaluator& ev, const Op& op, const Scope& scope);
/// + - * / div mod & on evaluated operands (ops_arith.cpp).
Result<Collection> eval_arithmetic(Evaluator& ev, const Op& op, const Collection& lhs,
                                   const Collection& rhs);

/// FHIRPath's singleton evaluation of a collection as a Boolean: empty ->
/// nullopt, one Boolean -> its value, one other item -> true, several ->
/// execution error.
Result<std::optional<bool>> truth_value(Evaluator& ev, const Op& at, const Collection& c);

/// The single item of `c`, nullptr when empty; several items are an
/// execution error naming `what`.
Result<const Item*> single_item(Evaluator& ev, const Op& at, const Collection& c, std::string_view what);

// ---- types (fn_types.cpp) ------------------------------------------------------

/// Whether `item` is of type `type`: `exact` = as()/ofType() (a primitive
/// must be exactly the type; complex types and resources may derive from
/// it), otherwise is() (any derivation). Errors: a type name the model does
/// not know.
Result<bool> item_is_type(Evaluator& ev, const Op& at, const Item& item, const TypeRef& type, bool exact);
/// `type()` of an item.
TypeInfo type_info_of(const Item& item);
/// is / as operators.
Result<Collection> eval_type_op(Evaluator& ev, const Op& op, const Scope& scope);

}  // namespace gw::fhirpath::detail
