// The evaluator core: paths, variables, indexers, and the dispatch to
// operators and functions.
//
// Evaluation is a recursive walk over the Op tree. Every eval() counts its
// depth against EvaluationContext::max_depth, so neither a hostile
// expression (whose syntax depth the parser already bounds) nor nested
// lambdas can overflow the stack; iterative functions (repeat(),
// descendants()) use explicit work lists instead of recursion.
#include "gateway/fhirpath/detail/program.hpp"
#include "gateway/fhirpath/detail/value.hpp"

#include <algorithm>

namespace gw::fhirpath::detail {

Evaluator::Evaluator(const Program& program, const EvaluationContext& context, const Collection& input)
    : program_(program),
      context_(context),
      input_(input),
      model_(context.model ? context.model : program.model.get()) {}

Error Evaluator::error(const Op& at, std::string message) const {
  return Error(ErrorCode::kInvalidArgument, std::move(message), "offset " + std::to_string(at.offset));
}

Status Evaluator::check_size(std::size_t n, const Op& at) const {
  if (n > context_.max_items) {
    return Error(ErrorCode::kLimit, "collection exceeds the item limit", "offset " + std::to_string(at.offset));
  }
  return {};
}

Status Evaluator::check_work(const Op& at) const {
  if (work_ > context_.max_work) {
    return Error(ErrorCode::kLimit, "evaluation exceeds its work limit (set comparisons)",
                 "offset " + std::to_string(at.offset));
  }
  return {};
}

Result<Collection> Evaluator::eval(const Op& op, const Scope& scope) {
  GW_CHECK_OK(check_work(op));
  if (depth_ >= context_.max_depth) {
    return Error(ErrorCode::kLimit, "evaluation nested too deeply", "offset " + std::to_string(op.offset));
  }
  ++depth_;
  Result<Collection> r = eval_inner(op, scope);
  --depth_;
  return r;
}

// The input of a path step: its source, or $this for a step that starts a
// path (`name` inside where() means `$this.name`). $this is copied: the
// collection is small in the common case and copying keeps Scope a plain
// pointer struct that lambdas can rebind cheaply.
Result<Collection> Evaluator::input_of(const Op& op, const Scope& scope) {
  if (op.source) return eval(*op.source, scope);
  return *scope.self;
}

Result<Collection> Evaluator::arg(const Op& call, std::size_t i, const Scope& scope) {
  return eval(*call.args[i], scope);
}

Result<Collection> Evaluator::lambda(const Op& call, std::size_t i, const Item& item, std::int64_t index,
                                     const Collection* total) {
  return eval_on(*call.args[i], item, index, total);
}

Result<Collection> Evaluator::eval_on(const Op& expr, const Item& item, std::int64_t index,
                                      const Collection* total) {
  Collection self{item};
  Scope s;
  s.self = &self;
  s.index = index;
  s.total = total;
  return eval(expr, s);
}

Result<std::optional<std::string>> Evaluator::string_arg(const Op& call, std::size_t i, const Scope& scope) {
  GW_TRY(Collection c, arg(call, i, scope));
  if (c.empty()) return std::optional<std::string>();
  if (c.size() > 1) return error(*call.args[i], "function '" + call.name + "' expects a single String argument");
  std::optional<std::string> s = string_value(c[0]);
  if (!s) return error(*call.args[i], "function '" + call.name + "' expects a String argument");
  return s;
}

Result<std::optional<std::int64_t>> Evaluator::integer_arg(const Op& call, std::size_t i, const Scope& scope) {
  GW_TRY(Collection c, arg(call, i, scope));
  if (c.empty()) return std::optional<std::int64_t>();
  if (c.size() > 1) return error(*call.args[i], "function '" + call.name + "' expects a single Integer argument");
  std::optional<Item> v = system_value(c[0]);
  if (!v || v->kind() != ItemKind::kInteger) {
    return error(*call.args[i], "function '" + call.name + "' expects an Integer argument");
  }
  return std::optional<std::int64_t>(v->integer());
}

Result<primitives::DateTime> Evaluator::now(const Op& at) {
  if (!now_) {
    SystemClock system;
    const Clock& clock = context_.clock ? *context_.clock : static_cast<const Clock&>(system);
    auto dt = primitives::datetime_from_time_point(clock.now(), context_.tz_offset_minutes);
    if (!dt) return error(at, "cannot read the clock: " + dt.error().message());
    now_ = *dt;
  }
  return *now_;
}

Result<Collection> Evaluator::eval_inner(const Op& op, const Scope& scope) {
  switch (op.kind) {
    case OpKind::kLiteral:
      return Collection{op.literal};
    case OpKind::kEmpty:
      return Collection{};
    case OpKind::kThis:
      return *scope.self;
    case OpKind::kIndex:
      if (scope.index < 0) return Collection{};
      return Collection{Item::integer(scope.index)};
    case OpKind::kTotal:
      if (!scope.total) return Collection{};
      return *scope.total;
    case OpKind::kVariable:
      return eval_variable(op, scope);
    case OpKind::kMember:
      return eval_member(op, scope);
    case OpKind::kFunction: {
      GW_TRY(Collection input, input_of(op, scope));
      return op.fn->impl(*this, op, input, scope);
    }
    case OpKind::kIndexer:
      return eval_indexer(op, scope);
    case OpKind::kUnary:
      return eval_unary(*this, op, scope);
    case OpKind::kBinary:
      return eval_binary(*this, op, scope);
    case OpKind::kIs:
    case OpKind::kAs:
      return eval_type_op(*this, op, scope);
  }
  return error(op, "internal: unknown operation");
}

// Member access: children of FHIR elements through the model (choice
// elements by their base name, primitive `_x` parts paired by the model),
// the value/unit of System quantities, namespace/name of TypeInfo. A
// member of any other System value is empty, never an error.
Result<Collection> Evaluator::eval_member(const Op& op, const Scope& scope) {
  GW_TRY(Collection input, input_of(op, scope));
  Collection out;
  std::vector<fhir::Node>& children = member_scratch_;
  for (const Item& item : input) {
    switch (item.kind()) {
      case ItemKind::kNode: {
        const fhir::Node& n = item.node();
        // `Patient.name`: a path may start with the type of its focus.
        if (op.maybe_type && !op.source && derives_from(n.type, op.name)) {
          out.push_back(item);
          continue;
        }
        if (!model_) return error(op, "navigating FHIR elements needs a model");
        children.clear();
        model_->children(n, op.name, children);
        // Room ahead: a step over every entry of a Bundle otherwise grows
        // `out` one doubling at a time. The guess assumes every input item
        // has as many children as the first (bounded: a guess must not become
        // an allocation of its own); push_back grows it from there.
        if (out.empty()) out.reserve(std::min<std::size_t>(input.size() * children.size(), 1024));
        for (const fhir::Node& c : children) out.push_back(Item::node(c));
        break;
      }
      case ItemKind::kQuantity:
        if (op.name == "value") out.push_back(Item::decimal(item.quantity().value));
        if (op.name == "unit") out.push_back(Item::string(item.quantity().unit));
        break;
      case ItemKind::kTypeInfo:
        if (op.name == "namespace") out.push_back(Item::string(item.type_info().ns));
        if (op.name == "name") out.push_back(Item::string(item.type_info().name));
        break;
      default:
        break;  // System values have no members
    }
    GW_CHECK_OK(check_size(out.size(), op));
  }
  return out;
}

// %context is the evaluation's input; %resource and %rootResource come from
// the context or, when the input is one resource, default to it. Constant
// variables (%ucum, %vs-*, ...) never get here: the compiler folds them.
Result<Collection> Evaluator::eval_variable(const Op& op, const Scope& scope) {
  (void)scope;
  const std::string& n = op.name;
  if (n == "context") return input_;
  if (n == "resource" || n == "rootResource") {
    std::optional<fhir::Node> r = n == "rootResource" && context_.root_resource ? context_.root_resource
                                                                                : context_.resource;
    if (!r && input_.size() == 1 && input_[0].is_node() && input_[0].node().is_resource()) {
      r = input_[0].node();
    }
    if (!r) return Collection{};
    return Collection{Item::node(*r)};
  }
  auto it = context_.variables.find(n);
  if (it == context_.variables.end()) return error(op, "unknown variable %" + n);
  return it->second;
}

Result<Collection> Evaluator::eval_indexer(const Op& op, const Scope& scope) {
  GW_TRY(Collection input, input_of(op, scope));
  GW_TRY(Collection index, eval(*op.args[0], scope));
  if (index.empty()) return Collection{};
  if (index.size() > 1) return error(op, "an index must be a single Integer");
  std::optional<Item> v = system_value(index[0]);
  if (!v || v->kind() != ItemKind::kInteger) return error(op, "an index must be an Integer");
  std::int64_t i = v->integer();
  if (i < 0 || static_cast<std::uint64_t>(i) >= input.size()) return Collection{};
  return Collection{input[static_cast<std::size_t>(i)]};
}

// N1 §4.5 "Singleton evaluation of collections": a single non-Boolean item
// counts as true (`true and 'foo'` is true, `(0).not()` is false), which the
// suite's from-zulip tests pin down.
Result<std::optional<bool>> truth_value(Evaluator& ev, const Op& at, const Collection& c) {
  if (c.empty()) return std::optional<bool>();
  if (c.size() > 1) return ev.error(at, "expected a single Boolean, got a collection of several items");
  if (system_kind(c[0]) == ItemKind::kBoolean) {
    std::optional<Item> v = system_value(c[0]);
    if (v) return std::optional<bool>(v->boolean());
  }
  return std::optional<bool>(true);
}

Result<const Item*> single_item(Evaluator& ev, const Op& at, const Collection& c, std::string_view what) {
  if (c.empty()) return static_cast<const Item*>(nullptr);
  if (c.size() > 1) {
    return ev.error(at, std::string(what) + " expects a single item, got a collection of several");
  }
  return &c[0];
}

}  // namespace gw::fhirpath::detail

namespace gw::fhirpath {

Result<Collection> Expression::evaluate(const Collection& input, const EvaluationContext& context) const {
  detail::Evaluator ev(*program_, context, input);
  detail::Scope scope;
  scope.self = &input;
  return ev.eval(*program_->root, scope);
}

Result<Collection> Expression::evaluate(const fhir::Node& input, const EvaluationContext& context) const {
  Collection c{Item::node(input)};
  return evaluate(c, context);
}

Result<std::optional<bool>> Expression::evaluate_boolean(const fhir::Node& input,
                                                         const EvaluationContext& context) const {
  Collection c{Item::node(input)};
  detail::Evaluator ev(*program_, context, c);
  detail::Scope scope;
  scope.self = &c;
  GW_TRY(Collection r, ev.eval(*program_->root, scope));
  return detail::truth_value(ev, *program_->root, r);
}

}  // namespace gw::fhirpath
