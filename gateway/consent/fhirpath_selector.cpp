// FHIRPath selectors: rule expressions that are more than a plain element
// path (where(), ofType(), extension(url), descendants(), resolve(), ...)
// are compiled once with the FHIRPath engine at policy load and evaluated
// per resource. The leading type name, if any, restricts the selector to
// that resource type (and lets the compiler check the paths statically).
#include "gateway/consent/detail/selector.hpp"

#include "gateway/fhirpath/fhirpath.hpp"

namespace gw::consent::detail {

namespace {

class FhirPathSelector final : public Selector {
 public:
  FhirPathSelector(fhirpath::Expression expr, std::string type,
                   std::shared_ptr<const fhir::Model> model)
      : expr_(std::move(expr)), type_(std::move(type)), model_(std::move(model)) {}

  const std::string& resource_type() const override { return type_; }

  Status select(const fhir::Node& resource, const fhir::Node& container,
                std::vector<fhir::Node>& out) const override {
    if (!type_.empty() && (!resource.type || resource.type->name != type_)) return {};
    fhirpath::EvaluationContext ctx;
    ctx.model = model_.get();
    ctx.resource = resource;
    ctx.root_resource = container;
    GW_TRY(fhirpath::Collection items, expr_.evaluate(resource, ctx));
    for (const fhirpath::Item& item : items) {
      // A selector names elements; a computed value (a Boolean, a String)
      // cannot be removed, so the policy is wrong and the release fails.
      if (!item.is_node()) {
        return fail(ErrorCode::kInvalidArgument,
                    "a policy selector produced a value that is not an element");
      }
      out.push_back(item.node());
    }
    return {};
  }

 private:
  fhirpath::Expression expr_;
  std::string type_;
  std::shared_ptr<const fhir::Model> model_;
};

// The identifier an expression starts with ("Patient" in
// "Patient.extension(...)"), or "".
std::string_view leading_identifier(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
  std::size_t start = i;
  while (i < text.size() &&
         ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z') ||
          (text[i] >= '0' && text[i] <= '9') || text[i] == '_')) {
    ++i;
  }
  return text.substr(start, i - start);
}

}  // namespace

Result<std::shared_ptr<const Selector>> compile_fhirpath_selector(
    std::string_view text, const std::shared_ptr<const fhir::Model>& model) {
  std::string type;
  std::string_view lead = leading_identifier(text);
  if (const fhir::TypeDef* t = model->type(lead);
      t && t->kind == fhir::TypeKind::kResource && !t->is_abstract && t->name == lead) {
    type = std::string(lead);
  }
  fhirpath::CompileOptions opts;
  opts.model = model;
  opts.context_type = type;
  GW_TRY(fhirpath::Expression expr, fhirpath::Expression::compile(text, opts));
  return std::shared_ptr<const Selector>(
      std::make_shared<FhirPathSelector>(std::move(expr), std::move(type), model));
}

}  // namespace gw::consent::detail
