// Selectors: plain element paths walked over the model, and (when the
// expression is more than a path) the FHIRPath engine.
//
// Plain paths are the common case in the policy (Patient.address,
// Encounter.hospitalization.origin) and need no expression engine: the
// model's children() gives exactly FHIRPath's path semantics for them
// (choice elements by base name, arrays flattened, primitives with their
// `_x` parts). They are also checked statically here, so a typo in the
// policy fails at start-up.
#include "gateway/consent/detail/selector.hpp"

namespace gw::consent::detail {

namespace {

bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

class PathSelector final : public Selector {
 public:
  PathSelector(std::vector<std::string> segments, std::shared_ptr<const fhir::Model> model)
      : type_(segments.front()), segments_(std::move(segments)), model_(std::move(model)) {}

  const std::string& resource_type() const override { return type_; }

  Status select(const fhir::Node& resource, const fhir::Node& /*container*/,
                std::vector<fhir::Node>& out) const override {
    if (!resource.type || resource.type->name != type_) return {};
    std::vector<fhir::Node> current{resource}, next;
    for (std::size_t i = 1; i < segments_.size(); ++i) {
      next.clear();
      for (const fhir::Node& n : current) model_->children(n, segments_[i], next);
      current.swap(next);
      if (current.empty()) return {};
    }
    out.insert(out.end(), current.begin(), current.end());
    return {};
  }

 private:
  std::string type_;
  std::vector<std::string> segments_;
  std::shared_ptr<const fhir::Model> model_;
};

Status check_path(const std::vector<std::string>& segments, const fhir::Model& model) {
  const fhir::TypeDef* type = model.type(segments.front());
  if (!type || type->kind != fhir::TypeKind::kResource || type->name != segments.front()) {
    return fail(ErrorCode::kInvalidArgument, "path must start with an R4 resource type");
  }
  for (std::size_t i = 1; i < segments.size(); ++i) {
    if (!type) {
      return fail(ErrorCode::kInvalidArgument,
                  "path continues below a choice element; use FHIRPath ofType()");
    }
    const fhir::ElementDef* def = type->element(segments[i]);
    if (!def) {
      return fail(ErrorCode::kInvalidArgument,
                  "unknown element '" + segments[i].substr(0, 60) + "' on " + type->name);
    }
    if (def->backbone) {
      type = def->backbone;
    } else if (def->types.size() == 1) {
      type = model.type(def->types[0]);
    } else {
      type = nullptr;
    }
  }
  return {};
}

}  // namespace

bool parse_simple_path(std::string_view text, std::vector<std::string>& segments) {
  segments.clear();
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t dot = text.find('.', start);
    std::string_view seg =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty()) break;
    for (char c : seg) {
      if (!is_ident_char(c)) {
        segments.clear();
        return false;
      }
    }
    if (seg[0] >= '0' && seg[0] <= '9') break;
    segments.emplace_back(seg);
    if (dot == std::string_view::npos) {
      if (segments.front()[0] >= 'A' && segments.front()[0] <= 'Z') return true;
      break;
    }
    start = dot + 1;
  }
  segments.clear();
  return false;
}

// Defined in fhirpath_selector.cpp once the FHIRPath engine is available.
Result<std::shared_ptr<const Selector>> compile_fhirpath_selector(
    std::string_view text, const std::shared_ptr<const fhir::Model>& model);

Result<std::shared_ptr<const Selector>> compile_selector(
    std::string_view text, const std::shared_ptr<const fhir::Model>& model) {
  std::vector<std::string> segments;
  if (parse_simple_path(text, segments)) {
    GW_CHECK_OK(check_path(segments, *model));
    return std::shared_ptr<const Selector>(
        std::make_shared<PathSelector>(std::move(segments), model));
  }
  return compile_fhirpath_selector(text, model);
}

}  // namespace gw::consent::detail
