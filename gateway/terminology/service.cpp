// Skeleton of gw::terminology: answers "cannot check" for everything until
// the expansion engine lands. Compiles against the final public header so
// dependants can code against it.
#include "gateway/terminology/terminology.hpp"

namespace gw::terminology {

namespace detail {
struct ConceptSet {};
class Engine {
 public:
  Engine(std::shared_ptr<const packages::Registry> registry, Service::Options options)
      : registry_(std::move(registry)), options_(options) {}
  std::shared_ptr<const packages::Registry> registry_;
  Service::Options options_;
};
}  // namespace detail

std::string_view to_string(Membership m) noexcept {
  switch (m) {
    case Membership::kMember: return "member";
    case Membership::kNotMember: return "not-member";
    case Membership::kCannotCheck: return "cannot-check";
  }
  return "?";
}

std::string_view to_string(Reason r) noexcept {
  switch (r) {
    case Reason::kNone: return "none";
    case Reason::kNotInValueSet: return "not-in-value-set";
    case Reason::kCodeNotInSystem: return "code-not-in-system";
    case Reason::kValueSetNotFound: return "value-set-not-found";
    case Reason::kValueSetUnusable: return "value-set-unusable";
    case Reason::kSystemNotFound: return "system-not-found";
    case Reason::kSystemIncomplete: return "system-incomplete";
    case Reason::kExternalSystem: return "external-system";
    case Reason::kSystemVersionNotFound: return "system-version-not-found";
    case Reason::kUnsupportedFilter: return "unsupported-filter";
    case Reason::kImportNotFound: return "import-not-found";
    case Reason::kInvalidUcumSyntax: return "invalid-ucum-syntax";
    case Reason::kMissingCode: return "missing-code";
  }
  return "?";
}

Expansion::Expansion(std::string url, std::string version,
                     std::unique_ptr<const detail::ConceptSet> set)
    : url_(std::move(url)), version_(std::move(version)), set_(std::move(set)) {}
Expansion::~Expansion() = default;
Membership Expansion::contains(std::string_view, std::string_view) const {
  return Membership::kCannotCheck;
}
const Concept* Expansion::find(std::string_view, std::string_view) const { return nullptr; }
Reason Expansion::open_reason(std::string_view, std::string_view) const {
  return Reason::kNone;
}

bool display_matches(std::string_view given, std::string_view display,
                     const std::vector<std::string>&) {
  return given == display;
}
bool ucum_syntax_ok(std::string_view code) { return !code.empty(); }
bool is_external_system(std::string_view system) { return system == "http://snomed.info/sct"; }

Service::Service(std::shared_ptr<const packages::Registry> registry)
    : Service(std::move(registry), Options{}) {}
Service::Service(std::shared_ptr<const packages::Registry> registry, Options options)
    : engine_(std::make_unique<detail::Engine>(std::move(registry), options)) {}
Service::~Service() = default;
Service::Service(Service&&) noexcept = default;
Service& Service::operator=(Service&&) noexcept = default;

Result<std::shared_ptr<const Expansion>> Service::expand(std::string_view) const {
  return fail(ErrorCode::kUnsupported, "terminology: expansion not implemented yet");
}
CodeCheck Service::validate_code(std::string_view, std::string_view, std::string_view,
                                 std::optional<std::string_view>) const {
  CodeCheck c;
  c.reason = Reason::kValueSetUnusable;
  c.message = "terminology: not implemented yet";
  return c;
}
LookupResult Service::lookup(std::string_view, std::string_view) const { return {}; }
const packages::Registry& Service::registry() const noexcept { return *engine_->registry_; }

}  // namespace gw::terminology
