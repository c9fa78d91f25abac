// The Validator: creation (base plans compiled eagerly, one once-flag slot
// per other StructureDefinition), the plan cache, interned invariants, and
// the validate() entry point that runs a Walker and tidies its issues.
#include "gateway/validation/detail/fold.hpp"
#include "gateway/validation/detail/walker.hpp"

#include <algorithm>
#include <random>
#include <tuple>

namespace gw::validation {
namespace {

constexpr std::string_view kBestPracticeExt =
    "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice";

std::string_view strip_version(std::string_view canonical) {
  auto bar = canonical.find('|');
  return bar == std::string_view::npos ? canonical : canonical.substr(0, bar);
}

// Invariants the walker evaluates natively (see NativeCheck).
// The R4 text of the constraints implemented natively only when the
// definition uses exactly that expression.
constexpr std::string_view kSdf9Expr =
    "children().element.where(path.contains('.').not()).label.empty() and "
    "children().element.where(path.contains('.').not()).code.empty() and "
    "children().element.where(path.contains('.').not()).requirements.empty()";
constexpr std::string_view kBdl3Expr =
    "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or "
    "%resource.type = 'history'))";
constexpr std::string_view kBdl4Expr =
    "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = "
    "'transaction-response' or %resource.type = 'history'))";

// Together the two below are half of the FHIRPath evaluations on the R4
// clinical examples: bdl-8 runs for every Bundle entry, obs-7 for every
// Observation with a value.
constexpr std::string_view kBdl8Expr = "fullUrl.exists() implies fullUrl.contains('/_history/').not()";
constexpr std::string_view kObs7Expr =
    "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()";
// The next most frequent after those (Period, Timing.repeat).
constexpr std::string_view kPer1Expr = "start.hasValue().not() or end.hasValue().not() or (start <= end)";
constexpr std::string_view kTim9Expr =
    "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())";
constexpr std::string_view kTim5Expr = "period.exists() implies period >= 0";
constexpr std::string_view kTim4Expr = "duration.exists() implies duration >= 0";

// Bundle's own invariants, each evaluated once per Bundle: prefilters take
// the plain cases (no total, no entry.search, another Bundle.type).
constexpr std::string_view kBdl1Expr = "total.empty() or (type = 'searchset') or (type = 'history')";
constexpr std::string_view kBdl2Expr = "entry.search.empty() or (type = 'searchset')";
constexpr std::string_view kBdl9Expr =
    "type = 'document' implies (identifier.system.exists() and identifier.value.exists())";
constexpr std::string_view kBdl10Expr = "type = 'document' implies (timestamp.hasValue())";
constexpr std::string_view kBdl11Expr = "type = 'document' implies entry.first().resource.is(Composition)";
constexpr std::string_view kBdl12Expr = "type = 'message' implies entry.first().resource.is(MessageHeader)";

detail::NativeCheck native_for(std::string_view key, std::string_view expr) {
  using detail::NativeCheck;
  if (key == "bdl-8" && expr == kBdl8Expr) return NativeCheck::kBdl8;
  if (key == "obs-7" && expr == kObs7Expr) return NativeCheck::kObs7;
  if (key == "per-1" && expr == kPer1Expr) return NativeCheck::kPer1;
  if (key == "tim-9" && expr == kTim9Expr) return NativeCheck::kTim9;
  if (key == "tim-5" && expr == kTim5Expr) return NativeCheck::kTim5;
  if (key == "tim-4" && expr == kTim4Expr) return NativeCheck::kTim4;
  if (key == "sdf-9" && expr == kSdf9Expr) return NativeCheck::kSdf9;
  if (key == "bdl-1" && expr == kBdl1Expr) return NativeCheck::kBdl1;
  if (key == "bdl-2" && expr == kBdl2Expr) return NativeCheck::kBdl2;
  if (key == "bdl-9" && expr == kBdl9Expr) return NativeCheck::kBdl9;
  if (key == "bdl-10" && expr == kBdl10Expr) return NativeCheck::kBdl10;
  if (key == "bdl-11" && expr == kBdl11Expr) return NativeCheck::kBdl11;
  if (key == "bdl-12" && expr == kBdl12Expr) return NativeCheck::kBdl12;
  if (key == "bdl-3" && expr == kBdl3Expr) return NativeCheck::kBdl3;
  if (key == "bdl-4" && expr == kBdl4Expr) return NativeCheck::kBdl4;
  if (key == "ele-1") return NativeCheck::kCovered;  // empty objects and id-only elements
  if (key == "ext-1") return NativeCheck::kExt1;
  if (key == "dom-2") return NativeCheck::kDom2;
  if (key == "dom-3") return NativeCheck::kDom3;
  if (key == "dom-4") return NativeCheck::kDom4;
  if (key == "dom-5") return NativeCheck::kDom5;
  if (key == "dom-6") return NativeCheck::kDom6;
  if (key == "txt-1" || key == "txt-2") return NativeCheck::kCovered;  // the xhtml check
  if (key == "bdl-7") return NativeCheck::kBdl7;
  if (key == "ref-1") return NativeCheck::kCovered;  // check_reference resolves '#id'
  return NativeCheck::kNone;
}

}  // namespace

bool has_errors(std::span<const Issue> issues) {
  return std::any_of(issues.begin(), issues.end(), [](const Issue& i) {
    return i.severity == Issue::Severity::kError || i.severity == Issue::Severity::kFatal;
  });
}

std::size_t count_errors(std::span<const Issue> issues) {
  return static_cast<std::size_t>(std::count_if(issues.begin(), issues.end(), [](const Issue& i) {
    return i.severity == Issue::Severity::kError || i.severity == Issue::Severity::kFatal;
  }));
}

std::size_t count_warnings(std::span<const Issue> issues) {
  return static_cast<std::size_t>(std::count_if(
      issues.begin(), issues.end(), [](const Issue& i) { return i.severity == Issue::Severity::kWarning; }));
}

// ---- Impl ------------------------------------------------------------------

// Plans by canonical. Base types were compiled at creation; every other
// StructureDefinition has a slot with a once flag, so the first caller
// compiles it and every later caller (any thread) reads the same plan.
// The slot table itself never changes after creation: lookups take no lock.
const detail::StructurePlan* Validator::Impl::plan(std::string_view canonical) const {
  if (canonical.empty()) return nullptr;
  std::string_view url = strip_version(canonical);
  if (const fhir::TypeDef* t = model->type(url); t && t->url == url) {
    if (const detail::StructurePlan* p = base_plan(t)) return p;
  }
  auto it = slots.find(canonical);
  if (it == slots.end() && url.size() != canonical.size()) it = slots.find(url);
  if (it == slots.end()) return nullptr;
  Slot& slot = *it->second;
  std::call_once(slot.once, [&] {
    auto json = slot.entry->json();
    if (!json) {
      problem(slot.entry->url(), "", "cannot read the definition: " + json.error().message());
      return;
    }
    auto compiled = detail::compile_plan(*this, *json);
    if (!compiled) {
      problem(slot.entry->url(), "", "cannot compile the definition: " + compiled.error().message());
      return;
    }
    detail::link_type_plans(*this, **compiled);
    slot.plan = std::move(*compiled);
  });
  return slot.plan.get();
}

void Validator::Impl::problem(std::string_view definition, std::string_view element,
                              std::string message) const {
  LoadProblem p{std::string(definition), std::string(element), std::move(message)};
  std::lock_guard<std::mutex> lock(problems_mu);
  if (std::find(problems.begin(), problems.end(), p) == problems.end()) problems.push_back(std::move(p));
}

const detail::Invariant* Validator::Impl::intern_invariant(json::Value c, std::string_view definition,
                                                           const fhir::TypeDef* context) const {
  std::string_view key = c.find("key").str();
  std::string_view expr = c.find("expression").str();
  std::string_view severity = c.find("severity").str();
  bool best_practice = false;
  for (json::Value ext : c.find("extension").items()) {
    if (ext.find("url").str() == kBestPracticeExt && ext.find("valueBoolean").boolean()) {
      best_practice = true;
    }
  }
  std::string id;
  id.reserve(key.size() + expr.size() + 48);
  id.append(key).append(1, '\x1f').append(expr).append(1, '\x1f').append(severity);
  id.append(best_practice ? "\x1f" "bp" : "");
  id.append(1, '\x1f').append(context ? context->name : std::string());

  std::lock_guard<std::mutex> lock(invariants_mu);
  auto it = invariants.find(id);
  if (it != invariants.end()) return it->second.get();
  auto inv = std::make_unique<detail::Invariant>();
  inv->key = std::string(key);
  inv->human = std::string(c.find("human").str());
  inv->expression = std::string(expr);
  inv->severity = severity == "warning" ? Issue::Severity::kWarning : Issue::Severity::kError;
  inv->best_practice = best_practice;
  inv->native = native_for(key, expr);
  if (inv->native == detail::NativeCheck::kNone && options.check_invariants && context &&
      context->kind != fhir::TypeKind::kPrimitive) {
    // Presence logic over members the context type really has (a name it
    // lacks would be a typo FHIRPath reports, or a path into a child type).
    if (auto program = detail::compile_existence(expr)) {
      bool known = std::all_of(program->names.begin(), program->names.end(),
                               [&](const std::string& n) { return context->element(n) != nullptr; });
      if (known) {
        inv->existence = std::move(*program);
        inv->native = detail::NativeCheck::kExistence;
      }
    }
  }
  if ((inv->native == detail::NativeCheck::kNone || inv->native == detail::NativeCheck::kExistence ||
       detail::is_prefilter(inv->native)) &&
      options.check_invariants) {
    fhirpath::CompileOptions co;
    co.model = model;
    if (context) co.context_type = context->name;
    auto compiled = fhirpath::Expression::compile(expr, co);
    if (compiled) {
      inv->compiled = std::move(*compiled);
      // Fold for objects lacking every member the expression reads.
      if (context && context->kind != fhir::TypeKind::kPrimitive) {
        if (auto reads = detail::focus_members(expr)) {
          fhir::Node empty;
          empty.value = empty_object.root();
          empty.type = context;
          fhirpath::EvaluationContext ctx;
          ctx.model = model.get();
          if (auto r = inv->compiled->evaluate_boolean(empty, ctx)) {
            inv->foldable = true;
            inv->reads = std::move(*reads);
            inv->folded = *r;
          }
        }
      }
    } else {
      // Reported once (this table is shared), outside the lock would be
      // nicer but problem() takes its own mutex and never calls back here.
      problem(definition, key, "invariant expression does not compile: " + compiled.error().message());
    }
  }
  const detail::Invariant* raw = inv.get();
  invariants.emplace(std::move(id), std::move(inv));
  return raw;
}

const fhir::TypeDef* Validator::Impl::type_of_profile(std::string_view canonical) const {
  std::string_view url = strip_version(canonical);
  if (const fhir::TypeDef* t = model->type(url); t && t->url == url) return t;
  const packages::Entry* e = registry->find("StructureDefinition", canonical);
  if (!e && url.size() != canonical.size()) e = registry->find("StructureDefinition", url);
  if (!e) return nullptr;
  const fhir::TypeDef* t = model->type(e->sd_type());
  return t && t->kind == fhir::TypeKind::kResource ? t : nullptr;
}

const terminology::Expansion* Validator::Impl::expansion_for(const detail::ElementPlan& node) const {
  if (const terminology::Expansion* e = node.expansion.load(std::memory_order_acquire)) return e;
  if (node.expansion_unavailable.load(std::memory_order_acquire) || !options.terminology) return nullptr;
  auto r = options.terminology->expand(node.value_set);
  if (!r) {
    node.expansion_unavailable.store(true, std::memory_order_release);
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(expansions_mu);
  expansions.push_back(*r);
  node.expansion.store(r->get(), std::memory_order_release);
  return r->get();
}

// ---- Validator ---------------------------------------------------------------

Validator::Impl::~Impl() = default;

detail::WalkScratch Validator::Impl::take_scratch() const {
  std::lock_guard lock(scratch_mu);
  if (scratch_pool.empty()) return {};
  detail::WalkScratch s = std::move(scratch_pool.back());
  scratch_pool.pop_back();
  return s;
}

void Validator::Impl::give_back_scratch(detail::WalkScratch scratch) const {
  // A set that grew for an unusually wide object is not kept at that size:
  // the pool holds what ordinary documents need, not the largest ever seen.
  constexpr std::size_t kKeepItems = 1024;
  for (auto& depth : scratch) {
    if (depth->items.capacity() > kKeepItems || depth->refs.capacity() > kKeepItems) {
      depth = std::make_unique<detail::DepthScratch>();
    }
  }
  // One set per validation that may run at once; more would only be
  // memory that no caller takes.
  constexpr std::size_t kMaxPooled = 64;
  std::lock_guard lock(scratch_mu);
  if (scratch_pool.size() < kMaxPooled) scratch_pool.push_back(std::move(scratch));
}

Validator::Validator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Validator::~Validator() = default;

Result<std::shared_ptr<const Validator>> Validator::create(std::shared_ptr<const packages::Registry> registry,
                                                           std::shared_ptr<const fhir::Model> model,
                                                           ValidatorOptions options) {
  if (!registry || !model) return fail(ErrorCode::kInvalidArgument, "a registry and a model are required");
  auto impl = std::make_unique<Impl>();
  impl->registry = std::move(registry);
  impl->model = std::move(model);
  impl->options = std::move(options);
  if (auto empty = json::Document::parse("{}")) impl->empty_object = std::move(*empty);
  {
    std::random_device rd;
    impl->hash_seed = std::uint64_t{rd()} << 32 | rd();
  }
  const fhir::Model& m = *impl->model;
  impl->t_extension = m.type("Extension");
  impl->t_reference = m.type("Reference");
  impl->t_resource = m.type("Resource");
  impl->t_element = m.type("Element");
  impl->t_bundle = m.type("Bundle");
  impl->t_coding = m.type("Coding");
  impl->t_codeable_concept = m.type("CodeableConcept");
  impl->t_quantity = m.type("Quantity");
  impl->t_narrative = m.type("Narrative");
  impl->t_id = m.type("id");
  if (!impl->t_extension || !impl->t_reference || !impl->t_resource || !impl->t_element) {
    return fail(ErrorCode::kNotFound, "the model lacks the base types (Resource, Element, Extension, Reference)");
  }

  for (const packages::Entry* e : impl->registry->all("StructureDefinition")) {
    std::string_view url = e->url();
    if (url.empty()) continue;
    auto slot = std::make_unique<Impl::Slot>();
    slot->entry = e;
    Impl::Slot* raw = slot.get();
    impl->slot_storage.push_back(std::move(slot));
    impl->slots.emplace(url, raw);  // first loaded wins, as in the registry
    if (!e->version().empty()) {
      impl->slot_keys.push_back(std::string(url) + "|" + std::string(e->version()));
      impl->slots.emplace(impl->slot_keys.back(), raw);
    }
  }

  for (const auto& t : m.types()) {
    if (t->url.empty() || !t->structure_definition || t->kind == fhir::TypeKind::kLogical) continue;
    auto plan = detail::compile_plan(*impl, t->structure_definition);
    if (!plan) {
      return fail(ErrorCode::kParse, "cannot compile base definition: " + plan.error().message(), t->url);
    }
    impl->base_plans.emplace(t.get(), std::move(*plan));
  }
  {
    std::vector<std::pair<const fhir::TypeDef*, const detail::StructurePlan*>> entries;
    for (const auto& [t, plan] : impl->base_plans) entries.emplace_back(t, plan.get());
    impl->base_plan_index.build(entries);
  }
  // Member tables, each with its type's node in the base plans: a resource
  // or datatype plan's root, a backbone element inside one.
  std::unordered_map<const fhir::TypeDef*, const detail::ElementPlan*> base_nodes;
  // (Constraint types such as SimpleQuantity have plans here too, rooted
  // on the type they constrain: they do not name the base node.)
  for (auto& [t, plan] : impl->base_plans) {
    if (!plan->is_base) continue;
    for (const auto& n : plan->nodes) {
      if (n->owner) base_nodes.emplace(n->owner, n.get());
    }
  }
  for (const auto& t : m.types()) {
    if (t->elements.size() > detail::MemberKey::kMaxElements) {
      return fail(ErrorCode::kLimit, "a type has more elements than the validator indexes", t->name);
    }
    auto node = base_nodes.find(t.get());
    impl->member_tables.emplace(t.get(), detail::build_member_table(*t, node == base_nodes.end() ? nullptr : node->second));
  }
  for (auto& [t, plan] : impl->base_plans) detail::link_type_plans(*impl, *plan);

  for (const std::string& p : impl->options.default_profiles) {
    if (!impl->plan(p)) return fail(ErrorCode::kNotFound, "configured profile is unknown", p);
  }
  return std::shared_ptr<const Validator>(new Validator(std::move(impl)));
}

// Issues come back sorted by position (then path, code, text) and without
// exact duplicates: the base pass and a profile pass may legitimately find
// the same problem (a profile repeating a base rule the compiler could not
// prove identical).
Result<std::vector<Issue>> Validator::validate(json::Value resource, const ValidateOptions& options) const {
  if (!resource.is_object()) return fail(ErrorCode::kInvalidArgument, "a resource must be a JSON object");
  std::vector<const detail::StructurePlan*> extra;
  for (const std::string& p : options.profiles) {
    const detail::StructurePlan* plan = impl_->plan(p);
    if (!plan) return fail(ErrorCode::kNotFound, "unknown profile", p);
    extra.push_back(plan);
  }
  if (!impl_->options.default_profiles.empty()) {
    const fhir::TypeDef* t = impl_->model->type(resource.find("resourceType").str());
    for (const std::string& p : impl_->options.default_profiles) {
      const detail::StructurePlan* plan = impl_->plan(p);
      if (plan && t && t->is_a(plan->type)) extra.push_back(plan);
    }
  }
  std::vector<Issue> issues;
  detail::Walker walker(*impl_, issues);
  walker.limit_errors(options.max_errors);
  walker.validate(resource, extra);
  if (walker.stopped()) {
    Issue i;
    i.severity = Issue::Severity::kError;
    i.code = "too-costly";
    i.diagnostics = "validation stopped after " + std::to_string(options.max_errors) +
                    " errors; correct these and validate again";
    issues.push_back(std::move(i));
  }
  auto rank = [](const Issue& i) {
    return std::tie(i.position.line, i.position.column, i.expression, i.code, i.diagnostics, i.severity);
  };
  std::sort(issues.begin(), issues.end(), [&](const Issue& a, const Issue& b) { return rank(a) < rank(b); });
  issues.erase(std::unique(issues.begin(), issues.end()), issues.end());
  return issues;
}

Status Validator::prepare_profile(std::string_view canonical) const {
  if (impl_->plan(canonical)) return {};
  std::string_view url = strip_version(canonical);
  if (impl_->slots.find(url) == impl_->slots.end() && !impl_->model->type(url)) {
    return fail(ErrorCode::kNotFound, "unknown profile", std::string(canonical));
  }
  return fail(ErrorCode::kParse, "the profile cannot be compiled (see load problems)", std::string(canonical));
}

std::vector<LoadProblem> Validator::load_problems() const {
  std::lock_guard<std::mutex> lock(impl_->problems_mu);
  return impl_->problems;
}

Result<std::shared_ptr<const json::Document>> Validator::generate_snapshot(json::Value structure_definition) const {
  if (!structure_definition.is_object() || structure_definition.find("resourceType").str() != "StructureDefinition") {
    return fail(ErrorCode::kInvalidArgument, "not a StructureDefinition");
  }
  return detail::generate_snapshot(*impl_, structure_definition);
}

const fhir::Model& Validator::model() const { return *impl_->model; }
const packages::Registry& Validator::registry() const { return *impl_->registry; }

}  // namespace gw::validation
