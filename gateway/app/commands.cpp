// Commands whose behaviour lives in a module but that need things only the
// app may assemble: the R4 model from the package cache, a clock, the
// validator behind the server's $validate routes.
#include "gateway/app/app.hpp"
#include "gateway/app/detail/commands.hpp"
#include "gateway/consent/consent.hpp"
#include "gateway/fhir/fhir.hpp"
#include "gateway/fhirpath/fhirpath.hpp"
#include "gateway/handoff/handoff.hpp"
#include "gateway/http/http.hpp"
#include "gateway/packages/packages.hpp"
#include "gateway/store/store.hpp"
#include "gateway/validation/validation.hpp"

namespace gw::app::detail {

namespace {

struct Definitions {
  std::shared_ptr<const packages::Registry> registry;
  std::shared_ptr<const fhir::Model> model;
};

// R4 core + IPS from the package cache ($FHIR_PACKAGE_CACHE or
// ~/.fhir/packages), and the element model of the base types.
Result<Definitions> load_definitions() {
  packages::LoadOptions load;
  load.cache_dir = packages::resolve_cache_dir("");
  for (std::string_view id : packages::kDefaultPackages) load.packages.emplace_back(id);
  GW_TRY(auto registry, packages::Registry::load(load));
  GW_TRY(auto model, fhir::Model::from_registry(*registry));
  return Definitions{std::move(registry), std::move(model)};
}

bool wants_help(std::span<const std::string_view> args) {
  for (std::string_view a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

}  // namespace

int run_fhirpath(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  auto defs = load_definitions();
  if (!defs) {
    err << "fhirpath: " << defs.error().to_string() << "\n";
    return kExitUsage;
  }
  return fhirpath::run_fhirpath_command(args, *defs->model, out, err);
}

int run_handoff(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  SystemClock clock;
  handoff::RandomIdGenerator ids;
  // Usage errors need no definitions: the command checks its arguments
  // before it needs the model.
  if (wants_help(args) || args.empty()) return handoff::run_handoff_command(args, nullptr, clock, ids, out, err);
  auto defs = load_definitions();
  if (!defs) {
    err << "handoff: " << defs.error().to_string() << "\n";
    return kExitUsage;
  }
  return handoff::run_handoff_command(args, defs->model, clock, ids, out, err);
}

int run_redact(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  if (wants_help(args)) return consent::run_redact_command(args, nullptr, SystemClock(), out, err);
  auto defs = load_definitions();
  if (!defs) {
    err << "redact: " << defs.error().to_string() << "\n";
    return kExitUsage;
  }
  SystemClock clock;
  return consent::run_redact_command(args, defs->model, clock, out, err);
}

int run_serve(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  http::ServeOptions options;
  if (!wants_help(args)) {
    auto defs = load_definitions();
    if (!defs) {
      err << "serve: " << defs.error().to_string() << "\n";
      return kExitUsage;
    }
    auto validator = validation::Validator::create(defs->registry, defs->model);
    if (!validator) {
      err << "serve: " << validator.error().to_string() << "\n";
      return kExitUsage;
    }
    // The $validate routes: parse gate first (its issues carry line and
    // column), then the full validator. Runs on the server's CPU pool; the
    // Validator is immutable and thread-safe.
    options.validate = [v = *validator](std::string_view body, std::string_view resource_type,
                                        std::string_view profile) -> Result<http::ValidateOutcome> {
      fhir::ParsedResource parsed = fhir::parse_resource(std::string(body));
      std::vector<fhir::Issue> issues = parsed.issues;
      if (parsed.ok()) {
        json::Value root = parsed.document.root();
        if (!resource_type.empty() && root.find("resourceType").str() != resource_type) {
          fhir::Issue i;
          i.severity = fhir::Issue::Severity::kError;
          i.code = "invalid";
          i.diagnostics = "resourceType does not match the type in the URL";
          issues.push_back(std::move(i));
        } else {
          validation::ValidateOptions vo;
          if (!profile.empty()) vo.profiles.emplace_back(profile);
          GW_TRY(issues, v->validate(root, vo));
        }
      }
      http::ValidateOutcome outcome;
      for (const fhir::Issue& i : issues) {
        outcome.has_errors = outcome.has_errors || i.severity == fhir::Issue::Severity::kError ||
                             i.severity == fhir::Issue::Severity::kFatal;
      }
      outcome.operation_outcome = fhir::operation_outcome_json(issues);
      return outcome;
    };
  }
  return http::run_serve_command(args, options, out, err);
}

int run_audit(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  return store::run_audit_command(args, std::make_shared<SystemClock>(), out, err);
}

}  // namespace gw::app::detail
