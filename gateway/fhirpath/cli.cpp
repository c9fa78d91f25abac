// `fhir-gateway fhirpath EXPRESSION FILE [--var name=value]...`: evaluate an
// expression on a resource file and print the result as JSON. The app
// module owns the command table and calls run_fhirpath_command().
#include "gateway/fhirpath/fhirpath.hpp"

#include <ostream>

namespace gw::fhirpath {

namespace {

constexpr std::string_view kUsage =
    "usage: fhir-gateway fhirpath EXPRESSION FILE [--var name=value]...";

}  // namespace

int run_fhirpath_command(std::span<const std::string_view> args, const fhir::Model& model,
                         std::ostream& out, std::ostream& err) {
  std::vector<std::string_view> positional;
  EvaluationContext ctx;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--var") {
      if (i + 1 >= args.size()) {
        err << kUsage << "\n";
        return 2;
      }
      std::string_view def = args[++i];
      std::size_t eq = def.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        err << "--var expects name=value\n";
        return 2;
      }
      ctx.variables[std::string(def.substr(0, eq))] = Collection{Item::string(std::string(def.substr(eq + 1)))};
    } else if (a.rfind("--var=", 0) == 0) {
      std::string_view def = a.substr(6);
      std::size_t eq = def.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        err << "--var expects name=value\n";
        return 2;
      }
      ctx.variables[std::string(def.substr(0, eq))] = Collection{Item::string(std::string(def.substr(eq + 1)))};
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) {
    err << kUsage << "\n";
    return 2;
  }
  auto doc = json::Document::parse_file(std::string(positional[1]));
  if (!doc) {
    err << "cannot read the resource: " << doc.error().to_string() << "\n";
    return 2;
  }
  auto root = model.resource(doc->root());
  if (!root) {
    err << "not a FHIR resource: " << root.error().to_string() << "\n";
    return 2;
  }
  // A non-owning handle: the caller keeps the Model alive for the call.
  std::shared_ptr<const fhir::Model> handle(std::shared_ptr<const fhir::Model>(), &model);
  CompileOptions options;
  options.model = handle;
  options.context_type = root->type->name;
  auto expr = Expression::compile(positional[0], options);
  if (!expr) {
    err << "invalid expression: " << expr.error().to_string() << "\n";
    return 2;
  }
  ctx.model = &model;
  auto result = expr->evaluate(*root, ctx);
  if (!result) {
    err << "evaluation failed: " << result.error().to_string() << "\n";
    return 1;
  }
  out << to_json(*result, true) << "\n";
  return 0;
}

}  // namespace gw::fhirpath
